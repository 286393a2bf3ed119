"""Daily reconciliation (对账) with the platforms' statements — filled in below."""

from __future__ import annotations

import datetime

from django.utils import timezone


def reconcile_all(day: datetime.date) -> dict:
    return {}


def reconcile_yesterday() -> dict:
    return reconcile_all(timezone.localdate() - datetime.timedelta(days=1))
