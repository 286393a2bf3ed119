#!/usr/bin/env python
"""Collection-priority model benchmark: train on the demo history, print its quality.

    .venv/bin/python bench/bench_scoring.py [--rooms 2000] [--months 36] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wuye_bench_scoring .venv/bin/python bench/bench_scoring.py

Like the other benches it works on a database of its own (a temporary SQLite file, or the PostgreSQL
database named in ``DATABASE_URL``, dropped and created again: its name must contain "bench").

What it builds: the demo company (``demo_data --rooms N --months M``: M months of bills and payments
by households that pay on time, late, rarely or stopped paying, then four weeks of stewards' contacts
and today's dunning run).

What it prints (issue 6, "Speed and quality"): the time to build the training set and fit the model,
the AUC and Brier score on the held-back most recent 20% of snapshots, the calibration by decile, and
the money recovered by the first 20% of each month's contacts when the list is ordered by the model
(p × overdue amount), by amount owed, and by amount × aging (the cold-start order); then the time to
score every open case and to load a steward's ranked list.
"""

from __future__ import annotations

import argparse
import io
import time

from _benchdb import line, setup


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=2000, help="demo rooms (default 2,000)")
    parser.add_argument("--months", type=int, default=36, help="months of history (default 36)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    bench = setup("scoring", keep=args.keep)
    from django.core.management import call_command
    from django.utils import timezone

    from wuye.core.models import Project
    from wuye.dunning.models import ArrearsCase
    from wuye.dunning.selectors import today_tasks
    from wuye.scoring.selectors import quality_lines
    from wuye.scoring.services import score_project, scoring_train

    try:
        bench.migrate()
        started = time.perf_counter()
        demo_started = time.perf_counter()

        class Progress(io.StringIO):
            """The demo's progress lines, with the seconds since it started (training is the last)."""

            def write(self, text: str) -> int:
                for part in text.splitlines():
                    if part.strip():
                        line("  demo", f"{time.perf_counter() - demo_started:6.1f}s {part}")
                return len(text)

        call_command(
            "demo_data", rooms=args.rooms, seed=args.seed, months=args.months, stdout=Progress()
        )
        line(
            "demo_data",
            f"rooms={args.rooms} months={args.months} seconds={time.perf_counter() - started:.1f}",
        )
        project = Project.objects.order_by("id").first()

        started = time.perf_counter()
        model = scoring_train(project=project, score=False)
        line("train (features + fit + evaluate)", f"seconds={time.perf_counter() - started:.1f}")
        for text in quality_lines(model):
            line("", text)
        b = model.baseline
        verdict = "OK" if b["model"] > b["amount"] else "NOT BETTER"
        line(
            "first 20% of contacts",
            f"model={b['model']:.2f} amount={b['amount']:.2f} cold_start={b['cold_start']:.2f} "
            f"total={b['total']:.2f} contacts={b['contacts']} {verdict}",
        )
        line("AUC / Brier", f"auc={model.auc:.3f} brier={model.brier:.3f}")

        started = time.perf_counter()
        n = score_project(project_id=project.pk)
        line("score all open cases", f"cases={n} seconds={time.perf_counter() - started:.2f}")

        busiest = (
            ArrearsCase.objects.filter(project=project, state="open", assignee__isnull=False)
            .values_list("assignee", flat=True)
            .order_by("assignee")
            .first()
        )
        if busiest:
            from wuye.core.models import User

            user = User.objects.get(pk=busiest)
            started = time.perf_counter()
            tasks = today_tasks(user=user, project_id=project.pk, on=timezone.localdate())
            line(
                "today's list, ranked",
                f"cases={len(tasks)} ms={(time.perf_counter() - started) * 1000:.0f}",
            )
            for case in tasks[:5]:
                line(
                    "",
                    f"¥{case.overdue_amount} p={case.rank_p if case.rank_p is None else round(case.rank_p, 2)} "
                    + "；".join(case.rank_reasons),
                )
    finally:
        bench.finish()


if __name__ == "__main__":
    main()
