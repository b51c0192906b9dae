"""Transactions outside a unit of work, with the register's own rules.

Writes take SQLite's write lock at BEGIN (``BEGIN IMMEDIATE``), as the
register's writers do: a transaction that reads first and upgrades its lock
later fails at once with "database is locked" when another writer is active,
whereas one that starts as a writer waits its turn. Database errors become
:class:`~mineaction.errors.StorageError` through the register's translator.

:func:`one_writer` queues a process's register writes on a GeoPackage before
they take a pooled connection. SQLite has one writer at a time anyway; without
the queue, threads waiting for its lock each hold a pooled connection, and the
writer that has the lock can starve waiting for a second connection (the
Writer reads vocabularies and settings on another one) until the busy timeout.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

import sqlalchemy as sa

from mineaction.storage.errors import translate_errors

if TYPE_CHECKING:  # a register is passed in; this module is imported by the register's neighbours
    from mineaction.storage.register import Register

__all__ = ["one_writer", "reading", "writing"]

_WRITER_LOCKS: weakref.WeakKeyDictionary[sa.Engine, threading.Lock] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


@contextlib.contextmanager
def one_writer(register: Register) -> Iterator[None]:
    """Let one thread of this process write to an embedded register at a time (no-op on PostgreSQL)."""
    if register.dialect != "sqlite":
        yield
        return
    with _GUARD:
        lock = _WRITER_LOCKS.setdefault(register.engine, threading.Lock())
    with lock:
        yield


@contextlib.contextmanager
def writing(register: Register, action: str) -> Iterator[sa.Connection]:
    """One write transaction; ``action`` names it in error messages."""
    with translate_errors(action), register.engine.connect() as connection:
        connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin():
            yield connection


@contextlib.contextmanager
def reading(register: Register, action: str) -> Iterator[sa.Connection]:
    """One read connection; ``action`` names it in error messages."""
    with translate_errors(action), register.engine.connect() as connection:
        yield connection
