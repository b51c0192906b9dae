"""Initial register: entity and history tables, changesets, vocabularies; GeoPackage
metadata and R-tree indexes on SQLite, the PostGIS extension on PostgreSQL; the
triggers that keep every replaced version in history and refuse deletions.

It is release 0.1.0's schema, frozen: it builds the tables and entities
that ``0001_schema.json`` (written when 0.1.0 was released) lists, from
``build_metadata``, and refuses to run if a listed table has gained or lost a
column since. Every later schema change is a revision of its own with
explicit operations; a new table or entity is simply not listed here, and a
column added since to a listed table is left out here (:func:`_frozen_metadata`
drops every column the manifest does not list, with its indexes) and added by
its own revision.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from mineaction.domain.entities import ENTITIES
from mineaction.storage import gpkg, layer_styles
from mineaction.storage.schema import GEOMETRY_COLUMN, build_metadata, history_name, written_columns

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_FROZEN = json.loads(Path(__file__).with_name("0001_schema.json").read_text(encoding="utf-8"))
#: the entities of release 0.1.0, in declaration order
_ENTITIES = [ENTITIES[name] for name in _FROZEN["entities"]]

_APPEND_ONLY = "history is append-only: versions are never changed or deleted"
_SOFT_DELETE = "records are never deleted: write a new version with deleted=true and a reason"
_NEXT_VERSION = "a record changes only by its next version, with the same id"


def _keep_replaced(history: str, columns: list[str]) -> str:
    """SQL that copies the row being replaced (OLD) into ``history``."""
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(f'OLD."{c}"' for c in columns)
    return f'INSERT INTO "{history}" ({names}) VALUES ({values});'


def _frozen_metadata(dialect: str) -> sa.MetaData:
    """The tables of release 0.1.0 as ``build_metadata`` declares them, checked against the manifest."""
    full = build_metadata(dialect)
    frozen = sa.MetaData()
    for name, columns in _FROZEN["tables"].items():
        table = full.tables[name]
        kept = [c.name for c in table.columns if c.name in columns]
        if kept != columns:
            raise RuntimeError(
                f"revision 0001 is frozen at release 0.1.0, but table {name} now has columns "
                f"{[c.name for c in table.columns]} instead of {columns}: add the change in a new revision "
                "and have revision 0001 leave it out"
            )
        copy = table.to_metadata(frozen)
        for column in [c for c in copy.columns if c.name not in columns]:  # added by a later revision
            for index in [i for i in copy.indexes if column.name in i.columns]:
                copy.indexes.discard(index)
            copy._columns.remove(column)
    return frozen


def _sqlite_upgrade(bind) -> None:
    def execute(sql: str, params: tuple = ()) -> None:
        bind.exec_driver_sql(sql, params)

    gpkg.install_core_tables(execute)
    metadata = _frozen_metadata("sqlite")
    metadata.create_all(bind)
    layer_styles.install(lambda sql, params: bind.execute(sa.text(sql), params), "sqlite")
    # only the entities' tables are layers (gpkg_contents): accounts, sessions, counters, the review queue and
    # other internal tables stay out of GDAL's layer list, which shows only what gpkg_contents lists once it
    # lists an attributes table (LIST_ALL_TABLES=AUTO); not registered, they need no integer primary key
    for spec in _ENTITIES:
        for table, indexed in ((spec.name, True), (history_name(spec.name), False)):
            if spec.geometry:
                gpkg.register_features(
                    execute, table, column=GEOMETRY_COLUMN, geometry_type=spec.geometry,
                    description=spec.description, spatial_index=indexed,
                )
            else:
                gpkg.register_attributes(execute, table, spec.description)
        history = history_name(spec.name)
        for action in ("UPDATE", "DELETE"):
            execute(
                f'CREATE TRIGGER "{history}_no_{action.lower()}" BEFORE {action} ON "{history}" '
                f"WHEN NOT mineaction_redacting() BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
            )
        execute(
            f'CREATE TRIGGER "{spec.name}_no_delete" BEFORE DELETE ON "{spec.name}" '
            f"BEGIN SELECT RAISE(ABORT, '{_SOFT_DELETE}'); END"
        )
        execute(
            f'CREATE TRIGGER "{spec.name}_versioned" BEFORE UPDATE ON "{spec.name}" BEGIN '
            f"SELECT RAISE(ABORT, '{_NEXT_VERSION}') WHERE NEW.version IS NOT OLD.version + 1 OR NEW.id IS NOT OLD.id; "
            f"{_keep_replaced(history, written_columns(metadata.tables[spec.name]))} END"
        )


def _postgres_upgrade(bind) -> None:
    bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    metadata = _frozen_metadata("postgresql")
    metadata.create_all(bind)
    layer_styles.install(lambda sql, params: bind.execute(sa.text(sql), params), "postgresql")
    bind.exec_driver_sql(
        """CREATE OR REPLACE FUNCTION mineaction_refuse() RETURNS trigger AS $$
        BEGIN
          IF TG_ARGV[0] = 'history' AND current_setting('mineaction.redacting', true) = 'on' THEN
            RETURN COALESCE(NEW, OLD);
          END IF;
          RAISE EXCEPTION '%%', TG_ARGV[1];
        END $$ LANGUAGE plpgsql"""
    )
    for spec in _ENTITIES:
        history = history_name(spec.name)
        bind.exec_driver_sql(
            f"""CREATE FUNCTION "{spec.name}_versioned"() RETURNS trigger AS $$
            BEGIN
              IF NEW.version IS DISTINCT FROM OLD.version + 1 OR NEW.id IS DISTINCT FROM OLD.id THEN
                RAISE EXCEPTION '{_NEXT_VERSION}';
              END IF;
              {_keep_replaced(history, written_columns(metadata.tables[spec.name]))}
              RETURN NEW;
            END $$ LANGUAGE plpgsql"""
        )
        bind.exec_driver_sql(
            f'CREATE TRIGGER "{spec.name}_versioned" BEFORE UPDATE ON "{spec.name}" '
            f'FOR EACH ROW EXECUTE FUNCTION "{spec.name}_versioned"()'
        )
        bind.exec_driver_sql(
            f'CREATE TRIGGER "{history}_append_only" BEFORE UPDATE OR DELETE ON "{history}" '
            f"FOR EACH ROW EXECUTE FUNCTION mineaction_refuse('history', '{_APPEND_ONLY}')"
        )
        bind.exec_driver_sql(
            f'CREATE TRIGGER "{spec.name}_no_delete" BEFORE DELETE ON "{spec.name}" '
            f"FOR EACH ROW EXECUTE FUNCTION mineaction_refuse('current', '{_SOFT_DELETE}')"
        )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgres_upgrade(bind)
    else:
        _sqlite_upgrade(bind)


def downgrade() -> None:
    raise NotImplementedError("the initial register cannot be downgraded; restore a backup instead")
