"""Writes of the owner page: revoking a link, one-time SMS codes, invoice requests, tickets.

The owner is not a user: writes made from the owner page are audited with no user and the link's
id in the changes, so staff can tell them from their own.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.masking import mask_phone
from wuye.core.models import User
from wuye.core.roles import INVOICE_ISSUER_ROLES, OWNER_LINK_REVOKER_ROLES
from wuye.core.scope import actor_role
from wuye.ledger.models import Payment, PaymentReversal
from wuye.messaging.services import code_sms_send
from wuye.owner import selectors
from wuye.owner.models import InvoiceStatus, OwnerCode, OwnerInvoiceRequest, OwnerLink
from wuye.owner.selectors import OWNER_TICKET_PREFIX
from wuye.owner.taxno import tax_number_valid
from wuye.registry.enums import TicketCategory
from wuye.registry.models import ServiceTicket
from wuye.registry.services import ticket_create

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# --- the link ------------------------------------------------------------------------------------


def link_revoke(*, user: User, link: OwnerLink, reason: str) -> OwnerLink:
    """Stops every copy of the household's link (printed, sent, forwarded). The next notice or
    message carries a new one."""
    actor_role(user, link.project_id, OWNER_LINK_REVOKER_ROLES, "停用业主缴费链接")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写停用原因（如：链接被转发给他人、房屋已过户）", field="reason")
    if len(reason) > 200:
        raise ValidationFailed("停用原因最多 200 字", field="reason")
    with transaction.atomic():
        locked = OwnerLink.objects.select_for_update().get(pk=link.pk)
        if locked.revoked_at is not None:
            raise ValidationFailed("该链接已停用", field="link")
        locked.revoked_at, locked.revoked_by, locked.revoke_reason = timezone.now(), user, reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit_record(
            user=user,
            action="停用业主缴费链接",
            obj=locked,
            project=locked.project_id,
            changes={"account": locked.account_id, "reason": reason},
        )
    return locked


# --- one-time SMS codes ----------------------------------------------------------------------------


def _hash(code_id_seed: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{code_id_seed}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def code_send(
    *, link: OwnerLink, phone_id: int, ip: str | None, now: datetime.datetime | None = None
) -> OwnerCode:
    """Sends a 6-digit code to a phone on file for the household (``selectors.phones_on_file``).

    Limits: ``WUYE_OWNER_CODES_PER_HOUR`` codes per household and ``WUYE_OWNER_CODES_PER_IP_HOUR``
    per address in an hour. The dunning SMS caps and the 08:00–21:00 window (LAW.md §8, the
    company's own messages) do not apply: the owner asked for this code and is waiting for it."""
    now = now or timezone.now()
    phone = next((p for p in selectors.phones_on_file(link.account) if p.pk == phone_id), None)
    if phone is None:
        raise ValidationFailed("请选择本户登记的手机号码", field="phone")
    per_household = _setting("WUYE_OWNER_CODES_PER_HOUR", 5)
    per_ip = _setting("WUYE_OWNER_CODES_PER_IP_HOUR", 20)
    with transaction.atomic():
        OwnerLink.objects.select_for_update().filter(pk=link.pk).first()
        recent = OwnerCode.objects.filter(created_at__gt=now - HOUR)
        if recent.filter(link__account_id=link.account_id).count() >= per_household:
            raise ValidationFailed(
                f"验证码发送过于频繁（每小时最多 {per_household} 次），请稍后再试", field="phone"
            )
        if ip and recent.filter(ip=ip).count() >= per_ip:
            raise ValidationFailed("验证码发送过于频繁，请稍后再试", field="phone")
        code = f"{secrets.randbelow(10**6):06d}"
        seed = secrets.token_hex(8)
        minutes = _setting("WUYE_OWNER_CODE_MINUTES", 5)
        row = OwnerCode.objects.create(
            link=link,
            phone=phone.number,
            code_hash=f"{seed}${_hash(seed, code)}",
            ip=ip or None,
            created_at=now,
            expires_at=now + datetime.timedelta(minutes=minutes),
        )
    code_sms_send(
        project_id=link.project_id,
        account_id=link.account_id,
        to=phone.number,
        body=(
            f"【{link.project.name}】您的缴费查询验证码为 {code}，{minutes} 分钟内有效。"
            "如非本人操作，请忽略本短信。"
        ),
        code=code,
    )
    return row


def code_verify(*, link: OwnerLink, code: str, now: datetime.datetime | None = None) -> None:
    """Checks the household's latest code: refused when wrong, expired, used or tried
    ``WUYE_OWNER_CODE_TRIES`` times (then a new code is needed), and after
    ``WUYE_OWNER_CODE_TRIES_PER_DAY`` wrong tries of the household in 24 hours (whichever code)."""
    now = now or timezone.now()
    code = "".join(ch for ch in (code or "") if not ch.isspace())
    max_tries = _setting("WUYE_OWNER_CODE_TRIES", 5)
    per_day = _setting("WUYE_OWNER_CODE_TRIES_PER_DAY", 20)
    with transaction.atomic():
        # The link's row is the lock: two tries at once of one household count one after the other.
        OwnerLink.objects.select_for_update().filter(pk=link.pk).first()
        if selectors.wrong_code_tries_since(link.account, now - DAY) >= per_day:
            raise ValidationFailed(
                "今天验证码错误次数过多，为保护您的信息请明天再试，或联系物业服务中心", field="code"
            )
        row = (
            OwnerCode.objects.select_for_update()
            .filter(link=link, used_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        if row is None:
            raise ValidationFailed("请先获取验证码", field="code")
        if row.expires_at <= now:
            raise ValidationFailed("验证码已过期，请重新获取", field="code")
        if row.tries >= max_tries:
            raise ValidationFailed("验证码错误次数过多，请重新获取", field="code")
        row.tries += 1
        seed, _, digest = row.code_hash.partition("$")
        ok = len(code) == 6 and code.isdigit() and hmac.compare_digest(digest, _hash(seed, code))
        if ok:
            row.used_at = now
        row.save(update_fields=["tries", "used_at"])
        if ok:
            audit_record(
                user=None,
                action="业主验证身份",
                obj=link,
                project=link.project_id,
                changes={"account": link.account_id, "phone": mask_phone(row.phone)},
            )
    if not ok:  # refused after the try is saved, so wrong tries count
        left = max_tries - row.tries
        raise ValidationFailed(
            f"验证码不正确，还可再试 {left} 次" if left else "验证码错误次数过多，请重新获取",
            field="code",
        )


# --- invoice requests and tickets -----------------------------------------------------------------


def invoice_request_create(
    *, link: OwnerLink, payment: Payment, title: str, tax_number: str = "", email: str = ""
) -> OwnerInvoiceRequest:
    """开票申请 from the owner page, for finance (LAW.md §12: the invoice itself is issued on the
    tax platform). The payment must be the household's own, not reversed (冲红), and not asked
    for before: one request per payment, so finance never issue two invoices for one receipt."""
    if payment.account_id != link.account_id:
        raise ValidationFailed("没有这笔缴费", field="payment")
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("请填写发票抬头（个人姓名或单位名称）", field="title")
    if len(title) > 100:
        raise ValidationFailed("发票抬头最多 100 字", field="title")
    tax_number = (tax_number or "").strip().upper()
    if tax_number and not tax_number_valid(tax_number):
        raise ValidationFailed(
            "税号不正确：统一社会信用代码为 18 位（末位校验码须正确），旧税号为 15 或 20 位",
            field="tax_number",
        )
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationFailed(
            "请填写正确的接收邮箱（数电发票发送到此邮箱）", field="email"
        ) from exc
    with transaction.atomic():
        # The payment's row is the lock: two requests at once for it are taken one after the other.
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if PaymentReversal.objects.filter(payment=locked).exists():
            raise ValidationFailed(
                "这笔缴费已冲红（款项已退回或改收），不能申请开票", field="payment"
            )
        earlier = OwnerInvoiceRequest.objects.filter(payment=locked).order_by("created_at").first()
        if earlier is not None:
            raise ValidationFailed(
                f"这笔缴费已申请开票（{timezone.localtime(earlier.created_at):%Y-%m-%d}，"
                f"{earlier.get_status_display()}），请勿重复申请；如需更改抬头请联系物业服务中心",
                field="payment",
            )
        request = OwnerInvoiceRequest.objects.create(
            project_id=link.project_id,
            payment=payment,
            title=title,
            tax_number=tax_number,
            email=email,
        )
        audit_record(
            user=None,
            action="业主开票申请",
            obj=request,
            project=link.project_id,
            changes={"payment": payment.pk, "title": title, "tax_number": tax_number},
        )
    return request


def invoice_request_mark_issued(*, user: User, request: OwnerInvoiceRequest) -> None:
    actor_role(user, request.project_id, INVOICE_ISSUER_ROLES, "标记业主开票申请已开票")
    with transaction.atomic():
        locked = OwnerInvoiceRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != InvoiceStatus.REQUESTED:
            raise ValidationFailed("该申请已开票", field="status")
        locked.status, locked.issued_at, locked.issued_by = (
            InvoiceStatus.ISSUED,
            timezone.now(),
            user,
        )
        locked.save(update_fields=["status", "issued_at", "issued_by"])
        audit_record(
            user=user,
            action="业主开票申请已开票",
            obj=locked,
            project=locked.project_id,
            changes={"status": [InvoiceStatus.REQUESTED, InvoiceStatus.ISSUED]},
        )


TICKET_KINDS = {
    "statement": (TicketCategory.OTHER, "对账单有疑问"),
    "repair": (TicketCategory.REPAIR, "报修"),
}


def ticket_open(*, link: OwnerLink, kind: str, description: str) -> ServiceTicket:
    """“对账单有疑问 / 报修” from the owner page: a ticket on the household file; at most
    ``WUYE_OWNER_TICKETS_PER_DAY`` (default 5) in 24 hours per household."""
    if kind not in TICKET_KINDS:
        raise ValidationFailed("请选择“对账单有疑问”或“报修”", field="kind")
    description = (description or "").strip()
    if not description:
        raise ValidationFailed("请说明情况", field="description")
    if len(description) > 1000:
        raise ValidationFailed("说明最多 1000 字", field="description")
    category, subject = TICKET_KINDS[kind]
    per_day = _setting("WUYE_OWNER_TICKETS_PER_DAY", 5)
    with transaction.atomic():
        OwnerLink.objects.select_for_update().filter(pk=link.pk).first()
        now = timezone.now()
        if selectors.owner_tickets_since(link.account, now - DAY) >= per_day:
            phone = link.project.service_phone
            raise ValidationFailed(
                f"今天已提交较多问题（每天最多 {per_day} 次），请稍后再试"
                + (f"，或致电物业服务中心 {phone}" if phone else "，或联系物业服务中心"),
                field="description",
            )
        return ticket_create(
            user=None,
            room=link.account.room,
            category=category,
            subject=f"{OWNER_TICKET_PREFIX}{subject}",
            description=description,
            person=link.account.payer,
            opened_at=now,
        )
