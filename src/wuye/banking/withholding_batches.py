"""代扣批次 (docs/user/银行代扣.md: 每月生成代扣批次): one batch per project, bank and month — a line per
household with an active authorisation and open bills due up to the end of that month, a batch
number and control totals (笔数, 金额); its file is written by ``withholding_files``. A batch the bank
has not answered may be cancelled (作废). While a batch is in flight its households are not chased:
dunning asks ``chase_holds`` through ``WUYE_CHASE_HOLDS`` (管家看到什么).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from wuye.banking.enums import BatchState, LineResult
from wuye.banking.models import WithholdingAuthorization, WithholdingBatch, WithholdingLine
from wuye.banking.withholding_files import template_for
from wuye.billing.calc import month_end, month_start
from wuye.billing.models import Bill
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.models import Project, User
from wuye.core.money import ZERO, money
from wuye.core.roles import BANK_FINANCE_ROLES
from wuye.core.scope import actor_role
from wuye.ledger.selectors.outstanding import bill_outstanding


@dataclass
class Candidate:
    authorization: WithholdingAuthorization
    amount: Decimal
    bill_ids: list[int] = field(default_factory=list)


def in_flight_accounts(project_id: int, account_ids: list[int] | None = None) -> dict[int, object]:
    """{account id: its pending line} for the households in a batch the bank has not answered yet."""
    rows = WithholdingLine.objects.filter(
        batch__project_id=project_id, batch__state=BatchState.SENT, result=LineResult.PENDING
    ).select_related("batch")
    if account_ids is not None:
        rows = rows.filter(account_id__in=account_ids)
    return {line.account_id: line for line in rows}


def batch_candidates(project_id: int, bank: str, month: datetime.date) -> list[Candidate]:
    """The households a batch for ``bank`` and ``month`` would take: an active authorisation signed by
    the end of the month, open bills due up to it, and no line of another batch still in flight."""
    end = month_end(month)
    auths = list(
        WithholdingAuthorization.objects.filter(
            project_id=project_id, bank=bank, is_active=True, signed_on__lte=end
        )
        .select_related("account__room")
        .order_by("account__room__code", "id")
    )
    busy = in_flight_accounts(project_id, [a.account_id for a in auths])
    auths = [a for a in auths if a.account_id not in busy]
    owed: dict[int, list[tuple[int, Decimal]]] = {}
    ids = [a.account_id for a in auths]
    for start in range(0, len(ids), 500):
        rows = (
            bill_outstanding(
                Bill.objects.filter(account_id__in=ids[start : start + 500], due_date__lte=end)
            )
            .filter(outstanding__gt=0)
            .order_by("account_id", "due_date", "id")
            .values_list("account_id", "id", "outstanding")
        )
        for account_id, bill_id, outstanding in rows:
            owed.setdefault(account_id, []).append((bill_id, money(outstanding)))
    found = []
    for auth in auths:
        bills = owed.get(auth.account_id)
        if bills:
            total = sum((x for _, x in bills), ZERO)
            found.append(Candidate(auth, total, [b for b, _ in bills]))
    return found


def _batch_number(project: Project, month: datetime.date) -> str:
    n = WithholdingBatch.objects.filter(project=project, month=month).count() + 1
    while True:
        code = re.sub(r"[^0-9A-Za-z]", "", project.code).upper()
        number = f"DK{code}{month:%Y%m}{n:02d}"
        if not WithholdingBatch.objects.filter(number=number).exists():
            return number
        n += 1


def batch_create(
    *, user: User, project: Project, bank: str, month: datetime.date
) -> WithholdingBatch:
    """生成代扣批次 for the project, bank and month (any day of it). Refused: a month after next, a
    batch for that bank and month that is not cancelled, no household to take."""
    actor_role(user, project.pk, BANK_FINANCE_ROLES, "生成代扣批次")
    bank = (bank or "").strip()
    if not bank:
        raise ValidationFailed("请选择扣款银行", field="bank")
    month = month_start(month)
    today = timezone.localdate()
    if month > month_start(month_end(today) + datetime.timedelta(days=1)):
        raise ValidationFailed("代扣月份最晚为下个月", field="month")
    columns, file_format, encoding = template_for(project.pk, bank)
    try:
        with transaction.atomic():
            list(
                Project.objects.select_for_update(of=("self",))
                .filter(pk=project.pk)
                .values_list("pk")
            )
            existing = (
                WithholdingBatch.objects.filter(project=project, bank=bank, month=month)
                .exclude(state=BatchState.CANCELLED)
                .first()
            )
            if existing is not None:
                raise ValidationFailed(
                    f"{bank} {month:%Y年%m月} 已有代扣批次 {existing.number}（{existing.get_state_display()}），"
                    "不能重复生成；如需重做请先作废该批次",
                    field="month",
                    code="banking.batch_exists",
                )
            candidates = batch_candidates(project.pk, bank, month)
            if not candidates:
                raise ValidationFailed(
                    f"{bank} 没有可代扣的住户（有效授权且 {month:%Y年%m月} 前到期的欠费）",
                    field="bank",
                )
            batch = WithholdingBatch.objects.create(
                project=project,
                bank=bank,
                month=month,
                number=_batch_number(project, month),
                line_count=len(candidates),
                total_amount=sum((c.amount for c in candidates), ZERO),
                columns=columns,
                file_format=file_format,
                encoding=encoding,
                created_by=user,
            )
            WithholdingLine.objects.bulk_create(
                [
                    WithholdingLine(
                        batch=batch,
                        seq=n,
                        authorization=c.authorization,
                        account_id=c.authorization.account_id,
                        amount=c.amount,
                        bill_ids=c.bill_ids,
                    )
                    for n, c in enumerate(candidates, start=1)
                ]
            )
            audit_record(
                user=user,
                action="代扣批次生成",
                obj=batch,
                project=project,
                changes={
                    "number": batch.number,
                    "bank": bank,
                    "month": month,
                    "count": batch.line_count,
                    "total": batch.total_amount,
                },
            )
    except IntegrityError as exc:  # two finance users at the same moment
        raise ValidationFailed(
            "同一银行同一月份的代扣批次刚由他人生成，请刷新", field="month"
        ) from exc
    return batch


def batch_cancel(*, user: User, batch: WithholdingBatch, reason: str) -> WithholdingBatch:
    """作废 a batch the bank has not answered at all (e.g. the file was never sent): its households
    may be chased again and a new batch may be made for the month."""
    actor_role(user, batch.project_id, BANK_FINANCE_ROLES, "作废代扣批次")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写作废原因", field="reason")
    with transaction.atomic():
        locked = WithholdingBatch.objects.select_for_update(of=("self",)).get(pk=batch.pk)
        if locked.state != BatchState.SENT:
            raise ValidationFailed(f"该批次{locked.get_state_display()}，不能作废", field="batch")
        if locked.lines.exclude(result=LineResult.PENDING).exists():
            raise ValidationFailed("该批次已有银行回盘结果，不能作废", field="batch")
        locked.state = BatchState.CANCELLED
        locked.save(update_fields=["state"])
        audit_record(
            user=user,
            action="代扣批次作废",
            obj=locked,
            project=locked.project_id,
            changes={"reason": reason[:200]},
        )
    return locked


# --- what dunning asks ------------------------------------------------------------------------------


def chase_holds(*, project_id: int, account_ids: list[int] | None) -> dict[int, str]:
    """``WUYE_CHASE_HOLDS`` hook: the households in a withholding batch the bank has not answered."""
    return {
        account_id: f"银行代扣处理中（{line.batch.bank} 批次 {line.batch.number}，"
        f"{line.batch.month:%Y年%m月}，¥{line.amount}）"
        for account_id, line in in_flight_accounts(project_id, account_ids).items()
    }
