"""Transactions of the access tables, with the register's own rules.

Writes take SQLite's write lock at BEGIN (``BEGIN IMMEDIATE``), as the
register's writers do: a transaction that reads first and upgrades its lock
later fails at once with "database is locked" when another writer is active,
whereas one that starts as a writer waits its turn. Database errors become
:class:`~mineaction.errors.StorageError` through the register's translator.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa

from mineaction.storage.register import _translate_errors

__all__ = ["reading", "writing"]


@contextlib.contextmanager
def writing(engine: sa.Engine, action: str) -> Iterator[sa.Connection]:
    with _translate_errors(action), engine.connect() as connection:
        connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin():
            yield connection


@contextlib.contextmanager
def reading(engine: sa.Engine, action: str) -> Iterator[sa.Connection]:
    with _translate_errors(action), engine.connect() as connection:
        yield connection
