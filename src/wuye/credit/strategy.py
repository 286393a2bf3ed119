"""The household's segment strategy, applied by the dunning run on top of the class rules
(``WUYE_CASE_STRATEGY``)."""

from __future__ import annotations


def adjustments(*, project_id: int, account_ids: list[int]) -> dict:
    """Filled in below: {account_id: StrategyAdjustment}."""
    return {}
