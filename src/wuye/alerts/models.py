"""Success stories (经验库), early warnings (预警) and the log of courtesy messages (reminders before a
due date and thanks after a payment)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.alerts import CourtesyKind, CourtesyStatus, WarningKind
from wuye.core.models import Project
from wuye.dunning.enums import Channel, RefusalReason

USER = settings.AUTH_USER_MODEL


class SuccessStory(models.Model):
    """A closed case a steward holds up as a good example: what worked, against which refusal and by
    which channel. Shown to other stewards beside the talking points of that refusal reason, without
    the household's name, room or amount (PIPL art. 25, LAW.md §2)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    case = models.OneToOneField(
        "dunning.ArrearsCase",
        on_delete=models.PROTECT,
        related_name="success_story",
        verbose_name=_("案件"),
    )
    refusal_reason = models.CharField(
        _("克服的拒缴理由"), max_length=20, choices=RefusalReason.choices, blank=True
    )
    channel = models.CharField(_("奏效的方式"), max_length=20, choices=Channel.choices, blank=True)
    what_worked = models.TextField(_("做法与经验"))
    by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("分享人")
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("成功案例")
        verbose_name_plural = _("经验库")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "refusal_reason"], name="story_project_reason_idx")
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(what_worked=""), name="story_text_required"),
        ]

    def __str__(self) -> str:
        return f"经验 {self.pk}"


class AlertSettings(models.Model):
    """A project's warning thresholds (a missing row = the defaults below)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="alert_settings")
    large_overdue_amount = models.DecimalField(
        _("大额逾期金额(元)"),
        max_digits=14,
        decimal_places=2,
        default=5000,
        help_text=_("一户近期新到期未缴的金额达到这个数时预警"),
    )
    large_overdue_days = models.PositiveSmallIntegerField(
        _("“新增逾期”的天数"), default=30, help_text=_("到期不超过这些天的欠费算新增逾期")
    )
    reliable_on_time_ratio = models.DecimalField(
        _("守信户按时缴费率不低于"), max_digits=5, decimal_places=4, default="0.9000"
    )
    reliable_min_bills = models.PositiveSmallIntegerField(
        _("守信户至少已缴账单数"), default=6, help_text=_("缴费记录太少时不算守信户")
    )
    complaints_count = models.PositiveSmallIntegerField(_("报修/投诉次数不少于"), default=3)
    complaints_days = models.PositiveSmallIntegerField(
        _("统计近多少天的报修/投诉"), default=180, help_text=_("未完成的工单不论多久都计入")
    )
    broken_promises = models.PositiveSmallIntegerField(_("失约次数不少于"), default=2)
    limitation_days = models.PositiveSmallIntegerField(
        _("诉讼时效剩余天数不多于"),
        default=90,
        help_text=_("诉讼时效届满前 90 天和 30 天各提醒一次（《民法典》第一百八十八条）"),
    )

    class Meta:
        verbose_name = _("预警设置")
        verbose_name_plural = _("预警设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(large_overdue_amount__gt=0), name="alert_large_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(reliable_on_time_ratio__gte=0, reliable_on_time_ratio__lte=1),
                name="alert_reliable_ratio_0_1",
            ),
            models.CheckConstraint(
                condition=Q(complaints_count__gte=1) & Q(broken_promises__gte=1),
                name="alert_counts_at_least_one",
            ),
        ]

    def __str__(self) -> str:
        return f"预警设置 {self.project_id}"


class Warning(models.Model):  # noqa: A001 - the domain's word (预警); never used unqualified
    """预警: something a manager should look at, raised once per (kind, account, key) by the daily
    run — the key says what instance it is (the due date of the new arrears, the case, the bill and
    alert level of a limitation deadline), so a rerun or the next day's run never repeats it."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(
        "billing.Account", on_delete=models.PROTECT, related_name="+", verbose_name=_("缴费账户")
    )
    room = models.ForeignKey(
        "registry.Room", on_delete=models.PROTECT, related_name="+", verbose_name=_("房屋")
    )
    case = models.ForeignKey(
        "dunning.ArrearsCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="warnings",
        verbose_name=_("案件"),
    )
    kind = models.CharField(_("类型"), max_length=20, choices=WarningKind.choices)
    key = models.CharField(_("去重键"), max_length=60)
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2, default=0)
    detail = models.CharField(_("说明"), max_length=300)
    raised_on = models.DateField(_("预警日期"))
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("确认人"),
    )
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    ack_note = models.CharField(_("处理说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-raised_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "account", "key"], name="warning_once_per_kind_account_key"
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_by__isnull=True, acknowledged_at__isnull=True)
                | Q(acknowledged_by__isnull=False, acknowledged_at__isnull=False),
                name="warning_ack_has_who_and_when",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "raised_on"], name="warning_project_day_idx"),
            models.Index(fields=["project", "acknowledged_at"], name="warning_project_ack_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.raised_on}"


class CourtesyMessage(models.Model):
    """A reminder before a due date or a thank-you after a payment, sent to the payer through the
    messaging app's SMS backend and kept here as its log (the text, the number, the provider's
    answer): these households owe nothing overdue, so there is no arrears case to record a contact
    on. One thank-you per payment, enforced by the database."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(
        "billing.Account", on_delete=models.PROTECT, related_name="+", verbose_name=_("缴费账户")
    )
    room = models.ForeignKey(
        "registry.Room", on_delete=models.PROTECT, related_name="+", verbose_name=_("房屋")
    )
    kind = models.CharField(_("类型"), max_length=10, choices=CourtesyKind.choices)
    channel = models.CharField(_("方式"), max_length=20, choices=Channel.choices)
    payment = models.ForeignKey(
        "ledger.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("感谢的缴费"),
    )
    to = models.CharField(_("号码"), max_length=30)
    body = models.TextField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=CourtesyStatus.choices, default=CourtesyStatus.QUEUED
    )
    backend = models.CharField(_("通道"), max_length=100)
    provider_id = models.CharField(_("服务商消息号"), max_length=100, blank=True)
    error = models.CharField(_("错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发出时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("提醒与感谢短信")
        verbose_name_plural = _("提醒与感谢短信")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(kind="thanks"),
                name="one_thanks_per_payment",
            ),
            models.CheckConstraint(
                condition=Q(kind="thanks", payment__isnull=False)
                | Q(kind="pre_due", payment__isnull=True),
                name="courtesy_thanks_names_its_payment",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "created_at"], name="courtesy_account_day_idx"),
            models.Index(fields=["room", "created_at"], name="courtesy_room_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.to}"


class ReminderSent(models.Model):
    """A bill reminded by a channel: at most once, whatever reruns or retries happen. One message
    may remind several bills of the household that fall due together."""

    message = models.ForeignKey(
        CourtesyMessage, on_delete=models.PROTECT, related_name="bills", verbose_name=_("短信")
    )
    bill = models.ForeignKey(
        "billing.Bill", on_delete=models.PROTECT, related_name="+", verbose_name=_("账单")
    )
    channel = models.CharField(_("方式"), max_length=20, choices=Channel.choices)

    class Meta:
        verbose_name = _("到期前提醒记录")
        verbose_name_plural = _("到期前提醒记录")
        constraints = [
            models.UniqueConstraint(
                fields=["bill", "channel"], name="one_reminder_per_bill_and_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bill_id} {self.channel}"
