"""Duplicate folding: reports of the same item become one case, and every original is kept.

The rule, in the order reports were received (ties by their order in the
input): a report folds into the *nearest primary* received no more than
``window`` before it and no more than ``distance_m`` metres from it
(geodesic, WGS 84); if there is none it becomes a primary itself. Folding
only ever points a report at a primary, never at another duplicate, so a
chain of reports 40 m apart cannot drag a case across a village: every
member lies within ``distance_m`` of its primary. Because a report only
looks back in time, the rule gives the same answer at intake (one new report
against the stored primaries) as over a whole table afterwards.

Candidates come from a Shapely 2 STRtree ``dwithin`` query with a radius in
degrees wide enough at the highest latitude present, then the exact
geodesic distance from pyproj decides.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from pyproj import Geod

__all__ = ["fold"]

_GEOD = Geod(ellps="WGS84")


def _candidates(lon: np.ndarray, lat: np.ndarray, distance_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j), i != j, within ``distance_m`` on the ellipsoid, with their distance."""
    points = np.asarray(shapely.points(lon, lat), dtype=object)
    widest = np.cos(np.radians(min(float(np.max(np.abs(lat))), 89.0)))
    # a degree of latitude is at least 110,574 m; a degree of longitude shrinks with cos(latitude)
    radius = distance_m / (110_574.0 * widest)
    i, j = shapely.STRtree(points).query(points, predicate="dwithin", distance=radius)
    keep = i != j
    i, j = i[keep], j[keep]
    _, _, metres = _GEOD.inv(lon[i], lat[i], lon[j], lat[j])
    near = metres <= distance_m
    return i[near], j[near], np.asarray(metres)[near]


def fold(
    lon: np.ndarray, lat: np.ndarray, received: np.ndarray, *, distance_m: float, window: dt.timedelta
) -> np.ndarray:
    """For each report, the index of the primary it folds into (its own index if it is one).

    Reports without a position (NaN) are never folded: the dispatcher locates
    them first. ``received`` is a ``datetime64`` array.

    >>> t = np.array(["2026-05-01T10:00", "2026-05-01T11:00", "2026-05-09T10:00"], dtype="datetime64[s]")
    >>> fold(np.array([30.0, 30.0003, 30.0]), np.array([50.0, 50.0, 50.0]), t,
    ...      distance_m=50, window=dt.timedelta(hours=72)).tolist()
    [0, 0, 2]
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    at = np.asarray(received, dtype="datetime64[s]")
    n = len(lon)
    primary = np.arange(n)
    located = np.flatnonzero(~(np.isnan(lon) | np.isnan(lat)))
    if len(located) < 2:
        return primary
    i, j, metres = _candidates(lon[located], lat[located], distance_m)
    i, j = located[i], located[j]
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), at))] = np.arange(n)
    span = np.timedelta64(int(window.total_seconds()), "s")
    earlier = (rank[j] < rank[i]) & (at[i] - at[j] <= span)
    i, j, metres = i[earlier], j[earlier], metres[earlier]
    # each report's candidates, nearest first, visited in the order received
    order = np.lexsort((rank[j], metres, rank[i]))
    i, j = i[order], j[order]
    bounds = np.searchsorted(rank[i], np.arange(n + 1))
    by_rank = np.argsort(rank)
    for r in range(n):
        lo, hi = bounds[r], bounds[r + 1]
        for k in range(lo, hi):
            if primary[j[k]] == j[k]:
                primary[by_rank[r]] = j[k]
                break
    return primary
