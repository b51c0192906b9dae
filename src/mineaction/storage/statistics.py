"""Land-release statistics straight from the ledger, aggregated in the database.

Areas are the geodesic square metres stored with each record when it was
written, so statistics are sums, not geometry work: released parts of a
hazard never overlap and lie inside it (the ledger's rules), which makes
``remaining = hazard area − Σ released parts`` exact.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mineaction.storage.register import Register

__all__ = ["GROUPINGS", "Balance", "admin_ancestors", "hazard_balance", "released_area"]

#: what released land can be grouped by
GROUPINGS = ("release_type", "method", "admin_pcode", "organisation_id", "year", "month")


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
    hazards: sa.Select | None = None,
) -> list[dict[str, Any]]:
    """Released m² and part counts grouped by ``by`` (see :data:`GROUPINGS`).

    With ``admin_level``, the ``admin_pcode`` group rolls up to that level;
    ``period`` keeps parts released from its start up to, not including, its
    end; ``hazards`` (a select of hazard ids) keeps parts of those hazards.
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
        .where(parts.c.deleted.is_(False))
        .group_by(*keys)
    )
    if period is not None:
        query = query.where(parts.c.released_on >= period[0], parts.c.released_on < period[1])
    if hazards is not None:
        query = query.where(parts.c.hazard_id.in_(hazards))
    with register.engine.connect() as connection:
        rows = [dict(r._mapping) for r in connection.execute(query)]
    if admin_level is None or "admin_pcode" not in by:
        return sorted(rows, key=lambda r: tuple(str(r[g]) for g in by))
    ancestor = admin_ancestors(register, admin_level)
    merged: dict[tuple, dict[str, object]] = defaultdict(lambda: {"area_m2": 0.0, "parts": 0})
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
    with register.engine.connect() as connection:
        count, area = connection.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(hazards.c.area_m2), 0.0)).where(live)
        ).one()
        released = connection.execute(
            sa.select(sa.func.coalesce(sa.func.sum(parts.c.area_m2), 0.0))
            .select_from(parts.join(hazards, parts.c.hazard_id == hazards.c.id))
            .where(parts.c.deleted.is_(False), live)
        ).scalar_one()
    return Balance(int(count), float(area), float(released), float(area) - float(released))
