"""``init``, ``status`` and ``demo``: creating, inspecting and demonstrating a register."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mineaction.cli.hazard_commands import CURVE_AGES, print_residual_table
from mineaction.cli.options import DbOption, console
from mineaction.demo.fictional_programme import DEMO_ASSESSMENT_DATE, build_demo, demo_programme
from mineaction.domain.entities import ENTITIES
from mineaction.domain.geometry import Extent
from mineaction.domain.programme import Programme
from mineaction.errors import InvalidValue, MineActionError
from mineaction.storage import Register, hazard_balance, is_postgres_url, released_area

__all__ = ["install"]


def _parse_extent(text: str | None) -> Extent | None:
    if not text:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
        return Extent(west, south, east, north)
    except ValueError as exc:
        raise InvalidValue(f"--extent {text!r}: {exc}", hint="give west,south,east,north in degrees, e.g. 22,44,41,53") from None


def init(
    db: DbOption = "mineaction.gpkg",
    name: Annotated[str, typer.Option(help="Programme name.")] = "Mine action programme",
    extent: Annotated[
        str | None, typer.Option(help="Programme extent west,south,east,north (degrees); used to catch swapped axes.")
    ] = None,
    local_crs: Annotated[str, typer.Option(help="CRS field teams work in, e.g. EPSG:32636.")] = "EPSG:4326",
) -> None:
    """Create a register, or upgrade an existing one in place."""
    programme = Programme(name=name, extent=_parse_extent(extent), local_crs=local_crs)
    existing = not is_postgres_url(db) and Path(db).exists()
    with Register.create(db, None if existing else programme) as register:
        console.print(f"[green]register ready[/] at {db} ({register.dialect}), programme: {register.programme.name}")


def status(db: DbOption = "mineaction.gpkg") -> None:
    """Show what the register holds."""
    with Register.open(db) as register:
        console.print(_status_table(register))
        _print_balance(register)


def _status_table(register: Register) -> Table:
    table = Table(title=f"{register.programme.name} — {register.target}")
    table.add_column("entity")
    table.add_column("records", justify="right")
    for name, spec in ENTITIES.items():
        table.add_row(spec.label, f"{register.count(name):,}")
    return table


def _print_balance(register: Register) -> None:
    balance = hazard_balance(register)
    table = Table(title="Land release balance (live hazards)")
    for column in ("hazards", "hazard area (m²)", "released (m²)", "remaining (m²)"):
        table.add_column(column, justify="right")
    table.add_row(f"{balance.hazards:,}", f"{balance.hazard_area_m2:,.0f}", f"{balance.released_m2:,.0f}",
                  f"{balance.remaining_m2:,.0f}")
    console.print(table)


def _release_table(register: Register, by: tuple[str, ...], title: str, admin_level: int | None = None) -> Table:
    rows = released_area(register, by=by, admin_level=admin_level)
    labels = register.labels("release_type")
    names = {a["pcode"]: a["name_en"] for a in register.records("admin_area")}
    table = Table(title=title)
    for key in by:
        table.add_column(key.replace("_", " "))
    table.add_column("parts", justify="right")
    table.add_column("area (m²)", justify="right")
    total = 0.0
    for row in rows:
        cells = [labels.get(row[k], row[k]) if k == "release_type" else names.get(row[k], row[k]) if k == "admin_pcode"
                 else str(row[k]) for k in by]
        table.add_row(*map(str, cells), f"{row['parts']:,}", f"{row['area_m2']:,.0f}")
        total += float(row["area_m2"])
    table.add_row(*(["[bold]total[/]"] + [""] * (len(by) - 1)), "", f"[bold]{total:,.0f}[/]")
    return table


def demo(
    db: DbOption = "mineaction-demo.gpkg",
    out: Annotated[Path, typer.Option(help="Folder for the map and charts.")] = Path("out"),
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same programme.")] = 2026,
    hazards: Annotated[int, typer.Option(min=10, max=20_000, help="Number of hazards to invent.")] = 300,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite an existing demo file.")] = False,
) -> None:
    """Build a FICTIONAL programme, print land release and draw the map."""
    from mineaction.charts.register_map import plot_register_map  # matplotlib: not at start-up (see cli.app)

    if not is_postgres_url(db) and Path(db).exists():
        if not replace:
            raise MineActionError(f"{db} already exists", hint="pass --replace to rebuild the demo, or --db another file")
        Path(db).unlink()
        for suffix in ("-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    console.print("[bold yellow]FICTIONAL DATA[/]: Demo Oblast is invented; no hazard here is real.")
    with Register.create(db, demo_programme()) as register:
        columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("building demo", total=6)
            build_demo(register, seed=seed, hazards=hazards,
                       progress=lambda step, done, total: progress.update(task, description=step, completed=done, total=total))
        console.print(_status_table(register))
        console.print(_release_table(register, ("release_type", "method"), "Land released by method"))
        console.print(_release_table(register, ("admin_pcode", "release_type"), "Land released by raion (admin level 2)",
                                     admin_level=2))
        _print_balance(register)
        map_path = plot_register_map(register, out / "demo-map.png")
        curves = _demo_residual_hazard(register, out)
    console.print(f"register: {db}   map: {map_path}   residual-hazard curves: {', '.join(map(str, curves))}")


def _demo_residual_hazard(register: Register, out: Path) -> list[Path]:
    """Design bound beside degraded field reliability, and what the demo's clearance finds change."""
    from mineaction.charts.hazard_curves import plot_evidence_comparison, plot_profile_comparison
    from mineaction.residual.register_hazards import available_profiles, residual_table

    profiles = available_profiles()
    design, degraded = profiles["ccw-apii-design-bound"], profiles["degraded-field-example-a"]
    written = list(plot_profile_comparison([design, degraded], out / "hazard-curves-design-vs-degraded", ages=CURVE_AGES))
    table = residual_table(register, DEMO_ASSESSMENT_DATE, profiles=profiles)
    update = table.evidence.get(degraded.name)
    if update is not None:
        written += plot_evidence_comparison(update, out / "hazard-curves-clearance-evidence", ages=CURVE_AGES)
        console.print(f"[bold]How the demo's clearance finds shift the degraded-field estimate[/]\n{update.summary()}")
    print_residual_table(table, top=5)
    return written


def install(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(status)
    app.command()(demo)
