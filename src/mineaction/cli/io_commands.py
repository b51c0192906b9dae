"""``import``, ``review``, ``export`` and ``forms``: field data in and out of the register."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mineaction.access import ScopedReviewQueue, local_operator, public_scope
from mineaction.cli.options import DbOption, console
from mineaction.domain.entities import Sensitivity
from mineaction.errors import InvalidValue
from mineaction.io.export import export as export_register
from mineaction.io.form_exports import is_form_export
from mineaction.io.importer import ImportResult, import_file
from mineaction.io.odk import import_submissions
from mineaction.io.xlsform import FORMS, write_forms
from mineaction.storage import Register

__all__ = ["install"]

UserOption = Annotated[str, typer.Option("--user", envvar="MINEACTION_USER", help="Who does this (recorded).")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded with the change).")]


def _default_user() -> str:
    return getpass.getuser()


def _parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidValue(f"--bbox {text!r}", hint="give west,south,east,north in degrees") from None
    return west, south, east, north


def _show_import(result: ImportResult, source: Path, report_to: Path | None) -> None:
    report = result.report
    if result.recognised:
        console.print(result.recognised)
    console.print(report.table())
    stem = report_to or source.with_name(source.name + ".report")
    csv_path = report.to_csv(stem.with_name(stem.name + ".csv"))
    json_path = report.to_json(stem.with_name(stem.name + ".json"))
    console.print(f"report written: {csv_path} and {json_path}")
    if result.dry_run:
        console.print("[yellow]dry run[/]: nothing was queued")
    elif result.queued is None:
        console.print("[red]nothing queued[/]: fix the errors above, or pass --skip-invalid to queue the valid features")
        raise typer.Exit(1)
    elif result.queued.submitted == 0:
        console.print("nothing new: every feature is already in the review queue or the register")
    else:
        console.print(f"[green]{result.queued.submitted:,} field reports queued[/] for review "
                      f"(import {result.queued.import_id}): mineaction review list --import-id {result.queued.import_id}")


def import_command(
    source: Annotated[Path, typer.Argument(help="GeoPackage, GeoJSON, zipped Shapefile, KML/KMZ, GPX, CSV, or an "
                                                "ODK Central (.csv.zip, CSV, OData JSON) or KoboToolbox (XLSX, CSV, "
                                                "JSON) export, recognised by its shape.")],
    db: DbOption = "mineaction.gpkg",
    entity: Annotated[str | None, typer.Option(help="Register entity the file holds (default mapping).")] = None,
    mapping: Annotated[Path | None, typer.Option(help="Mapping YAML: columns and values onto the register.")] = None,
    form: Annotated[str | None, typer.Option(help=f"Form of ODK/Kobo submissions: {', '.join(FORMS)}.")] = None,
    layer: Annotated[str | None, typer.Option(help="Layer of a multi-layer file.")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS of coordinates that carry none, e.g. EPSG:32636.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding of a Shapefile without .cpg, e.g. cp1251.")] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter: COMMA, SEMICOLON, TAB, SPACE or PIPE.")] = None,
    drop_z: Annotated[bool, typer.Option("--drop-z", help="Drop Z/M values instead of refusing them.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report only; queue nothing.")] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Queue the valid features even if others fail.")] = False,
    report: Annotated[Path | None, typer.Option(help="Where to write the report (.csv and .json are added).")] = None,
    user: UserOption = "",
    reason: ReasonOption = "",
) -> None:
    """Validate a field data file, show the report, and queue its features as field reports."""
    reason = reason or f"import of {source.name}"
    with Register.open(db) as register:
        if form or (mapping is None and entity is None and is_form_export(source)):
            result = import_submissions(register, source, form=form, user=user or _default_user(), reason=reason,
                                        dry_run=dry_run, skip_invalid=skip_invalid)
        else:
            result = import_file(register, source, user=user or _default_user(), reason=reason, mapping=mapping,
                                 entity=entity, layer=layer, crs=crs, encoding=encoding, delimiter=delimiter,
                                 drop_z=drop_z, dry_run=dry_run, skip_invalid=skip_invalid)
    _show_import(result, source, report)


review_app = typer.Typer(help="The review queue: list field reports, approve or reject them.", no_args_is_help=True)


@review_app.command("list")
def review_list(
    db: DbOption = "mineaction.gpkg",
    status: Annotated[str | None, typer.Option(help="submitted, approved, rejected or conflict.")] = "submitted",
    import_id: Annotated[str | None, typer.Option(help="Only this import.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many rows first.")] = 0,
    user: UserOption = "",
) -> None:
    """List field reports."""
    with Register.open(db) as register:
        queue = ScopedReviewQueue(register, local_operator(user or _default_user()), "mineaction review list")
        rows = queue.list(status=status or None, import_id=import_id, limit=limit, offset=offset)
    table = Table(title=f"field reports ({status or 'all'})")
    for column in ("ref", "entity", "action", "organisation", "source", "status", "note"):
        table.add_column(column, overflow="fold")
    for shown in rows:
        r = shown.report
        table.add_row(r.ref, r.entity, r.action, r.organisation_id or "", r.source_feature, r.status,
                      r.review_note or "")
    console.print(table)


@review_app.command("approve")
def review_approve(
    refs: Annotated[list[str] | None, typer.Argument(help="Field report refs (FR-…).")] = None,
    db: DbOption = "mineaction.gpkg",
    import_id: Annotated[str | None, typer.Option(help="Approve every submitted report of this import.")] = None,
    user: UserOption = "",
    reason: ReasonOption = "approved after review",
) -> None:
    """Apply reports to the register as new versions; outdated ones are flagged as conflicts."""
    with Register.open(db) as register:
        queue = ScopedReviewQueue(register, local_operator(user or _default_user()))
        outcome = queue.approve(refs or None, import_id=import_id, reason=reason)
    console.print(f"[green]{len(outcome.approved):,} approved[/]")
    for ref, why in outcome.conflicts:
        console.print(f"[yellow]conflict[/] {ref}: {why}")


@review_app.command("reject")
def review_reject(
    refs: Annotated[list[str], typer.Argument(help="Field report refs (FR-…).")],
    reason: Annotated[str, typer.Option("--reason", help="Why: the field team reads it.")],
    db: DbOption = "mineaction.gpkg",
    user: UserOption = "",
) -> None:
    """Reject reports with a reason (reports that depend on them go with them)."""
    with Register.open(db) as register:
        outcome = ScopedReviewQueue(register, local_operator(user or _default_user())).reject(refs, reason=reason)
    console.print(f"{len(outcome.rejected):,} rejected: {', '.join(outcome.rejected)}")


def export_command(
    target: Annotated[Path, typer.Argument(help="Output file: .gpkg, .geojson, .kml, .kmz, .csv, .xlsx or .zip (Shapefile).")],
    db: DbOption = "mineaction.gpkg",
    entity: Annotated[list[str] | None, typer.Option(help="Entities to export (repeat); default all.")] = None,
    as_of: Annotated[dt.datetime | None, typer.Option(help="The register as it was then (UTC).")] = None,
    bbox: Annotated[str | None, typer.Option(help="west,south,east,north in degrees.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Only this organisation's records (ref, name or acronym).")] = None,
    level: Annotated[Sensitivity, typer.Option(help="Highest field sensitivity to include; public: what anyone "
                                                     "may see, locations generalised.")] = Sensitivity.RESTRICTED,
    personal_data: Annotated[bool, typer.Option("--personal-data", help="I hold permission to export personal data.")] = False,
) -> None:
    """Export the register or a filtered part, recording its as-of time and the software version."""
    # whoever runs this holds the register's file, so reads all of it; --level public writes what anyone may see
    scope = public_scope() if level is Sensitivity.PUBLIC else local_operator(_default_user(), personal_data=personal_data)
    with Register.open(db) as register:
        result = export_register(register, target, entities=entity or None, as_of=as_of, bbox=_parse_bbox(bbox),
                                 organisation=organisation, scope=scope, level=level)
    counts = ", ".join(f"{name} {n:,}" for name, n in result.counts.items() if n)
    console.print(f"exported ({counts}) as of {result.metadata['as_of']}: {', '.join(map(str, result.paths))}")


def forms_command(
    folder: Annotated[Path, typer.Argument(help="Folder for the XLSForm workbooks.")],
    db: DbOption = "mineaction.gpkg",
    form: Annotated[list[str] | None, typer.Option(help=f"Forms to write (repeat): {', '.join(FORMS)}.")] = None,
) -> None:
    """Write XLSForms for ODK Collect / KoboCollect, with the register's choice lists (en/uk)."""
    with Register.open(db) as register:
        paths = write_forms(register, folder, form or None)
    console.print("\n".join(f"form written: {p}" for p in paths))


def install(app: typer.Typer) -> None:
    app.command("import")(import_command)
    app.add_typer(review_app, name="review")
    app.command("export")(export_command)
    app.command("forms")(forms_command)
