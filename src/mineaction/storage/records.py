"""Records as the register hands them out: one version of one entity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from shapely.geometry.base import BaseGeometry

from mineaction.domain.entities import ENTITIES
from mineaction.errors import StorageError
from mineaction.storage.schema import GEOMETRY_COLUMN

__all__ = ["Record", "RecordColumns", "record_from_row"]


@dataclass(frozen=True)
class Record:
    """One version of one register record; immutable."""

    entity: str
    id: str
    ref: str
    version: int
    values: dict[str, Any]
    geometry: BaseGeometry | None
    recorded_at: dt.datetime
    recorded_by: str
    changeset_id: int
    deleted: bool = False
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def outline(self) -> BaseGeometry:
        """The geometry of a hazard, released part or other record that must have one.

        Only an edit outside mineaction (a GIS on the GeoPackage) can have removed it.
        """
        if self.geometry is None:
            raise StorageError(f"{self.ref} has no geometry", hint="restore it from the record's history or a backup")
        return self.geometry

    @property
    def __geo_interface__(self) -> dict[str, Any]:
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": None if self.geometry is None else self.geometry.__geo_interface__,
            "properties": {"ref": self.ref, "version": self.version, **self.values},
        }


def record_from_row(entity: str, row: Any) -> Record:
    mapping = row._mapping
    spec = ENTITIES[entity]
    return Record(
        entity=entity,
        id=mapping["id"],
        ref=mapping["ref"],
        version=mapping["version"],
        values={f.name: mapping[f.name] for f in spec.fields},
        geometry=mapping[GEOMETRY_COLUMN] if spec.geometry else None,
        recorded_at=mapping["recorded_at"],
        recorded_by=mapping["recorded_by"],
        changeset_id=mapping["changeset_id"],
        deleted=bool(mapping["deleted"]),
    )


class RecordColumns(Sequence[Record]):
    """Records just written in one batch, made on demand from their columns.

    A bulk load of 100,000 hazards needs none of them; a form that adds one
    record wants it back. A column is a list with a value per record, or one
    value shared by all.
    """

    def __init__(self, entity: str, columns: dict[str, Any], n: int):
        self.entity = entity
        self._columns = columns
        self._n = n

    def __len__(self) -> int:
        return self._n

    def column(self, name: str) -> list[Any]:
        """One value of every record, without making the records (``id``, ``version``, a field)."""
        column = self._columns.get(name)
        if isinstance(column, np.ndarray):
            return column.tolist()
        return list(column) if isinstance(column, (list, tuple)) else [column] * self._n

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._n))]
        if not -self._n <= index < self._n:
            raise IndexError(index)
        i = index % self._n

        def value(name: str) -> Any:
            column = self._columns.get(name)
            return column[i] if isinstance(column, (list, tuple, np.ndarray)) else column

        spec = ENTITIES[self.entity]
        return Record(
            entity=self.entity,
            id=value("id"),
            ref=value("ref"),
            version=value("version"),
            values={f.name: value(f.name) for f in spec.fields},
            geometry=value(GEOMETRY_COLUMN) if spec.geometry else None,
            recorded_at=value("recorded_at"),
            recorded_by=value("recorded_by"),
            changeset_id=value("changeset_id"),
            deleted=value("deleted"),
        )
