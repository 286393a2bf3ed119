#!/usr/bin/env python
"""Billing-run benchmark: a monthly run for N rooms × 3 fee items, against a raw bulk insert.

    .venv/bin/python bench/bench_billing.py [--rooms 100000] [--seed 42] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuye_bench_billing .venv/bin/python bench/bench_billing.py

It always works on a database of its own: SQLite in a new temporary directory (``WUYE_VAR_DIR``); on
PostgreSQL the database named in ``DATABASE_URL`` is dropped and created again, so its name must contain
"bench". Both are removed at the end unless ``--keep``.

What it does:
1. loads the demo community (``manage.py demo_data --rooms N``) and adds three fee items: property fee
   (gross area × 2.50 a month), garbage fee (fixed 10 a month) and parking fee (150 a space a month);
2. month 1: preview, then commit — the first run also creates the payer accounts;
3. month 2: preview, then commit — the steady state every month after (accounts exist);
4. a raw bulk insert of the same number of rows into the same ``billing_bill`` table, in the same
   database and run: one ``executemany`` INSERT inside one transaction, rows prepared beforehand (the
   floor for writing those rows); on PostgreSQL also ``COPY``, its fastest bulk load; they stay (bills are append-only: the database refuses DELETE on
   PostgreSQL), dated 2099 so nothing else reads them, and go with the benchmark database;
5. prints rows, seconds, rows/s, the ratio of the run's rows/s to the raw insert's (goal ≥ 0.5) and
   the verdict against the target (commit < 30 s). See docs/operations/benchmarks.md.

The run is timed as the worker runs it in production: the ``WUYE_AFTER_BILLING_RUN`` hooks queue their
tasks (prepaid consumption, the credit files' recompute, the report summaries' refresh) and the run is
committed before any of them starts. The bench then runs those queued tasks itself and times them on a
line of their own ("follow-up tasks"), outside the ratio: with the immediate task backend they ran
inside the timed commit and made up two thirds of it (issue 16 item 5).

Exit status: 1 when a ratio falls below its goal (``BELOW GOAL``), so that a regression is seen the
day it lands; 0 otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import io
import sys
import time
from decimal import Decimal

from _benchdb import DUMMY, analyze, line, setup

TARGET_S = 30.0
RATIO_GOAL = 0.5


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=100_000, help="rooms (default 100000)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the demo data")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    return parser.parse_args()


# --- the benchmark -------------------------------------------------------------------------------


def make_fee_items(project):
    from wuye.billing import fee_settings

    start = datetime.date(2020, 1, 1)
    items = [
        fee_settings.fee_item_create(
            user=None, project=project, code="WYF", name="物业服务费", method="area", sort=1
        ),
        fee_settings.fee_item_create(
            user=None,
            project=project,
            code="LJF",
            name="生活垃圾处理费",
            method="fixed",
            sort=2,
            uses=["residence", "apartment"],
        ),
        fee_settings.fee_item_create(
            user=None, project=project, code="CWF", name="车位管理费", method="parking", sort=3
        ),
    ]
    for item, price in zip(items, ("2.50", "10.00", "150.00"), strict=True):
        fee_settings.fee_standard_add(
            user=None, fee_item=item, unit_price=Decimal(price), valid_from=start
        )
    return items


def run_follow_up_tasks(label: str) -> None:
    """Runs the tasks the run's hooks queued (and whatever those queue in turn), timed per task."""
    from django_tasks import default_task_backend

    timings: list[str] = []
    started = time.perf_counter()
    while default_task_backend.results:
        result = default_task_backend.results.pop(0)
        one = time.perf_counter()
        result.task.call(*result.args, **result.kwargs)
        timings.append(f"{result.task.name} {time.perf_counter() - one:.2f} s")
    line(
        f"{label} follow-up tasks",
        f"seconds={time.perf_counter() - started:.2f} ({', '.join(timings) or 'none'}; "
        "queued by the run's hooks, run by the worker after the commit; not in the ratio)",
    )


def timed_run(project, month: datetime.date, label: str):
    from wuye.billing import runs
    from wuye.billing.models import Bill

    started = time.perf_counter()
    run = runs.run_preview(project=project, period_start=month, user=None)
    preview_s = time.perf_counter() - started
    p = run.preview
    line(
        f"{label} preview",
        f"bills={p['total_count']} amount={p['total_amount']} exceptions={p['exception_count']} "
        f"seconds={preview_s:.2f}",
    )
    for row in p["exception_counts"]:
        line("", f"  exception {row['label']}: {row['count']}")
    last = [0.0]

    def progress(r):
        now = time.perf_counter()
        if now - last[0] > 2 or r.done_count == r.total_count:
            last[0] = now
            print(
                f"    progress {r.done_count}/{r.total_count} ({now - started_commit:.1f} s)",
                flush=True,
            )

    from wuye.billing.enums import RunStatus
    from wuye.billing.models import BillingRun

    BillingRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
    started_commit = time.perf_counter()
    run = runs.run_execute(run.pk, None, progress=progress)
    commit_s = time.perf_counter() - started_commit
    rows = Bill.objects.filter(run=run).count()
    verdict = "OK" if commit_s < TARGET_S else "ABOVE TARGET"
    line(
        f"{label} commit",
        f"status={run.status} rows={rows} seconds={commit_s:.2f} rows/s={rows / commit_s:,.0f} "
        f"(target: < {TARGET_S:.0f} s) {verdict}",
    )
    run_follow_up_tasks(label)
    return rows, commit_s, run


def raw_insert(run, how: str, year: int) -> float:
    """The same rows as ``run``'s bills written raw in one transaction (left in place: bills are
    append-only), dated January of ``year``: ``executemany`` of one prepared INSERT, or (PostgreSQL)
    ``copy``, PostgreSQL's bulk load and the fastest way in."""
    from django.db import connection, transaction

    from wuye.billing.models import Bill

    columns = [
        "project_id",
        "account_id",
        "room_id",
        "fee_item_id",
        "kind",
        "period_start",
        "period_end",
        "quantity",
        "unit_price",
        "amount",
        "due_date",
        "description",
        "run_id",
        "revision",
        "late_fee_for_id",
        "created_by_id",
        "created_at",
    ]
    fake_start = datetime.date(year, 1, 1)
    # The run's own bills (not the copies an earlier raw insert made, which name the same run).
    source = list(Bill.objects.filter(run=run, period_start=run.period_start).values_list(*columns))
    ops = connection.ops
    rows = []
    idx_ps = columns.index("period_start")
    idx_pe = columns.index("period_end")
    idx_due = columns.index("due_date")
    idx_at = columns.index("created_at")
    for row in source:
        row = list(row)
        row[idx_ps] = fake_start
        row[idx_pe] = datetime.date(year, 1, 31)
        row[idx_due] = datetime.date(year, 1, 15)
        row[idx_at] = ops.adapt_datetimefield_value(row[idx_at])
        for i, value in enumerate(row):
            if isinstance(value, Decimal):
                row[i] = ops.adapt_decimalfield_value(value)
            elif isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
                row[i] = ops.adapt_datefield_value(value)
        rows.append(tuple(row))
    table = ops.quote_name(Bill._meta.db_table)
    names = ", ".join(ops.quote_name(c) for c in columns)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if how == "copy":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            one = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({one})", rows)
    return time.perf_counter() - started


def main() -> int:
    """Returns the exit status: 1 when a ratio is below its goal."""
    args = parse_args()
    # Tasks are queued, not run inside the timed commit (run_follow_up_tasks runs them afterwards).
    bench = setup("billing", keep=args.keep, tasks=DUMMY, tasks_fixed=True, width=28)
    from django.core.management import call_command
    from django.db import connection

    from wuye.core.models import Project
    from wuye.registry.models import ParkingSpace, Room

    below_goal: list[str] = []
    try:
        bench.migrate()

        started = time.perf_counter()
        # Registry only: the benchmark makes its own fee items and months.
        call_command("demo_data", rooms=args.rooms, seed=args.seed, months=0, stdout=io.StringIO())
        project = Project.objects.order_by("id").first()
        line(
            "demo_data",
            f"rooms={Room.objects.filter(project=project).count()} "
            f"parking spaces with a room={ParkingSpace.objects.filter(project=project, room__isnull=False).count()} "
            f"seconds={time.perf_counter() - started:.1f}",
        )
        make_fee_items(project)
        analyze()

        month1 = datetime.date(2026, 11, 1)
        month2 = datetime.date(2026, 12, 1)
        timed_run(project, month1, "month 1 (new accounts)")
        rows, commit_s, run = timed_run(project, month2, "month 2 (steady state)")

        ways = ["executemany"] + (["copy"] if connection.vendor == "postgresql" else [])
        for year, how in enumerate(ways, start=2099):
            raw_s = raw_insert(run, how, year)
            line(
                f"raw bulk insert ({how})",
                f"rows={rows} seconds={raw_s:.2f} rows/s={rows / raw_s:,.0f} (one transaction)",
            )
            ratio = (rows / commit_s) / (rows / raw_s)
            line(
                f"ratio run/raw ({how})",
                f"{ratio:.2f} (goal: >= {RATIO_GOAL}) "
                f"{'OK' if ratio >= RATIO_GOAL else 'BELOW GOAL'}",
            )
            if ratio < RATIO_GOAL:
                below_goal.append(f"{how} {ratio:.2f}")
    finally:
        bench.finish()
    if below_goal:
        line("FAILED", f"ratio below the goal of {RATIO_GOAL}: {', '.join(below_goal)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
