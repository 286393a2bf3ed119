"""Fee items, standards, readings, billing runs, accounts and bills.

Bills are append-only: a mistake is never edited or deleted, it is answered by a ``BillAdjustment``
(reversal, discount, waiver, compensation). What a bill still asks for is a sum, computed in selectors.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.billing.enums import (
    AdjustmentKind,
    AreaBasis,
    BillKind,
    ChargeMethod,
    Cycle,
    NotHandedOverPolicy,
    RunStatus,
    VacancyPolicy,
)
from wuye.core.models import Company, Project
from wuye.core.money import ROUNDING_CHOICES
from wuye.registry.enums import RoomUse
from wuye.registry.models import Person, Room

MONEY = {"max_digits": 14, "decimal_places": 2}
PRICE = {"max_digits": 14, "decimal_places": 4}


# LAW.md §6: a project's late-fee cap is at most 1.5 × the one-year LPR a year (it may only lower it);
# the computation (wuye.ledger.selectors.late_fees) and the rule's settings both hold to it.
LAW_MAX_CAP_MULTIPLIER = Decimal("1.5")
DAYS_PER_YEAR = Decimal(365)


class FeeItem(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="fee_items")
    code = models.CharField(_("项目编码"), max_length=20)
    name = models.CharField(_("收费项目"), max_length=40)
    method = models.CharField(_("计费方式"), max_length=20, choices=ChargeMethod.choices)
    area_basis = models.CharField(
        _("计费面积"), max_length=10, choices=AreaBasis.choices, default=AreaBasis.GROSS
    )
    cycle = models.CharField(
        _("计费周期"), max_length=20, choices=Cycle.choices, default=Cycle.MONTH
    )
    due_days = models.PositiveSmallIntegerField(
        _("缴费期限(天)"), default=14, help_text=_("账期开始后第几天到期，0 表示账期首日到期")
    )
    rounding = models.CharField(
        _("舍入规则"), max_length=10, choices=ROUNDING_CHOICES, default="half_up"
    )
    uses = models.JSONField(
        _("适用房屋用途"),
        default=list,
        blank=True,
        help_text=_('留空表示全部用途，如 ["residence", "shop"]'),
    )
    vacancy_policy = models.CharField(
        _("空置房政策"), max_length=20, choices=VacancyPolicy.choices, default=VacancyPolicy.FULL
    )
    vacancy_rate = models.DecimalField(
        _("空置房收费比例"),
        max_digits=5,
        decimal_places=4,
        default=1,
        help_text=_("按比例减收时收取的比例，如 0.7 表示收七成；须有合同或地方规定依据"),
    )
    not_handed_over_policy = models.CharField(
        _("未收楼政策"),
        max_length=20,
        choices=NotHandedOverPolicy.choices,
        default=NotHandedOverPolicy.DEVELOPER,
    )
    not_handed_over_rate = models.DecimalField(
        _("未收楼收费比例"), max_digits=5, decimal_places=4, default=1
    )
    prorate_from_handover = models.BooleanField(_("自收楼日起按天计费"), default=True)
    late_fee_applies = models.BooleanField(_("计收滞纳金"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("收费项目")
        verbose_name_plural = _("收费项目")
        ordering = ["project_id", "sort", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "code"], name="fee_item_code_unique_in_project"
            ),
            models.CheckConstraint(
                condition=Q(vacancy_rate__gte=0, vacancy_rate__lte=1),
                name="fee_item_vacancy_rate_0_1",
            ),
            models.CheckConstraint(
                condition=Q(not_handed_over_rate__gte=0, not_handed_over_rate__lte=1),
                name="fee_item_nho_rate_0_1",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FeeStandard(models.Model):
    """A unit price for a fee item and room use over a date range (收费标准)."""

    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="standards")
    room_use = models.CharField(
        _("房屋用途"),
        max_length=20,
        choices=RoomUse.choices,
        blank=True,
        help_text=_("留空表示所有用途"),
    )
    unit_price = models.DecimalField(_("单价"), **PRICE)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(
        _("失效日期"), null=True, blank=True, help_text=_("含当天；留空表示长期有效")
    )
    note = models.CharField(_("依据/备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("收费标准")
        verbose_name_plural = _("收费标准")
        ordering = ["fee_item_id", "room_use", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="standard_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="standard_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["fee_item", "room_use", "valid_from"], name="standard_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fee_item} {self.unit_price}"


class MeterReading(models.Model):
    """A room's meter reading for a period. A lower reading is refused unless a replacement is recorded."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="meter_readings")
    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="readings")
    period_start = models.DateField(_("账期"))
    previous = models.DecimalField(_("上期读数"), max_digits=14, decimal_places=2)
    current = models.DecimalField(_("本期读数"), max_digits=14, decimal_places=2)
    replaced = models.BooleanField(_("本期换表"), default=False)
    old_meter_final = models.DecimalField(
        _("旧表止码"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    new_meter_start = models.DecimalField(
        _("新表起码"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    read_on = models.DateField(_("抄表日期"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("抄表读数")
        verbose_name_plural = _("抄表读数")
        constraints = [
            models.UniqueConstraint(
                fields=["room", "fee_item", "period_start"], name="one_reading_per_room_item_period"
            ),
            models.CheckConstraint(
                condition=Q(replaced=True) | Q(current__gte=models.F("previous")),
                name="reading_not_below_previous_without_replacement",
            ),
            models.CheckConstraint(
                condition=Q(replaced=False)
                | Q(old_meter_final__isnull=False, new_meter_start__isnull=False),
                name="replacement_has_final_and_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id} {self.period_start:%Y-%m} {self.previous}→{self.current}"

    @property
    def usage(self):
        if self.replaced:
            return (self.old_meter_final - self.previous) + (self.current - self.new_meter_start)
        return self.current - self.previous


class SharedCharge(models.Model):
    """A common meter's cost for a period (公摊), spread over rooms by area with the largest remainder."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="shared_charges")
    period_start = models.DateField(_("账期"))
    building = models.ForeignKey(
        "registry.Building",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text=_("留空表示全小区分摊"),
    )
    total = models.DecimalField(_("分摊总额"), **MONEY)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("公摊费用")
        verbose_name_plural = _("公摊费用")
        constraints = [
            models.UniqueConstraint(
                fields=["fee_item", "period_start", "building"], name="one_shared_charge_per_scope"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="shared_total_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.fee_item_id} {self.period_start:%Y-%m} 分摊 {self.total}"


class Account(models.Model):
    """A payer account: who pays for which room (the owner, a paying tenant, or the developer)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="accounts")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="accounts")
    payer = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="accounts")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("缴费账户")
        verbose_name_plural = _("缴费账户")
        constraints = [
            models.UniqueConstraint(fields=["room", "payer"], name="one_account_per_room_payer"),
        ]

    def __str__(self) -> str:
        return f"{self.room} {self.payer}"


class BillingRun(models.Model):
    """One batch of bills for a project and a month: previewed, committed by a task, reversible."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="billing_runs")
    period_start = models.DateField(_("账期（月）"))
    revision = models.PositiveSmallIntegerField(_("版次"), default=0)
    status = models.CharField(
        _("状态"), max_length=20, choices=RunStatus.choices, default=RunStatus.PREVIEWED
    )
    preview = models.JSONField(_("预览"), default=dict, blank=True)
    total_count = models.PositiveIntegerField(_("应生成账单数"), default=0)
    done_count = models.PositiveIntegerField(_("已生成"), default=0)
    total_amount = models.DecimalField(_("应收合计"), default=0, **MONEY)
    error = models.TextField(_("错误"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(_("生成时间"), null=True, blank=True)
    reversed_at = models.DateTimeField(_("冲红时间"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reverse_reason = models.CharField(_("冲红原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("计费批次")
        verbose_name_plural = _("计费批次")
        ordering = ["-period_start", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "period_start", "revision"], name="one_run_per_period_revision"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.period_start:%Y-%m}"


class Bill(models.Model):
    """A charge for one account, room, fee item and period (应收). Append-only.

    Bills are the largest table (tens of millions of rows), so foreign keys whose lookups a composite
    index already answers (project, account) or that nothing looks up by (created_by) carry no index of
    their own: every index is paid for on each of the hundreds of thousands of rows a billing run writes.
    """

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="bills", db_index=False
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="bills", db_index=False
    )
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="bills")
    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="bills")
    kind = models.CharField(
        _("类型"), max_length=10, choices=BillKind.choices, default=BillKind.CHARGE
    )
    period_start = models.DateField(_("账期开始"))
    period_end = models.DateField(_("账期结束"))
    quantity = models.DecimalField(
        _("计费数量"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    unit_price = models.DecimalField(_("单价"), null=True, blank=True, **PRICE)
    amount = models.DecimalField(_("应收金额"), **MONEY)
    due_date = models.DateField(_("到期日"))
    description = models.CharField(_("说明"), max_length=200, blank=True)
    run = models.ForeignKey(
        BillingRun, on_delete=models.PROTECT, null=True, blank=True, related_name="bills"
    )
    revision = models.PositiveSmallIntegerField(_("版次"), default=0)
    late_fee_for = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="late_fee_bills"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("账单")
        verbose_name_plural = _("账单")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "fee_item", "period_start", "revision"],
                condition=Q(kind="charge"),
                name="one_bill_per_account_item_period",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="bill_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="bill_period_ordered"
            ),
            models.CheckConstraint(
                condition=Q(kind="charge") | Q(late_fee_for__isnull=False),
                name="late_fee_bill_names_its_bill",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "due_date"], name="bill_account_due_idx"),
            models.Index(fields=["project", "due_date"], name="bill_project_due_idx"),
            models.Index(fields=["project", "period_start"], name="bill_project_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.room} {self.fee_item} {self.period_start:%Y-%m}"


class BillAdjustment(models.Model):
    """Lowers what a bill asks for: a reversal (冲红), a discount, a waiver (减免) or a compensation."""

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="adjustments")
    kind = models.CharField(_("类型"), max_length=20, choices=AdjustmentKind.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    effective_date = models.DateField(_("入账日期"))
    reason = models.CharField(_("原因"), max_length=200)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("审批人"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    run = models.ForeignKey(
        BillingRun, on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("账单调整")
        verbose_name_plural = _("账单调整")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="adjustment_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="adjustment_has_reason"),
            models.UniqueConstraint(
                fields=["bill"], condition=Q(kind="reversal"), name="bill_reversed_once"
            ),
        ]
        indexes = [models.Index(fields=["bill", "effective_date"], name="adjustment_bill_date_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}（{self.reason}）"


class LateFeeRule(models.Model):
    """The contract's late-fee terms for a project (LAW.md §6): simple interest, capped."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="late_fee_rule")
    enabled = models.BooleanField(_("合同约定滞纳金"), default=False)
    daily_rate = models.DecimalField(
        _("合同日利率"),
        max_digits=8,
        decimal_places=6,
        default=0,
        help_text=_("如 0.0003 表示每日万分之三"),
    )
    grace_days = models.PositiveSmallIntegerField(_("宽限天数"), default=30)
    start_date = models.DateField(_("起算日期"), help_text=_("此日期前到期的账单不计滞纳金"))
    cap_multiplier = models.DecimalField(
        _("上限倍数(×一年期LPR)"),
        max_digits=4,
        decimal_places=2,
        default=1.5,
        help_text=_("最高 1.5 倍；可调低，不可调高"),
    )

    class Meta:
        verbose_name = _("滞纳金规则")
        verbose_name_plural = _("滞纳金规则")
        constraints = [
            models.CheckConstraint(condition=Q(daily_rate__gte=0), name="late_rate_not_negative"),
            # LAW.md §6: at most 1.5 × the one-year LPR a year; a project may only lower it.
            models.CheckConstraint(
                condition=Q(cap_multiplier__gt=0, cap_multiplier__lte=LAW_MAX_CAP_MULTIPLIER),
                name="late_cap_at_most_1_5_lpr",
                violation_error_message=_("滞纳金上限倍数须大于 0 且不超过 1.5"),
            ),
        ]

    def __str__(self) -> str:
        return f"滞纳金规则 日{self.daily_rate} 宽限{self.grace_days}天"


class LprRate(models.Model):
    """The one-year Loan Prime Rate, editable as it changes (LAW.md §6)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="lpr_rates")
    effective_from = models.DateField(_("生效日期"))
    annual_rate = models.DecimalField(
        _("一年期LPR"), max_digits=6, decimal_places=4, help_text=_("如 0.0300 表示 3.00%")
    )

    class Meta:
        verbose_name = _("一年期LPR")
        verbose_name_plural = _("一年期LPR")
        ordering = ["-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["company", "effective_from"], name="one_lpr_per_day"),
            models.CheckConstraint(
                condition=Q(annual_rate__gt=0, annual_rate__lt=1), name="lpr_between_0_and_1"
            ),
        ]

    def __str__(self) -> str:
        return f"LPR {self.annual_rate} 自 {self.effective_from}"


class LateFeeWaiver(models.Model):
    """Forgives accrued late fee on a bill, with a reason and an approver."""

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="late_fee_waivers")
    amount = models.DecimalField(_("减免金额"), **MONEY)
    effective_date = models.DateField(_("入账日期"))
    reason = models.CharField(_("原因"), max_length=200)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("滞纳金减免")
        verbose_name_plural = _("滞纳金减免")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="late_waiver_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="late_waiver_has_reason"),
        ]

    def __str__(self) -> str:
        return f"滞纳金减免 {self.amount}（{self.reason}）"


class PayAheadRule(models.Model):
    """A discount for paying N months ahead (LAW.md §11: lawful; a project may cap the months)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="pay_ahead_rules")
    fee_item = models.ForeignKey(FeeItem, on_delete=models.PROTECT, related_name="pay_ahead_rules")
    name = models.CharField(_("名称"), max_length=60)
    min_months = models.PositiveSmallIntegerField(_("预交月数"))
    discount_rate = models.DecimalField(
        _("折扣比例"), max_digits=5, decimal_places=4, default=0, help_text=_("如 0.05 表示优惠 5%")
    )
    free_months = models.PositiveSmallIntegerField(_("赠送月数"), default=0)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("预交优惠")
        verbose_name_plural = _("预交优惠")
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_rate__gte=0, discount_rate__lt=1), name="pay_ahead_rate_0_1"
            ),
            models.CheckConstraint(
                condition=Q(min_months__gte=1), name="pay_ahead_at_least_a_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}"


class ProjectBillingSettings(models.Model):
    """Per-project billing switches."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="billing_settings"
    )
    auto_consume_prepaid = models.BooleanField(_("新账单自动抵扣预存款"), default=True)
    # The scheduler (wuye.ops) bills the month by itself on this day when switched on; off by
    # default: a company turns it on once its fee settings are checked (docs/operations/schedule.md).
    auto_billing = models.BooleanField(
        _("每月自动计费"), default=False, help_text=_("开启后，系统在每月的自动计费日生成当月账单")
    )
    auto_billing_day = models.PositiveSmallIntegerField(
        _("自动计费日"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("每月几号（1–28）"),
    )
    max_prepay_months = models.PositiveSmallIntegerField(
        _("预交上限(月)"), default=12, help_text=_("地方规定可能限制预收月数")
    )
    payment_instructions = models.TextField(
        _("缴费方式说明"),
        blank=True,
        default="可到物业服务中心收费窗口缴纳（现金、微信、支付宝、银行卡），或银行转账。",
    )

    class Meta:
        verbose_name = _("项目收费设置")
        verbose_name_plural = _("项目收费设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(auto_billing_day__gte=1, auto_billing_day__lte=28),
                name="billing_auto_day_1_to_28",
            ),
        ]

    def __str__(self) -> str:
        return f"收费设置 {self.project_id}"
