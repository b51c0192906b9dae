"""The PDF holds every table itself, over as many pages as it takes: text extraction finds the figures."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mineaction.demo.fictional_programme import build_demo
from mineaction.reports.annual import annual_report
from mineaction.reports.frames import flat_frame
from mineaction.reports.writers import PDF_ROWS_PER_PAGE, write_pdf
from mineaction.storage.register import Register
from tests.common import OPERATOR
from tests.conftest import missing_service


def test_article7_pages_show_every_area_and_figure(register: Register, tmp_path: Path) -> None:
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        missing_service("poppler-utils (pdftoppm, pdftotext) are not installed")
    build_demo(register, seed=11, hazards=120)
    report = annual_report(register, 2025, scope=OPERATOR)
    article7 = flat_frame(report.table("apmbc_article7"))
    assert len(article7) > PDF_ROWS_PER_PAGE  # the table needs more than one page
    pdf = write_pdf(report, tmp_path / "report.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")
    numbered = [i for i, page in enumerate(pages) if "anti-personnel mines (page" in page]
    expected_pages = -(-len(article7) // PDF_ROWS_PER_PAGE)
    assert len(numbered) == expected_pages
    assert "rows: see" not in text
    shown = "\n".join(pages[i] for i in numbered)
    for ref, remaining in zip(article7["area"], article7["remaining m² at year end"], strict=True):
        line = next(line for line in shown.splitlines() if ref in line)
        assert re.search(rf"(?<![\d,]){re.escape(f'{remaining:,}')}(?![\d,])", line), (ref, remaining, line)
    first = numbered[0] + 1  # pdftoppm counts pages from 1
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", str(first), "-l", str(first + expected_pages - 1), str(pdf),
                    str(tmp_path / "article7")], check=True)
    images = sorted(tmp_path.glob("article7*.png"))
    assert len(images) == expected_pages and all(p.stat().st_size > 10_000 for p in images)


@pytest.mark.parametrize("year", [1990])
def test_an_empty_year_says_so_on_its_pages(register: Register, tmp_path: Path, year: int) -> None:
    if not shutil.which("pdftotext"):
        missing_service("poppler-utils (pdftotext) is not installed")
    report = annual_report(register, year, scope=OPERATOR)
    pdf = write_pdf(report, tmp_path / "empty.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("No records in this period.") >= 2  # the two Article 7 tables at least


def test_a_wide_table_fits_the_page(register: Register, tmp_path: Path) -> None:
    if not shutil.which("pdftotext"):
        missing_service("poppler-utils (pdftotext) is not installed")
    build_demo(register, seed=11, hazards=60)
    report = annual_report(register, 2025, scope=OPERATOR)
    report.tables[:] = [report.table("ccw_bounds")]  # nine columns, one of long verdicts
    pdf = write_pdf(report, tmp_path / "ccw.pdf")
    text = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "VIOLATES the CCW APII 30-day and 120-day bounds" in text and "hazards" in text  # the last columns
