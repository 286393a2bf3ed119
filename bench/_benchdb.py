"""A database of its own for each benchmark: a temporary SQLite file, or the PostgreSQL database named in
``DATABASE_URL`` dropped and created again (its name must contain 'bench', so nobody's data is dropped)."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit


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


def recreate_postgres_database(url: str) -> str:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
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
