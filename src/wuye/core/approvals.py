"""Approvals (审批 / 主管授权): who may approve an action in a project, checked in one place.

A service that needs an approval takes ``approved_by`` and calls ``approver_check`` with the roles that
may approve. At the fee window the approver is usually standing beside the cashier and types their own
user name and password (主管授权): the page calls ``approver_authenticate`` and hands the user it returns
to the service. Failed attempts are written to the audit trail.

The typed password is throttled like a login (django-axes, by approver user name and address): after
``AXES_FAILURE_LIMIT`` failures the approver is locked for ``AXES_COOLOFF_TIME``, and even the right
password is refused until then. A right password of someone who may not approve counts as a failure
and gets the same answer as a wrong one, so the form cannot be used to confirm a colleague's password.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.forms import Form
from django.http import HttpRequest

from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.lockout import lockout_message
from wuye.core.models import Project, User
from wuye.core.roles import Role
from wuye.core.scope import role_in


def roles_text(roles: Iterable[Role | str]) -> str:
    """The roles in Chinese, in the order of ``Role`` (公司管理员、项目经理或客服主管)."""
    wanted = {Role(r) for r in roles}
    names = [str(role.label) for role in Role if role in wanted]
    if len(names) <= 1:
        return "".join(names)
    return "、".join(names[:-1]) + "或" + names[-1]


def approver_check(
    *, project: Project | int, approver: User | None, roles: Iterable[Role | str]
) -> User:
    """``approver`` if they hold one of ``roles`` in ``project``; else ``ValidationFailed`` on the field
    ``approved_by`` saying who may approve."""
    roles = frozenset(Role(r) for r in roles)
    who = roles_text(roles)
    if approver is None or not approver.is_authenticated or not approver.is_active:
        raise ValidationFailed(f"需要审批人：请由本项目的{who}审批", field="approved_by")
    if role_in(approver, project) not in roles:
        raise ValidationFailed(
            f"{approver} 不是本项目的{who}，不能审批；请由本项目的{who}审批", field="approved_by"
        )
    return approver


def four_eyes_check(
    *,
    approver: User,
    requested_by: User | None,
    collectors: Iterable[User | int | None] = (),
    roles: Iterable[Role | str] = (),
    doing: str = "冲红、退款和减免",
) -> User:
    """四眼原则 (issue 13 item 12): a reversal, refund or waiver is approved by a second person — never
    the one who asks for it, nor the cashier who took the money it undoes. ``ValidationFailed`` on
    ``approved_by`` otherwise (blank approver fields on a page make the requester the approver, so
    they are refused here too)."""
    others = {getattr(u, "pk", u) for u in (requested_by, *collectors) if u is not None}
    if approver.pk in others:
        who = roles_text(roles) if roles else "有审批权限的人"
        raise ValidationFailed(
            f"{doing}须由另一人审批（四眼原则）：请另一位{who}输入自己的账号和密码，"
            "审批人不能是办理人本人，也不能是该笔收款的收款员",
            code="approval.four_eyes",
            field="approved_by",
        )
    return approver


WRONG_APPROVER = "审批人账号或密码不正确，或该账号不能审批此操作"


def approver_authenticate(
    *,
    request: HttpRequest,
    project: Project | int,
    username: str,
    password: str,
    roles: Iterable[Role | str],
    requested_by: User | None = None,
) -> User:
    """主管授权: the approver's own user name and password, typed at someone else's screen.

    Returns the approver when the password is right and they hold one of ``roles`` in ``project``.
    A wrong password and a right password of a user without the role get the same refusal (field
    ``approver_password``), count towards the lockout alike, and are audited with the real reason.
    """
    roles = frozenset(Role(r) for r in roles)
    username = (username or "").strip()
    if not username:
        raise ValidationFailed("请输入审批人账号", field="approver_username")
    if not password:
        raise ValidationFailed("请输入审批人密码", field="approver_password")
    user = authenticate(request=request, username=username, password=password)
    if user is not None:
        try:
            return approver_check(project=project, approver=user, roles=roles)
        except ValidationFailed:
            reason = "无审批权限"
        # Counted like a wrong password (django-axes listens to this signal), answered alike.
        user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
    else:
        reason = "账号或密码不正确"
    locked = bool(getattr(request, "axes_locked_out", False))
    if locked:
        # Answer on the form itself, not with the login page the lockout middleware would put in
        # place of the cashier's page.
        request.axes_locked_out = False
        reason = "审批人账号已锁定" if user is None else f"{reason}；审批人账号已锁定"
    audit_record(
        user=requested_by,
        action="主管授权失败",
        project=project,
        obj=user,
        model="core.User",
        changes={"username": username, "reason": reason},
    )
    if locked:
        raise ValidationFailed(
            lockout_message(
                username=username,
                ip_address=getattr(request, "axes_ip_address", None),
                who="审批人账号",
            ),
            field="approver_password",
        )
    raise ValidationFailed(WRONG_APPROVER, field="approver_password")


def approver_from_form(
    *,
    request: HttpRequest,
    user: User,
    project: Project | int,
    username: str,
    password: str,
    roles: Iterable[Role | str],
    rule: str = "",
) -> User:
    """The approver of an action taken on a page: whoever typed their account and password on the
    form (主管授权), or the logged-in ``user`` when both fields were left blank and they may approve
    themselves. ``rule`` (the rule that requires the approval) is added to the refusal."""
    username = (username or "").strip()
    if not username and not password:
        try:
            return approver_check(project=project, approver=user, roles=roles)
        except ValidationFailed as exc:
            raise ValidationFailed(
                f"需要{roles_text(roles)}授权：请审批人输入自己的账号和密码。{rule}".strip(),
                field="approver_username",
            ) from exc
    return approver_authenticate(
        request=request,
        project=project,
        username=username,
        password=password,
        roles=roles,
        requested_by=user,
    )


def approver_of_form(
    *,
    request: HttpRequest,
    project: Project | int,
    form: Form,
    roles: Iterable[Role | str],
    rule: str = "",
) -> User:
    """``approver_from_form`` for a form with the usual ``approver_username`` and
    ``approver_password`` fields, on behalf of the logged-in user."""
    data = form.cleaned_data
    return approver_from_form(
        request=request,
        user=request.user,
        project=project,
        username=data.get("approver_username") or "",
        password=data.get("approver_password") or "",
        roles=roles,
        rule=rule,
    )
