"""The SQL dialect helpers of hand-written queries (reports, credit files, the promise rule): what
differs between SQLite and PostgreSQL is written once here. Only model table names and literals that
come from settings (checked) are put into the SQL text; values go in as parameters."""

from __future__ import annotations

import datetime
import decimal
import operator
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.db.models.expressions import RawSQL
from django.utils import timezone

# Field types whose values Django converts for the database (decimal places, UTC datetimes on
# SQLite, JSON); str (choices included), int, bool and None go to the drivers as they are.
CONVERTED_TYPES = frozenset({"DecimalField", "DateField", "DateTimeField", "JSONField"})


def is_pg() -> bool:
    return connection.vendor == "postgresql"


def table(model) -> str:
    """The model's table name, quoted for the database."""
    return connection.ops.quote_name(model._meta.db_table)


def fetch(sql: str, params: list | dict | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params if params is not None else [])
        return cursor.fetchall()


def execute(sql: str, params: list | dict | None = None) -> int:
    """Runs a write; the number of rows it touched."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params if params is not None else [])
        return cursor.rowcount


def cents(column: str) -> str:
    """An amount column in fen: exact integers on SQLite (no float sums), numeric on PostgreSQL."""
    if is_pg():
        return f"(({column}) * 100)"
    return f"CAST(ROUND(({column}) * 100) AS INTEGER)"


def date_param(value: datetime.date) -> object:
    """A date as a query parameter: SQLite keeps dates as ISO text; PostgreSQL wants a date."""
    return value if is_pg() else value.isoformat()


def date_placeholder() -> str:
    """A positional date parameter that compares as a date on both databases."""
    return "CAST(%s AS DATE)" if is_pg() else "%s"


def days_between(later: str, earlier: str) -> str:
    """Whole days from ``earlier`` to ``later`` (both date expressions)."""
    if is_pg():
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def month_text(expr: str) -> str:
    """'YYYY-MM' of a date expression."""
    return f"to_char({expr}, 'YYYY-MM')" if is_pg() else f"substr({expr}, 1, 7)"


def month_start(expr: str) -> str:
    """The first day of the month of a date expression, as a date."""
    if is_pg():
        return f"CAST(date_trunc('month', {expr}) AS date)"
    return f"date({expr}, 'start of month')"


def local_date(expr: str) -> str:
    """The local calendar day (settings.TIME_ZONE) of a stored UTC timestamp. SQLite has no zone
    database: the zone's offset today is used (China keeps no summer time)."""
    if is_pg():
        return f"CAST(({expr} AT TIME ZONE '{_zone_name()}') AS DATE)"
    offset = timezone.localtime().utcoffset() or datetime.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return f"date({expr}, '{minutes:+d} minutes')"


def _zone_name() -> str:
    name = str(timezone.get_current_timezone())
    # A settings value, not user input; anything but a plain zone name is refused.
    if not all(ch.isalnum() or ch in "/_+-" for ch in name):
        raise ValueError(name)
    return name


# Field type → the exact value type PostgreSQL's driver takes as Django would pass it (a datetime
# only when aware: Django makes a naive one aware first).
_NATIVE_ON_PG: dict[str, type] = {
    "DecimalField": decimal.Decimal,
    "DateField": datetime.date,
    "DateTimeField": datetime.datetime,
}


def _native_ok(value: Any) -> bool:
    """A finite amount (Django refuses NaN), a date, or an aware datetime."""
    if isinstance(value, decimal.Decimal):
        return value.is_finite()
    if isinstance(value, datetime.datetime):
        return value.tzinfo is not None
    return True


def _converter(fields: list[Field]) -> Callable[[Field, Any], Any]:
    """``get_db_prep_save`` of the fields that need it, once per distinct value: a run writes the same
    few dates and amounts thousands of times, and each call costs microseconds."""
    memo: dict[str, dict[Any, Any]] = {f.attname: {} for f in fields}
    # PostgreSQL: Django hands an amount, a date or an aware datetime to psycopg unchanged (its
    # ``adapt_*field_value`` return the value; ``to_python`` of such a value is the value), so
    # these skip the call — a run writes ~200,000 distinct amounts and event times.
    native = (
        {f.attname: _NATIVE_ON_PG.get(f.get_internal_type()) for f in fields} if is_pg() else {}
    )

    def convert(f: Field, value: Any) -> Any:
        if value is None:
            return None
        kind = native.get(f.attname)
        if kind is not None and type(value) is kind and _native_ok(value):
            return value
        if not isinstance(value, Hashable):  # JSON lists and dicts
            return f.get_db_prep_save(value, connection)
        cache = memo[f.attname]
        if value not in cache:
            cache[value] = f.get_db_prep_save(value, connection)
        return cache[value]

    return convert


def id_sets(ids: list[int], size: int = 1000) -> Iterator[list[int] | RawSQL]:
    """``filter(pk__in=part)`` for each part of a long list of ids. PostgreSQL: one part, the ids as
    a single array parameter (a semi-join, planned once: 0.15 s for 19,000 accounts where 20
    statements of 1,000 ``IN`` parameters took 1 s); SQLite: lists of ``size`` (its parameter limit)."""
    if not ids:
        return
    if is_pg():
        yield RawSQL("SELECT unnest(%s::bigint[])", [list(ids)])
        return
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _needs_conversion(f: Field) -> bool:
    return f.get_internal_type() in CONVERTED_TYPES


def update_rows(objs: list, fields: list[str], model: type[Model] | None = None) -> None:
    """Saves ``fields`` of many rows — model instances, or any objects with the fields' attributes
    (``model`` then names the table). PostgreSQL: one ``UPDATE … FROM unnest(arrays)`` per
    ``UPDATE_CHUNK`` rows (a statement per row, even pipelined, cost 2.7 s for the 19,000 cases of a
    100,000-room run); SQLite: one parametrised UPDATE per row, run in-process. Django's
    ``bulk_update`` writes one CASE per field with a branch per row, which PostgreSQL evaluates row
    by row: quadratic in the batch, seconds for a thousand rows."""
    if not objs:
        return
    model = model or objs[0].__class__
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    convert = _converter(columns)
    typed = [(f.attname, _needs_conversion(f), f) for f in columns]
    rows = [
        [convert(f, getattr(obj, name)) if conv else getattr(obj, name) for name, conv, f in typed]
        + [obj.pk]
        for obj in objs
    ]
    if is_pg() and not any(f.get_internal_type() == "JSONField" for f in columns):
        _update_from_arrays(model, columns, rows)
        return
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    # Only quoted model column names go into the text; the values are parameters.
    where = f"{quote(meta.pk.column)} = %s"
    sql = f"UPDATE {table(model)} SET {assignments} WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


UPDATE_CHUNK = 10_000


def _update_from_arrays(model: type[Model], columns: list[Field], rows: list[list]) -> None:
    """PostgreSQL: each column's values as one array parameter, joined to the table by id."""
    quote = connection.ops.quote_name
    pk = model._meta.pk
    names = [f"c{i}" for i in range(len(columns))]
    arrays = ", ".join(
        f"%s::{f.db_type(connection)}[]" for f in [*columns, pk]
    )  # model column types only; the values are parameters
    assignments = ", ".join(
        f"{quote(f.column)} = v.{name}" for f, name in zip(columns, names, strict=True)
    )
    sql = (
        f"UPDATE {table(model)} AS t SET {assignments} "  # noqa: S608
        f"FROM unnest({arrays}) AS v({', '.join([*names, 'id'])}) "
        f"WHERE t.{quote(pk.column)} = v.id"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPDATE_CHUNK):
            chunk = rows[start : start + UPDATE_CHUNK]
            cursor.execute(sql, [list(values) for values in zip(*chunk, strict=True)])


def insert_rows(model: type[Model], rows: list[dict[str, Any]]) -> list[int]:
    """Inserts ``rows`` (attname → value) and returns their new ids, in order.

    ``bulk_create`` without its per-value cost (each value through the SQL compiler and the
    field's ``get_db_prep_save``, ~3 µs), which was most of the time of a 100,000-room demo load
    and of the daily dunning run's new cases. Dates, datetimes, decimals and JSON still go through
    ``get_db_prep_save``, once per distinct value; str (choices included), int, bool and None go
    to the driver as they are, as Django sends them. ``auto_now`` fields get the time of the run. Rows go in with COPY on PostgreSQL and one
    prepared INSERT (``executemany``) on SQLite. Ids are reserved first: from the sequence on
    PostgreSQL; on SQLite this transaction already holds the write lock, so the next free ids are
    ours.
    """
    if not rows:
        return []
    meta = model._meta
    now = timezone.now()
    defaults: dict[str, Any] = {}
    plain, typed = [], []  # values the drivers take as they are; values Django must convert
    for f in meta.concrete_fields:
        if f.primary_key:
            continue
        auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        defaults[f.attname] = now if auto else f.get_default()  # "" for text, as Django does
        (typed if _needs_conversion(f) else plain).append(f)
    take_plain = operator.itemgetter(*(f.attname for f in plain))
    convert = _converter(typed)

    ids = _reserve_ids(model, len(rows))
    values = []
    for pk, row in zip(ids, rows, strict=True):
        full = {**defaults, **row}
        first = take_plain(full)
        values.append(
            (
                pk,
                *(first if len(plain) > 1 else (first,)),
                *(convert(f, full[f.attname]) for f in typed),
            )
        )
    columns = ", ".join(
        connection.ops.quote_name(column)
        for column in [meta.pk.column, *(f.column for f in plain), *(f.column for f in typed)]
    )
    table = connection.ops.quote_name(meta.db_table)
    # Table and column names come from the model, quoted; every value is a parameter.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: PostgreSQL's bulk load, several times faster than INSERT … VALUES batches.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            one = "(" + ", ".join(["%s"] * (1 + len(plain) + len(typed))) + ")"
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES {one}", values)  # noqa: S608
    return ids


def _reserve_ids(model: type[Model], n: int) -> list[int]:
    """``n`` new primary keys of ``model``'s table, in order, for rows about to be inserted."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, model._meta.pk.column, n],
            )
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor != "sqlite":
            raise NotImplementedError(connection.vendor)
        pk = connection.ops.quote_name(model._meta.pk.column)
        quoted = connection.ops.quote_name(table)
        cursor.execute(f"SELECT COALESCE(MAX({pk}), 0) FROM {quoted}")  # noqa: S608
        last = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()  # AUTOINCREMENT never reuses an id, even of a deleted row
        last = max(last, row[0] if row else 0)
    return list(range(last + 1, last + 1 + n))
