"""The register file as GDAL and QGIS see it: a valid GeoPackage whose layers are the entities', styled.

GDAL's own validator (``validate_gpkg.py``, shipped with Debian's python3-gdal)
checks the file; GDAL's layer listing and QGIS (python3-qgis, offscreen) open
it as a user would. Both run as the system's Python, which has their bindings.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pyogrio
import sqlalchemy as sa

from mineaction.access import local_operator
from mineaction.demo.fictional_programme import build_demo, demo_programme
from mineaction.domain.entities import ENTITIES
from mineaction.io.export import export
from mineaction.storage.register import Register
from mineaction.storage.schema import history_name
from tests.common import add_organisation, hazard_values, square_m
from tests.conftest import missing_service

SYSTEM_PYTHON = "/usr/bin/python3"
#: every table the register offers as a layer: each entity's live table and its history
ENTITY_TABLES = {t for spec in ENTITIES.values() for t in (spec.name, history_name(spec.name))}
SPATIAL_TABLES = {t for spec in ENTITIES.values() if spec.geometry for t in (spec.name, history_name(spec.name))}
#: an internal table of each kind: counters, settings, vocabularies, accounts, sessions, tokens, the queue, logs
INTERNAL_TABLES = {"ref_counter", "programme_setting", "vocabulary_term", "account", "account_grant", "web_session",
                   "api_token", "changeset", "field_report", "field_import", "personal_data_read", "redaction_log",
                   "alembic_version"}


def _system_python(module: str, package: str) -> None:
    """Skip (fail in CI) unless the system's Python can import ``module``."""
    if not Path(SYSTEM_PYTHON).exists() or subprocess.run(
        [SYSTEM_PYTHON, "-c", f"import {module}"], check=False, capture_output=True, env={**os.environ, "PYTHONPATH": ""},
    ).returncode:
        missing_service(f"{module} is not importable by {SYSTEM_PYTHON} (apt install {package})")


def _validate(path: str | Path) -> subprocess.CompletedProcess:
    _system_python("osgeo_utils.samples.validate_gpkg", "python3-gdal")
    return subprocess.run(
        [SYSTEM_PYTHON, "-m", "osgeo_utils.samples.validate_gpkg", "-k", "--extra", "--warning-as-error", str(path)],
        check=False, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""},
    )


def _fill(register: Register) -> None:
    with register.write("alice", "data for GIS clients") as w:
        org = add_organisation(w)
        hazard = w.add("hazard", hazard_values(org.id), square_m(0, 0, 100))
        w.update("hazard", hazard.id, base_version=1, values={"status": "worked_on"})
        w.add("eo_find", {"category": "ap_mine", "condition": "self_deactivated", "quantity": 1,
                          "found_on": "2025-05-01", "organisation_id": org.id}, square_m(10, 10, 1).centroid)


def test_gdal_validator_passes_on_a_fresh_register(gpkg_template: Path) -> None:
    result = _validate(gpkg_template)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gdal_validator_passes_on_the_demo_register(tmp_path: Path) -> None:
    path = tmp_path / "demo.gpkg"
    with Register.create(path, demo_programme()) as register:
        summary = build_demo(register, seed=3, hazards=40)
    assert summary.hazards == 40
    result = _validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gdal_lists_only_the_entities_tables_and_their_styles(gpkg_register: Register) -> None:
    _fill(gpkg_register)
    gpkg_register.close()
    listed = dict(pyogrio.list_layers(gpkg_register.target))
    assert set(listed) == ENTITY_TABLES | {"layer_styles"}
    assert {name for name, kind in listed.items() if kind} == SPATIAL_TABLES
    if shutil.which("ogrinfo") is None:
        missing_service("GDAL's ogrinfo is not installed (apt install gdal-bin)")
    summary = subprocess.run(["ogrinfo", "-ro", "-so", "-q", gpkg_register.target], capture_output=True, text=True,
                             check=True).stdout
    assert {line.split(": ", 1)[1].split(" (")[0] for line in summary.splitlines() if ": " in line} == set(listed)
    assert not any(f": {table} (" in summary for table in INTERNAL_TABLES)


def _styles(target: str | Path) -> dict[str, tuple[str, str]]:
    """Table -> (style name, QML) of the default styles in a GeoPackage file or a PostgreSQL database."""
    text = str(target)
    url = text.replace("postgresql://", "postgresql+psycopg://", 1) if "://" in text else f"sqlite:///{text}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.exec_driver_sql("SELECT f_table_name, styleName, CAST(styleQML AS TEXT) FROM layer_styles "
                                     "WHERE useAsDefault").all()
    finally:
        engine.dispose()
    return {table: (name, qml) for table, name, qml in rows}


def test_register_carries_the_exports_qgis_styles(register: Register, tmp_path: Path) -> None:
    _fill(register)
    exported = _styles(export(register, tmp_path / "export.gpkg", scope=local_operator("test")).paths[0])
    own = _styles(register.target)
    assert set(own) == {"hazard", "released_part", "eo_find", "accident", "eore_session"}
    assert own == {table: style for table, style in exported.items() if table in own}
    assert set(exported) <= set(own)
    assert "categorizedSymbol" in own["hazard"][1] and "SHA / worked_on" in own["hazard"][1]


def test_creating_again_renews_the_register_styles_and_keeps_a_users(gpkg_register: Register) -> None:
    """``mineaction init`` on an existing register (an upgrade) writes its styles anew, once each."""
    with sqlite3.connect(gpkg_register.target) as c:
        c.execute("INSERT INTO layer_styles (f_table_name, f_geometry_column, styleName, styleQML, useAsDefault, "
                  "owner) VALUES ('hazard', 'geom', 'my own', '<qgis/>', 0, 'analyst')")
    gpkg_register.close()
    Register.create(gpkg_register.target).close()
    with sqlite3.connect(gpkg_register.target) as c:
        rows = c.execute("SELECT styleName, owner FROM layer_styles WHERE f_table_name = 'hazard' ORDER BY id").fetchall()
    assert rows == [("my own", "analyst"), ("hazard by hazard_type, status", "mineaction")]


_QGIS_SCRIPT = """
import json, os, sys
from qgis.core import QgsApplication, QgsDataSourceUri, QgsProviderRegistry, QgsVectorLayer, QgsWkbTypes
app = QgsApplication([], False)
app.initQgis()
target = sys.argv[1]
if target.startswith("postgresql://"):  # as a QGIS PostgreSQL connection opens a table
    user, place = target.removeprefix("postgresql://").split("@", 1)
    host, database = place.split("/", 1)
    uri = QgsDataSourceUri()
    uri.setConnection(*host.split(":"), database, user, "")
    uri.setDataSource("public", "hazard", "geom", "", "fid")
    listed, hazard = {}, QgsVectorLayer(uri.uri(False), "hazard", "postgres")
else:
    listed = {s.name(): QgsWkbTypes.geometryType(s.wkbType()) != QgsWkbTypes.NullGeometry
              for s in QgsProviderRegistry.instance().querySublayers(target)}
    hazard = QgsVectorLayer(target + "|layername=hazard", "hazard", "ogr")
renderer = hazard.renderer()
print(json.dumps({"listed": listed, "valid": hazard.isValid(), "features": hazard.featureCount(),
                  "renderer": renderer.type(), "attribute": getattr(renderer, "classAttribute", lambda: None)(),
                  "categories": len(getattr(renderer, "categories", lambda: [])())}), flush=True)
os._exit(0)  # QGIS 3.22 may crash tearing down its application; what was asked is printed
"""


def test_qgis_opens_the_register_with_the_entities_as_layers_and_styled(register: Register) -> None:
    """QGIS 3.22 (Debian's) asks GDAL for every table of a GeoPackage (LIST_ALL_TABLES=YES), so internal tables
    appear in its list as plain tables; the map layers it offers are exactly the entities', and they open
    styled, from the file or from PostGIS."""
    _system_python("qgis.core", "python3-qgis")
    _fill(register)
    register.close()
    if register.dialect == "postgresql":  # QGIS finds a style by database name: this one is a copy of a template,
        Register.create(register.target).close()  # so its styles are renamed as `mineaction init` does after a copy
    result = subprocess.run([SYSTEM_PYTHON, "-c", _QGIS_SCRIPT, register.target], check=False,
                            capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": "", "QT_QPA_PLATFORM": "offscreen"}, timeout=300)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    if register.dialect == "sqlite":
        assert {name for name, spatial in seen["listed"].items() if spatial} == SPATIAL_TABLES
        assert "layer_styles" not in seen["listed"]  # QGIS keeps its style table to itself
    assert seen["valid"] and seen["features"] == 1
    assert seen["renderer"] == "categorizedSymbol"
    assert seen["attribute"] == "\"hazard_type\" || ' / ' || \"status\""
    assert seen["categories"] == len(_styles(register.target)["hazard"][1].split("<category ")) - 1
