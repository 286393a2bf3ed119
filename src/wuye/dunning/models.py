"""Arrears cases, their timeline, contact records with evidence, and the rules that drive them.

An ``ArrearsCase`` is the one open file per payer account with money overdue (GLOSSARY: 欠费户). It is
opened, refreshed and closed by the daily run and by payments (``services``); its figures are a
snapshot of the ledger, which stays the authority. ``CaseEvent`` and ``ContactRecord`` are evidence:
append-only — a correction is a new record pointing at the old one (LAW.md "Evidence").
"""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import MONEY, Account
from wuye.core.models import Project
from wuye.dunning.contact_windows import (
    MESSAGE_WINDOWS_PATTERN,
    VOICE_WINDOWS_PATTERN,
    parse_windows,
)
from wuye.dunning.enums import (
    AttachmentKind,
    CaseClass,
    CaseState,
    Channel,
    DeliveryStatus,
    EscalationKind,
    EventKind,
    NextAction,
    ReceiptStatus,
    RefusalReason,
    RunStatus,
    Stage,
    UnreachedReason,
)
from wuye.registry.models import LegacyIssue, Phone, Room

USER = settings.AUTH_USER_MODEL


class AppendOnly(models.Model):
    """Evidence rows: saved once, never changed or deleted by the application."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(f"{self._meta.verbose_name}保存后不可修改；请新增一条更正记录。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(f"{self._meta.verbose_name}不可删除。")


def _validate_windows(value: str) -> None:
    try:
        parse_windows(value)
    except ValueError as exc:
        raise ValidationError("时段格式应为 09:00-12:00,15:00-20:00") from exc


def _validate_voice_windows(value: str) -> None:
    if not re.match(VOICE_WINDOWS_PATTERN, value or ""):
        raise ValidationError(
            "电话和上门时段只能在 08:00–22:00 之内（本公司联系规范：任何时候不得在 22:00–08:00 "
            "联系业主，深夜来电属骚扰，《民法典》第一千零三十三条），格式如 09:00-12:00,15:00-20:00"
        )


def _validate_message_windows(value: str) -> None:
    if not re.match(MESSAGE_WINDOWS_PATTERN, value or ""):
        raise ValidationError(
            "短信、微信发送时段只能在 08:00–21:00 之内（本公司联系规范），格式如 08:00-21:00"
        )


class DunningSettings(models.Model):
    """A project's dunning numbers (SPEC §5, LAW.md §8). Missing row = the defaults below."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="dunning_settings"
    )
    grace_days = models.PositiveSmallIntegerField(
        _("立案宽限天数"),
        default=15,
        help_text=_("账单到期后超过这些天仍有欠款，才立为催缴案件（给银行转账到账留出时间）"),
    )
    first_call_days = models.PositiveSmallIntegerField(_("首次电话期限(天)"), default=7)
    summer_from_month = models.PositiveSmallIntegerField(_("夏令时起始月"), default=5)
    summer_to_month = models.PositiveSmallIntegerField(_("夏令时结束月"), default=9)
    summer_windows = models.CharField(
        _("夏季可联系时段"),
        max_length=60,
        default="09:00-12:00,15:00-20:00",
        validators=[_validate_windows, _validate_voice_windows],
    )
    winter_windows = models.CharField(
        _("冬季可联系时段"),
        max_length=60,
        default="09:00-12:00,14:00-19:00",
        validators=[_validate_windows, _validate_voice_windows],
    )
    message_windows = models.CharField(
        _("短信/微信可发送时段"),
        max_length=60,
        default="08:00-21:00",
        validators=[_validate_windows, _validate_message_windows],
    )
    written_follow_up_days = models.PositiveSmallIntegerField(
        _("仅书面联系业主的跟进间隔(天)"),
        default=7,
        help_text=_("业主要求只以书面方式联系时，以短信/信函代替每日电话，每隔这些天跟进一次"),
    )
    max_calls_per_day = models.PositiveSmallIntegerField(_("每户每日最多电话"), default=3)
    max_calls_per_week = models.PositiveSmallIntegerField(_("每户每周最多电话"), default=10)
    demand_min_days = models.PositiveSmallIntegerField(
        _("书面催告最短期限(天)"),
        default=15,
        help_text=_(
            "书面催告载明的缴费期限至少在送达后这些天（《民法典》第九百四十四条第二款：合理期限），"
            "可延长，不可短于 15 天"
        ),
    )

    class Meta:
        verbose_name = _("项目催缴设置")
        verbose_name_plural = _("项目催缴设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(summer_from_month__gte=1, summer_from_month__lte=12)
                & Q(summer_to_month__gte=1, summer_to_month__lte=12),
                name="dunning_summer_months_valid",
            ),
            models.CheckConstraint(
                condition=Q(max_calls_per_day__lte=6), name="dunning_calls_per_day_at_most_6"
            ),
            models.CheckConstraint(
                condition=Q(max_calls_per_week__lte=42), name="dunning_calls_per_week_at_most_42"
            ),
            models.CheckConstraint(
                condition=Q(summer_windows__regex=VOICE_WINDOWS_PATTERN)
                & Q(winter_windows__regex=VOICE_WINDOWS_PATTERN),
                name="dunning_voice_windows_within_8_to_22",
                violation_error_message=_("电话和上门时段只能在 08:00–22:00 之内"),
            ),
            models.CheckConstraint(
                condition=Q(message_windows__regex=MESSAGE_WINDOWS_PATTERN),
                name="dunning_message_windows_within_8_to_21",
                violation_error_message=_("短信、微信发送时段只能在 08:00–21:00 之内"),
            ),
            models.CheckConstraint(
                condition=Q(demand_min_days__gte=15), name="dunning_demand_period_at_least_15"
            ),
        ]

    def __str__(self) -> str:
        return f"催缴设置 {self.project_id}"

    def is_summer(self, on: datetime.date) -> bool:
        lo, hi = self.summer_from_month, self.summer_to_month
        return lo <= on.month <= hi if lo <= hi else (on.month >= lo or on.month <= hi)

    def voice_windows(self, on: datetime.date) -> list[tuple[datetime.time, datetime.time]]:
        return parse_windows(self.summer_windows if self.is_summer(on) else self.winter_windows)


class CollectionTeam(models.Model):
    """催收小组: a campaign team with a leader, a deputy and a target amount (SPEC §5 step 3)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="collection_teams")
    name = models.CharField(_("小组名称"), max_length=60)
    leader = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("组长")
    )
    deputy = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("副组长"),
    )
    members = models.ManyToManyField(USER, blank=True, related_name="+", verbose_name=_("组员"))
    target_amount = models.DecimalField(_("任务金额"), default=0, **MONEY)
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    is_active = models.BooleanField(_("进行中"), default=True)

    class Meta:
        verbose_name = _("催收小组")
        verbose_name_plural = _("催收小组")
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="team_name_unique_in_project"),
            models.CheckConstraint(
                condition=Q(target_amount__gte=0), name="team_target_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ArrearsCase(models.Model):
    # Indexes: project leads the composite index of Meta, and the few cases with a class set by
    # hand or a team have partial ones — a company's first daily run writes 200,000 cases, and every
    # index is written for each. The account keeps its own: on PostgreSQL, dropping a column's index
    # also drops the partial unique index on that column (one_open_case_per_account). That index
    # serves the look-ups by account and state as well (an account has a few cases in all).
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="arrears_cases", db_index=False
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="arrears_cases")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="arrears_cases")
    state = models.CharField(
        _("状态"), max_length=10, choices=CaseState.choices, default=CaseState.OPEN
    )
    opened_on = models.DateField(_("立案日期"))
    closed_on = models.DateField(_("结案日期"), null=True, blank=True)
    close_reason = models.CharField(_("结案原因"), max_length=100, blank=True)

    case_class = models.CharField(
        _("分类"), max_length=1, choices=CaseClass.choices, blank=True, default=""
    )
    class_set_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    class_reason = models.CharField(_("分类理由"), max_length=200, blank=True)
    stage = models.CharField(
        _("阶段"), max_length=20, choices=Stage.choices, default=Stage.REMINDER
    )
    stage_since = models.DateField(_("进入本阶段日期"))
    stage_deadline = models.DateField(_("本阶段完成期限"), null=True, blank=True)
    # Set when the stage's own action (the visit, the notice, the letter) has been recorded.
    stage_action_done_on = models.DateField(_("本阶段动作完成日期"), null=True, blank=True)
    assignee = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="arrears_cases",
        verbose_name=_("责任人"),
    )
    team = models.ForeignKey(
        CollectionTeam,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("催收小组"),
        db_index=False,
    )
    promise_date = models.DateField(_("承诺缴费日期"), null=True, blank=True)
    promise_amount = models.DecimalField(_("承诺金额"), null=True, blank=True, **MONEY)
    next_action = models.CharField(
        _("下一步"), max_length=20, choices=NextAction.choices, blank=True
    )
    next_action_on = models.DateField(_("下一步日期"), null=True, blank=True)
    next_action_due = models.DateField(
        _("下一步期限"), null=True, blank=True, help_text=_("过了这一天仍未完成即为逾期任务")
    )
    last_contact_at = models.DateTimeField(_("最近联系"), null=True, blank=True)

    # Snapshot of the ledger, refreshed by the daily run and by payments.
    overdue_amount = models.DecimalField(_("欠费本金"), default=0, **MONEY)
    overdue_bills = models.PositiveIntegerField(_("欠费账单数"), default=0)
    oldest_due_date = models.DateField(_("最早到期日"), null=True, blank=True)
    aging_days = models.PositiveIntegerField(_("账龄(天)"), default=0)
    amounts_as_of = models.DateField(_("金额截至"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("催缴案件")
        verbose_name_plural = _("催缴案件")
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(state="open"),
                name="one_open_case_per_account",
            ),
            models.CheckConstraint(
                condition=Q(state="open", closed_on__isnull=True)
                | Q(state="closed", closed_on__isnull=False),
                name="case_closed_has_date",
            ),
            models.CheckConstraint(
                condition=Q(overdue_amount__gte=0), name="case_overdue_not_negative"
            ),
        ]
        indexes = [
            models.Index(
                fields=["project", "state", "assignee", "next_action_on"], name="case_todo_idx"
            ),
            models.Index(
                fields=["class_set_by"],
                condition=Q(class_set_by__isnull=False),
                name="case_class_set_by_idx",
            ),
            models.Index(fields=["team"], condition=Q(team__isnull=False), name="case_team_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.room} 催缴案件"

    @property
    def is_open(self) -> bool:
        return self.state == CaseState.OPEN


class CaseEvent(AppendOnly):
    """The case's timeline: every opening, closing and change of class, stage, assignee or promise,
    with its reason; ``by`` is empty for the daily run."""

    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("时间"))
    on_date = models.DateField(_("业务日期"))
    by = models.ForeignKey(
        USER,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    kind = models.CharField(_("类型"), max_length=20, choices=EventKind.choices)
    from_value = models.CharField(_("原值"), max_length=60, blank=True)
    to_value = models.CharField(_("新值"), max_length=60, blank=True)
    reason = models.CharField(_("原因"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("案件记录")
        verbose_name_plural = _("案件记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.from_value}→{self.to_value}"


class ContactRecord(AppendOnly):
    """催缴记录: one call, message, visit, notice, letter or talk at the window, kept as evidence."""

    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="contacts")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("联系时间"), help_text=_("联系实际发生的时间"))
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("联系人")
    )
    channel = models.CharField(_("方式"), max_length=20, choices=Channel.choices)
    phone = models.ForeignKey(
        Phone,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("拨打号码"),
    )
    used = models.CharField(_("号码/地址"), max_length=200, blank=True)
    reached = models.BooleanField(_("已联系上"), default=False)
    unreached_reason = models.CharField(
        _("未联系上原因"), max_length=20, choices=UnreachedReason.choices, blank=True
    )
    owner_said = models.TextField(_("业主反馈"), blank=True)
    promise_date = models.DateField(_("承诺缴费日期"), null=True, blank=True)
    promise_amount = models.DecimalField(_("承诺金额"), null=True, blank=True, **MONEY)
    refusal_reason = models.CharField(
        _("拒缴理由"), max_length=20, choices=RefusalReason.choices, blank=True
    )
    lives_elsewhere = models.BooleanField(_("长期异地"), default=False)
    case_class = models.CharField(_("分类"), max_length=1, choices=CaseClass.choices, blank=True)
    class_reason = models.CharField(_("分类理由"), max_length=200, blank=True)
    delivery_status = models.CharField(
        _("送达状态"), max_length=20, choices=DeliveryStatus.choices, blank=True
    )
    delivery_ref = models.CharField(_("快递单号/回执"), max_length=100, blank=True)
    demand_deadline = models.DateField(
        _("催告缴费期限"),
        null=True,
        blank=True,
        help_text=_("书面催告给业主的缴费期限，至少在送达后 15 天（本项目可延长）"),
    )
    note = models.TextField(_("备注"), blank=True)
    late_entry_reason = models.CharField(
        _("补登原因"),
        max_length=200,
        blank=True,
        help_text=_("书面催告在送达之后的日子才登记时，说明原因并附送达凭证"),
    )
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("更正的记录"),
    )

    class Meta:
        verbose_name = _("催缴记录")
        verbose_name_plural = _("催缴记录")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["case", "at"], name="contact_case_at_idx"),
            models.Index(fields=["project", "by", "at"], name="contact_by_day_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(promise_amount__isnull=True) | Q(promise_amount__gt=0),
                name="contact_promise_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_channel_display()}"


def _attachment_path(instance: ContactAttachment, filename: str) -> str:
    return f"dunning/{instance.contact.project_id}/{instance.contact.case_id}/{filename}"


class ContactAttachment(AppendOnly):
    """A photo, screenshot or EMS slip attached to a contact record (stored under MEDIA_ROOT)."""

    contact = models.ForeignKey(ContactRecord, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(
        _("类型"), max_length=20, choices=AttachmentKind.choices, default=AttachmentKind.PHOTO
    )
    file = models.FileField(_("文件"), upload_to=_attachment_path, max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("催缴证据附件")
        verbose_name_plural = _("催缴证据附件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class CaseIssueLink(AppendOnly):
    """A legacy issue the owner cited (in a contact) or the steward linked to the case: kept for good,
    whatever becomes of the issue or the case, and exported with the evidence."""

    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="issue_links")
    issue = models.ForeignKey(LegacyIssue, on_delete=models.PROTECT, related_name="case_links")
    contact = models.ForeignKey(
        ContactRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issue_links",
        verbose_name=_("引用该问题的催缴记录"),
    )
    by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("关联人")
    )
    at = models.DateTimeField(_("关联时间"), auto_now_add=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("案件关联的历史遗留问题")
        verbose_name_plural = _("案件关联的历史遗留问题")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "issue"], name="one_link_per_case_issue")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} ↔ {self.issue_id}"


class DeliveryReceipt(AppendOnly):
    """The SMS provider's delivery receipt of a message recorded as a contact (LAW.md "Evidence":
    the provider's receipt for SMS). A delivered receipt makes the message a demand that reached the
    owner (LAW.md §7)."""

    contact = models.ForeignKey(ContactRecord, on_delete=models.PROTECT, related_name="receipts")
    status = models.CharField(_("回执状态"), max_length=10, choices=ReceiptStatus.choices)
    received_at = models.DateTimeField(_("回执时间"))
    provider_ref = models.CharField(_("服务商消息号"), max_length=100, blank=True)
    payload = models.JSONField(_("回执原文"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("短信送达回执")
        verbose_name_plural = _("短信送达回执")
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.received_at:%Y-%m-%d %H:%M}"


class FollowUpRule(models.Model):
    """SPEC §5 step 6 as data: what to do next for a case of a class, and when. A project without a
    row for a class uses ``rules.DEFAULT_FOLLOW_UPS``."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="follow_up_rules")
    case_class = models.CharField(_("分类"), max_length=1, choices=CaseClass.choices)
    action = models.CharField(_("跟进动作"), max_length=20, choices=NextAction.choices)
    days = models.SmallIntegerField(
        _("天数"),
        help_text=_("A 类：相对承诺日（-1 = 前一天）；其他类：相对最近一次联系"),
    )

    class Meta:
        verbose_name = _("分类跟进规则")
        verbose_name_plural = _("分类跟进规则")
        ordering = ["project_id", "case_class"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "case_class"], name="one_follow_up_rule_per_class"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_class}: {self.get_action_display()} {self.days}"


class EscalationRule(models.Model):
    """SPEC §5 step 7 as data: when a case in the reminder stage goes to a door visit, and how long
    the manager has to arrange it. A project without a row of a kind uses ``rules.DEFAULT_ESCALATIONS``."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="escalation_rules")
    kind = models.CharField(_("触发条件"), max_length=20, choices=EscalationKind.choices)
    days = models.PositiveSmallIntegerField(
        _("天数"),
        help_text=_("承诺日过后天数 / 立案后天数 / 最早欠费到期后天数"),
    )
    deadline_days = models.PositiveSmallIntegerField(_("上门期限(天)"), default=15)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("升级规则")
        verbose_name_plural = _("升级规则")
        ordering = ["project_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["project", "kind"], name="one_escalation_rule_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.days}天"


class DunningRun(models.Model):
    """One daily run over a project: what it found and changed (a rerun the same day changes nothing)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="dunning_runs")
    run_on = models.DateField(_("日期"))
    status = models.CharField(
        _("状态"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    accounts = models.PositiveIntegerField(_("逾期账户"), default=0)
    opened = models.PositiveIntegerField(_("新立案"), default=0)
    reopened = models.PositiveIntegerField(_("重新立案"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    escalated = models.PositiveIntegerField(_("升级"), default=0)
    closed = models.PositiveIntegerField(_("结案"), default=0)
    error = models.TextField(_("错误"), blank=True)
    started_at = models.DateTimeField(_("开始"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束"), null=True, blank=True)
    started_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("催缴日跑批")
        verbose_name_plural = _("催缴日跑批")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.project_id} {self.run_on}"


class InterruptionKind(models.TextChoices):
    """Interruptions of the limitation period that are not a contact record or a payment (LAW.md §7)."""

    ACKNOWLEDGEMENT = "acknowledgement", _("业主书面确认欠款/承诺")
    PAYMENT_PLAN = "payment_plan", _("分期还款协议")
    LAWSUIT = "lawsuit", _("起诉")
    ARBITRATION = "arbitration", _("申请仲裁")
    PAYMENT_ORDER = "payment_order", _("申请支付令")
    MEDIATION = "mediation", _("调解")


def _interruption_path(instance: LimitationInterruption, filename: str) -> str:
    return f"dunning/{instance.case.project_id}/{instance.case_id}/limitation/{filename}"


class LimitationInterruption(AppendOnly):
    """诉讼时效中断: a recorded event that restarts the three-year clock of the case's bills that were
    due by then, kept with its evidence file (a signed acknowledgement, a court filing receipt)."""

    case = models.ForeignKey(
        ArrearsCase, on_delete=models.PROTECT, related_name="limitation_interruptions"
    )
    kind = models.CharField(_("中断事由"), max_length=20, choices=InterruptionKind.choices)
    on_date = models.DateField(_("发生日期"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    file = models.FileField(_("证据文件"), upload_to=_interruption_path, max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("登记人")
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("诉讼时效中断")
        verbose_name_plural = _("诉讼时效中断")
        ordering = ["on_date", "id"]

    def __str__(self) -> str:
        return f"{self.on_date} {self.get_kind_display()}"


class RecoveryState(models.TextChoices):
    OPEN = "open", _("待处理")
    WORKING = "working", _("清欠中")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已撤销")


class RecoveryOrder(models.Model):
    """清欠任务单: a case with arrears older than one year handed to the company's task force."""

    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="recovery_orders")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("下单人")
    )
    created_at = models.DateTimeField(_("下单时间"), auto_now_add=True)
    team = models.ForeignKey(
        CollectionTeam,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recovery_orders",
        verbose_name=_("承办小组"),
    )
    assignee = models.ForeignKey(
        USER,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recovery_orders",
        verbose_name=_("承办人"),
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=RecoveryState.choices, default=RecoveryState.OPEN
    )
    amount = models.DecimalField(_("下单时欠费"), **MONEY)
    oldest_due_date = models.DateField(_("最早到期日"))
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("清欠任务单")
        verbose_name_plural = _("清欠任务单")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state__in=["open", "working"]),
                name="one_live_recovery_order_per_case",
            )
        ]

    def __str__(self) -> str:
        return f"清欠任务单 {self.pk}"
