"""Writing to the register: one transaction, one changeset, every version kept.

Records are written here and only here (NetBox's lesson: no caller records
history by itself). A new record is one row of ``<entity>``; an edit writes
its next version over the live row, and the database's own trigger moves the
row it replaces into ``<entity>_history`` (:mod:`schema`). An edit names the
version it was based on and is refused if a newer one exists.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import shapely
import sqlalchemy as sa
import uuid6
from shapely.geometry.base import BaseGeometry

from mineaction.domain.admin_areas import AdminIndex
from mineaction.domain.entities import ENTITIES, Entity, Rows, clean_columns, clean_values, entity, row_count
from mineaction.domain.geometry import (
    WGS84,
    Repair,
    as_multipolygons,
    check_extent,
    geodesic_area,
    prepare_geometry,
    to_wgs84,
)
from mineaction.domain.ledger import ExistingPart, check_outline, check_release
from mineaction.domain.operations.residual_contamination import (
    DEFAULT_TOLERANCE_M,
    RESIDUAL_REVIEW,
    ReleasedLand,
    check_review_outcome,
    find_residual_contamination,
)
from mineaction.domain.operations.tasks import check_progress_report, check_task_transition, task_order
from mineaction.domain.programme import Programme
from mineaction.errors import InvalidGeometry, InvalidValue, RecordNotFound, StaleEdit, StorageError
from mineaction.storage.records import Record, RecordColumns, record_from_row
from mineaction.storage.schema import GEOMETRY_COLUMN

__all__ = ["Release", "Store", "Writer", "collector_paused"]


class Store(Protocol):
    """What a unit of work needs of the register it writes to (:class:`~mineaction.storage.register.Register`
    provides it): the unit of work knows this interface, not the register class, so neither imports the other."""

    @property
    def tables(self) -> Mapping[str, sa.Table]: ...

    @property
    def programme(self) -> Programme: ...

    def vocabularies(self) -> dict[str, set[str]]: ...

    def admin_index(self, connection: sa.Connection) -> AdminIndex: ...

    def encoded_columns(self, table_name: str, columns: dict[str, Any], n: int) -> dict[str, Sequence[Any]]: ...

    def insert_columns(
        self, connection: sa.Connection, table_name: str, columns: dict[str, Any], n: int, *,
        unindexed: dict[str, list[tuple[range, np.ndarray]]] | None = None,
        encoded: dict[str, Sequence[Any]] | None = None,
    ) -> None: ...

    def changed(self, entity_name: str) -> None: ...

    def next_refs(self, connection: sa.Connection, entity_name: str, count: int) -> int: ...

    def changeset_row(self, connection: sa.Connection, changeset_id: int) -> dict[str, Any]: ...

    def resolve_ids(self, connection: sa.Connection, entity_name: str, keys: set[str]) -> dict[str, str]: ...

    def parts_of(self, connection: sa.Connection, hazard_ids: Sequence[str]) -> list[Record]: ...

    def released_near(self, connection: sa.Connection, bounds: tuple[float, float, float, float]) -> list[Record]: ...

    def open_nonconformities(self, connection: sa.Connection, task_id: str) -> int: ...

#: the state a new record of these entities starts in (their ``state`` is derived: moved only by checked transitions)
_INITIAL_STATE = {"task": "draft", "non_conformity": "open", "residual_event": "flagged", "va_need": "identified"}
#: metres around a find within which released land counts as holding it (the domain's boundary rule)
_TOLERANCE_DEGREES = DEFAULT_TOLERANCE_M / 100_000  # a bounding-box margin wider than the tolerance everywhere

#: the domain's rule for one record's values, by entity
_ROW_RULES = {"task": task_order, "progress_report": check_progress_report}

_GEOMETRY_KINDS = {
    "POLYGON": ("Polygon",),
    "MULTIPOLYGON": ("Polygon", "MultiPolygon"),
    "POINT": ("Point",),
}


@dataclass(frozen=True)
class Release:
    """One released part as an activity reports it."""

    activity_id: str
    geometry: BaseGeometry
    release_type: str
    method: str
    released_on: dt.date | str


def utcnow() -> dt.datetime:
    """Naive UTC now at the register's resolution (milliseconds)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class _Lookups:
    """The register's vocabularies and admin areas, as checking a batch of rows needs them."""

    vocabularies: dict[str, set[str]]
    admin_index: AdminIndex | None


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a unit of work or another bulk job (an export).

    A bulk write or read makes and drops millions of dicts, tuples, lists
    and values, none in a cycle, so reference counting frees them all; the
    collector would still scan the whole heap again and again as they pass
    through (0.7 s of 5.5 s CPU when loading 100,000 hazards). It runs again
    afterwards, unless something else had paused it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Writer:
    """A unit of work on the register; obtained from :meth:`Register.write`."""

    def __init__(self, register: Store, connection: sa.Connection, changeset_id: int, user: str, at: dt.datetime):
        self.register = register
        self.connection = connection
        self.changeset_id = changeset_id
        self.user = user
        self.at = at
        self.repairs: list[tuple[str, Repair]] = []
        #: ids of the residual-contamination events this unit of work recorded by itself (a find written in
        #: released land), so a caller can account for every row of its changeset
        self.flagged_events: list[str] = []
        #: rows bulk-added on SQLite that join the R-tree at commit (fid ranges and their boxes, by table)
        self.unindexed: dict[str, list[tuple[range, np.ndarray]]] = {}
        #: reference counters this unit of work has taken numbers from, by entity
        self._counters: dict[str, _HeldCounter] = {}

    # -- public operations -------------------------------------------------

    def add(
        self,
        entity_name: str,
        values: dict[str, Any],
        geometry: BaseGeometry | None = None,
        *,
        crs: object = "EPSG:4326",
        repair: bool = False,
        ref: str | None = None,
    ) -> Record:
        """Add a new record (version 1)."""
        return self.add_many(entity_name, [values], [geometry], crs=crs, repair=repair, refs=[ref])[0]

    def add_many(
        self,
        entity_name: str,
        rows: Rows,
        geometries: Sequence[BaseGeometry | None] | np.ndarray | None = None,
        *,
        crs: object = "EPSG:4326",
        repair: bool = False,
        refs: Sequence[str | None] | None = None,
        where: Sequence[str] | None = None,
    ) -> RecordColumns:
        """Add many new records at once; values and geometries are checked a column at a time.

        ``rows`` holds a mapping per record, or a sequence per field (all of
        one length), as data read by columns comes. Every row is checked
        before anything is written; the first bad row raises with its
        position (or the label in ``where``) and the caller's transaction is
        rolled back whole. Released land goes through
        :meth:`release_many`, which enforces the ledger.
        """
        return self._add_many(_addable(entity_name), rows, geometries, crs=crs, repair=repair, refs=refs, where=where)

    def add_stream(
        self,
        entity_name: str,
        batches: Iterable[tuple[Rows, Sequence[BaseGeometry | None] | np.ndarray | None]],
        *,
        crs: object = "EPSG:4326",
    ) -> int:
        """Add records from a stream of ``(rows, geometries)`` batches; returns how many were added.

        For bulk loads. Each batch is checked as :meth:`add_many` checks it,
        and the next batch is read and checked while the current one is
        written: in one helper thread that never touches the connection, so
        GEOS, PROJ and NumPy (which release the GIL) and the file reader run
        on one core while the database works on the other. The helper also
        converts the batch to the driver's form, all but its links, which are
        resolved against the register as the batch is written. An error names
        the row by its position in the whole stream, as ``hazard[123456]``.
        """
        spec = _addable(entity_name)
        lookups = self._lookups(spec)
        links = {f.name for f in spec.fields if f.link}  # resolved against the register when written
        source = iter(batches)
        read = 0

        def check_next() -> tuple[dict[str, Any], dict[str, Sequence[Any]], int, list[str]] | None:
            nonlocal read
            batch = next(source, None)
            if batch is None:
                return None
            rows, geometries = batch
            n = row_count(rows)
            labels = [f"{spec.name}[{read + i}]" for i in range(n)]
            read += n
            columns = self._checked(spec, rows, geometries, lookups, crs=crs, repair=False, labels=labels)
            encoded = self.register.encoded_columns(spec.name, {k: v for k, v in columns.items() if k not in links}, n)
            return columns, encoded, n, labels

        added = 0
        known_links: dict[str, dict[str, str]] = {}  # links resolved by earlier batches
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mineaction-check") as helper:
            pending = helper.submit(check_next)
            while (checked := pending.result()) is not None:
                pending = helper.submit(check_next)
                columns, encoded, n, labels = checked
                self._inserted(spec, columns, n, labels, refs=None, encoded=encoded, known_links=known_links)
                added += n
        return added

    def _add_many(
        self,
        spec: Entity,
        rows: Rows,
        geometries: Sequence[BaseGeometry | None] | np.ndarray | None,
        *,
        crs: object,
        repair: bool = False,
        refs: Sequence[str | None] | None = None,
        where: Sequence[str] | None = None,
    ) -> RecordColumns:
        n = row_count(rows)
        labels = list(where) if where is not None else [f"{spec.name}[{i}]" for i in range(n)]
        columns = self._checked(spec, rows, geometries, self._lookups(spec), crs=crs, repair=repair, labels=labels)
        return self._inserted(spec, columns, n, labels, refs)

    def _lookups(self, spec: Entity) -> _Lookups:
        """What checking rows reads from the register, read before the rows are checked."""
        needs_admin = spec.geometry is not None and "admin_pcode" in spec.field_map
        return _Lookups(self.register.vocabularies(), self.register.admin_index(self.connection) if needs_admin else None)

    def _checked(
        self,
        spec: Entity,
        rows: Rows,
        geometries: Sequence[BaseGeometry | None] | np.ndarray | None,
        lookups: _Lookups,
        *,
        crs: object,
        repair: bool,
        labels: Sequence[str],
    ) -> dict[str, Any]:
        """Rows checked and completed, a column at a time, without touching the connection."""
        columns: dict[str, Any] = clean_columns(spec, rows, lookups.vocabularies, where=labels)
        if spec.name in _INITIAL_STATE:
            columns["state"] = [_INITIAL_STATE[spec.name]] * len(labels)
        if spec.name in _ROW_RULES:  # checked however the record comes (API, review queue, import)
            for i, label in enumerate(labels):
                _ROW_RULES[spec.name]({name: column[i] for name, column in columns.items()}, label)
        if spec.geometry:
            geoms = self._prepare_geometries(spec, geometries, len(labels), crs, repair, labels)
            columns.update(self._derive(spec, geoms, lookups.admin_index))
            columns[GEOMETRY_COLUMN] = geoms
        elif geometries is not None and any(g is not None for g in geometries):
            raise InvalidGeometry(f"{spec.name} records have no geometry")
        return columns

    def _inserted(
        self, spec: Entity, columns: dict[str, Any], n: int, labels: Sequence[str], refs: Sequence[str | None] | None,
        encoded: dict[str, Sequence[Any]] | None = None, known_links: dict[str, dict[str, str]] | None = None,
    ) -> RecordColumns:
        """Checked rows linked, numbered and written as their version 1."""
        self._check_links(spec, columns, labels, known_links)
        if spec.name == "non_conformity":  # a finding counts against the task its QM activity inspected
            inspected = self._current_many("qm_activity", set(columns["qm_activity_id"]))
            columns["task_id"] = [inspected[key]["task_id"] for key in columns["qm_activity_id"]]
        columns.update(
            id=new_ids(n),
            ref=self._allocate_refs(spec, refs, n),
            **self._system(version=1, deleted=False),
        )
        self.register.insert_columns(self.connection, spec.name, columns, n, unindexed=self.unindexed, encoded=encoded)
        self.register.changed(spec.name)
        if spec.name == "eo_find":
            self._flag_residual(columns["id"], columns[GEOMETRY_COLUMN], columns.get("organisation_id"),
                                columns.get("admin_pcode"))
        return RecordColumns(spec.name, columns, n)

    def update(
        self,
        entity_name: str,
        record_id: str,
        *,
        base_version: int,
        values: dict[str, Any] | None = None,
        geometry: BaseGeometry | None = None,
        crs: object = "EPSG:4326",
        repair: bool = False,
    ) -> Record:
        """Write a new version of a record, based on ``base_version``."""
        spec = entity(entity_name)
        current = self._current_for_edit(spec, record_id, base_version)
        columns = clean_columns(spec, [values or {}], self.register.vocabularies(), where=[current.ref], partial=True)
        self._check_links(spec, columns, [current.ref])
        changes = {name: column[0] for name, column in columns.items()}
        merged = {**current.values, **changes}
        if spec.name in _ROW_RULES:
            _ROW_RULES[spec.name](merged, current.ref)
        new_geometry = current.geometry
        if geometry is not None:
            new_geometry = self._prepare_geometries(spec, [geometry], 1, crs, repair, [current.ref])[0]
            if spec.name == "hazard":
                check_outline(
                    hazard_ref=current.ref,
                    outline=new_geometry,
                    parts=[ExistingPart(p.ref, p.outline) for p in self.register.parts_of(self.connection, [current.id])],
                    tolerance_m2=self.register.programme.overlap_tolerance_m2,
                )
        if spec.geometry:
            derived = self._derive(spec, np.asarray([new_geometry], dtype=object), self._lookups(spec).admin_index)
            merged.update({k: v[0] for k, v in derived.items()})
        written = self._write_version(spec, current, merged, new_geometry, deleted=False)
        if spec.name == "eo_find" and geometry is not None:
            self._flag_residual([current.id], [new_geometry], [merged.get("organisation_id")], [merged.get("admin_pcode")])
        return written

    def move_task(self, task_id: str, target: str, party: str, *, base_version: int) -> Record:
        """A task's next state, checked by the domain's life cycle, as the task's next version.

        Who and when are the changeset's, why its reason: every change of state
        is a version of the task, so its history is the task's own history.
        The first move to in progress sets ``started_on``; a suspension records
        which party imposed it, so only that party's rule lifts it.
        """
        spec = ENTITIES["task"]
        current = self._current_for_edit(spec, task_id, base_version)
        reason = self.register.changeset_row(self.connection, self.changeset_id)["reason"]
        check_task_transition(
            current["state"], target, party, reason=reason, suspended_by=current["suspended_by"],
            open_nonconformities=self.register.open_nonconformities(self.connection, current.id),
        )
        values = {**current.values, "state": target, "state_party": party}
        if target == "in_progress" and current["started_on"] is None:
            values["started_on"] = self.at.date()
        values["suspended_by"] = party if target == "suspended" else None
        return self._write_version(spec, current, values, current.geometry, deleted=False)

    def delete(self, entity_name: str, record_id: str, *, base_version: int) -> Record:
        """Soft-delete: a new version marked deleted; the reason is the changeset's."""
        spec = entity(entity_name)
        current = self._current_for_edit(spec, record_id, base_version)
        return self._write_version(spec, current, dict(current.values), current.geometry, deleted=True)

    def release(
        self,
        *,
        activity_id: str,
        geometry: BaseGeometry,
        release_type: str,
        method: str,
        released_on: dt.date | str,
        crs: object = "EPSG:4326",
        repair: bool = False,
    ) -> Record:
        """Record land released by an activity, enforcing the ledger rules."""
        return self.release_many(
            [Release(activity_id, geometry, release_type, method, released_on)], crs=crs, repair=repair
        )[0]

    def release_many(self, releases: Sequence[Release], *, crs: object = "EPSG:4326", repair: bool = False) -> Sequence[Record]:
        """Record many released parts; each is checked against its hazard, earlier parts
        and the parts before it in the same batch."""
        if not releases:
            return []
        activities = self._current_many("activity", {r.activity_id for r in releases})
        hazards = self._current_many("hazard", {a["hazard_id"] for a in activities.values()}, lock=True)
        existing: dict[str, list[ExistingPart]] = {hazard_id: [] for hazard_id in hazards}
        for part in self.register.parts_of(self.connection, list(hazards)):
            existing[part["hazard_id"]].append(ExistingPart(part.ref, part.outline))
        spec = ENTITIES["released_part"]
        labels = [f"release {i} by {activities[r.activity_id].ref}" for i, r in enumerate(releases)]
        parts = self._prepare_geometries(spec, [r.geometry for r in releases], len(releases), crs, repair, labels)
        rows, fitted_parts = [], []
        for release, part, label in zip(releases, parts, labels):
            activity = activities[release.activity_id]
            hazard = hazards[activity["hazard_id"]]
            fitted, _trim = check_release(
                hazard_ref=hazard.ref,
                hazard=hazard.outline,
                activity_ref=activity.ref,
                activity_type=activity["activity_type"],
                release_type=release.release_type,
                part=part,
                existing=existing[hazard.id],
                tolerance_m2=self.register.programme.overlap_tolerance_m2,
            )
            existing[hazard.id].append(ExistingPart(label, fitted))
            fitted_parts.append(fitted)
            rows.append({
                "hazard_id": hazard.id,
                "activity_id": activity.id,
                "release_type": release.release_type,
                "method": release.method,
                "released_on": release.released_on,
                "task_id": activity["task_id"],  # land released by an activity is its task's work
                "organisation_id": activity["organisation_id"],
            })
        return self._add_many(spec, rows, fitted_parts, crs=WGS84, where=labels)

    def move_review(
        self, event_id: str, target: str, party: str, *, base_version: int, cause: str | None = None,
        new_hazard_id: str | None = None,
    ) -> Record:
        """A residual-contamination event's review to its next state (the domain's review), as its next version.

        Reopening names the cause and the new hazard that now holds the area
        (the released part is never edited); the reason is the changeset's.
        """
        spec = ENTITIES["residual_event"]
        current = self._current_for_edit(spec, event_id, base_version)
        reason = self.register.changeset_row(self.connection, self.changeset_id)["reason"]
        RESIDUAL_REVIEW.check(current["state"], target, party, reason=reason)
        values = {**current.values, "state": target}
        given = clean_values(spec, {k: v for k, v in (("cause", cause), ("new_hazard_id", new_hazard_id)) if v},
                             self.register.vocabularies(), partial=True, where=current.ref)
        columns = {name: [value] for name, value in given.items()}
        self._check_links(spec, columns, [current.ref])
        values.update({name: column[0] for name, column in columns.items()})
        check_review_outcome(target, values["cause"], values["new_hazard_id"])
        return self._write_version(spec, current, values, None, deleted=False)

    # -- internals ---------------------------------------------------------

    def _flag_residual(
        self, find_ids: Sequence[str], geometries: Sequence[BaseGeometry | None] | np.ndarray,
        owners: Sequence[Any] | None, admin_codes: Sequence[Any] | None,
    ) -> None:
        """Record a residual-contamination event for each find written in (or within the tolerance of)
        land already released, naming the released part and its task (the domain's boundary rule)."""
        geoms = np.asarray(geometries, dtype=object)
        located = ~shapely.is_missing(geoms)
        if not located.any():
            return
        minx, miny, maxx, maxy = shapely.total_bounds(geoms[located])
        margin = _TOLERANCE_DEGREES / max(np.cos(np.radians(max(abs(miny), abs(maxy)))), 0.01)
        parts = self.register.released_near(self.connection, (minx - margin, miny - margin, maxx + margin,
                                                              maxy + margin))
        land = [ReleasedLand(p.id, "released_part", p["task_id"], p.geometry) for p in parts if p.geometry is not None]
        index = np.flatnonzero(located)
        hits = find_residual_contamination(geoms[index], land)  # no land: no hits
        if hits:  # one event per find and piece of land: a find moved within the same part is not flagged again
            events = self.register.tables["residual_event"]
            flagged = {tuple(row) for row in self.connection.execute(
                sa.select(events.c.eo_find_id, events.c.released_part_id).where(
                    events.c.eo_find_id.in_(sorted({find_ids[index[h.find]] for h in hits})),
                    events.c.deleted.is_(False)))}
            hits = [h for h in hits if (find_ids[index[h.find]], h.land_ref) not in flagged]
        if not hits:
            return
        today = self.at.date()
        rows = [{
            "eo_find_id": find_ids[index[h.find]],
            "released_part_id": h.land_ref,
            "tolerance_m": DEFAULT_TOLERANCE_M,
            "flagged_on": today,
            "organisation_id": owners[index[h.find]] if owners is not None else None,
        } for h in hits]
        spec = ENTITIES["residual_event"]
        labels = [f"residual_event[{i}]" for i in range(len(rows))]
        columns = self._checked(spec, rows, None, self._lookups(spec), crs=WGS84, repair=False, labels=labels)
        columns.update(
            task_id=[h.task_ref for h in hits],
            distance_m=[h.distance_m for h in hits],
            inside=[h.inside for h in hits],
            admin_pcode=[admin_codes[index[h.find]] if admin_codes is not None else None for h in hits],
        )
        self.flagged_events.extend(record.id for record in self._inserted(spec, columns, len(rows), labels, None))

    def _system(self, *, version: int, deleted: bool) -> dict[str, Any]:
        return {
            "version": version,
            "changeset_id": self.changeset_id,
            "recorded_at": self.at,
            "recorded_by": self.user,
            "deleted": deleted,
        }

    def _current_many(self, entity_name: str, keys: set[str], *, lock: bool = False) -> dict[str, Record]:
        """Live records by id or ref, keyed by both; refuses any key not found."""
        table = self.register.tables[entity_name]
        out: dict[str, Record] = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            query = sa.select(table).where(
                sa.or_(table.c.id.in_(chunk), table.c.ref.in_(chunk)), table.c.deleted.is_(False)
            ).order_by(table.c.id)
            if lock and self.connection.dialect.name == "postgresql":
                query = query.with_for_update()
            for row in self.connection.execute(query):
                record = record_from_row(entity_name, row)
                out[record.id] = out[record.ref] = record
        missing = [k for k in ordered if k not in out]
        if missing:
            raise RecordNotFound(f"no {entity_name} {missing[0]!r} in the register")
        return out

    def _current_for_edit(self, spec: Entity, record_id: str, base_version: int) -> Record:
        table = self.register.tables[spec.name]
        query = sa.select(table).where(sa.or_(table.c.id == record_id, table.c.ref == record_id))
        if self.connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if row is None:
            raise RecordNotFound(f"no {spec.name} {record_id!r} in the register")
        current = record_from_row(spec.name, row)
        if current.version != base_version:
            changeset = self.register.changeset_row(self.connection, current.changeset_id)
            raise StaleEdit(
                f"{spec.name} {current.ref} is at version {current.version}, changed by "
                f"{changeset['user_name']} at {changeset['recorded_at']:%Y-%m-%d %H:%M:%S} UTC "
                f"(\"{changeset['reason']}\"); your edit was based on version {base_version}"
            )
        if current.deleted:
            raise RecordNotFound(f"{spec.name} {current.ref} was deleted in version {current.version}")
        return current

    def _write_version(
        self, spec: Entity, current: Record, values: dict[str, Any], geometry: BaseGeometry | None, *, deleted: bool
    ) -> Record:
        row = {
            "id": current.id,
            "ref": current.ref,
            **self._system(version=current.version + 1, deleted=deleted),
            **values,
            **({GEOMETRY_COLUMN: geometry} if spec.geometry else {}),
        }
        table = self.register.tables[spec.name]
        updated = self.connection.execute(
            table.update()
            .where(table.c.id == current.id, table.c.version == current.version)
            .values({k: v for k, v in row.items() if k != "id"})
        )
        if updated.rowcount != 1:  # a concurrent writer got there first
            raise StaleEdit(f"{spec.name} {current.ref} changed while you were editing it")
        self.register.changed(spec.name)
        return RecordColumns(spec.name, {k: [v] for k, v in row.items()}, 1)[0]

    def _check_links(
        self, spec: Entity, columns: dict[str, list[Any]], labels: Sequence[str],
        known: dict[str, dict[str, str]] | None = None,
    ) -> None:
        """Resolve links given as id or ref to ids, refusing any that is not a live record.

        ``known`` holds what earlier batches of the same stream resolved, so a
        stream whose rows all name one organisation asks for it once.
        """
        known = {} if known is None else known
        for f in spec.fields:
            if not f.link or f.name not in columns:
                continue
            values = columns[f.name]
            found = known.setdefault(f.link, {})
            wanted = {v for v in values if v} - found.keys()
            if wanted:
                found.update(self.register.resolve_ids(self.connection, f.link, wanted))
            for value, label in zip(values, labels):
                if value and value not in found:
                    raise InvalidValue(f"{label}.{f.name}: no {f.link} {value!r} in the register")
            columns[f.name] = [found[v] if v else None for v in values]

    def _prepare_geometries(
        self,
        spec: Entity,
        geometries: Sequence[BaseGeometry | None] | np.ndarray | None,
        n: int,
        crs: object,
        repair: bool,
        labels: Sequence[str],
    ) -> np.ndarray:
        if not spec.geometry:
            raise InvalidGeometry(f"{spec.name} records have no geometry")
        if geometries is None or len(geometries) != n:
            raise InvalidGeometry(f"{spec.name}: expected {n} geometries")
        kinds = _GEOMETRY_KINDS[spec.geometry]
        extent = self.register.programme.extent
        array = np.array(geometries, dtype=object)  # a copy: as_multipolygons works in place
        reprojected = not shapely.is_missing(array).any()
        if reprojected:
            array = to_wgs84(array, crs)
        if not repair and _all_valid_fast(array, kinds):
            prepared = array
            if extent is not None:
                minx, miny, maxx, maxy = shapely.bounds(array).T
                outside = (minx < extent.west) | (maxx > extent.east) | (miny < extent.south) | (maxy > extent.north)
                for i in np.flatnonzero(outside)[:1]:
                    check_extent(array[i], extent, where=labels[i])
        else:
            prepared = np.empty(n, dtype=object)
            for i, (geometry, label) in enumerate(zip(array, labels)):
                prepared[i], repaired = prepare_geometry(
                    geometry, crs=WGS84 if reprojected else crs, extent=extent, kinds=kinds, repair=repair, where=label
                )
                if repaired:
                    self.repairs.append((label, repaired))
        if spec.geometry == "MULTIPOLYGON":
            prepared = as_multipolygons(prepared)
        return prepared

    @staticmethod
    def _derive(spec: Entity, geoms: np.ndarray, admin_index: AdminIndex | None) -> dict[str, list[Any]]:
        """Values the register computes from geometry: geodesic area, admin area."""
        derived: dict[str, list[Any]] = {}
        if "area_m2" in spec.field_map:
            derived["area_m2"] = geodesic_area(geoms).tolist()
        if admin_index is not None:
            derived["admin_pcode"] = admin_index.assign(geoms)
        return derived

    def _allocate_refs(self, spec: Entity, refs: Sequence[str | None] | None, n: int) -> list[str]:
        wanted = list(refs) if refs is not None else [None] * n
        missing = sum(1 for r in wanted if not r)
        first = self._take_numbers(spec.name, missing) if missing else 0
        out, k = [], 0
        for r in wanted:
            if r:
                out.append(str(r))
            else:
                out.append(f"{spec.prefix}-{first + k:06d}")
                k += 1
        return out

    def _take_numbers(self, entity_name: str, count: int) -> int:
        """The first of ``count`` reference numbers, asking the register only the first time.

        Taking numbers holds the entity's counter until commit (a row lock on
        PostgreSQL, the write lock on SQLite), so once this unit of work has
        taken some, nobody else can: later batches count on from there, and
        :meth:`settle_numbers` writes the counter once before the commit.
        """
        held = self._counters.get(entity_name)
        if held is None:
            first = self.register.next_refs(self.connection, entity_name, count)
            self._counters[entity_name] = _HeldCounter(next=first + count)
            return first
        first = held.next
        held.next += count
        held.unwritten += count
        return first

    def settle_numbers(self) -> None:
        """Write the counters of the reference numbers taken since they were last written."""
        for entity_name, held in self._counters.items():
            if held.unwritten:
                first = self.register.next_refs(self.connection, entity_name, held.unwritten)
                if first != held.next - held.unwritten:  # the counter is held: a defect, never a race
                    raise StorageError(f"the {entity_name} reference counter moved while this change held it")
                held.unwritten = 0


@dataclass
class _HeldCounter:
    next: int  # the next reference number to give
    unwritten: int = 0  # numbers given since the counter was last written


def _addable(entity_name: str) -> Entity:
    """The entity, unless its records may not be added directly."""
    spec = entity(entity_name)
    if spec.name == "released_part":
        raise InvalidValue(
            "released land cannot be added directly",
            hint="use Writer.release() or release_many(), which check the land-release ledger",
        )
    return spec


def new_ids(n: int) -> list[str]:
    """Record ids for a batch: time-ordered UUIDv7 (RFC 9562), consecutive within the batch.

    Consecutive ids are RFC 9562's method 2 ("monotonic random": the random
    part counts up), so a batch appends to the id indexes instead of landing
    all over them. The low 32 bits are cleared for the count; the 48-bit
    millisecond time and 42 random bits remain.
    """
    base = uuid6.uuid7().int & ~0xFFFF_FFFF
    return [f"{base + i:032x}" for i in range(n)]


def _all_valid_fast(geometries: np.ndarray, kinds: tuple[str, ...]) -> bool:
    """True when a vectorised check shows nothing needs the slow, explaining path.

    The cheap checks go first. GEOS validity, the costly one, also refuses NaN
    and infinite coordinates ("Invalid Coordinate"), so finiteness needs no
    copy of the coordinates; None has type id -1, never an allowed kind.
    """
    allowed = [shapely.GeometryType[k.upper()] for k in kinds]
    return bool(
        len(geometries) > 0
        and np.isin(shapely.get_type_id(geometries), allowed).all()
        and not shapely.is_empty(geometries).any()
        and not shapely.has_z(geometries).any()
        and shapely.is_valid(geometries).all()
    )
