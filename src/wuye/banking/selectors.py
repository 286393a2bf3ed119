"""Reads of the banking app: the queue (待认领款), a line with its claims, imports."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from wuye.banking.enums import LineStatus
from wuye.banking.models import (
    BankAccount,
    Claim,
    ClaimPart,
    StatementImport,
    StatementLine,
    WithholdingAuthorization,
    WithholdingBatch,
    WithholdingLine,
    WithholdingReturn,
)
from wuye.core.money import ZERO, money

QUEUE_PAGE = 50


def lines_in(project_ids: Iterable[int]) -> QuerySet[StatementLine]:
    return StatementLine.objects.filter(bank_account__project_id__in=list(project_ids))


@dataclass
class QueueSummary:
    count: int
    amount: Decimal
    older_than_30: int
    older_amount: Decimal


def queue(
    project_id: int, *, text: str = "", unidentified: bool = False
) -> QuerySet[StatementLine]:
    """Incoming lines nobody has claimed yet, oldest first; ``unidentified`` keeps those the matcher
    found no candidate for (无人认领)."""
    rows = lines_in([project_id]).filter(status=LineStatus.REVIEW).select_related("bank_account")
    if unidentified:
        rows = rows.filter(suggestions=[])
    text = (text or "").strip()
    if text:
        rows = rows.filter(
            Q(counterparty_name__icontains=text)
            | Q(remark__icontains=text)
            | Q(serial__icontains=text)
            | Q(counterparty_account__endswith=text)
            | Q(amount=_amount_or_none(text))
        )
    return rows.order_by("txn_date", "txn_time", "id")


def _amount_or_none(text: str) -> Decimal | None:
    try:
        return money(text)
    except Exception:  # noqa: BLE001 - not an amount: the amount branch matches nothing
        return Decimal("-1")


def queue_summary(project_id: int, today: datetime.date | None = None) -> QueueSummary:
    today = today or timezone.localdate()
    rows = lines_in([project_id]).filter(status=LineStatus.REVIEW)
    cutoff = today - datetime.timedelta(days=30)
    totals = rows.aggregate(
        n=Count("id"),
        total=Sum("amount"),
        old=Count("id", filter=Q(txn_date__lt=cutoff)),
        old_total=Sum("amount", filter=Q(txn_date__lt=cutoff)),
    )
    return QueueSummary(
        totals["n"] or 0,
        money(totals["total"] or ZERO),
        totals["old"] or 0,
        money(totals["old_total"] or ZERO),
    )


def age_days(line: StatementLine, today: datetime.date | None = None) -> int:
    return ((today or timezone.localdate()) - line.txn_date).days


def line_detail(line_id: int, project_ids: Iterable[int]) -> StatementLine | None:
    return (
        lines_in(project_ids)
        .select_related("bank_account__project", "statement_import", "refunded_by")
        .prefetch_related(
            Prefetch(
                "claims",
                queryset=Claim.objects.select_related("confirmed_by", "undone_by")
                .prefetch_related(
                    Prefetch(
                        "parts",
                        queryset=ClaimPart.objects.select_related(
                            "account__room", "account__payer", "payment__reversal"
                        ),
                    )
                )
                .order_by("-confirmed_at"),
            )
        )
        .filter(pk=line_id)
        .first()
    )


def claim_in_force(line: StatementLine) -> Claim | None:
    return next((c for c in line.claims.all() if c.undone_at is None), None)


def imports_of(project_id: int, limit: int = 30) -> list[StatementImport]:
    return list(
        StatementImport.objects.filter(project_id=project_id)
        .select_related("bank_account", "user")
        .order_by("-created_at", "-id")[:limit]
    )


def import_detail(import_id: int, project_ids: Iterable[int]) -> StatementImport | None:
    return (
        StatementImport.objects.filter(pk=import_id, project_id__in=list(project_ids))
        .select_related("bank_account", "user")
        .first()
    )


def lines_of_import(statement: StatementImport) -> QuerySet[StatementLine]:
    return statement.lines.prefetch_related(
        Prefetch(
            "claims",
            queryset=Claim.objects.filter(undone_at__isnull=True).prefetch_related(
                Prefetch("parts", queryset=ClaimPart.objects.select_related("account__room"))
            ),
        )
    ).order_by("txn_date", "txn_time", "id")


def bank_accounts_of(project_id: int) -> list[BankAccount]:
    return list(BankAccount.objects.filter(project_id=project_id, is_active=True).order_by("id"))


def notice_bank_details(*, project) -> str:
    """``WUYE_NOTICE_BANK_DETAILS`` hook: how to pay by bank transfer, for the payment notice; ``{room}``
    stands for the household's room code (the reference to write in the remark, so that the transfer
    matches by itself). Empty when the project has no receiving account to print."""
    account = (
        BankAccount.objects.filter(project=project, is_active=True, on_notices=True)
        .order_by("id")
        .first()
    )
    if account is None:
        return ""
    parts = [
        f"户名：{account.name}" if account.name else "",
        f"开户行：{account.bank}" if account.bank else "",
    ]
    parts.append(f"账号：{account.number}")
    who = "，".join(p for p in parts if p)
    return f"银行转账：{who}。转账时请在附言中注明房号“{{room}}”，款项将自动入账。"


# --- bank withholding (银行代扣) ---------------------------------------------------------------------


def authorizations_of(project_id: int, *, text: str = "", active: bool | None = True):
    rows = WithholdingAuthorization.objects.filter(project_id=project_id).select_related(
        "account__room", "account__payer"
    )
    if active is not None:
        rows = rows.filter(is_active=active)
    text = (text or "").strip()
    if text:
        rows = rows.filter(
            Q(account__room__code__icontains=text)
            | Q(holder__icontains=text)
            | Q(account__payer__name__icontains=text)
            | Q(account_number__endswith=text)
        )
    return rows.order_by("account__room__code", "-id")


def authorization_detail(auth_id: int, project_ids: Iterable[int]):
    return (
        WithholdingAuthorization.objects.filter(pk=auth_id, project_id__in=list(project_ids))
        .select_related("account__room", "account__payer")
        .first()
    )


def withholding_banks(project_id: int) -> list[str]:
    """The banks of the project's active authorisations (a batch is made per bank)."""
    return sorted(
        set(
            WithholdingAuthorization.objects.filter(
                project_id=project_id, is_active=True
            ).values_list("bank", flat=True)
        )
    )


def batches_of(project_id: int, limit: int = 36):
    return list(
        WithholdingBatch.objects.filter(project_id=project_id)
        .select_related("created_by")
        .order_by("-month", "-id")[:limit]
    )


def batch_detail(batch_id: int, project_ids: Iterable[int]):
    return (
        WithholdingBatch.objects.filter(pk=batch_id, project_id__in=list(project_ids))
        .select_related("created_by", "project")
        .first()
    )


def batch_lines(batch, *, result: str = ""):
    rows = batch.lines.select_related(
        "authorization", "account__room", "account__payer", "payment"
    ).order_by("seq")
    if result:
        rows = rows.filter(result=result)
    return rows


def returns_of(project_id: int, limit: int = 20):
    return list(
        WithholdingReturn.objects.filter(project_id=project_id)
        .select_related("batch", "user")
        .order_by("-created_at", "-id")[:limit]
    )


def return_detail(return_id: int, project_ids: Iterable[int]):
    return (
        WithholdingReturn.objects.filter(pk=return_id, project_id__in=list(project_ids))
        .select_related("batch", "user")
        .first()
    )


@dataclass
class BankResults:
    """What the bank did for one household: its withholding authorisation, the withholding lines
    (latest first) and the transfers claimed for it."""

    authorization: object | None
    withholding: list
    transfers: list


def household_bank_results(account_id: int, limit: int = 12) -> BankResults:
    auth = (
        WithholdingAuthorization.objects.filter(account_id=account_id)
        .order_by("-is_active", "-id")
        .first()
    )
    lines = list(
        WithholdingLine.objects.filter(account_id=account_id)
        .exclude(batch__state="cancelled")
        .select_related("batch", "payment")
        .order_by("-batch__month", "-id")[:limit]
    )
    transfers = list(
        ClaimPart.objects.filter(account_id=account_id, claim__undone_at__isnull=True)
        .select_related("claim__line", "payment")
        .order_by("-claim__line__txn_date", "-id")[:limit]
    )
    return BankResults(auth, lines, transfers)
