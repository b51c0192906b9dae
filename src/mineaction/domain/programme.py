"""Programme-wide settings that domain rules depend on."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mineaction.domain.geometry import Extent
from mineaction.domain.ledger import DEFAULT_TOLERANCE_M2

__all__ = ["Programme"]


@dataclass(frozen=True)
class Programme:
    """The mine action programme a register serves."""

    name: str
    extent: Extent | None = None
    local_crs: str = "EPSG:4326"  # CRS field teams usually work in (e.g. a UTM zone)
    overlap_tolerance_m2: float = DEFAULT_TOLERANCE_M2
    fictional: bool = False
    notes: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Programme:
        extent = data.get("extent")
        return cls(**{**data, "extent": Extent(**extent) if extent else None})
