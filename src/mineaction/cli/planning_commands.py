"""``prioritise`` and ``forecast``: which hazards to clear first, and when the work will be done."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from mineaction.cli.options import DbOption, console
from mineaction.errors import InvalidValue
from mineaction.storage import Register

# mineaction.planning and domain.prioritisation load SciPy and pandas: imported in the commands (see cli.app)
if TYPE_CHECKING:
    from mineaction.planning import Completion, Prioritisation
    from mineaction.planning.completion import Order
    from mineaction.planning.ranking import Method

__all__ = ["install"]

_DATE = ["%Y-%m-%d"]


class RankMethod(str, Enum):
    weighted = "weighted"
    topsis = "topsis"
    ahp = "ahp"


class WorkOrder(str, Enum):
    priority_first = "priority-first"
    area_by_area = "area-by-area"


_METHOD: dict[RankMethod, Method] = {RankMethod.weighted: "weighted_sum", RankMethod.topsis: "topsis",
                                     RankMethod.ahp: "ahp"}
_ORDER: dict[WorkOrder, Order] = {WorkOrder.priority_first: "priority-first", WorkOrder.area_by_area: "area-by-area"}


def _pairs(text: str | None, option: str) -> dict[str, float] | None:
    """``"a=1,b=2.5"`` as ``{"a": 1.0, "b": 2.5}``; None when the option is not given."""
    if text is None:
        return None
    pairs: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError("no name=value")
            pairs[name.strip()] = float(value)
        except ValueError:
            raise InvalidValue(f"{option} {text!r}: cannot read {item!r}",
                               hint=f"write name=value pairs separated by commas, e.g. {option} manual=10,mdd=3") from None
    return pairs


@contextmanager
def _steps(first: str) -> Iterator[Progress]:
    """A spinner naming the step under way (steps can take a while on a national register)."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        progress.add_task(first)
        yield progress


def _say(progress: Progress, step: str) -> None:
    progress.update(progress.task_ids[0], description=step)


def _show_prioritisation(result: Prioritisation, top: int) -> None:
    from mineaction.domain.prioritisation import explain

    weights = Table(title="Criteria", title_justify="left")
    for column in ("criterion", "measures", "unit", "direction", "weight"):
        weights.add_column(column, justify="right" if column == "weight" else "left")
    for criterion in result.matrix.criteria:
        weights.add_row(criterion.name, criterion.measures, criterion.unit, criterion.direction.value,
                        f"{result.weights[criterion.name]:.3f}")
    console.print(weights)
    if result.ahp is not None:
        console.print(f"AHP consistency ratio {result.ahp.cr:.3f} (< 0.10 accepted), λmax {result.ahp.lambda_max:.3f}")
    ranked = Table(title=f"Top {min(top, len(result.ranking.alternatives))} of "
                         f"{len(result.ranking.alternatives):,} hazards ({result.ranking.method})", title_justify="left")
    for column in ("rank", "hazard", "admin area", "score", "why (largest contributions)", "rank P5–P95", "rank changed"):
        ranked.add_column(column, justify="right" if column in ("rank", "score", "rank changed") else "left")
    stability = result.sensitivity
    for i in result.ranking.order()[:top]:
        ref = result.ranking.alternatives[i]
        why = ", ".join(f"{name} {value:+.3f}" for name, value in explain(result.ranking, ref)[:3])
        ranked.add_row(str(result.ranking.ranks[i]), str(ref), result.matrix.hazards.admin_pcode[i] or "",
                       f"{result.ranking.scores[i]:.3f}", why,
                       f"{stability.rank_p5[i]}–{stability.rank_p95[i]}", f"{stability.changed[i]:.0%}")
    console.print(ranked)
    for note in result.matrix.notes:
        console.print(f"[dim]• {note}[/]")


def prioritise_command(
    db: DbOption = "mineaction.gpkg",
    method: Annotated[RankMethod, typer.Option(help="weighted (sum), topsis, or ahp (weights from --pairwise).")]
    = RankMethod.weighted,
    weights: Annotated[str | None, typer.Option(
        help="Criteria and weights, e.g. population_nearby=3,cost_per_m2=1; only these are ranked on. "
             "Default: every criterion, equal weights.")] = None,
    pairwise: Annotated[Path | None, typer.Option(
        help="AHP judgements (YAML): criterion: {other: times as important}, fractions as 1/3.")] = None,
    population: Annotated[Path | None, typer.Option(
        help="Population points (GeoPackage, GeoJSON, CSV with lon/lat) or raster (.tif). "
             "Default: the register's settlements.")] = None,
    population_field: Annotated[str, typer.Option(help="People-per-point field of --population.")] = "population",
    population_distance: Annotated[float, typer.Option(min=0, help="Metres from a hazard for population.")] = 1000.0,
    accident_distance: Annotated[float, typer.Option(min=0, help="Metres from a hazard for accidents.")] = 1000.0,
    since: Annotated[dt.datetime | None, typer.Option(
        formats=_DATE, help="Count accidents from this date (default five years before --on).")] = None,
    on: Annotated[dt.datetime | None, typer.Option(
        formats=_DATE, help="Date to evaluate residual hazard on (default today).")] = None,
    costs: Annotated[str | None, typer.Option(
        help="Cost per m² by method, e.g. manual=3,mechanical=0.8,mdd=1.5. Default: illustrative costs; "
             "give the programme's own.")] = None,
    land_use_weights: Annotated[str | None, typer.Option(
        help="Weight of each blocked land use, e.g. housing=3,agriculture=2,forest=1. Default: built-in weights, "
             "homes and essential services highest.")] = None,
    top: Annotated[int, typer.Option(min=1, help="Hazards to show in the table (the CSV has all).")] = 20,
    runs: Annotated[int, typer.Option(min=1, help="Perturbed weight vectors for the sensitivity analysis.")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the sensitivity analysis.")] = 0,
    out: Annotated[Path, typer.Option(help="Folder for ranking.csv, sensitivity.csv, criteria.csv and the map.")]
    = Path("out/prioritise"),
) -> None:
    """Rank live hazards for clearance, explain each rank, and map the priorities."""
    from mineaction.charts.planning import plot_priority_map
    from mineaction.planning import CriteriaOptions, criteria_matrix, prioritise, read_pairwise
    from mineaction.planning.criteria import DEFAULT_COST_PER_M2, DEFAULT_LAND_USE_WEIGHTS
    from mineaction.reports.frames import spreadsheet_frame

    options = CriteriaOptions(
        on=on.date() if on else dt.date.today(),
        event_distance_m=accident_distance,
        events_since=since.date() if since else None,
        population=population,
        population_field=population_field,
        population_distance_m=population_distance,
        land_use_weights=_pairs(land_use_weights, "--land-use-weights") or DEFAULT_LAND_USE_WEIGHTS,
        cost_per_m2=_pairs(costs, "--costs") or DEFAULT_COST_PER_M2,
    )
    judgements = read_pairwise(pairwise) if pairwise is not None else None
    with Register.open(db) as register, _steps("criteria from the register and layers") as progress:
        matrix = criteria_matrix(register, options)
        _say(progress, f"ranking {len(matrix.hazards):,} hazards and {runs} sensitivity runs")
        result = prioritise(matrix, method=_METHOD[method], weights=_pairs(weights, "--weights"),
                            judgements=judgements, runs=runs, seed=seed)
        _say(progress, "writing tables and the priority map")
        out.mkdir(parents=True, exist_ok=True)
        spreadsheet_frame(result.table()).to_csv(out / "ranking.csv", index=False)
        spreadsheet_frame(result.sensitivity_table()).to_csv(out / "sensitivity.csv", index=False)
        spreadsheet_frame(matrix.to_frame()).to_csv(out / "criteria.csv", index=False)
        title = f"{register.programme.name}: clearance priority ({method.value})"
        plot_priority_map(matrix.hazards.geometries, result.ranking, out / "priority-map.png",
                          crs=register.programme.local_crs, title=title)
    _show_prioritisation(result, top)
    console.print(f"register as of {matrix.hazards.as_of:%Y-%m-%d %H:%M:%S} UTC; files in {out}: "
                  "ranking.csv, sensitivity.csv, criteria.csv, priority-map.png")


def _show_forecast(completion: Completion, teams: dict[str, float]) -> None:
    inputs = completion.inputs
    methods = Table(title="Methods", title_justify="left")
    for column in ("method", "remaining m²", "teams", "m² per team-day (median)", "σ log", "source"):
        methods.add_column(column, justify="left" if column in ("method", "source") else "right")
    for m in inputs.methods:
        p = inputs.productivity[m]
        remaining = sum(a.remaining_m2.get(m, 0.0) for a in inputs.areas)
        methods.add_row(m, f"{remaining:,.0f}", f"{teams.get(m, 0):g}", f"{p.median:,.0f}", f"{p.sigma:.2f}", p.source)
    console.print(methods)
    console.print(f"[dim]• cancelled or reduced share of suspected area: {inputs.release_share_source}[/]")
    console.print("[dim]• expected method where no activity names one: " +
                  ", ".join(f"{m} {s:.0%}" for m, s in inputs.default_methods.items()) + "[/]")
    table = Table(title="Completion (P50 median, P90 pessimistic)", title_justify="left")
    frame = completion.table()
    for column in ("area", "remaining m²", "priority m²", "suspected", "P50", "P90"):
        table.add_column(column, justify="left" if column == "area" else "right")
    for row in frame.itertuples(index=False):
        table.add_row(str(row.area), f"{row.remaining_m2:,.0f}", f"{row.priority_m2:,.0f}", f"{row.suspected_share:.0%}",
                      str(row.p50 or "never"), str(row.p90 or "never"))
    console.print(table)


def forecast_command(
    teams: Annotated[str, typer.Option(help="Teams per method, e.g. manual=10,mechanical=2,mdd=3.")],
    db: DbOption = "mineaction.gpkg",
    what_if_teams: Annotated[str | None, typer.Option(help="Teams of the alternative plan.")] = None,
    order: Annotated[WorkOrder, typer.Option(help="Work order of the plan.")] = WorkOrder.priority_first,
    what_if_order: Annotated[WorkOrder | None, typer.Option(help="Work order of the alternative plan.")] = None,
    start: Annotated[dt.datetime | None, typer.Option(
        formats=_DATE, help="First day of work (default today).")] = None,
    working_days: Annotated[float, typer.Option(min=1, max=366, help="Working days a team has in a year.")] = 220.0,
    runs: Annotated[int, typer.Option(min=1, help="Monte Carlo runs.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed; plans compared share it.")] = 0,
    admin_level: Annotated[int, typer.Option(min=1, help="Admin level of the completion table.")] = 2,
    priority_uses: Annotated[str | None, typer.Option(
        help="Blocked land uses that make land priority land, e.g. housing,schools. Default: homes and essential "
             "services.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for completion.csv, what-if.csv and the charts.")]
    = Path("out/forecast"),
) -> None:
    """Forecast P50/P90 completion per admin area and nationally; compare a what-if plan."""
    from mineaction.charts.planning import plot_burn_down, plot_released_by_year
    from mineaction.planning import compare_plans, forecast_completion, forecast_inputs
    from mineaction.planning.forecast_inputs import PRIORITY_LAND_USES
    from mineaction.reports.frames import spreadsheet_frame

    base_teams = _pairs(teams, "--teams") or {}
    alt_teams = _pairs(what_if_teams, "--what-if-teams")
    first_day = start.date() if start else dt.date.today()
    comparison = None
    with _steps("remaining land, productivity and release share") as progress:
        with Register.open(db) as register:
            inputs = forecast_inputs(register, admin_level=admin_level,
                                     priority_uses=PRIORITY_LAND_USES if priority_uses is None
                                     else [u.strip() for u in priority_uses.split(",") if u.strip()])
        _say(progress, f"{runs:,} Monte Carlo runs")
        if alt_teams is not None or what_if_order is not None:
            comparison = compare_plans(inputs, (base_teams, _ORDER[order]),
                                       (alt_teams or base_teams, _ORDER[what_if_order or order]), start=first_day,
                                       working_days_per_year=working_days, runs=runs, seed=seed)
            completion = comparison.base
        else:
            completion = forecast_completion(inputs, base_teams, order=_ORDER[order], start=first_day,
                                             working_days_per_year=working_days, runs=runs, seed=seed)
        _say(progress, "tables and charts")
        out.mkdir(parents=True, exist_ok=True)
        spreadsheet_frame(completion.table()).to_csv(out / "completion.csv", index=False)
        files = ["completion.csv",
                 plot_burn_down(completion.forecast, out / "burn-down.png").name,
                 plot_released_by_year(completion.forecast, out / "released-by-year.png").name]
        if comparison is not None:
            spreadsheet_frame(comparison.table()).to_csv(out / "what-if.csv", index=False)
            files += ["what-if.csv", plot_burn_down(comparison.alternative.forecast, out / "burn-down-what-if.png",
                                                    title="Remaining contaminated area (what-if plan)").name]
    _show_forecast(completion, base_teams)
    if comparison is not None:
        table = Table(title="What-if: alternative plan against the base plan", title_justify="left")
        for column in ("", "base", "what-if", "change (days)", "priority m² in year one", "change"):
            table.add_column(column, justify="right")
        for row in comparison.table().itertuples(index=False):
            days = row.completion_change_days
            change = "n/a (a plan never ends)" if days is None else format(days, "+,d")
            table.add_row(str(row.quantile), str(row.base_completion or "never"), str(row.alternative_completion or "never"),
                          change, f"{row.priority_m2_year_one_base:,.0f}", f"{row.priority_m2_year_one_change:+,.0f}")
        console.print(table)
    console.print(f"register as of {inputs.as_of:%Y-%m-%d %H:%M:%S} UTC; files in {out}: {', '.join(files)}")


def install(app: typer.Typer) -> None:
    app.command("prioritise")(prioritise_command)
    app.command("forecast")(forecast_command)
