"""Natural order for building, unit and room codes: 1栋 < 2栋 < 10栋, 5-2-803 < 5-10-101, ２栋 = 2栋.

Codes sort by their text with every run of digits compared as a number. The same key exists twice:

- ``natural_key(text)`` in Python, for lists built in memory (exports, pickers, grouped reports);
- ``NaturalKey(expression)`` in SQL, for ``order_by`` on SQLite and PostgreSQL, so a paginated or
  limited query comes back in the same order without loading every row.

Both produce the *same* text: lower-cased, full-width digits made half-width, every digit run left-padded
with zeros to ``PAD`` characters; compared character by character (code point order, "C" collation on
PostgreSQL). Ties (``01`` and ``1``) are broken by the raw value in ``natural_order``.

SQLite has no regular expressions, so ``CoreConfig.ready`` registers ``natural_key`` as the SQL function
``wuye_natural_key`` on every SQLite connection; PostgreSQL builds the key with ``regexp_matches``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db.models import F, Func, TextField
from django.db.models.expressions import Combinable, OrderBy

PAD = 40  # longer than any code field (Room.code is 40 characters)
SQLITE_FUNCTION = "wuye_natural_key"

_FULLWIDTH_DIGITS = "０１２３４５６７８９"
_HALFWIDTH = str.maketrans(_FULLWIDTH_DIGITS, "0123456789")
_RUNS = re.compile(r"[0-9]+|[^0-9]+")

T = TypeVar("T")


def natural_key(value: object, pad: int = PAD) -> str:
    """``'10栋'`` → ``'000…010栋'``: a text that sorts naturally by plain comparison. ``None`` → ``''``.

    ``pad`` shorter than ``PAD`` makes a key fit to store in a column (``STORED_PAD``); keys made with
    the same ``pad`` compare naturally among themselves for digit runs up to ``pad`` digits."""
    text = ("" if value is None else str(value)).translate(_HALFWIDTH).lower()
    return "".join(
        run.rjust(pad, "0") if run[0] in "0123456789" else run for run in _RUNS.findall(text)
    )


# The pad of natural keys kept in a column (``Room.code_sort``): room numbers and building numbers
# have far fewer than ten digits, and a 40-character code with the full ``PAD`` could need 800.
STORED_PAD = 10


def natural_sort_key(value: object) -> tuple[str, str]:
    """``sorted(codes, key=natural_sort_key)``: natural order, ties (``01``/``1``) by the raw text."""
    return natural_key(value), "" if value is None else str(value)


def natural_sorted(items: Iterable[T], key: Callable[[T], object] | None = None) -> list[T]:
    """``items`` in natural order of ``key(item)`` (the item itself by default)."""
    get = key or (lambda item: item)
    return sorted(items, key=lambda item: natural_sort_key(get(item)))


# Constants only (no user input): the digit runs padded, the other runs as they are, in order.
_PG_TEMPLATE = (
    "(COALESCE((SELECT string_agg(CASE WHEN t.m[1] ~ '^[0-9]' "
    "THEN lpad(t.m[1], greatest(40, length(t.m[1])), '0') ELSE t.m[1] END, '' "
    "ORDER BY t.n) FROM regexp_matches(lower(translate(%(expressions)s, "
    "'０１２３４５６７８９', '0123456789')), '([0-9]+|[^0-9]+)', 'g') "
    "WITH ORDINALITY AS t(m, n)), '') COLLATE \"C\")"
)
assert str(PAD) in _PG_TEMPLATE and _FULLWIDTH_DIGITS in _PG_TEMPLATE


class NaturalKey(Func):
    """The SQL twin of ``natural_key``: ``order_by(NaturalKey("code"))``."""

    output_field = TextField()
    arity = 1

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template=f"{SQLITE_FUNCTION}(%(expressions)s)", **extra_context
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template=_PG_TEMPLATE, **extra_context)

    def as_sql(self, compiler, connection, **extra_context):
        if "template" not in extra_context and connection.vendor not in ("sqlite", "postgresql"):
            raise NotImplementedError("NaturalKey supports SQLite and PostgreSQL only")
        return super().as_sql(compiler, connection, **extra_context)


def natural_order(*fields: str | Combinable, descending: bool = False) -> list[OrderBy]:
    """``queryset.order_by(*natural_order("building__code", "code"))``: each field naturally, then by
    its raw value so equal keys (``01``/``1``) still come in a fixed order."""
    ordering: list[OrderBy] = []
    for f in fields:
        expression = F(f) if isinstance(f, str) else f
        ordering.append(OrderBy(NaturalKey(expression), descending=descending))
        ordering.append(OrderBy(expression, descending=descending))
    return ordering


def register_sqlite_function(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: ``wuye_natural_key`` on SQLite connections."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 1, natural_key, deterministic=True)
