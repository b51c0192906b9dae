"""Geometry rules of the register: CRS, validity, axis order, geodesic area.

Everything the register stores is WGS 84 longitude/latitude (EPSG:4326, x =
longitude). Input may come in any CRS but must say which; a geometry that is
invalid is refused with Shapely's reason and the coordinate of the fault, and
repaired only when asked, with the area change reported. Areas are always
geodesic square metres on the WGS 84 ellipsoid, never planar degrees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import overload

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from mineaction.errors import (
    CRSRequired,
    InvalidGeometry,
    OutsideProgrammeExtent,
    SwappedAxes,
)

__all__ = [
    "EDGE_STEP_DEG",
    "WGS84",
    "Extent",
    "Repair",
    "as_multipolygons",
    "check_extent",
    "geodesic_area",
    "prepare_geometry",
    "to_crs",
    "to_wgs84",
    "validate",
]

WGS84 = CRS.from_epsg(4326)
_REASON_LOCATION = re.compile(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)\s*\]")


@dataclass(frozen=True)
class Extent:
    """The programme's area of operations in lon/lat degrees (west, south, east, north)."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        if not (-180 <= self.west < self.east <= 180 and -90 <= self.south < self.north <= 90):
            raise ValueError(f"extent {self} is not a valid lon/lat box (west < east, south < north)")

    def contains_bounds(self, bounds: tuple[float, float, float, float]) -> bool:
        minx, miny, maxx, maxy = bounds
        return (
            self.west <= minx and maxx <= self.east and self.south <= miny and maxy <= self.north
        )


@dataclass(frozen=True)
class Repair:
    """What a requested repair changed, so a reviewer can judge it."""

    reason: str
    area_before_m2: float
    area_after_m2: float

    @property
    def area_change_m2(self) -> float:
        return self.area_after_m2 - self.area_before_m2


@lru_cache(maxsize=64)
def _transformer(crs_text: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(crs_text), WGS84, always_xy=True)


def _crs_key(crs: object) -> str:
    if crs is None or crs == "":
        raise CRSRequired("coordinates came without a coordinate reference system")
    try:
        return CRS.from_user_input(crs).to_string()
    except CRSError as exc:
        raise CRSRequired(f"unknown coordinate reference system {crs!r}: {exc}") from exc


@overload
def to_wgs84(geometry: BaseGeometry, crs: object) -> BaseGeometry: ...
@overload
def to_wgs84(geometry: np.ndarray, crs: object) -> np.ndarray: ...
def to_wgs84(geometry: BaseGeometry | np.ndarray, crs: object) -> BaseGeometry | np.ndarray:
    """Reproject one geometry or an array of them from ``crs`` to WGS 84 lon/lat.

    ``crs`` is anything pyproj accepts (``"EPSG:32636"``, an int, a WKT); it is
    required, because guessing a CRS is how hazards end up in the wrong valley.
    """
    key = _crs_key(crs)
    if CRS.from_user_input(key).equals(WGS84, ignore_axis_order=True):
        return geometry
    transformer = _transformer(key)
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


@overload
def to_crs(geometry: BaseGeometry, crs: object) -> BaseGeometry: ...
@overload
def to_crs(geometry: np.ndarray, crs: object) -> np.ndarray: ...
def to_crs(geometry: BaseGeometry | np.ndarray, crs: object) -> BaseGeometry | np.ndarray:
    """Reproject lon/lat geometries to ``crs`` (for maps and metric work in a local projection)."""
    transformer = Transformer.from_crs(WGS84, CRS.from_user_input(_crs_key(crs)), always_xy=True)
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _fault_location(reason: str) -> tuple[float, float] | None:
    match = _REASON_LOCATION.search(reason)
    return (float(match.group(1)), float(match.group(2))) if match else None


def validate(
    geometry: BaseGeometry | None,
    *,
    kinds: tuple[str, ...] = ("Polygon", "MultiPolygon"),
    repair: bool = False,
    where: str = "geometry",
) -> tuple[BaseGeometry, Repair | None]:
    """Check a geometry for the register; return it (repaired if asked) and what repair did.

    Raises :class:`InvalidGeometry` naming ``where``, the reason and, for
    topology faults, the coordinate Shapely reports.
    """
    if geometry is None or geometry.is_empty:
        raise InvalidGeometry(f"{where}: geometry is empty", hint="give a geometry with coordinates")
    if geometry.geom_type not in kinds:
        raise InvalidGeometry(
            f"{where}: expected {' or '.join(kinds)}, got {geometry.geom_type}",
            hint="split mixed collections into one record per geometry type",
        )
    if shapely.has_z(geometry):
        raise InvalidGeometry(
            f"{where}: has Z (3-D) coordinates; the register stores 2-D geometries",
            hint="drop the Z values (e.g. ogr2ogr -dim XY) and import again",
        )
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        raise InvalidGeometry(f"{where}: has NaN or infinite coordinates", hint="remove or fix those vertices")
    reason = shapely.is_valid_reason(geometry)
    if reason == "Valid Geometry":
        return geometry, None
    location = _fault_location(reason)
    if not repair:
        raise InvalidGeometry(f"{where}: invalid geometry: {reason}", location=location)
    fixed = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
    polygonal = shapely.get_parts(fixed)
    polygonal = polygonal[np.isin(shapely.get_type_id(polygonal), (3, 6))]
    if len(polygonal) == 0:
        raise InvalidGeometry(f"{where}: repair left no area ({reason})", location=location)
    fixed = shapely.union_all(polygonal)
    if "Polygon" not in kinds and isinstance(fixed, shapely.Polygon):
        fixed = shapely.MultiPolygon([fixed])
    if fixed.geom_type not in kinds:
        raise InvalidGeometry(
            f"{where}: repair of '{reason}' splits the polygon into {len(polygonal)} parts",
            location=location,
            hint="draw each part as its own hazard, or fix the outline in the source",
        )
    return fixed, Repair(reason, float(geodesic_area(geometry)), float(geodesic_area(fixed)))


def check_extent(geometry: BaseGeometry, extent: Extent | None, *, where: str = "geometry") -> None:
    """Refuse coordinates outside the programme extent, naming swapped axes when that is why."""
    if extent is None:
        return
    minx, miny, maxx, maxy = geometry.bounds
    if extent.contains_bounds((minx, miny, maxx, maxy)):
        return
    if extent.contains_bounds((miny, minx, maxy, maxx)):
        raise SwappedAxes(
            f"{where}: coordinates ({minx:.6f}, {miny:.6f}) look like latitude/longitude in the wrong "
            f"order: swapped they fall inside the programme extent",
            location=(minx, miny),
        )
    raise OutsideProgrammeExtent(
        f"{where}: bounds ({minx:.6f}, {miny:.6f}, {maxx:.6f}, {maxy:.6f}) fall outside the programme "
        f"extent ({extent.west}, {extent.south}, {extent.east}, {extent.north})",
        location=(minx, miny),
    )


def prepare_geometry(
    geometry: BaseGeometry,
    *,
    crs: object,
    extent: Extent | None,
    kinds: tuple[str, ...] = ("Polygon", "MultiPolygon"),
    repair: bool = False,
    where: str = "geometry",
) -> tuple[BaseGeometry, Repair | None]:
    """The one path every geometry takes into the register: reproject, check extent, validate."""
    if geometry is None:
        raise InvalidGeometry(f"{where}: geometry is missing")
    lonlat = to_wgs84(geometry, crs)
    if not lonlat.is_empty and np.isfinite(shapely.get_coordinates(lonlat)).all():
        check_extent(lonlat, extent, where=where)
    return validate(lonlat, kinds=kinds, repair=repair, where=where)


#: longest edge, in degrees, measured as one straight step (about 55 m north-south)
EDGE_STEP_DEG = 5e-4

#: EASE-Grid 2.0 global (EPSG:6933): a cylindrical projection of the WGS 84 ellipsoid that keeps every area
_EQUAL_AREA = Transformer.from_crs(WGS84, CRS.from_epsg(6933), always_xy=True)


@overload
def geodesic_area(geometries: BaseGeometry) -> float: ...
@overload
def geodesic_area(geometries: np.ndarray | list) -> np.ndarray: ...
def geodesic_area(geometries: BaseGeometry | np.ndarray | list) -> float | np.ndarray:
    """Area in square metres on the WGS 84 ellipsoid of lon/lat geometries.

    Measured in an equal-area projection of the ellipsoid (EASE-Grid 2.0):
    the projection keeps the area of every region, so the planar area there
    is the region's area on the ellipsoid. It agrees with pyproj ``Geod``'s
    geodesic polygon area to about 1e-7 (the tests check it) and, unlike a
    ``Geod`` call per ring, works on a whole array at once.

    The register's edges are straight in longitude/latitude, as in every
    GeoPackage and PostGIS geometry, and such an edge is a slight curve in
    the projection. Edges longer than :data:`EDGE_STEP_DEG` are therefore
    split first, which keeps areas additive (parts of a hazard sum to the
    hazard) to about 0.001 m² per edge. Holes are subtracted; points and
    lines have area 0. Works on one geometry (returns a float) or an array.

    The work is done on coordinate arrays (one projection call, a shoelace
    sum per ring) rather than on split and projected copies of the geometries.

    >>> from shapely import box
    >>> round(geodesic_area(box(30.0, 50.0, 30.001, 50.001)), 1)
    7974.6
    """
    single = isinstance(geometries, BaseGeometry)
    geoms = np.atleast_1d(np.asarray(geometries, dtype=object))
    polygons, owner = _polygons(geoms)
    coords, ring, polygon_of_ring = _rings(polygons)
    slivers, sliver, sliver_ring = _slivers(coords, ring)
    n_rings, n_slivers = len(polygon_of_ring), len(sliver_ring)
    x, y = _EQUAL_AREA.transform(*np.concatenate([coords, slivers]).T)
    signed = _signed_ring_areas(x, y, np.concatenate([ring, n_rings + sliver]), n_rings + n_slivers)
    ring_area = np.abs(signed[:n_rings] + np.bincount(sliver_ring, signed[n_rings:], minlength=n_rings))
    exterior = np.diff(polygon_of_ring, prepend=-1) != 0  # each polygon's first ring
    weights = np.where(exterior, ring_area, -ring_area)
    out = np.bincount(owner[polygon_of_ring], weights, minlength=len(geoms)).astype(float)  # float when empty too
    return float(out[0]) if single else out


def as_multipolygons(geometries: np.ndarray) -> np.ndarray:
    """Polygons made one-part MultiPolygons, in place: one geometry type, as a GeoPackage layer must hold."""
    single = np.flatnonzero(shapely.get_type_id(geometries) == shapely.GeometryType.POLYGON)
    geometries[single] = shapely.multipolygons(geometries[single], indices=np.arange(len(single)))
    return geometries


def _polygons(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The non-empty polygons that make up each geometry (parts of multi-geometries and
    collections, at any depth), and the index of the geometry each belongs to."""
    owner = np.arange(len(geoms))
    while True:
        types = shapely.get_type_id(geoms)
        nested = np.isin(types, (shapely.GeometryType.MULTIPOLYGON, shapely.GeometryType.GEOMETRYCOLLECTION))
        if not nested.any():
            break
        parts, index = shapely.get_parts(geoms[nested], return_index=True)
        geoms = np.concatenate([geoms[~nested], parts])
        owner = np.concatenate([owner[~nested], owner[nested][index]])
    keep = (types == shapely.GeometryType.POLYGON) & ~shapely.is_empty(geoms)
    return geoms[keep], owner[keep]


def _rings(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ring coordinates of the polygons, the ring number of each, and the polygon of each ring.

    Rings are numbered polygon by polygon, exterior first, the order of
    ``get_coordinates``. Only polygons with holes need ring objects to learn
    the rings' lengths; for the rest the polygon's length is its ring's.
    """
    holes = shapely.get_num_interior_rings(polygons)
    polygon_of_ring = np.repeat(np.arange(len(polygons)), holes + 1)
    size = np.empty(len(polygon_of_ring), dtype=np.int64)
    simple = holes == 0
    size[simple[polygon_of_ring]] = shapely.get_num_coordinates(polygons[simple])
    size[~simple[polygon_of_ring]] = shapely.get_num_coordinates(shapely.get_rings(polygons[~simple]))
    return shapely.get_coordinates(polygons), np.repeat(np.arange(len(size)), size), polygon_of_ring


def _slivers(coords: np.ndarray, ring: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The thin rings between each edge longer than EDGE_STEP_DEG and that edge split in steps.

    An edge is split into ceil(length / step) equal steps, as
    ``shapely.segmentize`` splits it. Instead of rebuilding every ring with
    its split edges, each split edge gives a small ring (its steps, then back
    along the edge) whose signed area is what the split adds to its ring's:
    the work is proportional to the long edges, most rings have none.
    Returns the slivers' coordinates, the sliver of each, and the ring of each sliver.
    """
    step = np.diff(coords, axis=0)
    step *= step
    square = step[:, 0] + step[:, 1]
    long = np.flatnonzero((square > EDGE_STEP_DEG**2) & (square < np.inf) & (ring[1:] == ring[:-1]))
    start, end = coords[long], coords[long + 1]
    pieces = np.ceil(np.hypot(*(end - start).T) / EDGE_STEP_DEG).astype(np.int64)
    sliver = np.repeat(np.arange(len(long)), pieces + 2)  # start, pieces - 1 steps, end, start again
    j = np.arange(len(sliver)) - np.repeat(np.cumsum(pieces + 2) - (pieces + 2), pieces + 2)
    fraction = np.where(j < pieces[sliver], j / pieces[sliver], 0.0)
    points = start[sliver] + fraction[:, None] * (end - start)[sliver]
    at_end = j == pieces[sliver]
    points[at_end] = end[sliver[at_end]]
    return points, sliver, ring[long]


def _signed_ring_areas(x: np.ndarray, y: np.ndarray, ring: np.ndarray, n_rings: int) -> np.ndarray:
    """Signed planar area of each closed ring, by the shoelace formula as GEOS sums it.

    x is taken relative to the ring's first vertex: projected coordinates run
    to 1.7e7 m, and products of such numbers round by ~1e-3 m² each.
    """
    first = np.diff(ring, prepend=-1) != 0  # each ring's first vertex (an empty ring has none)
    dx = x - np.repeat(x[first], np.diff(np.flatnonzero(np.r_[first, True])))
    terms = dx[1:-1] * (y[:-2] - y[2:])
    terms[ring[:-2] != ring[2:]] = 0.0  # vertex i counts when i-1 and i+1 are in its ring
    return np.bincount(ring[1:-1], weights=terms, minlength=n_rings) / 2
