#!/usr/bin/env python
"""Owner-page benchmark: the page a household opens from its payment notice (业主自助缴费), for a
household with ten years of monthly bills, as an owner's phone opens it (Django test client:
middleware, session, signed link, selectors, template) — verified (bill list, payment history) and
not (room, masked name, amount owed).

    .venv/bin/python bench/bench_owner_page.py [--rooms 300] [--repeat 20] [--seed 42] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuye_bench_owner .venv/bin/python bench/bench_owner_page.py

Its own database, like ``bench_window.py`` (whose data builders it reuses): the demo community,
background ledger rows, and household B with 120 monthly bills, the first 100 paid one by one through
``payment_record`` (some late), the last 20 unpaid and overdue with capped late fees.

Targets: median < 200 ms for the verified page, and at most ``MAX_QUERIES`` SQL queries per request
whatever the number of bills. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time

from _benchdb import analyze, line, p95, setup
from bench_ledger import (
    build,
    pay_history,
)
from bench_window import timed_requests

TARGET_MS = 200.0
MAX_QUERIES = 30


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=300, help="rooms of background (300)")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page (20)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the demo data")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    bench = setup("owner", keep=args.keep)
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from wuye.core.models import Membership, Project, User
    from wuye.core.roles import Role
    from wuye.owner import links
    from wuye.owner.views import SESSION_KEY

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    rng = random.Random(args.seed)
    misses = []
    try:
        bench.migrate()
        started = time.perf_counter()
        call_command("demo_data", rooms=args.rooms, seed=args.seed, stdout=io.StringIO())
        project = Project.objects.order_by("id").first()
        line("demo_data", f"rooms={args.rooms} seconds={time.perf_counter() - started:.1f}")
        cashier = User.objects.create_user(username="bench_cashier", password="x" * 12)
        Membership.objects.create(user=cashier, project=project, role=Role.CASHIER)
        _a, _a2, b, _item = build(project, cashier, 3, rng)
        history_s, paid = pay_history(cashier, b)
        line("household B", f"120 monthly bills, {paid} paid one by one ({history_s:.1f} s)")
        analyze()

        link = links.link_for(b)
        url = f"/o/{links.token_for(link)}/"
        anonymous = Client()
        owner = Client()
        session = owner.session
        session[SESSION_KEY] = {str(link.pk): links.verified_token(link)}
        session.save()
        assert 'id="bills"' in owner.get(url).content.decode(), "the verified page shows no bills"

        for label, client, target in (
            ("GET owner page, verified (120 bills)", owner, TARGET_MS),
            ("GET owner page, not verified", anonymous, TARGET_MS),
        ):
            first, runs, queries = timed_requests(lambda c=client: c.get(url), args.repeat)
            median = statistics.median(runs)
            ok = median < target and queries <= MAX_QUERIES
            line(
                label,
                f"queries={queries} first={first:.1f} ms median={median:.1f} ms "
                f"p95={p95(runs):.1f} ms max={max(runs):.1f} ms "
                f"(target: median < {target:.0f} ms, queries <= {MAX_QUERIES}) "
                + ("OK" if ok else "MISSED"),
            )
            if not ok:
                misses.append(label)
    finally:
        bench.finish()
    if misses:
        print("MISSED:", ", ".join(misses))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
