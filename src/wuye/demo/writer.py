"""How the demo writes: ``bulk_create`` for the small tables, ``insert_rows`` (the same rows without
the ORM's per-value cost) for the big ones, each counted; and its progress lines."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import Model

from wuye.core.sql import insert_rows

BATCH_SIZE = 1000


class Writer:
    """Bulk writes that count what they wrote (by model name, for the command's summary), and the
    progress log with the seconds since the start."""

    def __init__(self, progress: Callable[[str], None], started: float):
        self.progress = progress
        self.started = started
        self.counts: dict[str, int] = {}

    def log(self, line: str) -> None:
        self.progress(f"[{time.perf_counter() - self.started:6.1f}s] {line}")

    def count(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def insert(self, model: type[Model], objs: Sequence[Model]) -> None:
        """``bulk_create`` in slices; primary keys are set on the objects (RETURNING on both databases)."""
        # On SQLite Django lowers the batch further, to stay under 999 parameters a statement.
        model.objects.bulk_create(objs, batch_size=BATCH_SIZE)
        self.count(model._meta.model_name, len(objs))

    def insert_rows(self, model: type[Model], rows: list[dict[str, Any]]) -> list[int]:
        ids = insert_rows(model, rows)
        self.count(model._meta.model_name, len(rows))
        return ids
