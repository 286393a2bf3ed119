"""What a room owes, at a glance: the amount overdue and its open case, for search results and the
building browser (the registry asks through ``settings.WUYE_ROOM_ARREARS``; it cannot import us).

Two queries whatever the number of rooms: one grouped sum of outstanding bills, one of open cases.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from wuye.billing.models import Bill
from wuye.core import roles
from wuye.core.models import User
from wuye.core.money import money
from wuye.core.scope import role_in
from wuye.dunning.enums import CaseClass, CaseState, Stage
from wuye.dunning.models import ArrearsCase
from wuye.ledger.selectors.outstanding import bill_outstanding

# The colours of the building view, from nothing owed to a lawsuit; (key, label) in that order.
LEVELS = (
    ("none", "无欠费"),
    ("overdue", "欠费未立案"),
    ("case", "催缴中"),
    ("legal", "律师函/诉讼"),
)
LEGAL_STAGES = frozenset({Stage.LAWYER_LETTER, Stage.LEGAL})


@dataclass(frozen=True)
class RoomArrears:
    amount: Decimal  # Σ outstanding of the room's bills due before the day (all its payer accounts)
    level: str  # one of LEVELS' keys
    case_id: int | None = None  # the open case, when the viewer may open it
    case_class: str = ""  # its class, e.g. "B 暂未明确"; "未分类" before the first contact

    @property
    def level_label(self) -> str:
        return dict(LEVELS)[self.level]

    @property
    def case_url(self) -> str:
        """The case page, for pages below dunning that may not name it ('' without a case)."""
        return reverse("dunning:case", args=[self.case_id]) if self.case_id else ""


NONE = RoomArrears(Decimal("0.00"), "none")


def room_arrears(
    *,
    project_id: int,
    room_ids: Iterable[int],
    user: User | None = None,
    on: datetime.date | None = None,
) -> dict[int, RoomArrears]:
    """``{room_id: RoomArrears}`` for every room in ``room_ids`` (``NONE`` when nothing is owed).

    A steward, other staff or cashier (who work their own cases only) sees that a room is in a case but
    not the case of somebody else: no link, no class — as on the household page."""
    ids = list(room_ids)
    if not ids:
        return {}
    on = on or timezone.localdate()
    owed = dict(
        bill_outstanding(
            Bill.objects.filter(project_id=project_id, room_id__in=ids, due_date__lt=on), on
        )
        .filter(outstanding__gt=0)
        .order_by()
        .values("room_id")
        .annotate(total=Sum("outstanding"))
        .values_list("room_id", "total")
    )
    cases = {
        room_id: (case_id, case_class, stage, assignee_id)
        for room_id, case_id, case_class, stage, assignee_id in ArrearsCase.objects.filter(
            project_id=project_id, room_id__in=ids, state=CaseState.OPEN
        )
        # oldest first, so the newest open case of a room wins when (rarely) there are two
        .order_by("room_id", "opened_on", "id")
        .values_list("room_id", "id", "case_class", "stage", "assignee_id")
    }
    own_only = user is not None and role_in(user, project_id) in roles.OWN_CASES_ONLY_ROLES
    labels = dict(CaseClass.choices)
    result: dict[int, RoomArrears] = {}
    for room_id in ids:
        amount = money(owed.get(room_id) or 0)
        case = cases.get(room_id)
        if case is None:
            result[room_id] = RoomArrears(amount, "overdue") if amount > 0 else NONE
            continue
        case_id, case_class, stage, assignee_id = case
        level = "legal" if stage in LEGAL_STAGES else "case"
        if own_only and assignee_id != user.pk:
            result[room_id] = RoomArrears(amount, level)
        else:
            label = labels.get(case_class, "") if case_class else "未分类"
            result[room_id] = RoomArrears(amount, level, case_id, label)
    return result
