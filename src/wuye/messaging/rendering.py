"""Filling a message template with one household's figures.

Only the placeholders of ``checks.PLACEHOLDERS`` exist, and each is computed from the one case being written to, so a
template can never show another household's data. Unknown placeholders and texts that plan an
unlawful measure (dunning ``rules.forbidden_measure``, LAW.md §1) are refused.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from wuye.core import hooks
from wuye.dunning.models import ArrearsCase
from wuye.messaging import defaults, selectors
from wuye.messaging.checks import _FIELD, PLACEHOLDERS, check_template  # noqa: F401  (re-exported)

DEFAULT_DEADLINE_DAYS = 15


def default_deadline(on: datetime.date) -> datetime.date:
    return on + datetime.timedelta(days=DEFAULT_DEADLINE_DAYS)


def values_for(
    case: ArrearsCase,
    deadline: datetime.date,
    on: datetime.date | None = None,
    needed: set[str] | None = None,
) -> dict[str, str]:
    """The placeholders' values (those in ``needed``, or all). For a saved case the amount, the
    oldest month and the fee items named come from the overdue bills on ``on``
    (``selectors.demand_lines``, what a demand's table lists), so the text never calls a total
    物业服务费 when it includes other fees. An unsaved stand-in (a courtesy reminder before the due
    date) carries its own amount."""
    needed = set(PLACEHOLDERS) if needed is None else needed
    project = case.project
    oldest = case.oldest_due_date
    amount, items = case.overdue_amount, "物业费用"
    if case.pk is not None and needed & {"欠费金额", "费用项目", "最早欠费月份"}:
        lines, amount, _ = selectors.demand_lines(case, on or timezone.localdate())
        items = selectors.fee_items_named(lines) or items
        if lines:
            oldest = min(line.due_date for line in lines)
    values = {
        "户名": case.account.payer.name,
        "房号": case.room.code,
        "欠费金额": f"{amount:.2f}",
        "费用项目": items,
        "最早欠费月份": f"{oldest.year}年{oldest.month}月" if oldest else "",
        "缴费方式": defaults.PAYMENT_METHODS,
        "期限": f"{deadline.year}年{deadline.month}月{deadline.day}日",
        "项目名称": project.name,
        "联系电话": project.service_phone or project.company.phone or "物业服务中心",
    }
    if "缴费链接" in needed:
        # The household's own page (an app above messaging makes the signed link): the first
        # non-empty answer of the WUYE_SMS_PAY_LINK hooks, f(account_id=) -> str.
        answers = hooks.call_each("WUYE_SMS_PAY_LINK", account_id=case.account_id)
        values["缴费链接"] = next((a for a in answers if a), "")
    if needed & {"委托人", "律师事务所"}:
        signed = selectors.signatories(case)
        values["委托人"] = signed.principal
        values["律师事务所"] = signed.law_firm or "（未设置律师事务所）"
    return values


def render(
    body: str, case: ArrearsCase, deadline: datetime.date, on: datetime.date | None = None
) -> str:
    check_template(body)
    values = values_for(case, deadline, on, set(_FIELD.findall(body)))
    return _FIELD.sub(lambda m: values[m.group(1)], body)
