"""Filling a message template with one household's figures.

Only the placeholders below exist, and each is computed from the one case being written to, so a
template can never show another household's data. Unknown placeholders and texts that plan an
unlawful measure (dunning ``rules.forbidden_measure``, LAW.md §1) are refused.
"""

from __future__ import annotations

import datetime
import re

from wuye.core.errors import ValidationFailed
from wuye.dunning.models import ArrearsCase
from wuye.dunning.rules import FORBIDDEN_MESSAGE, forbidden_measure
from wuye.messaging import defaults

PLACEHOLDERS = (
    "户名",
    "房号",
    "欠费金额",
    "最早欠费月份",
    "缴费方式",
    "期限",
    "项目名称",
    "联系电话",
)
_FIELD = re.compile(r"\{([^{}]*)\}")
DEFAULT_DEADLINE_DAYS = 15


def check_template(body: str, field: str = "body") -> None:
    """Refuses a template with an unknown placeholder or a forbidden measure."""
    if not (body or "").strip():
        raise ValidationFailed("模板正文不能为空", field=field)
    unknown = [name for name in _FIELD.findall(body) if name not in PLACEHOLDERS]
    if unknown:
        raise ValidationFailed(
            f"未知占位符 {{{unknown[0]}}}；可用：" + " ".join(f"{{{p}}}" for p in PLACEHOLDERS),
            field=field,
        )
    if word := forbidden_measure(body):
        raise ValidationFailed(f"“{word}”：{FORBIDDEN_MESSAGE}", field=field)


def default_deadline(on: datetime.date) -> datetime.date:
    return on + datetime.timedelta(days=DEFAULT_DEADLINE_DAYS)


def values_for(case: ArrearsCase, deadline: datetime.date) -> dict[str, str]:
    project = case.project
    oldest = case.oldest_due_date
    return {
        "户名": case.account.payer.name,
        "房号": case.room.code,
        "欠费金额": f"{case.overdue_amount:.2f}",
        "最早欠费月份": f"{oldest.year}年{oldest.month}月" if oldest else "",
        "缴费方式": defaults.PAYMENT_METHODS,
        "期限": f"{deadline.year}年{deadline.month}月{deadline.day}日",
        "项目名称": project.name,
        "联系电话": project.service_phone or project.company.phone or "物业服务中心",
    }


def render(body: str, case: ArrearsCase, deadline: datetime.date) -> str:
    check_template(body)
    values = values_for(case, deadline)
    return _FIELD.sub(lambda m: values[m.group(1)], body)
