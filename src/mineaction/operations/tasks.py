"""Tasks for one principal: create, move through the life cycle, report progress, status and alerts.

Every call reads and writes through :class:`~mineaction.access.ScopedReader`
and :class:`~mineaction.access.ScopedEditor`, so an operator sees and moves
only its own organisation's tasks (another's is "not found") and the party
it acts as comes from its grants (:func:`mineaction.access.policy.task_party`);
the domain checks the plan (:func:`task_order`), each progress report and
every move (:func:`check_task_transition`) in storage's unit of work.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mineaction.access import Principal, ScopedEditor, ScopedReader
from mineaction.domain.forecast import DEFAULT_PRODUCTIVITY
from mineaction.domain.operations.progress import (
    DEFAULT_STALLED_AFTER_DAYS,
    ProgressReports,
    TaskFrame,
    task_status,
)
from mineaction.domain.operations.tasks import AREA_ACTIVITIES, PROGRESS_AMOUNTS, TASK_VERBS
from mineaction.errors import InvalidValue
from mineaction.storage import Record, Register

__all__ = [
    "StatusReport",
    "add_progress",
    "create_task",
    "move_task",
    "priority_from_ranking",
    "task_progress",
    "task_statuses",
]

_TASK_FIELDS = ("ref", "reference", "activity", "state", "teams", "planned_area_m2", "planned_start", "deadline",
                "started_on", "expected_m2_per_team_day")


def priority_from_ranking(path: Path, hazards: Sequence[str]) -> dict[str, Any]:
    """The priority ``mineaction prioritise`` gave the task's hazards (its ``ranking.csv``): the best rank
    among them, its score, and why (its largest criterion contributions), with where it came from."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = {row["ref"]: row for row in csv.DictReader(handle)}
    except (OSError, KeyError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidValue(f"{path}: not a ranking written by `mineaction prioritise` ({exc})") from None
    ranked = [rows[ref] for ref in hazards if ref in rows]
    if not ranked:
        raise InvalidValue(f"{path} ranks none of the task's hazards ({', '.join(hazards) or 'none given'})",
                           hint="give the hazards by ref, and a ranking made from this register")
    best = min(ranked, key=lambda row: int(row["rank"]))
    contributions = sorted(((name.removesuffix("_contribution"), float(value)) for name, value in best.items()
                            if name.endswith("_contribution") and value not in ("", None)),
                           key=lambda item: -abs(item[1]))
    why = ", ".join(f"{name} {value:+.3f}" for name, value in contributions[:3])
    return {
        "priority_rank": int(best["rank"]), "priority_score": float(best["score"]),
        "priority_explanation": f"hazard {best['ref']} ranks {best['rank']}: largest contributions {why}",
        "priority_source": f"mineaction prioritise: {path}"[:500],
    }


def create_task(
    register: Register, principal: Principal, values: Mapping[str, Any], geometry: BaseGeometry | None = None,
    *, crs: str = "EPSG:4326", reason: str,
) -> Record:
    """A new task in draft, planned by the authority: its hazards (given by id or ref) must be visible,
    and its area is theirs unless ``geometry`` gives one."""
    reader = ScopedReader(register, principal, "task create")
    given = dict(values)
    hazards = [reader.get("hazard", str(key)).record for key in given.get("hazard_ids") or ()]
    if hazards:
        given["hazard_ids"] = [h.id for h in hazards]
    if geometry is None:
        outlines = [h.geometry for h in hazards if h.geometry is not None]
        if not outlines:
            raise InvalidValue("a task needs its hazards (hazard_ids) or an area (geometry)")
        geometry, crs = shapely.union_all(outlines), "EPSG:4326"
    return ScopedEditor(register, principal).create("task", given, geometry, crs=crs, reason=reason)


def move_task(register: Register, principal: Principal, task: str, target: str, *, reason: str,
              base_version: int | None = None) -> Record:
    """Move a task to ``target`` (a state, or a verb of :data:`TASK_VERBS`)."""
    return ScopedEditor(register, principal).move_task(task, TASK_VERBS.get(target, target),
                                                       base_version=base_version, reason=reason)


def add_progress(register: Register, principal: Principal, task: str, values: Mapping[str, Any], *,
                 reason: str) -> Record:
    """A progress report on a visible task, owned by the task's operator; stoppages need their reason."""
    shown = ScopedReader(register, principal, "task progress").get("task", task).record
    if shown["state"] not in ("in_progress", "suspended", "completed"):
        raise InvalidValue(f"task {shown.ref} is {shown['state']}: progress is reported once it is in progress")
    given = {**values, "task_id": shown.id, "organisation_id": shown["organisation_id"]}
    return ScopedEditor(register, principal).create("progress_report", given, None, crs="EPSG:4326", reason=reason)


def task_progress(register: Register, principal: Principal, task: str) -> list[Record]:
    """The progress reports of a visible task, by date."""
    reader = ScopedReader(register, principal, "task progress")
    shown = reader.get("task", task).record
    page = reader.select("progress_report", limit=None, count=False, sort=("reported_on",))
    return [s.record for s in page.items if s.record["task_id"] == shown.id]


@dataclass(frozen=True)
class StatusReport:
    """Each visible task's figures (``rows``, by ref) and the alerts (ref, kind, what)."""

    as_of: dt.date
    rows: list[dict[str, Any]]
    alerts: list[tuple[str, str, str]]


def task_statuses(
    register: Register, principal: Principal, *, as_of: dt.date | None = None, tasks: Sequence[str] = (),
    stalled_after_days: int | None = None,
) -> StatusReport:
    """% done, burn rate, P50/P90 finish, days late and stalled/overdue alerts of every visible task
    (or of ``tasks``, by id or ref), computed together by the domain's progress model."""
    reader = ScopedReader(register, principal, "task status")
    day = as_of or dt.date.today()
    frame = reader.columns("task", [f for f in _TASK_FIELDS if f != "ref"] + ["ref"])
    wanted = {reader.get("task", key).record.id for key in tasks}
    keep = [i for i, task_id in enumerate(frame["id"]) if not wanted or task_id in wanted]
    col = {name: [values[i] for i in keep] for name, values in frame.items()}
    default = DEFAULT_PRODUCTIVITY["manual"]
    position = {task_id: i for i, task_id in enumerate(col["id"])}
    tasks_frame = TaskFrame(
        ids=col["ref"],
        state=np.asarray(col["state"], dtype=str),
        area_m2=np.array([(a or 0.0) if act in AREA_ACTIVITIES else 0.0
                          for a, act in zip(col["planned_area_m2"], col["activity"], strict=True)], dtype=float),
        teams=np.asarray(col["teams"], dtype=float),
        start=np.array([s or p for s, p in zip(col["started_on"], col["planned_start"], strict=True)],
                       dtype="datetime64[D]"),
        deadline=np.array(col["deadline"], dtype="datetime64[D]"),
        fallback_median=np.array([e or default.median for e in col["expected_m2_per_team_day"]], dtype=float),
        fallback_sigma=np.full(len(keep), default.sigma),
    )
    reports = _reports(reader, position)
    status = task_status(tasks_frame, reports, day, stalled_after_days=stalled_after_days or DEFAULT_STALLED_AFTER_DAYS)
    rows = []
    for i in range(len(keep)):
        row = dict(status.row(i))
        row.update(ref=col["ref"][i], task_id=col["id"][i], reference=col["reference"][i], state=col["state"][i],
                   deadline=col["deadline"][i])
        del row["id"]
        rows.append(row)
    return StatusReport(day, rows, status.alerts())


def _reports(reader: ScopedReader, position: Mapping[str, int]) -> ProgressReports:
    """The visible progress reports of the tasks in ``position``, as the domain's column arrays."""
    fields = ["task_id", "reported_on", "method", "stoppage_reason", *PROGRESS_AMOUNTS]
    col = reader.columns("progress_report", fields)
    task = np.fromiter((position.get(t, -1) for t in col["task_id"]), dtype=np.intp, count=len(col["task_id"]))
    keep = task >= 0

    def amounts(name: str) -> np.ndarray:
        return np.nan_to_num(np.array(col[name], dtype=float)[keep])  # None (not reported) is 0

    return ProgressReports(
        task=task[keep],
        on=np.array(col["reported_on"], dtype="datetime64[D]")[keep],
        method=np.array(col["method"], dtype=str)[keep],
        **{name: amounts(name) for name in PROGRESS_AMOUNTS},
        stoppage_reason=np.array([r or "" for r in col["stoppage_reason"]], dtype=str)[keep],
    )
