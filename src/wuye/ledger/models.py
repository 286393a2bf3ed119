"""Payments, allocations, prepaid balances, receipts, reversals, refunds and the cashier's closing.

Append-only: nothing here is updated or deleted. A reversed payment keeps its rows and gains a
``PaymentReversal`` plus negative allocations and prepaid movements that cancel it; every balance is a sum.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.billing.models import MONEY, Account, Bill
from wuye.core.models import Project
from wuye.ledger.enums import InvoiceKind, InvoiceStatus, PaymentMethod, PrepaidKind


class ReceiptSequence(models.Model):
    """The last receipt number used in a project; locked while a payment takes the next one, so the
    numbers have no gaps (a rolled-back payment rolls the number back too)."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="receipt_sequence"
    )
    last_no = models.PositiveIntegerField(_("已用到的收据号"), default=0)

    class Meta:
        verbose_name = _("收据号序列")
        verbose_name_plural = _("收据号序列")

    def __str__(self) -> str:
        return f"{self.project_id}: {self.last_no}"


class Payment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="payments")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payments")
    receipt_no = models.PositiveIntegerField(_("收据号"))
    amount = models.DecimalField(_("实收金额"), **MONEY)
    business_date = models.DateField(_("收款日期"), db_index=True)
    received_at = models.DateTimeField(_("收款时间"))
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("收款人"),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("收款")
        verbose_name_plural = _("收款")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "receipt_no"], name="receipt_no_unique_in_project"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive"),
        ]
        indexes = [
            models.Index(
                fields=["project", "cashier", "business_date"], name="payment_cashier_day_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"No.{self.receipt_no:08d}"


class PaymentLine(models.Model):
    """How a payment was made: one line per method (WeChat 200 + cash 100)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="lines")
    method = models.CharField(_("支付方式"), max_length=20, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    reference = models.CharField(_("交易单号"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("收款明细")
        verbose_name_plural = _("收款明细")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_line_positive")
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount}"


class PrepaidMovement(models.Model):
    """A change of an account's prepaid balance (预存款); the balance is the sum of its movements."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="prepaid_movements")
    kind = models.CharField(_("类型"), max_length=20, choices=PrepaidKind.choices)
    amount = models.DecimalField(_("金额"), **MONEY)
    effective_date = models.DateField(_("入账日期"))
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    refund = models.ForeignKey(
        "Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("预存款变动")
        verbose_name_plural = _("预存款变动")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="prepaid_movement_nonzero")
        ]
        indexes = [
            models.Index(fields=["account", "effective_date"], name="prepaid_account_date_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.effective_date})"


class Allocation(models.Model):
    """A share of a payment, or of prepaid balance, applied to a bill (核销). Negative when reversed."""

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(_("金额"), **MONEY)
    effective_date = models.DateField(_("入账日期"))
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="allocations"
    )
    prepaid = models.ForeignKey(
        PrepaidMovement, on_delete=models.PROTECT, null=True, blank=True, related_name="allocations"
    )
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("核销")
        verbose_name_plural = _("核销")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="allocation_nonzero"),
            models.CheckConstraint(
                condition=Q(payment__isnull=False, prepaid__isnull=True)
                | Q(payment__isnull=True, prepaid__isnull=False),
                name="allocation_has_one_source",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0, reverses__isnull=True)
                | Q(amount__lt=0, reverses__isnull=False),
                name="negative_allocation_reverses_one",
            ),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=Q(reverses__isnull=False),
                name="allocation_reversed_once",
            ),
        ]
        indexes = [models.Index(fields=["bill", "effective_date"], name="allocation_bill_date_idx")]

    def __str__(self) -> str:
        return f"核销 {self.amount} → 账单 {self.bill_id} ({self.effective_date})"


class PaymentReversal(models.Model):
    """冲红 of a payment, with the reason and the supervisor who approved it."""

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="reversal")
    business_date = models.DateField(_("冲红日期"))
    reason = models.CharField(_("原因"), max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("收款冲红")
        verbose_name_plural = _("收款冲红")
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="payment_reversal_has_reason")
        ]

    def __str__(self) -> str:
        return f"冲红 {self.payment} ({self.business_date})"


class Refund(models.Model):
    """Prepaid balance paid back to the payer, with reason and approval."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(_("退款金额"), **MONEY)
    method = models.CharField(_("退款方式"), max_length=20, choices=PaymentMethod.choices)
    business_date = models.DateField(_("退款日期"))
    reason = models.CharField(_("原因"), max_length=200)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="refund_has_reason"),
        ]

    def __str__(self) -> str:
        return f"退款 {self.amount} ({self.business_date})"


class ReceiptPrint(models.Model):
    """Each time a receipt is printed; every print after the first is marked 补打."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="prints")
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("打印人"),
    )
    is_reprint = models.BooleanField(_("补打"), default=False)
    paper = models.CharField(_("纸张"), max_length=10, default="a4")
    printed_at = models.DateTimeField(_("打印时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("收据打印记录")
        verbose_name_plural = _("收据打印记录")

    def __str__(self) -> str:
        return f"{'补打' if self.is_reprint else '打印'} {self.payment_id}"


class InvoiceRequest(models.Model):
    """A request for a (digital) invoice, recorded for finance (LAW.md §12: we do not issue tax invoices)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="invoice_requests")
    kind = models.CharField(
        _("发票类型"), max_length=20, choices=InvoiceKind.choices, default=InvoiceKind.NORMAL
    )
    title = models.CharField(_("发票抬头"), max_length=100)
    tax_number = models.CharField(_("税号"), max_length=30, blank=True)
    email = models.EmailField(_("接收邮箱"), blank=True)
    phone = models.CharField(_("接收手机"), max_length=20, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    invoice_no = models.CharField(_("发票号码"), max_length=30, blank=True)
    issued_at = models.DateTimeField(_("标记开票时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("开票申请")
        verbose_name_plural = _("开票申请")

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"


class CashierClosing(models.Model):
    """日结: a cashier's day, totals per method. After it, that day's entries for the cashier are locked."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="closings")
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    business_date = models.DateField(_("日期"))
    totals = models.JSONField(_("各方式合计"), default=dict)
    total_amount = models.DecimalField(_("合计"), **MONEY)
    payment_count = models.PositiveIntegerField(_("收款笔数"))
    reversal_count = models.PositiveIntegerField(_("冲红笔数"))
    closed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("收费员日结")
        verbose_name_plural = _("收费员日结")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "cashier", "business_date"], name="one_closing_per_cashier_day"
            ),
        ]

    def __str__(self) -> str:
        return f"日结 {self.cashier_id} {self.business_date}"
