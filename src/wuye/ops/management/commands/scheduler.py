"""``python -m wuye scheduler``: the process that runs the daily chain (docs/operations/schedule.md).

APScheduler (docs/decisions/0013-schedule.md) calls ``wuye.ops.tasks.tick`` at start (catching up the
days it missed), at each configured time of the chain and every ``WUYE_SCHEDULE_TICK_SECONDS``. The
tick only claims and queues steps; the task workers run them. ``--once`` ticks once and exits (cron,
tests, a manual catch-up)."""

from __future__ import annotations

import contextlib
import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from wuye.ops.steps import steps
from wuye.ops.tasks import tick
from wuye.payments.notices import notices_post
from wuye.payments.services import orders_sweep

log = logging.getLogger(__name__)


def _tick() -> None:
    close_old_connections()
    try:
        looked = tick()
    except Exception:  # a database hiccup must not stop the scheduler: the next tick tries again
        log.exception("scheduler: tick failed")
        return
    log.info("scheduler: tick looked at %s chains", looked)


def _sweep_orders() -> None:
    """主动查单 of open online orders: posts payments whose callback was lost, closes expired ones."""
    close_old_connections()
    try:
        # Stored callbacks first: failed ones due for a retry, one whose queued task was lost.
        posted = notices_post()
        if posted["done"] or posted["failed"]:
            log.info("scheduler: notices %s", posted)
        counts = orders_sweep()
    except Exception:  # the platform or the database may be away; the next sweep tries again
        log.exception("scheduler: order sweep failed")
        return
    log.info("scheduler: order sweep %s", counts)


class Command(BaseCommand):
    help = "运行每日任务调度器（按 WUYE_DAILY_STEPS 的顺序，每个项目每天一次）"

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="只检查一次（补跑错过的日子）后退出"
        )

    def handle(self, *args, once: bool = False, **options):
        if once:
            looked = tick()
            self.stdout.write(f"已检查 {looked} 个项目日")
            return
        scheduler = BlockingScheduler(timezone=settings.TIME_ZONE)
        times = sorted({s.at() for s in steps()})
        for at in times:
            scheduler.add_job(
                _tick,
                CronTrigger(hour=at.hour, minute=at.minute),
                id=f"chain-{at:%H%M}",
                coalesce=True,
                misfire_grace_time=3600,
            )
        scheduler.add_job(
            _tick,
            IntervalTrigger(seconds=settings.WUYE_SCHEDULE_TICK_SECONDS),
            id="tick",
            coalesce=True,
            max_instances=1,
        )
        scheduler.add_job(
            _sweep_orders,
            IntervalTrigger(seconds=settings.WUYE_ORDER_SWEEP_SECONDS),
            id="orders-sweep",
            coalesce=True,
            max_instances=1,
        )
        self.stdout.write(
            f"调度器已启动：每日任务 {', '.join(f'{t:%H:%M}' for t in times)}，"
            f"每 {settings.WUYE_SCHEDULE_TICK_SECONDS} 秒检查一次（Ctrl+C 停止）"
        )
        _tick()  # at start: catch up what was missed while stopped
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            scheduler.start()
