"""What must hold of a register after any fault: the checks the fault tests share.

Each check raises ``AssertionError`` naming what is wrong. They read the
database directly rather than through :class:`Register` methods, so a fault
the register's own reads would paper over still shows.

* :func:`check_storage`: SQLite's ``PRAGMA integrity_check`` and foreign keys,
  every GeoPackage R-tree equal to its table; on PostgreSQL ``amcheck`` over
  the B-tree indexes and every GiST index finding every geometry.
* :func:`check_history`: each current row is the latest history version of
  its record, versions run 1..n with no gap, and no changeset is empty (a
  changeset without rows would be a transaction split in two).
* :func:`check_ledger`: released parts of one hazard do not overlap beyond
  the tolerance and lie inside it; stored areas are the geometries' geodesic
  areas; :func:`hazard_balance` is the sum of the parts.
* :func:`check_acknowledged`: every commit a writer acknowledged is there,
  exactly as announced, and the one it was committing when killed is there
  whole or not at all.
* :func:`snapshot`: every row of every table, to compare a state before and
  after a failed write (or a backup with its source).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from mineaction.domain.entities import ENTITIES
from mineaction.domain.geometry import geodesic_area
from mineaction.storage import gpkg
from mineaction.storage.register import Register
from mineaction.storage.schema import GEOMETRY_COLUMN, all_versions, history_name
from mineaction.storage.statistics import hazard_balance

__all__ = [
    "KILL_POINTS",
    "WriterLog",
    "check_acknowledged",
    "check_all",
    "check_history",
    "check_ledger",
    "check_storage",
    "snapshot",
    "version_rows",
]

#: R-tree coordinates are 32-bit floats rounded outwards; this is far above that error
_RTREE_SLACK = 1e-4


_SPATIAL = [name for name, spec in ENTITIES.items() if spec.geometry]


def _geometry_bytes(register: Register, column: sa.ColumnElement) -> sa.ColumnElement:
    """The column as comparable bytes: GeoPackage blobs are bytes already."""
    return sa.func.ST_AsEWKB(column) if register.dialect == "postgresql" else column


# -- storage ---------------------------------------------------------------


def check_storage(register: Register) -> None:
    """The database's own integrity checks and the spatial indexes."""
    with register.engine.connect() as connection:
        if register.dialect == "sqlite":
            _check_sqlite(register, connection)
        else:
            _check_postgres(register, connection)


def _check_sqlite(register: Register, connection: sa.Connection) -> None:
    result = [r[0] for r in connection.exec_driver_sql("PRAGMA integrity_check").all()]
    assert result == ["ok"], f"integrity_check: {result[:5]}"
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    assert not broken, f"foreign keys broken: {broken[:5]}"
    for name in _SPATIAL:
        rtree = gpkg.rtree_name(name, GEOMETRY_COLUMN)
        verdict = connection.exec_driver_sql(f"SELECT rtreecheck('{rtree}')").scalar()
        assert verdict == "ok", f"{rtree}: {verdict}"
        index = {
            row[0]: row[1:]
            for row in connection.exec_driver_sql(f'SELECT id, minx, maxx, miny, maxy FROM "{rtree}"')
        }
        expected = {
            fid: gpkg.envelope(blob)
            for fid, blob in connection.exec_driver_sql(f'SELECT fid, "{GEOMETRY_COLUMN}" FROM "{name}"')
        }
        expected = {fid: env for fid, env in expected.items() if env is not None}
        missing, extra = expected.keys() - index.keys(), index.keys() - expected.keys()
        assert not missing and not extra, f"{rtree}: missing fids {sorted(missing)[:5]}, extra {sorted(extra)[:5]}"
        for fid, (minx, maxx, miny, maxy) in expected.items():
            # the R-tree stores float32 rounded outwards: it must contain the envelope, closely
            iminx, imaxx, iminy, imaxy = index[fid]
            assert iminx <= minx and imaxx >= maxx and iminy <= miny and imaxy >= maxy, (rtree, fid)
            assert max(minx - iminx, imaxx - maxx, miny - iminy, imaxy - maxy) < _RTREE_SLACK, (rtree, fid)


def _check_postgres(register: Register, connection: sa.Connection) -> None:
    connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
    indexes = connection.exec_driver_sql(
        """SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
           JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE a.amname = 'btree' AND n.nspname = 'public'"""
    ).scalars().all()
    for oid in indexes:  # raises on a corrupt index
        connection.exec_driver_sql("SELECT bt_index_check(%(oid)s, true)", {"oid": oid})
    rows = {name: set(connection.execute(sa.select(register.tables[name].c.fid).where(
        register.tables[name].c[GEOMETRY_COLUMN].is_not(None))).scalars()) for name in _SPATIAL}
    connection.commit()
    everything = sa.func.ST_MakeEnvelope(-180, -90, 180, 90, 4326)
    with connection.begin():
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # the bounding-box search must use GiST
        for name in _SPATIAL:
            table = register.tables[name]
            hits = connection.execute(sa.select(table.c.fid).where(table.c[GEOMETRY_COLUMN].op("&&")(everything)))
            missing = rows[name] - set(hits.scalars())
            assert not missing, f"GiST index of {name} misses fids {sorted(missing)[:5]}"


# -- history -------------------------------------------------------------------


def check_history(register: Register) -> None:
    """Each record's versions are 1..n: the live one (n) in the current table, 1..n-1 in history,
    none recorded before the one it replaced; every version names a changeset."""
    with register.engine.connect() as connection:
        used: set[int] = set()
        for name in ENTITIES:
            current, history = register.tables[name], register.tables[history_name(name)]
            older = {row[0]: row[1:] for row in connection.execute(
                sa.select(history.c.id, sa.func.count(), sa.func.min(history.c.version),
                          sa.func.max(history.c.version), sa.func.max(history.c.recorded_at))
                .group_by(history.c.id)
            )}
            gaps = [(i, row) for i, row in older.items() if row[1] != 1 or row[2] != row[0]]
            assert not gaps, f"{name}: history versions not 1..n for {gaps[:3]}"
            live = {i: (version, at) for i, version, at in connection.execute(
                sa.select(current.c.id, current.c.version, current.c.recorded_at))}
            orphans = sorted(older.keys() - live.keys())
            assert not orphans, f"{name}: history holds versions of records that are not in the table: {orphans[:3]}"
            skipped = [i for i, (version, _) in live.items() if version != (older[i][2] if i in older else 0) + 1]
            assert not skipped, f"{name}: live versions do not follow their history for {skipped[:3]}"
            backwards = [i for i, (_, at) in live.items() if i in older and older[i][3] > at]
            assert not backwards, f"{name}: live versions recorded before the versions they replaced: {backwards[:3]}"
            for table in (current, history):
                used.update(connection.execute(sa.select(table.c.changeset_id).distinct()).scalars())
        changesets = set(connection.execute(sa.select(register.tables["changeset"].c.id)).scalars())
        assert used <= changesets, f"history rows name missing changesets {sorted(used - changesets)[:5]}"
        empty = changesets - used
        assert not empty, f"changesets without any version (a split transaction?): {sorted(empty)[:5]}"


# -- ledger --------------------------------------------------------------------


def check_ledger(register: Register) -> None:
    """Parts of a hazard are disjoint and inside it (within tolerance); the balance adds up."""
    tolerance = register.programme.overlap_tolerance_m2
    hazards = {h.id: h for h in register.records("hazard")}
    parts = register.records("released_part")
    for record in [*hazards.values(), *parts]:
        assert record["area_m2"] == pytest.approx(float(geodesic_area(record.geometry)), rel=1e-9), record.ref
    by_hazard: dict[str, list[Any]] = defaultdict(list)
    for part in parts:
        by_hazard[part["hazard_id"]].append(part)
    released = 0.0
    for hazard_id, group in by_hazard.items():
        hazard = hazards.get(hazard_id)
        if hazard is None:  # parts of a deleted hazard leave the balance
            continue
        geometries = np.asarray([p.geometry for p in group], dtype=object)
        outside = shapely.difference(geometries, hazard.geometry)
        assert (geodesic_area(outside) <= tolerance).all(), f"a part of {hazard.ref} lies outside it"
        tree = shapely.STRtree(geometries)
        left, right = tree.query(geometries, predicate="intersects")
        pairs = left < right
        if pairs.any():
            overlaps = shapely.intersection(geometries[left[pairs]], geometries[right[pairs]])
            assert (geodesic_area(overlaps) <= tolerance).all(), f"parts of {hazard.ref} overlap"
        released += sum(p["area_m2"] for p in group)
    balance = hazard_balance(register)
    assert balance.hazards == len(hazards)
    assert balance.hazard_area_m2 == pytest.approx(sum(h["area_m2"] for h in hazards.values()), rel=1e-9)
    assert balance.released_m2 == pytest.approx(released, rel=1e-9, abs=1e-6)
    assert balance.remaining_m2 == pytest.approx(balance.hazard_area_m2 - released, rel=1e-9, abs=1e-6)


# -- acknowledgements ------------------------------------------------------------


#: where a writer was when killed, from the last complete line of its log
KILL_POINTS = {None: "opening", "open": "between writes", "ack": "between writes",
               "refused": "between writes", "begin": "in a transaction", "pending": "committing"}


@dataclass
class WriterLog:
    """What writers announced (``pending``) and acknowledged (``ack``), read from their logs.

    A writer logs ``pending`` with the rows of a changeset just before it
    commits and ``ack`` once the commit has returned. A line cut short by the
    kill is ignored: it was being written, so what it reports had not happened.
    """

    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    acked: set[int] = field(default_factory=set)
    refused: int = 0
    kill_points: Counter[str] = field(default_factory=Counter)

    def add(self, path: Path) -> None:
        """Add the log of one killed writer."""
        last = None
        for line in path.read_text().splitlines(keepends=True):
            if not line.endswith("\n"):
                break
            entry = json.loads(line)
            last = entry["t"]
            if last == "pending":
                self.pending[entry["cs"]] = entry
            elif last == "ack":
                self.acked.add(entry["cs"])
            elif last == "refused":
                self.refused += 1
        self.kill_points[KILL_POINTS[last]] += 1


def check_acknowledged(register: Register, log: WriterLog) -> None:
    """Every acknowledged changeset is present exactly; unacknowledged ones whole or absent."""
    with register.engine.connect() as connection:
        found: dict[int, set[tuple[str, str, int]]] = defaultdict(set)
        for name in ENTITIES:
            versions = all_versions(register.tables, name)
            for cs, record_id, version in connection.execute(
                sa.select(versions.c.changeset_id, versions.c.id, versions.c.version)
            ):
                found[cs].add((name, record_id, version))
        changeset = register.tables["changeset"]
        reasons = dict(connection.execute(sa.select(changeset.c.id, changeset.c.reason)).all())
    for cs, entry in log.pending.items():
        stored = reasons.get(cs)
        if cs in log.acked:
            assert stored == entry["reason"], f"acknowledged changeset {cs} ({entry['reason']}) lost"
        if stored == entry["reason"]:
            announced = {(e, i, v) for e, i, v in entry["rows"]}
            assert found[cs] == announced, f"changeset {cs} half-written: {len(found[cs])} of {len(announced)} rows"
        elif stored is None:
            assert not found.get(cs), f"changeset {cs} absent but {len(found[cs])} of its rows are stored"


def check_all(register: Register, log: WriterLog | None = None) -> None:
    check_storage(register)
    check_history(register)
    check_ledger(register)
    if log is not None:
        check_acknowledged(register, log)


# -- snapshots -------------------------------------------------------------------


def version_rows(register: Register, entity_name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and every version of every record of an entity (live or superseded), by id and version."""
    versions = all_versions(register.tables, entity_name)
    columns = [_geometry_bytes(register, c).label(c.name) if c.name == GEOMETRY_COLUMN else c for c in versions.c]
    with register.engine.connect() as connection:
        rows = connection.execute(sa.select(*columns).order_by(versions.c.id, versions.c.version))
        return [c.name for c in versions.c], [tuple(r) for r in rows]


def snapshot(register: Register) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every register table, ordered, geometries as bytes."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with register.engine.connect() as connection:
        for name, table in register.tables.items():
            columns = [
                _geometry_bytes(register, c).label(c.name) if c.name == GEOMETRY_COLUMN else c
                for c in table.columns
            ]
            keys = list(table.primary_key.columns) or list(table.columns)
            out[name] = [tuple(r) for r in connection.execute(sa.select(*columns).order_by(*keys))]
    return out
