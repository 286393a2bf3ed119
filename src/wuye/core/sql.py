"""The SQL dialect helpers of hand-written queries (reports, credit files, the promise rule): what
differs between SQLite and PostgreSQL is written once here. Only model table names and literals that
come from settings (checked) are put into the SQL text; values go in as parameters."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection
from django.utils import timezone


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


def update_rows(objs: list, fields: list[str]) -> None:
    """Saves ``fields`` of many model instances, one parametrised UPDATE per row sent as a batch
    (psycopg pipelines it; SQLite runs it in-process). Django's ``bulk_update`` writes one CASE per
    field with a branch per row, which PostgreSQL evaluates row by row: quadratic in the batch,
    seconds for a thousand rows."""
    if not objs:
        return
    meta = objs[0]._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
    # Only quoted model column names go into the text; the values are parameters.
    where = f"{quote(meta.pk.column)} = %s"
    sql = f"UPDATE {table(objs[0].__class__)} SET {assignments} WHERE {where}"  # noqa: S608
    params = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns]
        + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
