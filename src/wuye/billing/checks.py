"""Checks every billing write shares: who may run billing or record readings, a reason is given,
the approver may approve (SPEC §1), amounts are positive and to the fen, objects are of the project.

Every write module of billing (``fee_settings``, ``readings``, ``adjustments``, ``pay_ahead``, ``runs``,
the late fees in ``services``) uses them; they import none of those.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from wuye.core import roles
from wuye.core.approvals import four_eyes_check
from wuye.core.errors import ValidationFailed
from wuye.core.models import Project, User
from wuye.core.money import money, to_decimal
from wuye.core.scope import role_in


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
    if role_in(approved_by, project) not in roles.BILL_APPROVER_ROLES:
        raise ValidationFailed(
            f"审批人 {approved_by} 不是本项目的项目经理或公司管理员，不能审批", field="approved_by"
        )
    if four_eyes:
        four_eyes_check(
            approver=approved_by, requested_by=requested_by, roles=roles.BILL_APPROVER_ROLES
        )
    return approved_by


# --- helpers -------------------------------------------------------------------------------------


def _real(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


def _decimal(value: object, field: str, label: str) -> Decimal:
    try:
        return to_decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValidationFailed(f"{label}：“{value}”不是有效的数字", field=field) from exc


def _amount(value: object, field: str = "amount", label: str = "金额") -> Decimal:
    amount = _decimal(value, field, label)
    if amount <= 0:
        raise ValidationFailed(f"{label}须大于 0", field=field)
    if amount != money(amount):
        raise ValidationFailed(f"{label}最多两位小数（到分）", field=field)
    return amount


def _same_project(obj_project_id: int, project_id: int, what: str) -> None:
    if obj_project_id != project_id:
        raise ValidationFailed(f"{what}不属于本项目")
