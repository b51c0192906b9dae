"""``report``: the annual report as CSV, XLSX and PDF with charts and a map."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from mineaction.access import local_operator
from mineaction.cli.options import DbOption, console
from mineaction.reports import DEFAULT_SUPPRESSION
from mineaction.storage import Register

__all__ = ["install"]


def report(
    year: Annotated[int, typer.Option(help="Calendar year to report on (Article 7 reports cover the previous year).")],
    db: DbOption = "mineaction.gpkg",
    out: Annotated[Path, typer.Option(help="Folder for the report files.")] = Path("out/report"),
    suppress_below: Annotated[int, typer.Option(min=3, help="Counts of people below this are suppressed.")] = DEFAULT_SUPPRESSION,
) -> None:
    """Annual report: land release, EO destroyed, APMBC and CCM Article 7, casualties, EORE."""
    # here, not at the top: pandas, SciPy and matplotlib would slow every other command's start (see cli.app)
    from mineaction.charts.register_map import plot_register_map
    from mineaction.charts.report_charts import plot_released_by_month
    from mineaction.reports.annual import annual_report
    from mineaction.reports.writers import write_csv, write_pdf, write_xlsx

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Register.open(db) as register, Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("report")
        # whoever runs this holds the register's file: the report covers every organisation
        built = annual_report(register, year, scope=local_operator(getpass.getuser()),
                              suppression_threshold=suppress_below,
                              progress=lambda step: progress.update(task, description=step))
        progress.update(task, description="charts and map")
        built.figures.append(("Land released per month",
                              plot_released_by_month(built.table("land_release_by_month").frame,
                                                     out / "released-by-month.png", title=f"Land released per month, {year}")))
        built.figures.append(("Hazards and released land", plot_register_map(register, out / "map.png")))
        progress.update(task, description="writing files")
        csvs = write_csv(built, out / "csv")
        xlsx = write_xlsx(built, out / f"annual-report-{year}.xlsx")
        pdf = write_pdf(built, out / f"annual-report-{year}.pdf")
    console.print(f"report for {year} (register as of {built.as_of:%Y-%m-%d %H:%M:%S} UTC): "
                  f"{pdf}, {xlsx}, {len(csvs)} CSV files in {out / 'csv'}")


def install(app: typer.Typer) -> None:
    app.command()(report)
