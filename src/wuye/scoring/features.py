"""The model's features, as of any date: one definition for training (past snapshots) and live scoring.

``features_as_of(project_id, on)`` reads the ledger, the contact records and the registry as they stood
on ``on`` — every row is filtered by its own date (allocations and adjustments by ``effective_date``,
payments by ``business_date`` and reversals by theirs, contacts by ``at``, issues and complaints by
their opening and closing dates) — so a snapshot in the past never sees a later payment (no leakage).
A fixed number of grouped queries, whatever the number of accounts; the per-bill and per-payment
figures are then reduced to one row per account with numpy.

What is never a feature: anything about the person (age, sex, birthplace, ethnicity, anything derived
from an ID number, the name). Only how the account has paid, what the stewards recorded, and facts of
the room (use, vacancy) and the debt.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import numpy as np
from django.db.models import (
    Count,
    DateField,
    Exists,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from wuye.billing.enums import BillKind
from wuye.billing.models import Account, Bill, BillAdjustment
from wuye.core.money import ZERO
from wuye.dunning.enums import CaseClass, EventKind, Stage
from wuye.dunning.models import CaseEvent, ContactRecord
from wuye.dunning.promise_kept import promise_counts
from wuye.dunning.selectors import overdue_by_account
from wuye.ledger.enums import PrepaidKind
from wuye.ledger.models import Allocation, Payment, PrepaidMovement
from wuye.ledger.selectors.outstanding import MONEY_FIELD, visible_on
from wuye.registry.enums import OccupancyState, RoomUse, TicketCategory
from wuye.registry.models import LegacyIssue, ServiceTicket

DAY = datetime.timedelta(days=1)
YEAR = 365 * DAY
NEVER_PAID_DAYS = 3650
_NONE = Value(
    ZERO, output_field=MONEY_FIELD
)  # "days since the last payment" of an account that never paid


@dataclass(frozen=True)
class Feature:
    name: str
    label: str  # Chinese, for the model page
    high: str  # the reason when the value is above the project's mean
    low: str  # … and when below ("": the mere absence of a flag is no reason worth a line)
    # How the factor is commonly read: +1 the higher the likelier to pay (on-time ratio), −1 the
    # higher the less likely (days late), 0 neither (amount, kind of room). A contribution against
    # that reading is a correlated feature correcting another one; it is not shown as a reason.
    direction: int = 0


FEATURES: list[Feature] = [
    Feature("log_overdue", "欠费金额（对数）", "欠费金额大", "欠费金额小"),
    Feature("log_aging", "账龄（对数）", "欠费时间长", "刚欠费不久", -1),
    Feature("overdue_bills", "欠费账单数", "欠费账单多", "欠费账单少", -1),
    Feature(
        "on_time_ratio", "近12个月按时缴费率", "过去12个月按时缴费率高", "过去12个月按时缴费率低", 1
    ),
    Feature("avg_days_late", "近12个月平均逾期天数", "以往逾期天数长", "以往逾期天数短", -1),
    Feature("payments_12m", "近12个月缴费次数", "近一年缴费次数多", "近一年很少缴费", 1),
    Feature("log_days_since_payment", "距上次缴费天数（对数）", "很久没有缴费", "近期有缴费", -1),
    Feature("prepaid_habit", "近24个月有预存", "有预存缴费习惯", "", 1),
    Feature("vacant", "房屋空置", "房屋空置", "", -1),
    Feature("commercial", "商铺/写字楼", "商铺/写字楼", ""),
    Feature("developer", "开发商应缴", "开发商应缴", ""),
    Feature("open_issue", "有未解决的历史遗留问题", "有未解决的历史遗留问题", "", -1),
    Feature("open_complaint", "有未办结的投诉", "有未办结的投诉", "", -1),
    Feature("contacts_30d", "近30天联系次数", "近30天联系频繁", ""),
    Feature("promises_kept", "兑现承诺次数", "曾兑现承诺", "", 1),
    Feature("promises_broken", "未兑现承诺次数", "曾有承诺未兑现", "", -1),
    Feature("refusals", "拒缴次数", "曾明确拒缴", "", -1),
    Feature("last_reached", "最近一次联系上", "最近一次联系上了", "最近一次未联系上", 1),
    Feature("class_a", "当前为A类（承诺缴费）", "已承诺近期缴费", "", 1),
    Feature("class_c", "当前为C类（无法联系）", "目前无法联系", "", -1),
    Feature("class_e", "当前为E类（特殊拒交）", "属特殊拒交", "", -1),
    Feature("escalated", "已升级到上门或书面阶段", "已上门或书面催告", "", -1),
]
NAMES = [f.name for f in FEATURES]
INDEX = {name: i for i, name in enumerate(NAMES)}


@dataclass
class FeatureMatrix:
    """One row per payer account in arrears on ``on``: features ``x`` (in ``NAMES`` order), and the
    overdue amount (yuan, float — for ordering only; money stays Decimal elsewhere) and aging days."""

    on: datetime.date
    account_ids: np.ndarray
    x: np.ndarray
    overdue: np.ndarray
    aging: np.ndarray

    def __len__(self) -> int:
        return len(self.account_ids)


def _end_of(on: datetime.date) -> datetime.datetime:
    """The first instant after the day ``on`` (contacts and tickets carry datetimes)."""
    return timezone.make_aware(datetime.datetime.combine(on + DAY, datetime.time.min))


def _group_index(keys: np.ndarray, account_ids: np.ndarray) -> np.ndarray:
    """Position of each key in ``account_ids`` (sorted), −1 where absent."""
    if len(account_ids) == 0 or len(keys) == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    pos = np.searchsorted(account_ids, keys)
    pos = np.clip(pos, 0, len(account_ids) - 1)
    return np.where(account_ids[pos] == keys, pos, -1)


def _days(dates: list[datetime.date | None], on: datetime.date) -> np.ndarray:
    """Days from each date to ``on`` (NaN for None)."""
    return np.array([(on - d).days if d is not None else np.nan for d in dates], dtype=float)


def features_as_of(
    project_id: int,
    on: datetime.date,
    *,
    accounts: QuerySet[Account] | list[int] | None = None,
    grace_days: int | None = None,
) -> FeatureMatrix:
    """Features of the accounts of ``project_id`` that owe money overdue on ``on``, as of ``on``.

    ``accounts`` narrows the accounts (live scoring passes the open cases' accounts); ``grace_days``
    keeps only debts whose oldest bill fell due more than that many days before ``on`` — the rule by
    which the daily run opens a case — so past snapshots are the cases that would have been open.
    """
    account_list = None
    if accounts is not None:
        account_list = (
            list(accounts.values_list("pk", flat=True))
            if isinstance(accounts, QuerySet)
            else list(accounts)
        )
    owed = overdue_by_account(project_id, on, account_list)
    if grace_days is not None:
        cutoff = on - grace_days * DAY
        owed = {a: o for a, o in owed.items() if o.oldest_due_date < cutoff}
    ids = np.array(sorted(owed), dtype=np.int64)
    n = len(ids)
    x = np.zeros((n, len(FEATURES)), dtype=float)
    overdue = np.array([float(owed[a].amount) for a in ids], dtype=float)
    aging = np.array([(on - owed[a].oldest_due_date).days for a in ids], dtype=float)
    if n == 0:
        return FeatureMatrix(on, ids, x, overdue, aging)
    x[:, INDEX["log_overdue"]] = np.log1p(overdue)
    x[:, INDEX["log_aging"]] = np.log1p(np.maximum(aging, 0))
    x[:, INDEX["overdue_bills"]] = [owed[a].bills for a in ids]
    id_list = ids.tolist()

    _bill_history(project_id, on, ids, id_list, x)
    _payments(project_id, on, ids, id_list, x)
    _account_facts(on, ids, id_list, x)
    _contacts(project_id, on, ids, id_list, x)
    return FeatureMatrix(on, ids, x, overdue, aging)


def _bill_history(project_id, on, ids, id_list, x) -> None:
    """On-time ratio and average days late over the bills due in the 12 months before ``on``."""
    since = on - YEAR
    bills = Bill.objects.filter(
        visible_on(on),
        project_id=project_id,
        account_id__in=id_list,
        kind=BillKind.CHARGE,
        due_date__gte=since,
        due_date__lt=on,
    )
    adjusted = (
        BillAdjustment.objects.filter(bill=OuterRef("pk"), effective_date__lte=on)
        .order_by()
        .values("bill")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    allocs = Allocation.objects.filter(bill=OuterRef("pk"), effective_date__lte=on).order_by()
    by_due = (
        allocs.filter(effective_date__lte=OuterRef("due_date"))
        .values("bill")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    total = allocs.values("bill").annotate(total=Sum("amount")).values("total")
    last = allocs.filter(amount__gt=0).values("bill").annotate(last=Max("effective_date"))
    rows = bills.annotate(
        adj=Coalesce(Subquery(adjusted, output_field=MONEY_FIELD), _NONE),
        by_due=Coalesce(Subquery(by_due, output_field=MONEY_FIELD), _NONE),
        paid=Coalesce(Subquery(total, output_field=MONEY_FIELD), _NONE),
        last_paid=Subquery(last.values("last"), output_field=DateField()),
    ).values_list("account_id", "due_date", "amount", "adj", "by_due", "paid", "last_paid")
    rows = list(rows)
    if not rows:
        return
    account, due, amount, adj, by_due, paid, last_paid = zip(*rows, strict=True)
    pos = _group_index(np.array(account, dtype=np.int64), ids)
    net = np.array([float(a) - float(b) for a, b in zip(amount, adj, strict=True)])
    # Half a fen of slack: SQLite sums decimals as binary floats.
    on_time = np.array([float(v) for v in by_due]) >= net - 0.005
    settled = np.array([float(v) for v in paid]) >= net - 0.005
    due_days = _days(list(due), on)  # days from due date to on (≥ 1)
    paid_days = _days(list(last_paid), on)  # days from last payment to on
    # Days late: paid off → last payment − due date; still owing → on − due date; never negative.
    late = np.where(settled, due_days - np.nan_to_num(paid_days, nan=0.0), due_days)
    late = np.where(on_time | (net <= 0.005), 0.0, np.maximum(late, 0.0))
    keep = pos >= 0
    n = len(ids)
    count = np.bincount(pos[keep], minlength=n).astype(float)
    ok = np.bincount(pos[keep], weights=(on_time | (net <= 0.005))[keep], minlength=n)
    late_sum = np.bincount(pos[keep], weights=late[keep], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        x[:, INDEX["on_time_ratio"]] = np.where(count > 0, ok / count, 0.0)
        x[:, INDEX["avg_days_late"]] = np.where(count > 0, late_sum / count, 0.0)


def _payments(project_id, on, ids, id_list, x) -> None:
    """Payments up to ``on`` that were not reversed by then; prepaid deposits (the habit of paying
    ahead) in the 24 months before."""
    reversed_by_then = Q(reversal__isnull=False, reversal__business_date__lte=on)
    payments = Payment.objects.filter(
        project_id=project_id, account_id__in=id_list, business_date__lte=on
    ).exclude(reversed_by_then)
    rows = (
        payments.order_by()
        .values("account_id")
        .annotate(
            last=Max("business_date"),
            n12=Count("id", filter=Q(business_date__gt=on - YEAR)),
        )
        .values_list("account_id", "last", "n12")
    )
    x[:, INDEX["log_days_since_payment"]] = np.log1p(NEVER_PAID_DAYS)
    for account_id, last, n12 in rows:
        i = int(np.searchsorted(ids, account_id))
        x[i, INDEX["log_days_since_payment"]] = np.log1p((on - last).days)
        x[i, INDEX["payments_12m"]] = n12
    deposits = (
        PrepaidMovement.objects.filter(
            account_id__in=id_list,
            kind=PrepaidKind.DEPOSIT,
            amount__gt=0,
            effective_date__lte=on,
            effective_date__gt=on - 2 * YEAR,
        )
        .order_by()
        .values_list("account_id", flat=True)
        .distinct()
    )
    for account_id in deposits:
        x[int(np.searchsorted(ids, account_id)), INDEX["prepaid_habit"]] = 1.0


def _account_facts(on, ids, id_list, x) -> None:
    """The room and payer kind, and the room's open legacy issues and complaints on ``on``."""
    end = _end_of(on)
    issue = LegacyIssue.objects.filter(room_id=OuterRef("room_id"), reported_on__lte=on).filter(
        Q(resolved_on__isnull=True) | Q(resolved_on__gt=on)
    )
    # An issue closed without a resolution date counts as settled.
    issue = issue.exclude(resolved_on__isnull=True, state__in=["resolved", "closed"])
    complaint = ServiceTicket.objects.filter(
        room_id=OuterRef("room_id"), category=TicketCategory.COMPLAINT, opened_at__lt=end
    ).filter(Q(closed_at__isnull=True) | Q(closed_at__gte=end))
    rows = (
        Account.objects.filter(pk__in=id_list)
        .annotate(has_issue=Exists(issue), has_complaint=Exists(complaint))
        .values_list(
            "pk",
            "room__occupancy_state",
            "room__use",
            "payer__is_developer",
            "has_issue",
            "has_complaint",
        )
    )
    for pk, state, use, developer, has_issue, has_complaint in rows:
        i = int(np.searchsorted(ids, pk))
        x[i, INDEX["vacant"]] = float(state == OccupancyState.VACANT)
        x[i, INDEX["commercial"]] = float(use in (RoomUse.SHOP, RoomUse.OFFICE))
        x[i, INDEX["developer"]] = float(bool(developer))
        x[i, INDEX["open_issue"]] = float(bool(has_issue))
        x[i, INDEX["open_complaint"]] = float(bool(has_complaint))


def _contacts(project_id, on, ids, id_list, x) -> None:
    """What the stewards recorded up to ``on``: contacts in the last 30 days, promises kept and broken,
    refusals, whether the last contact reached the owner, the class and stage the case had then."""
    end = _end_of(on)
    contacts = ContactRecord.objects.filter(
        project_id=project_id, case__account_id__in=id_list, at__lt=end
    )
    rows = (
        contacts.order_by()
        .values("case__account_id")
        .annotate(
            recent=Count("id", filter=Q(at__gte=end - 30 * DAY)),
            refusals=Count("id", filter=~Q(refusal_reason="")),
        )
        .values_list("case__account_id", "recent", "refusals")
    )
    for account_id, recent, refusals in rows:
        i = int(np.searchsorted(ids, account_id))
        x[i, INDEX["contacts_30d"]] = recent
        x[i, INDEX["refusals"]] = refusals
    # Promises whose date has come by ``on``, kept or broken by dunning's one rule.
    for account_id, (kept_n, broken_n) in promise_counts(
        id_list, due_before=on, made_before=end
    ).items():
        i = int(np.searchsorted(ids, account_id))
        x[i, INDEX["promises_kept"]] = kept_n
        x[i, INDEX["promises_broken"]] = broken_n
    latest = ContactRecord.objects.filter(case__account_id=OuterRef("pk"), at__lt=end).order_by(
        "-at", "-id"
    )
    classified = latest.exclude(case_class="")
    stage = CaseEvent.objects.filter(
        case__account_id=OuterRef("pk"), kind=EventKind.STAGE, on_date__lte=on
    ).order_by("-at", "-id")
    rows = (
        Account.objects.filter(pk__in=id_list)
        .annotate(
            last_reached=Subquery(latest.values("reached")[:1]),
            last_class=Subquery(classified.values("case_class")[:1]),
            last_stage=Subquery(stage.values("to_value")[:1]),
        )
        .filter(Q(last_reached__isnull=False) | Q(last_stage__isnull=False))
        .values_list("pk", "last_reached", "last_class", "last_stage")
    )
    for pk, reached, case_class, stage_value in rows:
        i = int(np.searchsorted(ids, pk))
        x[i, INDEX["last_reached"]] = float(bool(reached))
        x[i, INDEX["class_a"]] = float(case_class == CaseClass.A)
        x[i, INDEX["class_c"]] = float(case_class == CaseClass.C)
        x[i, INDEX["class_e"]] = float(case_class == CaseClass.E)
        x[i, INDEX["escalated"]] = float(bool(stage_value) and stage_value != Stage.REMINDER)


def labels_after(
    project_id: int, on: datetime.date, account_ids: np.ndarray, overdue: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The outcome of a snapshot (training only): did the account pay within 30 days after ``on``
    (1/0), and how much of its overdue debt came in (Σ payments in the window, at most the debt).
    Payments reversed later do not count."""
    y = np.zeros(len(account_ids), dtype=float)
    recovered = np.zeros(len(account_ids), dtype=float)
    if len(account_ids) == 0:
        return y, recovered
    rows = (
        Payment.objects.filter(
            project_id=project_id,
            account_id__in=account_ids.tolist(),
            business_date__gt=on,
            business_date__lte=on + 30 * DAY,
            reversal__isnull=True,
        )
        .order_by()
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    for account_id, total in rows:
        i = int(np.searchsorted(account_ids, account_id))
        y[i] = 1.0
        recovered[i] = min(float(total), overdue[i])
    return y, recovered
