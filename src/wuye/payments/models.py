"""Online payment orders (WeChat Pay, Alipay), what the platforms told us, refunds and reconciliation.

An order is the server's own record of what an owner (or a cashier with a payment code) is paying:
the bills with the amounts quoted at order time (principal and the legally capped late fee), the
total, the channel and scene, and how it ended. The money itself reaches the ledger only through
``ledger.services.payment_record`` — exactly once, keyed by the platform's transaction id.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import MONEY, Account, Bill, FeeItem
from wuye.core.models import Project
from wuye.ledger.models import Payment, PaymentReversal, Refund
from wuye.payments.enums import (
    Channel,
    IssueKind,
    LineKind,
    NoticeState,
    OrderStatus,
    ReconStatus,
    RefundStatus,
    Scene,
)


class PaymentSettings(models.Model):
    """A project's online-payment switches (the merchant keys are settings, never here)."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="payment_settings"
    )
    enabled = models.BooleanField(_("开通线上缴费"), default=True)
    allow_skip_older = models.BooleanField(
        _("允许跳过较早账单"), default=False, help_text=_("默认须按账期从早到晚缴费")
    )

    class Meta:
        verbose_name = _("线上缴费设置")
        verbose_name_plural = _("线上缴费设置")

    def __str__(self) -> str:
        return f"线上缴费设置 {self.project_id}"


class PaymentOrder(models.Model):
    out_trade_no = models.CharField(_("商户订单号"), max_length=32, unique=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="payment_orders")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payment_orders")
    channel = models.CharField(_("支付渠道"), max_length=10, choices=Channel.choices)
    scene = models.CharField(_("支付场景"), max_length=10, choices=Scene.choices)
    amount = models.DecimalField(_("订单金额"), **MONEY)
    principal = models.DecimalField(_("本金"), **MONEY)
    late_fee = models.DecimalField(_("滞纳金（法定上限）"), **MONEY)
    pay_ahead_months = models.PositiveSmallIntegerField(_("预交月数"), default=0)
    pay_ahead_amount = models.DecimalField(_("预交金额"), default=0, **MONEY)
    # The window's 预交 is one fee item (``billing.pay_ahead.window_ahead_choices``); online, empty:
    # every fee item the household may prepay (``payments.ahead``).
    pay_ahead_fee_item = models.ForeignKey(
        FeeItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("预交收费项目"),
    )
    description = models.CharField(_("商品描述"), max_length=120)
    status = models.CharField(
        _("状态"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    expires_at = models.DateTimeField(_("过期时间"))
    openid = models.CharField(max_length=128, blank=True)
    client_ip = models.CharField(max_length=45, blank=True)
    pay_params = models.JSONField(_("调起支付参数"), default=dict, blank=True)
    transaction_id = models.CharField(_("平台交易号"), max_length=64, blank=True, db_index=True)
    paid_amount = models.DecimalField(_("实付金额"), null=True, blank=True, **MONEY)
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    payment = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="online_order",
        verbose_name=_("收款"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("收银员"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("线上支付订单")
        verbose_name_plural = _("线上支付订单")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_order_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="payment_order_open_idx"),
            models.Index(fields=["account", "status"], name="payment_order_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.out_trade_no}（{self.get_channel_display()} {self.amount} 元）"


class PaymentOrderBill(models.Model):
    """A bill an order pays, with what it asked for at order time."""

    order = models.ForeignKey(PaymentOrder, on_delete=models.CASCADE, related_name="bills")
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="+")
    principal = models.DecimalField(_("本金"), **MONEY)
    late_fee = models.DecimalField(_("滞纳金"), **MONEY)

    class Meta:
        verbose_name = _("订单账单")
        verbose_name_plural = _("订单账单")
        constraints = [
            models.UniqueConstraint(fields=["order", "bill"], name="order_bill_once"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.bill_id}"


class Notification(models.Model):
    """Every callback a platform sent (or that claimed to be one): evidence for finance and for
    the reconciliation; a refused one keeps why.

    A verified payment notice is stored here and answered at once; the quick queue posts it
    (``payments.notices``, docs/decisions/0018). ``key`` (``<channel>-<transaction id>``, the
    payment's idempotency key) is unique: a repeated callback finds its row and does no work.
    ``state`` says where it is: pending (待入账), done, failed (retried from ``retry_at``, with
    why in ``outcome``), ignored, refused. Rows from before the queue have no key and are done."""

    channel = models.CharField(max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(auto_now_add=True)
    verified = models.BooleanField(default=False)
    kind = models.CharField(max_length=10, choices=LineKind.choices, blank=True)
    out_trade_no = models.CharField(max_length=64, blank=True)
    transaction_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    key = models.CharField(_("去重键"), max_length=80, null=True, blank=True, unique=True)
    order = models.ForeignKey(
        PaymentOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
    )
    amount = models.DecimalField(_("支付金额"), null=True, blank=True, **MONEY)
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=NoticeState.choices, default=NoticeState.DONE
    )
    attempts = models.PositiveSmallIntegerField(_("入账尝试次数"), default=0)
    retry_at = models.DateTimeField(_("下次重试"), null=True, blank=True)
    done_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("支付通知")
        verbose_name_plural = _("支付通知")
        indexes = [
            models.Index(
                fields=["state", "id"],
                name="notice_todo_idx",
                condition=Q(state__in=["pending", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.out_trade_no} {self.outcome}"


class OrderIssue(models.Model):
    """Something finance must look at (待财务处理): a wrong amount, money that went to prepaid
    balance because the bills were paid at the window, a payment after the order was closed."""

    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, related_name="issues")
    kind = models.CharField(_("类型"), max_length=20, choices=IssueKind.choices)
    message = models.CharField(_("说明"), max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("线上缴费待处理")
        verbose_name_plural = _("线上缴费待处理")
        constraints = [
            models.UniqueConstraint(fields=["order", "kind"], name="one_issue_per_order_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.order}"


class OnlineRefund(models.Model):
    """A refund of an online payment back through the platform, with reason and approval; the
    ledger entry (冲红 of the whole payment, or a prepaid refund for part of it) is written once,
    when the platform says the refund succeeded."""

    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, related_name="refunds")
    out_refund_no = models.CharField(_("商户退款单号"), max_length=64, unique=True)
    amount = models.DecimalField(_("退款金额"), **MONEY)
    reason = models.CharField(_("原因"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=12, choices=RefundStatus.choices, default=RefundStatus.PROCESSING
    )
    refund_id = models.CharField(_("平台退款单号"), max_length=64, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reversal = models.OneToOneField(
        PaymentReversal, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ledger_refund = models.OneToOneField(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("线上退款")
        verbose_name_plural = _("线上退款")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="online_refund_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="online_refund_has_reason"),
        ]

    def __str__(self) -> str:
        return f"退款 {self.out_refund_no} {self.amount}"


class Reconciliation(models.Model):
    """对账 of one day and channel: the platform's statement against the ledger."""

    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    day = models.DateField(_("日期"))
    platform_count = models.PositiveIntegerField(default=0)
    platform_amount = models.DecimalField(default=0, **MONEY)
    ledger_count = models.PositiveIntegerField(default=0)
    ledger_amount = models.DecimalField(default=0, **MONEY)
    fee_amount = models.DecimalField(_("平台手续费"), default=0, **MONEY)
    difference_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("对账")
        verbose_name_plural = _("对账")
        constraints = [
            models.UniqueConstraint(fields=["channel", "day"], name="one_reconciliation_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.day}"


class ReconciliationLine(models.Model):
    reconciliation = models.ForeignKey(
        Reconciliation, on_delete=models.CASCADE, related_name="lines"
    )
    kind = models.CharField(max_length=10, choices=LineKind.choices)
    status = models.CharField(max_length=20, choices=ReconStatus.choices)
    out_trade_no = models.CharField(max_length=64, blank=True)
    transaction_id = models.CharField(max_length=64, blank=True)
    out_refund_no = models.CharField(max_length=64, blank=True)
    platform_amount = models.DecimalField(null=True, blank=True, **MONEY)
    ledger_amount = models.DecimalField(null=True, blank=True, **MONEY)
    fee = models.DecimalField(default=0, **MONEY)
    trade_time = models.CharField(max_length=30, blank=True)
    order = models.ForeignKey(
        PaymentOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("对账明细")
        verbose_name_plural = _("对账明细")

    def __str__(self) -> str:
        return f"{self.out_trade_no} {self.get_status_display()}"
