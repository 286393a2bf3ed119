from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    IN = "in", _("收入")
    OUT = "out", _("支出")


class LineStatus(models.TextChoices):
    """Where a statement line stands. Outgoing lines are ``ignored`` from the start; an incoming line
    is ``matched`` (posted automatically or by finance) or waits in the queue (``review``: 待认领款)
    until someone claims it or it is refunded to the sender."""

    REVIEW = "review", _("待认领")
    MATCHED = "matched", _("已入账")
    IGNORED = "ignored", _("不参与匹配")
    REFUNDED = "refunded", _("已退回")


class MatchSource(models.TextChoices):
    AUTO = "auto", _("自动匹配")
    MANUAL = "manual", _("人工认领")
