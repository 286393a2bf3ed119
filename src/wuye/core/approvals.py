"""Approvals (审批 / 主管授权): who may approve an action in a project, checked in one place.

A service that needs an approval takes ``approved_by`` and calls ``approver_check`` with the roles that
may approve. At the fee window the approver is usually standing beside the cashier and types their own
user name and password (主管授权): the page calls ``approver_authenticate`` and hands the user it returns
to the service. Failed attempts are written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import authenticate

from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
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


def approver_authenticate(
    *,
    project: Project | int,
    username: str,
    password: str,
    roles: Iterable[Role | str],
    requested_by: User | None = None,
) -> User:
    """主管授权: the approver's own user name and password, typed at someone else's screen.

    Returns the approver when the password is right and they hold one of ``roles`` in ``project``.
    A wrong password or a user without the role is refused (field ``approver_password`` or
    ``approved_by``) and the attempt is audited.
    """
    roles = frozenset(Role(r) for r in roles)
    username = (username or "").strip()
    if not username:
        raise ValidationFailed("请输入审批人账号", field="approver_username")
    if not password:
        raise ValidationFailed("请输入审批人密码", field="approver_password")
    user = authenticate(username=username, password=password)
    if user is None:
        audit_record(
            user=requested_by,
            action="主管授权失败",
            project=project,
            model="core.User",
            changes={"username": username, "reason": "账号或密码不正确"},
        )
        raise ValidationFailed("审批人账号或密码不正确", field="approver_password")
    try:
        return approver_check(project=project, approver=user, roles=roles)
    except ValidationFailed:
        audit_record(
            user=requested_by,
            action="主管授权失败",
            project=project,
            obj=user,
            changes={"username": username, "reason": "无审批权限"},
        )
        raise


def approver_from_form(
    *,
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
        project=project, username=username, password=password, roles=roles, requested_by=user
    )
