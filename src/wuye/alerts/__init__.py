"""Alerts and reminders (issue 6): success stories (经验库), early warnings (预警), pre-due reminders
and thank-you messages. Enumerations live here, importable without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WarningKind(models.TextChoices):
    LARGE_OVERDUE = "large_overdue", _("大额新增逾期")
    RELIABLE_STOPPED = "reliable_stopped", _("守信户突然欠费")
    COMPLAINTS = "complaints", _("多次投诉且欠费")
    PROMISES_BROKEN = "promises_broken", _("两次失约")
    LIMITATION = "limitation", _("诉讼时效临近")


class CourtesyKind(models.TextChoices):
    PRE_DUE = "pre_due", _("到期前提醒")
    THANKS = "thanks", _("缴费感谢")


class CourtesyStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENT = "sent", _("已发出")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("发送失败")
