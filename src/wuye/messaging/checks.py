"""What a message template may contain: the placeholders that exist, and no unlawful measure.

At the bottom of messaging (the models' ``clean`` uses it; ``rendering`` fills what it allows).
"""

from __future__ import annotations

import re

from wuye.core.errors import ValidationFailed
from wuye.dunning.rules import FORBIDDEN_MESSAGE, forbidden_measure

PLACEHOLDERS = (
    "户名",
    "房号",
    "欠费金额",
    "费用项目",
    "最早欠费月份",
    "缴费方式",
    "期限",
    "项目名称",
    "联系电话",
    "委托人",
    "律师事务所",
    "缴费链接",  # the household's own owner-page link (WUYE_SMS_PAY_LINK; empty when unset)
)
_FIELD = re.compile(r"\{([^{}]*)\}")


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
