"""Reading the audit logs: who read personal data, and who changed which account's permissions.

Both logs are written in the same transaction as what they record
(:mod:`mineaction.access.reader`, :mod:`mineaction.access.accounts`) and are
append-only: database triggers refuse UPDATE and DELETE. Reading them is
restricted too, since they show who works on which victims' records: on the
web only a programme-wide administrator may (:func:`check_may_read`); on the
command line, whoever can open the database holds everything in it anyway.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from mineaction.access._db import reading
from mineaction.access.errors import AccessDenied
from mineaction.access.roles import ALL, Principal, Role
from mineaction.errors import InvalidValue
from mineaction.storage.access_schema import AUDIT_TABLE, PERMISSION_LOG
from mineaction.storage.register import Register, _naive_utc

__all__ = ["LOGS", "check_may_read", "entries"]

#: log name → (table, time column)
LOGS: dict[str, tuple[str, str]] = {
    "permissions": (PERMISSION_LOG, "changed_at"),
    "reads": (AUDIT_TABLE, "read_at"),
}


def check_may_read(principal: Principal) -> None:
    """Raise :class:`AccessDenied` unless the principal administers every organisation."""
    if principal.organisations(Role.ADMINISTRATOR) is not ALL:
        raise AccessDenied("the audit log is readable only by programme-wide administrators")


def entries(
    register: Register,
    log: str,
    *,
    username: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Entries of one log, newest first; ``username`` is the account changed (permissions) or reading (reads)."""
    if log not in LOGS:
        raise InvalidValue(f"no audit log {log!r}", hint=f"use one of {', '.join(LOGS)}")
    table_name, time_column = LOGS[log]
    table = register.tables[table_name]
    query = sa.select(table).order_by(table.c[time_column].desc(), table.c.id.desc()).limit(limit)
    if username is not None:
        query = query.where(table.c.username == username)
    if since is not None:
        query = query.where(table.c[time_column] >= _naive_utc(since))
    with reading(register.engine, f"reading the {log} audit log") as connection:
        return [dict(row._mapping) for row in connection.execute(query)]
