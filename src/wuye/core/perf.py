"""Helpers for the few large batch jobs that hold hundreds of thousands of objects at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pauses Python's cyclic garbage collector for one large batch job (a bank statement of
    10,000 lines: the rows read, the matcher's index of the whole project, the payments made). Such
    a job keeps hundreds of thousands of objects alive until it ends, and every full collection
    walks all of them again: dozens of times per job, a third of its time. Reference counting
    still frees what the job drops; cycles it made are collected once it ends. Nested use is safe:
    only the outermost restores the collector."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
