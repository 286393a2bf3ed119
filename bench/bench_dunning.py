#!/usr/bin/env python
"""Dunning benchmark: the daily run over a whole project, and today's list of a busy steward.

    .venv/bin/python bench/bench_dunning.py [--rooms 100000] [--months 12] [--arrears 0.2] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuye_bench_dunning .venv/bin/python bench/bench_dunning.py

Like ``bench_ledger.py`` it works on a database of its own (a temporary SQLite file, or the PostgreSQL
database named in ``DATABASE_URL``, dropped and created again: its name must contain "bench").

What it builds: the demo community (``demo_data --rooms N --months 0``), one payer account per room,
``--months`` monthly bills per account (bulk-inserted, due on the 15th), every bill paid except for
``--arrears`` of the households, which owe their last 1–12 months; one steward responsible for every
building.

What it times (targets from issue 4, "Speed"):
(a) the first daily run (opens a case per household in arrears): < 30 s;
(b) a second run the same day (must change nothing), and a run the next day (refreshes aging);
(c) 我的今日催缴 of a steward with 500 due cases (the page as the browser gets it): < 200 ms.
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
from bench_ledger import (
    bill_row,
    month,
)

RUN_TARGET_S = 30.0
PAGE_TARGET_MS = 200.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=100_000, help="households (default 100,000)")
    parser.add_argument("--months", type=int, default=12, help="monthly bills per household")
    parser.add_argument("--arrears", type=float, default=0.2, help="share of households in arrears")
    parser.add_argument("--repeat", type=int, default=10, help="timed loads of today's list")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    return parser.parse_args()


def build(project, steward, months: int, arrears: float, rng: random.Random) -> int:
    from django.db import transaction
    from django.utils import timezone

    from wuye.billing import fee_settings, run_planning, run_writing
    from wuye.billing.models import Account, Bill
    from wuye.ledger.models import Allocation, Payment, PaymentLine
    from wuye.registry.models import Building

    Building.objects.filter(project=project).update(steward=steward)
    item = fee_settings.fee_item_create(
        user=None, project=project, code="WYF", name="物业服务费", method="fixed"
    )
    today = timezone.localdate()
    payers = run_planning._payers_on(project.pk, None, today)
    pairs = sorted(payers.items())
    index = run_writing.accounts_ensure(project.pk, [(room, person) for room, person in pairs])
    accounts = list(Account.objects.filter(pk__in=[index[p] for p in pairs]).order_by("pk"))
    first = month(today.replace(day=1), -months)
    started = time.perf_counter()
    owing = set(rng.sample(range(len(accounts)), int(len(accounts) * arrears)))
    bills = []
    for account in accounts:
        amount = Decimal(rng.randrange(8000, 40000)) / 100
        bills.extend(bill_row(account, item, month(first, n), amount) for n in range(months))
    with transaction.atomic():
        Bill.objects.bulk_create(bills, batch_size=5000)
    rows = Bill.objects.filter(project=project).order_by("account_id", "due_date")
    by_account: dict[int, list] = {}
    for b in rows.only("id", "account_id", "amount"):
        by_account.setdefault(b.account_id, []).append(b)
    payments, paid_lists, receipt = [], [], 0
    for n, account in enumerate(accounts):
        own = by_account.get(account.pk, [])
        paid = own[: len(own) - rng.randint(1, min(12, len(own)))] if n in owing else own
        if not paid:
            continue
        receipt += 1
        payments.append(
            Payment(
                project_id=project.pk,
                account_id=account.pk,
                receipt_no=receipt,
                amount=sum((b.amount for b in paid), Decimal("0")),
                business_date=today,
                received_at=timezone.now(),
                cashier_id=steward.pk,
            )
        )
        paid_lists.append(paid)
    with transaction.atomic():
        Payment.objects.bulk_create(payments, batch_size=2000)
        PaymentLine.objects.bulk_create(
            [PaymentLine(payment=p, method="transfer", amount=p.amount) for p in payments],
            batch_size=5000,
        )
        Allocation.objects.bulk_create(
            [
                Allocation(bill_id=b.pk, amount=b.amount, effective_date=today, payment=p)
                for p, paid in zip(payments, paid_lists, strict=True)
                for b in paid
            ],
            batch_size=5000,
        )
    line(
        "ledger",
        f"accounts={len(accounts)} bills={len(bills)} in arrears={len(owing)} "
        f"seconds={time.perf_counter() - started:.1f}",
    )
    return len(owing)


def main() -> None:
    args = parse_args()
    bench = setup("dunning", keep=args.keep)
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from wuye.core.models import Membership, Project, User
    from wuye.core.roles import Role
    from wuye.dunning.daily_run import dunning_run
    from wuye.dunning.models import ArrearsCase

    rng = random.Random(args.seed)
    try:
        bench.migrate()
        started = time.perf_counter()
        call_command("demo_data", rooms=args.rooms, seed=args.seed, months=0, stdout=io.StringIO())
        project = Project.objects.order_by("id").first()
        line("demo_data", f"rooms={args.rooms} seconds={time.perf_counter() - started:.1f}")
        steward = User.objects.create_user(username="bench_steward", password="x" * 12)
        Membership.objects.create(user=steward, project=project, role=Role.STEWARD)
        build(project, steward, args.months, args.arrears, rng)
        analyze()

        today = timezone.localdate()
        for label, day in (
            ("(a) first run", today),
            ("(b) rerun, same day", today),
            ("(b) next day", today + datetime.timedelta(days=1)),
        ):
            started = time.perf_counter()
            result = dunning_run(project=project, on=day)
            seconds = time.perf_counter() - started
            verdict = "OK" if seconds < RUN_TARGET_S else "ABOVE TARGET"
            line(
                label,
                f"overdue={result.accounts} opened={result.opened} updated={result.updated} "
                f"escalated={result.escalated} closed={result.closed} "
                f"unchanged={result.unchanged} seconds={seconds:.1f} "
                f"(target: < {RUN_TARGET_S:.0f} s) {verdict}",
            )

        # (c) a steward with exactly 500 cases due today.
        mine = list(
            ArrearsCase.objects.filter(project=project, state="open")
            .order_by("id")
            .values_list("id", flat=True)[:500]
        )
        ArrearsCase.objects.filter(project=project).exclude(pk__in=mine).update(assignee=None)
        ArrearsCase.objects.filter(pk__in=mine).update(next_action_on=today)
        settings.ALLOWED_HOSTS = ["*"]
        client = Client()
        client.force_login(steward)
        times = []
        for _ in range(args.repeat + 1):
            started = time.perf_counter()
            response = client.get("/dunning/today/")
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        median = statistics.median(times[1:])
        cards = response.content.decode().count('class="task-card')
        verdict = "OK" if median < PAGE_TARGET_MS else "ABOVE TARGET"
        line(
            "(c) today's list, 500 due cases",
            f"cards on the page={cards} "
            f"first={times[0]:.0f} ms median={median:.0f} ms "
            f"(target: < {PAGE_TARGET_MS:.0f} ms) {verdict}",
        )
    finally:
        bench.finish()


if __name__ == "__main__":
    main()
