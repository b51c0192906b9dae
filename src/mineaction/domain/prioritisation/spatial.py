"""Criteria computed from geography: people, accidents and facilities near each hazard.

All functions take hazards and points in WGS 84 longitude/latitude (the
register's CRS) and measure distances in metres in a projected CRS: the one you
give, or the UTM zone at the centre of the hazards. A UTM zone keeps distance
errors below about 0.1 % inside the zone and about 0.5 % 9° of longitude away
from it (all of Ukraine from zone 36N), i.e. metres on a 1 km criterion; pass
the zone or an equal-distance CRS of your programme when that matters.

Distance is measured from the hazard *boundary* (a point inside a hazard is at
distance 0), which is what "people within 1 km of the hazard" means.
Missing or empty hazard geometries give NaN, so a gap in the data shows.
Computing several criteria for the same hazards, project them once with
:func:`project_hazards` and pass the result instead of the geometries.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from mineaction.domain.geometry import WGS84
from mineaction.errors import CRSRequired, InvalidValue

__all__ = [
    "ProjectedHazards",
    "count_within",
    "metric_crs",
    "population_within",
    "population_within_raster",
    "project_hazards",
]

_HAZARDS_PER_BLOCK = 10_000  # bounds the candidate pairs held at once


def _hazards(hazard_geoms: ArrayLike) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    geoms = np.atleast_1d(np.asarray(hazard_geoms, dtype=object))
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    coords = shapely.get_coordinates(geoms[present])
    _check_lonlat(coords, "hazard_geoms")
    return geoms, present


def _check_lonlat(coords: NDArray[np.float64], what: str) -> None:
    if not np.isfinite(coords).all():
        raise InvalidValue(f"{what}: coordinates must be finite")
    if len(coords) and (np.abs(coords[:, 0]).max() > 180 or np.abs(coords[:, 1]).max() > 90):
        raise InvalidValue(
            f"{what}: coordinates outside longitude/latitude range",
            hint="give WGS 84 longitude/latitude (EPSG:4326); reproject projected data first",
        )


def _points_lonlat(points: ArrayLike, what: str) -> NDArray[np.float64]:
    arr = np.asarray(points)
    if arr.dtype == object:
        if not (shapely.get_type_id(arr) == 0).all():
            raise InvalidValue(f"{what}: expected Point geometries")
        xy = shapely.get_coordinates(arr)
    elif arr.size == 0:
        xy = np.empty((0, 2))
    elif arr.ndim == 2 and arr.shape[1] == 2:
        xy = arr.astype(float)
    else:
        raise InvalidValue(f"{what}: expected an (n, 2) array of longitude, latitude")
    _check_lonlat(xy, what)
    return xy


def _weights(weights: ArrayLike | None, n: int) -> NDArray[np.float64]:
    if weights is None:
        return np.ones(n)
    values = np.asarray(weights, dtype=float).reshape(-1)
    if values.shape != (n,) or not np.isfinite(values).all():
        raise InvalidValue(f"weights: expected {n} finite values, one per point")
    return values


def metric_crs(hazard_geoms: ArrayLike, crs: Any = None) -> CRS:
    """The projected CRS in which distances around ``hazard_geoms`` are measured.

    Parameters
    ----------
    hazard_geoms : array_like of shapely geometries
        Hazards in WGS 84 longitude/latitude.
    crs : pyproj.CRS, int, str or None
        A projected CRS in metres (EPSG code or anything pyproj accepts). ``None``
        picks the WGS 84 UTM zone at the centre of the hazards' bounds.

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> from shapely import box
    >>> metric_crs([box(30.5, 50.4, 30.6, 50.5)]).to_epsg()
    32636
    >>> metric_crs([box(30.5, 50.4, 30.6, 50.5)], 32635).to_epsg()
    32635
    """
    if crs is not None:
        chosen = CRS.from_user_input(crs)
        units = {axis.unit_name for axis in chosen.axis_info}
        if not chosen.is_projected or not units <= {"metre"}:
            raise CRSRequired(f"distances need a projected CRS in metres, not {chosen.name}")
        return chosen
    geoms, present = _hazards(hazard_geoms)
    if not present.any():
        raise InvalidValue("hazard_geoms: no geometry to choose a UTM zone from")
    west, south, east, north = shapely.total_bounds(geoms[present])
    lon, lat = (west + east) / 2, (south + north) / 2
    info = query_utm_crs_info(
        datum_name="WGS 84", area_of_interest=AreaOfInterest(lon, lat, lon, lat)
    )
    return CRS.from_epsg(int(info[0].code))


@dataclass(frozen=True, eq=False)
class _Discs:
    """Per hazard, a centre ``(x, y)`` inside it, the radius of a disc around the
    centre that lies inside the hazard, and one that contains the hazard."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    inner: NDArray[np.float64]
    outer: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ProjectedHazards:
    """Hazards projected to a metric CRS once, to compute several criteria from.

    Attributes
    ----------
    geoms : numpy.ndarray of shapely geometries
        The hazards that have a geometry, in ``crs``.
    present : numpy.ndarray of bool
        Which of the input hazards have one (the others get NaN).
    crs : pyproj.CRS
    """

    geoms: NDArray[np.object_]
    present: NDArray[np.bool_]
    crs: CRS

    def to_metric(self) -> Transformer:
        """Transformer from WGS 84 lon/lat to this CRS."""
        return Transformer.from_crs(WGS84, self.crs, always_xy=True)

    @cached_property
    def _discs(self) -> _Discs:
        centroid = shapely.centroid(self.geoms)
        centre = np.where(shapely.contains_properly(self.geoms, centroid), centroid,
                          shapely.point_on_surface(self.geoms))
        polygonal = np.isin(shapely.get_type_id(self.geoms), (3, 6))
        inner = np.where(polygonal, shapely.distance(centre, shapely.boundary(self.geoms)), 0.0)
        coords, owner = shapely.get_coordinates(self.geoms, return_index=True)
        cx, cy = shapely.get_x(centre), shapely.get_y(centre)
        outer = np.zeros(len(self.geoms))
        np.maximum.at(outer, owner, np.hypot(coords[:, 0] - cx[owner], coords[:, 1] - cy[owner]))
        shapely.prepare(self.geoms)
        return _Discs(cx, cy, np.nan_to_num(inner), outer)

    def sums(self, xy: NDArray[np.float64], values: NDArray[np.float64], distance_m: float) -> NDArray[np.float64]:
        """Sum of ``values`` of lon/lat points ``xy`` within ``distance_m`` of each hazard.

        Exact distances are slow and most points are plainly near or plainly
        far: a point within ``d + inner`` of the centre is within ``d`` of the
        hazard, one beyond ``d + outer`` is not; only the ring between needs
        GEOS ``dwithin``.
        """
        if not (np.isfinite(distance_m) and distance_m >= 0):
            raise InvalidValue(f"distance_m must be a finite distance ≥ 0, not {distance_m!r}")
        out = np.full(len(self.present), np.nan)
        x, y = self.to_metric().transform(xy[:, 0], xy[:, 1])
        points = shapely.points(x, y)
        tree = shapely.STRtree(points)
        discs = self._discs
        totals = np.zeros(len(self.geoms))
        for block in range(0, len(self.geoms), _HAZARDS_PER_BLOCK):
            h = np.arange(block, min(block + _HAZARDS_PER_BLOCK, len(self.geoms)))
            reach = distance_m + discs.outer[h]
            boxes = shapely.box(discs.x[h] - reach, discs.y[h] - reach, discs.x[h] + reach, discs.y[h] + reach)
            local, p = tree.query(boxes)
            owner = h[local]
            squared = (x[p] - discs.x[owner]) ** 2 + (y[p] - discs.y[owner]) ** 2
            near = squared <= (distance_m + discs.inner[owner]) ** 2
            ring = ~near & (squared <= (distance_m + discs.outer[owner]) ** 2)
            near[ring] = shapely.dwithin(self.geoms[owner[ring]], points[p[ring]], distance_m)
            totals += np.bincount(owner[near], weights=values[p[near]], minlength=len(self.geoms))
        out[self.present] = totals
        return out


def project_hazards(hazard_geoms: ArrayLike | ProjectedHazards, crs: Any = None) -> ProjectedHazards:
    """Project lon/lat hazards to ``crs`` (default: their UTM zone); see :func:`metric_crs`.

    Already projected hazards are returned as they are.

    >>> from shapely import box
    >>> projected = project_hazards([box(30.5, 50.4, 30.6, 50.5), None])
    >>> projected.crs.to_epsg(), projected.present.tolist()
    (32636, [True, False])
    """
    if isinstance(hazard_geoms, ProjectedHazards):
        return hazard_geoms
    geoms, present = _hazards(hazard_geoms)
    chosen = metric_crs(geoms[present], crs) if present.any() else CRS.from_user_input(crs or WGS84)
    to_metric = Transformer.from_crs(WGS84, chosen, always_xy=True)
    projected = shapely.transform(
        geoms[present], lambda c: np.column_stack(to_metric.transform(c[:, 0], c[:, 1]))
    )
    return ProjectedHazards(projected, present, chosen)


def population_within(
    hazard_geoms: ArrayLike | ProjectedHazards,
    points_xy: ArrayLike,
    weights: ArrayLike | None = None,
    distance_m: float = 1000.0,
    *,
    crs: Any = None,
) -> NDArray[np.float64]:
    """Sum of point weights within ``distance_m`` of each hazard.

    The weights are people per point (census blocks, building footprints with
    an occupancy, a population raster's cells); without weights every point
    counts 1. One STRtree over the points; see :meth:`ProjectedHazards.sums`.

    Parameters
    ----------
    hazard_geoms : array_like of shapely geometries, shape (h,), or ProjectedHazards
        Hazards in WGS 84 longitude/latitude, or as :func:`project_hazards` made them.
    points_xy : array_like, shape (n, 2), or array_like of shapely Points
        Point locations, longitude then latitude.
    weights : array_like, shape (n,), optional
        Value carried by each point (default 1).
    distance_m : float
        Distance from the hazard boundary, in metres (0 counts points inside
        or on the boundary).
    crs : pyproj.CRS, int, str or None
        Projected CRS in metres for the distances; see :func:`metric_crs`
        (not used with ProjectedHazards, which carry theirs).

    Returns
    -------
    numpy.ndarray of float, shape (h,)
        NaN where the hazard geometry is missing or empty.

    Examples
    --------
    Two villages 500 m and 1.5 km east of a hazard, one with 120 people and one
    with 80:

    >>> from shapely import box
    >>> hazard = box(30.0, 50.0, 30.001, 50.001)
    >>> east = 1 / (111_320 * np.cos(np.radians(50.0005)))  # degrees per metre
    >>> villages = [(30.001 + 500 * east, 50.0005), (30.001 + 1500 * east, 50.0005)]
    >>> population_within([hazard, None], villages, [120, 80], 1000)
    array([120.,  nan])
    >>> population_within([hazard], villages, [120, 80], 2000)
    array([200.])
    """
    hazards = project_hazards(hazard_geoms, crs)
    xy = _points_lonlat(points_xy, "points_xy")
    return hazards.sums(xy, _weights(weights, len(xy)), distance_m)


def count_within(
    hazard_geoms: ArrayLike | ProjectedHazards,
    event_points: ArrayLike,
    distance_m: float,
    *,
    event_dates: ArrayLike | None = None,
    since: Any = None,
    weights: ArrayLike | None = None,
    crs: Any = None,
) -> NDArray[np.float64]:
    """Events (accidents, victims) within ``distance_m`` of each hazard, optionally since a date.

    Recent accidents near a hazard are the strongest sign that people are
    using the land despite it; ``since`` keeps old events from dominating.

    Parameters
    ----------
    hazard_geoms : array_like of shapely geometries, shape (h,), or ProjectedHazards
        Hazards in WGS 84 longitude/latitude, or as :func:`project_hazards` made them.
    event_points : array_like, shape (n, 2), or array_like of shapely Points
        Event locations, longitude then latitude.
    distance_m : float
        Distance from the hazard boundary, in metres.
    event_dates : array_like of dates, shape (n,), optional
        Date of each event; required with ``since``. Missing dates (NaT) never
        count as recent.
    since : date, str or numpy.datetime64, optional
        Count only events on or after this day.
    weights : array_like, shape (n,), optional
        Per-event value, e.g. victims per accident (default 1: count events).
    crs : pyproj.CRS, int, str or None
        Projected CRS in metres; see :func:`population_within`.

    Returns
    -------
    numpy.ndarray of float, shape (h,)

    Examples
    --------
    >>> from shapely import box
    >>> hazard = box(30.0, 50.0, 30.01, 50.01)
    >>> accidents = [(30.005, 50.005), (30.005, 50.012), (30.005, 50.1)]
    >>> count_within([hazard], accidents, 1000)
    array([2.])
    >>> count_within([hazard], accidents, 1000, event_dates=["2023-05-01", "2024-02-01", "2024-03-01"],
    ...              since="2024-01-01", weights=[1, 3, 2])
    array([3.])
    """
    xy = _points_lonlat(event_points, "event_points")
    values = _weights(weights, len(xy))
    if since is not None:
        if event_dates is None:
            raise InvalidValue("since needs event_dates, one per event")
        dates = np.asarray(event_dates, dtype="datetime64[D]").reshape(-1)
        if dates.shape != (len(xy),):
            raise InvalidValue(f"event_dates: expected {len(xy)} dates, one per event")
        recent = dates >= np.datetime64(since, "D")
        xy, values = xy[recent], values[recent]
    return population_within(hazard_geoms, xy, values, distance_m, crs=crs)


def population_within_raster(
    hazard_geoms: ArrayLike | ProjectedHazards,
    raster_path: str | os.PathLike[str],
    distance_m: float,
    *,
    band: int = 1,
    crs: Any = None,
) -> NDArray[np.float64]:
    """People within ``distance_m`` of each hazard, from a population raster (e.g. WorldPop).

    A cell counts when its *centre* lies within the distance, so the answer is
    exact to within the cells cut by the edge of the distance band (about one
    cell width around it). Only the window covering the hazards plus the
    distance is read; no-data and non-positive cells are skipped.

    Parameters
    ----------
    hazard_geoms : array_like of shapely geometries, shape (h,), or ProjectedHazards
        Hazards in WGS 84 longitude/latitude, or as :func:`project_hazards` made them.
    raster_path : str or os.PathLike
        Any raster GDAL reads, with a CRS; cell values are people per cell.
    distance_m : float
        Distance from the hazard boundary, in metres.
    band : int
        Band holding the counts (1-based).
    crs : pyproj.CRS, int, str or None
        Projected CRS in metres; see :func:`population_within`.

    Returns
    -------
    numpy.ndarray of float, shape (h,)

    Notes
    -----
    Needs the optional dependency ``rasterio``.
    """
    # rasterio is optional: the rest of the package works without GDAL's raster stack.
    import rasterio
    from rasterio.errors import WindowError
    from rasterio.transform import xy as cell_centres
    from rasterio.windows import Window, from_bounds

    hazards = project_hazards(hazard_geoms, crs)
    if not hazards.present.any():
        return np.full(len(hazards.present), np.nan)
    with rasterio.open(raster_path) as src:
        if src.crs is None:
            raise CRSRequired(f"{raster_path}: raster has no CRS")
        raster_crs = CRS.from_user_input(src.crs.to_wkt())
        west, south, east, north = shapely.total_bounds(hazards.geoms)
        margin = distance_m + 2 * max(abs(src.res[0]), abs(src.res[1])) * _metres_per_unit(raster_crs)
        bounds = Transformer.from_crs(hazards.crs, raster_crs, always_xy=True).transform_bounds(
            west - margin, south - margin, east + margin, north + margin
        )
        wanted = from_bounds(*bounds, transform=src.transform)
        try:
            # the margin of two cells covers the rounding of the window to whole cells
            window = wanted.round_offsets().round_lengths().intersection(Window(0, 0, src.width, src.height))
        except WindowError:  # the hazards and their surroundings lie outside the raster
            return np.where(hazards.present, 0.0, np.nan)
        data = src.read(band, window=window, masked=True)
        transform = src.window_transform(window)
    rows, cols = np.nonzero(data.filled(0) > 0)
    xs, ys = cell_centres(transform, rows, cols, offset="center")
    lon, lat = Transformer.from_crs(raster_crs, WGS84, always_xy=True).transform(
        np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    )
    return hazards.sums(np.column_stack([lon, lat]), np.asarray(data[rows, cols], dtype=float), distance_m)


def _metres_per_unit(crs: CRS) -> float:
    """Rough size of one CRS unit in metres, to pad a read window by a couple of cells."""
    return 111_320.0 if crs.is_geographic else 1.0
