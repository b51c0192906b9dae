"""The register's contract, run on both backends (GeoPackage and PostGIS)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import shapely
import sqlalchemy as sa
from pyproj import Geod

from mineaction.domain.geometry import to_wgs84
from mineaction.errors import (
    CRSRequired,
    InvalidGeometry,
    InvalidValue,
    MineActionError,
    OutsideProgrammeExtent,
    RecordNotFound,
    StaleEdit,
    StorageError,
    SwappedAxes,
)
from mineaction.storage.register import Register
from tests.common import E0, N0, UTM, activity_values, add_organisation, box_m, hazard_values, square_m

GEOD = Geod(ellps="WGS84")


def _add_hazard(register: Register, geometry=None, **extra):
    with register.write("alice", "new hazard from NTS") as w:
        org = add_organisation(w)
        return w.add("hazard", hazard_values(org.id, **extra), geometry or square_m(0, 0, 100))


def test_add_derives_geodesic_area_and_reference(register: Register) -> None:
    hazard = _add_hazard(register)
    stored = register.get("hazard", hazard.ref)
    expected = abs(GEOD.geometry_area_perimeter(stored.geometry)[0])
    assert stored.values["area_m2"] == pytest.approx(expected, rel=1e-9)
    # a 100 m UTM square is 10,000 m² within the UTM scale distortion (< 0.1 %)
    assert stored.values["area_m2"] == pytest.approx(10_000, rel=1e-3)
    assert stored.ref == "HAZ-000001" and stored.version == 1
    assert stored.values["contamination"] == ["ap_mine"]


def test_input_crs_is_reprojected_to_lonlat(register: Register) -> None:
    utm_square = shapely.box(E0, N0, E0 + 100, N0 + 100)
    with register.write("alice", "utm input") as w:
        org = add_organisation(w)
        hazard = w.add("hazard", hazard_values(org.id), utm_square, crs=UTM)
    minx, miny, maxx, maxy = register.get("hazard", hazard.id).geometry.bounds
    assert -34 < minx < maxx < -33 and -30.1 < miny < maxy < -29.9
    assert shapely.equals_exact(register.get("hazard", hazard.id).geometry.normalize(), square_m(0, 0, 100).normalize(), 1e-9)


def test_update_keeps_every_version_and_reads_as_of(register: Register) -> None:
    hazard = _add_hazard(register)
    time.sleep(0.005)
    between = dt.datetime.now(dt.UTC)
    time.sleep(0.005)
    with register.write("bob", "direct evidence found") as w:
        updated = w.update("hazard", hazard.id, base_version=1, values={"hazard_type": "CHA", "evidence": "direct"})
    assert updated.version == 2
    assert register.get("hazard", hazard.id)["hazard_type"] == "CHA"
    assert register.get("hazard", hazard.id, as_of=between)["hazard_type"] == "SHA"
    versions = register.history("hazard", hazard.id)
    assert [v.version for v in versions] == [1, 2]
    assert [v.recorded_by for v in versions] == ["alice", "bob"]
    assert register.changeset(versions[1].changeset_id)["reason"] == "direct evidence found"
    with pytest.raises(RecordNotFound):
        register.get("hazard", hazard.id, as_of=dt.datetime(2000, 1, 1))
    assert register.count("hazard", as_of=between) == 1
    assert register.count("hazard", as_of=dt.datetime(2000, 1, 1)) == 0


def test_stale_edit_is_refused_naming_the_newer_change(register: Register) -> None:
    hazard = _add_hazard(register)
    with register.write("bob", "closed after survey") as w:
        w.update("hazard", hazard.id, base_version=1, values={"status": "worked_on"})
    with pytest.raises(StaleEdit) as info, register.write("carol", "my older edit") as w:
        w.update("hazard", hazard.id, base_version=1, values={"status": "closed"})
    message = str(info.value)
    assert "version 2" in message and "bob" in message and "closed after survey" in message
    assert register.get("hazard", hazard.id)["status"] == "worked_on"


def test_delete_is_soft_and_history_is_append_only(register: Register) -> None:
    hazard = _add_hazard(register)
    with register.write("bob", "duplicate of another report") as w:
        w.delete("hazard", hazard.id, base_version=1)
    with pytest.raises(RecordNotFound):
        register.get("hazard", hazard.id)
    assert register.count("hazard") == 0
    versions = register.history("hazard", hazard.id)
    assert [v.deleted for v in versions] == [False, True]
    assert len(register.records("hazard", include_deleted=True)) == 1
    for statement in ("DELETE FROM hazard_history", "UPDATE hazard_history SET status = 'closed'", "DELETE FROM hazard"):
        with pytest.raises(sa.exc.DBAPIError), register.engine.begin() as c:
            c.exec_driver_sql(statement)
    assert len(register.history("hazard", hazard.id)) == 2


def test_history_is_kept_by_the_database_even_for_edits_made_outside_the_register(register: Register) -> None:
    hazard = _add_hazard(register)
    with register.engine.connect() as c:  # never edited: written once, in the live table only
        assert c.exec_driver_sql("SELECT count(*) FROM hazard_history").scalar() == 0
    for statement in ("UPDATE hazard SET status = 'closed'", "UPDATE hazard SET version = 3",
                      "UPDATE hazard SET version = version + 1, id = 'another'"):
        with pytest.raises(sa.exc.DBAPIError, match="only by its next version"), register.engine.begin() as c:
            c.exec_driver_sql(statement)
    with register.engine.begin() as c:  # a hand-written edit that names its version still keeps the one it replaces
        c.exec_driver_sql("UPDATE hazard SET status = 'closed', version = version + 1")
    versions = register.history("hazard", hazard.id)
    assert [(v.version, v["status"]) for v in versions] == [(1, "active"), (2, "closed")]


def test_a_failed_write_leaves_nothing(register: Register) -> None:
    _add_hazard(register)
    changesets = register.engine.connect().execute(sa.text("SELECT count(*) FROM changeset")).scalar()
    with pytest.raises(InvalidValue), register.write("alice", "batch with one bad row") as w:
        org = add_organisation(w, "Another")
        w.add("hazard", hazard_values(org.id), square_m(200, 0, 50))
        w.add("hazard", hazard_values(org.id, hazard_type="MAYBE"), square_m(400, 0, 50))
    assert register.count("hazard") == 1 and register.count("organisation") == 1
    with register.engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM changeset")).scalar() == changesets


@pytest.mark.parametrize(("depth", "fragment"), [(2.5, "not a whole number"), (-1_724_572_642_502_366, "outside")])
def test_whole_numbers_must_be_whole_and_fit_the_column(register: Register, depth: float, fragment: str) -> None:
    """A depth of -1.7e15 cm once reached PostgreSQL and came back as a 503 'integer out of range'."""
    with register.write("alice", "a hazard") as w:
        hazard = w.add("hazard", hazard_values(add_organisation(w).id), square_m(0, 0, 50))
    with pytest.raises(InvalidValue, match=rf"clearance_depth_cm: .* is not a valid integer \({fragment}"):
        with register.write("alice", "an activity") as w:
            w.add("activity", activity_values(hazard.id, hazard["organisation_id"], clearance_depth_cm=depth))


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"hazard_type": "MAYBE"}, "'MAYBE' not in vocabulary 'hazard_type'"),
        ({"contamination": ["ap_mine", "rocks"]}, "'rocks' not in vocabulary 'contamination'"),
        ({"reported_on": "yesterday"}, "reported_on"),
        ({"area_m2": 5.0}, "derived"),
        ({"colour": "red"}, "unknown field"),
        ({"reported_on": None}, "missing required field(s) reported_on"),
    ],
)
def test_bad_values_are_refused_naming_the_field(register: Register, values: dict, fragment: str) -> None:
    with pytest.raises(InvalidValue) as info, register.write("alice", "bad") as w:
        org = add_organisation(w)
        w.add("hazard", {**hazard_values(org.id), **values}, square_m(0, 0, 100))
    assert fragment in str(info.value)
    assert register.count("hazard") == 0


def test_invalid_polygon_reports_reason_and_location(register: Register) -> None:
    bowtie = shapely.Polygon([(-33.70, -30.00), (-33.69, -29.99), (-33.69, -30.00), (-33.70, -29.99)])
    with pytest.raises(InvalidGeometry) as info, register.write("alice", "bowtie") as w:
        w.add("hazard", hazard_values(add_organisation(w).id), bowtie)
    assert "Self-intersection" in str(info.value)
    assert info.value.location == pytest.approx((-33.695, -29.995))
    with register.write("alice", "bowtie, repair requested") as w:
        org = add_organisation(w)
        with pytest.raises(InvalidGeometry, match="splits the polygon into 2 parts"):
            w.add("hazard", hazard_values(org.id), bowtie, repair=True)
        # a MultiPolygon layer accepts the two repaired triangles, and the area change is reported
        part = w.add("admin_area", {"pcode": "T1", "name_en": "t", "level": 9}, bowtie, repair=True)
        triangles = shapely.make_valid(bowtie).geoms
        # Geod joins vertices by geodesics, the register by straight lon/lat edges: < 1e-8 apart here
        assert w.repairs[-1][1].area_after_m2 == pytest.approx(
            sum(abs(GEOD.geometry_area_perimeter(p)[0]) for p in triangles), rel=1e-8
        )
        assert part.geometry.geom_type == "MultiPolygon"


@pytest.mark.parametrize(
    ("geometry", "error", "fragment"),
    [
        (shapely.box(-30.0, -33.7, -29.99, -33.69), SwappedAxes, "wrong order"),
        (shapely.box(30.0, 50.0, 30.01, 50.01), OutsideProgrammeExtent, "outside the programme extent"),
        (shapely.Polygon([(-33.7, -30, 5), (-33.69, -30, 5), (-33.69, -29.99, 5)]), InvalidGeometry, "Z (3-D)"),
        (shapely.Polygon([(-33.7, -30), (float("nan"), -30), (-33.69, -29.99)]), InvalidGeometry, "NaN"),
        (shapely.Polygon(), InvalidGeometry, "empty"),
        (shapely.Point(-33.7, -30), InvalidGeometry, "expected Polygon"),
    ],
)
def test_bad_geometries_are_refused(register: Register, geometry, error, fragment) -> None:
    with pytest.raises(error) as info, register.write("alice", "bad geometry") as w:
        w.add("hazard", hazard_values(add_organisation(w).id), geometry)
    assert fragment in str(info.value)
    assert register.count("hazard") == 0


def test_missing_crs_is_refused(register: Register) -> None:
    with pytest.raises(CRSRequired), register.write("alice", "no crs") as w:
        w.add("hazard", hazard_values(add_organisation(w).id), square_m(0, 0, 10), crs=None)


def test_admin_area_is_derived_spatially_at_the_deepest_level(register: Register) -> None:
    with register.write("alice", "gazetteer") as w:
        w.add("admin_area", {"pcode": "ZZ01", "name_en": "Oblast", "level": 1}, square_m(-5000, -5000, 10000))
        w.add("admin_area", {"pcode": "ZZ0101", "name_en": "Raion", "level": 2, "parent_pcode": "ZZ01"},
              square_m(-5000, -5000, 5000))
        org = add_organisation(w)
        inner = w.add("hazard", hazard_values(org.id), square_m(-1000, -1000, 100))
        outer = w.add("hazard", hazard_values(org.id), square_m(1000, 1000, 100))
    assert register.get("hazard", inner.id)["admin_pcode"] == "ZZ0101"
    assert register.get("hazard", outer.id)["admin_pcode"] == "ZZ01"


def test_bbox_query_uses_the_spatial_index(register: Register) -> None:
    with register.write("alice", "two hazards") as w:
        org = add_organisation(w)
        near = w.add("hazard", hazard_values(org.id), square_m(0, 0, 100))
        w.add("hazard", hazard_values(org.id), square_m(20_000, 20_000, 100))
    window = square_m(-50, -50, 120).bounds
    assert [r.id for r in register.records("hazard", bbox=window)] == [near.id]


def test_open_refuses_what_is_not_a_register(tmp_path) -> None:
    with pytest.raises(StorageError, match="mineaction init"):
        Register.open(tmp_path / "missing.gpkg")
    empty = tmp_path / "empty.gpkg"
    empty.write_bytes(b"")
    with pytest.raises(StorageError, match="not a mineaction register"):
        Register.open(empty)


def test_every_change_needs_user_and_reason(register: Register) -> None:
    with pytest.raises(MineActionError, match="user and a reason"), register.write("alice", ""):
        pass


def test_features_returns_exact_window_hits_with_fields(register: Register) -> None:
    with register.write("alice", "three hazards") as w:
        org = add_organisation(w)
        a = w.add("hazard", hazard_values(org.id, hazard_type="CHA"), square_m(0, 0, 100))
        # its bounding box overlaps the window, the triangle itself does not: only the exact test drops it
        sliver = shapely.Polygon([(E0 + 200, N0), (E0 + 200, N0 + 200), (E0 + 110, N0 + 200)])
        w.add("hazard", hazard_values(org.id), to_wgs84(sliver, UTM))
        gone = w.add("hazard", hazard_values(org.id), square_m(10, 10, 10))
        w.delete("hazard", gone.id, base_version=1)
    window = box_m(-10, -10, 120, 120).bounds
    hits = register.features("hazard", bbox=window, fields=("hazard_type", "contamination"))
    assert hits.ids == [a.id] and hits.refs == [a.ref] and hits.versions == [1]
    assert hits.properties == {"hazard_type": ["CHA"], "contamination": [["ap_mine"]]}
    assert hits.geometries[0].equals(register.get("hazard", a.id).geometry)
    assert len(register.features("hazard")) == 2
    assert len(register.records("hazard", bbox=window)) == 1
    # every kind of value comes back as records() gives it: dates, real numbers, codes
    typed = register.features("hazard", bbox=window, fields=("reported_on", "area_m2", "contamination"))
    record = register.get("hazard", a.id)
    assert {f: v[0] for f, v in typed.properties.items()} == {
        f: record[f] for f in ("reported_on", "area_m2", "contamination")}
    assert isinstance(typed.properties["reported_on"][0], dt.date)
    with pytest.raises(MineActionError, match="no geometry"):
        register.features("victim")


def test_add_many_accepts_rows_with_different_fields(register: Register) -> None:
    with register.write("alice", "mixed rows") as w:
        org = add_organisation(w)
        rows = [hazard_values(org.id), hazard_values(org.id, description="burnt vehicle nearby", estimated_items=3)]
        added = w.add_many("hazard", rows, [square_m(0, 0, 50), square_m(100, 0, 50)])
    assert register.get("hazard", added[0].id)["description"] is None
    assert register.get("hazard", added[1].id)["estimated_items"] == 3
