"""Every write of the banking app: statement import, claims (认领), undo, refund of unclaimed money.

Money reaches the ledger only through ``ledger.services.payments.payment_record`` (method 银行转账, the bank's
serial as the transaction reference) and leaves it only through ``payment_reverse``; dunning hears of
each payment through the ledger's ``WUYE_AFTER_PAYMENT`` hooks, so a case closes exactly as after a
payment at the window.

**Dates.** A claim posts on the transfer date (交易日期), so the household's account shows when the money
arrived and no late fee runs past it. When the person confirming has already closed that day (日结),
the ledger refuses entries dated on it; the payment is then posted on today's date and its note keeps
the transfer date ("转账日期 … 已日结，按今日入账"). A transfer dated in the future is refused.
Late fees are not charged on bank money (``include_late_fees=False``): the owner paid an amount for
their bills; a late fee is a separate decision for the window.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from wuye.banking import auto_posting, matching, statements
from wuye.banking.enums import Direction, LineStatus, MatchSource
from wuye.banking.lines import ParsedLine, dedupe_keys
from wuye.banking.models import (
    BankAccount,
    Claim,
    ClaimPart,
    PayerCard,
    StatementImport,
    StatementLine,
)
from wuye.billing.accounts import account_for
from wuye.billing.models import Account
from wuye.core import roles
from wuye.core.approvals import approver_check, four_eyes_check
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.importing import ALL_FORMATS, check_readable, mapping_headers
from wuye.core.importing.batch import (
    Analysis,
    ImportStatus,
    batch_commit,
    batch_new,
    batch_preview,
    batch_remap,
)
from wuye.core.models import Membership, Project, User
from wuye.core.money import ZERO, money, to_decimal
from wuye.core.perf import collector_paused
from wuye.core.roles import Role
from wuye.core.scope import actor_role, role_in
from wuye.core.sql import update_rows
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.selectors.closing import day_is_closed
from wuye.ledger.services.checks import APPROVER_ROLES
from wuye.ledger.services.payments import payment_record
from wuye.ledger.services.reversals import payment_reverse
from wuye.registry.models import Room
from wuye.registry.normalize import parse_room_code, room_code

# Finance imports statements and claims lines; supervisors and managers may too.
IMPORT_ROLES = roles.BANK_FINANCE_ROLES  # the grants are defined in core.roles
CLAIM_ROLES = roles.BANK_FINANCE_ROLES
# Cashiers see the queue (an owner at the window asks where their transfer went).
QUEUE_ROLES = roles.BANK_QUEUE_ROLES


def _require(user: User, project_id: int, allowed: frozenset[Role], doing: str) -> Role:
    return actor_role(user, project_id, allowed, doing)


def _clean_number(number: str) -> str:
    return "".join(ch for ch in str(number or "") if ch.isalnum())


# --- receiving accounts ----------------------------------------------------------------------------


def bank_account_for(
    *, user: User | None, project: Project, number: str, name: str = "", bank: str = ""
) -> BankAccount:
    """The project's receiving account with this number, created the first time a statement names it."""
    number = _clean_number(number)
    if not number:
        raise ValidationFailed("请填写收款账号", field="account")
    if len(number) > 40:
        raise ValidationFailed("收款账号最多 40 位", field="account")
    account = BankAccount.objects.filter(project=project, number=number).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            account = BankAccount.objects.create(
                project=project, number=number, name=name[:100], bank=bank[:100]
            )
            audit_record(user=user, action="收款账户新增", obj=account, project=project)
    except IntegrityError:
        account = BankAccount.objects.get(project=project, number=number)
    return account


def bank_account_remember_mapping(*, account: BankAccount, mapping: dict[str, str]) -> None:
    """Keeps the column mapping finance confirmed for this account's statements."""
    if mapping and account.mapping != mapping:
        account.mapping = mapping
        account.save(update_fields=["mapping"])


# --- import ----------------------------------------------------------------------------------------


@dataclass
class LineOutcome:
    line: StatementLine
    status: str  # auto, review, ignored, duplicate
    parts: list[tuple[str, Decimal]] = field(default_factory=list)  # (room code, amount)


@dataclass
class ImportResult:
    statement: StatementImport
    outcomes: list[LineOutcome]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


@collector_paused()
def statement_import(
    *,
    user: User,
    account: BankAccount,
    filename: str,
    lines: list[ParsedLine],
    post: bool = True,
    progress=None,
) -> ImportResult:
    """Stores already parsed lines as one statement (each line once per receiving account), matches
    the new incoming lines and posts the automatic matches. Re-importing, or an export overlapping an
    earlier one, adds and posts nothing: those lines come back as ``duplicate``. A run that crashed
    after storing the lines resumes their matching on the next run. (Uploads go through
    ``statement_upload`` → ``statement_commit``, which end here too.)"""
    _require(user, account.project_id, IMPORT_ROLES, "导入银行流水")
    content = filename.encode()
    with transaction.atomic():
        statement = batch_new(
            StatementImport,
            user=user,
            filename=filename,
            content=b"",
            project=account.project,
            bank_account=account,
        )
        statement.sha256 = hashlib.sha256(content).hexdigest()
        statement.status = ImportStatus.COMMITTED
        statement.committed_at = timezone.now()
        statement.save()
        keys = _store_lines(user, statement, account, lines)
    return _match_stored(user, statement, account, keys, post=post, progress=progress)


def _store_lines(
    user: User, statement: StatementImport, account: BankAccount, lines: list[ParsedLine]
) -> list[str]:
    """Writes the lines not stored before (call inside a transaction); returns every line's key."""
    keys = dedupe_keys(lines)
    existing = set()
    for start in range(0, len(keys), 900):
        existing |= set(
            StatementLine.objects.filter(
                bank_account=account, dedupe_key__in=keys[start : start + 900]
            ).values_list("dedupe_key", flat=True)
        )
    new_rows = []
    for key, parsed in zip(keys, lines, strict=True):
        if key in existing:
            continue
        existing.add(key)
        outgoing = not parsed.incoming or parsed.amount <= 0
        new_rows.append(
            StatementLine(
                bank_account=account,
                statement_import=statement,
                dedupe_key=key,
                serial=parsed.serial[:64],
                direction=parsed.direction,
                txn_date=parsed.txn_date,
                txn_time=parsed.txn_time,
                amount=money(parsed.amount),
                counterparty_name=parsed.counterparty_name[:100],
                counterparty_account=_clean_number(parsed.counterparty_account)[:40],
                summary=parsed.summary[:100],
                remark=parsed.remark[:200],
                balance=parsed.balance,
                status=LineStatus.IGNORED if outgoing else LineStatus.REVIEW,
                decided=outgoing,
            )
        )
    StatementLine.objects.bulk_create(new_rows, batch_size=500)
    statement.bank_account = account
    statement.line_count = len(lines)
    statement.new_count = len(new_rows)
    statement.duplicate_count = len(lines) - len(new_rows)
    statement.save(update_fields=["bank_account", "line_count", "new_count", "duplicate_count"])
    audit_record(
        user=user,
        action="银行流水导入",
        obj=statement,
        project=account.project_id,
        changes={
            "filename": statement.filename,
            "bank_account": account.number[-4:],
            "lines": len(lines),
            "new": len(new_rows),
        },
    )
    return keys


def _match_stored(
    user: User,
    statement: StatementImport,
    account: BankAccount,
    keys: list[str],
    *,
    post: bool,
    progress=None,
) -> ImportResult:
    by_key = {
        line.dedupe_key: line
        for start in range(0, len(keys), 900)
        for line in StatementLine.objects.filter(
            bank_account=account, dedupe_key__in=keys[start : start + 900]
        ).select_related("bank_account")
    }
    outcomes: list[LineOutcome] = []
    to_decide: list[StatementLine] = []
    seen: set[str] = set()
    for key in keys:
        line = by_key[key]
        if key in seen:
            continue
        seen.add(key)
        if line.statement_import_id != statement.pk and (
            line.decided or line.status != LineStatus.REVIEW
        ):
            outcomes.append(LineOutcome(line, "duplicate"))
        elif line.status == LineStatus.IGNORED:
            outcomes.append(LineOutcome(line, "ignored"))
        else:
            outcome = LineOutcome(line, "review")
            outcomes.append(outcome)
            to_decide.append(line)
    StatementImport.objects.filter(pk=statement.pk).update(match_total=len(to_decide), match_done=0)

    def record(done: int, total: int) -> None:
        StatementImport.objects.filter(pk=statement.pk).update(match_done=done)
        if progress is not None:
            progress(done, total)

    decided = _decide_and_post(user, account, to_decide, post=post, progress=record)
    statement.match_total = statement.match_done = len(to_decide)
    for outcome in outcomes:
        if outcome.line.pk in decided:
            outcome.status, outcome.parts = decided[outcome.line.pk]
    statement.auto_count = sum(1 for o in outcomes if o.status == "auto")
    statement.review_count = sum(1 for o in outcomes if o.status == "review")
    statement.save(update_fields=["auto_count", "review_count"])
    return ImportResult(statement, outcomes)


# --- upload → preview (mapping) → commit, on core.importing ----------------------------------------


def _account_of(batch: StatementImport, number: str) -> BankAccount | None:
    if batch.bank_account_id:
        return batch.bank_account
    if number:
        return BankAccount.objects.filter(project_id=batch.project_id, number=number).first()
    return None


def _analyse(batch: StatementImport) -> Analysis:
    wanted = (batch.mapping or {}).get(STATEMENT_SHEET) if batch.mapping else None
    remembered = batch.bank_account.mapping if batch.bank_account_id else None
    parsed = statements.parse_statement(bytes(batch.content), wanted=wanted, remembered=remembered)
    if remembered is None and parsed.account_number and wanted is None:
        known = _account_of(batch, parsed.account_number)
        if known is not None and known.mapping:  # read again with the account's confirmed mapping
            parsed = statements.parse_statement(bytes(batch.content), remembered=known.mapping)
    report = parsed.report()
    for sheet in report["sheets"]:
        sheet["title"] = STATEMENT_SHEET
    account = _account_of(batch, parsed.account_number)
    report["known_account"] = account.pk if account else None
    plan = None if parsed.errors else parsed
    return Analysis(report, plan)


STATEMENT_SHEET = "statement"


@collector_paused()
def statement_upload(
    *,
    user: User,
    project: Project,
    filename: str,
    content: bytes,
    account: BankAccount | None = None,
) -> StatementImport:
    """Keeps an uploaded statement and previews it (columns found from the bank's header synonyms, or
    the mapping confirmed last time for this account); writes no line yet."""
    _require(user, project.pk, IMPORT_ROLES, "导入银行流水")
    if account is not None and account.project_id != project.pk:
        raise ValidationFailed("收款账户不属于本项目", field="account")
    if not statements.looks_like_mt940(content):
        check_readable(content, ALL_FORMATS, unreadable=statements.UNREADABLE)
    batch = batch_new(
        StatementImport,
        user=user,
        filename=filename,
        content=content,
        default_name="流水.xlsx",
        project=project,
        bank_account=account,
    )
    return batch_preview(batch, _analyse, same_file={"project_id": project.pk})


def statement_remap(
    *, user: User, batch: StatementImport, mapping: dict[str, int | None]
) -> StatementImport:
    """Previews again with the columns finance chose ({field: column number or None})."""
    _require(user, batch.project_id, IMPORT_ROLES, "导入银行流水")
    return batch_remap(batch, {STATEMENT_SHEET: mapping}, _analyse)


@collector_paused()
def statement_commit(
    *,
    user: User,
    batch: StatementImport,
    account: BankAccount | None = None,
    post: bool = True,
    progress=None,
    match: bool = True,
) -> ImportResult | None:
    """Stores the previewed statement's lines (all or nothing), keeps the confirmed mapping for its
    receiving account, then matches and posts. The receiving account is the one given, else the one
    the file's header rows name (created the first time), else the project's only one. Returns None
    when the commit failed (the batch's report says why). With ``match=False`` it stops once the lines
    are stored (``match_total`` says how many wait): ``statement_match`` does the rest, e.g. in the
    background for a large statement, with its progress on ``match_done``."""
    _require(user, batch.project_id, IMPORT_ROLES, "导入银行流水")
    project = batch.project
    if account is None and batch.bank_account_id:
        account = batch.bank_account
    if account is None:
        number = (batch.report or {}).get("account_number") or ""
        if number:
            account = bank_account_for(
                user=user,
                project=project,
                number=number,
                name=(batch.report or {}).get("account_name") or "",
                bank=(batch.report or {}).get("bank") or "",
            )
        else:
            accounts = list(BankAccount.objects.filter(project=project, is_active=True)[:2])
            if len(accounts) != 1:
                raise ValidationFailed(
                    "流水文件中没有写明收款账号，请选择本流水所属的收款账户", field="account"
                )
            account = accounts[0]
    if account.project_id != project.pk:
        raise ValidationFailed("收款账户不属于本项目", field="account")
    stored: dict[str, list[str]] = {}

    def apply(locked: StatementImport, parsed) -> None:
        stored["keys"] = _store_lines(user, locked, account, parsed.lines)

    batch = batch_commit(batch, analyse=_analyse, apply=apply, related=("project",))
    if batch.status != ImportStatus.COMMITTED:
        return None
    sheets = (batch.report or {}).get("sheets") or []
    if sheets:
        headers = {col: text for col, text in sheets[0]["headers"]}
        mapping = {k: v for k, v in sheets[0]["mapping"].items() if not k.startswith("@")}
        bank_account_remember_mapping(account=account, mapping=mapping_headers(mapping, headers))
    if not match:
        waiting = StatementLine.objects.filter(
            statement_import=batch, decided=False, status=LineStatus.REVIEW
        ).count()
        StatementImport.objects.filter(pk=batch.pk).update(match_total=waiting, match_done=0)
        batch.match_total, batch.match_done = waiting, 0
        return ImportResult(batch, [])
    return _match_stored(user, batch, account, stored["keys"], post=post, progress=progress)


@collector_paused()
def statement_match(*, user: User, batch: StatementImport) -> ImportResult:
    """Matches and posts the stored lines of a committed statement that the matcher has not seen
    yet (the background half of a large import, or the rest of a run that crashed)."""
    _require(user, batch.project_id, IMPORT_ROLES, "导入银行流水")
    keys = list(
        StatementLine.objects.filter(statement_import=batch)
        .order_by("id")
        .values_list("dedupe_key", flat=True)
    )
    return _match_stored(user, batch, batch.bank_account, keys, post=True)


def _incoming(line: StatementLine) -> matching.Incoming:
    return matching.Incoming(
        amount=line.amount,
        counterparty_name=line.counterparty_name,
        counterparty_account=line.counterparty_account,
        summary=line.summary,
        remark=line.remark,
    )


def _decide_and_post(
    user: User, account: BankAccount, lines: list[StatementLine], *, post: bool, progress=None
) -> dict[int, tuple[str, list[tuple[str, Decimal]]]]:
    if not lines:
        return {}
    index = matching.ProjectIndex.load(account.project_id)
    decisions = matching.match_lines(index, [_incoming(line) for line in lines])
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
        _require(user, account.project_id, CLAIM_ROLES, "认领银行流水")
    chunk: list[tuple[StatementLine, list[tuple[Account, Decimal]], int, list[str]]] = []

    def post_chunk() -> None:
        # The chunk's automatic matches in one set-based posting (auto_posting.auto_post: what
        # claim_confirm does per line); a refused line stays in the queue with the reason.
        refused = auto_posting.auto_post(user=user, project_id=account.project_id, lines=chunk)
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
                parts = _clean_parts(line, [(households[a], x) for a, x in decision.parts])
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


def index_account(account_id: int) -> Account:
    return Account.objects.select_related("room").get(pk=account_id)


def rematch(line: StatementLine) -> StatementLine:
    """Refreshes the suggestions of a queued line (after an undo, or when the queue is opened)."""
    index = matching.ProjectIndex.load(line.bank_account.project_id)
    decision = matching.decide(index, _incoming(line))
    line.score, line.reasons, line.suggestions = (
        decision.score,
        decision.reasons,
        decision.suggestions,
    )
    line.decided = True
    line.save(update_fields=["score", "reasons", "suggestions", "decided"])
    return line


# --- claims ----------------------------------------------------------------------------------------


def _posting_date(project_id: int, user: User, line: StatementLine) -> tuple[datetime.date, str]:
    today = timezone.localdate()
    if line.txn_date > today:
        raise ValidationFailed(
            f"交易日期 {line.txn_date:%Y-%m-%d} 晚于今天，不能入账", field="line"
        )
    if day_is_closed(project_id, user.pk, line.txn_date):
        return today, f"转账日期 {line.txn_date:%Y-%m-%d} 已日结，按今日入账"
    return line.txn_date, ""


def _clean_parts(
    line: StatementLine, parts: list[tuple[Account, object]]
) -> list[tuple[Account, Decimal]]:
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
    _require(user, project_id, CLAIM_ROLES, "认领银行流水")
    cleaned = _clean_parts(line, parts)
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
    _require(user, project_id, CLAIM_ROLES, "撤销认领")
    approver_check(project=project_id, approver=approved_by, roles=APPROVER_ROLES)
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
    _require(user, project_id, CLAIM_ROLES, "退回款项")
    approver_check(project=project_id, approver=approved_by, roles=APPROVER_ROLES)
    four_eyes_check(
        approver=approved_by, requested_by=user, roles=APPROVER_ROLES, doing="退回待认领款"
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


def import_user_for(project: Project) -> User:
    """The user scheduled imports post as (``bank_import`` of the company, finance in the project,
    no password: nobody logs in as it), created the first time."""
    username = f"bank_import_{project.company_id}"
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"display_name": "银行流水自动导入", "company_id": project.company_id},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        audit_record(user=None, action="系统用户新增", obj=user, project=project)
    if role_in(user, project.pk) is None:
        Membership.objects.get_or_create(
            user=user, project=project, defaults={"role": Role.FINANCE}
        )
        audit_record(
            user=None, action="成员新增", obj=user, project=project, changes={"role": Role.FINANCE}
        )
        user = User.objects.get(pk=user.pk)  # without the role cache read before the membership
    return user
