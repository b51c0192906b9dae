"""Every report output, CSV and XLSX, names every column, and each header says what its column holds."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from mineaction.access import ScopedReader
from mineaction.demo.fictional_programme import build_demo
from mineaction.reports.annual import annual_report
from mineaction.reports.frames import table_csv
from mineaction.reports.published import TABLES, published_table
from mineaction.reports.writers import write_csv, write_xlsx
from mineaction.storage.register import Register
from tests.common import OPERATOR

YEAR = 2025
NUMERIC = re.compile(r"m²|_m2$|^(parts|items|count|quantity|cancelled|reduced|cleared|total)$")


@pytest.fixture
def report_register(register: Register) -> Register:
    build_demo(register, seed=11, hazards=60)
    return register


def _check_frame(name: str, frame: pd.DataFrame, register: Register) -> None:
    pcodes = {a["pcode"] for a in register.records("admin_area")}
    org_ids = {o.id for o in register.records("organisation")}
    org_names = {o["acronym"] or o["name"] for o in register.records("organisation")}
    for column in frame.columns:
        header = str(column)
        assert header.strip() and not header.startswith("Unnamed"), f"{name}: unnamed column {header!r}"
        values = {v for v in frame[column] if not pd.isna(v) and v != ""}
        if header.endswith("pcode"):
            assert values <= pcodes | {"total", "unknown"}, f"{name}.{header}: {sorted(values - pcodes)[:3]}"
        if header.endswith("_id"):
            assert values <= org_ids | {"total"}, f"{name}.{header}: {sorted(values - org_ids)[:3]}"
        if header in ("admin_name", "admin area"):
            assert not values & pcodes, f"{name}.{header} holds codes"
            assert values or frame.empty, f"{name}.{header} is empty in a table with rows"
        if header == "organisation":
            assert values <= org_names, f"{name}.{header}: {sorted(values - org_names)[:3]}"
        if NUMERIC.search(header) and name not in ("casualties", "eore_audience"):  # those hold '<5', 'x'
            assert all(isinstance(v, int | float) for v in frame[column]), f"{name}.{header} not numeric"


def test_every_csv_and_sheet_names_its_columns_by_their_content(report_register: Register, tmp_path: Path) -> None:
    report = annual_report(report_register, YEAR, scope=OPERATOR)
    csvs = write_csv(report, tmp_path / "csv")
    assert {p.stem for p in csvs} >= {"apmbc_article7", "ccm_article7", "land_release_by_method",
                                      "land_release_by_admin", "land_release_by_organisation", "casualties"}
    for path in csvs:
        _check_frame(path.name, pd.read_csv(path, comment="#"), report_register)
    book = openpyxl.load_workbook(write_xlsx(report, tmp_path / "report.xlsx"), read_only=True)
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        assert all(any(v not in (None, "") for v in row) for row in rows), f"{sheet.title}: blank row"
        _check_frame(sheet.title, pd.DataFrame(rows[1:], columns=rows[0]), report_register)
    reader = ScopedReader(report_register, OPERATOR, purpose="test")
    for name in TABLES:
        _check_frame(name, pd.read_csv(io.StringIO(table_csv(published_table(reader, name)))), report_register)


def test_admin_and_organisation_tables_give_codes_and_names(report_register: Register) -> None:
    report = annual_report(report_register, YEAR, scope=OPERATOR)
    admin = pd.read_csv(io.StringIO(table_csv(report.table("land_release_by_admin"))))
    assert list(admin.columns[:2]) == ["admin_pcode", "admin_name"]
    names = {a["pcode"]: a["name_en"] for a in report_register.records("admin_area")}
    for code, name in zip(admin["admin_pcode"], admin["admin_name"], strict=True):
        assert code == "total" or names.get(code, "unknown") == name
    orgs = pd.read_csv(io.StringIO(table_csv(report.table("land_release_by_organisation"))))
    assert list(orgs.columns[:2]) == ["organisation_id", "organisation"]


def test_an_empty_casualty_table_keeps_its_columns(report_register: Register, tmp_path: Path) -> None:
    report = annual_report(report_register, 1990, scope=OPERATOR)
    frame = report.table("casualties").frame
    assert "female adult" in frame.columns and "Total" in frame.columns
    assert (frame == "0").all().all() or (frame.astype(str) == "0").all().all()
    book = openpyxl.load_workbook(write_xlsx(report, tmp_path / "empty.xlsx"), read_only=True)
    rows = list(book["casualties"].iter_rows(values_only=True))
    assert rows[0][0] == "group" and len(rows) == 6  # header, four groups, total
    assert all(any(v not in (None, "") for v in row) for row in rows)


def test_the_annual_report_judges_each_named_profile_against_the_ccw_bounds(report_register: Register) -> None:
    table = annual_report(report_register, YEAR, scope=OPERATOR).table("ccw_bounds").frame.set_index("profile")
    named = [h["residual_profile"] for h in report_register.records("hazard") if h["residual_profile"]]
    assert set(table.index) == set(named)
    for name in set(named):
        assert table.loc[name, "hazards"] == named.count(name)
    assert table.loc["ccw-apii-design-bound", "verdict"].startswith("meets both")
    assert table.loc["ccw-apii-design-bound", "failed to self-destruct by day 30 (%)"] == "10.00"
    assert table.loc["degraded-field-example-a", "verdict"] == "VIOLATES the CCW APII 30-day and 120-day bounds"
    assert table.loc["degraded-field-example-a", "functional at day 120 (per 1000)"] == "272.12"  # not rounded away
