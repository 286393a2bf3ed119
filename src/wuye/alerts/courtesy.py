"""Pre-due reminders and thank-you messages (see reminders_run below)."""

from __future__ import annotations


def after_payment(*, account_id: int) -> None:
    """``WUYE_AFTER_PAYMENT`` hook (placeholder until the thanks are wired)."""
    return None
