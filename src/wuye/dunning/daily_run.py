"""每日跑批 (the daily run) and the refresh of one account after a payment.

* **The daily run** (``dunning_run``) reads what each payer account of a project owes from the ledger
  in one grouped query, opens a case for an account with money overdue past the grace period, refreshes
  the figures of open cases, applies the escalation and follow-up rules (``rules``: 自动转“上门催缴”,
  承诺未兑现) and closes a case when nothing is overdue any more. It writes only what changed, so a
  second run the same day changes nothing; the unique constraint "one open case per account" holds
  even if two runs race.
* **Payments** re-evaluate their account at once (``after_payment``, listed in
  ``settings.WUYE_AFTER_PAYMENT`` and called by the ledger after commit): a household that paid is never
  chased (误催). A reversal that makes money overdue again reopens the case it had just closed.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from types import SimpleNamespace
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from wuye.billing.models import Account
from wuye.core import hooks
from wuye.core.audit import audit_record
from wuye.core.models import Project, User
from wuye.core.money import money
from wuye.core.sql import id_sets, insert_rows, update_rows
from wuye.dunning import holds, rules
from wuye.dunning.casework import (
    _apply_task,
    _event_fields,
    _written_only,
    _written_only_accounts,
    case_strategies,
)
from wuye.dunning.enums import (
    CaseClass,
    CaseState,
    EventKind,
    RunStatus,
    Stage,
)
from wuye.dunning.models import (
    ArrearsCase,
    CaseEvent,
    DunningRun,
)
from wuye.dunning.selectors import Overdue, overdue_by_account
from wuye.ledger.enums import PaymentMethod
from wuye.ledger.models import Payment

logger = logging.getLogger(__name__)
DAY = datetime.timedelta(days=1)
Event = dict[str, Any]  # casework._event_fields: the run writes its events as rows


# A case closed this recently comes back (with its history) when money is overdue again — a reversed
# payment; a household that falls behind weeks later gets a fresh case.
REOPEN_WITHIN_DAYS = 7
CHUNK = 1000


# Fields the run may change on an open case.
_RUN_FIELDS = [
    "case_class",
    "class_reason",
    "class_set_by_id",
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


class CaseRow(SimpleNamespace):
    """An arrears case as the run handles it: its columns as attributes (``id``, ``account_id``,
    ``class_set_by_id`` …), read with ``values()`` and written with ``core.sql``. A model instance
    costs ~100 µs to make, 20 s for the 200,000 cases of a company's run; the rules and the next
    task read the same attributes from either."""

    @property
    def pk(self) -> int | None:
        return self.id


@cache
def _case_columns() -> tuple[str, ...]:
    return tuple(f.attname for f in ArrearsCase._meta.concrete_fields)


@cache
def _new_case_columns() -> tuple[str, ...]:
    """What the run sets on a new case: not its id, nor the times ``insert_rows`` stamps."""
    return tuple(
        f.attname
        for f in ArrearsCase._meta.concrete_fields
        if not (f.primary_key or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
    )


@cache
def _case_defaults() -> tuple[tuple[str, Any], ...]:
    """A new case's column defaults (``created_at``/``updated_at`` are set by ``insert_rows``)."""
    return tuple(
        (f.attname, None if f.primary_key else f.get_default())
        for f in ArrearsCase._meta.concrete_fields
    )


def _case_rows(queryset) -> list[CaseRow]:
    return [CaseRow(**row) for row in queryset.values(*_case_columns())]


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
    case: CaseRow, on: datetime.date, escalations, settings, strategy=None
) -> Event | None:
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
    return _event_fields(
        case, EventKind.STAGE, on=on, old=old, new=case.stage, reason=f"{why}：{then}"
    )


def _break_promise(case: CaseRow, on: datetime.date) -> Event | None:
    """A promise whose date passed unpaid: the case goes back to class B (no date any more); the
    promised date stays on the case for the broken-promise escalation and the flag on the lists."""
    if not rules.promise_broken(case_class=case.case_class, promise_date=case.promise_date, on=on):
        return None
    why = f"承诺缴费日 {case.promise_date:%Y-%m-%d} 已过仍未缴清（承诺未兑现）"
    case.case_class, case.class_reason, case.class_set_by_id = CaseClass.B, why, None
    return _event_fields(case, EventKind.CLASS, on=on, old=CaseClass.A, new=CaseClass.B, reason=why)


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
    hooks.after_commit("WUYE_AFTER_DUNNING_RUN", project_id=project_id, on=on)


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
    by_account = {c.account_id: c for c in _case_rows(open_cases)}
    say(f"在办案件 {len(by_account)} 件")
    strategies = case_strategies(project_id, account_ids)
    written_only = _written_only_accounts(project_id, account_ids)
    for case in by_account.values():
        case.written_only = case.account_id in written_only
    # Households with a bank withholding in flight are not escalated until the result is back.
    held = holds.chase_holds(project_id, account_ids)

    cutoff = on - settings.grace_days * DAY
    # In account order: the new cases' account-keyed indexes then grow at their right edge, and the
    # foreign-key checks at COMMIT read the accounts and rooms in the order they are stored, where
    # the grouped read's own order scattered both over a million rows.
    to_open = sorted(
        a for a, o in overdue.items() if a not in by_account and o.oldest_due_date < cutoff
    )
    events: list[Event] = []
    changed: list[CaseRow] = []
    closing: list[CaseRow] = []

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
                _event_fields(
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
    new_cases: list[CaseRow] = []
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
                _event_fields(
                    case, EventKind.REOPENED, on=on, reason="缴费被冲红或新欠费，重新立案"
                )
            )
            result.reopened += 1
            continue
        room_id, steward_id = stewards[account_id]
        case = CaseRow(**dict(_case_defaults()))
        case.project_id, case.account_id, case.room_id = project_id, account_id, room_id
        case.opened_on, case.stage, case.stage_since = on, Stage.REMINDER, on
        case.assignee_id = steward_id
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

    update_rows(
        closing + changed,
        [*_RUN_FIELDS, "state", "closed_on", "close_reason"],
        model=ArrearsCase,
    )
    _insert_new(new_cases, events, on, say)
    # The run's events carry one time, the run's: a case's timeline orders them by (at, id), so
    # an opening and the escalation found with it read in the order they were written.
    stamp = timezone.now()
    insert_rows(CaseEvent, [_event_row(e, stamp) for e in events])
    return result


def _insert_new(new_cases: list[CaseRow], events: list[Event], on: datetime.date, say) -> None:
    """The new cases (COPY on PostgreSQL), then each one's 立案 event and its escalation if any."""
    columns = _new_case_columns()
    for start in range(0, len(new_cases), CHUNK * 10):
        chunk = new_cases[start : start + CHUNK * 10]
        ids = insert_rows(ArrearsCase, [{n: getattr(c, n) for n in columns} for c in chunk])
        for case, pk in zip(chunk, ids, strict=True):
            case.id = pk
            events.append(
                _event_fields(
                    case,
                    EventKind.OPENED,
                    on=on,
                    reason=f"欠费 {case.overdue_amount} 元，最早到期 {case.oldest_due_date:%Y-%m-%d}",
                )
            )
            if case.escalation_event is not None:
                events.append(case.escalation_event)
        say(f"已立案 {start + len(chunk)}/{len(new_cases)}")


def _event_row(event: Event, at: datetime.datetime) -> dict[str, Any]:
    row = {k: v for k, v in event.items() if k not in ("case", "by")}
    row["at"] = at
    row["case_id"] = event["case"].pk
    row["by_id"] = event["by"].pk if event["by"] is not None else None
    return row


def _recently_closed(
    project_id: int, account_ids: list[int], on: datetime.date
) -> dict[int, CaseRow]:
    if not account_ids:
        return {}
    since = on - REOPEN_WITHIN_DAYS * DAY
    found: dict[int, CaseRow] = {}
    for part in id_sets(account_ids, CHUNK):
        rows = ArrearsCase.objects.filter(
            project_id=project_id,
            account_id__in=part,
            state=CaseState.CLOSED,
            closed_on__gte=since,
        ).order_by("account_id", "-closed_on", "-id")
        for case in _case_rows(rows):
            found.setdefault(case.account_id, case)
    return found


def _stewards(account_ids: list[int]) -> dict[int, tuple[int, int | None]]:
    """account → (room, the steward of the room's building): automatic assignment (SPEC §5 step 3)."""
    found: dict[int, tuple[int, int | None]] = {}
    for part in id_sets(account_ids, CHUNK):
        rows = Account.objects.filter(pk__in=part).values_list(
            "id", "room_id", "room__building__steward_id"
        )
        for account_id, room_id, steward_id in rows:
            found[account_id] = (room_id, steward_id)
    return found
