"""Named reads of records for the layers above storage.

Each function answers one question with plain arguments (entity names, ids,
a :class:`Scope`) and gives :class:`~mineaction.storage.records.Record`
objects or plain values back; the SQL stays here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from mineaction.domain.entities import entity
from mineaction.storage.accounts import scope_clause
from mineaction.storage.driver_rows import columns as driver_columns
from mineaction.storage.filters import Filter
from mineaction.storage.records import Record, record_from_row
from mineaction.storage.register import Register
from mineaction.storage.schema import GEOMETRY_COLUMN, all_versions
from mineaction.storage.spatial import install_sqlite_functions, intersects
from mineaction.storage.transactions import reading

__all__ = [
    "Scope", "admin_areas_at", "admin_areas_stamp", "latest_changeset", "live_id", "scoped_columns", "scoped_counts",
    "scoped_history",
    "scoped_record", "scoped_records", "stored_version",
]


def latest_changeset(register: Register) -> int:
    """Id of the newest changeset (0 for an empty register): changes whenever anything in the register does."""
    table = register.tables["changeset"]
    with reading(register, "reading the latest change") as connection:
        return connection.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()


def live_id(register: Register, entity_name: str, key: str) -> str | None:
    """Id of the live record whose id or ref is ``key``, or None."""
    table = register.tables[entity(entity_name).name]
    with reading(register, f"looking up {entity_name} {key}") as connection:
        return connection.execute(
            sa.select(table.c.id).where(sa.or_(table.c.id == key, table.c.ref == key), table.c.deleted.is_(False))
        ).scalar()


def stored_version(register: Register, entity_name: str, record_id: str) -> Record | None:
    """The current version of the record with this id, a deleted one included, or None."""
    table = register.tables[entity(entity_name).name]
    with reading(register, f"reading {entity_name}") as connection:
        row = connection.execute(sa.select(table).where(table.c.id == record_id)).first()
    return None if row is None else record_from_row(entity_name, row)


def admin_areas_stamp(register: Register) -> int:
    """Newest changeset on a live admin area: changes with every add, edit or deletion of one."""
    table = register.tables["admin_area"]
    with reading(register, "reading admin areas") as connection:
        return connection.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.changeset_id), 0))).scalar_one()


def admin_areas_at(register: Register, level: int) -> list[tuple[str, int, BaseGeometry]]:
    """(P-code, level, outline) of every live admin area of ``level`` that has an outline, by P-code."""
    table = register.tables["admin_area"]
    with reading(register, "reading admin areas") as connection:
        rows = connection.execute(
            sa.select(table.c.pcode, table.c.level, table.c[GEOMETRY_COLUMN])
            .where(table.c.deleted.is_(False), table.c.level == level, table.c[GEOMETRY_COLUMN].is_not(None))
            .order_by(table.c.pcode)
        ).all()
    return [(pcode, area_level, geometry) for pcode, area_level, geometry in rows]


@dataclass(frozen=True)
class Scope:
    """Which records a read may return: those whose ``owner_field`` holds one of ``owners``
    (``owners`` None: every record), or, for a principal with a grant scoped to a region, those
    admitted by any of ``regions``: (organisation or None for any, the region's pcodes or None for
    everywhere), a record being in a region by its own ``admin_pcode`` or its hazard's or accident's.
    Access decides it; storage turns it into SQL."""

    owner_field: str
    owners: frozenset[str] | None = None
    regions: tuple[tuple[str | None, frozenset[str] | None], ...] | None = None
    entity_name: str | None = None
    register: Register | None = field(default=None, compare=False, repr=False)

    def clause(self, source: sa.FromClause) -> sa.ColumnElement[bool]:
        """The scope as a condition on ``source``."""
        if self.regions is not None and self.register is not None and self.entity_name is not None:
            return scope_clause(self.register, self.entity_name, source, self.owner_field, self.regions)
        if self.owners is None:
            return sa.true()
        return source.c[self.owner_field].in_(sorted(self.owners)) if self.owners else sa.false()


def _key_matches(source: sa.FromClause, key: str) -> sa.ColumnElement[bool]:
    return sa.or_(source.c.id == key, source.c.ref == key)


def scoped_records(
    register: Register,
    entity_name: str,
    scope: Scope,
    *,
    as_of: dt.datetime | None = None,
    area: BaseGeometry | None = None,
    where: Filter | None = None,
    sort: Sequence[tuple[str, bool]] = (),
    limit: int | None = 100,
    offset: int = 0,
    count: bool = True,
) -> tuple[list[Record], int | None]:
    """One page of live records in ``scope`` (``limit`` None: all) and, when ``count``, how many match in all.

    ``area``: only records whose geometry intersects it (lon/lat); ``where``: a
    checked filter; ``sort``: (field, descending) pairs, then ref.
    """
    source = register.table_as_of(entity_name, as_of)
    conditions = [source.c.deleted.is_(False), scope.clause(source)]
    if area is not None:
        conditions.append(intersects(register, entity_name, source, area))
    if where is not None:
        conditions.append(where.condition(register, source))
    query = sa.select(source).where(*conditions)
    order = [source.c[name].desc() if descending else source.c[name].asc() for name, descending in sort]
    with reading(register, f"reading {entity_name}") as connection:
        install_sqlite_functions(connection)
        rows = connection.execute(query.order_by(*order, source.c.ref.asc()).limit(limit).offset(offset)).all()
        total = None
        if count:
            total = connection.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    return [record_from_row(entity_name, r) for r in rows], total


def scoped_columns(register: Register, entity_name: str, fields: Sequence[str], scope: Scope) -> dict[str, list[Any]]:
    """The ``fields`` (and ``id``) of every live record in ``scope``, one list per field, in one query.

    For reads of many small rows (progress reports for task status): a column
    per field, no Record per row.
    """
    table = register.tables[entity(entity_name).name]
    names = ["id", *fields]
    query = sa.select(*(table.c[name] for name in names)).where(table.c.deleted.is_(False), scope.clause(table))
    with reading(register, f"reading {entity_name}") as connection:
        return dict(zip(names, driver_columns(connection, query), strict=True))


def scoped_record(register: Register, entity_name: str, key: str, scope: Scope, *,
                  as_of: dt.datetime | None = None) -> Record | None:
    """The live record in ``scope`` whose id or ref is ``key`` (now or at ``as_of``), or None."""
    source = register.table_as_of(entity_name, as_of)
    with reading(register, f"reading {entity_name}") as connection:
        row = connection.execute(sa.select(source).where(_key_matches(source, key), scope.clause(source))).first()
    if row is None or row._mapping["deleted"]:
        return None
    return record_from_row(entity_name, row)


def scoped_history(register: Register, entity_name: str, key: str, scope: Scope) -> list[Record]:
    """Every version in ``scope`` of the record whose id or ref is ``key``, oldest first."""
    versions = all_versions(register.tables, entity(entity_name).name)
    query = sa.select(versions).where(_key_matches(versions, key), scope.clause(versions)).order_by(versions.c.version)
    with reading(register, f"reading {entity_name} history") as connection:
        return [record_from_row(entity_name, r) for r in connection.execute(query).all()]


def scoped_counts(
    register: Register, entity_name: str, by: Sequence[str], scope: Scope, *,
    total: str | None = None, as_of: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Counts (``count``, and the sum of ``total`` under its name) of live records in ``scope``, grouped by ``by``."""
    source = register.table_as_of(entity_name, as_of)
    keys = [source.c[name] for name in by]
    measures = [sa.func.count().label("count")]
    if total:
        measures.append(sa.func.coalesce(sa.func.sum(source.c[total]), 0).label(total))
    query = (
        sa.select(*keys, *measures)
        .where(source.c.deleted.is_(False), scope.clause(source))
        .group_by(*keys)
        .order_by(*keys)
    )
    with reading(register, f"aggregating {entity_name}") as connection:
        return [dict(r._mapping) for r in connection.execute(query)]
