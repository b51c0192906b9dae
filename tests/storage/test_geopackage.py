"""The embedded register is a real GeoPackage: GDAL reads it, the R-tree stays in sync."""

from __future__ import annotations

import shutil
import sqlite3
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import shapely

from mineaction.domain.entities import ENTITIES
from mineaction.storage import gpkg
from mineaction.storage.register import Register
from tests.common import add_organisation, hazard_values, square_m
from tests.conftest import missing_service


def _fill(register: Register) -> None:
    with register.write("alice", "data for GDAL") as w:
        org = add_organisation(w)
        w.add("admin_area", {"pcode": "ZZ01", "name_en": "Oblast", "level": 1}, square_m(-5000, -5000, 10000))
        hazards = w.add_many("hazard", [hazard_values(org.id) for _ in range(5)], [square_m(300 * i, 0, 100) for i in range(5)])
        w.update("hazard", hazards[0].id, base_version=1, geometry=square_m(0, 0, 150))
        w.add("eo_find", {"category": "ap_mine", "condition": "self_deactivated", "quantity": 1,
                          "found_on": "2025-05-01", "organisation_id": org.id}, square_m(10, 10, 1).centroid)


def test_geometry_blob_round_trip() -> None:
    polygon = square_m(0, 0, 100)
    blob = gpkg.encode(polygon)
    assert blob[:2] == b"GP" and blob[3] == 0b11  # little-endian, XY envelope
    assert gpkg.decode(blob).equals_exact(polygon, 0)
    minx, miny, maxx, maxy = polygon.bounds
    assert gpkg.envelope(blob) == (minx, maxx, miny, maxy)
    empty = gpkg.encode(shapely.Polygon())
    assert gpkg.envelope(empty) is None and gpkg.decode(empty).is_empty
    with pytest.raises(ValueError, match="GP"):
        gpkg.decode(b"XX\x00\x01")


def test_ogrinfo_lists_and_reads_every_spatial_table(gpkg_register: Register) -> None:
    if shutil.which("ogrinfo") is None:
        missing_service("GDAL's ogrinfo is not installed (apt install gdal-bin)")
    _fill(gpkg_register)
    gpkg_register.close()
    path = gpkg_register.target
    listing = subprocess.run(["ogrinfo", "-ro", "-q", path], capture_output=True, text=True, check=True)
    for spec in ENTITIES.values():
        if spec.geometry:
            assert f"{spec.name} (" in listing.stdout and f"{spec.name}_history (" in listing.stdout
    result = subprocess.run(["ogrinfo", "-ro", "-al", "-so", path], capture_output=True, text=True, check=True)
    assert "Warning" not in result.stderr and "ERROR" not in result.stderr, result.stderr
    hazards = subprocess.run(["ogrinfo", "-ro", "-q", "-sql", "SELECT COUNT(*) AS n FROM hazard", path],
                             capture_output=True, text=True, check=True)
    assert "n (Integer) = 5" in hazards.stdout
    history = subprocess.run(["ogrinfo", "-ro", "-q", "-sql", "SELECT COUNT(*) AS n FROM hazard_history", path],
                             capture_output=True, text=True, check=True)
    assert "n (Integer) = 1" in history.stdout  # the first outline of the hazard edited; the live ones are above
    # GDAL's own spatial filter goes through our R-tree
    minx, miny, maxx, maxy = square_m(-10, -10, 50).bounds
    spatial = subprocess.run(["ogrinfo", "-ro", "-q", "-spat", str(minx), str(miny), str(maxx), str(maxy), path, "hazard"],
                             capture_output=True, text=True, check=True)
    assert spatial.stdout.count("OGRFeature(hazard)") == 1


def test_rtree_matches_geometries_after_inserts_and_updates(gpkg_register: Register) -> None:
    _fill(gpkg_register)
    with sqlite3.connect(gpkg_register.target) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("PRAGMA application_id").fetchone()[0] == gpkg.APPLICATION_ID
        assert c.execute("PRAGMA user_version").fetchone()[0] == gpkg.USER_VERSION
        geoms = dict(c.execute("SELECT fid, geom FROM hazard").fetchall())
        rtree = {row[0]: row[1:] for row in c.execute("SELECT id, minx, maxx, miny, maxy FROM rtree_hazard_geom")}
    assert set(rtree) == set(geoms)
    for fid, blob in geoms.items():
        minx, miny, maxx, maxy = gpkg.decode(blob).bounds
        # the R-tree stores 32-bit floats, rounded outwards
        assert rtree[fid][0] <= minx and rtree[fid][1] >= maxx and rtree[fid][2] <= miny and rtree[fid][3] >= maxy
        assert np.allclose(rtree[fid], (minx, maxx, miny, maxy), atol=1e-5)


def test_closed_register_is_a_single_file(gpkg_register: Register) -> None:
    _fill(gpkg_register)
    gpkg_register.close()
    wal = Path(gpkg_register.target + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_map_reads_cut_the_usual_header_in_sql_and_any_other_in_python(gpkg_register: Register) -> None:
    """GDAL and other writers may store a blob without an envelope; such a blob still reads exactly."""
    _fill(gpkg_register)
    hazards = gpkg_register.records("hazard")
    outline = square_m(900, 900, 40)
    other = b"GP\x00\x01" + struct.pack("<i", 4326) + shapely.to_wkb(outline, byte_order=1)  # no envelope
    with gpkg_register.engine.begin() as c:  # a hand edit names its next version, so history keeps the last
        c.exec_driver_sql("UPDATE hazard SET geom = ?, version = version + 1 WHERE id = ?", (other, hazards[1].id))
    found = gpkg_register.features("hazard")
    shapes = dict(zip(found.ids, found.geometries))
    assert shapely.equals_exact(shapes[hazards[1].id], outline, 0)
    for record in hazards[2:]:
        assert shapely.equals_exact(shapes[record.id], record.geometry, 0)
    assert gpkg.wkb_many([shapely.to_wkb(outline), other, None]) == [shapely.to_wkb(outline)] * 2 + [None]
