#!/usr/bin/env python
"""Ledger benchmark: a payment across 1,000 open bills, and opening the fee window of a household with
ten years of monthly bills.

    .venv/bin/python bench/bench_ledger.py [--rooms 2000] [--repeat 20] [--seed 42] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuye_bench_ledger .venv/bin/python bench/bench_ledger.py

It always works on a database of its own: SQLite in a new temporary directory (``WUYE_VAR_DIR``); on
PostgreSQL the database named in ``DATABASE_URL`` is dropped and created again, so its name must contain
"bench". Both are removed at the end unless ``--keep``.

What it builds:
1. the demo community (``manage.py demo_data --rooms N``), a contract late-fee rule (so every overdue
   bill carries a capped late fee) and ten fee items;
2. background ledger rows so the tables are not empty: ten years of monthly property-fee bills for every
   room's payer (N × 120 bills), of which each household has paid a random 80–100 % through one payment
   (bulk-inserted);
3. households A1 and A2, each with 1,000 open, overdue bills (10 fee items × 100 months);
4. household B with ten years of monthly bills (120), the first 100 paid one by one through
   ``payment_record`` (real payments, real receipt numbers), the last 20 unpaid and overdue.

What it times (targets from issue 3, "Speed"):
(a) ``payment_record`` of one payment allocated across A1's 1,000 bills, principal only: < 1 s;
    the same across A2's 1,000 bills with late fees: 1,000 late-fee bills issued and paid as well;
(b) the fee window's reads for household B: ``unpaid_bills`` (with the late fee of each bill) and
    ``account_position``, first call and the median of ``--repeat`` calls: < 200 ms;
    also ``statement`` over the ten years and ``invariants.check_all`` over the whole ledger;
(c) posting many payments (issue 11, "Speed"): ``--many`` households each paid once through
    ``payment_record`` one by one, and as many other households paid through the set-based
    ``payments_record_many`` in one call: both times, the cost per payment and the ratio; the batch
    must cost < 2 ms a payment (a 10,000-line statement in well under 20 s).

There is no file to parse here: "parse only" belongs to ``bench_bank.py``. The load average is printed
beside the figures (the machine may be shared). Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime
import io
import random
import statistics
import sys
import time
from decimal import Decimal

from _benchdb import analyze, line, load_average, setup

PAYMENT_TARGET_S = 1.0
BATCH_TARGET_MS = 2.0
WINDOW_TARGET_MS = 200.0
D = datetime.date


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--rooms", type=int, default=2000, help="rooms of background (default 2000)"
    )
    parser.add_argument("--repeat", type=int, default=20, help="timed calls of the window reads")
    parser.add_argument("--seed", type=int, default=42, help="seed of the demo data")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--many", type=int, default=1000, help="payments of (c), each way (default 1000)"
    )
    return parser.parse_args()


# --- data ----------------------------------------------------------------------------------------


def month(first: datetime.date, n: int) -> datetime.date:
    year, index = divmod(first.month - 1 + n, 12)
    return D(first.year + year, index + 1, 1)


def bill_row(account, item, period: datetime.date, amount: Decimal):
    from wuye.billing.calc import month_end
    from wuye.billing.models import Bill

    return Bill(
        project_id=account.project_id,
        account_id=account.pk,
        room_id=account.room_id,
        fee_item_id=item.pk,
        period_start=period,
        period_end=month_end(period),
        amount=amount,
        due_date=period + datetime.timedelta(days=14),
    )


def build(project, cashier, rooms_reserved: int, rng: random.Random):
    """Background ledger, fee items and the benchmark households; returns (A1, A2, B, item)."""
    from django.db import transaction
    from django.utils import timezone

    from wuye.billing import fee_settings, run_planning, run_writing
    from wuye.billing import services as billing
    from wuye.billing.models import Account, Bill
    from wuye.ledger.models import Allocation, Payment, PaymentLine, ReceiptSequence

    billing.lpr_rate_set(
        user=None, company=project.company, effective_from=D(2015, 1, 1), annual_rate="0.0300"
    )
    billing.late_fee_rule_set(
        user=None,
        project=project,
        enabled=True,
        daily_rate="0.0005",
        start_date=D(2015, 1, 1),
        grace_days=30,
    )
    items = [
        fee_settings.fee_item_create(
            user=None, project=project, code=f"F{n:02d}", name=f"收费项目{n:02d}", method="fixed"
        )
        for n in range(10)
    ]
    payers = run_planning._payers_on(project.pk, None, timezone.localdate())
    pairs = sorted(payers.items())
    index = run_writing.accounts_ensure(project.pk, [(room, person) for room, person in pairs])
    accounts = list(Account.objects.filter(pk__in=[index[p] for p in pairs]).order_by("pk"))
    special, background = accounts[:rooms_reserved], accounts[rooms_reserved:]
    first = D(2016, 12, 1)

    started = time.perf_counter()
    bills = []
    for account in background:
        amount = Decimal(rng.randrange(8000, 40000)) / 100
        bills.extend(bill_row(account, items[0], month(first, n), amount) for n in range(120))
    with transaction.atomic():
        Bill.objects.bulk_create(bills, batch_size=5000)
    paid_bills = []
    payments = []
    # Continue the project's receipt numbers: demo_data may have taken payments already.
    receipt = (
        ReceiptSequence.objects.filter(project=project).values_list("last_no", flat=True).first()
        or 0
    )
    today = timezone.localdate()
    by_account: dict[int, list] = {}
    for b in (
        Bill.objects.filter(account__in=background)
        .order_by("account_id", "due_date")
        .only("id", "account_id", "amount", "due_date")
    ):
        by_account.setdefault(b.account_id, []).append(b)
    for account in background:
        own = by_account.get(account.pk, [])
        paid = own[: int(len(own) * rng.uniform(0.8, 1.0))]
        if not paid:
            continue
        receipt += 1
        total = sum((b.amount for b in paid), Decimal("0"))
        payments.append(
            Payment(
                project_id=project.pk,
                account_id=account.pk,
                receipt_no=receipt,
                amount=total,
                business_date=today,
                received_at=timezone.now(),
                cashier_id=cashier.pk,
            )
        )
        paid_bills.append(paid)
    with transaction.atomic():
        Payment.objects.bulk_create(payments, batch_size=2000)
        PaymentLine.objects.bulk_create(
            [PaymentLine(payment=p, method="transfer", amount=p.amount) for p in payments],
            batch_size=5000,
        )
        Allocation.objects.bulk_create(
            [
                Allocation(bill_id=b.pk, amount=b.amount, effective_date=today, payment=p)
                for p, paid in zip(payments, paid_bills, strict=True)
                for b in paid
            ],
            batch_size=5000,
        )
        ReceiptSequence.objects.update_or_create(project=project, defaults={"last_no": receipt})
    line(
        "background ledger",
        f"accounts={len(background)} bills={len(bills)} payments={len(payments)} "
        f"allocations={sum(len(p) for p in paid_bills)} seconds={time.perf_counter() - started:.1f}",
    )

    a1, a2, b = special[0], special[1], special[2]
    many = []
    for account in (a1, a2):
        for item in items:
            many.extend(
                bill_row(account, item, month(D(2016, 1, 1), n), Decimal("88.80"))
                for n in range(100)
            )
    b_bills = [bill_row(b, items[0], month(first, n), Decimal("256.30")) for n in range(120)]
    with transaction.atomic():
        Bill.objects.bulk_create(many + b_bills, batch_size=5000)
    return a1, a2, b, items[0]


def pay_history(cashier, account):
    """Household B pays its first 100 bills one by one, some late, through the real service."""
    from wuye.billing.models import Bill
    from wuye.ledger.services.payments import payment_record

    rng = random.Random(7)
    # Only the benchmark's own bills (item F00): demo_data may have billed the household too.
    bills = list(
        Bill.objects.filter(account=account, fee_item__code="F00").order_by("due_date")[:100]
    )
    started = time.perf_counter()
    for b in bills:
        payment_record(
            user=cashier,
            account=account,
            lines=[("wechat", b.amount, "")],
            bill_ids=[b.pk],
            business_date=b.due_date + datetime.timedelta(days=rng.choice([0, 0, 0, 5, 40, 75])),
            include_late_fees=False,
        )
    return time.perf_counter() - started, len(bills)


def timed(call, repeat: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = call()
        first = (time.perf_counter() - started) * 1000
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    return result, first, statistics.median(runs), max(runs), len(queries)


def main() -> int:
    args = parse_args()
    bench = setup("ledger", keep=args.keep)
    from django.core.management import call_command
    from django.utils import timezone

    from wuye.billing.models import Bill
    from wuye.core.models import Membership, Project, User
    from wuye.core.roles import Role
    from wuye.ledger import invariants
    from wuye.ledger.models import Allocation
    from wuye.ledger.selectors.statement import statement
    from wuye.ledger.selectors.window import account_position, unpaid_bills
    from wuye.ledger.services.batch_payments import PaymentRequest, payments_record_many
    from wuye.ledger.services.payments import payment_record

    rng = random.Random(args.seed)
    failures: list[str] = []
    try:
        bench.migrate()
        started = time.perf_counter()
        call_command("demo_data", rooms=args.rooms, seed=args.seed, months=0, stdout=io.StringIO())
        project = Project.objects.order_by("id").first()
        line("demo_data", f"rooms={args.rooms} seconds={time.perf_counter() - started:.1f}")
        cashier = User.objects.create_user(username="bench_cashier", password="x" * 12)
        Membership.objects.create(user=cashier, project=project, role=Role.CASHIER)
        a1, a2, b, _item = build(project, cashier, 3, rng)
        analyze()

        # (a) one payment across 1,000 open bills.
        today = timezone.localdate()
        for label, account, with_fees in (
            ("(a) one payment allocated across 1,000 open bills", a1, False),
            ("(a) the same, with 1,000 late fees issued and paid", a2, True),
        ):
            owed = account_position(account).outstanding
            fees = sum((x.late_fee.due for x in unpaid_bills(account)), Decimal("0"))
            total = owed + (fees if with_fees else 0)
            started = time.perf_counter()
            payment = payment_record(
                user=cashier,
                account=account,
                lines=[("transfer", total, "BENCH")],
                business_date=today,
                include_late_fees=with_fees,
            )
            seconds = time.perf_counter() - started
            n = Allocation.objects.filter(payment=payment).count()
            late = Bill.objects.filter(account=account, kind="late_fee").count()
            verdict = "OK" if seconds < PAYMENT_TARGET_S else "ABOVE TARGET"
            if verdict != "OK":
                failures.append(label)
            line(
                label,
                f"amount={total} allocations={n} late-fee bills={late} seconds={seconds:.3f} "
                f"(target: < {PAYMENT_TARGET_S:.0f} s) {verdict}",
            )

        # (c) many payments: one by one, then set-based.
        from wuye.billing.models import Account

        pool = list(
            Account.objects.filter(project=project)
            .exclude(pk__in=[a1.pk, a2.pk, b.pk])
            .order_by("pk")[: 2 * args.many]
        )
        plain, batch = pool[: len(pool) // 2], pool[len(pool) // 2 :]
        started = time.perf_counter()
        for n, acct in enumerate(plain):
            payment_record(
                user=cashier,
                account=acct,
                lines=[("transfer", Decimal("300.00"), f"P{n}")],
                include_late_fees=False,
            )
        plain_s = time.perf_counter() - started
        requests = [
            PaymentRequest(
                account=acct,
                lines=[("transfer", Decimal("300.00"), f"Q{n}")],
                include_late_fees=False,
                idempotency_key=f"bench-{n}",
            )
            for n, acct in enumerate(batch)
        ]
        started = time.perf_counter()
        payments_record_many(user=cashier, project=project, requests=requests)
        batch_s = time.perf_counter() - started
        plain_ms = plain_s * 1000 / max(len(plain), 1)
        batch_ms = batch_s * 1000 / max(len(batch), 1)
        verdict = "OK" if batch_ms < BATCH_TARGET_MS else "ABOVE TARGET"
        if verdict != "OK":
            failures.append("batch posting")
        line(
            "(c) plain payment_record",
            f"payments={len(plain)} seconds={plain_s:.2f} ({plain_ms:.1f} ms each)",
        )
        line(
            "(c) payments_record_many",
            f"payments={len(batch)} seconds={batch_s:.2f} ({batch_ms:.2f} ms each, "
            f"target < {BATCH_TARGET_MS:.0f} ms) ratio {plain_ms / batch_ms if batch_ms else 0:.1f}× {verdict}",
        )

        # (b) the fee window for a household with ten years of monthly bills.
        history_s, paid = pay_history(cashier, b)
        line("household B history", f"120 bills, {paid} paid one by one: {history_s:.1f} s")
        on = today
        rows, first_u, median_u, max_u, q_u = timed(lambda: unpaid_bills(b, on), args.repeat)
        position, first_p, median_p, max_p, q_p = timed(
            lambda: account_position(b, on), args.repeat
        )
        line(
            "(b) unpaid_bills",
            f"rows={len(rows)} late fees={sum((r.late_fee.due for r in rows), Decimal('0'))} "
            f"queries={q_u} first={first_u:.1f} ms median={median_u:.1f} ms max={max_u:.1f} ms",
        )
        line(
            "(b) account_position",
            f"outstanding={position.outstanding} overdue={position.overdue} queries={q_p} "
            f"first={first_p:.1f} ms median={median_p:.1f} ms max={max_p:.1f} ms",
        )
        window = median_u + median_p
        verdict = "OK" if first_u + first_p < WINDOW_TARGET_MS else "ABOVE TARGET"
        if verdict != "OK":
            failures.append("fee window reads")
        line(
            "(b) fee window reads",
            f"first={first_u + first_p:.1f} ms median={window:.1f} ms "
            f"(target: < {WINDOW_TARGET_MS:.0f} ms) {verdict}",
        )
        st, first_s, median_s, _, q_s = timed(
            lambda: statement(b, D(2016, 12, 1), on), max(3, args.repeat // 4)
        )
        line(
            "statement, ten years",
            f"lines={len(st.lines)} queries={q_s} first={first_s:.1f} ms median={median_s:.1f} ms",
        )
        started = time.perf_counter()
        problems = invariants.check_all()
        line(
            "invariants.check_all (all rows)",
            f"problems={len(problems)} bills={Bill.objects.count()} "
            f"allocations={Allocation.objects.count()} seconds={time.perf_counter() - started:.2f}",
        )
        for problem in problems[:10]:
            print("   ", problem)
        if problems:
            failures.append("invariants")
        load_average("at the end")
    finally:
        bench.finish()
    if failures:
        line("FAILED", ", ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
