from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    WECHAT = "wechat", _("微信支付")
    ALIPAY = "alipay", _("支付宝")


class Scene(models.TextChoices):
    """How the payer pays: WeChat JSAPI (inside WeChat, with openid), H5 (other phone browsers),
    Native (QR on a desktop); Alipay wap (phone website) and qr (precreate); micropay (付款码 at
    the window, either platform)."""

    JSAPI = "jsapi", _("微信内支付")
    H5 = "h5", _("手机浏览器支付")
    NATIVE = "native", _("扫码支付")
    WAP = "wap", _("手机网站支付")
    QR = "qr", _("扫码支付")
    MICROPAY = "micropay", _("付款码支付")


SCENES_OF = {
    Channel.WECHAT: {Scene.JSAPI, Scene.H5, Scene.NATIVE, Scene.MICROPAY},
    Channel.ALIPAY: {Scene.WAP, Scene.QR, Scene.MICROPAY},
}


class OrderStatus(models.TextChoices):
    OPEN = "open", _("待支付")
    PAID = "paid", _("已支付")
    CLOSED = "closed", _("已关闭")
    EXPIRED = "expired", _("已过期")
    FAILED = "failed", _("支付失败")


class IssueKind(models.TextChoices):
    """What finance must look at (待财务处理)."""

    WRONG_AMOUNT = "wrong_amount", _("支付金额与订单不符")
    BILLS_TAKEN = "bills_taken", _("账单已在窗口缴清，款项转入预存款")
    LATE_PAYMENT = "late_payment", _("订单关闭后才收到支付")
    REFUND_FAILED = "refund_failed", _("退款失败")
    POSTING_FAILED = "posting_failed", _("入账失败")
    AHEAD_CHANGED = "ahead_changed", _("预交金额已变化，款项转入预存款")


class NoticeState(models.TextChoices):
    """Where a stored callback is: answered at once, posted by the quick queue
    (``payments.notices``)."""

    PENDING = "pending", _("待入账")
    DONE = "done", _("已处理")
    FAILED = "failed", _("入账失败，待重试")
    IGNORED = "ignored", _("已忽略")
    REFUSED = "refused", _("已拒绝")


class RefundStatus(models.TextChoices):
    PROCESSING = "processing", _("退款中")
    SUCCESS = "success", _("已退款")
    FAILED = "failed", _("退款失败")


class LineKind(models.TextChoices):
    PAY = "pay", _("收款")
    REFUND = "refund", _("退款")


class ReconStatus(models.TextChoices):
    MATCHED = "matched", _("一致")
    MISSING_IN_LEDGER = "missing_in_ledger", _("平台有、账上无")
    MISSING_ON_PLATFORM = "missing_on_platform", _("账上有、平台无")
    AMOUNT_DIFFERS = "amount_differs", _("金额不符")
    RESOLVED = "resolved", _("已核对入账")
