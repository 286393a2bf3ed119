"""代扣授权 (docs/user/银行代扣.md): a household's authorisation for bank withholding — bank, account
number (stored in full for the bank's file, masked everywhere else with
``core.masking.mask_bank_account``), holder, signed date, the scanned agreement (checked by content
through ``core.uploads``), active or cancelled; audited. Finance manages them (SPEC §1); supervisors
and managers may too (``core.roles.BANK_FINANCE_ROLES``).
"""

from __future__ import annotations

import datetime
import re

from django.db import transaction
from django.utils import timezone

from wuye.banking.models import WithholdingAuthorization
from wuye.billing.models import Account
from wuye.core import uploads
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.importing import halfwidth
from wuye.core.masking import mask_bank_account
from wuye.core.models import User
from wuye.core.roles import BANK_FINANCE_ROLES
from wuye.core.scope import actor_role

AGREEMENT_KINDS = (uploads.JPEG, uploads.PNG, uploads.WEBP, uploads.HEIC, uploads.PDF)
AGREEMENT_ACCEPT = "image/jpeg,image/png,image/webp,image/heic,.heic,application/pdf"


def account_digits(number: object) -> str:
    """A card number as typed or as a bank file writes it: half-width, without spaces or dashes."""
    return re.sub(r"[\s\-]", "", halfwidth(str(number or "")))


def authorization_add(
    *,
    user: User,
    account: Account,
    bank: str,
    account_number: str,
    holder: str,
    signed_on: datetime.date | None,
    agreement=None,
) -> WithholdingAuthorization:
    """登记代扣授权 for a household. Refused: a blank bank or holder, an account number that is not
    8–30 digits, a signing date in the future, an agreement file that is not a picture or PDF (by its
    content), a household that already has an active authorisation (cancel it first)."""
    actor_role(user, account.project_id, BANK_FINANCE_ROLES, "登记代扣授权")
    bank = (bank or "").strip()
    holder = (holder or "").strip()
    number = account_digits(account_number)
    if not bank:
        raise ValidationFailed("请填写扣款银行", field="bank")
    if len(bank) > 60:
        raise ValidationFailed("扣款银行最多 60 字", field="bank")
    if not re.fullmatch(r"[0-9]{8,30}", number):
        raise ValidationFailed("扣款账号应为 8–30 位数字", field="account_number")
    if not holder:
        raise ValidationFailed("请填写账户户名", field="holder")
    if len(holder) > 100:
        raise ValidationFailed("账户户名最多 100 字", field="holder")
    if signed_on is None:
        raise ValidationFailed("请填写签约日期", field="signed_on")
    if signed_on > timezone.localdate():
        raise ValidationFailed("签约日期不能晚于今天", field="signed_on")
    kind = None
    if agreement is not None:
        kind = uploads.check_upload(agreement, field="agreement", allowed=AGREEMENT_KINDS)
    with transaction.atomic():
        Account.objects.select_for_update(of=("self",)).filter(pk=account.pk).first()
        active = WithholdingAuthorization.objects.filter(account=account, is_active=True).first()
        if active is not None:
            raise ValidationFailed(
                f"该户已有有效的代扣授权（{active.bank} {mask_bank_account(active.account_number)}），"
                "请先取消原授权再登记新的",
                field="account",
                code="banking.withholding_exists",
            )
        auth = WithholdingAuthorization(
            project_id=account.project_id,
            account=account,
            bank=bank,
            account_number=number,
            holder=holder,
            signed_on=signed_on,
            created_by=user,
        )
        if agreement is not None and kind is not None:
            auth.agreement.save(uploads.stored_name(agreement.name, kind), agreement, save=False)
        auth.save()
        audit_record(
            user=user,
            action="代扣授权登记",
            obj=auth,
            project=account.project_id,
            changes={
                "room": account.room.code,
                "bank": bank,
                "account_number": mask_bank_account(number),
                "holder": holder,
                "signed_on": signed_on,
                "agreement": bool(agreement),
            },
        )
    return auth


def authorization_cancel(
    *, user: User, authorization: WithholdingAuthorization, reason: str
) -> WithholdingAuthorization:
    """取消代扣授权 (the owner withdrew it, or changed card). A line already in a batch stays: the
    bank answers it."""
    actor_role(user, authorization.project_id, BANK_FINANCE_ROLES, "取消代扣授权")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写取消原因", field="reason")
    if len(reason) > 200:
        raise ValidationFailed("原因最多 200 字", field="reason")
    with transaction.atomic():
        locked = WithholdingAuthorization.objects.select_for_update(of=("self",)).get(
            pk=authorization.pk
        )
        if not locked.is_active:
            raise ValidationFailed("该授权已取消", field="authorization")
        locked.is_active = False
        locked.cancelled_on = timezone.localdate()
        locked.cancel_reason = reason
        locked.save(update_fields=["is_active", "cancelled_on", "cancel_reason"])
        audit_record(
            user=user,
            action="代扣授权取消",
            obj=locked,
            project=locked.project_id,
            changes={"reason": reason, "account_number": mask_bank_account(locked.account_number)},
        )
    return locked
