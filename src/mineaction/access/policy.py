"""Who may see and change which records: the rules, apart from any interface.

The web API, OGC API, tiles, exports and reports all decide through these
functions, so one rule holds everywhere:

* records owned by an organisation (``organisation_id``) are visible to
  accounts with a role in that organisation, or in every organisation;
* programme-wide records (gazetteer, places, organisations) are visible to
  every signed-in account and changed only by programme-wide administrators;
* register edits need the reviewer role (field reporters submit field reports
  to the review queue instead);
* fields declared :attr:`Sensitivity.PERSONAL` are shown only under a grant
  with ``personal_data`` for the record's organisation, and each such read is
  logged (:mod:`mineaction.access.reader`).
"""

from __future__ import annotations

from typing import Any

from mineaction.access.errors import AccessDenied
from mineaction.access.roles import ALL, Principal, Role
from mineaction.domain.entities import Entity, Sensitivity

__all__ = [
    "EDIT_ROLE",
    "OWNER_FIELD",
    "check_may_edit",
    "owner_of",
    "personal_fields",
    "queryable_fields",
    "read_scope",
    "shows_personal",
]

OWNER_FIELD = "organisation_id"
#: the least role that may change register records directly
EDIT_ROLE = Role.REVIEWER


def owned(spec: Entity) -> bool:
    """True when records of this entity belong to one organisation."""
    return OWNER_FIELD in spec.field_map


def owner_of(spec: Entity, values: dict[str, Any]) -> str | None:
    return values.get(OWNER_FIELD) if owned(spec) else None


def personal_fields(spec: Entity) -> tuple[str, ...]:
    return tuple(f.name for f in spec.fields if f.sensitivity is Sensitivity.PERSONAL)


def read_scope(principal: Principal, spec: Entity) -> frozenset[str] | None:
    """Organisations whose records of ``spec`` the principal may read; None: all."""
    return principal.organisations(Role.VIEWER) if owned(spec) else ALL


def shows_personal(principal: Principal, spec: Entity, owner: str | None) -> bool:
    """May the principal read personal fields of a record owned by ``owner``?"""
    return bool(personal_fields(spec)) and principal.allows(Role.VIEWER, owner, personal_data=True)


def queryable_fields(principal: Principal, spec: Entity) -> list[str]:
    """Fields the principal may filter and sort on.

    Personal fields only when personal data is granted for every organisation
    the principal can see, so a filter cannot probe a value it may not read.
    """
    scope = read_scope(principal, spec)
    personal_scope = principal.organisations(Role.VIEWER, personal_data=True)
    covered = personal_scope is ALL or (scope is not ALL and scope <= personal_scope)
    return [f.name for f in spec.fields if f.sensitivity is not Sensitivity.PERSONAL or covered]


def check_may_edit(principal: Principal, spec: Entity, owner: str | None) -> None:
    """Raise :class:`AccessDenied` unless the principal may change such a record."""
    if not owned(spec):
        if principal.organisations(Role.ADMINISTRATOR) is not ALL:
            raise AccessDenied(f"{spec.label} records are changed only by programme-wide administrators")
        return
    if owner is None:
        raise AccessDenied(f"a {spec.name} must name the organisation that owns it ({OWNER_FIELD})")
    if not principal.allows(EDIT_ROLE, owner):
        raise AccessDenied(f"changing {spec.name} records of organisation {owner} needs the {EDIT_ROLE.code} role there")
