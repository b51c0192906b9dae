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
  logged (:mod:`mineaction.access.reader`);
* restricted fields and exact restricted locations need the viewer role for
  the record's organisation; a ``public`` grant shows public fields and the
  location generalised (:mod:`mineaction.access.publication`).
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
    "exact_everywhere",
    "hidden_fields",
    "owner_of",
    "personal_fields",
    "queryable_fields",
    "read_scope",
    "sees_restricted",
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
    """Organisations whose records of ``spec`` the principal may read (perhaps only publicly); None: all."""
    return principal.organisations(Role.PUBLIC) if owned(spec) else ALL


def shows_personal(principal: Principal, spec: Entity, owner: str | None, admin_pcode: str | None = None) -> bool:
    """May the principal read personal fields of a record owned by ``owner`` (in ``admin_pcode``)?"""
    return bool(personal_fields(spec)) and principal.allows(
        Role.VIEWER, owner, personal_data=True, admin_pcode=admin_pcode)


def sees_restricted(principal: Principal, spec: Entity, owner: str | None, admin_pcode: str | None = None) -> bool:
    """May the principal read restricted fields and the exact restricted location of such a record?"""
    if not owned(spec):
        return principal.organisations(Role.VIEWER) != frozenset()
    return principal.allows(Role.VIEWER, owner, admin_pcode=admin_pcode)


def hidden_fields(
    principal: Principal, spec: Entity, owner: str | None, admin_pcode: str | None = None
) -> tuple[str, ...]:
    """Fields of a record owned by ``owner`` (in ``admin_pcode``) the principal may not read."""
    personal = () if shows_personal(principal, spec, owner, admin_pcode) else personal_fields(spec)
    if sees_restricted(principal, spec, owner, admin_pcode):
        return personal
    return (*personal, *(f.name for f in spec.fields if f.sensitivity is Sensitivity.RESTRICTED))


def _covers(principal: Principal, spec: Entity, role: Role, *, personal_data: bool = False) -> bool:
    """Does ``role`` (with personal data) extend over every organisation (and region) the principal can read?"""
    return principal.covers(role, personal_data=personal_data)


def exact_everywhere(principal: Principal, spec: Entity) -> bool:
    """Does the principal see the exact location of every record of ``spec`` it can read?

    Otherwise spatial filters must not run on exact locations: a shrinking
    bounding box would find where a generalised record really is.
    """
    return spec.geometry_sensitivity is Sensitivity.PUBLIC or not owned(spec) or _covers(principal, spec, Role.VIEWER)


def queryable_fields(principal: Principal, spec: Entity) -> list[str]:
    """Fields the principal may filter and sort on.

    Personal (restricted) fields only when personal data (the viewer role) is
    granted for every organisation the principal can see, so a filter cannot
    probe a value it may not read.
    """
    allowed = {Sensitivity.PUBLIC}
    if not owned(spec) or _covers(principal, spec, Role.VIEWER):
        allowed.add(Sensitivity.RESTRICTED)
    if _covers(principal, spec, Role.VIEWER, personal_data=True):
        allowed.add(Sensitivity.PERSONAL)
    return [f.name for f in spec.fields if f.sensitivity in allowed]


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
