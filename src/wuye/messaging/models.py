"""Talking points (话术), message templates and the SMS outbox of the dunning workflow.

Defaults live in code (``defaults.py``); a row overrides the default of the same key, for one project
or (project empty) for the whole company.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuye.core.models import Company, Project
from wuye.dunning.enums import CaseClass, RefusalReason
from wuye.messaging.checks import check_template


class TemplateKind(models.TextChoices):
    SMS = "sms", _("短信")
    DOOR_NOTICE = "door_notice", _("催费通知（张贴/投递）")
    WRITTEN_DEMAND = "written_demand", _("书面催告函")
    LAWYER_LETTER = "lawyer_letter", _("律师函")


class TalkingPoint(models.Model):
    """话术 for a class or a refusal reason (one of the two is set)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("留空 = 全公司默认"),
    )
    case_class = models.CharField(_("分类"), max_length=1, choices=CaseClass.choices, blank=True)
    refusal_reason = models.CharField(
        _("拒缴理由"), max_length=20, choices=RefusalReason.choices, blank=True
    )
    title = models.CharField(_("标题"), max_length=60)
    body = models.TextField(_("话术"))

    class Meta:
        verbose_name = _("话术")
        verbose_name_plural = _("话术")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(case_class="") & ~models.Q(refusal_reason=""))
                | (~models.Q(case_class="") & models.Q(refusal_reason="")),
                name="talking_point_class_or_reason",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        # Editable talking points are read aloud to owners: the same guard as every free text.
        from django.core.exceptions import ValidationError

        from wuye.core.errors import ValidationFailed
        from wuye.core.guardrails import guard_text

        for name in ("title", "body"):
            try:
                guard_text(getattr(self, name), field=name)
            except ValidationFailed as exc:
                raise ValidationError({name: exc.message}) from exc


class MessageTemplate(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("留空 = 全公司默认"),
    )
    kind = models.CharField(_("类型"), max_length=20, choices=TemplateKind.choices)
    title = models.CharField(_("标题"), max_length=60)
    body = models.TextField(
        _("正文"),
        help_text=_(
            "可用占位符：{户名} {房号} {欠费金额} {费用项目} {最早欠费月份} {缴费方式} {期限} "
            "{项目名称} {联系电话} {委托人} {律师事务所} {缴费链接}"
        ),
    )

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.title}"

    def clean(self) -> None:
        # Admin edits go through the same check as rendering: no unknown placeholder, no unlawful
        # measure (LAW.md §1).
        from django.core.exceptions import ValidationError

        from wuye.core.errors import ValidationFailed

        try:
            check_template(self.body)
        except ValidationFailed as exc:
            raise ValidationError({"body": str(exc)}) from exc


class LetterSettings(models.Model):
    """Who signs a project's demand letters: the law firm a lawyer letter comes from and the company
    on whose behalf it is written (委托人). A lawyer letter is refused until the firm is set."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="letter_settings", verbose_name=_("项目")
    )
    principal = models.CharField(
        _("委托人（物业服务企业全称）"),
        max_length=100,
        blank=True,
        help_text=_("留空 = 物业公司名称"),
    )
    law_firm = models.CharField(_("受托律师事务所"), max_length=100, blank=True)
    lawyer = models.CharField(_("承办律师"), max_length=60, blank=True)
    law_firm_phone = models.CharField(_("律师事务所电话"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("律师函设置")
        verbose_name_plural = _("律师函设置")

    def __str__(self) -> str:
        return f"律师函设置 {self.project}"


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已发出")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("发送失败")


class OutboxPurpose(models.TextChoices):
    DUNNING = "dunning", _("催缴短信")
    # A one-time code the owner asked for on the owner page (wuye.owner): not a dunning contact,
    # outside the SMS caps; it has no case.
    CODE = "code", _("验证码")


class OutboxMessage(models.Model):
    """One SMS to one household, kept with the provider's answer and receipt as evidence."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(
        "dunning.ArrearsCase",
        on_delete=models.PROTECT,
        related_name="sms_messages",
        null=True,
        blank=True,
    )
    purpose = models.CharField(
        _("用途"), max_length=10, choices=OutboxPurpose.choices, default=OutboxPurpose.DUNNING
    )
    account_id_snapshot = models.BigIntegerField(_("账户"), db_index=True)
    to = models.CharField(_("号码"), max_length=30)
    body = models.TextField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    backend = models.CharField(_("通道"), max_length=100)
    provider_id = models.CharField(_("服务商消息号"), max_length=100, blank=True, db_index=True)
    error = models.CharField(_("错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发出时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    receipt = models.JSONField(_("送达回执"), null=True, blank=True)
    contact = models.ForeignKey(
        "dunning.ContactRecord", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("短信发件箱")
        verbose_name_plural = _("短信发件箱")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.to} {self.get_status_display()}"
