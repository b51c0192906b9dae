"""Land-release ledger rules (IMAS 07.11), pure and storage-free.

Released square metres must be counted once, under the method that released
them: the classic reporting error is double counting. So within one hazard
released parts never overlap each other and never reach outside the hazard.
A new part that breaks either rule by more than a small tolerance is refused,
naming the hazard, the activity, the part it collides with and the area; a
part within tolerance is trimmed so the rules hold exactly. Remaining area is
the hazard minus the union of its parts. Elapsed time never releases land:
nothing here takes a date as a reason to release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from mineaction.domain.geometry import geodesic_area
from mineaction.errors import InvalidValue, LedgerViolation

__all__ = [
    "ALLOWED_RELEASE",
    "DEFAULT_TOLERANCE_M2",
    "ExistingPart",
    "Trim",
    "check_outline",
    "check_release",
    "remaining_geometry",
]

DEFAULT_TOLERANCE_M2 = 1.0

#: which release type each activity type may produce (IMAS 07.11: NTS cancels,
#: TS reduces and may clear what it searched, clearance clears)
ALLOWED_RELEASE: dict[str, frozenset[str]] = {
    "nts": frozenset({"cancelled"}),
    "ts": frozenset({"reduced", "cleared"}),
    "clearance": frozenset({"cleared"}),
}


@dataclass(frozen=True)
class ExistingPart:
    ref: str
    geometry: BaseGeometry


@dataclass(frozen=True)
class Trim:
    """Area removed from a new part to make it fit (below tolerance), for the record."""

    outside_hazard_m2: float
    overlap_m2: float


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    parts = shapely.get_parts(geometry)
    parts = parts[shapely.get_type_id(parts) == 3]
    return shapely.MultiPolygon(list(parts))


def check_release(
    *,
    hazard_ref: str,
    hazard: BaseGeometry,
    activity_ref: str,
    activity_type: str,
    release_type: str,
    part: BaseGeometry,
    existing: Sequence[ExistingPart],
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
) -> tuple[BaseGeometry, Trim]:
    """Check a new released part against its hazard and earlier parts.

    Returns the part as it will be recorded (trimmed by at most
    ``tolerance_m2`` per rule, as a MultiPolygon) and what was trimmed.
    Raises :class:`LedgerViolation` naming what collides and by how much.
    """
    allowed = ALLOWED_RELEASE.get(activity_type)
    if allowed is None:
        raise InvalidValue(f"activity {activity_ref}: unknown activity type {activity_type!r}")
    if release_type not in allowed:
        raise LedgerViolation(
            f"hazard {hazard_ref}, activity {activity_ref}: a {activity_type} cannot produce "
            f"'{release_type}' land",
            hint=f"{activity_type} produces {', '.join(sorted(allowed))}",
        )
    outside = part.difference(hazard)
    outside_m2 = float(geodesic_area(outside)) if not outside.is_empty else 0.0
    if outside_m2 > tolerance_m2:
        raise LedgerViolation(
            f"hazard {hazard_ref}, activity {activity_ref}: released part reaches "
            f"{outside_m2:,.1f} m² outside the hazard (tolerance {tolerance_m2} m²)",
            hint="clip the part to the hazard polygon, or extend the hazard first by a new version",
        )
    trimmed = part.intersection(hazard)
    overlap_m2 = 0.0
    candidates = [p for p in existing if p.geometry.intersects(trimmed)]
    for other in candidates:
        overlap = trimmed.intersection(other.geometry)
        area = float(geodesic_area(overlap)) if not overlap.is_empty else 0.0
        if area > tolerance_m2:
            raise LedgerViolation(
                f"hazard {hazard_ref}, activity {activity_ref}: released part overlaps released "
                f"part {other.ref} by {area:,.1f} m² (tolerance {tolerance_m2} m²)",
                hint="released land is counted once: remove the overlap from the new part",
            )
        overlap_m2 += area
    if candidates:
        trimmed = trimmed.difference(shapely.union_all([p.geometry for p in candidates]))
    trimmed = _polygonal(trimmed)
    if trimmed.is_empty:
        raise LedgerViolation(
            f"hazard {hazard_ref}, activity {activity_ref}: released part has no area left "
            "inside the hazard once earlier releases are taken out"
        )
    return trimmed, Trim(outside_m2, overlap_m2)


def check_outline(
    *,
    hazard_ref: str,
    outline: BaseGeometry,
    parts: Sequence[ExistingPart],
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
) -> None:
    """Refuse a new hazard outline that would leave released land outside the hazard."""
    for part in parts:
        outside = part.geometry.difference(outline)
        area = float(geodesic_area(outside)) if not outside.is_empty else 0.0
        if area > tolerance_m2:
            raise LedgerViolation(
                f"hazard {hazard_ref}: the new outline leaves {area:,.1f} m² of released part "
                f"{part.ref} outside the hazard",
                hint="released land stays counted: draw the outline around all released parts",
            )


def remaining_geometry(hazard: BaseGeometry, parts: Sequence[BaseGeometry]) -> BaseGeometry:
    """The hazard minus the union of its released parts (what is still to be released)."""
    if not parts:
        return hazard
    return hazard.difference(shapely.union_all(list(parts)))
