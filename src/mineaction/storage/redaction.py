"""Erasing personal data on a lawful request or at the end of a retention period.

History is append-only so that the register can always show what it said
and when; the one exception is personal data (fields declared
:attr:`Sensitivity.PERSONAL` in :mod:`mineaction.domain.entities`), which a
person may have erased and which must not be kept longer than its purpose
needs. An erasure, in one transaction:

1. writes a new version of the record with its personal fields empty, so an
   edit based on an older version (a form still showing the name) is refused
   as stale instead of writing the name back;
2. empties those fields in *every* stored version, on the one connection
   allowed to rewrite history (``set_redacting`` on SQLite, the transaction's
   ``mineaction.redacting`` setting on PostgreSQL), and in the field reports
   of the review queue that created or updated the record;
3. leaves a tombstone in ``redaction_log``: who, when, why, on which basis,
   which record and fields, how many versions; never the values.

A field report that created no record (waiting for review, rejected, in
conflict) holds a victim's data as much as the register does. It is erased by
its ref (``field_reports=``): its personal values are emptied in place, it
stays in the queue with everything else, and its tombstone names entity
``field_report`` and the report's id and ref. Retention covers it by the time
it was submitted (:func:`queued_past_retention`).

Everything else (the accident, the victim's group and outcome, dates, the
admin area) stays as it was, so counts and reports keep adding up.

Then the old bytes are overwritten in the database files, not just hidden:
SQLite rewrites freed cells as zeros on that connection (``secure_delete``),
the file is vacuumed and its WAL checkpointed and truncated; PostgreSQL
rewrites the affected tables (``VACUUM FULL``). A reader in another process
(or a failure) can keep this from finishing; :attr:`Redaction.purged` says
so, and :func:`purge` completes it later. See docs/durability.md for what remains
outside the database (older backups, PostgreSQL's WAL archive).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import cast

import sqlalchemy as sa

from mineaction.domain.entities import Sensitivity, entity
from mineaction.errors import InvalidValue, RecordNotFound, StorageError
from mineaction.storage.engine import BUSY_TIMEOUT_S, set_redacting
from mineaction.storage.errors import translate_errors
from mineaction.storage.records import Record, record_from_row
from mineaction.storage.register import Register, naive_utc
from mineaction.storage.responsibility_schema import REDACTION_LOG
from mineaction.storage.schema import all_versions, history_name

__all__ = [
    "BASES",
    "FIELD_REPORT",
    "Erasure",
    "Redaction",
    "past_retention",
    "personal_fields",
    "purge",
    "queued_past_retention",
    "redact",
]

#: why personal data may be erased: the person asked, or it was kept as long as allowed
BASES = ("request", "retention")
#: the tombstone's entity for an erasure from a field report that created no record
FIELD_REPORT = "field_report"
_PG_LOCK_TIMEOUT = "30s"
_CHECKPOINT_WAIT_MS = 2000  # for readers in other processes to move on; purge() can be run again later


@dataclass(frozen=True)
class Erasure:
    """What was erased from one record (the tombstone, as returned to the caller)."""

    entity: str  # FIELD_REPORT for a report that created no record
    record_id: str
    ref: str
    fields: tuple[str, ...]
    versions: int  # stored versions rewritten, the new one included (0 for a field report)
    field_reports: int  # review-queue reports scrubbed


@dataclass(frozen=True)
class Redaction:
    erasures: tuple[Erasure, ...]
    changeset_id: int
    purged: bool  # False: old bytes may remain in the database files until purge() succeeds


def personal_fields(entity_name: str) -> tuple[str, ...]:
    """Names of the fields of an entity declared personal."""
    return tuple(f.name for f in entity(entity_name).fields if f.sensitivity is Sensitivity.PERSONAL)


def _chosen_fields(entity_name: str, fields: Sequence[str] | None) -> tuple[str, ...]:
    personal = personal_fields(entity_name)
    if not personal:
        raise InvalidValue(f"{entity_name} records hold no personal fields; there is nothing to erase")
    chosen = tuple(fields) if fields else personal
    other = [f for f in chosen if f not in personal]
    if other:
        raise InvalidValue(
            f"only personal fields can be erased; {', '.join(other)} of {entity_name} are not personal",
            hint=f"personal fields of {entity_name}: {', '.join(personal)}",
        )
    return chosen


def redact(
    register: Register,
    entity_name: str,
    records: Sequence[str],
    *,
    user: str,
    reason: str,
    basis: str = "request",
    fields: Sequence[str] | None = None,
    field_reports: Sequence[str] = (),
) -> Redaction:
    """Erase the personal fields (or the named ones) of ``records`` (ids or refs) in every version,
    and of ``field_reports`` (ids or refs) of that entity that created no record.

    ``reason`` is kept in the tombstone: name the request or rule, not the person.
    """
    chosen = _chosen_fields(entity_name, fields)
    if basis not in BASES:
        raise InvalidValue(f"basis {basis!r}: use one of {', '.join(BASES)}")
    if not records and not field_reports:
        raise InvalidValue("name at least one record or field report to erase")
    spec, blank, erasures = entity(entity_name), dict.fromkeys(chosen), []
    history = register.tables[history_name(entity_name)]
    queue = register.tables["field_report"]
    with register.write(user, reason, operation="redaction") as w, _history_rewritable(w.connection):
        tombstone = {"recorded_at": w.at, "user_name": user, "reason": reason, "basis": basis,
                     "fields": list(chosen), "changeset_id": w.changeset_id}
        for key in records:
            current = _locked_current(register, w.connection, entity_name, key)
            # the Writer writes every version, this one too (deleted records included, which update() refuses);
            # the version it replaces, names and all, joins the older ones in history, where all are emptied
            w._write_version(spec, current, {**current.values, **blank}, current.geometry, deleted=current.deleted)
            older = w.connection.execute(history.update().where(history.c.id == current.id).values(blank)).rowcount
            versions = older + 1
            linked = sa.and_(queue.c.entity == entity_name,
                             sa.or_(queue.c.record_id == current.id, queue.c.target_id == current.id))
            reports = _scrub_field_reports(w.connection, queue, linked, chosen)
            erasures.append(Erasure(entity_name, current.id, current.ref, chosen, versions, reports))
        for key in field_reports:
            report = _unapplied_report(w.connection, queue, entity_name, key)
            _scrub_field_reports(w.connection, queue, queue.c.fid == report.fid, chosen)
            erasures.append(Erasure(FIELD_REPORT, report.id, report.ref, chosen, 0, 1))
        w.connection.execute(register.tables[REDACTION_LOG].insert(), [
            {**tombstone, "entity": e.entity, "record_id": e.record_id, "record_ref": e.ref, "versions": e.versions}
            for e in erasures
        ])
    try:
        purged = purge(register, entity_name)
    except StorageError:  # the erasure is committed; purge() can be run again
        purged = False
    return Redaction(tuple(erasures), w.changeset_id, purged)


def _locked_current(register: Register, connection: sa.Connection, entity_name: str, key: str) -> Record:
    table = register.tables[entity_name]
    query = sa.select(table).where(sa.or_(table.c.id == key, table.c.ref == key))
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        raise RecordNotFound(f"no {entity_name} {key!r} in the register")
    return record_from_row(entity_name, row)


@contextlib.contextmanager
def _history_rewritable(connection: sa.Connection) -> Iterator[None]:
    """Let this connection, in this transaction only, rewrite history; zero freed cells on SQLite."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SELECT set_config('mineaction.redacting', 'on', true)")
        try:
            yield
        finally:
            connection.exec_driver_sql("SELECT set_config('mineaction.redacting', 'off', true)")
        return
    dbapi = cast(sqlite3.Connection, connection.connection.dbapi_connection)  # SQLite from here on
    dbapi.execute("PRAGMA secure_delete = ON")
    set_redacting(dbapi, True)
    try:
        yield
    finally:
        set_redacting(dbapi, False)
        dbapi.execute("PRAGMA secure_delete = OFF")


def _unapplied_report(connection: sa.Connection, queue: sa.Table, entity_name: str, key: str) -> sa.Row:
    """The queued report ``key`` (id or ref) of ``entity_name``, refused if it became a record."""
    query = sa.select(queue.c.fid, queue.c.id, queue.c.ref, queue.c.entity, queue.c.record_id).where(
        sa.or_(queue.c.id == key, queue.c.ref == key))
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    report = connection.execute(query).first()
    if report is None:
        raise RecordNotFound(f"no field report {key!r} in the review queue", hint="`mineaction review` lists them")
    if report.entity != entity_name:
        raise InvalidValue(f"field report {report.ref} is of entity {report.entity}, not {entity_name}",
                           hint=f"erase it with --entity {report.entity}")
    if report.record_id is not None:
        raise InvalidValue(f"field report {report.ref} was applied as {entity_name} record {report.record_id}",
                           hint="erase that record instead: its field reports are erased with it")
    return report


def _scrub_field_reports(
    connection: sa.Connection, queue: sa.Table, which: sa.ColumnElement[bool], chosen: tuple[str, ...]
) -> int:
    """Blank the chosen fields in the review-queue reports ``which`` selects; how many there were."""
    rows = connection.execute(sa.select(queue.c.fid, queue.c.field_values).where(which)).all()
    for fid, values in rows:
        scrubbed = {k: None if k in chosen else v for k, v in values.items()}
        connection.execute(queue.update().where(queue.c.fid == fid).values(field_values=scrubbed))
    return len(rows)


def purge(register: Register, entity_name: str) -> bool:
    """Overwrite what erasures left in the database files; False if another process prevents it now.

    SQLite: vacuum (rebuild the file without free pages) and checkpoint the
    WAL with TRUNCATE; a reader in another process that stays more than two
    seconds stops the checkpoint.
    PostgreSQL: ``VACUUM FULL`` the entity's tables and the review queue;
    False if a lock is not granted within 30 s.
    """
    if register.dialect == "sqlite":
        raw = register.engine.raw_connection()
        sqlite = cast(sqlite3.Connection, raw.driver_connection)
        try:
            sqlite.execute("VACUUM")
            sqlite.execute(f"PRAGMA busy_timeout = {_CHECKPOINT_WAIT_MS}")
            busy, _log, _done = sqlite.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"purging erased data from {register.target}: {exc}",
                               hint="run `mineaction redact --purge-only` once others have closed the register") from exc
        finally:
            sqlite.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")  # it goes back to the pool
            raw.close()
        return busy == 0
    tables = ", ".join(f'"{t}"' for t in (entity_name, history_name(entity_name), "field_report"))
    with translate_errors("purging erased data"), register.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.exec_driver_sql(f"SET lock_timeout = '{_PG_LOCK_TIMEOUT}'")
        try:
            connection.exec_driver_sql(f"VACUUM FULL {tables}")
        except sa.exc.OperationalError as exc:
            if "lock timeout" not in str(exc.orig):
                raise
            return False
        finally:
            connection.exec_driver_sql("RESET lock_timeout")
    return True


def past_retention(register: Register, entity_name: str, *, recorded_before: dt.datetime) -> list[str]:
    """Ids of records first recorded before ``recorded_before`` that still hold personal data in any version."""
    chosen = _chosen_fields(entity_name, None)
    versions = all_versions(register.tables, entity_name)
    first = all_versions(register.tables, entity_name, "first_versions")
    holding = sa.select(versions.c.id).where(sa.or_(*(versions.c[f].is_not(None) for f in chosen)))
    query = (
        sa.select(first.c.id)
        .where(first.c.version == 1, first.c.recorded_at < naive_utc(recorded_before), first.c.id.in_(holding))
        .order_by(first.c.ref)
    )
    with translate_errors(f"finding {entity_name} records past retention"), register.engine.connect() as connection:
        return list(connection.execute(query).scalars())


def queued_past_retention(register: Register, entity_name: str, *, submitted_before: dt.datetime) -> list[str]:
    """Refs of ``entity_name`` field reports that created no record (waiting, rejected, in conflict),
    submitted before ``submitted_before``, that still hold personal data; reports that did create a
    record are erased with it."""
    chosen = _chosen_fields(entity_name, None)
    queue = register.tables["field_report"]
    query = (
        sa.select(queue.c.ref, queue.c.field_values)
        .where(queue.c.entity == entity_name, queue.c.record_id.is_(None),
               queue.c.submitted_at < naive_utc(submitted_before))
        .order_by(queue.c.fid)
    )
    with translate_errors(f"finding {entity_name} field reports past retention"), register.engine.connect() as c:
        return [ref for ref, values in c.execute(query) if any(values.get(f) is not None for f in chosen)]
