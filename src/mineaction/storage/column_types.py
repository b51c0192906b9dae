"""Column types of the register on both backends: geometries, JSON text and GeoPackage timestamps.

Kept apart from :mod:`mineaction.storage.schema` so that the modules adding
tables (review, access, responsibility) and the schema that gathers them can
all import these without importing each other.
"""

from __future__ import annotations

import datetime as dt
import json

import geoalchemy2
import shapely
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator, UserDefinedType

from mineaction.storage import gpkg

__all__ = ["TIMESTAMP", "GeoPackageGeometry", "JSONText", "PostGISGeometry"]


class GeoPackageGeometry(UserDefinedType):
    """A geometry column stored as GeoPackage binary; Shapely objects in and out."""

    cache_ok = True

    def __init__(self, geometry_type: str) -> None:
        self.geometry_type = geometry_type

    def get_col_spec(self, **kw: object) -> str:
        return self.geometry_type

    def bind_processor(self, dialect):
        return gpkg.encode

    def result_processor(self, dialect, coltype):
        return gpkg.decode


class PostGISGeometry(geoalchemy2.Geometry):
    """geometry(<type>, 4326) via GeoAlchemy2; Shapely objects in and out as EWKB."""

    cache_ok = True

    def bind_expression(self, bindvalue):
        # PostGIS's geometry(bytea) reads EWKB, SRID included
        return sa.func.geometry(bindvalue, type_=self)

    def bind_processor(self, dialect):
        def process(value: shapely.Geometry | None) -> bytes | None:
            if value is None:
                return None
            return shapely.to_wkb(shapely.set_srid(value, 4326), include_srid=True, output_dimension=2)

        return process

    def result_processor(self, dialect, coltype):
        def process(value: bytes | memoryview | str | None) -> shapely.Geometry | None:
            if value is None:
                return None
            return shapely.from_wkb(value if isinstance(value, str) else bytes(value))

        return process


class JSONText(TypeDecorator):
    """JSON kept as TEXT, a column type GeoPackage readers understand."""

    impl = sa.Text
    cache_ok = True
    #: whether text given for the column is JSON already (and stored as it is)
    text_is_encoded = False

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)


class _MillisecondDateTime(sqlite.DATETIME):
    """GeoPackage 1.3 DATETIME text, ``YYYY-MM-DDTHH:MM:SS.SSSZ`` (UTC, milliseconds).

    It sorts in time order, so as-of queries compare text. The register keeps
    its timestamps at millisecond resolution on both backends.
    """

    def __init__(self) -> None:
        super().__init__(
            storage_format="%(year)04d-%(month)02d-%(day)02dT%(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06dZ",
            regexp=r"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)Z",
        )

    def bind_processor(self, dialect):
        def process(value):
            if value is None:
                return None
            return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"

        return process

    def result_processor(self, dialect, coltype):
        def process(value):
            if value is None:
                return None
            return dt.datetime.strptime(value[:23], "%Y-%m-%dT%H:%M:%S.%f")

        return process


_GPKG_DATETIME = _MillisecondDateTime()
TIMESTAMP = sa.DateTime().with_variant(_GPKG_DATETIME, "sqlite")
