"""Checks every billing write shares: a reason is given, and the approver may approve (SPEC §1).

Kept apart from ``services`` so that ``runs`` (billing runs, below ``services``) can use them.
"""

from __future__ import annotations

from wuye.core import roles
from wuye.core.approvals import four_eyes_check
from wuye.core.errors import ValidationFailed
from wuye.core.models import Project, User
from wuye.core.scope import role_in

APPROVER_ROLES = roles.BILL_APPROVER_ROLES  # defined in core.roles


def require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写原因", field="reason")
    if len(reason) > 200:
        raise ValidationFailed("原因最多 200 字", field="reason")
    return reason


def check_approver(
    approved_by: User | None,
    project: Project | int,
    *,
    requested_by: User | None = None,
    four_eyes: bool = False,
) -> User:
    """The approver must be the project's manager or a company administrator (SPEC §1); for a
    reversal or a reduction (``four_eyes``) also someone other than ``requested_by`` (issue 13 item 12)."""
    if approved_by is None or not approved_by.is_authenticated or not approved_by.is_active:
        raise ValidationFailed("请指定审批人（项目经理或公司管理员）", field="approved_by")
    if role_in(approved_by, project) not in APPROVER_ROLES:
        raise ValidationFailed(
            f"审批人 {approved_by} 不是本项目的项目经理或公司管理员，不能审批", field="approved_by"
        )
    if four_eyes:
        four_eyes_check(approver=approved_by, requested_by=requested_by, roles=APPROVER_ROLES)
    return approved_by
