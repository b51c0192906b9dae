"""Records as the register hands them out: one version of one entity."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from mineaction.domain.entities import ENTITIES
from mineaction.storage.schema import GEOMETRY_COLUMN

__all__ = ["Record", "record_from_row"]


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
