"""The review queue: field reports are submitted, then approved or rejected.

Imports write here, never to the register itself. Approval applies reports
through the :class:`~mineaction.storage.unit_of_work.Writer` in one register
transaction, in entity declaration order (organisations before hazards before
activities before released parts ...), so a report may depend on a record
that another report of the same import creates. A report based on an outdated
version, or a release that now collides with land released since, is flagged
``conflict`` with the register's own explanation (:class:`StaleEdit`,
:class:`LedgerViolation`) and never overwrites newer data.

Each report belongs to an organisation (``organisation_id``: the one it was
submitted for), which scopes who lists it (:func:`page`). Who may apply it is
not decided here: :func:`approve` asks a :class:`Permit` (the access layer's
answer) inside its transaction, about each record as it is then.
"""

from __future__ import annotations

import contextlib
import json
import operator
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby, repeat
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol, cast

import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.compiler import SQLCompiler

from mineaction.domain.entities import ENTITIES, entity
from mineaction.errors import ConflictError, InvalidValue, RecordNotFound, StaleEdit
from mineaction.storage.driver_rows import driver_cursor
from mineaction.storage.errors import driver_errors, translate_errors
from mineaction.storage.records import Record, RecordColumns, record_from_row
from mineaction.storage.register import Register
from mineaction.storage.unit_of_work import Writer, collector_paused, utcnow

__all__ = [
    "ACTIONS",
    "FieldReport",
    "ImportSource",
    "Permit",
    "QueueResult",
    "ReviewOutcome",
    "Submission",
    "approve",
    "page",
    "reject",
    "reports",
    "submit",
]

ACTIONS = ("add", "update", "delete", "release")
#: the field naming the organisation a record belongs to
_OWNER = "organisation_id"
_ENTITY_ORDER = {name: i for i, name in enumerate(ENTITIES)}


class _RollBack(Exception):
    """Raised inside a queue transaction to undo it without an error."""


class Submission(NamedTuple):
    """One field report, mapped and checked, ready to enter the queue.

    A named tuple, not a dataclass: an import makes a million of them, and
    a frozen dataclass costs five times as much to create.
    """

    entity: str
    action: str
    values: dict[str, Any] | str  # JSON-ready (dates as ISO text), or such a dict's JSON text
    geometry_wkb: bytes | None  # lon/lat WGS 84, 2-D
    content_hash: str
    source_feature: str
    target_id: str | None = None
    base_version: int | None = None
    depends_on: Mapping[str, str] = MappingProxyType({})  # link field -> parent's content_hash
    attachments: tuple[dict[str, Any], ...] = ()
    # the organisation the report is for; None: its values' organisation_id, else its parent report's
    organisation_id: str | None = None


@dataclass(frozen=True)
class ImportSource:
    """Where an import came from, recorded with it."""

    name: str
    sha256: str
    format: str
    mapping: str


@dataclass(frozen=True)
class QueueResult:
    import_id: str
    submitted: int
    skipped: int  # already in the queue (same content hash)


@dataclass(frozen=True)
class FieldReport:
    """A field report as stored in the queue."""

    id: str
    ref: str
    import_id: str
    entity: str
    action: str
    values: dict[str, Any]
    geometry: BaseGeometry | None
    status: str
    source_feature: str
    submitted_at: Any
    submitted_by: str
    target_id: str | None = None
    base_version: int | None = None
    depends_on: dict[str, str] = field(default_factory=dict)
    attachments: tuple[dict[str, Any], ...] = ()  # files, and a form submission's metadata (kind "submission")
    reviewed_by: str | None = None
    review_note: str | None = None
    record_id: str | None = None
    record_version: int | None = None
    organisation_id: str | None = None

    @property
    def files(self) -> tuple[dict[str, Any], ...]:
        """The photos and other files that came with the report (name, sha256, size, base64 data)."""
        return tuple(a for a in self.attachments if a.get("kind") != "submission")

    @property
    def submission(self) -> dict[str, Any] | None:
        """The form submission it came from: source, instance_id, submitter, device, submitted_at,
        updated_at, form_version, review_state (those the server gave); None for a file import."""
        return next((a for a in self.attachments if a.get("kind") == "submission"), None)


@dataclass
class ReviewOutcome:
    """What a review did: refs approved or rejected, and conflicts with their reasons."""

    approved: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    conflicts: list[tuple[str, str]] = field(default_factory=list)


def _reports(rows: Sequence[Any]) -> list[FieldReport]:
    """Field reports from rows, their geometries parsed in one vectorised call."""
    wkb = np.asarray([None if r._mapping["geometry_wkb"] is None else bytes(r._mapping["geometry_wkb"]) for r in rows],
                     dtype=object)
    return [_report(r, g) for r, g in zip(rows, shapely.from_wkb(wkb))]


def _report(row: Any, geometry: BaseGeometry | None) -> FieldReport:
    m = row._mapping
    return FieldReport(
        id=m["id"], ref=m["ref"], import_id=m["import_id"], entity=m["entity"], action=m["action"],
        values=m["field_values"], geometry=geometry,
        status=m["status"], source_feature=m["source_feature"], submitted_at=m["submitted_at"],
        submitted_by=m["submitted_by"], target_id=m["target_id"], base_version=m["base_version"],
        depends_on=m["depends_on"] or {}, attachments=tuple(m["attachments"] or ()),
        reviewed_by=m["reviewed_by"], review_note=m["review_note"], record_id=m["record_id"],
        record_version=m["record_version"], organisation_id=m["organisation_id"],
    )


@contextlib.contextmanager
def _transaction(register: Register, action: str) -> Iterator[sa.Connection]:
    """A write transaction on the queue alone (the register's records are not touched)."""
    with translate_errors(action), register.engine.connect() as connection:
        connection = connection.execution_options(sqlite_begin="IMMEDIATE")
        with connection.begin():
            yield connection
            register.sample_grown_tables(connection)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _lookup(connection: sa.Connection, column: sa.Column, keys: Iterable[str], *extra: sa.Column) -> dict[str, tuple]:
    keys = list(set(keys))
    if not keys:
        return {}
    rows = connection.execute(sa.select(column, *extra).where(_among(connection, column, keys)))
    return {row[0]: tuple(row[1:]) for row in rows}


def _among(connection: sa.Connection, column: sa.Column, keys: Sequence[Any]) -> sa.ColumnElement[bool]:
    """``column IN keys`` with every key in one bound value: a JSON array on SQLite, an array on PostgreSQL.

    One statement, compiled once, for any number of keys: an ``IN (...)``
    of 50,000 hashes costs more to compile than to run, and SQLite bounds
    the number of parameters.
    """
    if connection.dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(keys), type_=postgresql.ARRAY(column.type)))
    return column.in_(sa.select(sa.column("value")).select_from(sa.func.json_each(json.dumps(list(keys)))))


def _report_id(import_id: str, number: int) -> str:
    """A report's id: its import's random prefix, then its ref number.

    Unique because ref numbers are, and rising within an import, so the
    unique index takes a million new ids in order (random ids would cost an
    index page read and write each).
    """
    return f"{import_id[:16]}{number:016x}"


def submit(
    register: Register,
    source: ImportSource,
    batches: Iterable[Sequence[Submission]],
    *,
    user: str,
    reason: str,
    commit_if: Callable[[], bool] | None = None,
    on_skip: Callable[[Submission, str], None] | None = None,
) -> QueueResult | None:
    """Queue field reports in one transaction; a report whose content hash is known is skipped.

    ``batches`` is consumed lazily, so a large import streams through in
    bounded memory. Parents named in ``depends_on`` must come in an earlier
    batch, earlier in the same batch, or an earlier import. When
    ``commit_if`` returns False once every batch is in, everything is rolled
    back and None returned: the caller's validation found errors.
    ``on_skip(submission, earlier)`` hears of each report skipped, with the
    report or feature it repeats. Duplicates are found by the database's
    unique index, not in memory, so a file of any size is checked.
    """
    if not user or not reason:
        raise InvalidValue("every import needs a user and a reason")
    imports, table = register.tables["field_import"], register.tables["field_report"]
    import_id = uuid.uuid4().hex
    now = utcnow()
    submitted = skipped = features = 0
    refused = False
    try:
        with collector_paused(), _transaction(register, f"import of {source.name} by {user}") as connection:
            hopeful = True  # until a batch repeats a report, try each one whole first
            for batch in batches:
                features += len(batch)
                if not batch:
                    continue
                if hopeful and _queued_whole(register, connection, import_id, batch, now, user):
                    submitted += len(batch)
                    continue
                hopeful = False
                fresh = _fresh(connection, table, batch, on_skip)
                skipped += len(batch) - len(fresh)
                if fresh:
                    _queue(register, connection, import_id, fresh, submitted_at=now, submitted_by=user)
                    submitted += len(fresh)
            connection.execute(imports.insert(), [{
                "id": import_id, "source_name": source.name, "source_sha256": source.sha256,
                "source_format": source.format, "mapping": source.mapping, "imported_at": now,
                "imported_by": user, "reason": reason, "features": features, "submitted": submitted,
                "skipped": skipped,
            }])
            refused = commit_if is not None and not commit_if()
            if refused or submitted == 0:
                raise _RollBack  # the report has errors, or nothing is new (the same file again)
    except _RollBack:
        return None if refused else QueueResult("", 0, skipped)
    return QueueResult(import_id, submitted, skipped)


def _queued_whole(register: Register, connection: sa.Connection, import_id: str, batch: Sequence[Submission],
                  submitted_at: Any, submitted_by: str) -> bool:
    """Queue the whole batch if none of it is queued already, else write nothing and say so.

    A new file repeats nothing, so its reports go straight in and the unique
    index on ``content_hash`` does the checking; looking every hash up first
    costs as much again (1.8 s per million). A repeat undoes the batch to a
    savepoint, and :func:`_fresh` then sorts it out report by report.
    """
    savepoint = connection.begin_nested()
    try:
        _queue(register, connection, import_id, batch, submitted_at=submitted_at, submitted_by=submitted_by)
    except driver_errors("IntegrityError", sa.exc.IntegrityError) as exc:
        savepoint.rollback()
        if "content_hash" not in str(exc):
            raise
        return False
    savepoint.commit()
    return True


def _fresh(connection: sa.Connection, table: sa.Table, batch: Sequence[Submission],
           on_skip: Callable[[Submission, str], None] | None) -> Sequence[Submission]:
    """The reports of ``batch`` whose content hash is neither queued already nor earlier in the batch."""
    hashes = [s.content_hash for s in batch]
    known = {h: f"{ref} ({feature})" for h, (ref, feature) in _lookup(
        connection, table.c.content_hash, hashes, table.c.ref, table.c.source_feature).items()}
    if not known and len(set(hashes)) == len(hashes):  # the usual case: all new
        return batch
    fresh: list[Submission] = []
    for s in batch:
        if s.content_hash in known:
            if on_skip is not None:
                on_skip(s, known[s.content_hash])
        else:
            known[s.content_hash] = s.source_feature  # a repeat later in this batch is skipped too
            fresh.append(s)
    return fresh


def _queue(register: Register, connection: sa.Connection, import_id: str, fresh: Sequence[Submission], *,
           submitted_at: Any, submitted_by: str) -> None:
    """Insert new reports, a column at a time (their links to parents as the parents' report ids)."""
    table = register.tables["field_report"]
    n = len(fresh)
    entities, actions, values, wkbs, hashes, features, targets, bases, depends_on, attachments, given = zip(*fresh)
    unknown = set(actions) - set(ACTIONS)
    if unknown:
        s = fresh[next(i for i, a in enumerate(actions) if a in unknown)]
        raise InvalidValue(f"{s.source_feature}: unknown action {s.action!r}")
    first = register.next_refs(connection, "field_report", n)
    ids = [_report_id(import_id, first + k) for k in range(n)]
    owners = [o if o is not None or not isinstance(v, dict) else v.get(_OWNER) for o, v in zip(given, values)]
    linked = [i for i, d in enumerate(depends_on) if d]
    links: list[dict[str, str] | None] | None = None
    if linked:
        parent_ids, parent_owners = dict(zip(hashes, ids)), dict(zip(hashes, owners))
        parents = {h for i in linked for h in depends_on[i].values()} - parent_ids.keys()
        for h, (parent_id, parent_owner) in _lookup(connection, table.c.content_hash, parents, table.c.id,
                                                     table.c.organisation_id).items():
            parent_ids[h], parent_owners[h] = parent_id, parent_owner
        links = [None] * n
        for i in linked:
            if any(h not in parent_ids for h in depends_on[i].values()):
                raise InvalidValue(f"{features[i]}: depends on a report that is not in the queue")
            links[i] = {f: parent_ids[h] for f, h in depends_on[i].items()}
            if owners[i] is None:  # e.g. a release by an activity of the same file: the activity's organisation
                owners[i] = parent_owners[hashes[i]] = next(
                    (parent_owners[h] for h in depends_on[i].values() if parent_owners[h] is not None), None)
    names = {name: entity(name).name for name in set(entities)}
    register.insert_columns(connection, "field_report", {
        "id": ids, "ref": [f"FR-{first + k:07d}" for k in range(n)], "import_id": import_id,
        "entity": [names[e] for e in entities] if len(names) > 1 else names[entities[0]], "action": actions,
        "target_id": targets, "base_version": bases, "field_values": values, "geometry_wkb": wkbs,
        "depends_on": links, "content_hash": hashes, "source_feature": features,
        "attachments": [list(a) or None for a in attachments] if any(attachments) else None,
        "status": "submitted", "submitted_at": submitted_at, "submitted_by": submitted_by,
        "organisation_id": owners[0] if len(set(owners)) == 1 else owners,
    }, n)


def _selection(table: sa.Table, *, refs: Sequence[str] | None, import_id: str | None, status: str | None) -> list:
    clauses = []
    if refs is not None:
        clauses.append(sa.or_(table.c.ref.in_(list(refs)), table.c.id.in_(list(refs))))
    if import_id is not None:
        clauses.append(table.c.import_id == import_id)
    if status is not None:
        clauses.append(table.c.status == status)
    return clauses


def reports(
    register: Register,
    *,
    status: str | None = None,
    import_id: str | None = None,
    refs: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[FieldReport]:
    """Field reports in queue order, filtered by status, import or refs."""
    table = register.tables["field_report"]
    query = sa.select(table).where(*_selection(table, refs=refs, import_id=import_id, status=status))
    with translate_errors("reading the review queue"), register.engine.connect() as connection:
        rows = connection.execute(query.order_by(table.c.fid).limit(limit)).all()
    return _reports(rows)


def page(
    register: Register,
    *,
    organisations: frozenset[str] | None,
    status: str | None = None,
    import_id: str | None = None,
    refs: Sequence[str] | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[FieldReport]:
    """One page of the reports of ``organisations`` (None: every report), in queue order, paged in SQL.

    Reports of no organisation (programme-wide records) are listed only
    when ``organisations`` is None. The scope is part of the query, so
    ``limit`` and ``offset`` count only reports the caller may see.
    """
    table = register.tables["field_report"]
    where = _selection(table, refs=refs, import_id=import_id, status=status)
    if organisations is not None:
        where.append(table.c.organisation_id.in_(sorted(organisations)) if organisations else sa.false())
    query = sa.select(table).where(*where).order_by(table.c.fid).limit(limit).offset(offset)
    with translate_errors("reading the review queue"), register.engine.connect() as connection:
        return _reports(connection.execute(query).all())


def _selected_fids(connection: sa.Connection, table: sa.Table, refs: Sequence[str]) -> list[int]:
    """The named reports, which must all exist and still be submitted, in the order they apply."""
    rows = connection.execute(
        sa.select(table.c.fid, table.c.id, table.c.entity, table.c.ref, table.c.status)
        .where(*_selection(table, refs=refs, import_id=None, status=None))
    ).all()
    found = {r.ref for r in rows} | {r.id for r in rows}
    unknown = [r for r in refs if r not in found]
    if unknown:
        raise RecordNotFound(f"no field report {', '.join(unknown)} in the queue")
    done = [f"{r.ref} ({r.status})" for r in rows if r.status != "submitted"]
    if done:
        raise InvalidValue(f"already reviewed: {', '.join(done)}", hint="only submitted reports can be reviewed")
    return [r.fid for r in sorted(rows, key=lambda r: (_ENTITY_ORDER[r.entity], r.fid))]


@dataclass
class _Batch:
    """Submitted reports of one entity in the order they apply, a list per column.

    Approval reads a million reports; columns make one ``add_many`` call and
    one list of marks out of them without an object per report.
    """

    entity: str
    fids: list[int]
    refs: list[str]
    actions: list[str]
    target_ids: list[str | None]
    base_versions: list[int | None]
    values: list[dict[str, Any]]
    geometries: list[BaseGeometry | None]
    depends_on: list[str | None]  # JSON text {link field: id of the field report that creates it}, or None
    attachments: list[str | None]  # JSON text of files and a submission's metadata, or None

    def subset(self, rows: Sequence[int]) -> _Batch:
        """The batch's reports at positions ``rows``."""
        columns: tuple[list[Any], ...] = (
            self.fids, self.refs, self.actions, self.target_ids, self.base_versions, self.values, self.geometries,
            self.depends_on, self.attachments)
        return _Batch(self.entity, *([column[i] for i in rows] for column in columns))


_PENDING = ("fid", "ref", "entity", "action", "target_id", "base_version", "field_values", "geometry_wkb",
            "depends_on", "attachments")


def _pending(connection: sa.Connection, table: sa.Table, *where: sa.ColumnElement[bool],
             limit: int | None = None) -> list[_Batch]:
    """Submitted reports in apply order (entity declaration order, then fid), one batch per entity.

    Rows come as the driver gives them (:mod:`driver_rows`), values are
    parsed in one ``json.loads``, geometries in one ``from_wkb``.
    """
    query = sa.select(*[table.c[n] for n in _PENDING]).where(*where).order_by(table.c.fid).limit(limit)
    if connection.dialect.name == "postgresql":  # an erasure committing meanwhile must not be applied over
        query = query.with_for_update()
    rows = driver_cursor(connection, query).fetchall()  # no Row object per report
    entity_of = operator.itemgetter(2)
    if len(set(map(entity_of, rows))) > 1:
        rows = sorted(rows, key=lambda r: _ENTITY_ORDER[r[2]])  # stable: fid order within an entity
    batches = []
    for name, group in groupby(rows, key=entity_of):
        fids, refs, _, actions, targets, bases, values, wkbs, depends_on, attachments = map(list, zip(*group))
        batches.append(_Batch(
            name, fids, refs, actions, targets, bases, json.loads(f"[{','.join(values)}]"),
            list(shapely.from_wkb(np.asarray([*wkbs, None], dtype=object)[:-1])), depends_on, attachments,
        ))
    return batches


def _to_apply(connection: sa.Connection, table: sa.Table, refs: Sequence[str] | None, import_id: str | None,
              chunk: int) -> Iterator[_Batch]:
    """Batches of reports in apply order; a whole import is paged by fid, never held in memory."""
    if refs is not None:
        for part in _chunks(_selected_fids(connection, table, refs), chunk):
            yield from _pending(connection, table, _among(connection, table.c.fid, part))
        return
    if import_id is None:
        raise InvalidValue("say which reports to review", hint="give report refs or an import id")
    for name in ENTITIES:
        last = 0
        while loaded := _pending(connection, table, table.c.import_id == import_id, table.c.entity == name,
                                 table.c.fid > last, table.c.status == "submitted", limit=chunk):
            yield from loaded
            last = loaded[-1].fids[-1]


class Permit(Protocol):
    """Who may apply reports: asked by :func:`approve` inside its transaction, answered by the access layer.

    Either method raises to refuse (the whole approval then rolls back);
    storage itself decides nothing about who may do what.
    """

    def existing(self, entity_name: str, action: str, key: str, current: Record) -> None:
        """May this report change ``current`` (named ``key`` by the report), the record as it is now?

        For a release ``current`` is the releasing activity. A deleted record comes too, so
        that one the reviewer may not see is "not found" like any other.
        """

    def written(self, entity_name: str, action: str, places: set[tuple[str | None, str | None]],
                before: Record | None) -> None:
        """May the reviewer hold records where the approval put them (organisation, admin area)?

        ``before`` is the version an update replaced, so moving a record is seen.
        """


class _Approver:
    """Applies one batch of reports at a time through the Writer."""

    def __init__(self, writer: Writer, table: sa.Table, permit: Permit | None):
        self.w, self.table, self.permit = writer, table, permit
        self.outcome = ReviewOutcome()
        self.submissions: dict[str, dict[str, Any]] = {}  # instance id -> metadata, of the reports approved
        self._reviewed = (_for_driver(writer.connection, table.c.reviewed_at, writer.at), writer.user)

    def _resolve(self, batch: _Batch) -> None:
        """Links to reports of this queue become the ids of the records their approval created."""
        links = [(i, json.loads(d)) for i, d in enumerate(batch.depends_on) if d]
        if not links:
            return
        found = _lookup(self.w.connection, self.table.c.id, {pid for _, d in links for pid in d.values()},
                        self.table.c.ref, self.table.c.status, self.table.c.record_id)
        for i, depends_on in links:
            for name, pid in depends_on.items():
                ref, status, record_id = found[pid]
                if status != "approved":
                    raise ConflictError(
                        f"field report {batch.refs[i]} needs {ref}, which is {status}",
                        hint=f"approve {ref} first, or reject {batch.refs[i]}",
                    )
                batch.values[i][name] = record_id

    def apply(self, batch: _Batch) -> None:
        self._resolve(batch)
        marks: list[tuple[Any, ...]] = []  # per report the values of _MARK
        adds = [i for i, action in enumerate(batch.actions) if action == "add"]
        if adds:
            new = batch if len(adds) == len(batch.fids) else batch.subset(adds)  # usually all of it
            records = self.w.add_many(new.entity, new.values, new.geometries, where=new.refs)
            n = len(new.fids)
            if self.permit is not None:
                self.permit.written(new.entity, "add", _places(records), None)
            marks.extend(zip(new.fids, repeat("approved", n), repeat(None, n), records.column("id"),
                             records.column("version"), repeat(self._reviewed[0], n), repeat(self._reviewed[1], n)))
            self.outcome.approved.extend(new.refs)
            self._from_submissions(new.attachments)
        others = [i for i, action in enumerate(batch.actions) if action != "add"]
        marks.extend(self._other(batch, i) for i in others)
        self._from_submissions([batch.attachments[i] for i, m in zip(others, marks[-len(others):] if others else [])
                                if m[1] == "approved"])
        t = self.table
        bound = [f"b_{name}" for name in _MARK]  # a bound parameter may not take its column's name
        _executemany(self.w.connection, t.update().where(t.c.fid == sa.bindparam(bound[0])).values(
            {name: sa.bindparam(b) for name, b in zip(_MARK[1:], bound[1:])}), bound, marks)

    def _from_submissions(self, attachments: Sequence[str | None]) -> None:
        """Note the form submissions approved reports came from (most reports come from none)."""
        for text in attachments:
            if text and '"submission"' in text:
                for item in json.loads(text):
                    if item.get("kind") == "submission" and item.get("instance_id"):
                        self.submissions.setdefault(item["instance_id"], item)

    def _other(self, batch: _Batch, i: int) -> tuple[Any, ...]:
        """Apply an update, a deletion or a release; its mark: approved, or conflict with the register's reason.

        The reason kept with the report names versions only: the report's
        readers may not be allowed the history (who changed it, when, why)
        that the approving reviewer is told.
        """
        ref, action, values, geometry = batch.refs[i], batch.actions[i], batch.values[i], batch.geometries[i]
        key = (values.get("activity_id") if action == "release" else batch.target_ids[i]) or ""
        before = self._current("activity" if action == "release" else batch.entity, key)
        if self.permit is not None:
            self.permit.existing(batch.entity, action, key, before)
        base = batch.base_versions[i] or 0
        try:
            if action == "update":
                rec = self.w.update(batch.entity, before.id, base_version=base, values=values, geometry=geometry)
            elif action == "delete":
                rec = self.w.delete(batch.entity, before.id, base_version=base)
            else:
                if geometry is None:
                    raise InvalidValue(f"field report {ref}: a release needs the released geometry")
                rec = self.w.release(activity_id=before.id, geometry=geometry, release_type=values["release_type"],
                                     method=values["method"], released_on=values["released_on"])
        except ConflictError as exc:  # StaleEdit or LedgerViolation: flag, never overwrite
            self.outcome.conflicts.append((ref, str(exc)))
            note = (f"{batch.entity} {before.ref} is at version {before.version}; this report was based on "
                    f"version {base}" if isinstance(exc, StaleEdit) else str(exc))
            return (batch.fids[i], "conflict", note, None, None, *self._reviewed)
        if self.permit is not None and action != "delete":
            self.permit.written(batch.entity, action, {(rec.values.get(_OWNER), rec.values.get("admin_pcode"))},
                                before if action == "update" else None)
        self.outcome.approved.append(ref)
        return (batch.fids[i], "approved", None, rec.id, rec.version, *self._reviewed)

    def _current(self, entity_name: str, key: str) -> Record:
        """The record a report names (by id or ref) as it is now, deleted or not, locked on PostgreSQL."""
        table = self.w.register.tables[entity_name]
        query = sa.select(table).where(sa.or_(table.c.id == key, table.c.ref == key))
        if self.w.connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.w.connection.execute(query).first()
        if row is None:
            raise RecordNotFound(f"no {entity_name} {key!r} in the register")
        return record_from_row(entity_name, row)


def _places(records: RecordColumns) -> set[tuple[str | None, str | None]]:
    """The distinct (organisation, admin area) of records just added, a column at a time."""
    return set(zip(records.column(_OWNER), records.column("admin_pcode")))


#: what marking a report reviewed writes: its fid, then the columns set
_MARK = ("fid", "status", "review_note", "record_id", "record_version", "reviewed_at", "reviewed_by")


def _for_driver(connection: sa.Connection, column: sa.Column, value: Any) -> Any:
    """A value as the driver takes it for ``column`` (e.g. a GeoPackage timestamp as its text)."""
    process = column.type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
    return value if process is None or value is None else process(value)


def _executemany(connection: sa.Connection, statement: sa.ClauseElement, names: Sequence[str],
                 rows: Sequence[tuple[Any, ...]]) -> None:
    """Run ``statement`` once per row (values of the bound parameters ``names``) straight through the driver.

    SQLAlchemy's per-row parameter handling costs twice the UPDATE itself
    when a million reports are approved, so the values must already be what
    the driver takes (text, numbers, None; :func:`_for_driver`).
    """
    compiled = cast(SQLCompiler, statement.compile(dialect=connection.dialect))  # a DML statement's
    if compiled.positional:
        pick = operator.itemgetter(*[names.index(name) for name in compiled.positiontup or []])
        connection.exec_driver_sql(str(compiled), [pick(row) for row in rows])
    else:
        connection.exec_driver_sql(str(compiled), [dict(zip(names, row)) for row in rows])


def approve(
    register: Register,
    *,
    user: str,
    reason: str,
    refs: Sequence[str] | None = None,
    import_id: str | None = None,
    chunk: int = 20_000,
    permit: Permit | None = None,
) -> ReviewOutcome:
    """Apply submitted reports to the register in one transaction, flagging conflicts.

    Any other error (a value no longer valid, a refusal by ``permit``)
    rolls the whole approval back, naming the report; the register and the
    queue stay as they were. Without ``permit`` nothing is refused: the
    caller holds the database (the access layer passes one).
    """
    table = register.tables["field_report"]
    with register.write(user, reason, operation="review") as w:  # which pauses the cyclic collector
        approver = _Approver(w, table, permit)
        for batch in _to_apply(w.connection, table, refs, import_id, chunk):
            approver.apply(batch)
        if approver.submissions:
            changesets = register.tables["changeset"]
            w.connection.execute(changesets.update().where(changesets.c.id == w.changeset_id).values(
                reason=f"{reason}; {_submissions_named(list(approver.submissions.values()))}"))
        return approver.outcome


#: how many form submissions a changeset's reason names one by one
_NAMED_SUBMISSIONS = 20


def _submissions_named(found: Sequence[dict[str, Any]]) -> str:
    """The form submissions an approval applied, for its changeset's reason (which record histories show)."""
    def one(m: dict[str, Any]) -> str:
        said = [m.get("source"), m.get("submitted_at") and f"submitted {m['submitted_at']}",
                m.get("submitter") and f"by {m['submitter']}", m.get("device") and f"device {m['device']}",
                m.get("updated_at") and f"updated {m['updated_at']}",
                m.get("form_version") and f"form version {m['form_version']}",
                m.get("review_state") and f"review state {m['review_state']}"]
        return f"{m['instance_id']} ({', '.join(str(x) for x in said if x)})"

    named = "; ".join(one(m) for m in found[:_NAMED_SUBMISSIONS])
    more = f"; and {len(found) - _NAMED_SUBMISSIONS:,} more" if len(found) > _NAMED_SUBMISSIONS else ""
    return f"from form submission(s) {named}{more}"


def reject(register: Register, refs: Sequence[str], *, user: str, reason: str) -> ReviewOutcome:
    """Reject reports with a reason; reports that depend on them are rejected with them."""
    if not reason:
        raise InvalidValue("a rejection needs a reason", hint="say why, so the field team can correct it")
    table = register.tables["field_report"]
    outcome = ReviewOutcome()
    with _transaction(register, f"review by {user}") as connection:
        targets = _selected_fids(connection, table, refs)
        note = reason
        while targets:
            rows = connection.execute(sa.select(table.c.id, table.c.ref).where(table.c.fid.in_(targets))).all()
            connection.execute(
                table.update().where(table.c.fid.in_(targets)).values(
                    status="rejected", review_note=note, reviewed_at=utcnow(), reviewed_by=user
                )
            )
            outcome.rejected.extend(r.ref for r in rows)
            dependants = sa.or_(*[sa.cast(table.c.depends_on, sa.Text).contains(r.id) for r in rows])
            targets = list(connection.execute(
                sa.select(table.c.fid).where(table.c.status == "submitted", dependants)
            ).scalars())
            note = f"depends on rejected report(s) {', '.join(r.ref for r in rows)}: {reason}"
    return outcome
