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

from mineaction.access.errors import AccessDenied
from mineaction.access.roles import ALL, Principal, Role
from mineaction.storage import AUDIT_LOGS, Register, log_entries

__all__ = ["LOGS", "check_may_read", "entries"]

#: log name → (table, time column)
LOGS = AUDIT_LOGS


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
    return log_entries(register, log, username=username, since=since, limit=limit)
