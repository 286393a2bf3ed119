"""The household's segment strategy, handed to the dunning run (``WUYE_CASE_STRATEGY``).

Dunning sits below credit, so it cannot read segments itself: it calls ``adjustments`` once per run
(or once for the one case a contact touches) and lays what comes back on top of its class rules —
the first action (a reminder message for a reliable payer), the days between follow-up calls of
classes B and D, and the days after which an unpaid household goes to a door visit. Contact windows,
call caps and the written-only flag are not here: dunning checks them when the contact happens, and a
strategy cannot loosen them (LAW.md §8).
"""

from __future__ import annotations

from django.db.models import Q

from wuye.credit.models import CreditFile, FirstAction
from wuye.dunning.rules import StrategyAdjustment


def adjustments(*, project_id: int, account_ids: list[int] | None) -> dict[int, StrategyAdjustment]:
    """{account_id: adjustment} for the accounts (``None``: the whole project) whose segment has a
    strategy that changes the dunning tasks; one query (plus the project's floor when a segment
    moves the escalation)."""
    from wuye.credit.services import escalation_floor

    rows = CreditFile.objects.filter(project_id=project_id, segment__is_active=True).filter(
        Q(segment__call_cadence_days__isnull=False)
        | Q(segment__escalate_after_days__isnull=False)
        | Q(segment__first_action=FirstAction.SMS)
    )
    if account_ids is not None:
        rows = rows.filter(account_id__in=account_ids)
    found = rows.values_list(
        "account_id",
        "segment__name",
        "segment__call_cadence_days",
        "segment__escalate_after_days",
        "segment__first_action",
    )
    out: dict[int, StrategyAdjustment] = {}
    floor = None
    for account_id, name, cadence, escalate, first in found:
        if escalate is not None:
            # Never sooner than the first call of SPEC §5 step 4, even if the project's dunning
            # settings changed after the segment was saved.
            floor = escalation_floor(project_id) if floor is None else floor
            escalate = max(escalate, floor)
        out[account_id] = StrategyAdjustment(
            segment=name,
            call_cadence_days=cadence,
            escalate_after_days=escalate,
            first_action_sms=first == FirstAction.SMS,
        )
    return out
