"""Export → import round trips, idempotency and the review queue, on both backends."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely

from mineaction.domain.entities import ENTITIES, Kind, Sensitivity
from mineaction.domain.generalisation import Generalisation, to_grid
from mineaction.domain.geometry import geodesic_area
from mineaction.errors import ConflictError, InvalidValue
from mineaction.io import SourceError, ValidationReport, import_file
from mineaction.io.export import PersonalDataRefused, export
from mineaction.io.importer import Job, import_batches
from mineaction.io.mapping import Mapping
from mineaction.io.sources import Batch, Source
from mineaction.storage import review
from mineaction.storage.gpkg import register_functions
from mineaction.storage.register import Register
from mineaction.storage.review import ImportSource
from tests.common import OPERATOR, PERSONAL_SCOPE, box_m, square_m
from tests.io.helpers import populate

KML = "http://www.opengis.net/kml/2.2"
CHECKED = ("organisation", "hazard", "activity", "released_part", "eo_find", "accident", "victim", "eore_session")


@pytest.fixture
def source(gpkg_template: Path, tmp_path: Path) -> Register:
    """A populated GeoPackage register to export from."""
    path = tmp_path / "source.gpkg"
    shutil.copy(gpkg_template, path)
    register = Register.open(path)
    populate(register)
    yield register
    register.close()


@contextlib.contextmanager
def _edit(path: Path) -> Iterator[sqlite3.Connection]:
    """Edit an exported GeoPackage as a field GIS would (its R-tree triggers call ST_* functions)."""
    connection = sqlite3.connect(path)
    register_functions(connection)
    with connection:
        yield connection
    connection.close()


def _comparable(register: Register, name: str) -> list[tuple]:
    """Records without what differs between registers by design (ids, refs, links, times)."""
    spec = ENTITIES[name]
    keep = [f.name for f in spec.fields if f.kind is not Kind.LINK and f.name != "area_m2"]
    return sorted((tuple(json.dumps(r.values[k], default=str) for k in keep),
                   None if r.geometry is None else r.geometry.normalize().wkt) for r in register.records(name))


def _areas(register: Register, name: str) -> list[float]:
    return sorted(r["area_m2"] for r in register.records(name))


def _assert_same(a: Register, b: Register, names=CHECKED) -> None:
    for name in names:
        assert len(a.records(name)) == len(b.records(name)), name
        if "area_m2" in ENTITIES[name].field_map:
            assert _areas(b, name) == pytest.approx(_areas(a, name), abs=0.01)
        before = _comparable(a, name)
        after = _comparable(b, name)
        for (values_a, wkt_a), (values_b, wkt_b) in zip(before, after):
            assert values_a == values_b, name
            if wkt_a is not None:
                assert shapely.equals_exact(shapely.from_wkt(wkt_a), shapely.from_wkt(wkt_b), 1e-9), name


def test_gpkg_export_imports_back_as_the_same_records(source: Register, register: Register, tmp_path: Path) -> None:
    path = export(source, tmp_path / "out.gpkg", level=Sensitivity.PERSONAL, scope=PERSONAL_SCOPE).paths[0]
    result = import_file(register, path, user="im.officer", reason="national database exchange")
    assert result.report.ok and result.queued is not None and result.queued.submitted == 10
    assert register.count("hazard") == 0  # queued, not applied
    outcome = review.approve(register, import_id=result.queued.import_id, user="reviewer", reason="checked")
    assert len(outcome.approved) == 10 and not outcome.conflicts
    _assert_same(source, register)
    again = import_file(register, path, user="im.officer", reason="sent twice")
    assert again.queued is not None and again.queued.submitted == 0
    assert len(review.reports(register)) == 10


@pytest.mark.parametrize("suffix", [".geojson", ".csv", ".xlsx", ".zip", ".kmz"])
def test_other_formats_round_trip(source: Register, gpkg_register: Register, tmp_path: Path, suffix: str) -> None:
    names = ["organisation", "hazard"] if suffix in (".csv", ".xlsx", ".zip") else ["hazard"]
    paths = export(source, tmp_path / f"out{suffix}", entities=names, scope=OPERATOR).paths
    data = [p for p in paths if not p.name.endswith(".metadata.json")]
    if suffix in (".kmz", ".geojson"):  # one layer: the operator is already in the target register
        with gpkg_register.write("im", "operator") as w:
            w.add("organisation", {"name": "Test Operator", "organisation_type": "ngo"})
        mapping = tmp_path / "hazards.yaml"
        mapping.write_text("entity: hazard\nfields:\n  organisation_id: null\n"
                           "defaults:\n  organisation_id: Test Operator\n", encoding="utf-8")
        result = import_file(gpkg_register, data[0], mapping=mapping, user="im", reason="one layer")
    elif len(data) == 1:
        result = import_file(gpkg_register, data[0], user="im", reason="round trip")
    else:  # one file per entity: the operator is imported and approved first, the hazards link to its ref
        for p in data:
            result = import_file(gpkg_register, p, entity=p.stem.split(".")[-1], user="im", reason="round trip")
            assert result.report.ok, result.report.problems
            review.approve(gpkg_register, import_id=result.queued.import_id, user="rev", reason="ok")
    assert result.report.ok, result.report.problems
    for queued in {r.import_id for r in review.reports(gpkg_register, status="submitted")}:
        review.approve(gpkg_register, import_id=queued, user="rev", reason="ok")
    _assert_same(source, gpkg_register, ["hazard"])


def test_importing_an_export_into_its_own_register_adds_nothing(register: Register, tmp_path: Path) -> None:
    populate(register)
    path = export(register, tmp_path / "self.gpkg", level=Sensitivity.PERSONAL, scope=PERSONAL_SCOPE).paths[0]
    result = import_file(register, path, user="im", reason="same data back")
    assert result.report.ok and result.report.valid == 0 and result.report.skipped == 10
    assert "identical to HAZ-000001 version 1 in the register" in {p.problem for p in result.report.problems}
    assert review.reports(register) == []


def test_an_edit_based_on_an_old_version_is_flagged_as_a_conflict(register: Register, tmp_path: Path) -> None:
    sample = populate(register)
    exported = export(register, tmp_path / "field.gpkg", entities=["hazard"], scope=OPERATOR).paths[0]
    with register.write("bob", "status changed at the office") as w:
        w.update("hazard", sample.hazard, base_version=1, values={"status": "worked_on"})
    edited = tmp_path / "edited.gpkg"
    shutil.copy(exported, edited)
    with _edit(edited) as c:  # the field team closes the hazard, unaware of bob's change
        c.execute("UPDATE hazard SET status = 'closed', closed_on = '2025-06-01' WHERE id = ?", (sample.hazard,))
    result = import_file(register, edited, user="im", reason="field update")
    assert result.report.ok and result.queued.submitted == 1
    [report] = review.reports(register)
    assert report.action == "update" and report.base_version == 1
    outcome = review.approve(register, refs=[report.ref], user="rev", reason="apply field update")
    assert outcome.approved == [] and len(outcome.conflicts) == 1
    assert "version 2" in outcome.conflicts[0][1] and "bob" in outcome.conflicts[0][1]
    assert register.get("hazard", sample.hazard)["status"] == "worked_on"
    assert review.reports(register, refs=[report.ref])[0].status == "conflict"


def test_an_edit_on_the_current_version_is_applied(register: Register, tmp_path: Path) -> None:
    sample = populate(register)
    path = export(register, tmp_path / "field.gpkg", entities=["hazard"], scope=OPERATOR).paths[0]
    with _edit(path) as c:
        c.execute("UPDATE hazard SET hazard_type = 'CHA', evidence = 'direct' WHERE id = ?", (sample.hazard,))
    result = import_file(register, path, user="im", reason="NTS confirmed")
    review.approve(register, import_id=result.queued.import_id, user="rev", reason="ok")
    hazard = register.get("hazard", sample.hazard)
    assert (hazard.version, hazard["hazard_type"], hazard["evidence"]) == (2, "CHA", "direct")


def test_rejection_needs_a_reason_and_takes_dependants_with_it(register: Register, tmp_path: Path) -> None:
    source_path = tmp_path / "src.gpkg"
    with Register.create(source_path) as other:
        populate(other)
        path = export(other, tmp_path / "x.gpkg", entities=["organisation", "hazard", "activity"], scope=OPERATOR).paths[0]
    result = import_file(register, path, user="im", reason="new operator")
    organisation = next(r for r in review.reports(register) if r.entity == "organisation")
    with pytest.raises(InvalidValue):
        review.reject(register, [organisation.ref], user="rev", reason="")
    with pytest.raises(ConflictError, match="approve FR-"):
        review.approve(register, refs=[r.ref for r in review.reports(register) if r.entity == "hazard"],
                       user="rev", reason="hazards first")
    outcome = review.reject(register, [organisation.ref], user="rev", reason="operator not accredited")
    assert len(outcome.rejected) == 4  # the organisation, two hazards, the activity on one of them
    statuses = {r.status for r in review.reports(register, import_id=result.queued.import_id)}
    assert statuses == {"rejected"} and register.count("organisation") == 0


def test_export_respects_sensitivity(source: Register, tmp_path: Path) -> None:
    default = export(source, tmp_path / "d.gpkg", scope=OPERATOR).paths[0]
    victim_fields = set(pyogrio.read_info(default, layer="victim")["fields"])
    assert {"victim_group", "outcome"} <= victim_fields and not {"name", "age", "sex", "notes"} & victim_fields
    with pytest.raises(PersonalDataRefused):
        export(source, tmp_path / "p.gpkg", level=Sensitivity.PERSONAL, scope=OPERATOR)
    public = export(source, tmp_path / "public.gpkg", level=Sensitivity.PUBLIC, scope=OPERATOR).paths[0]
    hazard = pyogrio.read_info(public, layer="hazard")
    assert "area_m2" in hazard["fields"] and "status" not in hazard["fields"]
    # outlines only as precisely as the programme publishes them: its 1 km grid cells, never the drawn vertices
    assert source.programme.public_locations == Generalisation("grid", 1000.0)
    exact = pyogrio.read_dataframe(default, layer="hazard").set_index("ref").geometry
    shown = pyogrio.read_dataframe(public, layer="hazard").set_index("ref").geometry
    assert sorted(shown.index) == sorted(exact.index)
    for ref, cells in shown.items():
        assert shapely.equals(cells, shapely.union_all(to_grid(np.array([exact[ref]]), 1000.0)[0]))
        assert cells.covers(exact[ref]) and geodesic_area(cells) >= 0.99e6
        drawn = {tuple(c) for c in shapely.get_coordinates(exact[ref]).round(9)}
        assert not drawn & {tuple(c) for c in shapely.get_coordinates(cells).round(9)}


def test_exports_record_their_register_version_and_styles(source: Register, tmp_path: Path) -> None:
    last = source.changeset(1)["recorded_at"]
    gpkg = export(source, tmp_path / "x.gpkg", scope=OPERATOR).paths[0]
    info = pyogrio.read_info(gpkg, layer="hazard")
    assert info["dataset_metadata"]["as_of"].startswith(last.isoformat()[:19])
    assert info["dataset_metadata"]["software"] == "mineaction"
    with sqlite3.connect(gpkg) as c:
        styled = dict(c.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault").fetchall())
        assert c.execute("SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'").fetchone() == ("attributes",)
    assert {"hazard", "released_part", "eo_find"} <= set(styled)
    assert 'categorizedSymbol' in styled["hazard"] and "SHA / active" in styled["hazard"]
    geojson = export(source, tmp_path / "h.geojson", entities=["hazard"], scope=OPERATOR).paths[0]
    assert json.loads(geojson.read_text())["mineaction"]["as_of"] == info["dataset_metadata"]["as_of"]
    kmz = export(source, tmp_path / "h.kmz", entities=["hazard"], scope=OPERATOR).paths[0]
    with zipfile.ZipFile(kmz) as zf:
        kml = zf.read("doc.kml").decode()
    assert "<Style id=\"hazard-0\">" in kml and "<styleUrl>#hazard-" in kml and "software_version" in kml


def test_export_filters_by_organisation_bbox_and_time(source: Register, tmp_path: Path) -> None:
    before = dt.datetime.now(dt.UTC)
    template = {k: v for k, v in source.records("hazard")[0].values.items() if k not in ("area_m2", "admin_pcode")}
    with source.write("carol", "second operator") as w:
        other = w.add("organisation", {"name": "Other Operator", "organisation_type": "commercial"})
        w.add("hazard", {**template, "organisation_id": other.id}, square_m(3000, 3000, 100))
    assert export(source, tmp_path / "o.gpkg", organisation="Other Operator", scope=OPERATOR).counts["hazard"] == 1
    assert export(source, tmp_path / "t.gpkg", as_of=before, scope=OPERATOR).counts["hazard"] == 2
    box = square_m(2900, 2900, 300).bounds
    counts = export(source, tmp_path / "b.gpkg", bbox=box, scope=OPERATOR).counts
    assert counts["hazard"] == 1 and counts["activity"] == 0 and counts["eo_find"] == 0


def _activity_file(path: Path, part: shapely.Geometry) -> Path:
    """A new clearance on HAZ-000001 and the land it released, as two layers of one GeoPackage."""
    def text(*v: str) -> np.ndarray:
        return np.array(v, dtype=object)

    pyogrio.raw.write(path, None, [text("NEW-1"), text("HAZ-000001"), text("clearance"), text("completed"),
                                   text("2025-06-01"), text("ORG-000001")],
                      ["ref", "hazard_id", "activity_type", "status", "started_on", "organisation_id"],
                      layer="activity", driver="GPKG", geometry_type=None)
    pyogrio.raw.write(path, shapely.to_wkb(np.array([part])), [text("NEW-1"), text("cleared"), text("manual"),
                                                                 text("2025-06-20")],
                      ["activity_id", "release_type", "method", "released_on"], layer="released_part",
                      driver="GPKG", geometry_type="Polygon", crs="EPSG:4326", append=True)
    return path


def test_release_by_an_activity_of_the_same_file_is_checked_and_applied(register: Register, tmp_path: Path) -> None:
    populate(register)  # REL-000001 covers 0..50 m of HAZ-000001
    overlapping = import_file(register, _activity_file(tmp_path / "a.gpkg", box_m(25, 25, 75, 75)), user="im",
                              reason="completion")
    [problem] = [p for p in overlapping.report.problems if p.severity == "error"]
    assert "overlaps released part REL-000001" in problem.problem and overlapping.queued is None
    fine = import_file(register, _activity_file(tmp_path / "b.gpkg", box_m(100, 0, 200, 50)), user="im",
                       reason="completion")
    assert fine.report.ok and fine.queued.submitted == 2
    review.approve(register, import_id=fine.queued.import_id, user="rev", reason="ok")
    new = [p for p in register.records("released_part") if p["released_on"] == dt.date(2025, 6, 20)]
    assert len(new) == 1 and register.get("activity", new[0]["activity_id"])["status"] == "completed"


def test_an_import_failing_midway_leaves_the_queue_as_it_was(register: Register, tmp_path: Path) -> None:
    populate(register)
    csv = tmp_path / "finds.csv"
    csv.write_text("lon,lat,category,condition,quantity,found_on,organisation\n" + "".join(
        f"-33.7{k:02d},-30.0,uxo,functional,1,2025-04-01,ORG-000001\n" for k in range(20)), encoding="utf-8")

    def batches_then_failure(source: Source) -> Iterator[Batch]:
        yield from source.batches(source.layer(), batch_size=10)
        raise SourceError("the USB stick was pulled out")

    with Source(csv) as source:
        job = Job(Mapping.load(entity_name="eo_find"), batches_then_failure(source), "EPSG:4326", "finds")
        with pytest.raises(SourceError, match="USB"):
            import_batches(register, [job], ImportSource("finds.csv", "0", "CSV", "default"),
                           ValidationReport("finds.csv"), user="im", reason="crash")
    assert review.reports(register) == []
    assert import_file(register, csv, entity="eo_find", user="im", reason="again").queued.submitted == 20


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".csv", ".zip", ".kml"])
def test_an_export_read_a_few_rows_at_a_time_writes_what_one_read_writes(
        register: Register, tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Layers are streamed from the database to GDAL in partitions; the partition size changes nothing."""
    populate(register)
    box = square_m(-1000, -1000, 2500).bounds  # filtered, so attribute layers follow what is kept
    whole = export(register, tmp_path / "whole" / f"x{suffix}", bbox=box, level=Sensitivity.PUBLIC, scope=OPERATOR)
    monkeypatch.setattr(importlib.import_module("mineaction.io.export"), "_PARTITION", 1)  # a row at a time
    parted = export(register, tmp_path / "parted" / f"x{suffix}", bbox=box, level=Sensitivity.PUBLIC, scope=OPERATOR)
    assert parted.counts == whole.counts
    assert whole.counts["hazard"] >= 2 and whole.counts["eo_find"] >= 2, "too few rows to be read in several partitions"
    for a, b in zip(whole.paths, parted.paths, strict=True):
        if a.suffix == ".zip":
            with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
                assert [za.read(n) for n in za.namelist() if n.endswith(".dbf")] == \
                       [zb.read(n) for n in zb.namelist() if n.endswith(".dbf")]
            continue
        if a.suffix == ".kml":  # all but the description, which holds the export's time
            placemarks = [[ET.tostring(p) for p in ET.parse(k).iter(f"{{{KML}}}Placemark")] for k in (a, b)]
            assert placemarks[0] == placemarks[1] and len(placemarks[0]) == sum(whole.counts.values())
            continue
        if a.name.endswith(".json") and not a.name.endswith(".geojson"):
            continue  # the metadata sidecar: its export time differs
        for layer, _ in pyogrio.list_layers(a):
            tables = [pyogrio.raw.read_arrow(path, layer=layer)[1] for path in (a, b)]
            tables = [t.drop_columns(["update_time"]) if layer == "layer_styles" else t for t in tables]
            assert tables[0].equals(tables[1]), (a.name, layer)
