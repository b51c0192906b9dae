"""QGIS's ``layer_styles`` table: the styles a layer opens with, in a GeoPackage and in PostGIS.

QGIS looks for a layer's default style in a table of this name beside the
layer, in a GeoPackage file (read through GDAL) and in the PostgreSQL
database it connects to, so the register (both backends) and its GeoPackage
exports carry the same styles (:mod:`mineaction.domain.styles`) this way.
The tables are created as QGIS creates them, so that users can save their
own styles beside ours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mineaction.domain.styles import LayerStyle

__all__ = ["OWNER", "install", "write"]

#: the owner of the styles mineaction writes; styles users save from QGIS have another and are kept
OWNER = "mineaction"

_DDL = {
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), "
        "f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT, "
        "useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
        "update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
    ),
    "postgresql": (
        "CREATE TABLE IF NOT EXISTS layer_styles (id SERIAL PRIMARY KEY, f_table_catalog varchar, "
        "f_table_schema varchar, f_table_name varchar, f_geometry_column varchar, styleName text, styleQML xml, "
        "styleSLD xml, useAsDefault boolean, description text, owner varchar(63) DEFAULT CURRENT_USER, ui xml, "
        "update_time timestamp DEFAULT CURRENT_TIMESTAMP, type varchar)"
    ),
}

#: execute(sql, params): runs one statement with ``:name`` parameters (sqlite3 and SQLAlchemy's text both take them)
Execute = Callable[..., Any]


def install(execute: Execute, dialect: str) -> None:
    """Create the table (idempotent); in a GeoPackage list it in gpkg_contents, as QGIS does."""
    execute(_DDL[dialect], {})
    if dialect == "sqlite":
        execute("INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description) "
                "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles')", {})


def write(execute: Execute, dialect: str, styles: Iterable[LayerStyle], description: str, *,
          catalog: str = "", schema: str = "", column: str = "geom") -> None:
    """Make ``styles`` the default style of their tables, replacing those mineaction wrote before.

    In PostgreSQL QGIS matches a style by database (``catalog``) and schema.
    """
    install(execute, dialect)
    for style in styles:
        execute("DELETE FROM layer_styles WHERE f_table_name = :table AND owner = :owner",
                {"table": style.table, "owner": OWNER})
        execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
            "styleQML, styleSLD, useAsDefault, description, owner) VALUES (:catalog, :schema, :table, :column, "
            ":name, :qml, NULL, :default, :description, :owner)",
            {"catalog": catalog, "schema": schema, "table": style.table, "column": column, "name": style.name,
             "qml": style.qml, "default": True, "description": description, "owner": OWNER},
        )
