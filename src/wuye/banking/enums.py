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


class BatchState(models.TextChoices):
    """A withholding batch (代扣批次): ``sent`` once its file is made (the bank is working on it, and
    dunning does not chase its households for those bills), ``returned`` once the return file (回盘)
    is imported, ``cancelled`` when finance withdrew it before any result came back."""

    SENT = "sent", _("代扣处理中")
    RETURNED = "returned", _("已回盘")
    CANCELLED = "cancelled", _("已作废")


class LineResult(models.TextChoices):
    PENDING = "pending", _("处理中")
    SUCCESS = "success", _("扣款成功")
    FAILURE = "failure", _("扣款失败")
