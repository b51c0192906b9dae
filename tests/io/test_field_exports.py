"""ODK Central and KoboToolbox exports as the servers hand them out, recognised by shape, through to approval.

Each fixture is built here in the shape the servers' documentation gives
(ODK Central: the submissions ``.csv.zip`` and OData; KoboToolbox: the XLSX
and CSV exports and the API v2 ``results``), imported, imported again
(nothing new), and approved.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
import shapely
from typer.testing import CliRunner

from mineaction.cli.app import app
from mineaction.io.form_exports import is_form_export
from mineaction.io.odk import import_submissions
from mineaction.storage import review
from mineaction.storage.register import Register
from tests.common import square_m
from tests.io.helpers import populate

PHOTO = b"\xff\xd8\xff\xe0 a small photo of the crater \xff\xd9"
SITE = square_m(900, 100, 1).centroid
FIND = square_m(120, 30, 1).centroid


def _lat_lon(point: shapely.Point) -> list[str]:
    return [f"{point.y:.8f}", f"{point.x:.8f}", "112.5", "4.0"]


def _csv(rows: list[list[object]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


def central_zip(folder: Path, organisation: str = "ORG-000001") -> Path:
    """ODK Central's "Download all records": main CSV, the victims repeat CSV and media/, as one zip."""
    lat, lon, alt, acc = _lat_lon(SITE)
    main = _csv([
        ["SubmissionDate", "organisation_id", "incident-occurred_on", "incident-accident_type", "geo_safe",
         "incident-location-Latitude", "incident-location-Longitude", "incident-location-Altitude",
         "incident-location-Accuracy", "settlement", "description", "photo", "meta-instanceID", "KEY",
         "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState",
         "DeviceID", "Edits", "FormVersion"],
        ["2025-06-02T09:14:03.120Z", organisation, "2025-06-02", "uxo", "yes", lat, lon, alt, acc, "",
         "Tractor hit an item", "1717320000123.jpg", "uuid:c-1", "uuid:c-1", "7", "Field Team 3", "1", "1", "",
         "approved", "collect:Q9xY", "0", "0000000042"],
    ])
    victims = _csv([
        ["sex", "age", "victim_group", "outcome", "activity_at_time", "name", "PARENT_KEY", "KEY"],
        ["female", "12", "civilian", "injured", "playing", "", "uuid:c-1", "uuid:c-1/victims[1]"],
        ["male", "", "civilian", "killed", "", "", "uuid:c-1", "uuid:c-1/victims[2]"],
    ])
    path = folder / "accident_report.csv.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("accident_report.csv", main)
        zf.writestr("accident_report-victims.csv", victims)
        zf.writestr("media/1717320000123.jpg", PHOTO)
    return path


def odata(folder: Path, *, expanded: bool) -> Path:
    """Central's OData ``Submissions``: groups as objects; the repeat expanded, or a link plus its own table."""
    victims = [{"sex": "female", "age": 12, "victim_group": "civilian", "outcome": "injured", "__id": "v1",
                "__Submissions-id": "uuid:o-1"}]
    submission = {
        "__id": "uuid:o-1",
        "__system": {"submissionDate": "2025-06-03T08:00:00.000Z", "updatedAt": "2025-06-04T10:30:00.000Z",
                     "submitterId": "5", "submitterName": "Field Team 1", "attachmentsPresent": 0,
                     "attachmentsExpected": 0, "status": None, "reviewState": "hasIssues", "deviceId": "collect:AB12",
                     "edits": 1, "formVersion": "0000000042"},
        "meta": {"instanceID": "uuid:o-1"},
        "organisation_id": "ORG-000001", "geo_safe": "yes",
        "incident": {"occurred_on": "2025-06-03", "accident_type": "uxo",
                     "location": {"type": "Point", "coordinates": [SITE.x, SITE.y, 100.0], "properties": {"accuracy": 4}}},
    }
    if expanded:
        submission["victims"] = [{k: v for k, v in victims[0].items() if not k.startswith("__")}]
    else:
        submission["victims@odata.navigationLink"] = "Submissions('uuid%3Ao-1')/victims"
        (folder / "victims.json").write_text(json.dumps({
            "@odata.context": "https://central.example/v1/projects/1/forms/accident_report.svc/$metadata"
                              "#Submissions.victims", "value": victims}), encoding="utf-8")
    path = folder / "submissions.json"
    path.write_text(json.dumps({
        "@odata.context": "https://central.example/v1/projects/1/forms/accident_report.svc/$metadata#Submissions",
        "value": [submission]}), encoding="utf-8")
    return path


def kobo_xlsx(folder: Path) -> Path:
    """Kobo's XLSX export, XML values and headers, '/' groups: a main sheet and a victims sheet."""
    book = openpyxl.Workbook()
    main = book.active
    main.title = "Accident report"
    main.append(["start", "end", "organisation_id", "group_incident/occurred_on", "group_incident/accident_type",
                 "geo_safe", "group_incident/location", "_group_incident/location_latitude",
                 "_group_incident/location_longitude", "_group_incident/location_altitude",
                 "_group_incident/location_precision", "description", "meta/instanceID", "_id", "_uuid",
                 "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by", "__version__",
                 "_tags", "_index"])
    lat, lon, alt, acc = _lat_lon(SITE)
    main.append(["2025-06-05T08:00:00", "2025-06-05T08:20:00", "ORG-000001", "2025-06-05", "uxo", "yes",
                 " ".join((lat, lon, alt, acc)), float(lat), float(lon), 112.5, 4.0, "Kobo XLSX", "uuid:k-x1", 301,
                 "k-x1", "2025-06-05T08:21:00", "Approved", "", "submitted_via_web", "team4", "vQ2", "", 1])
    sheet = book.create_sheet("victims")
    sheet.append(["group_incident/victims/sex", "group_incident/victims/victim_group", "group_incident/victims/outcome",
                  "_index", "_parent_table_name", "_parent_index", "_submission__id", "_submission__uuid"])
    sheet.append(["male", "deminer", "injured", 1, "Accident report", 1, 301, "k-x1"])
    path = folder / "Accident_report_-_all_versions_-_False_-_2025-06-05-08-30-00.xlsx"
    book.save(path)
    return path


def kobo_labels_csv_uk(register: Register, folder: Path) -> Path:
    """Kobo's CSV export in "Labels" mode, Ukrainian, ';' separated: headers and answers are labels."""
    uk = {name: register.labels(name, "uk") for name in ("eo_category", "eo_condition")}
    lat, lon, alt, acc = _lat_lon(FIND)
    rows = [
        ["Організація", "Дата виявлення", "Категорія", "Модель, якщо визначено", "Стан", "Кількість предметів",
         "Номер небезпечної території (HAZ-…)", "Чи безпечно записати GPS-координати тут?", "GPS-координати",
         "_GPS-координати_latitude", "_GPS-координати_longitude", "_GPS-координати_altitude",
         "_GPS-координати_precision", "meta/instanceID", "_id", "_uuid", "_submission_time", "_validation_status",
         "_submitted_by", "__version__", "_index"],
        ["Test Operator", "2025-05-01", uk["eo_category"]["uxo"], "", uk["eo_condition"]["functional"], "2",
         "HAZ-000001", "Так", " ".join((lat, lon, alt, acc)), lat, lon, alt, acc, "uuid:k-l1", "88", "k-l1",
         "2025-05-01T11:00:00", "Схвалено", "team2", "vA1", "1"],
    ]
    path = folder / "Звіт_про_ВНП_-_all_versions_-_labels_-_2025-05-01.csv"
    path.write_text(_csv(rows, ";"), encoding="utf-8")
    return path


def kobo_api(folder: Path) -> Path:
    """Kobo API v2 ``data`` JSON; the photo listed in ``_attachments`` and saved under attachments/<uuid>/."""
    lat, lon, alt, acc = _lat_lon(FIND)
    (folder / "attachments" / "k-a1").mkdir(parents=True)
    (folder / "attachments" / "k-a1" / "find.jpg").write_bytes(PHOTO)
    path = folder / "data.json"
    path.write_text(json.dumps({"count": 1, "next": None, "previous": None, "results": [{
        "_id": 12, "_uuid": "k-a1", "_xform_id_string": "eo_spot_report", "formhub/uuid": "f0",
        "organisation_id": "ORG-000001", "found_on": "2025-05-02", "category": "uxo", "condition": "functional",
        "quantity": "1", "geo_safe": "yes", "location": " ".join((lat, lon, alt, acc)), "photo": "find.jpg",
        "meta/instanceID": "uuid:k-a1", "__version__": "vA1", "_submission_time": "2025-05-02T12:00:00",
        "_submitted_by": "team5", "_validation_status": {"uid": "validation_status_on_hold", "label": "On Hold"},
        "_attachments": [{"download_url": "https://kf.example/api/v2/assets/a/data/12/attachments/3/",
                          "filename": "team5/attachments/f0/k-a1/find.jpg", "mimetype": "image/jpeg",
                          "question_xpath": "photo", "uid": "att3"}],
        "_geolocation": [float(lat), float(lon)], "_tags": [], "_notes": []}]}), encoding="utf-8")
    return path


def _import_twice_and_approve(register: Register, path: Path) -> tuple[str, list[review.FieldReport]]:
    assert is_form_export(path)
    first = import_submissions(register, path, user="im", reason="field data")
    assert first.report.ok and first.report.errors == 0, first.report.problems
    reports = review.reports(register, import_id=first.queued.import_id)
    again = import_submissions(register, path, user="im", reason="downloaded again")
    assert again.queued is not None and again.queued.submitted == 0 and again.queued.skipped == len(reports)
    review.approve(register, import_id=first.queued.import_id, user="rev", reason="checked")
    return first.recognised or "", reports


def test_central_zip_with_a_repeat_and_a_photo(register: Register, tmp_path: Path) -> None:
    populate(register)
    recognised, reports = _import_twice_and_approve(register, central_zip(tmp_path))
    assert recognised == ("recognised: ODK Central submissions zip, form accident_report, 1 submission(s), "
                          "2 victims row(s) in repeat 'victims', XML values; repeat file accident_report-victims.csv; "
                          "1 file(s) in media/")
    accident_report = next(r for r in reports if r.entity == "accident")
    [photo] = accident_report.files
    assert photo["name"] == "1717320000123.jpg" and photo["size"] == len(PHOTO)
    assert base64.b64decode(photo["data"]) == PHOTO and photo["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert "path" not in photo  # nothing points at where the zip was unpacked
    for r in reports:  # the victims carry their submission's metadata too
        assert r.submission == {"kind": "submission", "source": "ODK Central", "instance_id": "uuid:c-1",
                                "submitter": "Field Team 3", "device": "collect:Q9xY",
                                "submitted_at": "2025-06-02T09:14:03.120Z", "form_version": "0000000042",
                                "review_state": "approved"}
    accident = register.records("accident")[-1]
    assert accident.geometry.equals_exact(SITE, 1e-8) and accident["description"] == "Tractor hit an item"
    victims = sorted((v["sex"], v["outcome"]) for v in register.records("victim") if v["accident_id"] == accident.id)
    assert victims == [("female", "injured"), ("male", "killed")]
    reason = register.changeset(accident.changeset_id)["reason"]
    assert reason.startswith("checked; from form submission(s) uuid:c-1 (ODK Central, submitted 2025-06-02T09:14")
    assert "by Field Team 3, device collect:Q9xY, form version 0000000042, review state approved" in reason


@pytest.mark.parametrize("expanded", [True, False], ids=["expanded", "navigation-link"])
def test_central_odata_json(register: Register, tmp_path: Path, expanded: bool) -> None:
    populate(register)
    recognised, reports = _import_twice_and_approve(register, odata(tmp_path, expanded=expanded))
    assert recognised.startswith("recognised: ODK Central OData JSON, form accident_report, 1 submission(s), "
                                 "1 victims row(s) in repeat 'victims', XML values")
    assert recognised.endswith("" if expanded else "; repeat 'victims' from Submissions.victims beside it")
    meta = reports[0].submission
    assert meta is not None and (meta["submitter"], meta["updated_at"], meta["review_state"]) == (
        "Field Team 1", "2025-06-04T10:30:00.000Z", "hasIssues")
    accident = register.records("accident")[-1]
    assert accident.geometry.equals_exact(SITE, 1e-8)
    assert [(v["sex"], v["age"]) for v in register.records("victim") if v["accident_id"] == accident.id] == [
        ("female", 12)]


def test_kobo_xlsx_with_a_repeat_sheet(register: Register, tmp_path: Path) -> None:
    populate(register)
    recognised, reports = _import_twice_and_approve(register, kobo_xlsx(tmp_path))
    assert recognised == ("recognised: KoboToolbox XLSX export, form accident_report, 1 submission(s), "
                          "1 victims row(s) in repeat 'victims', XML values")
    assert reports[0].submission == {"kind": "submission", "source": "KoboToolbox", "instance_id": "uuid:k-x1",
                                     "submitter": "team4", "submitted_at": "2025-06-05T08:21:00",
                                     "form_version": "vQ2", "review_state": "Approved"}
    accident = register.records("accident")[-1]
    assert [(v["sex"], v["victim_group"]) for v in register.records("victim") if v["accident_id"] == accident.id] == [
        ("male", "deminer")]


def test_kobo_label_csv_in_ukrainian(register: Register, tmp_path: Path) -> None:
    sample = populate(register)
    recognised, reports = _import_twice_and_approve(register, kobo_labels_csv_uk(register, tmp_path))
    assert recognised == ("recognised: KoboToolbox CSV export, form eo_spot_report, 1 submission(s), "
                          "Ukrainian labels turned back into codes")
    assert reports[0].values["category"] == "uxo" and reports[0].values["condition"] == "functional"
    assert reports[0].submission["review_state"] == "Схвалено"
    find = register.records("eo_find")[-1]
    assert (find["category"], find["quantity"], find["hazard_id"]) == ("uxo", 2, sample.hazard)
    assert find.geometry.equals_exact(FIND, 1e-8)


def test_kobo_api_json_keeps_the_listed_photo(register: Register, tmp_path: Path) -> None:
    populate(register)
    recognised, reports = _import_twice_and_approve(register, kobo_api(tmp_path))
    assert recognised == ("recognised: KoboToolbox API v2 JSON, form eo_spot_report, 1 submission(s), "
                          "1 attachment(s) listed, XML values")
    [photo] = reports[0].files
    assert base64.b64decode(photo["data"]) == PHOTO
    assert reports[0].submission["review_state"] == "on_hold"
    assert register.records("eo_find")[-1]["category"] == "uxo"


def test_cli_recognises_a_central_zip_without_options(gpkg_template: Path, tmp_path: Path) -> None:
    db = tmp_path / "national.gpkg"
    shutil.copy(gpkg_template, db)
    with Register.open(db) as register:
        populate(register)
    path = central_zip(tmp_path)
    result = CliRunner().invoke(app, ["import", str(path), "--db", str(db)],
                                env={"MINEACTION_USER": "im", "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "recognised: ODK Central submissions zip, form accident_report" in result.output
    assert "3 field reports queued" in result.output


def test_kobo_label_csv_in_english_with_a_multiple_choice(gpkg_register: Register, tmp_path: Path) -> None:
    """Labels of a select_multiple are joined by spaces, and labels have spaces: the longest label wins."""
    populate(gpkg_register)
    en = {name: gpkg_register.labels(name, "en") for name in ("hazard_type", "hazard_status", "contamination",
                                                              "evidence")}
    outline = square_m(2000, 0, 100)
    shape = ";".join(f"{y:.9f} {x:.9f} 0 0" for x, y in outline.exterior.coords)
    path = tmp_path / "Hazard_report_-_latest_version_-_labels.csv"
    path.write_text(_csv([
        ["Organisation", "Date of the survey", "Type of area", "Status", "Suspected contamination", "Evidence",
         "Outline of the hazardous area", "_uuid", "_submission_time", "_submitted_by"],
        ["Test Operator", "2025-04-01", en["hazard_type"]["SHA"], en["hazard_status"]["active"],
         f"{en['contamination']['ap_mine']} {en['contamination']['uxo']}", en["evidence"]["direct"], shape,
         "k-h1", "2025-04-01T10:00:00", "team1"],
    ]), encoding="utf-8")
    result = import_submissions(gpkg_register, path, user="im", reason="Kobo labels")
    assert result.report.ok, result.report.problems
    assert result.recognised == ("recognised: KoboToolbox CSV export, form hazard_report, 1 submission(s), "
                                 "English labels turned back into codes")
    [report] = review.reports(gpkg_register, import_id=result.queued.import_id)
    assert report.values["contamination"] == ["ap_mine", "uxo"] and report.values["hazard_type"] == "SHA"
