"""Statistics straight from the register, aggregated in the database.

Every aggregate that reports, planning and the residual-hazard table need is
a named query here, taking plain arguments and giving plain rows back, so
those layers never build SQL. Areas are the geodesic square metres stored
with each record when it was written, so statistics are sums, not geometry
work: released parts of a hazard never overlap and lie inside it (the
ledger's rules), which makes ``remaining = hazard area − Σ released parts``
exact.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mineaction.storage.reads import Scope
from mineaction.storage.register import Register
from mineaction.storage.transactions import reading

__all__ = [
    "EVERYTHING",
    "GROUPINGS",
    "Balance",
    "ContaminatedArea",
    "admin_ancestors",
    "ap_mine_conditions",
    "casualty_counts",
    "clearance_methods",
    "closed_suspected_release",
    "completed_clearance",
    "contaminated_areas",
    "eo_destroyed",
    "eore_audience",
    "hazard_balance",
    "released_area",
    "released_by_hazard",
    "residual_events",
    "victims_per_accident",
]

#: what released land can be grouped by
GROUPINGS = ("release_type", "method", "admin_pcode", "organisation_id", "year", "month")
#: the scope of a caller who may read every record (the command line's local operator)
EVERYTHING = Scope("organisation_id")


@dataclass(frozen=True)
class Balance:
    """Hazard area, released and remaining, in m², for the live register."""

    hazards: int
    hazard_area_m2: float
    released_m2: float
    remaining_m2: float


def _period(register: Register, column: sa.ColumnElement, grouping: str) -> sa.ColumnElement:
    width = 4 if grouping == "year" else 7
    if register.dialect == "postgresql":
        return sa.func.to_char(column, "YYYY" if width == 4 else "YYYY-MM")
    return sa.func.substr(column, 1, width)


def admin_ancestors(register: Register, level: int) -> dict[str, str]:
    """Map every admin P-code to its ancestor at ``level`` (or itself when shallower)."""
    areas = register.records("admin_area")
    parent = {a["pcode"]: a["parent_pcode"] for a in areas}
    depth = {a["pcode"]: a["level"] for a in areas}
    out = {}
    for pcode in parent:
        code = pcode
        while code in depth and depth[code] > level and parent.get(code):
            code = parent[code]
        out[pcode] = code
    return out


def released_area(
    register: Register,
    *,
    by: Sequence[str] = ("release_type",),
    as_of: dt.datetime | None = None,
    admin_level: int | None = None,
    period: tuple[dt.date, dt.date] | None = None,
    contamination: str | None = None,
    scope: Scope = EVERYTHING,
) -> list[dict[str, Any]]:
    """Released m² and part counts grouped by ``by`` (see :data:`GROUPINGS`).

    Each row holds the ``by`` values (text, or None where a part has none),
    ``area_m2`` (float) and ``parts`` (int).

    With ``admin_level``, the ``admin_pcode`` group rolls up to that level;
    ``period`` keeps parts released from its start up to, not including, its
    end; ``contamination`` keeps parts of live hazards holding that contamination
    code reported before the period's end (see :func:`contaminated_areas`);
    ``scope``: only the parts the caller may read (access decides it).
    """
    unknown = set(by) - set(GROUPINGS)
    if unknown:
        raise ValueError(f"cannot group released land by {sorted(unknown)}; use {GROUPINGS}")
    parts = register.table_as_of("released_part", as_of)
    keys = [
        _period(register, parts.c.released_on, g).label(g) if g in ("year", "month") else parts.c[g].label(g)
        for g in by
    ]
    query = (
        sa.select(*keys, sa.func.sum(parts.c.area_m2).label("area_m2"), sa.func.count().label("parts"))
        .where(parts.c.deleted.is_(False), scope.clause(parts))
        .group_by(*keys)
    )
    if period is not None:
        query = query.where(parts.c.released_on >= period[0], parts.c.released_on < period[1])
    if contamination is not None:
        query = query.where(parts.c.hazard_id.in_(_contaminated(register, contamination, period, scope)))
    with reading(register, "aggregating released land") as connection:
        rows = [dict(r._mapping) for r in connection.execute(query)]
    if admin_level is None or "admin_pcode" not in by:
        return sorted(rows, key=lambda r: tuple(str(r[g]) for g in by))
    ancestor = admin_ancestors(register, admin_level)
    merged: dict[tuple, dict[str, Any]] = defaultdict(lambda: {"area_m2": 0.0, "parts": 0})
    for row in rows:
        row["admin_pcode"] = ancestor.get(row["admin_pcode"], row["admin_pcode"])
        key = tuple(row[g] for g in by)
        target = merged[key]
        target.update({g: row[g] for g in by})
        target["area_m2"] += row["area_m2"]
        target["parts"] += row["parts"]
    return sorted(merged.values(), key=lambda r: tuple(str(r[g]) for g in by))


def hazard_balance(register: Register, *, as_of: dt.datetime | None = None) -> Balance:
    """Total hazard area, released area and remaining area of live hazards."""
    hazards = register.table_as_of("hazard", as_of)
    parts = register.table_as_of("released_part", as_of)
    live = hazards.c.deleted.is_(False)
    with reading(register, "aggregating hazard areas") as connection:
        count, area = connection.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(hazards.c.area_m2), 0.0)).where(live)
        ).one()
        released = connection.execute(
            sa.select(sa.func.coalesce(sa.func.sum(parts.c.area_m2), 0.0))
            .select_from(parts.join(hazards, parts.c.hazard_id == hazards.c.id))
            .where(parts.c.deleted.is_(False), live)
        ).scalar_one()
    return Balance(int(count), float(area), float(released), float(area) - float(released))


def released_by_hazard(register: Register) -> dict[str, float]:
    """Released m² of each live hazard's live parts, by hazard id."""
    parts = register.tables["released_part"]
    query = (sa.select(parts.c.hazard_id, sa.func.sum(parts.c.area_m2))
             .where(parts.c.deleted.is_(False)).group_by(parts.c.hazard_id))
    with reading(register, "aggregating released land") as connection:
        return {hazard_id: float(m2) for hazard_id, m2 in connection.execute(query)}


def victims_per_accident(register: Register) -> dict[str, int]:
    """Number of live victims of each accident, by accident id."""
    victims = register.tables["victim"]
    query = (sa.select(victims.c.accident_id, sa.func.count())
             .where(victims.c.deleted.is_(False)).group_by(victims.c.accident_id))
    with reading(register, "counting victims") as connection:
        return dict(connection.execute(query).all())


def clearance_methods(register: Register) -> list[tuple[str, list[str] | None]]:
    """(hazard id, methods) of every live technical survey or clearance, oldest first."""
    activities = register.tables["activity"]
    query = (sa.select(activities.c.hazard_id, activities.c.method)
             .where(activities.c.deleted.is_(False), activities.c.activity_type.in_(("ts", "clearance")))
             .order_by(activities.c.started_on, activities.c.ref))
    with reading(register, "reading activity methods") as connection:
        return [(hazard_id, methods) for hazard_id, methods in connection.execute(query)]


def completed_clearance(register: Register) -> list[tuple[dt.date, dt.date, str, float]]:
    """(started, ended, method, released m²) per completed clearance activity and method of its parts."""
    activities, parts = register.tables["activity"], register.tables["released_part"]
    query = (
        sa.select(activities.c.id, activities.c.started_on, activities.c.ended_on, parts.c.method,
                  sa.func.sum(parts.c.area_m2))
        .select_from(parts.join(activities, parts.c.activity_id == activities.c.id))
        .where(parts.c.deleted.is_(False), activities.c.deleted.is_(False),
               activities.c.activity_type == "clearance", activities.c.status == "completed",
               activities.c.ended_on.is_not(None))
        .group_by(activities.c.id, activities.c.started_on, activities.c.ended_on, parts.c.method)
    )
    with reading(register, "reading completed clearance") as connection:
        return [(started, ended, method, float(m2)) for _id, started, ended, method, m2 in connection.execute(query)]


def closed_suspected_release(register: Register, closed: Sequence[str]) -> dict[str, dict[str, float]]:
    """Released m² by release type of each SHA whose status is one of ``closed``, by hazard id."""
    hazards, parts = register.tables["hazard"], register.tables["released_part"]
    query = (
        sa.select(parts.c.hazard_id, parts.c.release_type, sa.func.sum(parts.c.area_m2))
        .select_from(parts.join(hazards, parts.c.hazard_id == hazards.c.id))
        .where(parts.c.deleted.is_(False), hazards.c.deleted.is_(False), hazards.c.hazard_type == "SHA",
               hazards.c.status.in_(list(closed)))
        .group_by(parts.c.hazard_id, parts.c.release_type)
    )
    released: dict[str, dict[str, float]] = defaultdict(dict)
    with reading(register, "aggregating released land") as connection:
        for hazard_id, release_type, m2 in connection.execute(query):
            released[hazard_id][release_type] = float(m2)
    return dict(released)


def ap_mine_conditions(register: Register) -> list[tuple[str, str, int]]:
    """(residual profile, condition, items) of anti-personnel mines found in hazards that name a profile."""
    finds, hazards = register.tables["eo_find"], register.tables["hazard"]
    query = (
        sa.select(hazards.c.residual_profile, finds.c.condition, sa.func.sum(finds.c.quantity))
        .select_from(finds.join(hazards, finds.c.hazard_id == hazards.c.id))
        .where(finds.c.deleted.is_(False), finds.c.category == "ap_mine", hazards.c.residual_profile.is_not(None))
        .group_by(hazards.c.residual_profile, finds.c.condition)
    )
    with reading(register, "aggregating finds") as connection:
        return [(profile, condition, int(quantity)) for profile, condition, quantity in connection.execute(query)]


def eo_destroyed(
    register: Register, period: tuple[dt.date, dt.date], scope: Scope = EVERYTHING
) -> list[dict[str, object]]:
    """Items found in ``period`` (start included, end not) by category and condition, within ``scope``."""
    finds = register.tables["eo_find"]
    query = (
        sa.select(finds.c.category, finds.c.condition, sa.func.sum(finds.c.quantity))
        .where(finds.c.deleted.is_(False), finds.c.found_on >= period[0], finds.c.found_on < period[1],
               scope.clause(finds))
        .group_by(finds.c.category, finds.c.condition)
    )
    with reading(register, "aggregating finds") as connection:
        return [{"category": a, "condition": b, "items": int(n)} for a, b, n in connection.execute(query)]


def residual_events(
    register: Register, period: tuple[dt.date, dt.date], scope: Scope = EVERYTHING
) -> list[dict[str, Any]]:
    """Residual-contamination events flagged in ``period`` within ``scope``, oldest first, each with the refs of
    its find, released part and task, where it lies, how far inside, and its review's state and cause."""
    events, finds = register.tables["residual_event"], register.tables["eo_find"]
    parts, tasks = register.tables["released_part"], register.tables["task"]
    query = (
        sa.select(events.c.ref, events.c.flagged_on, events.c.admin_pcode, finds.c.ref.label("find"),
                  finds.c.quantity, parts.c.ref.label("released_part"), parts.c.released_on,
                  tasks.c.ref.label("task"), events.c.inside, events.c.distance_m, events.c.state, events.c.cause)
        .select_from(events.join(finds, finds.c.id == events.c.eo_find_id)
                     .outerjoin(parts, parts.c.id == events.c.released_part_id)
                     .outerjoin(tasks, tasks.c.id == events.c.task_id))
        .where(events.c.deleted.is_(False), events.c.flagged_on >= period[0], events.c.flagged_on < period[1],
               scope.clause(events))
        .order_by(events.c.flagged_on, events.c.ref)
    )
    with reading(register, "listing residual contamination") as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def _contaminated(
    register: Register, code: str, period: tuple[dt.date, dt.date] | None, scope: Scope = EVERYTHING,
    hazards: sa.FromClause | None = None,
) -> sa.Select:
    hazards = register.tables["hazard"] if hazards is None else hazards
    query = sa.select(hazards.c.id).where(
        hazards.c.deleted.is_(False), sa.type_coerce(hazards.c.contamination, sa.Text).like(f'%"{code}"%'),
        scope.clause(hazards))
    return query if period is None else query.where(hazards.c.reported_on < period[1])


@dataclass(frozen=True)
class ContaminatedArea:
    """A hazard holding a contamination code, with its land released up to a date.

    ``backfilled``: first recorded after the as-of time (a migration, a late entry), so shown as recorded
    now; ``closed_on`` lets the caller tell its status at the period's end."""

    ref: str
    admin_pcode: str | None
    hazard_type: str
    status: str
    area_m2: float
    estimated_items: float | None
    released_m2: float
    closed_on: dt.date | None = None
    backfilled: bool = False


def _areas_as_of(
    register: Register, code: str, period: tuple[dt.date, dt.date], scope: Scope, as_of: dt.datetime | None,
    leave_out: sa.Select | None = None,
) -> list[ContaminatedArea]:
    hazards = register.table_as_of("hazard", as_of)
    parts = register.table_as_of("released_part", as_of)
    # Join the parts themselves and group, rather than join an aggregated subquery: without planner
    # statistics (just after a bulk load, before ANALYZE) PostgreSQL joined the subquery by a nested
    # loop over all hazards for each hazard (6 minutes at 100,000 hazards); this way it looks parts
    # up by the hazard_id index whatever its estimates.
    released_before_end = sa.and_(parts.c.hazard_id == hazards.c.id, parts.c.deleted.is_(False),
                                  parts.c.released_on < period[1])
    columns = (hazards.c.ref, hazards.c.admin_pcode, hazards.c.hazard_type, hazards.c.status, hazards.c.area_m2,
               hazards.c.estimated_items)
    query = (
        sa.select(*columns, sa.func.coalesce(sa.func.sum(parts.c.area_m2), 0.0), hazards.c.closed_on)
        .select_from(hazards.outerjoin(parts, released_before_end))
        .where(hazards.c.id.in_(_contaminated(register, code, period, scope, hazards)))
        .group_by(hazards.c.id, *columns, hazards.c.closed_on)
    )
    if leave_out is not None:
        query = query.where(hazards.c.id.not_in(leave_out))
    with reading(register, "reading contaminated areas") as connection:
        return [ContaminatedArea(*row, backfilled=leave_out is not None) for row in connection.execute(query)]


def contaminated_areas(
    register: Register, code: str, period: tuple[dt.date, dt.date], scope: Scope = EVERYTHING,
    *, as_of: dt.datetime | None = None,
) -> list[ContaminatedArea]:
    """Live hazards in ``scope`` reported before the period's end that hold contamination ``code``, by admin
    area and ref, each with the m² released before the period's end.

    With ``as_of``, hazards and parts as recorded then (later edits change nothing), plus the hazards first
    recorded after it (``backfilled``), as recorded now."""
    areas = _areas_as_of(register, code, period, scope, as_of)
    if as_of is not None:
        recorded = sa.select(register.table_as_of("hazard", as_of).c.id)
        areas += _areas_as_of(register, code, period, scope, None, leave_out=recorded)
    return sorted(areas, key=lambda a: (a.admin_pcode or "", a.ref))


def casualty_counts(
    register: Register, period: tuple[dt.date, dt.date] | None, scope: Scope = EVERYTHING
) -> list[tuple[str, str, str, str, int]]:
    """(victim group, outcome, sex, child/adult/age unknown, persons) of accidents in ``period`` (None: all),
    victims within ``scope``."""
    victims, accidents = register.tables["victim"], register.tables["accident"]
    child = sa.case((victims.c.age < 18, "child"), (victims.c.age >= 18, "adult"), else_="age unknown")
    query = (
        sa.select(victims.c.victim_group, victims.c.outcome, victims.c.sex, child, sa.func.count())
        .select_from(victims.join(accidents, victims.c.accident_id == accidents.c.id))
        .where(victims.c.deleted.is_(False), accidents.c.deleted.is_(False), scope.clause(victims))
        .group_by(victims.c.victim_group, victims.c.outcome, victims.c.sex, child)
    )
    if period is not None:
        query = query.where(accidents.c.occurred_on >= period[0], accidents.c.occurred_on < period[1])
    with reading(register, "counting casualties") as connection:
        return [(g, o, s, a, int(n)) for g, o, s, a, n in connection.execute(query)]


def eore_audience(
    register: Register, period: tuple[dt.date, dt.date], scope: Scope = EVERYTHING
) -> list[tuple[str | None, int, int, int, int]]:
    """(admin P-code, girls, boys, women, men) reached by risk education sessions in ``scope`` held in ``period``."""
    sessions = register.tables["eore_session"]
    query = (
        sa.select(sessions.c.admin_pcode,
                  *(sa.func.coalesce(sa.func.sum(sessions.c[k]), 0) for k in ("girls", "boys", "women", "men")))
        .where(sessions.c.deleted.is_(False), sessions.c.held_on >= period[0], sessions.c.held_on < period[1],
               scope.clause(sessions))
        .group_by(sessions.c.admin_pcode)
    )
    with reading(register, "counting risk education audiences") as connection:
        return [(pcode, *map(int, counts)) for pcode, *counts in connection.execute(query)]
