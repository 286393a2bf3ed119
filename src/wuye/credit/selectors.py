"""Reads of the credit app: the figures of credit files, computed set-based in SQL.

``credit_rows`` answers, for every payer account of a project (or a few accounts — the same SQL with
one more condition), everything a credit file holds, in six grouped queries whatever the number of
households:

1. per bill, what was adjusted and allocated and the day of the last such entry (the day the bill
   became fully paid, when nothing is outstanding any more), grouped per account by conditional
   aggregation: counts, days late, months in arrears, overdue amount;
2. the same per bill rows grouped per account and billing month: the 24-month history;
3. contact records (corrected originals left out): promises made, kept, broken; unreached streak;
4. refusals per reason;
5. prepaid balance and last payment;
6. the accounts with their room's situation (vacancy, open tickets and legacy issues).

Definitions (the user guide repeats them):

* a bill *counts* when it is a charge (not a late fee), not reversed, for more than zero, and either
  already due (due date before the day) or already fully paid;
* it is *paid on time* when it was fully paid by its due date: the last allocation or adjustment that
  brought it to zero is dated on or before the due date (a payment reversed and paid again later is
  late);
* *days late* of a bill paid late: from the due date to the day it became fully paid; a bill still
  unpaid counts its days past due as of the day in the *worst* figure only;
* *months in arrears*: distinct billing months (period start) with money overdue now; *in the last 12
  months*: distinct billing months of the last 12 whose bill was paid late or is still overdue;
* a promise is kept or broken by dunning's one rule (``wuye.dunning.promise_kept``), the same the
  dashboard and the ranking model use.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, QuerySet

from wuye.billing.calc import add_months
from wuye.billing.models import Account, Bill, BillAdjustment
from wuye.core import sql as dialect
from wuye.core.money import ZERO, money, to_decimal
from wuye.credit.models import CreditFile, Segment
from wuye.dunning import promise_kept
from wuye.dunning.models import ArrearsCase, ContactRecord
from wuye.ledger.models import Allocation, Payment, PaymentReversal, PrepaidMovement
from wuye.registry.models import LegacyIssue, Room, ServiceTicket

HISTORY_MONTHS = 24
OPEN_ISSUE_STATES = ("open", "in_progress")
OPEN_TICKET_STATES = ("open", "processing")
COMPLAINT_CATEGORIES = ("repair", "complaint")


def _m(value: object) -> Decimal:
    """A money figure from a raw SQL row (SQLite returns sums as floats: rounded text first)."""
    if value is None:
        return ZERO
    if isinstance(value, float):
        return money(f"{value:.2f}")
    return money(value)


def _as_date(value: object) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _scope(alias: str, project_id: int, account_ids: list[int] | None) -> tuple[str, list]:
    sql = f"{alias}.project_id = %s"
    params: list = [project_id]
    if account_ids is not None:
        sql += f" AND {alias}.account_id IN ({', '.join(['%s'] * len(account_ids))})"
        params += list(account_ids)
    return sql, params


def _bills_cte(project_id: int, account_ids: list[int] | None) -> tuple[str, list]:
    """Per bill: net amount (after adjustments), outstanding, reversed, and ``settled_on`` — the date
    of its last allocation or adjustment (the day it became fully paid, when outstanding ≤ 0)."""
    where, params = _scope("b", project_id, account_ids)
    bill, adj, alc = dialect.table(Bill), dialect.table(BillAdjustment), dialect.table(Allocation)
    sql = f"""
    adj AS (
        SELECT a.bill_id AS bill_id, SUM(a.amount) AS amt, MAX(a.effective_date) AS last_on,
               SUM(CASE WHEN a.kind = 'reversal' THEN 1 ELSE 0 END) AS reversals
        FROM {adj} a JOIN {bill} b ON b.id = a.bill_id
        WHERE {where}
        GROUP BY a.bill_id
    ),
    alc AS (
        SELECT l.bill_id AS bill_id, SUM(l.amount) AS amt, MAX(l.effective_date) AS last_on
        FROM {alc} l JOIN {bill} b ON b.id = l.bill_id
        WHERE {where}
        GROUP BY l.bill_id
    ),
    bb AS (
        SELECT b.account_id AS account_id, b.kind AS kind, b.amount AS amount,
               b.due_date AS due_date, b.period_start AS period_start,
               ROUND(b.amount - COALESCE(adj.amt, 0), 2) AS net,
               ROUND(b.amount - COALESCE(adj.amt, 0) - COALESCE(alc.amt, 0), 2) AS outstanding,
               COALESCE(adj.reversals, 0) AS reversals,
               CASE WHEN alc.last_on IS NULL THEN adj.last_on
                    WHEN adj.last_on IS NULL OR alc.last_on > adj.last_on THEN alc.last_on
                    ELSE adj.last_on END AS settled_on
        FROM {bill} b
        LEFT JOIN adj ON adj.bill_id = b.id
        LEFT JOIN alc ON alc.bill_id = b.id
        WHERE {where}
    )"""  # noqa: S608 (model table names only)
    return sql, params * 3


@dataclass
class CreditRow:
    """Everything a credit file holds, for one account (plain values, no ORM)."""

    account_id: int
    room_id: int
    bills_count: int = 0
    on_time_count: int = 0
    late_count: int = 0
    unpaid_count: int = 0
    late_days: int = 0
    worst_days_late: int | None = None
    months_in_arrears: int = 0
    arrears_months_12: int = 0
    overdue_amount: Decimal = ZERO
    oldest_due_date: datetime.date | None = None
    paid_ahead_count: int = 0
    billed_12: Decimal = ZERO
    months_billed_12: int = 0
    prepaid_balance: Decimal = ZERO
    last_payment_on: datetime.date | None = None
    contacts_count: int = 0
    unreached_streak: int = 0
    last_contact_at: datetime.datetime | None = None
    promises_made: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    refusals: int = 0
    refusal_reasons: dict[str, int] = field(default_factory=dict)
    last_refusal_reason: str = ""
    open_complaints: int = 0
    open_legacy_issues: int = 0
    vacant: bool = False
    history_json: str = "[]"  # the 24-month history, JSON text as built in SQL

    @property
    def history(self) -> list[dict[str, str]]:
        return json.loads(self.history_json)

    @property
    def on_time_ratio(self) -> Decimal | None:
        if not self.bills_count:
            return None
        return (Decimal(self.on_time_count) / Decimal(self.bills_count)).quantize(Decimal("0.0001"))

    @property
    def avg_days_late(self) -> Decimal | None:
        if not self.late_count:
            return None
        return (Decimal(self.late_days) / Decimal(self.late_count)).quantize(Decimal("0.1"))

    @property
    def prepaid_months(self) -> Decimal:
        """How many months of the usual bill the prepaid balance covers (0 when none)."""
        if self.prepaid_balance <= 0 or not self.months_billed_12 or self.billed_12 <= 0:
            return Decimal("0.0")
        monthly = self.billed_12 / self.months_billed_12
        return min(self.prepaid_balance / monthly, Decimal("9999")).quantize(Decimal("0.1"))


def credit_rows(
    project_id: int, on: datetime.date, account_ids: list[int] | None = None
) -> dict[int, CreditRow]:
    """The credit-file figures of every account of the project (or of ``account_ids``) on ``on``."""
    rows = _accounts(project_id, account_ids)
    if not rows:
        return rows
    _bills(rows, project_id, on, account_ids)
    _contacts(rows, project_id, on, account_ids)
    _refusals(rows, project_id, account_ids)
    _money(rows, project_id, account_ids)
    return rows


def _accounts(project_id: int, account_ids: list[int] | None) -> dict[int, CreditRow]:
    accounts = Account.objects.filter(project_id=project_id)
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    room = dialect.table(Room)
    where, params = _scope("a", project_id, None)
    if account_ids is not None:
        where += f" AND a.id IN ({', '.join(['%s'] * len(account_ids))})"
        params += list(account_ids)
    issue_states = ", ".join(["%s"] * len(OPEN_ISSUE_STATES))
    ticket_states = ", ".join(["%s"] * len(OPEN_TICKET_STATES))
    categories = ", ".join(["%s"] * len(COMPLAINT_CATEGORIES))
    sql = f"""
        SELECT a.id, a.room_id,
               CASE WHEN r.occupancy_state = 'vacant' OR NOT r.handed_over THEN 1 ELSE 0 END,
               (SELECT COUNT(*) FROM {dialect.table(ServiceTicket)} t
                 WHERE t.room_id = a.room_id AND t.state IN ({ticket_states})
                   AND t.category IN ({categories})),
               (SELECT COUNT(*) FROM {dialect.table(LegacyIssue)} i
                 WHERE i.room_id = a.room_id AND i.state IN ({issue_states}))
        FROM {dialect.table(Account)} a JOIN {room} r ON r.id = a.room_id
        WHERE {where}
    """  # noqa: S608 (model table names only)
    found = dialect.fetch(
        sql, [*OPEN_TICKET_STATES, *COMPLAINT_CATEGORIES, *OPEN_ISSUE_STATES, *params]
    )
    return {
        account_id: CreditRow(
            account_id=account_id,
            room_id=room_id,
            vacant=bool(vacant),
            open_complaints=tickets,
            open_legacy_issues=issues,
        )
        for account_id, room_id, vacant, tickets, issues in found
    }


TEMP = "credit_bills_tmp"


def _fen(expr: str) -> str:
    """An amount as text with two decimals ("-0.00" avoided), for the history JSON."""
    if dialect.is_pg():  # numeric: exact, two decimals after ROUND, no negative zero
        return f"CAST(ROUND({expr}, 2) AS TEXT)"
    clean = f"(CASE WHEN ABS({expr}) < 0.005 THEN 0 ELSE {expr} END)"
    return f"printf('%.2f', {clean})"


def _history_json_sql(per_month: str) -> str:
    """One JSON list per account, built by the database: the 24-month history is up to 2.4 million
    (account, month) rows for 100,000 households, too many to shape one by one in Python."""
    late = "(billed - on_time - unpaid)"
    fields = (
        f"'m', m, 'billed', {_fen('billed')}, 'on_time', {_fen('on_time')}, "
        f"'late', {_fen(late)}, 'unpaid', {_fen('unpaid')}"
    )
    if dialect.is_pg():
        item = f"json_build_object({fields})"
        return (
            f"SELECT account_id, CAST(json_agg({item} ORDER BY m) AS TEXT) "  # noqa: S608
            f"FROM ({per_month}) pm GROUP BY account_id"
        )
    return (
        f"SELECT account_id, json_group_array(json_object({fields})) "  # noqa: S608
        f"FROM ({per_month} ORDER BY account_id, m) pm GROUP BY account_id"
    )


def _lit(day: datetime.date) -> str:
    """A date as an SQL literal (built from a ``date``, never from text, so nothing can be injected):
    the aggregates below compare against the same few days many times per row."""
    if not isinstance(day, datetime.date):
        raise TypeError(day)
    return f"DATE '{day.isoformat()}'" if dialect.is_pg() else f"'{day.isoformat()}'"


def _bills(
    rows: dict[int, CreditRow], project_id: int, on: datetime.date, account_ids: list[int] | None
) -> None:
    """Queries 1 and 2: every bill's outstanding and settled day are worked out once into a temporary
    table (one pass over bills, adjustments and allocations), which the per-account and per-month
    aggregates then read. Materializing it matters: SQLite would otherwise recompute the joined
    figures for every condition that mentions them."""
    cte, params = _bills_cte(project_id, account_ids)
    month = dialect.month_text("period_start")
    d_on, since12, since24 = _lit(on), _lit(add_months(on, -11)), _lit(add_months(on, -23))
    settled = "outstanding <= 0"
    # charge: a charge bill that counts at all (not a late fee, not reversed, not zero).
    charge = "kind = 'charge' AND reversals = 0 AND amount > 0"
    counted = f"{charge} AND (due_date < {d_on} OR {settled})"
    overdue = f"outstanding > 0 AND due_date < {d_on}"
    late = f"{counted} AND {settled} AND settled_on > due_date"
    late_days = dialect.days_between("settled_on", "due_date")
    in12 = f"{charge} AND period_start >= {since12} AND period_start <= {d_on}"
    figures = f"""
        SELECT account_id,
          SUM(CASE WHEN {counted} THEN 1 ELSE 0 END),
          SUM(CASE WHEN {counted} AND {settled} AND settled_on <= due_date THEN 1 ELSE 0 END),
          SUM(CASE WHEN {late} THEN 1 ELSE 0 END),
          SUM(CASE WHEN {counted} AND outstanding > 0 THEN 1 ELSE 0 END),
          SUM(CASE WHEN {late} THEN {late_days} ELSE 0 END),
          MAX(CASE WHEN {late} THEN {late_days}
                   WHEN {counted} AND outstanding > 0 THEN {dialect.days_between(d_on, "due_date")} END),
          COUNT(DISTINCT CASE WHEN {charge} AND {overdue} THEN m END),
          COUNT(DISTINCT CASE WHEN {counted} AND period_start >= {since12}
                   AND period_start <= {d_on} AND (outstanding > 0 OR settled_on > due_date)
                   THEN m END),
          SUM(CASE WHEN {overdue} THEN outstanding ELSE 0 END),
          MIN(CASE WHEN {overdue} THEN due_date END),
          SUM(CASE WHEN {counted} AND {settled} AND settled_on < period_start THEN 1 ELSE 0 END),
          SUM(CASE WHEN {in12} THEN net ELSE 0 END),
          COUNT(DISTINCT CASE WHEN {in12} THEN m END)
        FROM {TEMP}
        GROUP BY account_id
    """  # noqa: S608 (model table names and date literals only)
    per_month = f"""
        SELECT account_id, m, ROUND(SUM(net), 2) AS billed,
          ROUND(SUM(CASE WHEN {settled} AND settled_on <= due_date THEN net ELSE 0 END), 2)
            AS on_time,
          ROUND(SUM(CASE WHEN outstanding > 0 THEN outstanding ELSE 0 END), 2) AS unpaid
        FROM {TEMP}
        WHERE {charge} AND period_start >= {since24} AND period_start <= {d_on}
        GROUP BY account_id, m
    """  # noqa: S608
    history = _history_json_sql(per_month)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TEMP}")
        cursor.execute(
            f"CREATE TEMP TABLE {TEMP} AS WITH {cte} SELECT bb.*, {month} AS m FROM bb",  # noqa: S608
            params,
        )
        try:
            cursor.execute(figures)
            for row in cursor.fetchall():
                target = rows.get(row[0])
                if target is None:
                    continue
                target.bills_count = int(row[1] or 0)
                target.on_time_count = int(row[2] or 0)
                target.late_count = int(row[3] or 0)
                target.unpaid_count = int(row[4] or 0)
                target.late_days = int(row[5] or 0)
                target.worst_days_late = int(row[6]) if row[6] is not None else None
                target.months_in_arrears = int(row[7] or 0)
                target.arrears_months_12 = int(row[8] or 0)
                target.overdue_amount = _m(row[9])
                target.oldest_due_date = _as_date(row[10])
                target.paid_ahead_count = int(row[11] or 0)
                target.billed_12 = _m(row[12])
                target.months_billed_12 = int(row[13] or 0)
            cursor.execute(history)
            for account_id, text in cursor.fetchall():
                target = rows.get(account_id)
                if target is not None:
                    # Kept as the database wrote it (months in order): parsing and re-encoding
                    # 100,000 lists would cost more than all the queries.
                    target.history_json = text
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {TEMP}")


def _contacts(
    rows: dict[int, CreditRow], project_id: int, on: datetime.date, account_ids: list[int] | None
) -> None:
    contact, case = dialect.table(ContactRecord), dialect.table(ArrearsCase)
    where, params = _scope("c", project_id, account_ids)
    day = dialect.date_placeholder()
    sql = f"""
        WITH rc AS (
            SELECT c.account_id AS account_id, r.at AS at, r.reached AS reached,
                   r.unreached_reason AS unreached_reason, r.promise_date AS promise_date,
                   {promise_kept.kept_sql("r", "c.account_id")} AS kept
            FROM {contact} r JOIN {case} c ON c.id = r.case_id
            WHERE {where}
              AND NOT EXISTS (SELECT 1 FROM {contact} x WHERE x.corrects_id = r.id)
        ),
        lr AS (
            SELECT account_id, MAX(at) AS last_reached FROM rc WHERE reached GROUP BY account_id
        )
        SELECT rc.account_id, COUNT(*), MAX(rc.at),
          SUM(CASE WHEN NOT rc.reached AND rc.unreached_reason <> ''
                    AND (lr.last_reached IS NULL OR rc.at > lr.last_reached) THEN 1 ELSE 0 END),
          SUM(CASE WHEN rc.promise_date IS NOT NULL THEN 1 ELSE 0 END),
          SUM(rc.kept),
          SUM(CASE WHEN rc.promise_date IS NOT NULL AND rc.kept = 0
                    AND rc.promise_date < {day} THEN 1 ELSE 0 END)
        FROM rc LEFT JOIN lr ON lr.account_id = rc.account_id
        GROUP BY rc.account_id
    """  # noqa: S608 (model table names only)
    for account_id, n, last_at, streak, made, kept, broken in dialect.fetch(
        sql, [*params, dialect.date_param(on)]
    ):
        target = rows.get(account_id)
        if target is None:
            continue
        target.contacts_count = int(n)
        target.last_contact_at = _as_datetime(last_at)
        target.unreached_streak = int(streak or 0)
        target.promises_made = int(made or 0)
        target.promises_kept = int(kept or 0)
        target.promises_broken = int(broken or 0)


def _as_datetime(value: object) -> datetime.datetime | None:
    if value is None or isinstance(value, datetime.datetime):
        return value
    parsed = datetime.datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def _refusals(rows: dict[int, CreditRow], project_id: int, account_ids: list[int] | None) -> None:
    contact, case = dialect.table(ContactRecord), dialect.table(ArrearsCase)
    where, params = _scope("c", project_id, account_ids)
    sql = f"""
        SELECT c.account_id, r.refusal_reason, COUNT(*), MAX(r.at)
        FROM {contact} r JOIN {case} c ON c.id = r.case_id
        WHERE {where} AND r.refusal_reason <> ''
          AND NOT EXISTS (SELECT 1 FROM {contact} x WHERE x.corrects_id = r.id)
        GROUP BY c.account_id, r.refusal_reason
    """  # noqa: S608 (model table names only)
    latest: dict[int, object] = {}
    for account_id, reason, n, last_at in dialect.fetch(sql, params):
        target = rows.get(account_id)
        if target is None:
            continue
        target.refusal_reasons[reason] = int(n)
        target.refusals += int(n)
        if account_id not in latest or str(last_at) > str(latest[account_id]):
            latest[account_id] = last_at
            target.last_refusal_reason = reason


def _money(rows: dict[int, CreditRow], project_id: int, account_ids: list[int] | None) -> None:
    account = dialect.table(Account)
    where, params = _scope("a", project_id, None)
    if account_ids is not None:
        where += f" AND a.id IN ({', '.join(['%s'] * len(account_ids))})"
        params += list(account_ids)
    prepaid = f"""
        SELECT m.account_id, SUM(m.amount)
        FROM {dialect.table(PrepaidMovement)} m JOIN {account} a ON a.id = m.account_id
        WHERE {where}
        GROUP BY m.account_id
    """  # noqa: S608 (model table names only)
    for account_id, total in dialect.fetch(prepaid, params):
        if account_id in rows:
            rows[account_id].prepaid_balance = _m(total)
    where_p, params_p = _scope("p", project_id, account_ids)
    paid = f"""
        SELECT p.account_id, MAX(p.business_date)
        FROM {dialect.table(Payment)} p
        WHERE {where_p}
          AND NOT EXISTS (SELECT 1 FROM {dialect.table(PaymentReversal)} v WHERE v.payment_id = p.id)
        GROUP BY p.account_id
    """  # noqa: S608 (model table names only)
    for account_id, last in dialect.fetch(paid, params_p):
        if account_id in rows:
            rows[account_id].last_payment_on = _as_date(last)


# --- pages -----------------------------------------------------------------------------------------


def credit_file_of_room(room_id: int) -> CreditFile | None:
    """The credit file of whoever pays for the room now (the newest account with a file)."""
    return (
        CreditFile.objects.filter(room_id=room_id)
        .select_related("segment")
        .order_by("-account__created_at", "-account_id")
        .first()
    )


def credit_file_of_account(account_id: int) -> CreditFile | None:
    return CreditFile.objects.filter(account_id=account_id).select_related("segment").first()


def segment_counts(project_id: int) -> dict[int | None, int]:
    """Households per segment (``None``: not segmented), one grouped query."""
    rows = (
        CreditFile.objects.filter(project_id=project_id)
        .order_by()
        .values("segment_id")
        .annotate(n=Count("id"))
        .values_list("segment_id", "n")
    )
    return dict(rows)


def segments_of(project_id: int) -> QuerySet[Segment]:
    return Segment.objects.filter(project_id=project_id).order_by("priority", "id")


def to_money(value: object) -> Decimal:
    return money(to_decimal(value))


# --- presentation helpers (a credit file's 24 months, a segment's strategy in words) ---------------


def history_bars(history: list[dict[str, str]]) -> list[dict[str, object]]:
    """The months of a credit file's history with bar heights in percent of the largest month (at
    most 24 items: plain Python is fine here)."""
    if not history:
        return []
    top = max((to_money(h["billed"]) for h in history), default=ZERO) or Decimal(1)
    bars = []
    for h in history:
        on_time, late, unpaid = (to_money(h[k]) for k in ("on_time", "late", "unpaid"))
        bars.append(
            {
                "m": h["m"],
                "label": h["m"][2:].replace("-", "/"),
                "billed": to_money(h["billed"]),
                "on_time": on_time,
                "late": late,
                "unpaid": unpaid,
                "h_on_time": round(on_time / top * 100),
                "h_late": round(late / top * 100),
                "h_unpaid": round(unpaid / top * 100),
            }
        )
    return bars


def strategy_text(segment: Segment) -> list[str]:
    """The strategy of a segment as short Chinese phrases, for the pages and the case strip."""
    out = []
    if segment.remind_days_before_due and segment.reminder_channel != "none":
        out.append(
            f"到期前 {segment.remind_days_before_due} 天{segment.get_reminder_channel_display()}提醒"
            f"（{segment.get_tone_display()}）"
        )
    else:
        out.append("不做到期前提醒")
    if segment.thank_after_payment:
        out.append("缴费后致谢")
    if segment.first_action == "sms":
        out.append("立案后先发提醒短信再打电话")
    if segment.call_cadence_days:
        out.append(f"每 {segment.call_cadence_days} 天电话跟进")
    if segment.escalate_after_days:
        out.append(f"欠费 {segment.escalate_after_days} 天转上门")
    if segment.offer_direct_debit:
        out.append("推荐银行代扣")
    if segment.offer_pay_ahead:
        out.append("推荐预交优惠")
    return out


def last_computed(project_id: int) -> datetime.datetime | None:
    return (
        CreditFile.objects.filter(project_id=project_id)
        .order_by("-computed_at")
        .values_list("computed_at", flat=True)
        .first()
    )
