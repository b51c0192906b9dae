"""One consistent, read-only view of the register for a whole export.

Every layer of an export is read inside one transaction (on PostgreSQL at
REPEATABLE READ, which SQLite gives by default), so the layers agree, but a
layer comes a batch of columns at a time from the driver's cursor, without a
Row object per record: only one batch is held at a time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa

from mineaction.domain.entities import Kind, entity
from mineaction.storage import driver_rows, gpkg
from mineaction.storage.errors import translate_errors
from mineaction.storage.reads import Scope
from mineaction.storage.register import Register, naive_utc
from mineaction.storage.schema import GEOMETRY_COLUMN, gpkg_wkb

__all__ = ["Snapshot", "snapshot"]


class Snapshot:
    """Reads of one transaction; geometries come raw (see :meth:`geometries` and :meth:`iso_wkb`)."""

    def __init__(self, register: Register, connection: sa.Connection) -> None:
        self.register = register
        self._connection = connection

    @property
    def stores_iso_wkb(self) -> bool:
        """Raw geometries are ISO WKB cut from GeoPackage blobs, as GDAL's writers take them."""
        return self.register.dialect == "sqlite"

    def last_change(self, as_of: dt.datetime | None = None) -> dt.datetime | None:
        """Time of the newest changeset (at or before ``as_of``): the state this snapshot shows."""
        changesets = self.register.tables["changeset"]
        last = sa.select(sa.func.max(changesets.c.recorded_at))
        if as_of is not None:
            last = last.where(changesets.c.recorded_at <= naive_utc(as_of))
        return self._connection.execute(last).scalar()

    def organisation_id(self, key: str) -> str | None:
        """Id of the organisation whose id, ref, name or acronym is ``key``, or None."""
        table = self.register.tables["organisation"]
        return self._connection.execute(
            sa.select(table.c.id).where(sa.or_(table.c.id == key, table.c.ref == key, table.c.name == key,
                                               table.c.acronym == key))
        ).scalar()

    def refs(self, entity_name: str) -> dict[str, str]:
        """Ref of every record of ``entity_name``, deleted ones included, by id."""
        table = self.register.tables[entity(entity_name).name]
        return dict(self._connection.execute(sa.select(table.c.id, table.c.ref)).all())

    def batches(
        self, entity_name: str, columns: Sequence[str], *, as_of: dt.datetime | None = None,
        equal: tuple[str, str] | None = None, scope: Scope | None = None, size: int,
    ) -> Iterator[dict[str, list[Any]]]:
        """Live records of ``entity_name`` (at ``as_of``) by ref, ``size`` at a time, as lists per column.

        ``equal``: (column, value) a record must hold, when the entity has the
        column; ``scope``: only the records the caller may read. Dates, times and code lists come as the text the driver
        returns (parsing them a row at a time costs more than the export
        itself; Arrow and ``json.loads`` do it for whole columns), geometries raw.
        """
        spec = entity(entity_name)
        source = self.register.table_as_of(spec.name, as_of)
        kinds = {f.name: f.kind for f in spec.fields}
        query = sa.select(*[self._raw(source.c[n], kinds.get(n)) for n in columns]).where(source.c.deleted.is_(False))
        if scope is not None:
            query = query.where(scope.clause(source))
        if equal is not None and equal[0] in source.c:
            query = query.where(source.c[equal[0]] == equal[1])
        for batch in driver_rows.column_batches(self._connection, query.order_by(source.c.ref), size=size):
            yield dict(zip(columns, batch))

    def _raw(self, column: sa.ColumnElement[Any], kind: Kind | None) -> sa.ColumnElement[Any]:
        if kind in (Kind.DATE, Kind.CODES) or column.name == "recorded_at":
            return sa.type_coerce(column, sa.Text).label(column.name)
        if column.name == GEOMETRY_COLUMN:  # WKB cut from GeoPackage blobs by SQLite; PostGIS sends EWKB as hex text
            raw = gpkg_wkb(column) if self.register.dialect == "sqlite" else sa.type_coerce(column, sa.Text)
            return raw.label(column.name)
        return column

    def geometries(self, raw: Sequence[Any]) -> np.ndarray:
        """Shapely geometries of raw geometry values, decoded in one call."""
        if self.register.dialect == "sqlite":
            return gpkg.decode_many(list(raw))
        return shapely.from_wkb(np.asarray(list(raw), dtype=object))  # PostGIS: EWKB as hex text

    def iso_wkb(self, raw: Sequence[Any]) -> list[bytes | None]:
        """Raw geometry values as ISO WKB (only when :attr:`stores_iso_wkb`)."""
        return gpkg.wkb_many(raw)


@contextlib.contextmanager
def snapshot(register: Register, action: str = "export") -> Iterator[Snapshot]:
    """A read-only transaction over the whole register, rolled back at the end."""
    with translate_errors(action), register.engine.connect() as connection:
        if register.dialect == "postgresql":  # one snapshot for every layer, as SQLite gives by default
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        connection.begin()
        yield Snapshot(register, connection)
        connection.rollback()  # read only; on an error, closing the connection rolls back
