"""Opening a register: a GeoPackage file path or a PostgreSQL URL.

SQLite settings are deliberate. WAL lets readers go on while one writer
commits; ``synchronous=FULL`` makes an acknowledged commit survive power loss
(with WAL, NORMAL would not); writers take the lock at BEGIN IMMEDIATE so two
writers never deadlock on a lock upgrade; the busy timeout lets a writer wait
for another instead of failing at once.

Statement parameters are hidden from SQLAlchemy's logs and error messages:
they carry personal data (victims' names), and an error's text ends up in
logs and tracebacks.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from mineaction.storage import gpkg

__all__ = ["BUSY_TIMEOUT_S", "create_engine", "is_postgres_url", "set_redacting"]

BUSY_TIMEOUT_S = 30
CACHE_KIB = 128 * 1024  # page cache per connection; SQLite allocates it only as pages are used


def set_redacting(dbapi_connection: sqlite3.Connection, on: bool) -> None:
    """Let this one connection rewrite history rows (lawful erasure of personal data only).

    The history triggers call ``mineaction_redacting()``; it is defined per
    connection, so redefining it switches only this one.
    """
    dbapi_connection.create_function("mineaction_redacting", 0, (lambda: 1) if on else (lambda: 0))


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql:", "postgresql+", "postgres:"))


def _postgres_url(target: str) -> str:
    scheme, rest = target.split("://", 1)
    return f"postgresql+psycopg://{rest}" if "+" not in scheme else target


def _configure_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None  # transactions are ours, see on_begin
        gpkg.register_functions(dbapi_connection)
        set_redacting(dbapi_connection, False)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # bulk loads keep their indexes in memory
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def create_engine(target: str | Path) -> sa.Engine:
    """An engine for a GeoPackage path or a ``postgresql://`` URL."""
    text = str(target)
    if is_postgres_url(text):
        return sa.create_engine(_postgres_url(text), pool_pre_ping=True, hide_parameters=True)
    engine = sa.create_engine(
        f"sqlite:///{Path(text).expanduser()}",
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        hide_parameters=True,
    )
    _configure_sqlite(engine)
    return engine
