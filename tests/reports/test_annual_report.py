"""The annual report agrees with the ledger, protects people, and renders."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from mineaction.demo.fictional_programme import build_demo
from mineaction.reports.annual import annual_report
from mineaction.reports.writers import display_frame, write_csv, write_pdf, write_xlsx
from mineaction.storage.register import Register
from tests.common import OPERATOR
from tests.conftest import missing_service

YEAR = 2025


@pytest.fixture
def report_register(register: Register) -> Register:
    build_demo(register, seed=11, hazards=60)
    return register


def _in_year(value: dt.date) -> bool:
    return dt.date(YEAR, 1, 1) <= value < dt.date(YEAR + 1, 1, 1)


def test_land_release_tables_equal_the_ledger(report_register: Register) -> None:
    report = annual_report(report_register, YEAR, scope=OPERATOR)
    parts = [p for p in report_register.records("released_part") if _in_year(p["released_on"])]
    ledger = sum(p["area_m2"] for p in parts)
    assert ledger > 0
    for key in ("land_release_by_month", "land_release_by_admin", "land_release_by_organisation"):
        frame = report.table(key).frame
        assert frame.loc["total", "total"] == pytest.approx(ledger, rel=1e-12)
        for release_type in ("cancelled", "reduced", "cleared"):
            expected = sum(p["area_m2"] for p in parts if p["release_type"] == release_type)
            assert frame.loc["total", release_type] == pytest.approx(expected, rel=1e-12, abs=1e-9)
    methods = report.table("land_release_by_method").frame
    assert methods.iloc[-1]["area_m2"] == pytest.approx(ledger, rel=1e-12)
    assert methods.iloc[-1]["parts"] == len(parts)


def test_eo_table_counts_every_item_found_in_the_year(report_register: Register) -> None:
    report = annual_report(report_register, YEAR, scope=OPERATOR)
    finds = [f for f in report_register.records("eo_find") if _in_year(f["found_on"])]
    frame = report.table("eo_destroyed").frame
    assert frame.loc["total", "total"] == sum(f["quantity"] for f in finds)
    assert frame.loc["total", "self_deactivated"] == sum(f["quantity"] for f in finds if f["condition"] == "self_deactivated")


def test_article7_lists_ap_mine_areas_with_remaining_area(report_register: Register) -> None:
    report = annual_report(report_register, YEAR, scope=OPERATOR)
    table = report.table("apmbc_article7").frame
    hazards = [h for h in report_register.records("hazard") if "ap_mine" in h["contamination"]]
    assert sorted(table["area"]) == sorted(h.ref for h in hazards)
    parts = report_register.records("released_part")
    for hazard in hazards:
        released = sum(p["area_m2"] for p in parts if p["hazard_id"] == hazard.id)
        shown = table.loc[table["area"] == hazard.ref, "remaining m² at year end"].item()
        assert shown == pytest.approx(max(hazard["area_m2"] - released, 0), abs=1e-6)
    assert "lon" not in " ".join(table.columns) and "geom" not in " ".join(table.columns)


def test_casualty_table_never_shows_a_small_count(report_register: Register) -> None:
    report = annual_report(report_register, YEAR, suppression_threshold=5, scope=OPERATOR)
    frame = report.table("casualties").frame
    for value in frame.to_numpy().ravel():
        assert value in ("<5", "x") or int(value) == 0 or int(value) >= 5, value
    victims = report_register.records("victim")
    accidents = {a.id: a for a in report_register.records("accident")}
    in_year = [v for v in victims if _in_year(accidents[v["accident_id"]]["occurred_on"])]
    total = frame.loc["Total", "Total"]
    assert total in ("<5", "x") or int(total) == len(in_year)
    names = {v["name"] for v in victims}
    assert not any(name in frame.to_string() for name in names)


def test_writers_record_provenance_and_the_pdf_renders_the_same_numbers(report_register: Register, tmp_path: Path) -> None:
    report = annual_report(report_register, YEAR, scope=OPERATOR)
    csvs = write_csv(report, tmp_path / "csv")
    first = csvs[0].read_text(encoding="utf-8")
    assert "register as of (UTC)" in first and "software: mineaction" in first and "FICTIONAL" in first
    book = openpyxl.load_workbook(write_xlsx(report, tmp_path / "report.xlsx"))
    assert {"about", "land_release_by_month", "apmbc_article7", "casualties"} <= set(book.sheetnames)
    pdf = write_pdf(report, tmp_path / "report.pdf")
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        missing_service("poppler-utils (pdftoppm, pdftotext) are not installed")
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "2", "-l", "2", "-singlefile", str(pdf), str(tmp_path / "page")],
                   check=True)
    assert (tmp_path / "page.png").stat().st_size > 2_000
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    month_total = display_frame(report.table("land_release_by_month")).loc["total", "total"]
    assert f"{month_total:,}" in text
    eo_total = display_frame(report.table("eo_destroyed")).loc["total", "total"]
    assert f"{eo_total:,}" in text
