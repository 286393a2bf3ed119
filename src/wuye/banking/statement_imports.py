"""导入流水 (docs/user/银行流水与待认领款.md): a bank statement uploaded, previewed with its columns
found from the bank's headers (or the mapping confirmed last time for the receiving account), then
stored all-or-nothing — each line once per receiving account — and matched: the clear matches are
posted (``auto_posting``), the rest wait in 待认领款 (``claims``). Also the receiving accounts
(收款账户) and the user that scheduled imports (``bank_import``) post as.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from wuye.banking import auto_posting, statements
from wuye.banking.bank_files import file_remap, file_upload
from wuye.banking.enums import LineStatus
from wuye.banking.lines import ParsedLine, dedupe_keys
from wuye.banking.models import BankAccount, StatementImport, StatementLine
from wuye.core import roles
from wuye.core.audit import audit_record
from wuye.core.errors import ValidationFailed
from wuye.core.importing import ALL_FORMATS, check_readable, mapping_headers
from wuye.core.importing.batch import Analysis, ImportStatus, batch_commit, batch_new
from wuye.core.models import Project, User
from wuye.core.money import money
from wuye.core.perf import collector_paused
from wuye.core.scope import actor_role
from wuye.core.system_users import system_user_for


def clean_number(number: str) -> str:
    """A receiving or paying account number as kept: its letters and digits only."""
    return "".join(ch for ch in str(number or "") if ch.isalnum())


# --- receiving accounts ----------------------------------------------------------------------------


def bank_account_for(
    *, user: User | None, project: Project, number: str, name: str = "", bank: str = ""
) -> BankAccount:
    """The project's receiving account with this number, created the first time a statement names it."""
    number = clean_number(number)
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
    actor_role(user, account.project_id, roles.BANK_FINANCE_ROLES, "导入银行流水")
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
                counterparty_account=clean_number(parsed.counterparty_account)[:40],
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

    decided = auto_posting.decide_and_post(user, account, to_decide, post=post, progress=record)
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
    actor_role(user, project.pk, roles.BANK_FINANCE_ROLES, "导入银行流水")
    if account is not None and account.project_id != project.pk:
        raise ValidationFailed("收款账户不属于本项目", field="account")
    if not statements.looks_like_mt940(content):
        check_readable(content, ALL_FORMATS, unreadable=statements.UNREADABLE)
    return file_upload(
        StatementImport,
        _analyse,
        user=user,
        project=project,
        filename=filename,
        content=content,
        default_name="流水.xlsx",
        bank_account=account,
    )


def statement_remap(
    *, user: User, batch: StatementImport, mapping: dict[str, int | None]
) -> StatementImport:
    """Previews again with the columns finance chose ({field: column number or None})."""
    actor_role(user, batch.project_id, roles.BANK_FINANCE_ROLES, "导入银行流水")
    return file_remap(batch, STATEMENT_SHEET, mapping, _analyse)


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
    actor_role(user, batch.project_id, roles.BANK_FINANCE_ROLES, "导入银行流水")
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
    actor_role(user, batch.project_id, roles.BANK_FINANCE_ROLES, "导入银行流水")
    keys = list(
        StatementLine.objects.filter(statement_import=batch)
        .order_by("id")
        .values_list("dedupe_key", flat=True)
    )
    return _match_stored(user, batch, batch.bank_account, keys, post=True)


def import_user_for(project: Project) -> User:
    """The user scheduled imports post as (``bank_import`` of the company)."""
    return system_user_for(
        project, username=f"bank_import_{project.company_id}", display_name="银行流水自动导入"
    )
