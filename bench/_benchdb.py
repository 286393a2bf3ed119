"""What every benchmark shares: a database of its own, Django set up on it, the labelled output lines,
the machine they ran on, and the clean-up.

A benchmark's ``main`` reads::

    args = parse_args()
    bench = _benchdb.setup("ledger", keep=args.keep)   # before any Django import
    from django... import ...                          # Django is set up
    try:
        bench.migrate()                                # prints database, machine, load average
        ...
        analyze()                                      # planner statistics after a bulk load
    finally:
        bench.finish()                                 # drops the database unless --keep

The database: a temporary SQLite file (a new directory set as ``WUYE_VAR_DIR`` before Django starts),
or the PostgreSQL database named in ``DATABASE_URL`` dropped and created again (its name must contain
'bench', so nobody's data is dropped). See docs/operations/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

IMMEDIATE = "django_tasks.backends.immediate.ImmediateBackend"
DUMMY = "django_tasks.backends.dummy.DummyBackend"
FROM_ENVIRONMENT = "DATABASE_URL"

_width = 34


# --- output --------------------------------------------------------------------------------------


def line(label: str, text: str) -> None:
    """One labelled line of figures (the label padded to the bench's width, see ``setup``)."""
    print(f"{label:<{_width}} {text}", flush=True)


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile of ``values`` (95 for p95), nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def p95(values: list[float]) -> float:
    return percentile(values, 95)


def load_average(when: str = "") -> None:
    """The machine may be shared: the load average beside the figures."""
    suffix = f" {when}" if when else ""
    line("load average", "{:.2f} {:.2f} {:.2f} (1, 5, 15 min)".format(*os.getloadavg()) + suffix)


def analyze() -> None:
    """Planner statistics after the bench's bulk inserts (``ANALYZE``; PostgreSQL ``VACUUM ANALYZE``)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")


# --- the database --------------------------------------------------------------------------------


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        return url
    if url:
        print(f"DATABASE_URL={url} is not PostgreSQL: using a temporary SQLite database instead")
        del os.environ["DATABASE_URL"]
    return None


def _maintenance(url: str) -> str:
    return urlsplit(url)._replace(scheme="postgresql", path="/postgres").geturl()


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def recreate_postgres_database(url: str) -> str:
    import psycopg
    from psycopg import sql

    name = database_name(url)
    if "bench" not in name:
        sys.exit(
            f"refusing to drop database {name!r}: a benchmark database's name must contain 'bench'"
        )
    with psycopg.connect(_maintenance(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_postgres_database(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_maintenance(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@dataclass
class Bench:
    """The database a benchmark works on; ``setup`` makes it."""

    keep: bool
    var_dir: str | None  # the temporary WUYE_VAR_DIR (None: the project's own, PostgreSQL only)
    pg_url: str | None
    pg_name: str | None

    @property
    def where(self) -> str:
        return self.pg_name or str(Path(self.var_dir) / "wuye.sqlite3")

    def migrate(self) -> None:
        """Migrates, then prints the ``database``, ``machine`` and ``load average`` lines."""
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        self.describe()

    def describe(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sqlite_version()"
                if connection.vendor == "sqlite"
                else "SHOW server_version"
            )
            version = cursor.fetchone()[0]
        line("database", f"{connection.vendor} {version} ({self.where})")
        line(
            "machine",
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}",
        )
        load_average("at the start")

    def finish(self) -> None:
        """Closes the connections; removes the database and the directory unless ``--keep``."""
        from django.db import connections

        connections.close_all()
        if self.keep:
            line("kept", self.pg_name or self.var_dir)
            return
        if self.pg_url and self.pg_name:
            drop_postgres_database(self.pg_url, self.pg_name)
        if self.var_dir:
            shutil.rmtree(self.var_dir, ignore_errors=True)


def setup(
    name: str,
    *,
    keep: bool,
    tasks: str | None = IMMEDIATE,
    tasks_fixed: bool = False,
    url: str | None = FROM_ENVIRONMENT,
    reuse: str | bool | None = None,
    temporary_dir: bool = True,
    width: int = 34,
) -> Bench:
    """Makes the benchmark's database and sets Django up on it.

    ``tasks``: the task backend (``IMMEDIATE`` unless ``WUYE_TASKS_BACKEND`` says otherwise;
    ``tasks_fixed`` sets it whatever the environment says: the bench's timing depends on it).
    ``url``: the PostgreSQL database (default: ``DATABASE_URL`` when it is PostgreSQL); None for
    SQLite. ``reuse``: the database a ``--keep`` run left (SQLite: its directory), not made again.
    ``temporary_dir``: False leaves ``WUYE_VAR_DIR`` alone (PostgreSQL only). ``width``: the labels'.
    """
    global _width
    _width = width
    os.environ["DJANGO_SETTINGS_MODULE"] = "wuye.settings"
    if tasks and tasks_fixed:
        os.environ["WUYE_TASKS_BACKEND"] = tasks
    elif tasks:
        os.environ.setdefault("WUYE_TASKS_BACKEND", tasks)
    if url == FROM_ENVIRONMENT:
        url = postgres_url()
    elif url:
        os.environ["DATABASE_URL"] = url
    else:
        os.environ.pop("DATABASE_URL", None)
    var_dir = None
    if temporary_dir:
        var_dir = (
            reuse if isinstance(reuse, str) else tempfile.mkdtemp(prefix=f"wuye-bench-{name}-")
        )
        os.environ["WUYE_VAR_DIR"] = var_dir  # a fresh SQLite file (and secret key) before settings
    elif not url:
        sys.exit("a PostgreSQL DATABASE_URL is needed (its database's name must contain 'bench')")
    pg_name = None
    if url:
        pg_name = database_name(url) if reuse else recreate_postgres_database(url)

    import django

    django.setup()
    return Bench(keep=keep, var_dir=var_dir, pg_url=url, pg_name=pg_name)
