"""Choices of billing, importable without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChargeMethod(models.TextChoices):
    AREA = "area", _("面积×单价×月数")
    FIXED = "fixed", _("每期固定金额")
    PARKING = "parking", _("每车位每月")
    METERED = "metered", _("抄表计量")
    SHARED = "shared", _("公摊（按面积分摊）")


class AreaBasis(models.TextChoices):
    GROSS = "gross", _("建筑面积")
    INNER = "inner", _("套内面积")


class Cycle(models.TextChoices):
    MONTH = "month", _("月")
    QUARTER = "quarter", _("季度")
    HALF_YEAR = "half_year", _("半年")
    YEAR = "year", _("年")


CYCLE_MONTHS = {Cycle.MONTH: 1, Cycle.QUARTER: 3, Cycle.HALF_YEAR: 6, Cycle.YEAR: 12}


class VacancyPolicy(models.TextChoices):
    FULL = "full", _("全额收取")
    REDUCED = "reduced", _("按比例减收")
    EXEMPT = "exempt", _("不收取")


class NotHandedOverPolicy(models.TextChoices):
    DEVELOPER = "developer", _("由开发建设单位全额缴纳")
    DEVELOPER_REDUCED = "developer_reduced", _("由开发建设单位按比例缴纳")
    EXEMPT = "exempt", _("不收取")


class RunStatus(models.TextChoices):
    PREVIEWED = "previewed", _("已预览")
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    COMMITTED = "committed", _("已生成")
    FAILED = "failed", _("失败")
    REVERSED = "reversed", _("已冲红")


class AdjustmentKind(models.TextChoices):
    REVERSAL = "reversal", _("冲红")
    DISCOUNT = "discount", _("优惠")
    WAIVER = "waiver", _("减免")
    COMPENSATION = "compensation", _("补偿抵扣")


class BillKind(models.TextChoices):
    CHARGE = "charge", _("费用")
    LATE_FEE = "late_fee", _("滞纳金")
