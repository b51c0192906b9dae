"""XLSForms from the register, and ODK Central / Kobo submissions back into the review queue."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import pytest
import shapely
from pyxform.xls2xform import convert

from mineaction.io import SourceError
from mineaction.io.odk import import_submissions
from mineaction.io.xlsform import FORMS, write_forms
from mineaction.storage import review
from mineaction.storage.register import Register
from tests.common import box_m, square_m
from tests.io.helpers import populate


def _lat_lon(geometry: shapely.Geometry) -> str:
    """ODK's geopoint text: latitude first."""
    return f"{geometry.y:.8f} {geometry.x:.8f} 112.5 4.0"


def _shape(polygon: shapely.Geometry) -> str:
    return ";".join(f"{y:.9f} {x:.9f} 0 0" for x, y in polygon.exterior.coords)


@pytest.fixture
def sample(gpkg_register: Register):
    sample = populate(gpkg_register)
    with gpkg_register.write("im", "gazetteer") as w:
        w.add("place", {"name_en": "Testville", "name_uk": "Тестове", "pcode": "XX0101001"},
              square_m(700, 700, 1).centroid)
    return sample


def test_every_form_converts_with_pyxform(gpkg_register: Register, sample, tmp_path: Path) -> None:
    paths = write_forms(gpkg_register, tmp_path / "forms")
    assert [p.stem for p in paths] == list(FORMS)
    for path in paths:
        xform = convert(str(path), validate=False).xform
        assert "<h:title>" in xform and 'lang="Ukrainian (uk)"' in xform
    empty = tmp_path / "empty.gpkg"
    with Register.create(empty) as bare:  # no operators or gazetteer yet: the forms still convert
        for path in write_forms(bare, tmp_path / "bare"):
            assert convert(str(path), validate=False).xform


def test_choice_lists_come_from_the_register_in_both_languages(gpkg_register: Register, sample, tmp_path: Path) -> None:
    [path] = write_forms(gpkg_register, tmp_path, ["eo_spot_report"])
    choices = list(openpyxl.load_workbook(path)["choices"].iter_rows(values_only=True))[1:]
    by_list: dict[str, dict[str, tuple[str, str]]] = {}
    for list_name, name, en, uk in choices:
        by_list.setdefault(list_name, {})[name] = (en, uk)
    assert set(by_list["eo_category"]) == gpkg_register.vocabularies()["eo_category"]
    assert by_list["eo_category"]["ap_mine"] == ("Anti-personnel mine", "Протипіхотна міна")
    assert by_list["organisation"] == {"ORG-000001": ("Test Operator", "Test Operator")}
    assert by_list["place"] == {"PLC-000001": ("Testville", "Тестове")}


def test_odk_central_csv_reads_geopoints_latitude_first_and_keeps_photos(register: Register, tmp_path: Path) -> None:
    populate(register)
    find = square_m(120, 30, 1).centroid
    media = tmp_path / "media"
    media.mkdir()
    (media / "1700000000.jpg").write_bytes(b"\xff\xd8 not really a photo")
    lat, lon, alt, acc = _lat_lon(find).split()
    (tmp_path / "eo_spot_report.csv").write_text(
        "SubmissionDate,organisation_id,found_on,category,model,condition,quantity,depth_cm,hazard_id,geo_safe,"
        "location-Latitude,location-Longitude,location-Altitude,location-Accuracy,settlement,photo,"
        "meta-instanceID,KEY\n"
        f"2025-05-01T10:00:00Z,ORG-000001,2025-05-01,uxo,,functional,1,10,HAZ-000001,yes,{lat},{lon},{alt},{acc},,"
        "1700000000.jpg,uuid:a1,uuid:a1\n", encoding="utf-8")
    result = import_submissions(register, tmp_path / "eo_spot_report.csv", user="im", reason="ODK Central export")
    assert result.report.ok, result.report.problems
    [report] = review.reports(register)
    assert report.geometry.equals_exact(find, 1e-8)
    assert report.attachments[0]["name"] == "1700000000.jpg"
    assert report.attachments[0]["sha256"] == hashlib.sha256(b"\xff\xd8 not really a photo").hexdigest()
    review.approve(register, refs=[report.ref], user="rev", reason="ok")
    stored = register.records("eo_find")[-1]
    assert stored.geometry.equals_exact(find, 1e-8) and stored["hazard_id"] == register.get("hazard", "HAZ-000001").id


def test_kobo_json_accident_with_victims_links_them_on_approval(register: Register, tmp_path: Path) -> None:
    populate(register)
    point = square_m(900, 100, 1).centroid
    export = {"results": [{
        "_uuid": "k-1", "_xform_id_string": "accident_report", "organisation_id": "ORG-000001",
        "group_incident/occurred_on": "2025-06-02", "group_incident/accident_type": "uxo",
        "group_incident/geo_safe": "yes", "group_incident/location": _lat_lon(point),
        "group_incident/victims": [
            {"group_incident/victims/sex": "female", "group_incident/victims/age": "12",
             "group_incident/victims/victim_group": "civilian", "group_incident/victims/outcome": "injured",
             "group_incident/victims/activity_at_time": "playing"},
            {"group_incident/victims/sex": "male", "group_incident/victims/victim_group": "civilian",
             "group_incident/victims/outcome": "killed"},
        ],
        "meta/instanceID": "uuid:k-1", "_attachments": [],
    }]}
    path = tmp_path / "kobo.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    result = import_submissions(register, path, form="accident_report", user="im", reason="Kobo export")
    assert result.report.ok, result.report.problems and result.queued.submitted == 3
    review.approve(register, import_id=result.queued.import_id, user="rev", reason="verified by phone")
    accident = register.records("accident")[-1]
    assert accident.geometry.equals_exact(point, 1e-8)
    victims = [v for v in register.records("victim") if v["accident_id"] == accident.id]
    assert sorted((v["sex"], v["outcome"], v["age"]) for v in victims) == [("female", "injured", 12),
                                                                          ("male", "killed", None)]
    again = import_submissions(register, path, form="accident_report", user="im", reason="sent twice")
    assert again.queued.submitted == 0


def test_geoshape_in_lon_lat_order_is_caught_as_swapped_axes(gpkg_register: Register, sample, tmp_path: Path) -> None:
    outline = square_m(1500, 0, 100)
    wrong = ";".join(f"{x:.9f} {y:.9f} 0 0" for x, y in outline.exterior.coords)  # lon first: not ODK
    right = _shape(outline)
    rows = [{"__id": f"uuid:{k}", "organisation_id": "ORG-000001", "reported_on": "2025-05-05", "hazard_type": "SHA",
             "status": "active", "contamination": "ap_mine uxo", "evidence": "indirect", "area": shape}
            for k, shape in (("w", wrong), ("r", right))]
    path = tmp_path / "hazard_report.json"
    path.write_text(json.dumps({"value": rows}), encoding="utf-8")
    result = import_submissions(gpkg_register, path, user="im", reason="NTS", skip_invalid=True)
    [problem] = [p for p in result.report.problems if p.severity == "error"]
    assert problem.feature == "submission uuid:w" and "wrong order" in problem.problem
    [queued] = review.reports(gpkg_register, status="submitted")
    assert queued.values["contamination"] == ["ap_mine", "uxo"]
    assert shapely.equals_exact(queued.geometry.normalize(), outline.normalize(), 1e-8)


def test_odk_central_odata_geojson_points_are_already_lon_lat(gpkg_register: Register, sample, tmp_path: Path) -> None:
    point = square_m(300, 800, 1).centroid
    row = {"__id": "uuid:o1", "organisation_id": "ORG-000001", "held_on": "2025-03-10", "eore_method": "school",
           "girls": 7, "boys": 9, "geo_safe": "yes",
           "location": {"type": "Point", "coordinates": [point.x, point.y, 80.0], "properties": {"accuracy": 3}}}
    path = tmp_path / "sessions.json"
    path.write_text(json.dumps({"value": [row]}), encoding="utf-8")
    result = import_submissions(gpkg_register, path, form="eore_session", user="im", reason="OData")
    assert result.report.ok, result.report.problems
    assert review.reports(gpkg_register)[0].geometry.equals_exact(point, 1e-9)


def test_settlement_stands_in_where_gps_was_unsafe(gpkg_register: Register, sample, tmp_path: Path) -> None:
    path = tmp_path / "eore_session.csv"
    path.write_text("organisation_id,held_on,eore_method,girls,boys,women,men,geo_safe,location,settlement,KEY\n"
                    "ORG-000001,2025-03-11,group session,1,2,3,4,no,,PLC-000001,uuid:s1\n", encoding="utf-8")
    result = import_submissions(gpkg_register, path, user="im", reason="no GPS near the front")
    assert result.report.ok, result.report.problems
    assert review.reports(gpkg_register)[0].geometry.equals(gpkg_register.get("place", "PLC-000001").geometry)


def test_activity_completion_releases_land_through_the_ledger(register: Register, tmp_path: Path) -> None:
    sample = populate(register)  # one cleared part already (0..50 m); a hole at 80..100 m
    main = tmp_path / "activity_completion.csv"
    main.write_text("id,ended_on,status,meta-instanceID,KEY\nACT-000001,2025-06-30,completed,uuid:c1,uuid:c1\n",
                    encoding="utf-8")
    (tmp_path / "activity_completion-released.csv").write_text(
        "released_area,release_type,method,released_on,PARENT_KEY,KEY\n"
        f"\"{_shape(box_m(50, 0, 200, 60))}\",cleared,manual,2025-06-30,uuid:c1,uuid:c1/released[1]\n"
        f"\"{_shape(box_m(0, 120, 200, 200))}\",cleared,mechanical,2025-06-30,uuid:c1,uuid:c1/released[2]\n",
        encoding="utf-8")
    result = import_submissions(register, main, user="im", reason="completion report")
    assert result.report.ok, result.report.problems
    outcome = review.approve(register, import_id=result.queued.import_id, user="rev", reason="QA passed")
    assert len(outcome.approved) == 3 and not outcome.conflicts
    activity = register.get("activity", sample.activity)
    assert (activity.version, activity["status"], str(activity["ended_on"])) == (2, "completed", "2025-06-30")
    assert len(register.records("released_part")) == 3


def test_release_overlapping_an_earlier_one_is_reported(register: Register, tmp_path: Path) -> None:
    populate(register)
    main = tmp_path / "activity_completion.csv"
    main.write_text("id,ended_on,KEY\nACT-000001,2025-06-30,uuid:c2\n", encoding="utf-8")
    (tmp_path / "activity_completion-released.csv").write_text(
        "released_area,release_type,method,released_on,PARENT_KEY\n"
        f"\"{_shape(box_m(10, 10, 70, 70))}\",cleared,manual,2025-06-30,uuid:c2\n", encoding="utf-8")
    result = import_submissions(register, main, user="im", reason="completion report")
    [problem] = [p for p in result.report.problems if p.severity == "error"]
    assert "overlaps released part REL-000001" in problem.problem and result.queued is None
    assert review.reports(register) == [] and len(register.records("released_part")) == 1


def test_attachment_names_never_reach_outside_the_export(gpkg_register: Register, sample, tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("not for the register")
    rows = [{"__id": f"uuid:{k}", "organisation_id": "ORG-000001", "found_on": "2025-05-01", "category": "uxo",
             "condition": "functional", "quantity": 1, "geo_safe": "yes",
             "location": _lat_lon(square_m(5, 5, 1).centroid), "photo": photo}
            for k, photo in enumerate([str(secret), "../outside.txt"])]
    folder = tmp_path / "export"
    folder.mkdir()
    path = folder / "eo_spot_report.json"
    path.write_text(json.dumps({"value": rows}), encoding="utf-8")
    result = import_submissions(gpkg_register, path, user="im", reason="x", skip_invalid=True)
    assert [p.problem for p in result.report.problems if p.field == "photo"] == [
        f"attachment name {str(secret)!r} is a path, not a file name",
        "attachment name '../outside.txt' is a path, not a file name"]
    assert all(not r.files for r in review.reports(gpkg_register))


def test_json_nested_to_exhaust_the_parser_is_refused(gpkg_register: Register, tmp_path: Path) -> None:
    path = tmp_path / "eo_spot_report.json"
    path.write_text('{"value": [' + "[" * 100_000 + "]" * 100_000 + "]}", encoding="utf-8")
    with pytest.raises(SourceError, match="not readable JSON"):
        import_submissions(gpkg_register, path, user="im", reason="x")
