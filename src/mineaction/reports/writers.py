"""Writing a report as CSV files, an XLSX workbook and a PDF with charts and a map.

Every file carries the report's provenance (register as-of time, software
version). Numbers are rounded the same way in every format, so the PDF shows
exactly what the tables hold. In CSV and XLSX, text a spreadsheet would run
as a formula (an organisation or admin area named ``=HYPERLINK(...)``) is
quoted (:mod:`mineaction.domain.spreadsheet`); numbers stay numbers.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.table import Table

from mineaction.reports.frames import display_frame, flat_frame, spreadsheet_frame
from mineaction.reports.model import Report, ReportTable

__all__ = ["PDF_ROWS_PER_PAGE", "display_frame", "write_csv", "write_pdf", "write_xlsx"]

PDF_ROWS_PER_PAGE = 35  # a longer table goes on over further pages


def write_csv(report: Report, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in report.tables:
        path = folder / f"{table.key}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            for key, value in report.provenance.items():
                handle.write(f"# {key}: {value}\n")
            handle.write(f"# {table.title}. {table.note}\n")
            spreadsheet_frame(flat_frame(table)).to_csv(handle, index=False)
        written.append(path)
    return written


def write_xlsx(report: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        about = pd.DataFrame(list(report.provenance.items()), columns=["item", "value"])
        spreadsheet_frame(about).to_excel(writer, sheet_name="about", index=False)
        for table in report.tables:
            spreadsheet_frame(flat_frame(table)).to_excel(writer, sheet_name=table.key[:31], index=False)
    return path


def _text_page(pdf: PdfPages, title: str, lines: list[str]) -> None:
    fig = plt.figure(figsize=(8.27, 11.69))
    fig.text(0.08, 0.93, title, fontsize=16, weight="bold")
    for i, line in enumerate(lines):
        fig.text(0.08, 0.88 - i * 0.025, line, fontsize=10)
    pdf.savefig(fig)
    plt.close(fig)


def _fit_width(fig: Figure, ax: Axes, shown: Table) -> None:
    """Shrink the table's type until its columns fit the page's width (a wide table would be cut off)."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg canvases have one
    room = ax.get_window_extent(renderer).width
    for _ in range(3):
        width = shown.get_window_extent(renderer).width
        if width <= room:
            return
        size = float(shown[0, 0].get_text().get_fontsize())
        shown.set_fontsize(max(4.0, size * room / width * 0.98))
        for cell in shown.get_celld().values():
            cell.set_width(cell.get_width() * room / width * 0.98)


def _table_pages(pdf: PdfPages, table: ReportTable) -> None:
    """The table itself, :data:`PDF_ROWS_PER_PAGE` rows a page, the header repeated on each."""
    frame = flat_frame(table)
    pages = max(1, -(-len(frame) // PDF_ROWS_PER_PAGE))
    for page in range(pages):
        fig = plt.figure(figsize=(11.69, 8.27))
        suffix = f" (page {page + 1} of {pages})" if pages > 1 else ""
        fig.text(0.04, 0.95, table.title + suffix, fontsize=13, weight="bold")
        fig.text(0.04, 0.915, table.note, fontsize=8, style="italic", wrap=True)
        rows = frame.iloc[page * PDF_ROWS_PER_PAGE:(page + 1) * PDF_ROWS_PER_PAGE]
        if len(rows) == 0:
            fig.text(0.04, 0.85, "No records in this period.", fontsize=11)
        else:
            ax = fig.add_axes((0.04, 0.05, 0.92, 0.82))
            ax.axis("off")
            cells = [[f"{v:,}" if isinstance(v, int) else str(v) for v in row] for row in rows.itertuples(index=False)]
            shown = ax.table(cellText=cells, colLabels=list(map(str, frame.columns)), loc="upper left",
                             cellLoc="right")
            shown.auto_set_font_size(False)
            shown.set_fontsize(8)
            shown.auto_set_column_width(list(range(len(frame.columns))))
            _fit_width(fig, ax, shown)
        pdf.savefig(fig)
        plt.close(fig)


def _figure_page(pdf: PdfPages, title: str, image: Path) -> None:
    fig = plt.figure(figsize=(11.69, 8.27))
    fig.text(0.04, 0.95, title, fontsize=13, weight="bold")
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.9))
    ax.imshow(plt.imread(image))
    ax.axis("off")
    pdf.savefig(fig)
    plt.close(fig)


def write_pdf(report: Report, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with PdfPages(path) as pdf:
        cover = [f"{k}: {v}" for k, v in report.provenance.items()]
        cover += ["", "Contents:"] + [f"  • {t.title}" for t in report.tables]
        if report.fictional:
            cover += ["", "FICTIONAL DATA: every place and record in this report is invented."]
        _text_page(pdf, report.title, cover)
        for title, image in report.figures:
            _figure_page(pdf, title, image)
        for table in report.tables:
            _table_pages(pdf, table)
        info = pdf.infodict()
        info["Title"] = report.title
        info["Subject"] = "; ".join(f"{k}: {v}" for k, v in report.provenance.items())
        info["Creator"] = f"mineaction {report.software_version}"
    return path
