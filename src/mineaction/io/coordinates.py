"""Geometries from table columns: lon/lat, WKT, MGRS and ODK geo strings.

Tabular sources (CSV, ODK and Kobo exports) carry coordinates as text. Each
builder here takes a column and returns one geometry per row (None where the
cell is empty) plus, for rows that cannot be parsed at all, why — so the
validation report can name the row instead of the import failing whole.

Axis order is where field data goes wrong most often: ODK writes
``geopoint``, ``geotrace`` and ``geoshape`` as **"latitude longitude
altitude accuracy"**, the reverse of GeoJSON and WKT (x = longitude). The
register's extent check (:func:`mineaction.domain.geometry.check_extent`)
catches a file that got it wrong anyway.

>>> odk_geometry("-30.0 -33.7 12.5 4.0", "geopoint").wkt
'POINT (-33.7 -30)'
>>> odk_geometry("-30.0 -33.7 0 0;-30.0 -33.6 0 0", "geotrace").wkt
'LINESTRING (-33.7 -30, -33.6 -30)'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import mgrs
import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

__all__ = ["lonlat_points", "mgrs_points", "odk_geometry", "wkt_geometries"]

Parsed = tuple[np.ndarray, dict[int, str]]
_MGRS = mgrs.MGRS()


def _number(value: Any) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    return float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)


def lonlat_points(lon: Sequence[Any], lat: Sequence[Any]) -> Parsed:
    """Points from longitude and latitude columns (decimal degrees, comma decimals accepted)."""
    n = len(lon)
    try:  # fast path: every cell is a number already
        xs, ys = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        return cast(np.ndarray, shapely.points(xs, ys)), {}
    except (TypeError, ValueError):
        pass
    out = np.full(n, None, dtype=object)
    errors: dict[int, str] = {}
    xs, ys, given = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=bool)
    for i, (x, y) in enumerate(zip(lon, lat)):
        if x in (None, "") and y in (None, ""):
            continue
        try:
            xs[i], ys[i] = _number(x), _number(y)
        except ValueError:
            errors[i] = f"coordinates ({x!r}, {y!r}) are not numbers"
            continue
        given[i] = True
    out[given] = shapely.points(xs[given], ys[given])
    return out, errors


def wkt_geometries(values: Sequence[Any]) -> Parsed:
    """Geometries from a WKT column; unparseable text (e.g. an unclosed ring) is explained per row."""
    text = np.asarray([v if v not in ("",) else None for v in values], dtype=object)
    out = shapely.from_wkt(text, on_invalid="ignore")
    errors: dict[int, str] = {}
    for i in np.flatnonzero(shapely.is_missing(out) & (text != None)):  # noqa: E711 - elementwise on an object array
        try:
            shapely.from_wkt(text[i])
        except shapely.errors.GEOSException as exc:
            errors[int(i)] = str(exc).split(": ", 1)[-1]
    return out, errors


def mgrs_points(values: Sequence[Any]) -> Parsed:
    """WGS 84 points from MGRS references (e.g. ``25J EL 30000 75000``), spaces allowed."""
    out = np.full(len(values), None, dtype=object)
    errors: dict[int, str] = {}
    for i, value in enumerate(values):
        if value in (None, ""):
            continue
        try:
            lat, lon = _MGRS.toLatLon("".join(str(value).split()).upper())
        except (mgrs.core.MGRSError, ValueError, TypeError) as exc:
            errors[i] = f"{value!r} is not an MGRS reference ({exc})"
            continue
        out[i] = shapely.Point(lon, lat)
    return out, errors


def _odk_vertices(text: str) -> list[tuple[float, float]]:
    vertices = []
    for vertex in text.strip().strip(";").split(";"):
        parts = vertex.split()
        if len(parts) < 2:
            raise ValueError(f"vertex {vertex.strip()!r} needs 'latitude longitude [altitude accuracy]'")
        lat, lon = float(parts[0]), float(parts[1])  # ODK order: latitude first
        vertices.append((lon, lat))
    return vertices


def odk_geometry(value: Any, kind: str) -> BaseGeometry | None:
    """One ODK ``geopoint``/``geotrace``/``geoshape`` value as lon/lat geometry.

    Accepts ODK's text ("lat lon alt acc", vertices separated by ";") and the
    GeoJSON objects ODK Central's OData feed returns (already lon/lat).
    """
    if value in (None, ""):
        return None
    if isinstance(value, dict):
        return shapely.force_2d(shape(value))
    vertices = _odk_vertices(str(value))
    if kind == "geopoint":
        if len(vertices) != 1:
            raise ValueError(f"a geopoint has one vertex, got {len(vertices)}")
        return shapely.Point(vertices[0])
    if kind == "geotrace":
        return shapely.LineString(vertices)
    if kind == "geoshape":
        return shapely.Polygon(vertices)
    raise ValueError(f"unknown ODK geometry type {kind!r}")
