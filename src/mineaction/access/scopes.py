"""Scopes of callers that are not signed-in accounts, and what a whole-table output may show.

Exports and reports take the caller's scope as a :class:`Principal`: a web
request's account, or one of these. Whoever runs the command line on the
register's file can read all of it (the local operator), but personal data
still need the operator to say they hold the permission; ``--level public``
is the scope of anyone outside the mine action community.
"""

from __future__ import annotations

from mineaction.access import policy
from mineaction.access.roles import Grant, Principal, Role
from mineaction.domain.entities import Entity, Sensitivity

__all__ = ["local_operator", "public_scope", "readable_level"]


def local_operator(username: str, *, personal_data: bool = False) -> Principal:
    """The command line's user: every organisation, personal data only when they hold the permission.

    Holding the register's file (or its database URL) is holding every record,
    so the command line does not pretend otherwise; it still decides through
    this package.
    """
    return Principal("local", username, (Grant(None, Role.ADMINISTRATOR, personal_data),))


def public_scope() -> Principal:
    """Anyone: public fields of every organisation's records, restricted locations generalised."""
    return Principal("public", "public", (Grant(None, Role.PUBLIC),))


def readable_level(principal: Principal, spec: Entity) -> Sensitivity:
    """The most sensitive class of fields the principal may read in *every* record of ``spec`` it can see.

    A file holds one set of columns for all its rows, so it shows no more
    than the least the caller may see of any one of them.
    """
    shown = set(policy.queryable_fields(principal, spec))
    for level in (Sensitivity.PERSONAL, Sensitivity.RESTRICTED):
        if all(f.name in shown for f in spec.fields_at_most(level)):
            return level
    return Sensitivity.PUBLIC
