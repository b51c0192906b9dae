"""``mineaction task``: create a task, move it through its life cycle, report progress, show its status.

Each command calls one function of :mod:`mineaction.operations.tasks`. The
command line acts as the local operator (the national authority: it holds the
register) unless ``--as`` names a registered account, whose grants then decide
what it sees and which moves it may make, as on the web. The services are
imported inside the commands: their forecast model loads SciPy.
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mineaction.access import AccountStore, Principal, ScopedEditor, local_operator
from mineaction.cli.options import DbOption, console
from mineaction.domain.operations.tasks import TASK_VERBS
from mineaction.storage import Register

__all__ = ["install"]

task_app = typer.Typer(help="Tasks: issue work to operators, follow it to closure.", no_args_is_help=True)
progress_app = typer.Typer(help="Progress reports against a task.", no_args_is_help=True)

AsOption = Annotated[str | None, typer.Option(
    "--as", help="Act as this registered account (its grants decide); default: the local operator (authority).")]
ReasonOption = Annotated[str, typer.Option(help="Why (kept with the change).")]
Day = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])]


def _principal(register: Register, username: str | None) -> Principal:
    if username is None:
        return local_operator(getpass.getuser())
    accounts = AccountStore(register)
    return accounts.principal(accounts.account_named(username).id)


@task_app.command("create")
def create(
    reference: Annotated[str, typer.Option(help="The task order's number.")],
    activity: Annotated[str, typer.Option(help="nts, ts, clearance, eod_spot, qa_qc, eore or marking.")],
    operator: Annotated[str, typer.Option(help="Operator organisation (id or ref) the task is issued to.")],
    start: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Planned start.")],
    deadline: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"])],
    teams: Annotated[float, typer.Option(help="Teams assigned.")],
    reason: ReasonOption,
    hazard: Annotated[list[str] | None, typer.Option(help="Hazard (id or ref); repeat for several.")] = None,
    area_m2: Annotated[float | None, typer.Option(help="m² to work (0 for EOD spot, EORE, QA/QC, marking).")] = None,
    expected: Annotated[float | None, typer.Option(help="Expected m² per team-day.")] = None,
    priority_rank: Annotated[int | None, typer.Option(help="Rank from `mineaction prioritise`.")] = None,
    priority_score: Annotated[float | None, typer.Option()] = None,
    explanation: Annotated[str | None, typer.Option(help="Why it ranks there (required with a rank).")] = None,
    ranking: Annotated[Path | None, typer.Option(
        help="ranking.csv of `mineaction prioritise`: the priority (rank, score, why) of the task's hazards.")] = None,
    as_user: AsOption = None,
    db: DbOption = "mineaction.gpkg",
) -> None:
    """Create a task in draft over hazards (its area is theirs), with its priority from a ranking or given."""
    from mineaction.operations.tasks import create_task, priority_from_ranking

    values = {
        "reference": reference, "activity": activity, "organisation_id": operator,
        "planned_start": start.date(), "deadline": deadline.date(), "teams": teams, "hazard_ids": hazard or [],
        "planned_area_m2": area_m2, "expected_m2_per_team_day": expected, "priority_rank": priority_rank,
        "priority_score": priority_score, "priority_explanation": explanation,
    }
    if ranking is not None:
        values.update(priority_from_ranking(ranking, hazard or []))
    with Register.open(db) as register:
        task = create_task(register, _principal(register, as_user),
                           {k: v for k, v in values.items() if v not in (None, [])}, reason=reason)
    console.print(f"[green]{task.ref}[/] {reference}: draft")


#: moves the life cycle makes only with a reason given
_NEED_REASON = frozenset({"decline", "suspend", "rework", "cancel"})


def _mover(verb: str, target: str) -> None:
    def move(
        task: Annotated[str, typer.Argument(help="Task id or ref.")],
        reason: ReasonOption = "" if verb in _NEED_REASON else f"task {verb}",
        as_user: AsOption = None,
        db: DbOption = "mineaction.gpkg",
    ) -> None:
        from mineaction.operations.tasks import move_task

        with Register.open(db) as register:
            moved = move_task(register, _principal(register, as_user), task, target, reason=reason)
        console.print(f"[green]{moved.ref}[/] is {moved['state']} (version {moved.version})")

    move.__doc__ = f"Move a task to {target.replace('_', ' ')}."
    task_app.command(verb)(move)


for _verb, _target in TASK_VERBS.items():
    _mover(_verb, _target)


@progress_app.command("add")
def progress_add(
    task: Annotated[str, typer.Argument(help="Task id or ref.")],
    on: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Day reported (the period's last).")],
    method: Annotated[str, typer.Option(help="nts, manual, mechanical or mdd.")],
    team_days: Annotated[float, typer.Option()] = 0.0,
    cleared_m2: Annotated[float, typer.Option()] = 0.0,
    reduced_m2: Annotated[float, typer.Option()] = 0.0,
    cancelled_m2: Annotated[float, typer.Option()] = 0.0,
    searched_m2: Annotated[float, typer.Option()] = 0.0,
    items_found: Annotated[int, typer.Option()] = 0,
    stoppage_days: Annotated[float, typer.Option()] = 0.0,
    stoppage_reason: Annotated[str | None, typer.Option()] = None,
    period_days: Annotated[int, typer.Option(help="1 daily, 7 weekly.")] = 1,
    reason: ReasonOption = "progress report",
    as_user: AsOption = None,
    db: DbOption = "mineaction.gpkg",
) -> None:
    """Add a daily or weekly progress report to a task."""
    from mineaction.operations.tasks import add_progress

    values = {
        "reported_on": on.date(), "method": method, "team_days": team_days, "cleared_m2": cleared_m2,
        "reduced_m2": reduced_m2, "cancelled_m2": cancelled_m2, "searched_m2": searched_m2,
        "items_found": items_found, "stoppage_days": stoppage_days, "stoppage_reason": stoppage_reason,
        "period_days": period_days,
    }
    with Register.open(db) as register:
        report = add_progress(register, _principal(register, as_user), task,
                              {k: v for k, v in values.items() if v is not None}, reason=reason)
    console.print(f"[green]{report.ref}[/] added to {task}")


@task_app.command("review-residual")
def review_residual(
    event: Annotated[str, typer.Argument(help="Residual-contamination event (id or ref, RCE-…).")],
    target: Annotated[str, typer.Argument(help="investigating, reopened, dismissed or closed.")],
    reason: ReasonOption,
    cause: Annotated[str | None, typer.Option(help="missed, below_depth, boundary_error, moved, "
                                                   "new_contamination or unknown.")] = None,
    new_hazard: Annotated[str | None, typer.Option(help="The hazard reopened over the area (id or ref).")] = None,
    as_user: AsOption = None,
    db: DbOption = "mineaction.gpkg",
) -> None:
    """Move the review of a find in released land (the national authority)."""
    with Register.open(db) as register:
        moved = ScopedEditor(register, _principal(register, as_user)).move_review(
            event, target, reason=reason, cause=cause, new_hazard_id=new_hazard)
    console.print(f"[green]{moved.ref}[/] is {moved['state']}")


def _number(value: object, digits: int = 0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


@task_app.command("status")
def status(
    tasks: Annotated[list[str] | None, typer.Argument(help="Tasks (id or ref); default: every task you see.")] = None,
    as_of: Day = None,
    stalled_after: Annotated[int | None, typer.Option(
        help="Days without progress before a task is stalled (default 14).", min=1)] = None,
    as_user: AsOption = None,
    db: DbOption = "mineaction.gpkg",
) -> None:
    """% done, burn rate, P50/P90 finish and days late per task, then stalled and overdue alerts."""
    from mineaction.operations.tasks import task_statuses

    with Register.open(db) as register:
        report = task_statuses(register, _principal(register, as_user), tasks=tasks or (),
                               as_of=as_of.date() if as_of else None, stalled_after_days=stalled_after)
    table = Table(title=f"Tasks on {report.as_of}")
    for column in ("task", "reference", "state", "% done", "m²/day", "m²/team-day", "P50 finish", "P90 finish",
                   "deadline", "days late"):
        table.add_column(column, justify="left" if column in ("task", "reference", "state") else "right")
    for row in report.rows:
        table.add_row(row["ref"], row["reference"], row["state"], _number(row["percent_done"], 1),
                      _number(row["m2_per_day"]), _number(row["m2_per_team_day"]), str(row["finish_p50"] or ""),
                      str(row["finish_p90"] or ""), str(row["deadline"]), _number(row["days_late"]))
    console.print(table)
    for ref, kind, what in report.alerts:
        console.print(f"[bold yellow]{kind}[/] {ref}: {what}")


def install(app: typer.Typer) -> None:
    task_app.add_typer(progress_app, name="progress")
    app.add_typer(task_app, name="task")
