#!/usr/bin/env python
"""Fee-window benchmark: the whole 收银台 page of a household with ten years of monthly bills, as a
logged-in cashier opens it (Django test client: middleware, session, scope, selectors, template).

    .venv/bin/python bench/bench_window.py [--rooms 2000] [--repeat 20] [--seed 42] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuye_bench_window .venv/bin/python bench/bench_window.py

It works on a database of its own, exactly like ``bench_ledger.py`` (whose data builders it reuses):
SQLite in a new temporary directory, or the PostgreSQL database named in ``DATABASE_URL`` (dropped and
created again, so its name must contain "bench"); removed at the end unless ``--keep``.

What it builds: the demo community (``demo_data --rooms N``), a contract late-fee rule, background
ledger rows (N × 120 monthly bills, 80–100 % paid), and
* household B: 120 monthly bills (ten years), the first 100 paid one by one through ``payment_record``
  (some late), the last 20 unpaid and overdue, each with a capped late fee;
* household A: 1,000 open overdue bills (a stress case, beyond what a window normally shows).

What it times: ``GET ledger:window_room`` for B (target: median < 200 ms) and for A, ``--repeat``
requests after one warm-up each: first, median, p95, max and the number of SQL queries per request;
plus the server's running total (``POST ledger:window_quote``) for B.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import time

from _benchdb import analyze, line, p95, setup
from bench_ledger import (
    build,
    pay_history,
)

WINDOW_TARGET_MS = 200.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=2000, help="rooms of background (2000)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page (20)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the demo data")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    return parser.parse_args()


def timed_requests(call, repeat: int) -> tuple[float, list[float], int]:
    """First request (cold caches), then ``repeat`` timed ones; returns (first ms, runs ms, queries)."""
    from django.db import connection

    # Counted with an execute wrapper: the query log is reset when a request starts.
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        response = call()
        first = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    return first, runs, len(queries)


def report(label: str, first: float, runs: list[float], queries: int, target: float | None) -> None:
    median = statistics.median(runs)
    verdict = ""
    if target is not None:
        verdict = f" (target: median < {target:.0f} ms) " + (
            "OK" if median < target else "ABOVE TARGET"
        )
    line(
        label,
        f"queries={queries} first={first:.1f} ms median={median:.1f} ms p95={p95(runs):.1f} ms "
        f"max={max(runs):.1f} ms{verdict}",
    )


def main() -> None:
    args = parse_args()
    bench = setup("window", keep=args.keep)
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from wuye.core.models import Membership, Project, User
    from wuye.core.roles import Role
    from wuye.ledger.selectors.window import unpaid_bills

    # Let the test client's host name in; setup_test_environment() would do it too, but it also
    # instruments every template render (a copy of the context each time), which is not production.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    rng = random.Random(args.seed)
    try:
        bench.migrate()
        started = time.perf_counter()
        call_command("demo_data", rooms=args.rooms, seed=args.seed, stdout=io.StringIO())
        project = Project.objects.order_by("id").first()
        line("demo_data", f"rooms={args.rooms} seconds={time.perf_counter() - started:.1f}")
        cashier = User.objects.create_user(username="bench_cashier", password="x" * 12)
        Membership.objects.create(user=cashier, project=project, role=Role.CASHIER)
        a, _a2, b, _item = build(project, cashier, 3, rng)
        history_s, paid = pay_history(cashier, b)
        line("household B", f"120 monthly bills, {paid} paid one by one ({history_s:.1f} s)")
        analyze()

        client = Client()
        client.force_login(cashier)
        session = client.session
        session["wuye_project_id"] = project.pk
        session.save()
        open_b = unpaid_bills(b)
        line(
            "household B window",
            f"bills={b.bills.count()} unpaid={len(open_b)} "
            f"late fees={sum(x.late_fee.due for x in open_b)} (demo_data may add its own bills)",
        )

        url_b = reverse("ledger:window_room", args=[b.room_id])
        first, runs, queries = timed_requests(lambda: client.get(url_b), args.repeat)
        report("GET window, B (120 bills)", first, runs, queries, WINDOW_TARGET_MS)

        quote_url = reverse("ledger:window_quote", args=[b.room_id])
        form = {
            "account": b.pk,
            "bill": [x.pk for x in open_b],
            "method": ["wechat", "cash"],
            "amount": ["500.00", "20.00"],
        }
        first, runs, queries = timed_requests(lambda: client.post(quote_url, form), args.repeat)
        report("POST quote, B (running total)", first, runs, queries, WINDOW_TARGET_MS)

        url_a = reverse("ledger:window_room", args=[a.room_id])
        first, runs, queries = timed_requests(lambda: client.get(url_a), max(3, args.repeat // 4))
        report("GET window, A (1,000 open)", first, runs, queries, None)
    finally:
        bench.finish()


if __name__ == "__main__":
    main()
