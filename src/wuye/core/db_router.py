"""The read replica (docs/operations/replica.md): which database a read goes to.

With ``WUYE_REPLICA_URL`` set, settings add the ``replica`` alias and ``ReplicaRouter``. Reads go to the
replica only inside a "reads from the replica" scope — ``reads_from_replica()`` (a context manager) or
``@replica_reads`` (a view decorator) — and only when none of these hold:

- the user is pinned to the primary: a non-safe request (POST, …) pins its sender for
  ``WUYE_REPLICA_PIN_SECONDS`` (a signed cookie, ``PinToPrimaryMiddleware``), so the page after a
  payment or a contact reads what was just written; the non-safe request itself never reads the replica;
- the primary is inside a transaction (what a transaction reads, it usually writes from);
- the code asked for the primary (``on_primary()``: what writes, such as the report summaries'
  catch-up, reads where it writes).

Writes always go to the primary; migrations run only there. Without ``WUYE_REPLICA_URL`` there is no
alias, the scope changes nothing and ``read_alias()`` is always ``default``.

Raw SQL does not pass through a router: code that reads with a cursor takes ``read_connection()`` (the
connection of ``read_alias()``, so it follows the same rules). Several reads that must agree with each
other (a summary's state and the summary) run inside ``read_snapshot()``: one transaction on that
connection, REPEATABLE READ on PostgreSQL, so a replica replaying a change between two of them cannot
make them disagree.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
from contextvars import ContextVar

from django.conf import settings
from django.core import signing
from django.db import DEFAULT_DB_ALIAS, connections, transaction

REPLICA = "replica"
PIN_COOKIE = "wuye_primary"
PIN_SALT = "wuye.core.db_router.pin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

_scope: ContextVar[bool] = ContextVar("wuye_replica_scope", default=False)
_pinned: ContextVar[bool] = ContextVar("wuye_replica_pinned", default=False)
_snapshot: ContextVar[bool] = ContextVar("wuye_replica_snapshot", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def pin_seconds() -> int:
    return int(getattr(settings, "WUYE_REPLICA_PIN_SECONDS", 15))


def read_alias() -> str:
    """The alias a read made now goes to."""
    if not _scope.get() or _pinned.get() or not replica_configured():
        return DEFAULT_DB_ALIAS
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return REPLICA


def read_connection():
    """The connection a raw-SQL read made now should use (the one the router picks for an ORM read)."""
    return connections[read_alias()]


def in_read_snapshot() -> bool:
    return _snapshot.get()


@contextlib.contextmanager
def read_snapshot():
    """Reads inside see one moment of the database ``read_alias()`` picks now: a read-only transaction
    on it, REPEATABLE READ on PostgreSQL (also on a hot standby). Inside one already, or with a
    transaction already open on that connection (its reads share it as they are), nothing more is
    opened. Nothing inside may write: catch up first, then read (``wuye.reports.summary_refresh``)."""
    if _snapshot.get():
        yield
        return
    conn = read_connection()
    if conn.in_atomic_block:
        with _set(_snapshot, True):
            yield
        return
    with transaction.atomic(using=conn.alias), _set(_snapshot, True):
        if conn.vendor == "postgresql":
            with conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


@contextlib.contextmanager
def _set(var: ContextVar[bool], value: bool):
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def reads_from_replica():
    """Reads inside go to the replica (when configured and the user is not pinned)."""
    return _set(_scope, True)


def on_primary():
    """Reads inside go to the primary, even within ``reads_from_replica()``."""
    return _set(_scope, False)


def pinned_to_primary():
    """Reads inside go to the primary: the user has just written (see ``PinToPrimaryMiddleware``)."""
    return _set(_pinned, True)


def replica_reads(view):
    """View decorator: the view's reads go to the replica (reports, exports, the dashboard); when the
    replica is behind, the page says from when its figures are ("数据截至 …")."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        with reads_from_replica():
            note = stale_note()
            if note:
                from django.contrib import messages

                messages.warning(request, note)
            return view(request, *args, **kwargs)

    return wrapped


class ReplicaRouter:
    """Writes and migrations on the primary; reads on the replica only inside the scope."""

    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: same rows, same ids

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class PinToPrimaryMiddleware:
    """Pins a user to the primary for ``WUYE_REPLICA_PIN_SECONDS`` after any non-safe request, so reads
    that must see a write just made (the page after a payment) never go to a replica that is behind.
    The pin is a signed cookie holding nothing but its time; a forged or expired one pins nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        unsafe = request.method not in SAFE_METHODS
        pinned = unsafe or self._pinned(request)
        if pinned:
            with pinned_to_primary():
                response = self.get_response(request)
        else:
            response = self.get_response(request)
        if unsafe and replica_configured():
            response.set_signed_cookie(
                PIN_COOKIE,
                "1",
                salt=PIN_SALT,
                max_age=pin_seconds(),
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    @staticmethod
    def _pinned(request) -> bool:
        try:
            request.get_signed_cookie(PIN_COOKIE, salt=PIN_SALT, max_age=pin_seconds())
        except (KeyError, signing.BadSignature):
            return False
        return True


# --- replica lag -----------------------------------------------------------------------------------


def replica_lag() -> tuple[datetime.timedelta, datetime.datetime] | None:
    """(how far behind, the primary's time of the last change replayed) when the replica is a
    PostgreSQL standby that has not replayed all it received; None when it is caught up, not a
    standby (a test mirror), not PostgreSQL, not configured, or cannot be asked."""
    if not replica_configured():
        return None
    conn = connections[REPLICA]
    if conn.vendor != "postgresql":
        return None
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(),"
                " pg_last_wal_receive_lsn() IS DISTINCT FROM pg_last_wal_replay_lsn(),"
                " now() - pg_last_xact_replay_timestamp(), pg_last_xact_replay_timestamp()"
            )
            in_recovery, behind, lag, replayed = cursor.fetchone()
    except Exception:  # noqa: BLE001 — the banner is advice; a replica that cannot answer shows none
        return None
    if not in_recovery or not behind or lag is None:
        return None
    return lag, replayed


def stale_note() -> str | None:
    """The "数据截至 …" line for report pages read from a replica more than
    ``WUYE_REPLICA_STALE_SECONDS`` behind; None otherwise (also outside the replica scope)."""
    if read_alias() != REPLICA:
        return None
    lag = replica_lag()
    if lag is None:
        return None
    behind, replayed = lag
    if behind.total_seconds() <= int(getattr(settings, "WUYE_REPLICA_STALE_SECONDS", 60)):
        return None
    from django.utils import timezone

    at = timezone.localtime(replayed).strftime("%Y-%m-%d %H:%M:%S")
    return f"数据截至 {at}（报表读自只读副本，副本落后约 {int(behind.total_seconds())} 秒；刚发生的收款稍后才会显示）"
