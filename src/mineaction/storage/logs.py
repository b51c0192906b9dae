"""The append-only audit logs: who read personal data, who changed which account's permissions.

Storage keeps the tables (``storage/access_schema.py``: triggers refuse
UPDATE and DELETE); who may read them is decided in :mod:`mineaction.access.audit`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from mineaction.errors import InvalidValue
from mineaction.storage.access_schema import AUDIT_TABLE, PERMISSION_LOG
from mineaction.storage.register import Register, naive_utc
from mineaction.storage.transactions import reading, writing

__all__ = ["AUDIT_LOGS", "append_personal_reads", "log_entries"]

#: log name → (table, time column)
AUDIT_LOGS: dict[str, tuple[str, str]] = {
    "permissions": (PERMISSION_LOG, "changed_at"),
    "reads": (AUDIT_TABLE, "read_at"),
}


def log_entries(
    register: Register, log: str, *, username: str | None = None, since: dt.datetime | None = None, limit: int = 100,
) -> list[dict[str, Any]]:
    """Entries of one log, newest first; ``username`` is the account changed (permissions) or reading (reads)."""
    if log not in AUDIT_LOGS:
        raise InvalidValue(f"no audit log {log!r}", hint=f"use one of {', '.join(AUDIT_LOGS)}")
    table_name, time_column = AUDIT_LOGS[log]
    table = register.tables[table_name]
    query = sa.select(table).order_by(table.c[time_column].desc(), table.c.id.desc()).limit(limit)
    if username is not None:
        query = query.where(table.c.username == username)
    if since is not None:
        query = query.where(table.c[time_column] >= naive_utc(since))
    with reading(register, f"reading the {log} audit log") as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def append_personal_reads(register: Register, entries: Sequence[Mapping[str, Any]]) -> None:
    """Append entries (read_at, account_id, username, entity, record_id, fields, purpose) to the reads log."""
    with writing(register, "logging a personal data read") as connection:
        connection.execute(register.tables[AUDIT_TABLE].insert(), list(entries))
