"""Failing a real database at a chosen point: the Nth statement, the commit, a full disk.

:func:`fail_at_every_point` walks a write over every point of one kind of fault.

* :func:`failing_statement` calls a ``fail`` function just before the Nth
  statement a register's engine sends (a SQLAlchemy ``before_cursor_execute``
  listener), so a test can walk N = 1, 2, … over every statement of a write.
* :func:`driver_error` raises the driver's own ``OperationalError`` there, as a
  disk I/O error would; SQLAlchemy wraps it exactly as a real one.
* :func:`terminate_backend` kills the PostgreSQL server process of that
  connection from another connection (``pg_terminate_backend``), so the
  statement then meets a real lost connection.
* :func:`failing_commit` terminates the backend just before COMMIT.
* :func:`page_limit` caps a SQLite file at its current size plus ``pages``
  (``PRAGMA max_page_count``), so SQLite itself fails with SQLITE_FULL at the
  first page allocation beyond: the error a full disk gives.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager

import sqlalchemy as sa
from sqlalchemy import event

from mineaction.errors import StorageError
from mineaction.storage.engine import create_engine
from mineaction.storage.register import Register
from tests.faults.checks import check_all, snapshot

__all__ = [
    "driver_error",
    "fail_at_every_point",
    "failing_commit",
    "failing_statement",
    "page_limit",
    "terminate_backend",
]

Fail = Callable[[Register, sa.Connection], None]


def fail_at_every_point(
    register: Register, writes: Sequence[Callable[[Register], object]],
    faults: Callable[[int], AbstractContextManager[object]],
) -> Counter[str]:
    """Run each write with its fault point 1, 2, … until it gets through; failures per write.

    After each failure the error must be a StorageError about the database,
    and every row of every table as before the attempt.
    """
    failures: Counter[str] = Counter()
    for write in writes:
        before = snapshot(register)  # a failed attempt leaves exactly this, so it serves every attempt
        for n in itertools.count(1):
            try:
                with faults(n):
                    write(register)
            except StorageError as exc:
                assert "database" in str(exc), str(exc)
                assert snapshot(register) == before, f"{write.__name__} failed at point {n} but changed the register"
                failures[write.__name__] += 1
                continue
            break
    check_all(register)
    return failures


def driver_error(register: Register, connection: sa.Connection) -> None:
    raise connection.dialect.loaded_dbapi.OperationalError("disk I/O error (injected by the fault test)")


@functools.cache
def _killer(target: str) -> sa.Engine:
    """One engine per database for terminating others' connections (its pooled connection is reused)."""
    return create_engine(target).execution_options(isolation_level="AUTOCOMMIT")


def terminate_backend(register: Register, connection: sa.Connection) -> None:
    pid = connection.connection.dbapi_connection.info.backend_pid
    with _killer(register.target).connect() as other:  # waits until the process is gone
        assert other.exec_driver_sql("SELECT pg_terminate_backend(%(pid)s, 5000)", {"pid": pid}).scalar()


@contextlib.contextmanager
def failing_statement(register: Register, n: int, fail: Fail) -> Iterator[list[int]]:
    """Call ``fail`` before the ``n``-th statement; yields a list holding the count seen."""
    seen = [0]

    def before(connection: sa.Connection, *_args: object) -> None:
        seen[0] += 1
        if seen[0] == n:
            fail(register, connection)

    event.listen(register.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(register.engine, "before_cursor_execute", before)


@contextlib.contextmanager
def failing_commit(register: Register) -> Iterator[None]:
    """Lose the PostgreSQL connection just before the next COMMIT."""

    def before_commit(connection: sa.Connection) -> None:
        terminate_backend(register, connection)

    event.listen(register.engine, "commit", before_commit, once=True)
    try:
        yield
    finally:
        if event.contains(register.engine, "commit", before_commit):
            event.remove(register.engine, "commit", before_commit)


@contextlib.contextmanager
def page_limit(register: Register, pages: int) -> Iterator[None]:
    """Let the SQLite file grow by at most ``pages`` pages on every connection used meanwhile.

    The file is vacuumed first: a write that finds free pages inside the file
    needs no new ones, and the cap cannot be set below the current size.
    """
    raw = register.engine.raw_connection()
    try:
        raw.driver_connection.execute("VACUUM")
        limit = raw.driver_connection.execute("PRAGMA page_count").fetchone()[0] + pages
    finally:
        raw.close()

    def on_checkout(dbapi_connection: object, *_args: object) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {limit}")

    event.listen(register.engine, "checkout", on_checkout)
    try:
        yield
    finally:
        event.remove(register.engine, "checkout", on_checkout)
        register.engine.dispose()  # forget the cap: connections opened from now on have none
