"""What vector tiles are made of: the rows of a tile's window, or a whole tile from PostGIS.

The web layer decides the layers, their properties and the caller's scope,
and encodes Mapbox Vector Tiles; the SQL that finds a tile's rows is here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mineaction.domain.entities import entity
from mineaction.storage.reads import Scope
from mineaction.storage.register import Register
from mineaction.storage.schema import GEOMETRY_COLUMN
from mineaction.storage.transactions import reading

__all__ = ["postgis_tile", "tile_rows"]


def tile_rows(
    register: Register, layer: str, properties: Sequence[str], scope: Scope, bbox: tuple[float, float, float, float],
) -> list[Sequence[Any]]:
    """(``properties``…, geometry) of the live records of ``layer`` in ``scope`` whose box meets ``bbox`` (lon/lat)."""
    table = register.tables[entity(layer).name]
    query = sa.select(*(table.c[p] for p in properties), table.c[GEOMETRY_COLUMN]).where(
        table.c.deleted.is_(False), scope.clause(table), register.bbox_clause(layer, table, bbox)
    )
    with reading(register, f"reading {layer} for a tile") as connection:
        return [tuple(row) for row in connection.execute(query).all()]


def postgis_tile(
    register: Register, layer: str, properties: Sequence[str], scope: Scope, z: int, x: int, y: int, *,
    extent: int, buffer: int,
) -> bytes:
    """Tile z/x/y (WebMercatorQuad) of ``layer`` in ``scope``, made by PostGIS's ``ST_AsMVT``."""
    table = register.tables[entity(layer).name]
    envelope = sa.func.ST_TileEnvelope(z, x, y)
    geom = table.c[GEOMETRY_COLUMN]
    inner = (
        sa.select(
            sa.func.ST_AsMVTGeom(sa.func.ST_Transform(geom, 3857), envelope, extent, buffer, True).label("geom"),
            *(table.c[p] for p in properties),
        )
        .where(
            table.c.deleted.is_(False),
            scope.clause(table),
            geom.op("&&")(sa.func.ST_Transform(sa.func.ST_TileEnvelope(z, x, y, margin=buffer / extent), 4326)),
        )
        .subquery("q")
    )
    query = sa.select(sa.func.ST_AsMVT(sa.literal_column("q"), layer, extent, "geom")).select_from(inner)
    with reading(register, f"making a {layer} tile") as connection:
        return bytes(connection.execute(query).scalar_one() or b"")
