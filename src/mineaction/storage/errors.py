"""Database errors become :class:`~mineaction.errors.StorageError` here, and only here.

A driver's error text can carry the row it failed on: PostgreSQL's DETAIL
line says "Failing row contains (…)" with every value, a victim's name
included. Error text ends up in logs, tracebacks and API responses, so only
the driver's primary message and its SQLSTATE code are kept, and the
original exception is not chained. Errors of reads taken straight from a
driver's cursor (:mod:`driver_rows`) come as the driver's own exceptions,
not SQLAlchemy's, and are translated the same way.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from collections.abc import Iterator

import sqlalchemy as sa

from mineaction.errors import MineActionError, StorageError

__all__ = ["database_message", "driver_errors", "translate_errors"]


def database_message(exc: BaseException) -> str:
    """The driver's one-line reason, without the values of the row it failed on."""
    original = getattr(exc, "orig", None) or exc
    diag = getattr(original, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        code = getattr(diag, "sqlstate", None)
        return f"{primary} (SQLSTATE {code})" if code else primary
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


@contextlib.contextmanager
def translate_errors(action: str) -> Iterator[None]:
    """Turn database failures during ``action`` into a StorageError that says what to do."""
    try:
        yield
    except MineActionError:
        raise
    except driver_errors("OperationalError", sa.exc.OperationalError) as exc:
        raise StorageError(
            f"{action}: the database is unavailable or locked ({database_message(exc)})",
            hint="check the database is reachable and not in use by a stuck process, then retry",
        ) from None
    except driver_errors("Error", sa.exc.DBAPIError) as exc:
        raise StorageError(f"{action}: the database refused the operation ({database_message(exc)})") from None


def driver_errors(name: str, *also: type[Exception]) -> tuple[type[Exception], ...]:
    """The DB-API exception class ``name`` of sqlite3 and, once it is loaded, psycopg; then ``also``."""
    drivers = (sqlite3, sys.modules.get("psycopg"))
    return (*(getattr(driver, name) for driver in drivers if driver is not None), *also)
