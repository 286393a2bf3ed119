"""Collection targets (收费计划, 分解指标). Summary tables for fast reports live beside them.

A plan is one project's annual target; its lines split the year by month or quarter and, where a
line names one, by steward or collection team (责任到人). A line without steward or team is the
project's own figure for that period.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import MONEY
from wuye.core.models import Project
from wuye.dunning.models import CollectionTeam


class PlanSplit(models.TextChoices):
    MONTH = "month", _("按月")
    QUARTER = "quarter", _("按季度")


class CollectionPlan(models.Model):
    """收费计划: what a project means to collect in a year."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="collection_plans")
    year = models.PositiveSmallIntegerField(_("年度"))
    split = models.CharField(
        _("分解方式"), max_length=10, choices=PlanSplit.choices, default=PlanSplit.MONTH
    )
    target_amount = models.DecimalField(_("年度实收目标(本金)"), **MONEY)
    target_rate = models.DecimalField(
        _("目标综合收缴率(%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("收费计划")
        verbose_name_plural = _("收费计划")
        ordering = ["-year", "project_id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "year"], name="one_plan_per_project_year"),
            models.CheckConstraint(
                condition=Q(target_amount__gte=0), name="plan_target_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(target_rate__isnull=True) | Q(target_rate__gte=0, target_rate__lte=100),
                name="plan_rate_is_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.year} 年收费计划"


class PlanTarget(models.Model):
    """分解指标: the share of a plan for one month or quarter, optionally for one steward or team."""

    plan = models.ForeignKey(CollectionPlan, on_delete=models.CASCADE, related_name="targets")
    period_no = models.PositiveSmallIntegerField(_("月份/季度"))
    steward = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("责任人"),
    )
    team = models.ForeignKey(
        CollectionTeam,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("催收小组"),
    )
    amount = models.DecimalField(_("实收目标(本金)"), **MONEY)
    households = models.PositiveIntegerField(_("目标缴清户数"), null=True, blank=True)

    class Meta:
        verbose_name = _("分解指标")
        verbose_name_plural = _("分解指标")
        ordering = ["plan_id", "period_no", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_no__gte=1, period_no__lte=12), name="target_period_in_year"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="target_not_negative"),
            models.CheckConstraint(
                condition=Q(steward__isnull=True) | Q(team__isnull=True),
                name="target_steward_or_team",
            ),
            models.UniqueConstraint(
                fields=["plan", "period_no"],
                condition=Q(steward__isnull=True, team__isnull=True),
                name="one_project_target_per_period",
            ),
            models.UniqueConstraint(
                fields=["plan", "period_no", "steward"],
                condition=Q(steward__isnull=False),
                name="one_steward_target_per_period",
            ),
            models.UniqueConstraint(
                fields=["plan", "period_no", "team"],
                condition=Q(team__isnull=False),
                name="one_team_target_per_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} #{self.period_no} {self.amount}"


# --- summary tables (wuye.reports.summary_*; docs/decisions/0004-report-summaries.md) ----------------
#
# Derived from the append-only ledger, refreshed incrementally, rebuilt at will
# (``report_summary_refresh --full``) and proved equal to the live SQL by ``report_summary_check``.
# Money is kept in fen (integers) so sums are exact on SQLite too. Plain integer ids, no foreign
# keys: these rows are written in bulk and never looked up from the other side.

BILL_ROW_MONTH = "1900-01-01"  # event_month of the rows that hold bill amounts (not an event)


class SummaryState(models.Model):
    """How far the summaries have read one ledger table: every id ≤ ``watermark`` except those in
    ``gaps`` ([lo, hi, first seen] ranges of ids not committed yet when last read)."""

    source = models.CharField(max_length=20, unique=True)
    watermark = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=list, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("报表汇总进度")
        verbose_name_plural = _("报表汇总进度")

    def __str__(self) -> str:
        return f"{self.source} ≤ {self.watermark}"


def _fact_key(group: str) -> list[str]:
    """The key of a fact table: project, its group column (building or steward), then the rest."""
    rest = ["fee_item_id", "kind", "developer", "period_start", "due_date", "event_month"]
    return ["project_id", group, *rest]


class _Facts(models.Model):
    """Sums of bills (event_month = 1900-01-01) and of their adjustments and allocations by the month
    of their effective date, per group, fee item, kind, payer type, period and due date."""

    project_id = models.IntegerField()
    fee_item_id = models.IntegerField()
    kind = models.CharField(max_length=10)
    developer = models.BooleanField()
    period_start = models.DateField()
    due_date = models.DateField()
    event_month = models.DateField()
    billed_fen = models.BigIntegerField(default=0)
    adjusted_fen = models.BigIntegerField(default=0)
    received_fen = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class BillFact(_Facts):
    """The facts per building."""

    building_id = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=_fact_key("building_id"), name="bill_fact_key")
        ]
        indexes = [
            models.Index(fields=["project_id", "period_start"], name="bill_fact_period_idx"),
            models.Index(fields=["project_id", "due_date"], name="bill_fact_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.building_id} {self.fee_item_id} {self.period_start} @{self.event_month}"


class OpenBill(models.Model):
    """Every bill whose outstanding after all summarised entries is not zero (in fen)."""

    bill_id = models.BigIntegerField(primary_key=True)
    account_id = models.IntegerField()
    project_id = models.IntegerField()
    building_id = models.IntegerField()
    fee_item_id = models.IntegerField()
    kind = models.CharField(max_length=10)
    developer = models.BooleanField()
    period_start = models.DateField()
    due_date = models.DateField()
    outstanding_fen = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["project_id", "due_date"], name="open_bill_due_idx"),
            models.Index(fields=["account_id"], name="open_bill_account_idx"),
            models.Index(fields=["period_start", "due_date"], name="open_bill_period_idx"),
            # MonthOwing recounts the buildings and months a refresh touched.
            models.Index(fields=["building_id", "period_start"], name="open_bill_building_idx"),
        ]

    def __str__(self) -> str:
        return f"bill {self.bill_id}: {self.outstanding_fen} fen"


class LateEvent(models.Model):
    """Adjustments and allocations dated after their bill's due date (``amount_fen`` lowers what the
    bill asks for; a reversal's row is negative). With OpenBill they give any overdue bill's
    outstanding on any date on or after its due date: o(D) = o(now) + Σ late events after D."""

    source = models.CharField(max_length=10)  # "adjustment" or "allocation"
    event_id = models.BigIntegerField()
    bill_id = models.BigIntegerField()
    account_id = models.IntegerField()
    project_id = models.IntegerField()
    building_id = models.IntegerField()
    fee_item_id = models.IntegerField()
    kind = models.CharField(max_length=10)
    developer = models.BooleanField()
    period_start = models.DateField()
    due_date = models.DateField()
    effective_date = models.DateField()
    amount_fen = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="late_event_once")
        ]
        indexes = [
            models.Index(fields=["effective_date"], name="late_event_date_idx"),
            models.Index(fields=["period_start", "effective_date"], name="late_event_period_idx"),
            models.Index(fields=["bill_id", "effective_date"], name="late_event_bill_idx"),
            models.Index(fields=["building_id", "period_start"], name="late_event_building_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.event_id} → bill {self.bill_id}"


class IrregularBill(models.Model):
    """Bills that may owe less than nothing on some date (a reversed allocation, or a negative
    balance): their opening arrears are computed one by one, the rest come from BillFact sums."""

    bill_id = models.BigIntegerField(primary_key=True)

    def __str__(self) -> str:
        return f"bill {self.bill_id}"


class AccountSpan(models.Model):
    """First and last period an account is billed (principal) for a fee item on bills naming rooms of
    one building; ``monthly`` when it is billed there on the first of every month in between, so
    "billed in a window" is a date comparison. An account whose bills of one item name rooms of two
    buildings (a room change, a shared payer) has a row for each: a group's households are counted
    on that group's bills (docs/decisions/0020-dashboard-rollups.md, amendment)."""

    account_id = models.IntegerField()
    fee_item_id = models.IntegerField()
    project_id = models.IntegerField()
    building_id = models.IntegerField()
    developer = models.BooleanField()
    first_period = models.DateField()
    last_period = models.DateField()
    monthly = models.BooleanField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account_id", "fee_item_id", "building_id"], name="account_span_key"
            )
        ]
        indexes = [
            models.Index(fields=["project_id", "last_period"], name="account_span_project_idx")
        ]

    def __str__(self) -> str:
        return f"account {self.account_id}: {self.first_period}–{self.last_period}"


class StewardFact(_Facts):
    """BillFact added up per steward instead of per building (``steward_id`` 0: no steward), by the
    buildings' stewards in BuildingSteward: company, project, steward, team and fee-item questions
    read a few hundred thousand rows at most instead of millions. A building that changes steward has
    its facts moved on the next refresh (reports catch up on read)."""

    steward_id = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=_fact_key("steward_id"), name="steward_fact_key")
        ]

    def __str__(self) -> str:
        return f"steward {self.steward_id} {self.period_start} @{self.event_month}"


class BuildingSteward(models.Model):
    """The steward each building's facts are filed under in StewardFact (0: none)."""

    building_id = models.IntegerField(primary_key=True)
    project_id = models.IntegerField()
    steward_id = models.IntegerField()

    def __str__(self) -> str:
        return f"building {self.building_id} → {self.steward_id}"


class AccountDebt(models.Model):
    """What each account owes on one report date (RollupState "debt".as_of), per building: overdue
    principal by aging bucket (bills due before the date), the oldest such due date and their number,
    unpaid late fees due by the date, and the first and last period of its principal bills due by the
    date and still owing. Aging, top debtors, arrears by class and reason and the household rate on
    that date read these (one row per debtor) instead of every open bill."""

    account_id = models.IntegerField()
    building_id = models.IntegerField()
    project_id = models.IntegerField()
    developer = models.BooleanField()
    b0_fen = models.BigIntegerField(default=0)
    b1_fen = models.BigIntegerField(default=0)
    b2_fen = models.BigIntegerField(default=0)
    b3_fen = models.BigIntegerField(default=0)
    b4_fen = models.BigIntegerField(default=0)
    b5_fen = models.BigIntegerField(default=0)
    principal_fen = models.BigIntegerField(default=0)
    bills = models.IntegerField(default=0)
    oldest_due = models.DateField(null=True)
    late_fee_fen = models.BigIntegerField(default=0)
    first_period = models.DateField(null=True)
    last_period = models.DateField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account_id", "building_id"], name="account_debt_key")
        ]
        indexes = [models.Index(fields=["project_id"], name="account_debt_project_idx")]

    def __str__(self) -> str:
        return f"account {self.account_id}: {self.principal_fen} fen"


class RollupState(models.Model):
    """State of a roll-up above the summaries: "debt" — the report date AccountDebt was computed for."""

    name = models.CharField(max_length=20, unique=True)
    as_of = models.DateField(null=True)
    built_at = models.DateTimeField(null=True)
    # "debt": accounts with rows in more than one building (their bills name different rooms); while
    # there are none, an account is one row and a group's accounts are counted without grouping.
    shared_accounts = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} {self.as_of}"


class IrregularSpell(models.Model):
    """A stretch of days on which an irregular bill owed less than nothing: from ``starts`` up to the
    day before ``ends`` (open: still) it stood at −``owed_fen``. Opening arrears take each bill's
    positive part only, so these are what the signed BillFact sums over-count on a day; reading them
    is an index lookup instead of recomputing every irregular bill's outstanding."""

    bill_id = models.BigIntegerField()
    starts = models.DateField()
    ends = models.DateField(null=True)
    owed_fen = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bill_id", "starts"], name="irregular_spell_key")
        ]
        indexes = [models.Index(fields=["starts"], name="irregular_spell_starts_idx")]

    def __str__(self) -> str:
        return f"bill {self.bill_id} −{self.owed_fen} from {self.starts}"


class AccountOwing(models.Model):
    """What each account owes on AccountDebt's date, whatever the due date: the first and last period
    of its principal bills unpaid on that date, per building. The household rate's "paid everything"
    count reads it when a window's bills are not all due yet (early in a month), instead of every
    open bill of the window (docs/decisions/0019-households-owing-rollups.md)."""

    account_id = models.IntegerField()
    building_id = models.IntegerField()
    project_id = models.IntegerField()
    first_period = models.DateField()
    last_period = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account_id", "building_id"], name="account_owing_key")
        ]
        indexes = [models.Index(fields=["project_id"], name="account_owing_project_idx")]

    def __str__(self) -> str:
        return f"account {self.account_id}: {self.first_period}–{self.last_period}"


class MonthOwing(models.Model):
    """Per building and month: the accounts owing, at the month's end, on principal bills of that
    month's periods due by then (the household rate's "behind" count of a month's window on its last
    day, as ``rate_trend`` asks for every month but the current one). A figure of the ledger rows
    alone (no report date): a refresh recounts the buildings and months of the bills it touched."""

    month = models.DateField()
    building_id = models.IntegerField()
    project_id = models.IntegerField()
    accounts = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "building_id"], name="month_owing_key")
        ]

    def __str__(self) -> str:
        return f"{self.month} building {self.building_id}: {self.accounts}"


class BilledRange(models.Model):
    """Per (project, building, first period, last period): how many accounts were billed principal in
    exactly the months of that range — every month from the first to the last, on the 1st, by one or
    several fee items — and all in that building. "Households billed in a window" is then a sum over a
    few thousand rows instead of a distinct count over every AccountSpan row; the accounts not so
    regular are listed in BilledIrregular and counted from AccountSpan
    (docs/decisions/0020-dashboard-rollups.md)."""

    project_id = models.IntegerField()
    building_id = models.IntegerField()
    first_period = models.DateField()
    last_period = models.DateField()
    accounts = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project_id", "building_id", "first_period", "last_period"],
                name="billed_range_key",
            )
        ]

    def __str__(self) -> str:
        return (
            f"building {self.building_id} {self.first_period}–{self.last_period}: {self.accounts}"
        )


class BilledIrregular(models.Model):
    """The accounts BilledRange does not count: billed on another day than the 1st or with a month
    missing between their first and last period, or billed in two buildings (their AccountSpan rows
    answer, one by one)."""

    account_id = models.IntegerField(primary_key=True)

    def __str__(self) -> str:
        return f"account {self.account_id}"


class OwedRange(models.Model):
    """AccountDebt's and AccountOwing's rows counted per (project, building, first period, last
    period owed), on that roll-up's date (``rollup``: "debt" or "owing"): while no account has rows in
    two buildings, the household rate's "behind" and "paid everything" counts are sums over these
    (≈ 100,000 rows at 1,000,000 rooms) instead of counts over every debtor's row
    (docs/decisions/0020-dashboard-rollups.md)."""

    rollup = models.CharField(max_length=10)
    project_id = models.IntegerField()
    building_id = models.IntegerField()
    first_period = models.DateField()
    last_period = models.DateField()
    accounts = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rollup", "project_id", "building_id", "first_period", "last_period"],
                name="owed_range_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rollup} building {self.building_id} {self.first_period}–{self.last_period}"


class DebtTotal(models.Model):
    """AccountDebt added up per project, building and payer type, on its date (RollupState
    "debt_totals".as_of): the overdue principal of each aging bucket with the accounts owing in it,
    the overdue principal and the accounts owing any. While no account has rows in two buildings, a
    group's aging is a sum over these (≈ 20,000 rows at 1,000,000 rooms) instead of over every
    debtor's row (docs/decisions/0020-dashboard-rollups.md)."""

    project_id = models.IntegerField()
    building_id = models.IntegerField()
    developer = models.BooleanField()
    b0_fen = models.BigIntegerField()
    b1_fen = models.BigIntegerField()
    b2_fen = models.BigIntegerField()
    b3_fen = models.BigIntegerField()
    b4_fen = models.BigIntegerField()
    b5_fen = models.BigIntegerField()
    n0 = models.IntegerField()
    n1 = models.IntegerField()
    n2 = models.IntegerField()
    n3 = models.IntegerField()
    n4 = models.IntegerField()
    n5 = models.IntegerField()
    principal_fen = models.BigIntegerField()
    accounts = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project_id", "building_id", "developer"], name="debt_total_key"
            )
        ]

    def __str__(self) -> str:
        return f"building {self.building_id} developer={self.developer}: {self.principal_fen} fen"
