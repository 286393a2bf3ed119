"""自动入账 of a statement's clear matches, many lines at once (docs/user/银行流水与待认领款.md).

``decide_and_post`` asks the matcher (``matching``) about each new line of an import and hands
its clear matches to ``auto_post``, which does for each line what ``claims.claim_confirm`` does for
one (source 自动): the same checks, a claim with its parts, one payment per household (银行转账, the
bank serial as reference, dated by the transfer unless that day is closed, no late fee), the payer
card remembered, the line marked matched, an audit entry — but the payments go through the ledger's
set-based ``payments_record_many`` and every other write is a bulk insert or update, so a statement
of 10,000 lines costs a few dozen queries per chunk instead of dozens per line. A line that one of
its payments refuses goes back to the queue with the reason, as a refused ``claim_confirm`` does.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from wuye.banking import matching
from wuye.banking.claims import clean_parts, incoming
from wuye.banking.enums import Direction, LineStatus, MatchSource
from wuye.banking.models import BankAccount, Claim, ClaimPart, PayerCard, StatementLine
from wuye.billing.models import Account
from wuye.core import roles
from wuye.core.audit import audit_entry
from wuye.core.errors import ValidationFailed
from wuye.core.models import AuditEntry, User
from wuye.core.scope import actor_role
from wuye.core.sql import update_rows
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.models import CashierClosing
from wuye.ledger.services.batch_payments import PaymentRequest, payments_record_many

Parts = list[tuple[Account, Decimal]]


class _Refused(Exception):
    def __init__(self, lines: dict[int, str]):
        self.lines = lines


def auto_post(
    *,
    user: User,
    project_id: int,
    lines: list[tuple[StatementLine, Parts, int, list[str]]],
) -> dict[int, str]:
    """Posts each (line, parts, score, reasons); returns {line id: why it was refused} for the lines
    left in the queue (the others are matched). ``parts`` were checked by the caller
    (``claims.clean_parts``)."""
    refused: dict[int, str] = {}
    todo = list(lines)
    while todo:
        try:
            with transaction.atomic():
                _post(user, project_id, todo)
            return refused
        except _Refused as exc:  # rolled back: post the others again without those lines
            refused.update(exc.lines)
            todo = [x for x in todo if x[0].pk not in exc.lines]
    return refused


def _post(user: User, project_id: int, todo: list[tuple[StatementLine, Parts, int, list[str]]]):
    today = timezone.localdate()
    locked = {
        x.pk: x
        for x in StatementLine.objects.select_for_update().filter(pk__in=[t[0].pk for t in todo])
    }
    bad: dict[int, str] = {}
    for line, _, _, _ in todo:
        row = locked[line.pk]
        if row.direction != Direction.IN:
            bad[line.pk] = "支出流水不能认领"
        elif row.status != LineStatus.REVIEW:
            bad[line.pk] = (
                f"该流水已{row.get_status_display()}，不能再认领（可能刚由他人处理），请刷新"
            )
        elif row.txn_date > today:
            bad[line.pk] = f"交易日期 {row.txn_date:%Y-%m-%d} 晚于今天，不能入账"
    if bad:
        raise _Refused(bad)
    closed = set(
        CashierClosing.objects.filter(
            project_id=project_id,
            cashier=user,
            business_date__in={locked[t[0].pk].txn_date for t in todo},
        ).values_list("business_date", flat=True)
    )
    attempts = dict(
        Claim.objects.filter(line_id__in=list(locked))
        .order_by()
        .values("line_id")
        .annotate(n=Count("pk"))
        .values_list("line_id", "n")
    )
    requests: list[PaymentRequest] = []
    owner: list[int] = []
    days = {}
    for line, parts, _, _ in todo:
        row = locked[line.pk]
        if row.txn_date in closed:
            day, note = today, f"转账日期 {row.txn_date:%Y-%m-%d} 已日结，按今日入账"
        else:
            day, note = row.txn_date, ""
        days[line.pk] = day
        reference = (row.serial or f"流水{row.pk}")[:64]
        attempt = attempts.get(row.pk, 0) + 1
        text = f"银行转账 {row.txn_date:%Y-%m-%d} {row.counterparty_name}"
        for n, (account, amount) in enumerate(parts, start=1):
            requests.append(
                PaymentRequest(
                    account=account,
                    lines=[(PaymentMethod.TRANSFER, amount, reference)],
                    business_date=day,
                    include_late_fees=False,
                    idempotency_key=f"bank-{row.pk}-{attempt}-{n}",
                    note=f"{text}；{note}"[:200] if note else text[:200],
                )
            )
            owner.append(line.pk)
    results = payments_record_many(user=user, project=project_id, requests=requests)
    bad = {
        owner[i]: result.message
        for i, result in enumerate(results)
        if isinstance(result, ValidationFailed)
    }
    if bad:
        raise _Refused(bad)

    claims = Claim.objects.bulk_create(
        [
            Claim(
                line_id=line.pk,
                source=MatchSource.AUTO,
                score=score,
                reasons=list(reasons),
                confirmed_by=user,
            )
            for line, _, score, reasons in todo
        ],
        batch_size=1000,
    )
    claim_of = {line.pk: claim for (line, _, _, _), claim in zip(todo, claims, strict=True)}
    payments = iter(results)
    parts_rows: list[ClaimPart] = []
    posted: dict[int, list] = {}
    for line, parts, _, _ in todo:
        for account, amount in parts:
            payment = next(payments)
            parts_rows.append(
                ClaimPart(claim=claim_of[line.pk], account=account, amount=amount, payment=payment)
            )
            posted.setdefault(line.pk, []).append([account.room.code, amount, payment.receipt_no])
    ClaimPart.objects.bulk_create(parts_rows, batch_size=1000)
    StatementLine.objects.filter(pk__in=[t[0].pk for t in todo]).update(status=LineStatus.MATCHED)
    for line, _, _, _ in todo:
        line.status = LineStatus.MATCHED
    _remember_cards(project_id, [(locked[t[0].pk], account) for t in todo for account, _ in t[1]])
    AuditEntry.objects.bulk_create(
        [
            audit_entry(
                user=user,
                action="银行流水自动入账",
                obj=locked[line.pk],
                project=project_id,
                changes={
                    "serial": locked[line.pk].serial,
                    "txn_date": locked[line.pk].txn_date,
                    "amount": locked[line.pk].amount,
                    "business_date": days[line.pk],
                    "parts": posted[line.pk],
                    "score": score,
                    "reasons": list(reasons),
                },
            )
            for line, _, score, reasons in todo
        ],
        batch_size=1000,
    )


def _remember_cards(project_id: int, seen: list[tuple[StatementLine, Account]]) -> None:
    """``claims._remember_card`` for many (line, household) pairs, in line order: a new card is
    created by its first line, each later line counts once more, keeps the latest date and the
    latest holder's name."""
    by_key: dict[tuple[str, int], list[StatementLine]] = defaultdict(list)
    for line, account in seen:
        if line.counterparty_account:
            by_key[(line.counterparty_account, account.pk)].append(line)
    if not by_key:
        return
    existing = {
        (card.number, card.account_id): card
        for card in PayerCard.objects.filter(
            project_id=project_id, number__in={number for number, _ in by_key}
        )
    }
    new, changed = [], []
    for (number, account_id), lines in by_key.items():
        card = existing.get((number, account_id))
        holder = lines[-1].counterparty_name[:100]
        last = max(x.txn_date for x in lines)
        if card is None:
            first = lines[0]
            new.append(
                PayerCard(
                    project_id=project_id,
                    number=number,
                    account_id=account_id,
                    holder=holder or first.counterparty_name[:100],
                    times=len(lines),
                    last_seen=last,
                )
            )
        else:
            card.times = F("times") + len(lines)
            card.last_seen = max(card.last_seen, last)
            card.holder = holder or card.holder
            changed.append(card)
    PayerCard.objects.bulk_create(new, batch_size=1000)
    PayerCard.objects.bulk_update(changed, ["times", "last_seen", "holder"], batch_size=500)


def decide_and_post(
    user: User, account: BankAccount, lines: list[StatementLine], *, post: bool, progress=None
) -> dict[int, tuple[str, list[tuple[str, Decimal]]]]:
    """The matcher's decision on each stored line (score, reasons, suggestions kept on the line) and,
    with ``post``, its clear matches posted by ``auto_post`` in chunks of ``AUTO_POST_CHUNK``. Returns
    {line id: ("auto", [(room code, amount)]) or ("review", [])}."""
    if not lines:
        return {}
    index = matching.ProjectIndex.load(account.project_id)
    decisions = matching.match_lines(index, [incoming(line) for line in lines])
    wanted = {a for d in decisions if d.auto for a, _ in d.parts}
    households = Account.objects.select_related("room").in_bulk(wanted)
    result: dict[int, tuple[str, list[tuple[str, Decimal]]]] = {}
    total = len(lines)
    seen: list[StatementLine] = []

    def remember_decisions() -> None:
        # The matcher's view of each line, written in chunks (a crashed run resumes where it was).
        update_rows(seen, ["decided", "score", "reasons", "suggestions"])
        seen.clear()

    if post:
        actor_role(user, account.project_id, roles.BANK_FINANCE_ROLES, "认领银行流水")
    chunk: list[tuple[StatementLine, list[tuple[Account, Decimal]], int, list[str]]] = []

    def post_chunk() -> None:
        # The chunk's automatic matches in one set-based posting (auto_post: what claim_confirm
        # does per line); a refused line stays in the queue with the reason.
        refused = auto_post(user=user, project_id=account.project_id, lines=chunk)
        for line, parts, _, _ in chunk:
            if line.pk in refused:
                line.reasons = [*line.reasons, f"自动入账未成功：{refused[line.pk]}"]
            else:
                result[line.pk] = ("auto", [(a.room.code, amount) for a, amount in parts])
        chunk.clear()

    for n, (line, decision) in enumerate(zip(lines, decisions, strict=True), start=1):
        line.decided, line.score = True, decision.score
        line.reasons, line.suggestions = decision.reasons, decision.suggestions
        result[line.pk] = ("review", [])
        if decision.auto and post:
            try:
                parts = clean_parts(line, [(households[a], x) for a, x in decision.parts])
            except ValidationFailed as exc:
                line.reasons = [*decision.reasons, f"自动入账未成功：{exc.message}"]
            else:
                chunk.append((line, parts, decision.score, list(decision.reasons)))
        seen.append(line)
        if n % AUTO_POST_CHUNK == 0 or n == total:
            if chunk:
                post_chunk()
            remember_decisions()
            if progress is not None:
                progress(n, total)
    return result


AUTO_POST_CHUNK = 1000  # lines matched and posted per transaction (a crashed run resumes after it)
