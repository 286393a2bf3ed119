"""Credit files (信用档案) and customer segments (客户分群) with their collection strategy.

A ``CreditFile`` is a snapshot derived from the ledger and the contact records, one per payer account;
the ledger stays the authority and the file is recomputed (set-based, ``selectors.credit_rows``) after
payments, contacts and billing runs. A ``Segment`` is a rule stored as data — evaluated in priority
order, first match wins — plus the strategy the dunning run and the reminders apply to its households.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import MONEY, Account
from wuye.core.models import Project
from wuye.registry.models import Room


class ReminderChannel(models.TextChoices):
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")
    NONE = "none", _("不提醒")


class Tone(models.TextChoices):
    FRIENDLY = "friendly", _("亲切提醒")
    NEUTRAL = "neutral", _("常规")
    FIRM = "firm", _("郑重催告")


class FirstAction(models.TextChoices):
    CALL = "call", _("电话提醒")
    SMS = "sms", _("先发提醒短信")


class Segment(models.Model):
    """客户分群: a rule over credit-file figures (every filled-in condition must hold; an empty one
    is not checked) and the strategy for the households it matches."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="segments")
    code = models.CharField(_("编码"), max_length=20)
    name = models.CharField(_("名称"), max_length=30)
    priority = models.PositiveSmallIntegerField(
        _("优先级"), default=100, help_text=_("数字小的先判断；第一个符合的分群生效")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)

    # --- the rule -------------------------------------------------------------------------------
    min_bills = models.PositiveSmallIntegerField(
        _("至少已到期账单数"), null=True, blank=True, help_text=_("账单太少时不下结论")
    )
    min_on_time_ratio = models.DecimalField(
        _("按时缴费率不低于"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    max_on_time_ratio = models.DecimalField(
        _("按时缴费率不高于"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    min_arrears_months_12 = models.PositiveSmallIntegerField(
        _("近12个月逾期月数不少于"), null=True, blank=True
    )
    max_arrears_months_12 = models.PositiveSmallIntegerField(
        _("近12个月逾期月数不多于"), null=True, blank=True
    )
    min_months_in_arrears = models.PositiveSmallIntegerField(
        _("当前欠费月数不少于"), null=True, blank=True
    )
    min_worst_days_late = models.PositiveSmallIntegerField(
        _("最长逾期天数不少于"),
        null=True,
        blank=True,
        help_text=_("“长期拖欠”之类的分群须有真正的长期逾期，而不只是多次晚几天缴"),
    )
    max_months_in_arrears = models.PositiveSmallIntegerField(
        _("当前欠费月数不多于"), null=True, blank=True
    )
    min_overdue_amount = models.DecimalField(
        _("当前欠费不低于(元)"), null=True, blank=True, **MONEY
    )
    dispute_refusal = models.BooleanField(
        _("最近一次拒缴为争议理由"),
        default=False,
        help_text=_(
            "漏水、电梯、开发商遗留、服务质量、金额异议（业主抗辩，须主管研判：《民法典》第九百四十二条）"
        ),
    )
    min_unreached = models.PositiveSmallIntegerField(
        _("连续未联系上次数不少于"), null=True, blank=True
    )
    min_broken_promises = models.PositiveSmallIntegerField(
        _("失约次数不少于"), null=True, blank=True
    )

    # --- the strategy ---------------------------------------------------------------------------
    remind_days_before_due = models.PositiveSmallIntegerField(
        _("到期前几天提醒"), default=3, help_text=_("0 = 不做到期前提醒")
    )
    reminder_channel = models.CharField(
        _("提醒渠道"), max_length=10, choices=ReminderChannel.choices, default=ReminderChannel.SMS
    )
    reminder_template = models.ForeignKey(
        "messaging.MessageTemplate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("提醒模板"),
    )
    tone = models.CharField(_("语气"), max_length=10, choices=Tone.choices, default=Tone.NEUTRAL)
    thank_after_payment = models.BooleanField(_("缴费后致谢"), default=False)
    thank_template = models.ForeignKey(
        "messaging.MessageTemplate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("致谢模板"),
    )
    first_action = models.CharField(
        _("立案后第一步"), max_length=10, choices=FirstAction.choices, default=FirstAction.CALL
    )
    call_cadence_days = models.PositiveSmallIntegerField(
        _("跟进电话间隔(天)"),
        null=True,
        blank=True,
        help_text=_("B/D 类案件多久打一次电话；留空按分类规则"),
    )
    escalate_after_days = models.PositiveSmallIntegerField(
        _("欠费多少天转上门"),
        null=True,
        blank=True,
        help_text=_("替代“欠费持续未缴”升级天数；不得短于立案宽限+首次电话期限"),
    )
    offer_direct_debit = models.BooleanField(_("推荐银行代扣"), default=False)
    offer_pay_ahead = models.BooleanField(_("推荐预交优惠"), default=False)

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("客户分群")
        verbose_name_plural = _("客户分群")
        ordering = ["project_id", "priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "code"], name="segment_code_unique"),
            models.CheckConstraint(
                condition=Q(min_on_time_ratio__isnull=True)
                | Q(min_on_time_ratio__gte=0, min_on_time_ratio__lte=1),
                name="segment_min_ratio_0_1",
            ),
            models.CheckConstraint(
                condition=Q(max_on_time_ratio__isnull=True)
                | Q(max_on_time_ratio__gte=0, max_on_time_ratio__lte=1),
                name="segment_max_ratio_0_1",
            ),
            models.CheckConstraint(
                condition=Q(call_cadence_days__isnull=True) | Q(call_cadence_days__gte=1),
                name="segment_cadence_at_least_a_day",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        pairs = [
            ("min_on_time_ratio", "max_on_time_ratio"),
            ("min_arrears_months_12", "max_arrears_months_12"),
            ("min_months_in_arrears", "max_months_in_arrears"),
        ]
        for low, high in pairs:
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                label = self._meta.get_field(high).verbose_name
                raise ValidationError({high: f"{label}不能小于下限"})


class CreditFile(models.Model):
    """信用档案 of one payer account, derived from bills, allocations and contacts."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="credit_files")
    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="credit_file")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="credit_files")
    as_of = models.DateField(_("统计日期"))
    computed_at = models.DateTimeField(_("计算时间"))

    # Punctuality, over charge bills already due (or already settled), reversed bills left out.
    bills_count = models.PositiveIntegerField(_("已到期账单数"), default=0)
    on_time_count = models.PositiveIntegerField(_("按时缴清"), default=0)
    late_count = models.PositiveIntegerField(_("逾期后缴清"), default=0)
    unpaid_count = models.PositiveIntegerField(_("逾期未清"), default=0)
    on_time_ratio = models.DecimalField(
        _("按时缴费率"), max_digits=5, decimal_places=4, null=True, blank=True
    )
    avg_days_late = models.DecimalField(
        _("平均逾期天数"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    worst_days_late = models.PositiveIntegerField(_("最长逾期天数"), null=True, blank=True)
    months_in_arrears = models.PositiveSmallIntegerField(_("当前欠费月数"), default=0)
    arrears_months_12 = models.PositiveSmallIntegerField(_("近12个月逾期月数"), default=0)
    overdue_amount = models.DecimalField(_("当前欠费"), default=0, **MONEY)
    oldest_due_date = models.DateField(_("最早欠费到期日"), null=True, blank=True)
    paid_ahead_count = models.PositiveIntegerField(_("账期开始前缴清的账单"), default=0)
    prepaid_balance = models.DecimalField(_("预存款余额"), default=0, **MONEY)
    prepaid_months = models.DecimalField(
        _("预存可抵月数"), max_digits=6, decimal_places=1, default=0
    )
    last_payment_on = models.DateField(_("最近缴费日"), null=True, blank=True)

    # Contacts (dunning.ContactRecord, corrected records left out).
    contacts_count = models.PositiveIntegerField(_("催缴联系次数"), default=0)
    unreached_streak = models.PositiveSmallIntegerField(_("连续未联系上"), default=0)
    last_contact_at = models.DateTimeField(_("最近联系"), null=True, blank=True)
    promises_made = models.PositiveSmallIntegerField(_("承诺次数"), default=0)
    promises_kept = models.PositiveSmallIntegerField(_("守约次数"), default=0)
    promises_broken = models.PositiveSmallIntegerField(_("失约次数"), default=0)
    refusals = models.PositiveSmallIntegerField(_("拒缴次数"), default=0)
    refusal_reasons = models.JSONField(_("拒缴理由统计"), default=dict, blank=True)
    last_refusal_reason = models.CharField(_("最近拒缴理由"), max_length=20, blank=True)

    # The household's situation.
    open_complaints = models.PositiveSmallIntegerField(_("未结报修/投诉"), default=0)
    open_legacy_issues = models.PositiveSmallIntegerField(_("未解决遗留问题"), default=0)
    vacant = models.BooleanField(_("空置"), default=False)

    # Per billing month, oldest first: {"m": "2025-03", "billed": "…", "on_time": "…", "late": "…",
    # "unpaid": "…"} for the last 24 months (amounts as strings, never floats).
    history = models.JSONField(_("月度记录"), default=list, blank=True)

    segment = models.ForeignKey(
        Segment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="credit_files",
        verbose_name=_("分群"),
    )
    segment_reason = models.CharField(_("分群依据"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("信用档案")
        verbose_name_plural = _("信用档案")
        indexes = [
            models.Index(fields=["project", "segment"], name="credit_project_segment_idx"),
        ]

    def __str__(self) -> str:
        return f"信用档案 {self.account_id}"

    @property
    def on_time_percent(self) -> int | None:
        return None if self.on_time_ratio is None else round(self.on_time_ratio * 100)
