"""Who may see and change which records: the rules, apart from any interface.

The web API, OGC API, tiles, exports and reports all decide through these
functions, so one rule holds everywhere:

* records owned by an organisation (``organisation_id``) are visible to
  accounts with a role in that organisation, or in every organisation;
* programme-wide records (gazetteer, places, organisations) are visible to
  every signed-in account and changed only by programme-wide administrators;
* register edits need the reviewer role (field reporters submit field reports
  to the review queue instead); moving a record to another organisation needs
  the role in every organisation (a programme-wide grant);
* a task belongs to the operator organisation it is issued to: its
  operator sees it and moves it, reports its progress; the national
  authority (a programme-wide grant) plans, issues, verifies and closes it,
  and the domain's life cycle says which party may make each move
  (:func:`task_party`);
* a field report belongs to the organisation it reports for: submitting
  needs the field reporter role there, listing it the viewer role, and
  approving it the right to change its target as it is now
  (:mod:`mineaction.access.review_queue`);
* fields declared :attr:`Sensitivity.PERSONAL` are shown only under a grant
  with ``personal_data`` for the record's organisation, and each such read is
  logged (:mod:`mineaction.access.reader`);
* restricted fields and exact restricted locations need the viewer role for
  the record's organisation; a ``public`` grant shows public fields and the
  location generalised (:mod:`mineaction.access.publication`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mineaction.access.errors import AccessDenied
from mineaction.access.roles import ALL, Principal, Role
from mineaction.domain.entities import Entity, Sensitivity

__all__ = [
    "EDIT_ROLE",
    "OWNER_FIELD",
    "QUEUE_READ_ROLE",
    "REPORT_ROLE",
    "check_may_edit",
    "check_may_move",
    "check_may_plan_tasks",
    "check_may_replace",
    "check_may_report",
    "check_may_work_task",
    "exact_everywhere",
    "hidden_fields",
    "owned",
    "owner_of",
    "personal_fields",
    "queryable_fields",
    "queue_scope",
    "read_scope",
    "reads",
    "sees_restricted",
    "shows_personal",
    "task_party",
]

OWNER_FIELD = "organisation_id"
#: the least role that may change register records directly
EDIT_ROLE = Role.REVIEWER
#: the least role that may submit field reports to the review queue
REPORT_ROLE = Role.FIELD_REPORTER
#: the least role that may read the review queue (unreviewed data is never public)
QUEUE_READ_ROLE = Role.VIEWER


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


def reads(principal: Principal, spec: Entity, owner: str | None, admin_pcode: str | None = None) -> bool:
    """May the principal see a record owned by ``owner`` at all (perhaps only publicly)?"""
    return not owned(spec) or principal.allows(Role.PUBLIC, owner, admin_pcode=admin_pcode)


def queue_scope(principal: Principal) -> frozenset[str] | None:
    """Organisations whose field reports the principal may list; None: every report, programme-wide ones too."""
    return principal.organisations(QUEUE_READ_ROLE)


def shows_personal(principal: Principal, spec: Entity, owner: str | None, admin_pcode: str | None = None) -> bool:
    """May the principal read personal fields of a record owned by ``owner``?"""
    return bool(personal_fields(spec)) and principal.allows(
        Role.VIEWER, owner, personal_data=True, admin_pcode=admin_pcode)


def sees_restricted(principal: Principal, spec: Entity, owner: str | None, admin_pcode: str | None = None) -> bool:
    """May the principal read restricted fields and the exact restricted location of such a record?"""
    if not owned(spec):
        return principal.organisations(Role.VIEWER) != frozenset()
    return principal.allows(Role.VIEWER, owner, admin_pcode=admin_pcode)


def hidden_fields(principal: Principal, spec: Entity, owner: str | None,
                  admin_pcode: str | None = None) -> tuple[str, ...]:
    """Fields of a record owned by ``owner`` the principal may not read."""
    personal = () if shows_personal(principal, spec, owner, admin_pcode=admin_pcode) else personal_fields(spec)
    if sees_restricted(principal, spec, owner, admin_pcode=admin_pcode):
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


def check_may_edit(principal: Principal, spec: Entity, owner: str | None, *, admin_pcode: str | None = None) -> None:
    """Raise :class:`AccessDenied` unless the principal may change such a record.

    A task's plan is the authority's (its operator moves it instead:
    :func:`check_may_work_task`), in direct edits and the review queue alike.
    """
    if spec.name == "task":
        check_may_plan_tasks(principal)
    if not owned(spec):
        if principal.organisations(Role.ADMINISTRATOR) is not ALL:
            raise AccessDenied(f"{spec.label} records are changed only by programme-wide administrators")
        return
    if owner is None:
        raise AccessDenied(f"a {spec.name} must name the organisation that owns it ({OWNER_FIELD})")
    if not principal.allows(EDIT_ROLE, owner, admin_pcode=admin_pcode):
        raise AccessDenied(f"changing {spec.name} records of organisation {owner} needs the {EDIT_ROLE.code} role there")


def check_may_report(principal: Principal, spec: Entity, owner: str | None, *, admin_pcode: str | None = None) -> None:
    """Raise :class:`AccessDenied` unless the principal may submit field reports on such a record.

    Programme-wide records (organisations, places, admin areas) are reported
    only under a programme-wide grant, as only programme-wide staff change them.
    """
    if not owned(spec):
        if principal.organisations(REPORT_ROLE) is not ALL:
            raise AccessDenied(f"{spec.label} reports need a programme-wide {REPORT_ROLE.code} grant")
        return
    if owner is None:
        raise AccessDenied(f"a {spec.name} report must name the organisation it is for ({OWNER_FIELD})")
    if not principal.allows(REPORT_ROLE, owner, admin_pcode=admin_pcode):
        raise AccessDenied(
            f"reporting on {spec.name} records of organisation {owner} needs the {REPORT_ROLE.code} role there")


def check_may_move(principal: Principal, spec: Entity, role: Role, source: str | None, destination: str | None) -> None:
    """Raise :class:`AccessDenied` when a record would change organisation without a programme-wide ``role``.

    Rights in both organisations are not enough: a reviewer of two
    organisations must not hand one's records to the other on their own.
    """
    if owned(spec) and destination != source and principal.organisations(role) is not ALL:
        raise AccessDenied(
            f"moving a {spec.name} from organisation {source} to {destination} needs a programme-wide "
            f"{role.code} grant")


def check_may_replace(principal: Principal, spec: Entity, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """Raise :class:`AccessDenied` unless the principal may turn a record's values ``before`` into ``after``.

    The right to change the record as it is now, the right where it ends up,
    and a programme-wide grant when it changes organisation. The editor and
    the review queue both decide edits here.
    """
    source, destination = owner_of(spec, dict(before)), owner_of(spec, dict(after))
    check_may_edit(principal, spec, source, admin_pcode=before.get("admin_pcode"))
    check_may_move(principal, spec, EDIT_ROLE, source, destination)
    check_may_edit(principal, spec, destination, admin_pcode=after.get("admin_pcode"))


def task_party(principal: Principal) -> str:
    """The party a principal acts as on tasks: ``authority`` with a programme-wide grant of the edit role
    (national authority staff), else ``operator`` (its organisation's grant)."""
    return "authority" if principal.organisations(EDIT_ROLE) is ALL else "operator"


def check_may_plan_tasks(principal: Principal) -> None:
    """Raise :class:`AccessDenied` unless the principal plans tasks: creates, re-plans or deletes them.

    Only the national authority tasks operators; an operator changes its tasks
    only by their transitions and progress reports.
    """
    if task_party(principal) != "authority":
        raise AccessDenied(
            f"tasks are planned by the national authority: a programme-wide {EDIT_ROLE.code} grant",
            hint="an operator moves its tasks (accept, start, suspend, complete) and reports progress")


def check_may_work_task(principal: Principal, owner: str | None, *, admin_pcode: str | None = None) -> None:
    """Raise :class:`AccessDenied` unless the principal may move a task of ``owner`` or report its progress:
    the edit role in the operator's organisation, or programme-wide (the authority)."""
    if owner is None or not principal.allows(EDIT_ROLE, owner, admin_pcode=admin_pcode):
        raise AccessDenied(f"working on tasks of organisation {owner} needs the {EDIT_ROLE.code} role there")
