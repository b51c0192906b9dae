"""Programme-wide settings that domain rules depend on.

They are stored in the register itself (``programme_setting``), so every
output of it (web, exports, reports) and every copy of the file follows the
same rules: ``public_locations`` says how precisely restricted locations
(hazards, finds, accidents) are shown to callers with only the ``public``
role. A national authority decides it, not the operator of one web server.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mineaction.domain.generalisation import Generalisation
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
    public_locations: Generalisation = field(default_factory=Generalisation)  # 1 km grid unless configured
    notes: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Programme:
        extent, public = data.get("extent"), data.get("public_locations")
        return cls(**{**data, "extent": Extent(**extent) if extent else None,
                      "public_locations": Generalisation(**public) if public else Generalisation()})
