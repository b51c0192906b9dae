"""Vector tiles (OGC API – Tiles, WebMercatorQuad) of hazards, released land and finds.

PostGIS builds each tile in the database with ``ST_AsMVT``; on the embedded
GeoPackage storage selects through its R-tree and this module encodes in
Python (``mapbox-vector-tile``); the SQL of both is in ``storage/tiles.py``. Both filter by the principal's organisation scope,
and carry only the non-personal fields listed in :data:`LAYERS`. A caller
that does not see every location exactly (the ``public`` role) gets its tiles
from the scoped reader, on both backends: locations generalised as the
programme configures, restricted fields left out.

Tiles are cached per (layer, z, x, y, scope) and the whole cache is dropped
as soon as the register's newest changeset differs from the one the cached
tiles were made from: a change anywhere is visible at once, without tracking
which tiles it touched.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_ignore
from pyproj import Transformer

from mineaction.access import ScopedReader, policy
from mineaction.domain.entities import entity
from mineaction.errors import InvalidValue
from mineaction.storage import postgis_tile, tile_rows

__all__ = ["EXTENT", "LAYERS", "MAX_ZOOM", "TileCache", "lonlat_to_tile", "render_tile", "tile_bounds", "tile_matrix_set"]

#: layer → properties carried in its tiles (never personal data)
LAYERS: dict[str, tuple[str, ...]] = {
    "hazard": ("ref", "hazard_type", "status", "area_m2"),
    "released_part": ("ref", "release_type", "method", "released_on", "area_m2"),
    "eo_find": ("ref", "category", "condition", "quantity", "found_on"),
}
EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
_HALF = 20037508.342789244  # half the Web Mercator world width, metres
_TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
_TO_LONLAT = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Web Mercator bounds (metres) of tile z/x/y (row y counted from the north)."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidValue(f"no tile {z}/{y}/{x} in WebMercatorQuad", hint=f"zoom 0..{MAX_ZOOM}, row and column 0..2^zoom-1")
    size = 2 * _HALF / 2**z
    return (-_HALF + x * size, _HALF - (y + 1) * size, -_HALF + (x + 1) * size, _HALF - y * size)


def _layer(name: str) -> tuple[str, ...]:
    if name not in LAYERS:
        raise InvalidValue(f"no vector tiles for {name!r}", hint=f"tiles exist for {', '.join(LAYERS)}")
    return LAYERS[name]


def render_tile(reader: ScopedReader, layer: str, z: int, x: int, y: int) -> bytes:
    """One Mapbox Vector Tile of ``layer`` as the reader's principal may see it."""
    properties = _layer(layer)
    bounds = tile_bounds(z, x, y)
    register = reader.register
    exact = policy.exact_everywhere(reader.principal, entity(layer))
    scope = reader.scope(entity(layer))
    if register.dialect == "postgresql" and exact:
        return postgis_tile(register, layer, properties, scope, z, x, y, extent=EXTENT, buffer=BUFFER)
    margin = (bounds[2] - bounds[0]) * BUFFER / EXTENT
    west, south = _TO_LONLAT.transform(bounds[0] - margin, bounds[1] - margin)
    east, north = _TO_LONLAT.transform(bounds[2] + margin, bounds[3] + margin)
    if not exact:
        shown = reader.select(layer, bbox=(west, south, east, north), limit=None, count=False).items
        rows: list[Sequence[Any]] = [
            (*(s.record.ref if p == "ref" else s.record.values.get(p) for p in properties), s.record.geometry)
            for s in shown
        ]
        return _encode(layer, properties, rows, bounds, margin)
    rows = tile_rows(register, layer, properties, scope, (west, south, east, north))
    return _encode(layer, properties, rows, bounds, margin)


def _encode(
    layer: str, properties: tuple[str, ...], rows: list[Sequence[Any]], bounds: tuple[float, float, float, float],
    margin: float,
) -> bytes:
    """MVT bytes, with the per-coordinate work vectorised (as ``ST_AsMVTGeom`` does it in C).

    Geometries go to tile pixels (y down) in one transform, are simplified by
    half a pixel, clipped to the buffered tile, snapped to the pixel grid (what collapses is dropped, as
    PostGIS drops it) and oriented as MVT wants, so the encoder only packs them.
    """
    if not rows:
        return b""
    west, _, east, north = bounds
    scale = EXTENT / (east - west)

    def to_pixels(xy: np.ndarray) -> np.ndarray:
        x, y = _TO_MERCATOR.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([(np.asarray(x) - west) * scale, (north - np.asarray(y)) * scale])

    pixels = shapely.transform(np.asarray([r[-1] for r in rows], dtype=object), to_pixels)
    pixels = shapely.simplify(pixels, 0.5, preserve_topology=True)  # half a pixel: invisible
    edge = margin * scale
    pixels = shapely.clip_by_rect(pixels, -edge, -edge, EXTENT + edge, EXTENT + edge)
    pixels = shapely.set_precision(pixels, 1.0)
    keep = ~shapely.is_empty(pixels)
    if pixels.size and shapely.get_type_id(pixels[keep]).max(initial=0) >= 3:  # polygons: MVT ring order
        pixels[keep] = shapely.orient_polygons(pixels[keep], exterior_cw=False)
    features = [
        {"geometry": g, "properties": {p: _plain(v) for p, v in zip(properties, r) if v is not None}}
        for r, g, k in zip(rows, pixels, keep)
        if k
    ]
    return mapbox_vector_tile.encode(
        [{"name": layer, "features": features}],
        default_options={"extents": EXTENT, "y_coord_down": True, "check_winding_order": False,
                         "on_invalid_geometry": on_invalid_geometry_ignore},
    )


def _plain(value: object) -> object:
    return value if isinstance(value, (int, float, str, bool)) else str(value)


class TileCache:
    """Rendered tiles, valid while the register's newest changeset stays the same."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._tiles: OrderedDict[tuple[str, int, int, int, str], bytes] = OrderedDict()
        self._stamp: int | None = None
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, reader: ScopedReader, layer: str, z: int, x: int, y: int) -> tuple[bytes, int]:
        """The tile and the changeset id it reflects (usable as an ETag)."""
        stamp = reader.latest_changeset()
        key = (layer, z, x, y, reader.principal.scope_key)
        with self._lock:
            if stamp != self._stamp:
                self._tiles.clear()
                self._stamp = stamp
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
                self.hits += 1
                return tile, stamp
        self.misses += 1
        tile = render_tile(reader, layer, z, x, y)
        with self._lock:
            if stamp == self._stamp:
                self._tiles[key] = tile
                while len(self._tiles) > self.entries:
                    self._tiles.popitem(last=False)
        return tile, stamp


def tile_matrix_set() -> dict[str, object]:
    """The WebMercatorQuad definition (OGC 17-083r4 annex D), zoom 0..MAX_ZOOM."""
    return {
        "id": "WebMercatorQuad",
        "title": "Google Maps Compatible for the World",
        "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "orderedAxes": ["E", "N"],
        "tileMatrices": [
            {
                "id": str(z),
                "scaleDenominator": 559082264.0287178 / 2**z,
                "cellSize": 156543.03392804097 / 2**z,
                "pointOfOrigin": [-_HALF, _HALF],
                "cornerOfOrigin": "topLeft",
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": 2**z,
                "matrixHeight": 2**z,
            }
            for z in range(MAX_ZOOM + 1)
        ],
    }


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Column and row of the zoom-``z`` tile holding a lon/lat point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)
