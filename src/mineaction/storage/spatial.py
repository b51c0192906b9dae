"""Exact spatial intersection in SQL on both backends, with parameters only.

PostGIS has ``ST_Intersects``; the embedded GeoPackage has no spatial SQL, so
:func:`install_sqlite_functions` defines ``mineaction_intersects`` in Python
(Shapely, prepared query geometry) on the connection about to run the query.
Both are preceded by the backend's index filter on the bounding box.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any

import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from mineaction.storage import gpkg
from mineaction.storage.register import Register
from mineaction.storage.schema import GEOMETRY_COLUMN

__all__ = ["install_sqlite_functions", "intersects"]


@functools.lru_cache(maxsize=64)
def _prepared(wkb: bytes) -> BaseGeometry:
    geometry = shapely.from_wkb(wkb)
    shapely.prepare(geometry)
    return geometry


def _sqlite_intersects(blob: bytes | None, wkb: bytes) -> int:
    if blob is None:
        return 0
    return int(_prepared(wkb).intersects(gpkg.decode(blob)))


def install_sqlite_functions(connection: sa.Connection) -> None:
    """Define ``mineaction_intersects(geom, wkb)`` on this SQLite connection (idempotent)."""
    dbapi = connection.connection.driver_connection
    if isinstance(dbapi, sqlite3.Connection):
        dbapi.create_function("mineaction_intersects", 2, _sqlite_intersects, deterministic=True)


def intersects(
    register: Register, entity_name: str, source: sa.FromClause, geometry: BaseGeometry
) -> sa.ColumnElement[bool]:
    """``source.geom`` intersects ``geometry`` (lon/lat), index-filtered first."""
    wkb = sa.literal(shapely.to_wkb(geometry, output_dimension=2), sa.LargeBinary)
    column = source.c[GEOMETRY_COLUMN]
    candidates = register.bbox_clause(entity_name, source, geometry.bounds)
    exact: sa.ColumnElement[Any]
    if register.dialect == "postgresql":
        exact = sa.func.ST_Intersects(column, sa.func.ST_GeomFromWKB(wkb, 4326))
    else:
        exact = sa.func.mineaction_intersects(column, wkb) == 1
    return sa.and_(candidates, exact)
