"""Coarsening locations for public outputs: to cells of a fixed grid, or to admin areas.

A hazard polygon published as drawn tells anyone where to dig for mines, or
where to lay more; a victim's accident point tells their neighbours who it
was. Public outputs (open maps, published statistics) therefore show where
something is only as precisely as configured:

* ``grid``: each location becomes the cells of an equal-area grid that it
  reaches into (a point, the one cell holding it). The grid is fixed, never
  placed around the data: a grid that moved between publications would let
  a reader overlay two of them and narrow the location down.
* ``admin``: each location becomes the admin area, at the configured level,
  that holds its representative point; outside every area it is withheld
  (None), never published exactly.

Cells are squares of the EASE-Grid 2.0 projection (EPSG:6933, cylindrical
equal-area): every cell covers ``cell_m``² on the ground, and because the
projection's grid lines are meridians and parallels, each cell is exactly a
longitude/latitude box. Away from ±30° latitude the boxes are not square on
the ground (at 50°, a 1 km cell is about 0.77 km east-west by 1.3 km
north-south); their area is exact.

Counts shown per cell or area still need small-count suppression
(:mod:`mineaction.domain.disclosure`).

>>> import shapely
>>> from mineaction.domain.geometry import geodesic_area
>>> cell = to_grid([shapely.Point(30.5234, 50.4501)], 1000)[0]
>>> cell.covers(shapely.Point(30.5234, 50.4501)), round(float(geodesic_area(cell)))
(True, 1000000)
>>> to_grid([None, shapely.Point()], 1000).tolist()
[None, None]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from mineaction.errors import InvalidValue

#: lon/lat geometries, None where missing: a sequence or a NumPy object array
Geometries = Sequence[BaseGeometry | None] | NDArray[np.object_]

__all__ = ["AdminAreas", "Generalisation", "coarsen_bbox", "generalise", "to_admin_areas", "to_grid"]

_TO_GRID = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
_FROM_GRID = Transformer.from_crs("EPSG:6933", "EPSG:4326", always_xy=True)
_MAX_LAT = 85.0  # EASE-Grid 2.0 global ends at ±86°
_MAX_CELLS = 1_000_000  # candidate cells in one call: a tiny cell over a huge area is a configuration error


@dataclass(frozen=True)
class Generalisation:
    """How public outputs show locations (programme configuration)."""

    method: Literal["grid", "admin", "exact"] = "grid"  # exact: published as drawn
    cell_m: float = 1000.0  # grid: side of a cell in metres (its area is cell_m²)
    admin_level: int = 1  # admin: level of the areas shown

    def __post_init__(self) -> None:
        if self.method not in ("grid", "admin", "exact"):
            raise InvalidValue(f"generalisation method {self.method!r}: use 'grid', 'admin' or 'exact'")
        if not (np.isfinite(self.cell_m) and self.cell_m > 0):
            raise InvalidValue(f"grid cell size {self.cell_m!r} m: give a positive number of metres")
        if self.admin_level < 1:
            raise InvalidValue(f"admin level {self.admin_level}: levels start at 1")


@dataclass(frozen=True)
class AdminAreas:
    """Admin areas to generalise to: P-codes, levels and lon/lat polygons, aligned."""

    pcodes: Sequence[str]
    levels: Sequence[int]
    geometries: Sequence[BaseGeometry]

    def at_level(self, level: int) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
        keep = np.asarray(self.levels) == level
        return np.asarray(self.pcodes, dtype=object)[keep], np.asarray(self.geometries, dtype=object)[keep]


def _present(geometries: Geometries) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    array = np.asarray(geometries, dtype=object)
    if array.ndim == 0:
        array = array.reshape(1)
    mask = np.array([g is not None for g in array], dtype=bool)
    mask[mask] = ~shapely.is_empty(array[mask])
    return array, mask


def _edges(index: NDArray[np.int64], cell_m: float, axis: int) -> NDArray[np.float64]:
    """Longitudes (axis 0) or latitudes (axis 1) of grid lines ``index``: one depends on x, the other on y."""
    metres = index * cell_m
    zeros = np.zeros_like(metres, dtype=float)
    return _FROM_GRID.transform(*((metres, zeros) if axis == 0 else (zeros, metres)))[axis]


def to_grid(geometries: Geometries, cell_m: float) -> NDArray[np.object_]:
    """Each lon/lat geometry replaced by the union of the grid cells its interior reaches; None stays None.

    A point becomes the one cell holding it (a point on a grid line, the cell
    to its north-east); a polygon the cells it overlaps, not those it only
    touches along an edge.
    """
    Generalisation(cell_m=cell_m)
    array, present = _present(geometries)
    out = np.full(len(array), None, dtype=object)
    if not present.any():
        return out
    index = np.flatnonzero(present)
    minx, miny, maxx, maxy = shapely.bounds(array[index]).T
    x0, y0 = _TO_GRID.transform(minx, np.clip(miny, -_MAX_LAT, _MAX_LAT))
    x1, y1 = _TO_GRID.transform(maxx, np.clip(maxy, -_MAX_LAT, _MAX_LAT))
    i0, j0 = np.floor(np.divide(x0, cell_m)).astype(np.int64), np.floor(np.divide(y0, cell_m)).astype(np.int64)
    i1, j1 = np.floor(np.divide(x1, cell_m)).astype(np.int64), np.floor(np.divide(y1, cell_m)).astype(np.int64)
    nx, ny = i1 - i0 + 1, j1 - j0 + 1
    if int((nx * ny).sum()) > _MAX_CELLS:
        raise InvalidValue(f"a {cell_m:g} m grid over these locations needs more than {_MAX_CELLS:,} cells",
                           hint="use a larger cell size for public outputs")
    owner = np.repeat(np.arange(len(index)), nx * ny)
    first = np.repeat(np.cumsum(nx * ny) - nx * ny, nx * ny)
    k = np.arange(len(owner)) - first
    ci, cj = i0[owner] + k % nx[owner], j0[owner] + k // nx[owner]
    cells = shapely.box(_edges(ci, cell_m, 0), _edges(cj, cell_m, 1), _edges(ci + 1, cell_m, 0),
                        _edges(cj + 1, cell_m, 1))
    targets = array[index][owner]
    kind = shapely.get_type_id(targets)
    point = kind == shapely.GeometryType.POINT  # its one candidate cell holds it, rounding aside
    puntal = point | (kind == shapely.GeometryType.MULTIPOINT)  # a point on a grid line touches its cell
    hit = point | (shapely.intersects(cells, targets) & (puntal | ~shapely.touches(cells, targets)))
    for position, group in zip(*_groups(owner[hit])):
        out[index[position]] = shapely.union_all(cells[hit][group]).normalize()
    return out


def _groups(keys: NDArray[np.int64]) -> tuple[NDArray[np.int64], list[NDArray[np.int64]]]:
    """Distinct sorted ``keys`` and, for each, the positions holding it."""
    order = np.argsort(keys, kind="stable")
    distinct, starts = np.unique(keys[order], return_index=True)
    return distinct, np.split(order, starts[1:])


def to_admin_areas(
    geometries: Geometries, pcodes: Sequence[str], areas: Sequence[BaseGeometry]
) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """The area (and its P-code) holding each geometry's representative point; None where none does.

    ``areas`` should be one admin level (see :meth:`AdminAreas.at_level`);
    where areas overlap, the first listed wins.
    """
    array, present = _present(geometries)
    shapes = np.full(len(array), None, dtype=object)
    codes = np.full(len(array), None, dtype=object)
    area_array = np.asarray(areas, dtype=object)
    if not present.any() or len(area_array) == 0:
        return shapes, codes
    index = np.flatnonzero(present)
    points = shapely.point_on_surface(array[index])
    point_idx, area_idx = shapely.STRtree(area_array).query(points, predicate="within")
    for p, a in sorted(zip(point_idx.tolist(), area_idx.tolist()), reverse=True):  # first listed area last: wins
        shapes[index[p]], codes[index[p]] = area_array[a], pcodes[a]
    return shapes, codes


def generalise(
    geometries: Geometries, config: Generalisation, admin_areas: AdminAreas | None = None
) -> NDArray[np.object_]:
    """Geometries as a public output may show them under ``config``."""
    if config.method == "exact":
        return _present(geometries)[0].copy()
    if config.method == "grid":
        return to_grid(geometries, config.cell_m)
    if admin_areas is None:
        raise InvalidValue("generalising to admin areas needs the admin areas", hint="pass admin_areas=")
    pcodes, areas = admin_areas.at_level(config.admin_level)
    return to_admin_areas(geometries, list(pcodes), list(areas))[0]



def coarsen_bbox(
    bbox: tuple[float, float, float, float], config: Generalisation, admin_areas: AdminAreas | None = None
) -> tuple[float, float, float, float]:
    """``bbox`` widened to the bounds of every grid cell or admin area it reaches.

    Filtering exact locations by the widened box answers only "which cells
    (areas) does a record reach", so a caller shown generalised locations
    cannot narrow one down by shrinking the box. Outside every admin area the
    box is kept as given.
    """
    if config.method == "exact":
        return bbox
    box = shapely.box(*bbox)
    if config.method == "grid":  # the cells of its two corners span every cell it reaches
        low, high = to_grid(shapely.points([bbox[:2], bbox[2:]]), config.cell_m)
        return (*low.bounds[:2], *high.bounds[2:])
    if admin_areas is None:
        raise InvalidValue("generalising to admin areas needs the admin areas", hint="pass admin_areas=")
    areas = admin_areas.at_level(config.admin_level)[1]
    reached = [a for a in areas if a.intersects(box)]
    minx, miny, maxx, maxy = shapely.union_all([box, *reached]).bounds
    return minx, miny, maxx, maxy
