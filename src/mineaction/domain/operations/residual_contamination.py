"""Residual contamination: a find in land already released or handed over.

**The boundary rule.** A find counts as *in released land* when its distance
to a released part (or a handed-over area) is at most ``tolerance_m`` metres,
measured on the ground; a find exactly on the boundary has distance 0 and is
inside. Why a tolerance, and why on the inside's side:

* both the released polygon (its turning points) and the find are positions
  taken by handheld GNSS, good to a few metres, so a find a few metres
  outside the mapped edge may well lie inside the real one;
* the two errors are not equal: a find wrongly flagged costs a desk review
  that dismisses it; a find wrongly not flagged leaves explosive ordnance in
  land people were told they may use, and the residual-contamination
  statistics under-count.

The default, :data:`DEFAULT_TOLERANCE_M` = 5 m, is a typical handheld GNSS
accuracy; give more where positions are known to be poorer. Each hit says
whether the find lies inside the polygon (``distance_m == 0``) or only within
the tolerance, so a review can tell a missed item from a boundary error.

**Metric.** Geometries come in WGS 84 lon/lat. Distances are computed in an
azimuthal equidistant projection centred on the data: distances from the
centre are exact, and the scale error elsewhere is ``(ρ/R)²/6`` at a distance
``ρ`` from the centre (0.4 % at 1,000 km), so a 5 m tolerance is right to
2 cm across a country the size of Ukraine. Whether a find touches or lies
in a polygon is decided in the stored lon/lat coordinates, exactly, so a
point on the boundary is inside whatever the projection.

**What a hit starts.** A residual-contamination review (flagged →
investigating → reopened as a new hazard, or dismissed) with a cause; the
released polygon is never edited: reopening creates a new SHA/CHA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from mineaction.domain.operations.states import StateMachine, Transition
from mineaction.domain.operations.vocabularies import check_code
from mineaction.errors import InvalidGeometry, InvalidValue

__all__ = [
    "DEFAULT_TOLERANCE_M",
    "RESIDUAL_REVIEW",
    "ReleasedLand",
    "ResidualHit",
    "check_review_outcome",
    "find_residual_contamination",
]

DEFAULT_TOLERANCE_M = 5.0
"""Metres: a find this close to released land counts as in it (typical handheld GNSS accuracy)."""

_KINDS = ("released_part", "handover")
_EARTH_RADIUS_M = 6_371_008.8

_A = frozenset({"authority"})
RESIDUAL_REVIEW = StateMachine(
    "residual-contamination review",
    "residual_review_state",
    [
        Transition("flagged", "investigating", _A),
        Transition("flagged", "dismissed", _A, reason_required=True),
        Transition("investigating", "reopened", _A, reason_required=True),
        Transition("investigating", "dismissed", _A, reason_required=True),
        Transition("reopened", "closed", _A),
        Transition("dismissed", "closed", _A),
    ],
)
"""The review a residual-contamination flag opens; the authority runs it (IMAS 07.14 risk management)."""


@dataclass(frozen=True)
class ReleasedLand:
    """A released part or handed-over area, in WGS 84 lon/lat, with what to name in a flag."""

    ref: str
    kind: str
    task_ref: str | None
    geometry: BaseGeometry

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise InvalidValue(f"released land {self.ref}: kind must be one of {', '.join(_KINDS)}, not {self.kind!r}")


@dataclass(frozen=True)
class ResidualHit:
    """One find in one piece of released land."""

    find: int
    land_ref: str
    kind: str
    task_ref: str | None
    distance_m: float

    @property
    def inside(self) -> bool:
        """Inside the polygon (or on its boundary), not only within the tolerance."""
        return self.distance_m == 0.0


def _local_metric(geometries: Sequence[BaseGeometry] | np.ndarray) -> Transformer:
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.asarray(geometries, dtype=object))
    lon0, lat0 = (xmin + xmax) / 2, (ymin + ymax) / 2
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m")
    return Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True)


def _project(geoms: np.ndarray, transformer: Transformer) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def find_residual_contamination(
    finds: Sequence[BaseGeometry] | np.ndarray,
    land: Sequence[ReleasedLand],
    *,
    tolerance_m: float | ArrayLike = DEFAULT_TOLERANCE_M,
) -> list[ResidualHit]:
    """Every (find, released land) pair within the tolerance, nearest first per find.

    Parameters
    ----------
    finds : sequence of shapely geometries
        Find locations (points, or the footprint of a strike) in lon/lat.
    land : sequence of ReleasedLand
        Released parts and handed-over areas to check against.
    tolerance_m : float or array
        Metres; one for all finds or one per find (e.g. its GNSS accuracy).

    Examples
    --------
    A 100 m square released part near Kharkiv; finds inside, on the edge,
    3 m outside and 50 m outside:

    >>> from shapely.geometry import Point, box
    >>> dlon, dlat = 100 / 68_600, 100 / 111_250   # about 100 m at 50° N
    >>> part = ReleasedLand("REL-1", "released_part", "T-7", box(36.0, 50.0, 36.0 + dlon, 50.0 + dlat))
    >>> finds = [Point(36.0 + dlon / 2, 50.0 + dlat / 2), Point(36.0, 50.0 + dlat / 2),
    ...          Point(36.0 - 3 / 68_600, 50.0 + dlat / 2), Point(36.0 - 50 / 68_600, 50.0)]
    >>> [(h.find, h.land_ref, h.task_ref, h.inside) for h in find_residual_contamination(finds, [part])]
    [(0, 'REL-1', 'T-7', True), (1, 'REL-1', 'T-7', True), (2, 'REL-1', 'T-7', False)]
    """
    geoms = np.asarray(finds, dtype=object)
    if geoms.ndim != 1:
        raise InvalidValue("finds: a flat sequence of geometries")
    if not len(geoms) or not len(land):
        return []
    if shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any():
        raise InvalidGeometry(f"find {int(np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))[0])} "
                              f"has no geometry")
    tolerance = np.broadcast_to(np.asarray(tolerance_m, dtype=float), geoms.shape)
    if not (np.isfinite(tolerance) & (tolerance >= 0)).all():
        raise InvalidValue("tolerance_m must be a number of metres ≥ 0")
    areas = np.array([item.geometry for item in land], dtype=object)
    transformer = _local_metric(np.concatenate([geoms, areas]))
    local_finds, local_land = _project(geoms, transformer), _project(areas, transformer)
    tree = shapely.STRtree(local_land)
    find_i, land_i = tree.query(local_finds, predicate="dwithin", distance=float(tolerance.max()))
    # touching in the stored lon/lat is inside exactly; projecting could move a boundary point by nanometres
    touching = shapely.intersects(geoms[find_i], areas[land_i])
    distance = np.where(touching, 0.0, shapely.distance(local_finds[find_i], local_land[land_i]))
    keep = distance <= tolerance[find_i]
    find_i, land_i, distance = find_i[keep], land_i[keep], distance[keep]
    order = np.lexsort((land_i, distance, find_i))
    return [
        ResidualHit(int(f), land[j].ref, land[j].kind, land[j].task_ref, float(d))
        for f, j, d in zip(find_i[order], land_i[order], distance[order], strict=True)
    ]


def check_review_outcome(state: str, cause: str | None, new_hazard_ref: str | None) -> None:
    """What a review must record in its final states.

    Reopened: the cause (vocabulary ``residual_cause``) and the new hazard
    that now holds the area (the released part is never edited). Dismissed:
    a cause is optional (``boundary_error`` when the find proved outside).

    >>> check_review_outcome("reopened", "missed", None)
    Traceback (most recent call last):
    ...
    mineaction.errors.InvalidValue: a reopened residual-contamination review names the new hazard that holds the area
    """
    check_code("residual_review_state", state, where="review state")
    if cause is not None:
        check_code("residual_cause", cause, where="residual-contamination cause")
    if state == "reopened":
        if cause is None:
            raise InvalidValue("a reopened residual-contamination review records its cause")
        if not new_hazard_ref:
            raise InvalidValue("a reopened residual-contamination review names the new hazard that holds the area")
