"""OGC GeoPackage 1.3 essentials, written with Python's bundled sqlite3.

The embedded register is a GeoPackage so that QGIS and GDAL open it directly.
Python's sqlite3 cannot load SpatiaLite here, so this module provides what a
GeoPackage writer needs itself: the standard geometry blob (header + WKB), the
required metadata tables, and the R-tree spatial index extension whose
triggers call ``ST_MinX`` & co., which :func:`register_functions` defines in
Python on every connection. Exact spatial predicates are done with Shapely.

Spec: OGC 12-128r18 (GeoPackage 1.3.1), clauses 2.1 (core), 2.1.3 (geometry
encoding) and annex F.3 (R-tree spatial indexes).
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterable, Sequence
from typing import cast

import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

__all__ = [
    "APPLICATION_ID",
    "FLAGS_XY_LE",
    "USER_VERSION",
    "USUAL_HEAD",
    "USUAL_HEADER_BYTES",
    "decode",
    "decode_many",
    "encode",
    "encode_many",
    "envelope",
    "envelopes",
    "install_core_tables",
    "register_attributes",
    "register_features",
    "register_functions",
    "rtree_name",
    "wkb_many",
]

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10300
SRS_ID = 4326
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_HEADER = struct.Struct("<2sBBi4d")  # magic, version, flags, srs_id, minx maxx miny maxy
FLAGS_XY_LE = 0b0000_0011  # little endian, XY envelope
#: the first bytes of a blob as :func:`encode_many` writes it (magic, version 0, FLAGS_XY_LE), and its header's size
USUAL_HEAD, USUAL_HEADER_BYTES = b"GP\x00" + bytes([FLAGS_XY_LE]), 40
_FLAGS_EMPTY_LE = 0b0001_0001  # little endian, empty, no envelope
_EMPTY_HEADER = struct.Struct("<2sBBi")
_HEADER_RECORD = np.dtype([("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs_id", "<i4"), ("envelope", "<f8", 4)])


def encode(geometry: BaseGeometry | None, srs_id: int = SRS_ID) -> bytes | None:
    """GeoPackage binary for one geometry (None stays None)."""
    if geometry is None:
        return None
    return encode_many([geometry], srs_id)[0]


def encode_many(geometries: Sequence[BaseGeometry | None] | np.ndarray, srs_id: int = SRS_ID) -> list[bytes | None]:
    """GeoPackage binaries for many geometries, with their XY envelopes.

    The headers are packed for the whole batch in one NumPy record array:
    packing them one by one costs more than GEOS's WKB writer.
    """
    geoms = np.asarray(geometries, dtype=object)
    wkbs = shapely.to_wkb(geoms, byte_order=1, output_dimension=2, flavor="iso")
    minx, miny, maxx, maxy = shapely.bounds(geoms).T
    headers = np.zeros(len(geoms), dtype=_HEADER_RECORD)
    headers["magic"], headers["flags"], headers["srs_id"] = b"GP", FLAGS_XY_LE, srs_id
    headers["envelope"] = np.column_stack([minx, maxx, miny, maxy])
    packed = headers.tobytes()
    size = _HEADER.size
    out: list[bytes | None] = [
        None if wkb is None else packed[i * size : (i + 1) * size] + wkb for i, wkb in enumerate(wkbs.tolist())
    ]
    for i in np.flatnonzero(shapely.is_empty(geoms)).tolist():  # no envelope to give
        out[i] = _EMPTY_HEADER.pack(b"GP", 0, _FLAGS_EMPTY_LE, srs_id) + wkbs[i]
    return out


def _wkb_offset(blob: bytes) -> int:
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob (no 'GP' magic)")
    envelope = (blob[3] >> 1) & 0b111
    if envelope not in _ENVELOPE_BYTES:
        raise ValueError(f"invalid GeoPackage envelope indicator {envelope}")
    return 8 + _ENVELOPE_BYTES[envelope]


def decode(blob: bytes | None) -> BaseGeometry | None:
    """Shapely geometry from GeoPackage binary."""
    if blob is None:
        return None
    return shapely.from_wkb(blob[_wkb_offset(blob):])


#: where the WKB starts, by the header's flags byte (its envelope indicator); None where invalid
_OFFSET_BY_FLAGS = [
    8 + _ENVELOPE_BYTES[(flags >> 1) & 0b111] if (flags >> 1) & 0b111 in _ENVELOPE_BYTES else None
    for flags in range(256)
]


def decode_many(blobs: Iterable[bytes | None]) -> np.ndarray:
    """Shapely geometries from many GeoPackage binaries, vectorised over the WKB parse."""
    return shapely.from_wkb(np.asarray(wkb_many(blobs), dtype=object))


def wkb_many(blobs: Iterable[bytes | None]) -> list[bytes | None]:
    """The WKB inside each GeoPackage binary (its header stripped), for writers that take WKB as it is.

    A value that is WKB already (its first byte, the byte order, is 0 or 1;
    a GeoPackage binary starts with "G") is taken as it is: a query may have
    cut the usual header off in SQL (``schema.gpkg_wkb``).
    """
    wkbs: list[bytes | None] = []
    for blob in blobs:
        if blob is None or blob[0] < 2:
            wkbs.append(blob)
            continue
        offset = _OFFSET_BY_FLAGS[blob[3]] if blob[:2] == b"GP" else None
        wkbs.append(blob[offset:] if offset is not None else blob[_wkb_offset(blob):])  # the latter raises, saying why
    return wkbs


def envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) from the header, or computed when absent; None if empty."""
    if blob is None or (blob[3] >> 4) & 1:
        return None
    if (blob[3] >> 1) & 0b111:
        order = "<" if blob[3] & 1 else ">"
        return struct.unpack_from(order + "4d", blob, 8)
    geometry = decode(blob)
    if geometry is None or geometry.is_empty:
        return None
    minx, miny, maxx, maxy = geometry.bounds
    return minx, maxx, miny, maxy


def envelopes(blobs: Sequence[bytes | None]) -> np.ndarray:
    """(minx, maxx, miny, maxy) per blob, NaN for a missing or empty geometry.

    Blobs written as this module writes them (flags :data:`FLAGS_XY_LE`)
    carry a little-endian XY envelope at bytes 8–40, and only those 40 bytes
    are needed; they are read in one NumPy pass. Others go through
    :func:`envelope`.
    """
    standard = [blob is not None and blob[3] == FLAGS_XY_LE and blob[:2] == b"GP" for blob in blobs]
    out = np.full((len(blobs), 4), np.nan)
    picked = np.flatnonzero(standard)
    if len(picked):
        out[picked] = np.frombuffer(b"".join(cast(bytes, blobs[i])[8:40] for i in picked.tolist()), dtype="<f8").reshape(-1, 4)
    for i in np.flatnonzero(~np.asarray(standard, dtype=bool)).tolist():
        box = envelope(blobs[i])
        if box is not None:
            out[i] = box
    return out


def _envelope_part(index: int):
    def function(blob: bytes | None) -> float | None:
        env = envelope(blob)
        return None if env is None else env[index]

    return function


def register_functions(connection: sqlite3.Connection) -> None:
    """Define the SQL functions the GeoPackage R-tree triggers call."""
    connection.create_function("ST_IsEmpty", 1, lambda b: None if b is None else int(envelope(b) is None), deterministic=True)
    for index, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        connection.create_function(name, 1, _envelope_part(index), deterministic=True)


_CORE_DDL = [
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
        description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT uk_gc_table_name UNIQUE (table_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_extensions (
        table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
        definition TEXT NOT NULL, scope TEXT NOT NULL,
        CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
]


def install_core_tables(execute) -> None:
    """Create the mandatory GeoPackage tables and SRS rows (idempotent).

    ``execute(sql, params=())`` runs one statement inside the caller's
    transaction, so installation is atomic with the rest of the schema.
    """
    execute(f"PRAGMA application_id = {APPLICATION_ID}")
    execute(f"PRAGMA user_version = {USER_VERSION}")
    for ddl in _CORE_DDL:
        execute(ddl)
    rows = [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
        ("WGS 84 geodetic", 4326, "EPSG", 4326, CRS.from_epsg(4326).to_wkt("WKT1_GDAL"),
         "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
    ]
    for row in rows:
        execute("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", row)


def register_attributes(execute, table: str, description: str = "") -> None:
    """List a non-spatial table in gpkg_contents so GIS clients show it as a layer."""
    execute(
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description) "
        "VALUES (?, 'attributes', ?, ?)",
        (table, table, description),
    )


def register_features(
    execute,
    table: str,
    *,
    column: str,
    geometry_type: str,
    fid: str = "fid",
    description: str = "",
    spatial_index: bool = True,
) -> None:
    """Register a feature table and, optionally, its R-tree index with the spec's triggers."""
    execute(
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
        "VALUES (?, 'features', ?, ?, ?)",
        (table, table, description, SRS_ID),
    )
    execute(
        "INSERT OR REPLACE INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
        (table, column, geometry_type, SRS_ID),
    )
    if not spatial_index:
        return
    execute(
        "INSERT OR REPLACE INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (table, column),
    )
    for statement in rtree_ddl(table, column, fid):
        execute(statement)


def rtree_name(table: str, column: str) -> str:
    """The R-tree index of a table's geometry column, named as annex F.3 requires."""
    return f"rtree_{table}_{column}"


def rtree_ddl(t: str, c: str, i: str) -> list[str]:
    """The R-tree virtual table and its six maintenance triggers (GeoPackage annex F.3)."""
    rt = rtree_name(t, c)
    values = f"NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})"
    non_empty = f"(NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))"
    empty = f"(NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))"
    return [
        f'CREATE VIRTUAL TABLE "{rt}" USING rtree(id, minx, maxx, miny, maxy)',
        (
            f'CREATE TRIGGER "{rt}_insert" AFTER INSERT ON "{t}" WHEN {non_empty} '
            f'BEGIN INSERT OR REPLACE INTO "{rt}" VALUES ({values}); END'
        ),
        (
            f'CREATE TRIGGER "{rt}_update1" AFTER UPDATE OF "{c}" ON "{t}" '
            f"WHEN OLD.{i} = NEW.{i} AND {non_empty} "
            f'BEGIN INSERT OR REPLACE INTO "{rt}" VALUES ({values}); END'
        ),
        (
            f'CREATE TRIGGER "{rt}_update2" AFTER UPDATE OF "{c}" ON "{t}" '
            f"WHEN OLD.{i} = NEW.{i} AND {empty} "
            f'BEGIN DELETE FROM "{rt}" WHERE id = OLD.{i}; END'
        ),
        (
            f'CREATE TRIGGER "{rt}_update3" AFTER UPDATE ON "{t}" '
            f"WHEN OLD.{i} != NEW.{i} AND {non_empty} "
            f'BEGIN DELETE FROM "{rt}" WHERE id = OLD.{i}; INSERT OR REPLACE INTO "{rt}" VALUES ({values}); END'
        ),
        (
            f'CREATE TRIGGER "{rt}_update4" AFTER UPDATE ON "{t}" '
            f"WHEN OLD.{i} != NEW.{i} AND {empty} "
            f'BEGIN DELETE FROM "{rt}" WHERE id IN (OLD.{i}, NEW.{i}); END'
        ),
        (
            f'CREATE TRIGGER "{rt}_delete" AFTER DELETE ON "{t}" WHEN OLD.{c} NOT NULL '
            f'BEGIN DELETE FROM "{rt}" WHERE id = OLD.{i}; END'
        ),
    ]
