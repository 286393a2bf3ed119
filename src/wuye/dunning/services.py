"""Every write of the dunning workflow: validated, in one transaction, with its audit entry.

* **The daily run** (``dunning_run``) reads what each payer account of a project owes from the ledger
  in one grouped query, opens a case for an account with money overdue past the grace period, refreshes
  the figures of open cases, applies the escalation and follow-up rules (``rules``) and closes a case
  when nothing is overdue any more. It writes only what changed, so a second run the same day changes
  nothing; the unique constraint "one open case per account" holds even if two runs race.
* **Payments** re-evaluate their account at once (``after_payment``, listed in
  ``settings.WUYE_AFTER_PAYMENT`` and called by the ledger after commit): a household that paid is never
  chased (误催). A reversal that makes money overdue again reopens the case it had just closed.
* **Contacts** (``contact_record``) are refused when LAW.md says so, and otherwise set the case's class,
  promise and next task. Contact records and case events are never updated: a correction is a new record.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings as django_settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from wuye.billing.models import Account
from wuye.core import uploads
from wuye.core.audit import audit_record
from wuye.core.errors import NotInScope, ValidationFailed
from wuye.core.guardrails import guard_text
from wuye.core.models import Project, User
from wuye.core.money import money, to_decimal
from wuye.core.roles import Role
from wuye.core.scope import role_in
from wuye.dunning import holds, rules
from wuye.dunning.access import (
    LEGAL_APPROVER_ROLES,
    OWN_CASES_ONLY,
    SUPERVISOR_ROLES,
    WORKER_ROLES,
)
from wuye.dunning.enums import (
    MESSAGE_CHANNELS,
    STAGE_ORDER,
    VOICE_CHANNELS,
    WRITTEN_CHANNELS,
    AttachmentKind,
    CaseClass,
    CaseState,
    Channel,
    DeliveryStatus,
    EventKind,
    ReceiptStatus,
    RefusalReason,
    RunStatus,
    Stage,
    UnreachedReason,
)
from wuye.dunning.models import (
    ArrearsCase,
    CaseEvent,
    CaseIssueLink,
    ContactAttachment,
    ContactRecord,
    DeliveryReceipt,
    DunningRun,
)
from wuye.dunning.selectors import Overdue, overdue_by_account
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.models import Payment
from wuye.registry.enums import PhoneValidity
from wuye.registry.models import LegacyIssue, Occupancy, Phone
from wuye.registry.normalize import normalize_phone
from wuye.registry.services import phone_mark_validity

logger = logging.getLogger(__name__)
DAY = datetime.timedelta(days=1)


# A case closed this recently comes back (with its history) when money is overdue again — a reversed
# payment; a household that falls behind weeks later gets a fresh case.
REOPEN_WITHIN_DAYS = 7
CHUNK = 1000

_UNREACHED_MARK = {
    UnreachedReason.NO_ANSWER: PhoneValidity.NO_ANSWER,
    UnreachedReason.POWERED_OFF: PhoneValidity.POWERED_OFF,
    UnreachedReason.DISCONNECTED: PhoneValidity.DISCONNECTED,
    UnreachedReason.WRONG_NUMBER: PhoneValidity.WRONG_NUMBER,
    # "No signal" says nothing about the number itself: its mark stays as it was.
}

# Fields the run may change on an open case.
_RUN_FIELDS = [
    "case_class",
    "class_reason",
    "class_set_by",
    "overdue_amount",
    "overdue_bills",
    "oldest_due_date",
    "aging_days",
    "amounts_as_of",
    "stage",
    "stage_since",
    "stage_deadline",
    "stage_action_done_on",
    "next_action",
    "next_action_on",
    "next_action_due",
]


# --- helpers ---------------------------------------------------------------------------------------


def _worker(user: User, case: ArrearsCase, doing: str) -> Role:
    role = role_in(user, case.project_id)
    if role is None:
        raise NotInScope("您没有该项目的权限。")
    if role not in WORKER_ROLES:
        raise ValidationFailed(f"您的角色（{role.label}）不能{doing}。", field="user")
    if role in OWN_CASES_ONLY and case.assignee_id != user.pk:
        raise ValidationFailed(
            f"该案件的责任人是 {case.assignee or '（未分配）'}，您只能{doing}自己负责的案件；"
            "如需接手请找客服主管重新分配。",
            field="case",
        )
    return role


def _supervisor(user: User, project_id: int, doing: str) -> Role:
    role = role_in(user, project_id)
    if role is None:
        raise NotInScope("您没有该项目的权限。")
    if role not in SUPERVISOR_ROLES:
        raise ValidationFailed(f"只有客服主管、项目经理可以{doing}。", field="user")
    return role


def _reason(reason: str | None, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed("请填写原因", field=field)
    if len(text) > 200:
        raise ValidationFailed("原因最多 200 字", field=field)
    if word := rules.forbidden_measure(text):
        raise ValidationFailed(f"“{word}”：{rules.FORBIDDEN_MESSAGE}", field=field)
    return text


def _event(
    case: ArrearsCase,
    kind: str,
    *,
    on: datetime.date,
    by: User | None = None,
    old: object = "",
    new: object = "",
    reason: str = "",
    at: datetime.datetime | None = None,
) -> CaseEvent:
    return CaseEvent(
        case=case,
        at=at or timezone.now(),
        on_date=on,
        by=by if by is not None and by.is_authenticated else None,
        kind=kind,
        from_value=str(old or "")[:60],
        to_value=str(new or "")[:60],
        reason=reason[:300],
    )


_LOOK_UP = object()


def case_strategies(
    project_id: int, account_ids: list[int] | None
) -> dict[int, rules.StrategyAdjustment]:
    """The segment strategies of the accounts (``None``: the whole project) from the
    ``WUYE_CASE_STRATEGY`` hooks — one bulk call per hook, never one per case."""
    found: dict[int, rules.StrategyAdjustment] = {}
    for path in getattr(django_settings, "WUYE_CASE_STRATEGY", []):
        found.update(import_string(path)(project_id=project_id, account_ids=account_ids))
    return found


def _written_only_accounts(project_id: int, account_ids: list[int] | None) -> set[int]:
    """The accounts whose payer asked for written contact only (LAW.md §8), in one query."""
    rows = Account.objects.filter(project_id=project_id, payer__written_contact_only=True)
    if account_ids is not None:
        rows = rows.filter(pk__in=account_ids)
    return set(rows.values_list("pk", flat=True))


def _written_only(case: ArrearsCase) -> bool:
    """Whether the case's payer asked for written contact only; the run sets ``written_only`` on
    every case from one query, a single case outside the run asks the database."""
    if not hasattr(case, "written_only"):
        case.written_only = bool(_written_only_accounts(case.project_id, [case.account_id]))
    return case.written_only


def _apply_task(case: ArrearsCase, settings, follow_ups, strategy=_LOOK_UP) -> None:
    if strategy is _LOOK_UP:  # one case outside the run (a contact, a new class or stage)
        strategy = case_strategies(case.project_id, [case.account_id]).get(case.account_id)
    task = rules.next_task(
        opened_on=case.opened_on,
        case_class=case.case_class,
        stage=case.stage,
        stage_since=case.stage_since,
        stage_deadline=case.stage_deadline,
        stage_action_done_on=case.stage_action_done_on,
        promise_date=case.promise_date,
        last_contact_on=timezone.localdate(case.last_contact_at) if case.last_contact_at else None,
        follow_ups=follow_ups,
        first_call_days=settings.first_call_days,
        strategy=strategy,
        written_only=_written_only(case),
        written_follow_up_days=settings.written_follow_up_days,
    )
    case.next_action, case.next_action_on, case.next_action_due = task.action, task.on, task.due


def _set_amounts(case: ArrearsCase, overdue: Overdue | None, on: datetime.date) -> None:
    if overdue is None:
        case.overdue_amount, case.overdue_bills = money(0), 0
        return
    case.overdue_amount = overdue.amount
    case.overdue_bills = overdue.bills
    case.oldest_due_date = overdue.oldest_due_date
    case.aging_days = (on - overdue.oldest_due_date).days
    case.amounts_as_of = on


def _escalate(
    case: ArrearsCase, on: datetime.date, escalations, settings, strategy=None
) -> CaseEvent | None:
    found = rules.escalation_due(
        on=on,
        stage=case.stage,
        case_class=case.case_class,
        opened_on=case.opened_on,
        promise_date=case.promise_date,
        oldest_due_date=case.oldest_due_date,
        rules=rules.with_strategy(escalations, strategy),
        contacted=case.last_contact_at is not None,
        first_call_days=settings.first_call_days,
    )
    if found is None:
        return None
    rule, why = found
    if strategy is not None and strategy.escalate_after_days == rule.days and strategy.segment:
        why += f"（“{strategy.segment}”分群策略）"
    old = case.stage
    written_only = _written_only(case)
    case.stage, case.stage_since = rules.escalation_stage(written_only), on
    case.stage_deadline = on + rule.deadline_days * DAY
    case.stage_action_done_on = None
    if written_only:
        then = (
            f"业主要求仅以书面方式联系，不上门：转书面催告，须在 {case.stage_deadline:%Y-%m-%d} "
            "前送达（张贴投递或邮寄/EMS）"
        )
    else:
        then = f"转上门催缴，项目经理须在 {case.stage_deadline:%Y-%m-%d} 前安排上门"
    return _event(case, EventKind.STAGE, on=on, old=old, new=case.stage, reason=f"{why}：{then}")


def _break_promise(case: ArrearsCase, on: datetime.date) -> CaseEvent | None:
    """A promise whose date passed unpaid: the case goes back to class B (no date any more); the
    promised date stays on the case for the broken-promise escalation and the flag on the lists."""
    if not rules.promise_broken(case_class=case.case_class, promise_date=case.promise_date, on=on):
        return None
    why = f"承诺缴费日 {case.promise_date:%Y-%m-%d} 已过仍未缴清（承诺未兑现）"
    case.case_class, case.class_reason, case.class_set_by = CaseClass.B, why, None
    return _event(case, EventKind.CLASS, on=on, old=CaseClass.A, new=CaseClass.B, reason=why)


# --- the daily run ---------------------------------------------------------------------------------


@dataclass
class RunResult:
    on: datetime.date
    accounts: int = 0  # accounts with money overdue
    opened: int = 0
    reopened: int = 0
    updated: int = 0
    escalated: int = 0
    closed: int = 0
    unchanged: int = 0
    preview: bool = False
    run_id: int | None = None
    samples: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "on": self.on.isoformat(),
            "accounts": self.accounts,
            "opened": self.opened,
            "reopened": self.reopened,
            "updated": self.updated,
            "escalated": self.escalated,
            "closed": self.closed,
            "unchanged": self.unchanged,
            "preview": self.preview,
        }


Progress = Callable[[str], None]


def dunning_run(
    *,
    project: Project,
    on: datetime.date | None = None,
    preview: bool = False,
    user: User | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """催缴日跑批 for one project on ``on`` (default today). ``preview`` computes what would change and
    writes nothing. All or nothing: a crash leaves the cases as they were, and a rerun does the rest."""
    day = on or timezone.localdate()
    say = progress or (lambda text: None)
    with transaction.atomic():
        # Serialize runs of one project. NO KEY UPDATE, so payments and bills (whose foreign keys
        # take KEY SHARE on the project row) are not held up for the length of the run. A no-op on
        # SQLite, whose IMMEDIATE transactions are serialized anyway.
        _lock_project(project.pk)
        run = None
        if not preview:
            run = DunningRun.objects.create(project=project, run_on=day, started_by=user)
        result = _evaluate(project.pk, day, account_ids=None, preview=preview, say=say)
        if run is not None:
            for name in ("accounts", "opened", "reopened", "updated", "escalated", "closed"):
                setattr(run, name, getattr(result, name))
            run.status, run.finished_at = RunStatus.DONE, timezone.now()
            run.save()
            result.run_id = run.pk
            audit_record(
                user=user, action="催缴日跑批", obj=run, project=project, changes=result.as_dict()
            )
            _after_run(project.pk, day)
        if preview:
            transaction.set_rollback(True)
    return result


def _after_run(project_id: int, on: datetime.date) -> None:
    """Runs the ``WUYE_AFTER_DUNNING_RUN`` hooks (apps above dunning, e.g. scoring) once the run is
    durable; a failing hook is logged and never undoes the run."""
    for path in getattr(django_settings, "WUYE_AFTER_DUNNING_RUN", []):
        hook = import_string(path)
        transaction.on_commit(lambda hook=hook: hook(project_id=project_id, on=on), robust=True)


def _after_contact(account_id: int, case_id: int) -> None:
    """Runs the ``WUYE_AFTER_CONTACT`` hooks (e.g. the credit file) once the contact is durable; a
    failing hook is logged and never undoes the record."""
    for path in getattr(django_settings, "WUYE_AFTER_CONTACT", []):
        hook = import_string(path)
        transaction.on_commit(
            lambda hook=hook: hook(account_id=account_id, case_id=case_id), robust=True
        )


def _lock_project(project_id: int) -> None:
    list(Project.objects.select_for_update(no_key=True).filter(pk=project_id).values_list("pk"))


def case_refresh_account(account: Account, on: datetime.date | None = None) -> RunResult:
    """Re-evaluates one account now (after a payment or a reversal, before a contact): refreshes or
    closes its open case, or reopens the case it closed in the last few days. New cases are the daily
    run's work, so a payment never opens one."""
    day = on or timezone.localdate()
    since = day - REOPEN_WITHIN_DAYS * DAY
    has_case = ArrearsCase.objects.filter(
        Q(state=CaseState.OPEN) | Q(closed_on__gte=since), account_id=account.pk
    ).exists()
    if not has_case:  # most payments: one query and done
        return RunResult(on=day)
    with transaction.atomic():
        # Wait for a daily run of the project in progress, so neither writes over the other's
        # figures with an older reading of the ledger.
        _lock_project(account.project_id)
        return _evaluate(
            account.project_id,
            day,
            account_ids=[account.pk],
            preview=False,
            open_new=False,
            closed_by=_last_payment(account.pk),
        )


def cases_refresh_accounts(account_ids: list[int], on: datetime.date | None = None) -> int:
    """``case_refresh_account`` for many accounts at once (a bank statement's automatic postings):
    one query finds those with a case to look at, then one evaluation per project. Returns how
    many accounts were re-evaluated."""
    day = on or timezone.localdate()
    since = day - REOPEN_WITHIN_DAYS * DAY
    by_project: dict[int, set[int]] = defaultdict(set)
    for account_id, project_id in (
        ArrearsCase.objects.filter(Q(state=CaseState.OPEN) | Q(closed_on__gte=since))
        .filter(account_id__in=list(account_ids))
        .values_list("account_id", "project_id")
    ):
        by_project[project_id].add(account_id)
    for project_id, ids in sorted(by_project.items()):
        with transaction.atomic():
            _lock_project(project_id)
            _evaluate(
                project_id,
                day,
                account_ids=sorted(ids),
                preview=False,
                open_new=False,
                closed_by=_last_payments(sorted(ids)),
            )
    return sum(len(ids) for ids in by_project.values())


def _last_payments(account_ids: list[int]) -> dict[int, tuple[User, str]]:
    """``_last_payment`` of many accounts in three queries."""
    latest = (
        Payment.objects.filter(account_id__in=account_ids, reversal__isnull=True)
        .order_by()
        .values("account_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    return {
        payment.account_id: _payment_text(payment)
        for payment in Payment.objects.filter(pk__in=list(latest))
        .select_related("cashier")
        .prefetch_related("lines")
    }


def _last_payment(account_id: int) -> tuple[User, str] | None:
    """What settled the account when a refresh finds nothing overdue: its latest payment that is not
    reversed, named as the timeline says it (收银台收款 No.00000012, 现金 200.00) with its cashier."""
    payment = (
        Payment.objects.filter(account_id=account_id, reversal__isnull=True)
        .select_related("cashier")
        .prefetch_related("lines")
        .order_by("-id")
        .first()
    )
    if payment is None:
        return None
    return _payment_text(payment)


def _payment_text(payment: Payment) -> tuple[User, str]:
    labels = dict(PaymentMethod.choices)
    lines = list(payment.lines.all())
    methods = "，".join(f"{labels.get(x.method, x.method)} {x.amount}" for x in lines)
    bank = {PaymentMethod.TRANSFER, PaymentMethod.WITHHOLDING}
    where = "银行到账" if lines and all(x.method in bank for x in lines) else "收银台收款"
    text = f"{where} No.{payment.receipt_no:08d}，{payment.business_date:%Y-%m-%d}"
    return payment.cashier, text + (f"，{methods}" if methods else "")


def after_payment(*, account_id: int) -> None:
    """``WUYE_AFTER_PAYMENT`` hook: the ledger calls it after a payment or a reversal commits."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        return
    try:
        case_refresh_account(account)
    except Exception:  # the payment stands whatever happens here; tonight's run catches up
        logger.exception("dunning: refreshing account %s after a payment failed", account_id)


def after_payments(*, account_ids: list[int]) -> None:
    """``WUYE_AFTER_PAYMENTS`` hook: the ledger calls it once after a batch of payments commits."""
    try:
        cases_refresh_accounts(account_ids)
    except Exception:  # the payments stand whatever happens here; tonight's run catches up
        logger.exception("dunning: refreshing %s accounts after payments failed", len(account_ids))


def _evaluate(
    project_id: int,
    on: datetime.date,
    *,
    account_ids: list[int] | None,
    preview: bool,
    open_new: bool = True,
    say: Progress = lambda text: None,
    closed_by: tuple[User, str] | dict[int, tuple[User, str]] | None = None,
) -> RunResult:
    """``closed_by`` (who, what; or one per account id) names the payment that settled the account
    when a refresh after a payment closes its case; the daily run's own closings say so."""
    settings = rules.dunning_settings(project_id)
    follow_ups = rules.follow_up_rules(project_id)
    escalations = rules.escalation_rules(project_id)
    result = RunResult(on=on, preview=preview)

    overdue = overdue_by_account(project_id, on, account_ids)
    result.accounts = len(overdue)
    say(f"逾期账户 {len(overdue)} 户（截至 {on:%Y-%m-%d}）")
    open_cases = ArrearsCase.objects.filter(project_id=project_id, state=CaseState.OPEN)
    if account_ids is not None:
        open_cases = open_cases.filter(account_id__in=account_ids)
    by_account = {c.account_id: c for c in open_cases}
    say(f"在办案件 {len(by_account)} 件")
    strategies = case_strategies(project_id, account_ids)
    written_only = _written_only_accounts(project_id, account_ids)
    for case in by_account.values():
        case.written_only = case.account_id in written_only
    # Households with a bank withholding in flight are not escalated until the result is back.
    held = holds.chase_holds(project_id, account_ids)

    cutoff = on - settings.grace_days * DAY
    to_open = [a for a, o in overdue.items() if a not in by_account and o.oldest_due_date < cutoff]
    events: list[CaseEvent] = []
    changed: list[ArrearsCase] = []
    closing: list[ArrearsCase] = []

    # Existing open cases: close, or refresh and apply the rules.
    for account_id, case in by_account.items():
        owed = overdue.get(account_id)
        if owed is None:
            case.state, case.closed_on = CaseState.CLOSED, on
            by = closed_by.get(account_id) if isinstance(closed_by, dict) else closed_by
            closer, paid_by = by or (None, "")
            case.close_reason = (
                f"欠费已全部缴清（{paid_by}）"[:100] if paid_by else "欠费已全部缴清"
            )
            case.overdue_amount, case.overdue_bills = money(0), 0
            case.next_action, case.next_action_on, case.next_action_due = "", None, None
            closing.append(case)
            events.append(
                _event(
                    case,
                    EventKind.CLOSED,
                    on=on,
                    by=closer,
                    reason=f"欠费已全部缴清：{paid_by}，自动结案"
                    if paid_by
                    else "欠费已全部缴清，每日跑批自动结案",
                )
            )
            continue
        before = tuple(getattr(case, f) for f in _RUN_FIELDS)
        _set_amounts(case, owed, on)
        strategy = strategies.get(account_id)
        if broken := _break_promise(case, on):
            events.append(broken)
        escalation = (
            None if account_id in held else _escalate(case, on, escalations, settings, strategy)
        )
        if escalation is not None:
            events.append(escalation)
            result.escalated += 1
        _apply_task(case, settings, follow_ups, strategy)
        if tuple(getattr(case, f) for f in _RUN_FIELDS) != before:
            changed.append(case)
        else:
            result.unchanged += 1
    result.closed, result.updated = len(closing), len(changed)
    say(f"结案 {len(closing)} 件，更新 {len(changed)} 件，升级上门 {result.escalated} 件")

    # New cases, or the one closed a few days ago when a reversal made money overdue again.
    reopen = _recently_closed(project_id, to_open, on)
    new_cases: list[ArrearsCase] = []
    stewards = _stewards(to_open) if to_open and open_new else {}
    for account_id in to_open:
        owed = overdue[account_id]
        case = reopen.get(account_id)
        if case is None and not open_new:
            continue
        if case is not None:
            case.written_only = account_id in written_only
            case.state, case.closed_on, case.close_reason = CaseState.OPEN, None, ""
            _set_amounts(case, owed, on)
            _apply_task(case, settings, follow_ups, strategies.get(account_id))
            changed.append(case)
            events.append(
                _event(case, EventKind.REOPENED, on=on, reason="缴费被冲红或新欠费，重新立案")
            )
            result.reopened += 1
            continue
        room_id, steward_id = stewards[account_id]
        case = ArrearsCase(
            project_id=project_id,
            account_id=account_id,
            room_id=room_id,
            opened_on=on,
            stage=Stage.REMINDER,
            stage_since=on,
            assignee_id=steward_id,
        )
        case.written_only = account_id in written_only
        _set_amounts(case, owed, on)
        strategy = strategies.get(account_id)
        escalation = (
            None if account_id in held else _escalate(case, on, escalations, settings, strategy)
        )
        _apply_task(case, settings, follow_ups, strategy)
        case.escalation_event = escalation
        new_cases.append(case)
        if escalation is not None:
            result.escalated += 1
    result.opened = len(new_cases)
    say(f"新立案 {len(new_cases)} 件，重新立案 {result.reopened} 件")
    if preview:
        return result

    _update_rows(closing + changed, [*_RUN_FIELDS, "state", "closed_on", "close_reason"])
    for start in range(0, len(new_cases), CHUNK):
        chunk = ArrearsCase.objects.bulk_create(new_cases[start : start + CHUNK])
        for case in chunk:
            events.append(
                _event(
                    case,
                    EventKind.OPENED,
                    on=on,
                    reason=f"欠费 {case.overdue_amount} 元，最早到期 {case.oldest_due_date:%Y-%m-%d}",
                )
            )
        for original, saved in zip(new_cases[start : start + CHUNK], chunk, strict=True):
            if original.escalation_event is not None:
                original.escalation_event.case = saved
                events.append(original.escalation_event)
        say(f"已立案 {min(start + CHUNK, len(new_cases))}/{len(new_cases)}")
    CaseEvent.objects.bulk_create(events, batch_size=CHUNK)
    return result


def _update_rows(cases: list[ArrearsCase], names: list[str]) -> None:
    """One parameterized UPDATE per case, sent with ``executemany``: on SQLite and PostgreSQL many
    times faster than ``bulk_update``'s CASE expressions for the tens of thousands of cases whose aging
    changes every day."""
    if not cases:
        return
    fields = [ArrearsCase._meta.get_field(name) for name in names]
    table = connection.ops.quote_name(ArrearsCase._meta.db_table)
    columns = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE {table} SET {columns} WHERE id = %s"  # noqa: S608 (model column names only)
    rows = [
        [f.get_db_prep_save(getattr(case, f.attname), connection) for f in fields] + [case.pk]
        for case in cases
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[start : start + CHUNK])


def _recently_closed(project_id: int, account_ids: list[int], on: datetime.date) -> dict:
    if not account_ids:
        return {}
    since = on - REOPEN_WITHIN_DAYS * DAY
    found: dict[int, ArrearsCase] = {}
    for start in range(0, len(account_ids), CHUNK):
        rows = ArrearsCase.objects.filter(
            project_id=project_id,
            account_id__in=account_ids[start : start + CHUNK],
            state=CaseState.CLOSED,
            closed_on__gte=since,
        ).order_by("account_id", "-closed_on", "-id")
        for case in rows:
            found.setdefault(case.account_id, case)
    return found


def _stewards(account_ids: list[int]) -> dict[int, tuple[int, int | None]]:
    """account → (room, the steward of the room's building): automatic assignment (SPEC §5 step 3)."""
    found: dict[int, tuple[int, int | None]] = {}
    for start in range(0, len(account_ids), CHUNK):
        rows = Account.objects.filter(pk__in=account_ids[start : start + CHUNK]).values_list(
            "id", "room_id", "room__building__steward_id"
        )
        for account_id, room_id, steward_id in rows:
            found[account_id] = (room_id, steward_id)
    return found


# --- contacts --------------------------------------------------------------------------------------


def _choice(value: str, choices, field: str, label: str) -> str:
    value = (value or "").strip()
    if value and value not in choices.values:
        raise ValidationFailed(f"未知的{label}：{value}", field=field)
    return value


def _payer_phone_ids(case: ArrearsCase) -> set[int]:
    people = Occupancy.objects.filter(room_id=case.room_id, end_date__isnull=True).values_list(
        "person_id", flat=True
    )
    return set(
        Phone.objects.filter(person_id__in=[case.account.payer_id, *people]).values_list(
            "id", flat=True
        )
    )


def contact_record(
    *,
    user: User,
    case: ArrearsCase,
    channel: str,
    reached: bool,
    at: datetime.datetime | None = None,
    phone: Phone | None = None,
    used: str = "",
    unreached_reason: str = "",
    owner_said: str = "",
    promise_date: datetime.date | None = None,
    promise_amount: object = None,
    refusal_reason: str = "",
    lives_elsewhere: bool = False,
    case_class: str = "",
    class_reason: str = "",
    delivery_status: str = "",
    delivery_ref: str = "",
    demand_deadline: datetime.date | None = None,
    note: str = "",
    late_entry_reason: str = "",
    corrects: ContactRecord | None = None,
    legacy_issue: LegacyIssue | None = None,
    attachments: Sequence[UploadedFile] = (),
    attachment_kind: str = AttachmentKind.PHOTO,
    now: datetime.datetime | None = None,
) -> ContactRecord:
    """催缴记录: one contact with the household of ``case``, kept as evidence.

    Refused (``ValidationFailed`` naming the field, citing the rule): a case with nothing overdue
    (误催 — checked against the ledger right now), a call or visit outside the project's working
    windows or over the daily/weekly cap, a message outside its window, a call or visit to an owner who
    asked for written contact only, a note that plans cutting utilities or naming the debtor (LAW.md
    §1–3, §8), a contact in the future. Otherwise the outcome sets the class (``rules.class_from_outcome``
    unless ``case_class`` is chosen with a reason), the promise and the next task; a number found dead
    is marked on the phone.
    """
    now = now or timezone.now()
    at = at or now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    _worker(user, case, "登记催缴记录")
    _check_attachments(attachments)  # before anything is written: by content, count and size
    channel = _choice(channel, Channel, "channel", "联系方式")
    if not channel:
        raise ValidationFailed("请选择联系方式", field="channel")
    # A withholding batch in flight: the bank is taking the money; an owner at the window is no chase.
    if corrects is None and channel != Channel.WINDOW and (hold := holds.hold_of(case)):
        raise ValidationFailed(
            f"{hold}：银行扣款结果回来之前不催缴该户，请等回盘后再联系"
            "（扣款失败会显示在今日催缴和案件页，并写明银行返回的原因）。",
            code="dunning.bank_hold",
            field="case",
        )
    if at > now + datetime.timedelta(minutes=5):
        raise ValidationFailed("联系时间不能晚于现在（登记已发生的联系）", field="at")
    unreached_reason = _choice(
        unreached_reason, UnreachedReason, "unreached_reason", "未联系上原因"
    )
    refusal_reason = _choice(refusal_reason, RefusalReason, "refusal_reason", "拒缴理由")
    delivery_status = _choice(delivery_status, DeliveryStatus, "delivery_status", "送达状态")
    case_class = _choice(case_class, CaseClass, "case_class", "分类")
    if reached:
        unreached_reason = ""
    elif not unreached_reason:
        if channel in (Channel.PHONE, Channel.VISIT_HOME, Channel.VISIT_WORK):
            raise ValidationFailed(
                "未联系上时请选择原因（无人接听、关机……）", field="unreached_reason"
            )
        unreached_reason = ""
    if not reached and channel == Channel.WINDOW:
        raise ValidationFailed("窗口面谈即已联系上", field="reached")
    for name, text in (("note", note), ("owner_said", owner_said), ("class_reason", class_reason)):
        if len(text or "") > 2000:
            raise ValidationFailed("内容最多 2000 字", field=name)
    # Every free text of the record: the measures noted, what the owner said, the address used.
    for name, text in (("note", note), ("owner_said", owner_said), ("used", used)):
        guard_text(text, field=name)
    amount = None
    if promise_amount not in (None, ""):
        try:
            amount = money(to_decimal(promise_amount))
        except Exception as exc:
            raise ValidationFailed("承诺金额应为数字，如 1200.00", field="promise_amount") from exc
        if amount <= 0:
            raise ValidationFailed("承诺金额应大于 0", field="promise_amount")
    local_day = timezone.localtime(at).date()
    if promise_date is not None:
        if not reached:
            raise ValidationFailed("未联系上业主，不能登记承诺", field="promise_date")
        if promise_date < local_day:
            raise ValidationFailed("承诺缴费日期不能早于联系日期", field="promise_date")
    if phone is not None and phone.pk not in _payer_phone_ids(case):
        raise ValidationFailed("该号码不属于本户的业主或住户", field="phone")
    if corrects is not None and corrects.case_id != case.pk:
        raise ValidationFailed("只能更正本案件的记录", field="corrects")
    if legacy_issue is not None and legacy_issue.room_id != case.room_id:
        raise ValidationFailed("只能引用本户（同一房屋）的历史遗留问题", field="legacy_issue")

    # 误催: the ledger, right now, decides whether the household still owes anything.
    if case.is_open:
        case_refresh_account(case.account, on=timezone.localdate(now))
        case.refresh_from_db()
    if not case.is_open and corrects is None:
        raise ValidationFailed(
            f"误催：该户已无逾期欠费（案件已于 {case.closed_on:%Y-%m-%d} 结案），不得再催缴"
            "（本公司催缴流程：已缴清的不催）。",
            code="dunning.nothing_overdue",
            field="case",
        )
    settings = rules.dunning_settings(case.project_id)
    payer = case.account.payer
    if channel in VOICE_CHANNELS and payer.written_contact_only:
        raise ValidationFailed(
            f"{payer.name} 要求仅以书面方式联系：不得电话或上门，请改用邮寄/EMS、"
            "张贴投递通知或律师函（本公司联系规范：尊重业主选择的联系方式）。",
            code="dunning.written_only",
            field="channel",
        )
    late_entry_reason = _demand_check(
        channel=channel,
        at=at,
        now=now,
        delivery_status=delivery_status,
        demand_deadline=demand_deadline,
        late_entry_reason=late_entry_reason,
        attachments=attachments,
        settings=settings,
    )
    if refusal := rules.contact_time_refusal(channel=channel, at=at, settings=settings):
        # The task stays where it is: the case stays on today's list, where the steward can still
        # send a message or post a notice, and the card says when calls are allowed (issue 17 item 1).
        raise ValidationFailed(refusal, code="dunning.outside_hours", field="at")

    derived = rules.class_from_outcome(
        reached=reached,
        unreached_reason=unreached_reason,
        promise_date=promise_date,
        refusal_reason=refusal_reason,
        lives_elsewhere=lives_elsewhere,
        current=case.case_class,
    )
    chosen = case_class or derived
    class_reason = (class_reason or "").strip()
    if chosen != derived and not class_reason:
        raise ValidationFailed(
            f"按本次结果应为 {CaseClass(derived).label}；改为 {CaseClass(chosen).label} 请填写理由",
            field="class_reason",
        )
    if word := rules.forbidden_measure(class_reason):
        raise ValidationFailed(f"“{word}”：{rules.FORBIDDEN_MESSAGE}", field="class_reason")

    number = phone.number if phone is not None else (used or "")
    if channel == Channel.PHONE:
        try:
            _check_call_caps(case, at, settings, number)
        except ValidationFailed as exc:
            _task_postpone(
                case,
                exc.postpone_until,
                today=timezone.localdate(now),
                user=user,
                why="已达通话次数上限",
            )
            raise
    with transaction.atomic():
        case = (
            ArrearsCase.objects.select_for_update(of=("self",))
            .select_related("account__payer", "project")
            .get(pk=case.pk)
        )
        if channel == Channel.PHONE:
            # Again under the lock: two stewards calling the same household at once.
            _check_call_caps(case, at, settings, number)
        record = ContactRecord(
            case=case,
            project_id=case.project_id,
            at=at,
            by=user,
            channel=channel,
            phone=phone,
            used=(used or (phone.number if phone else ""))[:200],
            reached=reached,
            unreached_reason=unreached_reason,
            owner_said=owner_said.strip(),
            promise_date=promise_date,
            promise_amount=amount,
            refusal_reason=refusal_reason,
            lives_elsewhere=lives_elsewhere,
            case_class=chosen,
            class_reason=class_reason,
            delivery_status=delivery_status,
            delivery_ref=delivery_ref.strip()[:100],
            demand_deadline=demand_deadline,
            note=note.strip(),
            late_entry_reason=late_entry_reason,
            corrects=corrects,
        )
        record.save()
        for upload in attachments:
            _attach(record, upload, attachment_kind)
        if legacy_issue is not None:
            case_link_issue(user=user, case=case, issue=legacy_issue, contact=record)
        if case.is_open:
            _apply_contact(case, record, user, local_day, settings)
        audit_record(
            user=user,
            action="催缴记录",
            obj=record,
            project=case.project_id,
            changes={
                "case": case.pk,
                "channel": channel,
                "at": at,
                "reached": reached,
                "unreached_reason": unreached_reason,
                "promise": [promise_date, amount],
                "refusal_reason": refusal_reason,
                "class": chosen,
                "corrects": corrects.pk if corrects else None,
                "attachments": len(attachments),
            },
        )
        _after_contact(case.account_id, case.pk)
    if phone is not None:
        mark = PhoneValidity.OK if reached else _UNREACHED_MARK.get(unreached_reason)
        if mark and mark != phone.validity:
            phone_mark_validity(user=user, phone=phone, validity=mark)
    return record


def _demand_check(
    *,
    channel: str,
    at: datetime.datetime,
    now: datetime.datetime,
    delivery_status: str,
    demand_deadline: datetime.date | None,
    late_entry_reason: str,
    attachments: Sequence[UploadedFile],
    settings,
) -> str:
    """A written demand (催告) gives the owner a real period: its deadline at least the project's
    minimum days after the delivery (《民法典》第九百四十四条第二款: a reasonable period), and a delivery
    entered on a later day needs a reason and the proof of delivery. Returns the cleaned reason."""
    reason = (late_entry_reason or "").strip()
    if len(reason) > 200:
        raise ValidationFailed("补登原因最多 200 字", field="late_entry_reason")
    if word := rules.forbidden_measure(reason):
        raise ValidationFailed(f"“{word}”：{rules.FORBIDDEN_MESSAGE}", field="late_entry_reason")
    if channel not in WRITTEN_CHANNELS:
        return reason
    delivered_on = timezone.localtime(at).date()
    if demand_deadline is not None:
        days = rules.demand_min_days(settings)
        earliest = delivered_on + days * DAY
        if demand_deadline < earliest:
            raise ValidationFailed(
                f"催告缴费期限须在送达（{delivered_on:%Y-%m-%d}）后至少 {days} 天，即不早于 "
                f"{earliest:%Y-%m-%d}：起诉前须给业主合理的缴费期限（《民法典》第九百四十四条第二款）。",
                code="dunning.demand_period",
                field="demand_deadline",
            )
    if (
        demand_deadline is not None
        and delivery_status == DeliveryStatus.DELIVERED
        and delivered_on < timezone.localtime(now).date()
        and (not reason or not attachments)
    ):
        raise ValidationFailed(
            f"送达日期 {delivered_on:%Y-%m-%d} 早于登记日，属补登：请填写补登原因，并附签收单、"
            "邮寄凭证或现场照片等送达凭证（书面催告是起诉前的证据，《民法典》第九百四十四条"
            "第二款）。",
            code="dunning.late_delivery_entry",
            field="late_entry_reason",
        )
    return reason


def demand_for_legal_stage(
    case: ArrearsCase, on: datetime.date
) -> tuple[ContactRecord | None, str]:
    """The delivered written demand that lets ``case`` go to the legal stage on ``on`` (LAW.md §4),
    or ``None`` with why not: its deadline passed, at least the project's minimum period after the
    recorded delivery, the delivery not entered as in the future, and a delivery entered on a later
    day backed by a reason and a proof of delivery. Records corrected since do not count."""
    settings = rules.dunning_settings(case.project_id)
    days = rules.demand_min_days(settings)
    rows = (
        ContactRecord.objects.filter(
            case__account_id=case.account_id,
            channel__in=WRITTEN_CHANNELS,
            delivery_status=DeliveryStatus.DELIVERED,
            demand_deadline__isnull=False,
            corrections__isnull=True,
        )
        .annotate(proofs=Count("attachments"))
        .order_by("-demand_deadline", "-id")
    )
    why = "没有已送达并载明缴费期限的书面催告"
    for row in rows:
        delivered_on = timezone.localtime(row.at).date()
        entered_on = timezone.localtime(row.recorded_at).date()
        if row.demand_deadline >= on:
            why = f"书面催告载明的缴费期限 {row.demand_deadline:%Y-%m-%d} 尚未届满"
        elif row.demand_deadline < delivered_on + days * DAY:
            why = (
                f"书面催告的缴费期限 {row.demand_deadline:%Y-%m-%d} 距送达 {delivered_on:%Y-%m-%d} "
                f"不足 {days} 天，不是合理期限"
            )
        elif row.at > row.recorded_at + datetime.timedelta(minutes=5):
            why = f"书面催告登记的送达时间 {row.at:%Y-%m-%d %H:%M} 晚于登记时间"
        elif delivered_on < entered_on and not (row.late_entry_reason and row.proofs):
            why = f"书面催告的送达日 {delivered_on:%Y-%m-%d} 系事后补登，缺少补登原因或送达凭证"
        else:
            return row, ""
    return None, why


def case_link_issue(
    *,
    user: User,
    case: ArrearsCase,
    issue: LegacyIssue,
    contact: ContactRecord | None = None,
    note: str = "",
) -> CaseIssueLink:
    """Links a legacy issue of the case's room to the case for good (the owner cited it, or the
    steward judged it relevant). Linking the same issue again returns the existing link."""
    _worker(user, case, "关联历史遗留问题")
    if issue.room_id != case.room_id:
        raise ValidationFailed("只能关联本户（同一房屋）的历史遗留问题", field="legacy_issue")
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed("说明最多 200 字", field="note")
    if word := rules.forbidden_measure(note):
        raise ValidationFailed(f"“{word}”：{rules.FORBIDDEN_MESSAGE}", field="note")
    with transaction.atomic():
        found = CaseIssueLink.objects.filter(case=case, issue=issue).first()
        if found is not None:
            return found
        link = CaseIssueLink.objects.create(
            case=case, issue=issue, contact=contact, by=user, note=note
        )
        audit_record(
            user=user,
            action="案件关联历史遗留问题",
            obj=case,
            project=case.project_id,
            changes={"issue": issue.pk, "contact": contact.pk if contact else None},
        )
    return link


def contact_receipt_record(
    *,
    contact: ContactRecord,
    delivered: bool,
    received_at: datetime.datetime | None = None,
    provider_ref: str = "",
    payload: object = None,
) -> DeliveryReceipt:
    """Keeps the SMS provider's delivery receipt on the contact that sent the message (the contact
    itself is evidence and never changes). Called by the app that talks to the provider when a
    verified receipt arrives; a delivered receipt makes the message a demand that reached the owner
    (LAW.md §7)."""
    if contact.channel not in MESSAGE_CHANNELS:
        raise ValidationFailed("只有短信、微信消息有送达回执", field="contact")
    with transaction.atomic():
        receipt = DeliveryReceipt.objects.create(
            contact=contact,
            status=ReceiptStatus.DELIVERED if delivered else ReceiptStatus.FAILED,
            received_at=received_at or timezone.now(),
            provider_ref=(provider_ref or "")[:100],
            payload=payload,
        )
        audit_record(
            user=None,
            action="短信送达回执",
            obj=contact,
            project=contact.project_id,
            changes={"receipt": receipt.pk, "status": receipt.status},
        )
    return receipt


def _check_call_caps(case: ArrearsCase, at: datetime.datetime, settings, number: str = "") -> None:
    """The daily and weekly call caps, counted per person and per number across every case and project
    of the company (not per case): a payer with two flats, or two households sharing one phone, is
    still one person being called (本公司联系规范; harassing calls: 《民法典》第一千零三十三条)."""
    local = timezone.localtime(at)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = day_start - local.weekday() * DAY
    per_day, per_week = rules.call_caps(settings)
    payer = case.account.payer
    person = Q(case__account__payer_id=payer.pk)
    if payer.id_number.strip():  # the same owner registered in another project of the company
        person |= Q(case__account__payer__id_number=payer.id_number.strip())
    calls = ContactRecord.objects.filter(
        project__company_id=case.project.company_id,
        channel=Channel.PHONE,
        corrects__isnull=True,
    )
    checks = [(calls.filter(person), "该业主")]
    try:
        digits = normalize_phone(number) if number.strip() else ""
    except ValueError:
        digits = "".join(ch for ch in number if ch.isdigit())
    if digits:
        checks.append((calls.filter(Q(phone__number=digits) | Q(used=digits)), f"号码 {digits}"))
    for rows, whom in checks:
        today = rows.filter(at__gte=day_start, at__lt=day_start + DAY).count()
        if today >= per_day:
            raise _over_cap(
                (day_start + DAY).date(),
                f"今天已给{whom}打过 {today} 次电话（含本公司其他案件、其他项目），达到每日上限 "
                f"{per_day} 次（本公司联系规范：频繁致电属骚扰，《民法典》第一千零三十三条）。"
                "请明天再打，或改用短信、上门。",
            )
        week = rows.filter(at__gte=week_start, at__lt=week_start + 7 * DAY).count()
        if week >= per_week:
            raise _over_cap(
                (week_start + 7 * DAY).date(),
                f"本周已给{whom}打过 {week} 次电话（含本公司其他案件、其他项目），达到每周上限 "
                f"{per_week} 次（本公司联系规范：频繁致电属骚扰）。请下周再打，或改用书面方式。",
            )


def _over_cap(until: datetime.date, message: str) -> ValidationFailed:
    """The refusal of a call over the cap, carrying the day the task moves to."""
    error = ValidationFailed(message, code="dunning.over_cap", field="channel")
    error.postpone_until = until
    return error


def _task_postpone(
    case: ArrearsCase,
    until: datetime.date,
    *,
    today: datetime.date,
    why: str,
    user: User | None = None,
) -> None:
    """A call refused for the cap moves the case's task to the next day it is allowed (LAW.md
    §8), so today's list stops offering a call that would be refused again (a refusal for the hour
    leaves the task alone: the card shows the hours, and a message or notice is still allowed). Written
    on its own, before the refusal: the task moves even though the contact is not recorded."""
    if until <= today or (case.next_action_on is not None and case.next_action_on >= until):
        return  # still allowed later today, or a past contact being recorded
    ArrearsCase.objects.filter(pk=case.pk).update(next_action_on=until)
    case.next_action_on = until
    audit_record(
        user=user,
        action="催缴任务顺延",
        obj=case,
        project=case.project_id,
        changes={"next_action_on": until, "reason": why},
    )


def _check_attachments(attachments: Sequence[UploadedFile]) -> None:
    uploads.check_request_files(attachments, field="attachments")
    for upload in attachments:
        uploads.check_upload(upload, field="attachments")


def _attach(record: ContactRecord, upload: UploadedFile, kind: str) -> ContactAttachment:
    if kind not in AttachmentKind.values:
        raise ValidationFailed(f"未知的附件类型：{kind}", field="attachments")
    checked = uploads.check_upload(upload, field="attachments")
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = ContactAttachment(
        contact=record,
        kind=kind,
        original_name=uploads.display_name(upload.name)[:200],
        size=upload.size,
        sha256=digest.hexdigest(),
    )
    attachment.file.save(uploads.stored_name(upload.name, checked), upload, save=False)
    attachment.save()
    return attachment


def _apply_contact(
    case: ArrearsCase,
    record: ContactRecord,
    user: User,
    day: datetime.date,
    settings,
) -> None:
    events: list[CaseEvent] = []
    if record.case_class != case.case_class:
        events.append(
            _event(
                case,
                EventKind.CLASS,
                on=day,
                by=user,
                old=case.case_class,
                new=record.case_class,
                reason=record.class_reason or f"按{record.get_channel_display()}结果分类",
            )
        )
        case.case_class = record.case_class
        case.class_set_by = user
        case.class_reason = record.class_reason
    if record.promise_date is not None:
        events.append(
            _event(
                case,
                EventKind.PROMISE,
                on=day,
                by=user,
                old=case.promise_date or "",
                new=record.promise_date,
                reason=f"承诺 {record.promise_date:%Y-%m-%d} 缴纳"
                + (f" {record.promise_amount} 元" if record.promise_amount else ""),
            )
        )
        case.promise_date, case.promise_amount = record.promise_date, record.promise_amount
    elif record.case_class != CaseClass.A and record.reached:
        # A new conversation without a date ends the promise; an unanswered call or a notice says
        # nothing new, so a broken promise stays flagged (and counts for its escalation).
        case.promise_date, case.promise_amount = None, None
    if case.last_contact_at is None or record.at >= case.last_contact_at:
        case.last_contact_at = record.at
    if record.channel in rules.stage_channels(case.stage, _written_only(case)):
        case.stage_action_done_on = day
    _apply_task(case, settings, rules.follow_up_rules(case.project_id))
    case.save(
        update_fields=[
            "case_class",
            "class_set_by",
            "class_reason",
            "promise_date",
            "promise_amount",
            "last_contact_at",
            "stage_action_done_on",
            "next_action",
            "next_action_on",
            "next_action_due",
        ]
    )
    for event in events:
        event.save()


# --- class, stage, assignee ------------------------------------------------------------------------


def case_set_class(*, user: User, case: ArrearsCase, case_class: str, reason: str) -> ArrearsCase:
    """The steward (or supervisor) changes the class by judgement, with a reason."""
    _worker(user, case, "调整分类")
    case_class = _choice(case_class, CaseClass, "case_class", "分类")
    if not case_class:
        raise ValidationFailed("请选择分类", field="case_class")
    reason = _reason(reason)
    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update().get(pk=case.pk)
        _open_or_refuse(case)
        if case.case_class == case_class:
            return case
        day = timezone.localdate()
        _event(
            case,
            EventKind.CLASS,
            on=day,
            by=user,
            old=case.case_class,
            new=case_class,
            reason=reason,
        ).save()
        old = case.case_class
        case.case_class, case.class_set_by, case.class_reason = case_class, user, reason
        if case_class != CaseClass.A:
            case.promise_date, case.promise_amount = None, None
        settings = rules.dunning_settings(case.project_id)
        _apply_task(case, settings, rules.follow_up_rules(case.project_id))
        case.save()
        audit_record(
            user=user,
            action="催缴分类",
            obj=case,
            project=case.project_id,
            changes={"class": [old, case_class], "reason": reason},
        )
    return case


def case_reassign(
    *, user: User, case: ArrearsCase, assignee: User | None, reason: str
) -> ArrearsCase:
    """The supervisor gives a case to another member of the project's staff, with a reason."""
    _supervisor(user, case.project_id, "重新分配案件")
    reason = _reason(reason)
    if assignee is not None and role_in(assignee, case.project_id) not in WORKER_ROLES:
        raise ValidationFailed(f"{assignee} 不是本项目可承办催缴的员工", field="assignee")
    with transaction.atomic():
        case = (
            ArrearsCase.objects.select_for_update(of=("self",))
            .select_related("assignee")
            .get(pk=case.pk)
        )
        _open_or_refuse(case)
        if case.assignee_id == (assignee.pk if assignee else None):
            return case
        old = case.assignee
        _event(
            case,
            EventKind.ASSIGNEE,
            on=timezone.localdate(),
            by=user,
            old=old or "（未分配）",
            new=assignee or "（未分配）",
            reason=reason,
        ).save()
        case.assignee = assignee
        case.save(update_fields=["assignee"])
        audit_record(
            user=user,
            action="重新分配催缴案件",
            obj=case,
            project=case.project_id,
            changes={
                "assignee": [old.pk if old else None, assignee.pk if assignee else None],
                "reason": reason,
            },
        )
    return case


def cases_reassign(
    *, user: User, cases: Sequence[ArrearsCase], assignee: User | None, reason: str
) -> int:
    """Several cases to one person at once (the supervisor's rebalancing), all or nothing; returns how
    many changed hands."""
    if not cases:
        raise ValidationFailed("请先勾选要分配的案件", field="cases")
    changed = 0
    with transaction.atomic():
        for case in sorted(cases, key=lambda c: c.pk):  # one lock order: no deadlocks
            before = case.assignee_id
            after = case_reassign(user=user, case=case, assignee=assignee, reason=reason)
            changed += before != after.assignee_id
    return changed


def case_set_stage(
    *, user: User, case: ArrearsCase, stage: str, reason: str, deadline: datetime.date | None = None
) -> ArrearsCase:
    """Moves a case to a later stage by decision (visit → written demand → lawyer letter → legal).

    The legal stage needs a project manager's or company administrator's decision and a recorded,
    delivered written demand whose payment deadline has passed (LAW.md §4).
    """
    role = _supervisor(user, case.project_id, "调整催缴阶段")
    stage = _choice(stage, Stage, "stage", "阶段")
    reason = _reason(reason)
    day = timezone.localdate()
    with transaction.atomic():
        case = ArrearsCase.objects.select_for_update().get(pk=case.pk)
        _open_or_refuse(case)
        if STAGE_ORDER.index(stage) <= STAGE_ORDER.index(case.stage):
            raise ValidationFailed(
                f"案件已在“{case.get_stage_display()}”阶段，只能向后推进", field="stage"
            )
        if stage == Stage.LEGAL:
            if role not in LEGAL_APPROVER_ROLES:
                raise ValidationFailed("转入法律程序须由项目经理或公司管理员决定", field="stage")
            demand, why = demand_for_legal_stage(case, day)
            if demand is None:
                raise ValidationFailed(
                    f"转入法律程序前，须有已送达的书面催告，且其载明的缴费期限（送达后至少 "
                    f"{rules.demand_min_days(rules.dunning_settings(case.project_id))} 天）已过："
                    f"{why}（《民法典》第九百四十四条第二款：物业服务人应先催告业主在合理期限内"
                    "支付，期满仍不支付的，方可提起诉讼或申请仲裁）。",
                    code="dunning.no_demand",
                    field="stage",
                )
        old = case.stage
        _event(case, EventKind.STAGE, on=day, by=user, old=old, new=stage, reason=reason).save()
        case.stage, case.stage_since, case.stage_deadline = stage, day, deadline
        case.stage_action_done_on = None
        _apply_task(
            case, rules.dunning_settings(case.project_id), rules.follow_up_rules(case.project_id)
        )
        case.save()
        audit_record(
            user=user,
            action="催缴阶段",
            obj=case,
            project=case.project_id,
            changes={"stage": [old, stage], "reason": reason},
        )
    return case


def _open_or_refuse(case: ArrearsCase) -> None:
    if not case.is_open:
        raise ValidationFailed("案件已结案（该户已无逾期欠费）", field="case")


# --- results from the bank -------------------------------------------------------------------------


def case_bank_result(
    *, account_id: int, text: str, on: datetime.date, by: User | None = None
) -> CaseEvent | None:
    """Records a bank's answer about the household (e.g. "代扣失败：余额不足（批次 …）") on its open
    arrears case, where today's list and the case page show it. Called by the app that imported the
    answer (wuye.banking); nothing is recorded when the household has no open case."""
    case = ArrearsCase.objects.filter(account_id=account_id, state=CaseState.OPEN).first()
    if case is None:
        return None
    event = _event(case, EventKind.BANK, on=on, by=by, reason=text)
    event.save()
    return event
