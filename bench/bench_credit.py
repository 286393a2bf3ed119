#!/usr/bin/env python
"""Credit benchmark: credit files and segments of a whole project, and the update after one payment.

    .venv/bin/python bench/bench_credit.py [--rooms 100000] [--months 12] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuye_bench_credit .venv/bin/python bench/bench_credit.py

Like the other benches it works on a database of its own (a temporary SQLite file, or the PostgreSQL
database named in ``DATABASE_URL``, dropped and created again: its name must contain "bench").

What it builds: the demo community (``demo_data --rooms N --months 0``), one payer account per room and
``--months`` monthly bills each (bulk-inserted, due on the 15th), paid the way households pay: 60 %
always on time, 25 % sometimes late, 10 % chronically late with a few months still open, 5 % not
paying the last months at all; one payment per household with an allocation per bill dated the day
the bill was settled. Households with money overdue get an arrears case and 1–4 contact records
(unanswered calls, promises, refusals).

What it times (targets from issue 6, "Speed"):
(a) recomputing every credit file and segment of the project: < 60 s;
(b) the incremental update of one household after a payment (``credit_refresh_account``, the work the
    ``WUYE_AFTER_PAYMENT`` hook does), median of 20 different households: < 50 ms.
"""

from __future__ import annotations

import argparse
import datetime
import io
import random
import statistics
import time
from decimal import Decimal

from _benchdb import analyze, line, setup
from bench_ledger import month

FULL_TARGET_S = 60.0
ONE_TARGET_MS = 50.0
DAY = datetime.timedelta(days=1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=100_000, help="households (default 100,000)")
    parser.add_argument("--months", type=int, default=12, help="monthly bills per household")
    parser.add_argument("--repeat", type=int, default=20, help="households paid for (b)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    return parser.parse_args()


def insert(model, columns: list[str], rows: list[tuple]) -> None:
    """Raw bulk insert: COPY on PostgreSQL, executemany on SQLite — the ORM's bulk_create spends
    most of its time preparing values, which for two million rows is minutes."""
    from django.db import connection

    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (bench: model names)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 20000):
            cursor.executemany(sql, rows[start : start + 20000])


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


def _d(day: datetime.date):
    from django.db import connection

    return day if connection.vendor == "postgresql" else day.isoformat()


def build(project, staff, months: int, rng: random.Random) -> list[int]:
    """The ledger and contacts described above; returns the accounts with money overdue."""
    from django.db import transaction
    from django.utils import timezone

    from wuye.billing import fee_settings, run_planning, run_writing
    from wuye.billing.calc import month_end
    from wuye.billing.models import Account, Bill
    from wuye.dunning.models import ArrearsCase, ContactRecord
    from wuye.ledger.models import Allocation, Payment, ReceiptSequence

    item = fee_settings.fee_item_create(
        user=None, project=project, code="WYF", name="物业服务费", method="fixed"
    )
    today = timezone.localdate()
    now = timezone.now()
    stamp = now if connection_vendor() == "postgresql" else now.isoformat(" ")
    payers = run_planning._payers_on(project.pk, None, today)
    pairs = sorted(payers.items())
    index = run_writing.accounts_ensure(project.pk, [(room, person) for room, person in pairs])
    accounts = list(
        Account.objects.filter(pk__in=[index[p] for p in pairs])
        .order_by("pk")
        .values_list("pk", "room_id")
    )
    first = month(today.replace(day=1), -months)
    periods = [month(first, n) for n in range(months)]
    started = time.perf_counter()
    rows = []
    for account_id, room_id in accounts:
        amount = Decimal(rng.randrange(8000, 40000)) / 100
        for period in periods:
            rows.append(
                (
                    project.pk, account_id, room_id, item.pk, "charge", _d(period),
                    _d(month_end(period)), amount, _d(period + 14 * DAY), "", 0, stamp,
                )
            )  # fmt: skip
    with transaction.atomic():
        insert(
            Bill,
            [
                "project_id", "account_id", "room_id", "fee_item_id", "kind", "period_start",
                "period_end", "amount", "due_date", "description", "revision", "created_at",
            ],
            rows,
        )  # fmt: skip
    line("bills", f"rows={len(rows)} seconds={time.perf_counter() - started:.1f}")
    by_account: dict[int, list] = {}
    for bill_id, account_id, amount, due in (
        Bill.objects.filter(project=project)
        .order_by("account_id", "due_date")
        .values_list("id", "account_id", "amount", "due_date")
    ):
        by_account.setdefault(account_id, []).append((bill_id, amount, due))

    # Continue the project's receipt numbers (demo_data may have taken payments), and leave the
    # sequence after the bench's own so the payments of (b) get the next numbers.
    receipt = (
        ReceiptSequence.objects.filter(project=project).values_list("last_no", flat=True).first()
        or 0
    )
    payments, plans, overdue = [], {}, []
    for n, (account_id, _) in enumerate(accounts):
        kind = rng.random()
        own = by_account.get(account_id, [])
        if kind < 0.60:  # always on time
            plan = [(b, due - rng.randint(0, 10) * DAY) for b, _, due in own]
        elif kind < 0.85:  # sometimes late
            plan = [
                (b, due + (rng.randint(3, 40) if rng.random() < 0.2 else -1) * DAY)
                for b, _, due in own
            ]
        elif kind < 0.95:  # chronically late, the last 1–4 months open
            open_months = rng.randint(1, 4)
            plan = [(b, due + rng.randint(20, 90) * DAY) for b, _, due in own[:-open_months]]
        else:  # stopped paying
            plan = [(b, due) for b, _, due in own[: -rng.randint(3, months)]]
        plan = [(b, min(day, today)) for b, day in plan]
        if len(plan) < len(own):
            overdue.append(account_id)
        if not plan:
            continue
        amounts = {b: amount for b, amount, _ in own}
        total = sum((amounts[b] for b, _ in plan), Decimal("0"))
        last = max(day for _, day in plan)
        payments.append(
            (project.pk, account_id, receipt + n + 1, total, _d(last), stamp, staff.pk, "", stamp)
        )
        plans[receipt + n + 1] = [(b, amounts[b], day) for b, day in plan]
    with transaction.atomic():
        insert(
            Payment,
            [
                "project_id", "account_id", "receipt_no", "amount", "business_date",
                "received_at", "cashier_id", "note", "created_at",
            ],
            payments,
        )  # fmt: skip
        ids = dict(
            Payment.objects.filter(project=project).values_list("receipt_no", "id").iterator()
        )
        insert(
            Allocation,
            ["bill_id", "amount", "effective_date", "payment_id", "created_at"],
            [
                (b, amount, _d(day), ids[no], stamp)
                for no, plan in plans.items()
                for b, amount, day in plan
            ],
        )
        ReceiptSequence.objects.update_or_create(
            project=project, defaults={"last_no": receipt + len(accounts) + 1}
        )
    line(
        "ledger",
        f"accounts={len(accounts)} bills={len(rows)} payments={len(payments)} "
        f"overdue={len(overdue)} seconds={time.perf_counter() - started:.1f}",
    )
    rooms = dict(accounts)

    # Cases and contacts for the households in arrears (bulk: the dunning run has its own bench).
    started = time.perf_counter()
    cases = [
        ArrearsCase(
            project_id=project.pk,
            account_id=a,
            room_id=rooms[a],
            opened_on=today - 30 * DAY,
            stage_since=today - 30 * DAY,
            assignee_id=staff.pk,
        )
        for a in overdue
    ]
    with transaction.atomic():
        ArrearsCase.objects.bulk_create(cases, batch_size=2000)
    contacts = []
    reasons = ["leak", "lift", "neighbours", "service_quality", "hardship", "disputed_amount"]
    for case in cases:
        for k in range(rng.randint(1, 4)):
            at = timezone.now() - datetime.timedelta(days=28 - 6 * k, hours=rng.randint(0, 5))
            roll = rng.random()
            record = ContactRecord(
                case_id=case.pk,
                project_id=project.pk,
                at=at,
                by_id=staff.pk,
                channel="phone",
                reached=roll >= 0.4,
                unreached_reason="no_answer" if roll < 0.4 else "",
            )
            if 0.4 <= roll < 0.7:
                record.promise_date = timezone.localdate(at) + rng.randint(1, 10) * DAY
                record.case_class = "A"
            elif 0.7 <= roll < 0.85:
                record.refusal_reason = rng.choice(reasons)
                record.case_class = "E"
            contacts.append(record)
    with transaction.atomic():
        ContactRecord.objects.bulk_create(contacts, batch_size=2000)
    line(
        "contacts",
        f"cases={len(cases)} contacts={len(contacts)} seconds={time.perf_counter() - started:.1f}",
    )
    return overdue


def main() -> None:
    args = parse_args()
    bench = setup("credit", keep=args.keep)
    from django.core.management import call_command
    from django.test.utils import override_settings

    from wuye.core.models import Membership, Project, User
    from wuye.core.roles import Role
    from wuye.credit.models import CreditFile
    from wuye.credit.services import credit_recompute, credit_refresh_account
    from wuye.ledger.services.payments import payment_record

    rng = random.Random(args.seed)
    try:
        bench.migrate()
        started = time.perf_counter()
        call_command("demo_data", rooms=args.rooms, seed=args.seed, months=0, stdout=io.StringIO())
        project = Project.objects.order_by("id").first()
        line("demo_data", f"rooms={args.rooms} seconds={time.perf_counter() - started:.1f}")
        staff = User.objects.create_user(username="bench_cashier", password="x" * 12)
        Membership.objects.create(user=staff, project=project, role=Role.SUPERVISOR)
        overdue = build(project, staff, args.months, rng)
        analyze()

        # (a) the whole project, twice (the first run also seeds the default segments and inserts;
        # the second updates every row, as the nightly task does).
        for label in ("(a) full recompute, first", "(a) full recompute, again"):
            started = time.perf_counter()
            result = credit_recompute(project=project)
            seconds = time.perf_counter() - started
            verdict = "OK" if seconds < FULL_TARGET_S else "ABOVE TARGET"
            line(
                label,
                f"files={result.files} seconds={seconds:.1f} "
                f"(target: < {FULL_TARGET_S:.0f} s) {verdict}",
            )
        line("segments", "，".join(f"{k} {v}" for k, v in (result.segmented or {}).items()))

        # (b) one payment, then the hook's work for that household.
        times = []
        with override_settings(WUYE_AFTER_PAYMENT=[]):  # time the credit update on its own
            for account_id in rng.sample(overdue, min(args.repeat, len(overdue))):
                from wuye.billing.models import Account

                account = Account.objects.get(pk=account_id)
                payment_record(user=staff, account=account, lines=[("cash", Decimal("50.00"), "")])
                started = time.perf_counter()
                credit_refresh_account(account_id)
                times.append((time.perf_counter() - started) * 1000)
        median = statistics.median(times)
        verdict = "OK" if median < ONE_TARGET_MS else "ABOVE TARGET"
        line(
            "(b) one household after a payment",
            f"median={median:.1f} ms p95={sorted(times)[int(len(times) * 0.95) - 1]:.1f} ms "
            f"max={max(times):.1f} ms n={len(times)} (target: median < {ONE_TARGET_MS:.0f} ms) "
            f"{verdict}",
        )
        line("credit files", str(CreditFile.objects.filter(project=project).count()))
    finally:
        bench.finish()


if __name__ == "__main__":
    main()
