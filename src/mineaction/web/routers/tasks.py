"""REST API of tasks (create, move through the life cycle, report progress, status and alerts) and of
residual-contamination reviews.

Thin over :mod:`mineaction.operations.tasks`: an operator's account sees and
moves only its organisation's tasks (another's is 404), moves its party may
not make are 403, moves the life cycle does not allow are 409.
"""

# no "from __future__ import annotations": FastAPI reads the models from the signatures

import datetime as dt
import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from mineaction.operations.tasks import add_progress, create_task, move_task, task_progress, task_statuses
from mineaction.web.deps import CurrentPrincipal, Editor, Reader, RegisterDep
from mineaction.web.routers.records import ERRORS
from mineaction.web.schemas import geometry_from_geojson, record_json

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["tasks"], responses=ERRORS)

Reason = Annotated[str, Field(min_length=1, max_length=2000, description="why (kept with the change)")]


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(max_length=500)
    activity: str = Field(max_length=40)
    organisation_id: str = Field(max_length=64, description="operator organisation (id or ref)")
    planned_start: dt.date
    deadline: dt.date
    teams: float
    hazard_ids: list[str] = Field(default_factory=list, max_length=1000, description="hazards, by id or ref")
    planned_area_m2: float | None = None
    expected_m2_per_team_day: float | None = None
    priority_rank: int | None = None
    priority_score: float | None = None
    priority_explanation: str | None = Field(default=None, max_length=10_000)
    priority_source: str | None = Field(default=None, max_length=500)
    access_notes: str | None = Field(default=None, max_length=10_000)
    contact_name: str | None = Field(default=None, max_length=500)
    contact_phone: str | None = Field(default=None, max_length=500)
    geometry: dict[str, Any] | None = Field(default=None, description="GeoJSON area; default: its hazards'")
    crs: str = "EPSG:4326"
    reason: Reason


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: str = Field(max_length=40, description="a task state (issued, accepted, ...) or a verb (issue, accept, ...)")
    reason: Reason


class Review(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: str = Field(max_length=40, description="investigating, reopened, dismissed or closed")
    cause: str | None = Field(default=None, max_length=40, description="residual_cause code")
    new_hazard_id: str | None = Field(default=None, max_length=64, description="the hazard reopened over the area")
    reason: Reason


class Progress(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reported_on: dt.date
    method: str = Field(max_length=40)
    period_days: int | None = None
    searched_m2: float | None = None
    cleared_m2: float | None = None
    reduced_m2: float | None = None
    cancelled_m2: float | None = None
    items_found: int | None = None
    team_days: float | None = None
    stoppage_days: float | None = None
    stoppage_reason: str | None = Field(default=None, max_length=40)
    notes: str | None = Field(default=None, max_length=10_000)
    reason: Reason = "progress report"


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """JSON has no infinity: a finish beyond the forecast horizon is late by null days (and says so)."""
    out = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
    out["beyond_horizon"] = row.get("days_late") == math.inf
    return out


AsOfDay = Annotated[dt.date | None, Query(description="the day to compute status for (default: today)")]
StalledAfter = Annotated[int, Query(ge=1, le=3650, description="days without progress before a task is stalled")]


@router.get("/tasks", summary="Every task you see, with its status, and the alerts")
def list_tasks(register: RegisterDep, principal: CurrentPrincipal, as_of: AsOfDay = None,
               stalled_after_days: StalledAfter = 14) -> dict[str, Any]:
    report = task_statuses(register, principal, as_of=as_of, stalled_after_days=stalled_after_days)
    return {"as_of": report.as_of, "items": [_plain(r) for r in report.rows],
            "alerts": [{"task": ref, "alert": kind, "detail": what} for ref, kind, what in report.alerts]}


@router.post("/tasks", status_code=201, summary="Create a task in draft (national authority)")
def create(body: TaskCreate, register: RegisterDep, principal: CurrentPrincipal, reader: Reader,
           request: Request, response: Response) -> dict[str, Any]:
    values = body.model_dump(exclude_none=True, exclude={"geometry", "crs", "reason"})
    task = create_task(register, principal, values, geometry_from_geojson(body.geometry, body.crs), crs=body.crs,
                       reason=body.reason)
    response.headers["Location"] = str(request.url_for("get_task_order", task=task.id))
    return record_json(reader.show(task))


@router.get("/tasks/{task}", name="get_task_order", summary="One task (by id or ref)")
def get_task(task: str, reader: Reader) -> dict[str, Any]:
    return record_json(reader.get("task", task))


@router.post("/tasks/{task}/transitions", summary="Move a task (who may make each move: the task life cycle)")
def transition(task: str, body: Transition, register: RegisterDep, principal: CurrentPrincipal,
               reader: Reader) -> dict[str, Any]:
    return record_json(reader.show(move_task(register, principal, task, body.target, reason=body.reason)))


@router.get("/tasks/{task}/progress", summary="The task's progress reports, by date")
def list_progress(task: str, register: RegisterDep, principal: CurrentPrincipal, reader: Reader) -> list[dict[str, Any]]:
    return [record_json(reader.show(r)) for r in task_progress(register, principal, task)]


@router.post("/tasks/{task}/progress", status_code=201, summary="Add a progress report to the task")
def post_progress(task: str, body: Progress, register: RegisterDep, principal: CurrentPrincipal,
                  reader: Reader) -> dict[str, Any]:
    values = body.model_dump(exclude_none=True, exclude={"reason"})
    return record_json(reader.show(add_progress(register, principal, task, values, reason=body.reason)))


@router.get("/tasks/{task}/status", summary="% done, burn rate, P50/P90 finish, days late and alerts of one task")
def status(task: str, register: RegisterDep, principal: CurrentPrincipal, as_of: AsOfDay = None,
           stalled_after_days: StalledAfter = 14) -> dict[str, Any]:
    report = task_statuses(register, principal, as_of=as_of, tasks=[task], stalled_after_days=stalled_after_days)
    row = report.rows[0]
    return {**_plain(row), "as_of": report.as_of,
            "alerts": [{"alert": kind, "detail": what} for _ref, kind, what in report.alerts]}


@router.post("/residual_events/{event}/transitions", tags=["residual contamination"],
             summary="Move a residual-contamination review (national authority)")
def review(event: str, body: Review, editor: Editor, reader: Reader) -> dict[str, Any]:
    moved = editor.move_review(event, body.target, reason=body.reason, cause=body.cause,
                               new_hazard_id=body.new_hazard_id)
    return record_json(reader.show(moved))
