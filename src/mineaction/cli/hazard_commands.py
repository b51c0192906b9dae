"""``hazard``: residual hazard of non-persistent mines, per hazard on a date, and its curves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer
from rich.table import Table

from mineaction.cli.options import DbOption, console
from mineaction.errors import InvalidValue
from mineaction.storage import Register

if TYPE_CHECKING:
    from mineaction.domain.residual_hazard import CcwBoundCheck, ReliabilityProfile
    from mineaction.residual.register_hazards import ResidualTable

__all__ = ["CURVE_AGES", "ccw_profiles", "install", "print_ccw_verdicts", "print_residual_table"]

CURVE_AGES = np.unique(np.concatenate([np.arange(0, 731, 5), [30, 120]])).astype(float)


def print_residual_table(table: ResidualTable, top: int) -> None:
    """The highest-risk rows, always with e(t) beside f(t) and the explosive caveat."""
    shown = Table(title=f"Residual hazard on {table.on:%Y-%m-%d} (highest P(≥1 functional) first)")
    for column in ("hazard", "admin", "profile", "age (d)", "f(t) functional", "e(t) explosive",
                   "E[functional]", "P(≥1 functional) [90%]"):
        shown.add_column(column, justify="left" if column in ("hazard", "admin", "profile") else "right")
    for row in table.frame.head(top).itertuples():
        shown.add_row(str(row.hazard), str(row.admin_pcode), str(row.profile), f"{row.age_days:,}", f"{row.f_functional:.4f}",
                      f"{row.e_explosive:.4f}", f"{row.expected_functional:.1f}",
                      f"{row.p_any_functional:.3f} [{row.p_any_functional_low:.3f}–{row.p_any_functional_high:.3f}]")
    console.print(shown)
    console.print(f"[bold yellow]e(t) > 0: these areas still hold explosive and need survey or clearance.[/] "
                  f"{table.caveats[0]}")


def ccw_profiles(
    table: ResidualTable, known: dict[str, ReliabilityProfile], extra: list[ReliabilityProfile]
) -> list[ReliabilityProfile]:
    """The profiles to judge: each the table uses (the named one and, where finds updated it, the update),
    then ``extra`` ones asked for, each once."""
    updated = {u.posterior.name: (name, u.posterior) for name, u in table.evidence.items()}
    chosen: dict[str, ReliabilityProfile] = {}
    for name in (sorted(set(table.frame["profile"])) if len(table.frame) else []):
        base, posterior = updated.get(name, (name, None))
        chosen.setdefault(base, known[base])
        if posterior is not None:
            chosen.setdefault(name, posterior)
    for profile in extra:
        chosen.setdefault(profile.name, profile)
    return list(chosen.values())


def print_ccw_verdicts(checks: list[CcwBoundCheck]) -> None:
    """Each profile against the CCW Amended Protocol II design bounds (Technical Annex 3(a)), with its verdict:
    one unwrapped line each, so a verdict is never split."""
    console.print("[bold]CCW Amended Protocol II design bounds[/] (≤ 10% fail to self-destruct by day 30; "
                  "≤ 1 in 1000 functional at day 120):", soft_wrap=True)
    for check in checks:
        row = check.row()
        style = "green" if check.meets else "bold red"
        console.print(f"  {row['profile']}: [{style}]{check.verdict}[/] — "
                      f"{row['failed to self-destruct by day 30 (%)']:.2f}% failed to self-destruct by day 30, "
                      f"{row['functional at day 120 (per 1000)']:.2f} in 1000 functional and "
                      f"{row['explosive at day 120 (%)']:.2f}% explosive at day 120", soft_wrap=True)


def _local_geometries(register: Register, refs: list[str]) -> list:
    """Hazard outlines in the programme's projected CRS, so the map keeps shapes true."""
    from mineaction.domain.geometry import to_crs

    geoms = np.asarray([register.get("hazard", ref).geometry for ref in refs], dtype=object)
    return list(to_crs(geoms, register.programme.local_crs))


def hazard(
    db: DbOption = "mineaction.gpkg",
    on: Annotated[str, typer.Option(help="Date to assess (YYYY-MM-DD); default today.")] = "",
    profile: Annotated[str | None, typer.Option(help="Also draw the curves of this reliability profile.")] = None,
    compare: Annotated[str | None, typer.Option(help="Draw this profile beside --profile.")] = None,
    hazard_ref: Annotated[
        str | None, typer.Option("--hazard", help="Also draw the curves of this hazard (its count model).")
    ] = None,
    profiles: Annotated[Path | None, typer.Option(help="YAML file with your own reliability profiles.")] = None,
    evidence: Annotated[bool, typer.Option(help="Update profiles with the register's clearance finds.")] = True,
    top: Annotated[int, typer.Option(help="Rows to print.")] = 15,
    out: Annotated[Path, typer.Option(help="Folder for the table, map and curves.")] = Path("out/hazard"),
) -> None:
    """Residual hazard of every hazard with a reliability profile: f(t), e(t), P(≥1 functional)."""
    # here, not at the top: SciPy and matplotlib would slow every other command's start (see cli.app)
    import pandas as pd

    from mineaction.charts.hazard_curves import plot_evidence_comparison, plot_hazard_curves, plot_profile_comparison
    from mineaction.charts.hazard_map import plot_hazard_map
    from mineaction.domain.residual_hazard import assess_residual_hazard, check_ccw_bounds
    from mineaction.reports.frames import spreadsheet_frame
    from mineaction.residual.register_hazards import available_profiles, residual_table

    day = dt.date.fromisoformat(on) if on else dt.date.today()
    known = available_profiles(profiles)
    with Register.open(db) as register:
        table = residual_table(register, day, profiles=known, use_evidence=evidence)
        out.mkdir(parents=True, exist_ok=True)
        csv = out / f"residual-hazard-{day:%Y-%m-%d}.csv"
        spreadsheet_frame(table.frame).to_csv(csv, index=False)
        (out / "caveats.txt").write_text("\n\n".join(table.caveats), encoding="utf-8")
        print_residual_table(table, top)
        asked = [_profile(known, name) for name in (profile, compare) if name]
        checks = [check_ccw_bounds(p) for p in ccw_profiles(table, known, asked)]
        print_ccw_verdicts(checks)
        ccw_csv = out / "ccw-bounds.csv"
        spreadsheet_frame(pd.DataFrame([c.row() for c in checks])).to_csv(ccw_csv, index=False)
        written = [csv, ccw_csv]
        if len(table.frame):
            written += plot_hazard_map(_local_geometries(register, list(table.frame["hazard"])),
                                       table.frame["p_any_functional"], out / f"residual-map-{day:%Y-%m-%d}",
                                       title=f"P(≥1 functional mine) on {day:%Y-%m-%d}")
        if profile:
            chosen = [_profile(known, profile)] + ([_profile(known, compare)] if compare else [])
            written += plot_profile_comparison(chosen, out / f"curves-{profile}", ages=CURVE_AGES)
            update = table.evidence.get(profile)
            if update is not None:
                written += plot_evidence_comparison(update, out / f"evidence-{profile}", ages=CURVE_AGES)
        if hazard_ref:
            row = table.frame[table.frame["hazard"] == register.get("hazard", hazard_ref).ref]
            if row.empty:
                raise InvalidValue(f"hazard {hazard_ref} has no residual profile, emplacement date or estimate",
                                   hint="set residual_profile, emplaced_on and estimated_items on the hazard")
            record = register.get("hazard", hazard_ref)
            name = record["residual_profile"]
            used = table.evidence[name].posterior if name in table.evidence else known[name]
            result = assess_residual_hazard(CURVE_AGES, used, row["expected_items"].item(), record["count_dispersion"])
            written += plot_hazard_curves(result, out / f"hazard-{record.ref}", log_scale=True)
    console.print("written: " + ", ".join(str(p) for p in written))


def _profile(known: dict, name: str):
    if name not in known:
        raise InvalidValue(f"unknown reliability profile {name!r}", hint=f"known: {', '.join(sorted(known))}")
    return known[name]


def install(app: typer.Typer) -> None:
    app.command()(hazard)
