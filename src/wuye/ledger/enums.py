from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("现金")
    WECHAT = "wechat", _("微信")
    ALIPAY = "alipay", _("支付宝")
    CARD = "card", _("银行卡")
    TRANSFER = "transfer", _("银行转账")
    WITHHOLDING = "withholding", _("银行代扣")
    PREPAID = "prepaid", _("预存款")


class PrepaidKind(models.TextChoices):
    DEPOSIT = "deposit", _("存入")
    CONSUME = "consume", _("抵扣账单")
    REFUND = "refund", _("退款")
    REVERSAL = "reversal", _("冲红")


class InvoiceStatus(models.TextChoices):
    REQUESTED = "requested", _("待开票")
    ISSUED = "issued", _("已开票")
    CANCELLED = "cancelled", _("已取消")


class InvoiceKind(models.TextChoices):
    """数电票 types: the ordinary one for anyone, the special VAT invoice for a VAT-registered company."""

    NORMAL = "normal", _("数电普通发票")
    SPECIAL = "special", _("数电增值税专用发票")
