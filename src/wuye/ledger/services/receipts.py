"""收据与发票 (docs/user/收银台.md): printing and reprinting (补打) a payment's receipt, and the
invoice requests (开票申请) finance issue on the tax platform.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from wuye.core import roles
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import User
from wuye.core.scope import actor_role
from wuye.ledger.enums import InvoiceKind, InvoiceStatus
from wuye.ledger.locking import lock_payment
from wuye.ledger.models import InvoiceRequest, Payment, PaymentReversal, ReceiptPrint

PAPERS = {"a4": "A4", "roll": "收据纸"}


# --- receipts and invoices -------------------------------------------------------------------------


def receipt_print_record(*, user: User, payment: Payment, paper: str = "a4") -> ReceiptPrint:
    """Records a print of a payment's receipt; every print after the first is a reprint (补打)."""
    if paper not in PAPERS:
        raise ValidationFailed(
            f"纸张须为 {'、'.join(f'{k}（{v}）' for k, v in PAPERS.items())}", field="paper"
        )
    actor_role(user, payment.project_id, roles.COLLECTOR_ROLES, "打印收据")
    with transaction.atomic():
        payment = lock_payment(payment.pk)
        is_reprint = ReceiptPrint.objects.filter(payment=payment).exists()
        printed = ReceiptPrint.objects.create(
            payment=payment, printed_by=user, is_reprint=is_reprint, paper=paper
        )
        audit_record(
            user=user,
            action="补打收据" if is_reprint else "打印收据",
            obj=payment,
            project=payment.project_id,
            changes={"paper": paper, "is_reprint": is_reprint},
        )
    return printed


def invoice_request_create(
    *,
    user: User,
    payment: Payment,
    title: str,
    tax_number: str = "",
    email: str = "",
    phone: str = "",
    kind: str = InvoiceKind.NORMAL,
) -> InvoiceRequest:
    """开票申请 recorded for finance, who issue the (digital) invoice on the tax platform (LAW.md §12:
    we record requests and export what the platform needs; we do not issue tax invoices)."""
    actor_role(user, payment.project_id, roles.COLLECTOR_ROLES, "登记开票申请")
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("请填写发票抬头（个人姓名或单位名称）", field="title")
    if len(title) > 100:
        raise ValidationFailed("发票抬头最多 100 字", field="title")
    if kind not in InvoiceKind.values:
        raise ValidationFailed(
            f"发票类型须为{'或'.join(str(label) for label in InvoiceKind.labels)}", field="kind"
        )
    tax_number = (tax_number or "").strip().upper()
    if kind == InvoiceKind.SPECIAL and not tax_number:
        raise ValidationFailed("增值税专用发票须填写单位的纳税人识别号", field="tax_number")
    if tax_number and not (tax_number.isalnum() and 15 <= len(tax_number) <= 20):
        raise ValidationFailed(
            "税号应为 15–20 位字母或数字（统一社会信用代码为 18 位）", field="tax_number"
        )
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationFailed(f"邮箱“{email}”格式不正确", field="email") from exc
    phone = "".join(ch for ch in (phone or "") if ch.isdigit())
    if phone and not (len(phone) == 11 and phone.startswith("1")):
        raise ValidationFailed("接收手机须为 11 位手机号", field="phone")
    if not email and not phone:
        raise ValidationFailed("数电发票须填写接收邮箱或手机号", field="email")
    with transaction.atomic():
        payment = lock_payment(payment.pk)
        if PaymentReversal.objects.filter(payment=payment).exists():
            raise ValidationFailed("该收款已冲红，不能申请发票", field="payment")
        request = InvoiceRequest.objects.create(
            payment=payment,
            title=title,
            tax_number=tax_number,
            email=email,
            phone=phone,
            kind=kind,
            status=InvoiceStatus.REQUESTED,
            requested_by=user,
        )
        audit_record(
            user=user,
            action="开票申请",
            obj=request,
            project=payment.project_id,
            changes={
                "payment": payment.pk,
                "kind": kind,
                "title": title,
                "tax_number": tax_number,
            },
        )
    return request


def invoice_request_mark_issued(
    *, user: User, invoice_request: InvoiceRequest, invoice_no: str = ""
) -> InvoiceRequest:
    """Finance record that the invoice of a request was issued on the tax platform (已开票), with
    the invoice number when they have it. Only a request still waiting (待开票) can be marked."""
    actor_role(user, invoice_request.payment.project_id, roles.INVOICE_ISSUER_ROLES, "标记已开票")
    invoice_no = (invoice_no or "").strip()
    if len(invoice_no) > 30:
        raise ValidationFailed("发票号码最多 30 个字符", field="invoice_no")
    with transaction.atomic():
        locked = InvoiceRequest.objects.select_for_update().get(pk=invoice_request.pk)
        if locked.status != InvoiceStatus.REQUESTED:
            raise ValidationFailed(
                f"该申请已是“{locked.get_status_display()}”，不能再标记为已开票",
                code="ledger.invoice_not_pending",
                field="status",
            )
        locked.status = InvoiceStatus.ISSUED
        locked.invoice_no = invoice_no
        locked.issued_at = timezone.now()
        locked.save(update_fields=["status", "invoice_no", "issued_at"])
        audit_record(
            user=user,
            action="标记已开票",
            obj=locked,
            project=locked.payment.project_id,
            changes={
                "status": [InvoiceStatus.REQUESTED, InvoiceStatus.ISSUED],
                "invoice_no": invoice_no,
            },
        )
    invoice_request.status = locked.status
    return locked
