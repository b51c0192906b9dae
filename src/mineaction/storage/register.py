"""The register: open, create, read (now or as of a past time) and write.

One class for both backends; the few dialect differences (bounding-box
search, row locks, how a transaction starts) sit in small methods. Database
errors become :class:`~mineaction.errors.StorageError` in one place,
``storage/errors.py``.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Self

import geoalchemy2
import numpy as np
import shapely
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mineaction.domain import styles
from mineaction.domain.admin_areas import AdminIndex
from mineaction.domain.entities import ENTITIES, entity
from mineaction.domain.programme import Programme
from mineaction.errors import MineActionError, RecordNotFound, StorageError
from mineaction.storage import driver_rows, gpkg, gpkg_rtree, layer_styles, postgres_copy
from mineaction.storage.column_types import GeoPackageGeometry, JSONText
from mineaction.storage.engine import create_engine, is_postgres_url
from mineaction.storage.errors import translate_errors
from mineaction.storage.records import Record, record_from_row
from mineaction.storage.schema import GEOMETRY_COLUMN, all_versions, build_metadata, gpkg_wkb, written_columns
from mineaction.storage.unit_of_work import Writer, collector_paused, utcnow
from mineaction.storage.vocabulary import labels as vocabulary_labels
from mineaction.storage.vocabulary import seed_vocabularies
from mineaction.version import __version__

__all__ = ["FeatureSet", "Register"]

BBox = tuple[float, float, float, float]

#: rows from which a write takes the backend's bulk path (see :meth:`Register.insert_columns`)
BULK_ROWS = 500
#: connection.info key: rows bulk-copied into each table in the current transaction
_GROWN = "mineaction_grown"


@dataclass(frozen=True)
class FeatureSet:
    """Columns of many features at once: the lean read path for maps, tiles and APIs."""

    entity: str
    ids: list[str]
    refs: list[str]
    versions: list[int]
    geometries: np.ndarray
    properties: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.ids)


def _refuse_foreign_file(path: Path) -> None:
    """Refuse a file that is not a register before the engine touches it.

    The engine's connection settings switch a file to WAL mode, which writes
    to it: opening someone else's GeoPackage (or any file) must not. A plain
    connection that only reads changes nothing (read-only mode would leave
    ``-wal``/``-shm`` files beside a WAL-mode file).
    """
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True)) as connection:
            connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "no such table" in str(exc):
            raise StorageError(f"{path} is not a mineaction register ({exc})",
                               hint="create a register in a new file: mineaction init --db NEW.gpkg") from None


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("mineaction.storage") / "migrations"))
    config.attributes["connection"] = connection
    return config


def _write_styles(connection: sa.Connection, vocabulary: sa.Table) -> None:
    """Give the register's layers the exports' QGIS styles, labelled from its vocabularies as they are now.

    Remade on every create or upgrade, so a new term gets its colour; styles
    users saved from QGIS are kept.
    """
    layers = [(spec.name, spec.geometry) for spec in ENTITIES.values() if spec.geometry]
    styled = styles.layer_styles(layers, lambda name: vocabulary_labels(connection, vocabulary, name))
    dialect = connection.dialect.name
    where: dict[str, str] = {}
    if dialect == "postgresql":  # QGIS finds a style by database and schema
        where = {"catalog": connection.exec_driver_sql("SELECT current_database()").scalar_one(), "schema": "public"}
    layer_styles.write(lambda sql, params: connection.execute(sa.text(sql), params), dialect, styled,
                       f"mineaction {__version__}", column=GEOMETRY_COLUMN, **where)


class Register:
    """A national register of contamination on a GeoPackage file or PostGIS."""

    def __init__(self, engine: sa.Engine, target: str):
        self.engine = engine
        self.target = target
        self.dialect = engine.dialect.name
        self.metadata = build_metadata(self.dialect)
        self.tables = self.metadata.tables
        self._vocabularies: dict[str, set[str]] | None = None
        self._admin_index: AdminIndex | None = None
        self._programme: Programme | None = None
        self._query_cache: dict[tuple, sa.Select] = {}

    # -- opening -----------------------------------------------------------

    @classmethod
    def open(cls, target: str | Path) -> Register:
        """Open an existing register; refuse anything that is not one, saying what to do."""
        text = str(target)
        if not is_postgres_url(text) and not Path(text).expanduser().exists():
            raise StorageError(f"no register at {text}", hint=f"create one with: mineaction init --db {text}")
        if not is_postgres_url(text):
            _refuse_foreign_file(Path(text).expanduser())
        register = cls(create_engine(text), text)
        with translate_errors(f"opening {text}"):
            with register.engine.connect() as connection:
                current = MigrationContext.configure(connection).get_current_revision()
        if current is None:
            raise StorageError(
                f"{text} is not a mineaction register (no schema version)",
                hint=f"run: mineaction init --db {text}",
            )
        if current != register._head():
            raise StorageError(
                f"{text} has schema version {current}; this software needs {register._head()}",
                hint=f"run: mineaction init --db {text} (it upgrades in place, keeping all data)",
            )
        return register

    @classmethod
    def create(cls, target: str | Path, programme: Programme | None = None) -> Register:
        """Create or upgrade a register (idempotent) and seed its vocabularies."""
        text = str(target)
        register = cls(create_engine(text), text)
        with translate_errors(f"initialising {text}"):
            with register.engine.connect() as connection:
                connection = connection.execution_options(sqlite_begin="IMMEDIATE")
                with connection.begin():
                    command.upgrade(_alembic_config(connection), "head")
                    seed_vocabularies(connection, register.tables["vocabulary_term"])
                    _write_styles(connection, register.tables["vocabulary_term"])
                    if programme is not None:
                        register._store_programme(connection, programme)
        return register

    def _head(self) -> str | None:
        with self.engine.connect() as connection:
            return ScriptDirectory.from_config(_alembic_config(connection)).get_current_head()

    def close(self) -> None:
        """Release connections; on SQLite fold the WAL back so the file travels alone."""
        if self.dialect == "sqlite":
            with contextlib.suppress(sa.exc.OperationalError), self.engine.connect() as connection:
                # TRUNCATE waits out the busy timeout for readers; if one stays, its own close folds the WAL
                connection.exec_driver_sql("PRAGMA busy_timeout = 1000")
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- settings and vocabularies ----------------------------------------

    def update_programme(self, programme: Programme, *, user: str, reason: str) -> None:
        """Change the programme's settings; like any edit, a changeset says who, when and why."""
        with self.write(user, reason, operation="settings") as w:
            self._store_programme(w.connection, programme)

    def _store_programme(self, connection: sa.Connection, programme: Programme) -> None:
        table = self.tables["programme_setting"]
        connection.execute(table.delete().where(table.c.key == "programme"))
        connection.execute(table.insert(), [{"key": "programme", "value": programme.to_json()}])
        self._programme = programme

    @property
    def programme(self) -> Programme:
        if self._programme is None:
            table = self.tables["programme_setting"]
            with translate_errors("reading the programme settings"), self.engine.connect() as connection:
                value = connection.execute(sa.select(table.c.value).where(table.c.key == "programme")).scalar()
            self._programme = Programme.from_json(value) if value else Programme(name="unnamed programme")
        return self._programme

    def vocabularies(self) -> dict[str, set[str]]:
        """Codes allowed in each vocabulary, as stored in the database."""
        if self._vocabularies is None:
            table = self.tables["vocabulary_term"]
            with translate_errors("reading vocabularies"), self.engine.connect() as connection:
                rows = connection.execute(sa.select(table.c.vocabulary, table.c.code)).all()
            vocab: dict[str, set[str]] = {}
            for name, code in rows:
                vocab.setdefault(name, set()).add(code)
            self._vocabularies = vocab
        return self._vocabularies

    def labels(self, vocabulary: str, language: str = "en") -> dict[str, str]:
        """Code → label in ``language`` ("en" or "uk"), in the vocabulary's order."""
        with translate_errors(f"reading vocabulary {vocabulary}"), self.engine.connect() as connection:
            return vocabulary_labels(connection, self.tables["vocabulary_term"], vocabulary, language)

    # -- writing -----------------------------------------------------------

    @contextlib.contextmanager
    def write(self, user: str, reason: str, operation: str = "edit") -> Iterator[Writer]:
        """One transaction and one changeset: all of the block's writes, or none of them."""
        if not user or not reason:
            raise MineActionError("every change needs a user and a reason", hint="pass user= and reason=")
        with self._caches_dropped_on_failure(), translate_errors(f"{operation} by {user}"), collector_paused():
            with self.engine.connect() as connection:
                connection = connection.execution_options(sqlite_begin="IMMEDIATE")
                with connection.begin():
                    at = self._next_timestamp(connection)
                    changeset_id = connection.execute(
                        self.tables["changeset"].insert().returning(self.tables["changeset"].c.id),
                        [{"recorded_at": at, "user_name": user, "reason": reason, "operation": operation}],
                    ).scalar_one()
                    writer = Writer(self, connection, changeset_id, user, at)
                    yield writer
                    writer.settle_numbers()
                    self.sample_grown_tables(connection)
                    for table_name, added in writer.unindexed.items():
                        self._index_added(connection, table_name, added)

    def sample_grown_tables(self, connection: sa.Connection) -> None:
        """Refresh PostgreSQL's statistics of the tables this transaction grew by a tenth or more.

        Without statistics the planner takes a list of 500 ids to match most
        of a table and scans all of it instead of using the id's index: the
        next transactions after a bulk load ran 0.5 s queries (W3's set-up
        spent about 9 minutes so for 200,000 released parts). Autovacuum would sample the
        table in a minute or so, when it is on. A small sample (statistics
        target 10: 30 ms for 100,000 hazards) is enough for that choice; a
        later ANALYZE refines it. Runs before the commit, with the rows. Counts
        left by a transaction that failed join the next one's on the same
        connection, which at worst samples a table once more than needed.
        """
        grown = connection.info.pop(_GROWN, None)
        if not grown or self.dialect != "postgresql":
            return
        sizes: dict[str, float] = dict(connection.exec_driver_sql(
            "SELECT relname, reltuples FROM pg_class WHERE oid = ANY(%(tables)s::regclass[])",
            {"tables": [f'"{name}"' for name in grown]},
        ).all())
        stale = [name for name, n in grown.items() if n > 0.1 * max(sizes.get(name, -1), 0)]
        if stale:
            connection.exec_driver_sql("SET LOCAL default_statistics_target = 10")
            connection.exec_driver_sql("ANALYZE " + ", ".join(f'"{name}"' for name in stale))

    @staticmethod
    def _index_added(connection: sa.Connection, table_name: str, added: list[tuple[range, np.ndarray]]) -> None:
        """Index rows bulk-added in this unit of work: with their boxes as added, unless one has had a
        new version since (a version 1 is as it was added; the versioning trigger allows nothing else)."""
        fids = [r for r, _ in added]
        changed = any(connection.exec_driver_sql(
            f'SELECT EXISTS (SELECT 1 FROM "{table_name}" WHERE fid BETWEEN ? AND ? AND version > 1)',
            (r.start, r.stop - 1)).scalar() for r in fids)
        boxes = None if changed else np.concatenate([b for _, b in added])
        gpkg_rtree.index_rows(connection.exec_driver_sql, table_name, GEOMETRY_COLUMN, fids, boxes=boxes)

    @contextlib.contextmanager
    def _caches_dropped_on_failure(self) -> Iterator[None]:
        """Forget cached vocabularies and admin areas when a write fails, its COMMIT included.

        Within a transaction the caches are rebuilt from what it wrote; if the
        commit then fails, they would describe rows that do not exist.
        """
        try:
            yield
        except BaseException:
            self._vocabularies = None
            self._admin_index = None
            raise

    def _next_timestamp(self, connection: sa.Connection) -> dt.datetime:
        """Now, but strictly after the previous changeset, so time order is version order."""
        table = self.tables["changeset"]
        last = connection.execute(
            sa.select(table.c.recorded_at).order_by(table.c.id.desc()).limit(1)
        ).scalar()
        now = utcnow()
        return max(now, last + dt.timedelta(milliseconds=1)) if last else now

    def insert_rows(self, connection: sa.Connection, table_name: str, rows: Sequence[dict[str, Any]]) -> None:
        """Insert many rows given as dicts; absent fields are NULL."""
        names = {name for row in rows for name in row}
        self.insert_columns(connection, table_name, {n: [row.get(n) for row in rows] for n in names}, len(rows))

    def insert_columns(
        self, connection: sa.Connection, table_name: str, columns: dict[str, Any], n: int, *,
        unindexed: dict[str, list[tuple[range, np.ndarray]]] | None = None,
        encoded: dict[str, Sequence[Any]] | None = None,
    ) -> None:
        """Insert ``n`` rows given a column at a time.

        A column is a list or array with a value per row, or one value shared
        by every row; absent columns are NULL. Values are converted once, a
        column at a time: SQLAlchemy's per-row parameter handling would cost
        more than the database's own work. Batches of :data:`BULK_ROWS` or
        more take each backend's bulk path: on PostgreSQL the rows go in by
        ``COPY``; on SQLite they go in with the R-tree's insert trigger set
        aside and are indexed in one go (:mod:`gpkg_rtree`), at once or, when
        ``unindexed`` is given, by the caller before it commits (their fid
        ranges and boxes are added to it, by table). Columns in ``encoded``
        were converted ahead by :meth:`encoded_columns` and go as they are.
        """
        if n == 0:
            return
        table = self.tables[table_name]
        names = written_columns(table)
        if self.dialect == "postgresql" and n < BULK_ROWS:
            connection.execute(table.insert(), [{name: _value(columns.get(name), i) for name in names} for i in range(n)])
            return
        encoded = encoded or {}
        params = list(zip(*(
            encoded[name] if name in encoded else self._driver_values(table.c[name], columns.get(name), n)
            for name in names
        )))
        if self.dialect == "postgresql":
            postgres_copy.copy_rows(connection, table_name, names, params)
            grown: collections.Counter[str] = connection.info.setdefault(_GROWN, collections.Counter())
            grown[table_name] += n
            return
        quoted = ", ".join(f'"{name}"' for name in names)
        insert = f'INSERT INTO "{table_name}" ({quoted}) VALUES ({", ".join("?" for _ in names)})'
        if n < BULK_ROWS or columns.get(GEOMETRY_COLUMN) is None or table_name not in ENTITIES:
            connection.exec_driver_sql(insert, params)
            return
        # the write lock is ours from BEGIN IMMEDIATE: new rows are numbered first, first + 1, …
        first = connection.exec_driver_sql(f'SELECT coalesce(max(fid), 0) + 1 FROM "{table_name}"').scalar_one()
        fids = gpkg_rtree.insert_unindexed(connection.exec_driver_sql, table_name, GEOMETRY_COLUMN, insert, params,
                                           first_fid=first)
        geometries = columns[GEOMETRY_COLUMN]
        minx, miny, maxx, maxy = shapely.bounds(np.asarray(geometries if _per_row(geometries) else [geometries] * n,
                                                           dtype=object)).T
        boxes = np.column_stack([minx, maxx, miny, maxy])  # NaN for a missing or empty geometry
        if unindexed is None:
            gpkg_rtree.index_rows(connection.exec_driver_sql, table_name, GEOMETRY_COLUMN, [fids], boxes=boxes)
        else:
            unindexed.setdefault(table_name, []).append((fids, boxes))

    def encoded_columns(self, table_name: str, columns: dict[str, Any], n: int) -> dict[str, Sequence[Any]]:
        """Columns of ``n`` rows in the driver's form, for :meth:`insert_columns` of a bulk batch.

        Needs no connection, so a helper thread can convert one batch while
        another is written (:meth:`Writer.add_stream`).
        """
        if self.dialect == "postgresql" and n < BULK_ROWS:
            return {}  # small batches go through SQLAlchemy, which converts them itself
        table = self.tables[table_name]
        return {name: self._driver_values(table.c[name], values, n) for name, values in columns.items()}

    def _driver_values(self, column: sa.Column, values: Any, n: int) -> Sequence[Any]:
        """One column's values as the driver takes them: n of them, converted once each."""
        dialect = self.engine.dialect
        if isinstance(column.type, (GeoPackageGeometry, geoalchemy2.Geometry)):
            geometries = np.asarray(values if _per_row(values) else [values] * n, dtype=object)
            if self.dialect == "sqlite":
                return gpkg.encode_many(geometries)
            return shapely.to_wkb(shapely.set_srid(geometries, 4326), include_srid=True, output_dimension=2).tolist()
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if self.dialect == "postgresql" and not isinstance(column.type, JSONText):
            process = None  # COPY takes Python dates, numbers and booleans as they are
        if isinstance(column.type, sa.LargeBinary):
            process = None  # sqlite3 and psycopg take bytes as they are
        if not _per_row(values):
            shared = values if process is None or values is None else process(values)
            return itertools.repeat(shared, n)  # type: ignore[return-value]
        if process is None:
            return values.tolist() if isinstance(values, np.ndarray) else values
        if isinstance(column.type, JSONText):
            return _json_once_per_list(process, values, text_is_encoded=column.type.text_is_encoded)
        if column.type.python_type in (dt.date, dt.datetime):  # a batch repeats its dates: convert each once
            done: dict[Any, Any] = {}
            return [None if v is None else done[v] if v in done else done.setdefault(v, process(v)) for v in values]
        return [None if v is None else process(v) for v in values]

    def changed(self, entity_name: str) -> None:
        """Forget what a write to ``entity_name`` makes stale (the admin-area index)."""
        if entity_name == "admin_area":
            self._admin_index = None

    def next_refs(self, connection: sa.Connection, entity_name: str, count: int) -> int:
        """The first of ``count`` reference numbers taken for ``entity_name``, in one statement:
        an upsert holds the counter's row until commit, so concurrent writers never share a number."""
        table = self.tables["ref_counter"]
        insert = (postgresql_insert if self.dialect == "postgresql" else sqlite_insert)(table)
        upsert = insert.values(entity=entity_name, last=count).on_conflict_do_update(
            index_elements=[table.c.entity], set_={"last": table.c.last + count}
        )
        return connection.execute(upsert.returning(table.c.last)).scalar_one() - count + 1

    def changeset_row(self, connection: sa.Connection, changeset_id: int) -> dict[str, Any]:
        """Who, when and why of one changeset, within ``connection``'s transaction."""
        table = self.tables["changeset"]
        row = connection.execute(sa.select(table).where(table.c.id == changeset_id)).one()
        return dict(row._mapping)

    def resolve_ids(self, connection: sa.Connection, entity_name: str, keys: set[str]) -> dict[str, str]:
        """Map ids or refs of live records to their ids."""
        table = self.tables[entity_name]
        found: dict[str, str] = {}
        keys_list = sorted(keys)
        for start in range(0, len(keys_list), 500):
            chunk = keys_list[start : start + 500]
            rows = connection.execute(
                sa.select(table.c.id, table.c.ref).where(
                    sa.or_(table.c.id.in_(chunk), table.c.ref.in_(chunk)), table.c.deleted.is_(False)
                )
            ).all()
            for record_id, ref in rows:
                found[record_id] = record_id
                found[ref] = record_id
        return found

    def admin_index(self, connection: sa.Connection) -> AdminIndex:
        """The live admin areas, indexed for deriving admin P-codes; kept until an admin area changes."""
        if self._admin_index is None:
            table = self.tables["admin_area"]
            rows = connection.execute(
                sa.select(table.c.pcode, table.c.level, table.c[GEOMETRY_COLUMN]).where(table.c.deleted.is_(False))
            ).all()
            self._admin_index = AdminIndex([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
        return self._admin_index

    def parts_of(self, connection: sa.Connection, hazard_ids: Sequence[str]) -> list[Record]:
        """Live released parts of these hazards."""
        table = self.tables["released_part"]
        records: list[Record] = []
        for start in range(0, len(hazard_ids), 500):
            rows = connection.execute(
                sa.select(table).where(
                    table.c.hazard_id.in_(list(hazard_ids[start : start + 500])), table.c.deleted.is_(False)
                )
            ).all()
            records += [record_from_row("released_part", r) for r in rows]
        return records

    def released_near(self, connection: sa.Connection, bounds: tuple[float, float, float, float]) -> list[Record]:
        """Live released parts whose bounding box meets ``bounds`` (lon/lat): where a new find may lie in one."""
        table = self.tables["released_part"]
        rows = connection.execute(
            sa.select(table).where(self.bbox_clause("released_part", table, bounds), table.c.deleted.is_(False))
        ).all()
        return [record_from_row("released_part", r) for r in rows]

    def open_nonconformities(self, connection: sa.Connection, task_id: str) -> int:
        """Live non-conformities of a task not yet closed (a task with any is neither verified nor closed)."""
        table = self.tables["non_conformity"]
        return connection.execute(
            sa.select(sa.func.count()).select_from(table).where(
                table.c.task_id == task_id, table.c.state != "closed", table.c.deleted.is_(False))
        ).scalar_one()

    # -- reading -----------------------------------------------------------

    def _as_of_subquery(self, entity_name: str, as_of: dt.datetime) -> sa.Subquery:
        versions = all_versions(self.tables, entity_name)
        latest = (
            sa.select(versions.c.id, sa.func.max(versions.c.version).label("version"))
            .where(versions.c.recorded_at <= naive_utc(as_of))
            .group_by(versions.c.id)
            .subquery()
        )
        return (
            sa.select(versions)
            .join(latest, sa.and_(versions.c.id == latest.c.id, versions.c.version == latest.c.version))
            .subquery()
        )

    def table_as_of(self, entity_name: str, as_of: dt.datetime | None) -> sa.FromClause:
        """The current table, or a subquery of the versions live at ``as_of``."""
        entity(entity_name)
        return self.tables[entity_name] if as_of is None else self._as_of_subquery(entity_name, as_of)

    def get(self, entity_name: str, record_id: str, *, as_of: dt.datetime | None = None) -> Record:
        """The record with this id or ref, now or as it was at ``as_of``."""
        source = self.table_as_of(entity_name, as_of)
        with translate_errors(f"reading {entity_name}"), self.engine.connect() as connection:
            row = connection.execute(
                sa.select(source).where(sa.or_(source.c.id == record_id, source.c.ref == record_id))
            ).first()
        if row is None or row._mapping["deleted"]:
            when = f" as of {as_of:%Y-%m-%d %H:%M:%S}" if as_of else ""
            raise RecordNotFound(f"no {entity_name} {record_id!r} in the register{when}")
        return record_from_row(entity_name, row)

    def records(
        self,
        entity_name: str,
        *,
        as_of: dt.datetime | None = None,
        bbox: BBox | None = None,
        where: dict[str, Any] | None = None,
        include_deleted: bool = False,
    ) -> list[Record]:
        """Records of one entity (now or as of a time), optionally in a lon/lat bbox."""
        source = self.table_as_of(entity_name, as_of)
        query = sa.select(source)
        if not include_deleted:
            query = query.where(source.c.deleted.is_(False))
        for name, value in (where or {}).items():
            query = query.where(source.c[name] == value)
        if bbox is not None:
            query = query.where(self.bbox_clause(entity_name, source, bbox))
        with translate_errors(f"reading {entity_name}"), self.engine.connect() as connection:
            rows = connection.execute(query.order_by(source.c.ref)).all()
        records = [record_from_row(entity_name, r) for r in rows]
        if bbox is not None:
            box = shapely.box(*bbox)
            records = [r for r in records if r.geometry is not None and r.geometry.intersects(box)]
        return records

    def features(
        self,
        entity_name: str,
        *,
        bbox: BBox | None = None,
        fields: Sequence[str] = (),
        as_of: dt.datetime | None = None,
    ) -> FeatureSet:
        """Live features intersecting ``bbox``: ids, refs, versions, geometries and ``fields``.

        Geometries are decoded in one vectorised call and tested exactly with
        Shapely in another, so a map window costs little more than the index
        lookup itself.
        """
        spec = entity(entity_name)
        if not spec.geometry:
            raise MineActionError(f"{entity_name} records have no geometry")
        source = self.table_as_of(entity_name, as_of)
        unknown = [f for f in fields if f not in spec.field_map]
        if unknown:
            raise MineActionError(f"{entity_name} has no field(s) {', '.join(unknown)}")
        query = self._features_query(source, entity_name, tuple(fields), bbox is not None)
        params = dict(zip(("minx", "miny", "maxx", "maxy"), bbox)) if bbox is not None else {}
        with translate_errors(f"reading {entity_name}"), self.engine.connect() as connection:
            columns = driver_rows.columns(connection, query, params)  # no Row object per map feature
        blobs = columns[3]
        geometries = gpkg.decode_many(blobs) if self.dialect == "sqlite" else shapely.from_wkb(
            np.asarray([bytes(b) for b in blobs], dtype=object))
        if bbox is not None:  # the index finds boxes that touch the window; keep what truly does
            keep = shapely.intersects(geometries, shapely.box(*bbox))
            if not keep.all():
                pick = np.flatnonzero(keep)
                columns = [[column[i] for i in pick] for column in columns]
                geometries = geometries[pick]
        return FeatureSet(
            entity=entity_name,
            ids=list(columns[0]),
            refs=list(columns[1]),
            versions=list(columns[2]),
            geometries=geometries,
            properties={f: list(columns[4 + k]) for k, f in enumerate(fields)},
        )

    def _features_query(self, source: sa.FromClause, entity_name: str, fields: tuple[str, ...], with_bbox: bool) -> sa.Select:
        """The features query with the window as bound parameters, built once per shape."""
        key = (entity_name, fields, with_bbox)
        if source is self.tables[entity_name] and key in self._query_cache:
            return self._query_cache[key]
        geometry = source.c[GEOMETRY_COLUMN]
        raw = gpkg_wkb(geometry) if self.dialect == "sqlite" else sa.func.ST_AsBinary(geometry)
        query = sa.select(source.c.id, source.c.ref, source.c.version, raw.label("wkb"), *(source.c[f] for f in fields))
        query = query.where(source.c.deleted.is_(False))
        if with_bbox:
            window = tuple(sa.bindparam(k, type_=sa.Double) for k in ("minx", "miny", "maxx", "maxy"))
            if self.dialect == "sqlite" and source is self.tables[entity_name]:  # a join beats IN (…) by ~10 %
                rtree = _rtree(entity_name)
                query = query.select_from(source.join(rtree, source.c.fid == rtree.c.id))
                query = query.where(_box_overlaps(rtree, window))
            else:
                query = query.where(self.bbox_clause(entity_name, source, window))
        if source is self.tables[entity_name]:
            self._query_cache[key] = query
        return query

    def bbox_clause(self, entity_name: str, source: sa.FromClause, bbox: tuple) -> sa.ColumnElement[bool]:
        minx, miny, maxx, maxy = bbox
        if self.dialect == "postgresql":
            envelope = sa.func.ST_MakeEnvelope(minx, miny, maxx, maxy, 4326)
            return source.c[GEOMETRY_COLUMN].op("&&")(envelope)
        if source is self.tables[entity_name]:
            rtree = _rtree(entity_name)
            return source.c.fid.in_(sa.select(rtree.c.id).where(_box_overlaps(rtree, bbox)))
        return sa.true()  # history has no R-tree; the exact Shapely filter does the work

    def history(self, entity_name: str, record_id: str) -> list[Record]:
        """Every version of one record, oldest first, deletions included."""
        versions = all_versions(self.tables, entity(entity_name).name)
        with translate_errors(f"reading {entity_name} history"), self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(versions)
                .where(sa.or_(versions.c.id == record_id, versions.c.ref == record_id))
                .order_by(versions.c.version)
            ).all()
        if not rows:
            raise RecordNotFound(f"no {entity_name} {record_id!r} in the register")
        return [record_from_row(entity_name, r) for r in rows]

    def latest_change(self) -> dt.datetime:
        """Time of the newest changeset: the as-of time of anything read now."""
        table = self.tables["changeset"]
        with self.engine.connect() as connection:
            last = connection.execute(sa.select(table.c.recorded_at).order_by(table.c.id.desc()).limit(1)).scalar()
        return last or utcnow()

    def changeset(self, changeset_id: int) -> dict[str, Any]:
        with translate_errors("reading a changeset"), self.engine.connect() as connection:
            return self.changeset_row(connection, changeset_id)

    def count(self, entity_name: str, *, as_of: dt.datetime | None = None) -> int:
        source = self.table_as_of(entity_name, as_of)
        with translate_errors(f"counting {entity_name}"), self.engine.connect() as connection:
            return connection.execute(
                sa.select(sa.func.count()).select_from(source).where(source.c.deleted.is_(False))
            ).scalar_one()


def _json_once_per_list(encode: Any, values: Sequence[Any], *, text_is_encoded: bool) -> list[Any]:
    """JSON text of each value; equal lists of codes, which a batch repeats, are encoded once,
    and text already encoded (``text_is_encoded``) is taken as it is."""
    done: dict[tuple[str, ...], str] = {}
    out: list[Any] = []
    for value in values:
        if isinstance(value, str) and text_is_encoded:
            out.append(value)
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            key = tuple(value)
            if key not in done:
                done[key] = encode(value)
            out.append(done[key])
        else:
            out.append(None if value is None else encode(value))
    return out


def _rtree(entity_name: str) -> sa.TableClause:
    """A GeoPackage R-tree index table (annex F.3)."""
    return sa.table(gpkg.rtree_name(entity_name, GEOMETRY_COLUMN), sa.column("id"), sa.column("minx"),
                    sa.column("maxx"), sa.column("miny"), sa.column("maxy"))


def _box_overlaps(rtree: sa.TableClause, bbox: tuple) -> sa.ColumnElement[bool]:
    minx, miny, maxx, maxy = bbox
    return sa.and_(rtree.c.minx <= maxx, rtree.c.maxx >= minx, rtree.c.miny <= maxy, rtree.c.maxy >= miny)


def _per_row(column: Any) -> bool:
    return isinstance(column, (list, tuple, np.ndarray))


def _value(column: Any, i: int) -> Any:
    return column[i] if _per_row(column) else column


def naive_utc(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC without a time zone, as the timestamp columns hold it."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value
