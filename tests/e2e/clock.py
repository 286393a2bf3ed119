"""One clock for the live server and the browser in a walk through a working day.

``ProjectClock.set(day, hour, minute)`` moves the server's ``django.utils.timezone.now`` (the live
server runs in a thread of this process) and the page's ``Date`` to that moment in project time, so
a walk can make a call at 10:30, another at 20:30, and come back the next day, whatever the hour
the suite runs at."""

from __future__ import annotations

import datetime
from unittest import mock

from django.utils import timezone


class ProjectClock:
    def __init__(self, context):
        self.context = context
        self.moment: datetime.datetime | None = None
        self._real = timezone.now
        self._patch = mock.patch("django.utils.timezone.now", side_effect=self._now)

    def _now(self) -> datetime.datetime:
        return self.moment if self.moment is not None else self._real()

    def set(self, day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
        self.moment = timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(hour, minute))
        )
        self.context.clock.set_fixed_time(self.moment)
        return self.moment

    def __enter__(self):
        self._patch.start()
        return self

    def __exit__(self, *exc):
        self._patch.stop()
