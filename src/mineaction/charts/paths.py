"""Shapely polygons as matplotlib paths, so whole layers draw as one collection."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import shapely
from matplotlib.path import Path as MplPath
from numpy.typing import NDArray

from mineaction.domain.geometry import to_crs

__all__ = ["polygon_paths"]

#: geometries converted at a time: the temporary GEOS copies (projected
#: geometries, polygon parts, rings) then stay small at any register size
_CHUNK = 20_000


def polygon_paths(geoms: NDArray[np.object_], *, crs: object = None) -> tuple[list[MplPath], NDArray[np.intp]]:
    """One compound path (exterior and holes) per polygon part, and the index of its geometry.

    Drawing 100,000 polygons one ``plot_polygon`` call at a time takes
    minutes; one ``PathCollection`` of these paths takes seconds. With
    ``crs``, ``geoms`` are lon/lat and the paths are in that CRS; they are
    projected a chunk at a time rather than copied whole. Anything but
    polygons (points, lines, empty or missing geometries) is left out.
    """
    geoms = np.asarray(geoms, dtype=object)
    paths: list[MplPath] = []
    owners = [np.empty(0, dtype=np.intp)]
    for start in range(0, len(geoms), _CHUNK):
        chunk = geoms[start:start + _CHUNK]
        chunk_paths, owner = _paths(chunk if crs is None else to_crs(chunk, crs))
        paths += chunk_paths
        owners.append(owner + start)
    return paths, np.concatenate(owners)


def _paths(geoms: NDArray[np.object_]) -> tuple[list[MplPath], NDArray[np.intp]]:
    """Paths of one chunk, built from its coordinate array rather than ring by ring in Python."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    parts, owner = parts[keep], owner[keep]
    rings, ring_polygon = shapely.get_rings(parts, return_index=True)
    sizes = shapely.get_num_coordinates(rings)
    ends = np.cumsum(sizes)
    starts = ends - sizes
    exterior = np.ones(len(rings), dtype=bool)
    exterior[1:] = ring_polygon[1:] != ring_polygon[:-1]  # get_rings gives each exterior first, then its holes
    vertices = _oriented(shapely.get_coordinates(rings), starts, ends, exterior)
    codes = np.full(len(vertices), MplPath.LINETO, dtype=MplPath.code_type)
    codes[starts] = MplPath.MOVETO
    codes[ends - 1] = MplPath.CLOSEPOLY  # shapely rings repeat the first vertex last
    bounds = np.append(starts[exterior], len(vertices))
    return [MplPath(vertices[a:b], codes[a:b]) for a, b in pairwise(bounds)], owner


def _oriented(vertices: NDArray[np.float64], starts: NDArray[np.integer], ends: NDArray[np.integer],
              exterior: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Exteriors counter-clockwise and holes clockwise, so holes stay empty under matplotlib's non-zero fill.

    A ring's orientation is the sign of its shoelace area; the rings the wrong
    way round are reversed in place of one another by index arithmetic.
    """
    if not len(vertices):
        return vertices
    x, y = vertices[:, 0], vertices[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    cross[ends - 1] = 0.0  # the closing vertex pairs with the next ring's first: not part of this ring
    counter_clockwise = np.add.reduceat(cross, starts) > 0
    flip = counter_clockwise != exterior
    if not flip.any():
        return vertices
    ring = np.repeat(np.arange(len(starts)), ends - starts)
    index = np.arange(len(vertices))
    flipped = flip[ring]
    index[flipped] = (starts + ends - 1)[ring[flipped]] - index[flipped]
    return vertices[index]
