"""认领 (docs/user/银行流水与待认领款.md: 一笔钱怎么入账, 待认领款, 认错了怎么办): a line of the queue
claimed for one household or split over several, a claim undone, unclaimed money paid back.

Money reaches the ledger only through ``ledger.services.payments.payment_record`` (method 银行转账, the
bank's serial as the transaction reference) and leaves it only through ``payment_reverse``; dunning
hears of each payment through the ledger's ``WUYE_AFTER_PAYMENT`` hooks, so a case closes exactly as
after a payment at the window. (The automatic matches of an import are posted many at once by
``auto_posting``, with the same checks.)

**Dates.** A claim posts on the transfer date (交易日期), so the household's account shows when the money
arrived and no late fee runs past it. When the person confirming has already closed that day (日结),
the ledger refuses entries dated on it; the payment is then posted on today's date and its note keeps
the transfer date ("转账日期 … 已日结，按今日入账"). A transfer dated in the future is refused.
Late fees are not charged on bank money (``include_late_fees=False``): the owner paid an amount for
their bills; a late fee is a separate decision for the window.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from wuye.banking import matching
from wuye.banking.enums import Direction, LineStatus, MatchSource
from wuye.banking.models import Claim, ClaimPart, PayerCard, StatementLine
from wuye.billing.accounts import account_for
from wuye.billing.models import Account
from wuye.core import roles
from wuye.core.approvals import approver_check, four_eyes_check
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import User
from wuye.core.money import ZERO, money, to_decimal
from wuye.core.scope import actor_role
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.selectors.closing import day_is_closed
from wuye.ledger.services.payments import payment_record
from wuye.ledger.services.reversals import payment_reverse
from wuye.registry.models import Room
from wuye.registry.normalize import parse_room_code, room_code


def incoming(line: StatementLine) -> matching.Incoming:
    """What the matcher reads of a stored line."""
    return matching.Incoming(
        amount=line.amount,
        counterparty_name=line.counterparty_name,
        counterparty_account=line.counterparty_account,
        summary=line.summary,
        remark=line.remark,
    )


def rematch(line: StatementLine) -> StatementLine:
    """Refreshes the suggestions of a queued line (after an undo, or when the queue is opened)."""
    index = matching.ProjectIndex.load(line.bank_account.project_id)
    decision = matching.decide(index, incoming(line))
    line.score, line.reasons, line.suggestions = (
        decision.score,
        decision.reasons,
        decision.suggestions,
    )
    line.decided = True
    line.save(update_fields=["score", "reasons", "suggestions", "decided"])
    return line


def _posting_date(project_id: int, user: User, line: StatementLine) -> tuple[datetime.date, str]:
    today = timezone.localdate()
    if line.txn_date > today:
        raise ValidationFailed(
            f"交易日期 {line.txn_date:%Y-%m-%d} 晚于今天，不能入账", field="line"
        )
    if day_is_closed(project_id, user.pk, line.txn_date):
        return today, f"转账日期 {line.txn_date:%Y-%m-%d} 已日结，按今日入账"
    return line.txn_date, ""


def clean_parts(
    line: StatementLine, parts: list[tuple[Account, object]]
) -> list[tuple[Account, Decimal]]:
    """The parts of a claim, checked: households of the line's project, each once, amounts above 0
    adding up to the line's amount exactly (also for the automatic matches of ``auto_posting``)."""
    if not parts:
        raise ValidationFailed("请选择认领的住户", field="parts")
    cleaned: list[tuple[Account, Decimal]] = []
    seen: set[int] = set()
    for account, value in parts:
        if account.project_id != line.bank_account.project_id:
            raise ValidationFailed("不能认领到其他项目的住户", field="parts")
        if account.pk in seen:
            raise ValidationFailed(f"住户 {account.room.code} 重复填写", field="parts")
        seen.add(account.pk)
        try:
            amount = money(to_decimal(value))
        except Exception as exc:  # noqa: BLE001 - any unreadable amount is the user's input
            raise ValidationFailed(f"金额“{value}”无效", field="parts") from exc
        if amount <= 0:
            raise ValidationFailed(f"{account.room.code} 的金额须大于 0", field="parts")
        cleaned.append((account, amount))
    total = sum((a for _, a in cleaned), ZERO)
    if total != line.amount:
        raise ValidationFailed(f"拆分合计 {total} 元与流水金额 {line.amount} 元不符", field="parts")
    return cleaned


def claim_confirm(
    *,
    user: User,
    line: StatementLine,
    parts: list[tuple[Account, object]],
    source: str = MatchSource.MANUAL,
    score: int = 0,
    reasons: list[str] | None = None,
) -> Claim:
    """认领: posts ``line`` to the households in ``parts`` (account, amount), which must add up to the
    line's amount exactly. One payment per household through ``payment_record`` (银行转账, the bank
    serial as reference, oldest bills first and the rest to prepaid balance). Refused for a line that
    is outgoing, already claimed or refunded. Remembers the payer's card for each household."""
    project_id = line.bank_account.project_id
    actor_role(user, project_id, roles.BANK_FINANCE_ROLES, "认领银行流水")
    cleaned = clean_parts(line, parts)
    reference = (line.serial or f"流水{line.pk}")[:64]
    with transaction.atomic():
        locked = StatementLine.objects.select_for_update().get(pk=line.pk)
        if locked.direction != Direction.IN:
            raise ValidationFailed("支出流水不能认领", field="line")
        if locked.status != LineStatus.REVIEW:
            raise ValidationFailed(
                f"该流水已{locked.get_status_display()}，不能再认领（可能刚由他人处理），请刷新",
                code="banking.line_taken",
                field="line",
            )
        day, note = _posting_date(project_id, user, locked)
        attempt = Claim.objects.filter(line=locked).count() + 1
        claim = Claim.objects.create(
            line=locked,
            source=source,
            score=score,
            reasons=list(reasons or []),
            confirmed_by=user,
        )
        posted = []
        for n, (account, amount) in enumerate(cleaned, start=1):
            text = f"银行转账 {locked.txn_date:%Y-%m-%d} {locked.counterparty_name}"
            payment = payment_record(
                user=user,
                account=account,
                lines=[(PaymentMethod.TRANSFER, amount, reference)],
                business_date=day,
                include_late_fees=False,
                idempotency_key=f"bank-{locked.pk}-{attempt}-{n}",
                note=f"{text}；{note}"[:200] if note else text[:200],
            )
            ClaimPart.objects.create(claim=claim, account=account, amount=amount, payment=payment)
            posted.append([account.room.code, amount, payment.receipt_no])
            _remember_card(locked, account)
        locked.status = LineStatus.MATCHED
        locked.save(update_fields=["status"])
        line.status = LineStatus.MATCHED
        audit_record(
            user=user,
            action="银行流水认领" if source == MatchSource.MANUAL else "银行流水自动入账",
            obj=locked,
            project=project_id,
            changes={
                "serial": locked.serial,
                "txn_date": locked.txn_date,
                "amount": locked.amount,
                "business_date": day,
                "parts": posted,
                "score": score,
                "reasons": list(reasons or []),
            },
        )
    return claim


def claim_suggestion(*, user: User, line: StatementLine, index: int) -> Claim:
    """One click: confirms the matcher's suggestion number ``index`` of a queued line."""
    suggestions = line.suggestions or []
    if not 0 <= index < len(suggestions):
        raise ValidationFailed("该建议已不存在，请刷新页面", field="suggestion")
    chosen = suggestions[index]
    accounts = {
        a.pk: a
        for a in Account.objects.filter(
            pk__in=chosen["accounts"], project_id=line.bank_account.project_id
        ).select_related("room")
    }
    if len(accounts) != len(chosen["accounts"]):
        raise ValidationFailed("建议中的住户已不存在，请刷新页面", field="suggestion")
    parts = [(accounts[a], x) for a, x in zip(chosen["accounts"], chosen["amounts"], strict=True)]
    return claim_confirm(
        user=user,
        line=line,
        parts=parts,
        source=MatchSource.MANUAL,
        score=int(chosen.get("score") or 0),
        reasons=list(chosen.get("reasons") or []),
    )


def claim_to_rooms(*, user: User, line: StatementLine, rooms: list[tuple[str, object]]) -> Claim:
    """Search or split: claims the line for the rooms typed by finance (room code, amount), each
    posted to the room's current payer account."""
    project_id = line.bank_account.project_id
    parts: list[tuple[Account, object]] = []
    for code, amount in rooms:
        try:
            normalized = room_code(*parse_room_code(code))
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="parts") from exc
        room = Room.objects.filter(project_id=project_id, code=normalized).first()
        if room is None:
            raise ValidationFailed(f"房号 {normalized} 不在本项目", field="parts")
        parts.append((account_for(room, user=user), amount))
    return claim_confirm(user=user, line=line, parts=parts, source=MatchSource.MANUAL)


def _remember_card(line: StatementLine, account: Account) -> None:
    if not line.counterparty_account:
        return
    card, created = PayerCard.objects.get_or_create(
        project_id=line.bank_account.project_id,
        number=line.counterparty_account,
        account=account,
        defaults={"holder": line.counterparty_name[:100], "last_seen": line.txn_date},
    )
    if not created:
        PayerCard.objects.filter(pk=card.pk).update(
            times=F("times") + 1,
            last_seen=max(card.last_seen, line.txn_date),
            holder=line.counterparty_name[:100] or card.holder,
        )


def claim_undo(*, user: User, claim: Claim, reason: str, approved_by: User) -> Claim:
    """Undoes a claim by reversing its payments (冲红, with a supervisor's approval); the line returns
    to the queue and the payer card it taught is forgotten for those households."""
    project_id = claim.line.bank_account.project_id
    actor_role(user, project_id, roles.BANK_FINANCE_ROLES, "撤销认领")
    approver_check(project=project_id, approver=approved_by, roles=roles.PAYMENT_APPROVER_ROLES)
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if locked.undone_at is not None:
            raise ValidationFailed("该认领已撤销", field="claim")
        line = StatementLine.objects.select_for_update().get(pk=locked.line_id)
        parts = list(locked.parts.select_related("payment", "account__room"))
        for part in parts:
            payment_reverse(
                user=user,
                payment=part.payment,
                reason=f"撤销银行流水认领：{reason}"[:200],
                approved_by=approved_by,
            )
            if line.counterparty_account:
                card = PayerCard.objects.filter(
                    project_id=project_id, number=line.counterparty_account, account=part.account
                ).first()
                if card is not None and card.times <= 1:
                    card.delete()
                elif card is not None:
                    PayerCard.objects.filter(pk=card.pk).update(times=F("times") - 1)
        locked.undone_at = timezone.now()
        locked.undone_by = user
        locked.save(update_fields=["undone_at", "undone_by"])
        line.status = LineStatus.REVIEW
        line.save(update_fields=["status"])
        audit_record(
            user=user,
            action="撤销银行流水认领",
            obj=line,
            project=project_id,
            changes={
                "reason": reason,
                "approved_by": approved_by.pk,
                "parts": [[p.account.room.code, p.amount, p.payment.receipt_no] for p in parts],
            },
        )
    rematch(line)
    return locked


def line_refund(
    *, user: User, line: StatementLine, reason: str, approved_by: User
) -> StatementLine:
    """Marks unclaimed money as paid back to the sender (the transfer itself is made in web banking),
    with a reason and a supervisor's approval. Never for a claimed line: undo the claim first."""
    project_id = line.bank_account.project_id
    actor_role(user, project_id, roles.BANK_FINANCE_ROLES, "退回款项")
    approver_check(project=project_id, approver=approved_by, roles=roles.PAYMENT_APPROVER_ROLES)
    four_eyes_check(
        approver=approved_by,
        requested_by=user,
        roles=roles.PAYMENT_APPROVER_ROLES,
        doing="退回待认领款",
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写退回原因", field="reason")
    if len(reason) > 200:
        raise ValidationFailed("原因最多 200 字", field="reason")
    with transaction.atomic():
        locked = StatementLine.objects.select_for_update().get(pk=line.pk)
        if locked.status != LineStatus.REVIEW or locked.direction != Direction.IN:
            raise ValidationFailed("只有待认领的收入流水可以退回", field="line")
        locked.status = LineStatus.REFUNDED
        locked.refund_reason = reason
        locked.refunded_by = user
        locked.refund_approved_by = approved_by
        locked.save(update_fields=["status", "refund_reason", "refunded_by", "refund_approved_by"])
        audit_record(
            user=user,
            action="待认领款退回",
            obj=locked,
            project=project_id,
            changes={"amount": locked.amount, "reason": reason, "approved_by": approved_by.pk},
        )
    return locked
