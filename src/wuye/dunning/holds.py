"""Households not to be chased for now, as the apps above dunning say (``WUYE_CHASE_HOLDS``).

A bank withholding batch in flight (wuye.banking) is the first reason: the bank is taking the money
for those bills, so a steward does not call or message the owner, and the daily run does not escalate
the case, until the bank's result is back. Dunning never imports the app that holds: each hook is a
dotted path in settings (docs/decisions/0005) called as ``f(project_id=, account_ids=)`` (``None``:
the whole project) and returning ``{account_id: reason}`` — one bulk call per hook, never one per case.
"""

from __future__ import annotations

from wuye.core import hooks
from wuye.dunning.enums import EventKind
from wuye.dunning.models import CaseEvent

# How long a bank result (扣款失败) stays on today's card.
BANK_NOTE_DAYS = 45


def chase_holds(project_id: int, account_ids: list[int] | None = None) -> dict[int, str]:
    """{account id: why it is not chased now} for the accounts (``None``: the whole project)."""
    if account_ids is not None and not account_ids:
        return {}
    found: dict[int, str] = {}
    for held in hooks.call_each("WUYE_CHASE_HOLDS", project_id=project_id, account_ids=account_ids):
        for account_id, reason in held.items():
            found.setdefault(account_id, reason)
    return found


def hold_of(case) -> str:
    """Why ``case``'s household is not chased now ("" when it may be)."""
    return chase_holds(case.project_id, [case.account_id]).get(case.account_id, "")


def latest_bank_notes(case_ids: list[int], since) -> dict[int, str]:
    """The latest bank result (e.g. 代扣失败：余额不足) recorded on each case since ``since`` (one query)."""
    if not case_ids:
        return {}
    found: dict[int, str] = {}
    rows = (
        CaseEvent.objects.filter(case_id__in=case_ids, kind=EventKind.BANK, on_date__gte=since)
        .order_by("case_id", "-at", "-id")
        .values_list("case_id", "reason")
    )
    for case_id, reason in rows:
        found.setdefault(case_id, reason)
    return found
