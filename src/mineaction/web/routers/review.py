"""The review queue over HTTP: field reporters submit, reviewers approve or reject.

Parses, calls :class:`~mineaction.access.ScopedReviewQueue` (which decides
who may do what) and serialises.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from mineaction.access import ScopedReviewQueue, ShownReport
from mineaction.domain.entities import ENTITIES
from mineaction.storage.review import ReviewOutcome
from mineaction.web.deps import CurrentPrincipal, Offset, RegisterDep
from mineaction.web.schemas import GeoJSONGeometry, geometry_from_geojson

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/review", tags=["review queue"])


class ReportIn(BaseModel):
    entity: str = Field(description=f"one of {', '.join(ENTITIES)}")
    action: Literal["add", "update", "delete", "release"] = "add"
    values: dict[str, Any] = Field(default_factory=dict)
    geometry: GeoJSONGeometry | None = None
    crs: str = "EPSG:4326"
    target_id: str | None = Field(None, description="record an update or deletion applies to (id or ref)")
    base_version: int | None = Field(None, ge=1, le=2**31 - 1, description="version the field team saw")
    reason: str = Field("field report", min_length=1, max_length=2000)


class ReportOut(BaseModel):
    id: str
    ref: str
    entity: str
    action: str
    status: str
    organisation_id: str | None = Field(description="the organisation the report is for")
    values: dict[str, Any]
    geometry: dict[str, Any] | None
    withheld: list[str]
    submitted_by: str
    submitted_at: Any
    target_id: str | None
    base_version: int | None
    reviewed_by: str | None
    review_note: str | None
    record_id: str | None
    submission: dict[str, Any] | None = Field(
        None, description="the form submission it came from: source, instance_id, submitter, device, "
                          "submitted_at, updated_at, form_version, review_state (those the server gave)")
    files: list[dict[str, Any]] = Field(default_factory=list, description="photos that came with it: name, sha256, size")


class Decision(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class Outcome(BaseModel):
    approved: list[str]
    rejected: list[str]
    conflicts: list[tuple[str, str]] = Field(description="(report ref, why it conflicts)")


def _queue(request: Request, register: RegisterDep, principal: CurrentPrincipal) -> ScopedReviewQueue:
    return ScopedReviewQueue(register, principal, f"{request.method} {request.url.path}")


Queue = Annotated[ScopedReviewQueue, Depends(_queue)]


def _out(shown: ShownReport) -> ReportOut:
    r = shown.report
    return ReportOut(
        id=r.id, ref=r.ref, entity=r.entity, action=r.action, status=r.status, organisation_id=r.organisation_id,
        values=r.values, geometry=None if r.geometry is None else r.geometry.__geo_interface__,
        withheld=list(shown.withheld), submitted_by=r.submitted_by, submitted_at=r.submitted_at,
        target_id=r.target_id, base_version=r.base_version, reviewed_by=r.reviewed_by,
        review_note=r.review_note, record_id=r.record_id, submission=r.submission,
        files=[{k: f[k] for k in ("name", "sha256", "size") if k in f} for f in r.files],
    )


def _outcome(outcome: ReviewOutcome) -> Outcome:
    return Outcome(approved=outcome.approved, rejected=outcome.rejected, conflicts=outcome.conflicts)


@router.get("/reports", response_model=list[ReportOut])
def list_reports(
    queue: Queue,
    status: Annotated[Literal["submitted", "approved", "rejected", "conflict"] | None, Query()] = "submitted",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[ReportOut]:
    """Field reports of your organisations, oldest first."""
    return [_out(r) for r in queue.list(status=status, limit=limit, offset=offset)]


@router.get("/reports/{ref}", response_model=ReportOut)
def get_report(ref: str, queue: Queue) -> ReportOut:
    return _out(queue.get(ref))


@router.post("/reports", response_model=ReportOut, status_code=201)
def submit_report(body: ReportIn, queue: Queue) -> ReportOut:
    """Submit one field report for review (field reporter or above in its organisation)."""
    return _out(queue.submit(
        body.entity, body.action, body.values, geometry_from_geojson(body.geometry, body.crs), crs=body.crs,
        target_id=body.target_id, base_version=body.base_version, reason=body.reason,
    ))


@router.post("/reports/{ref}/approve", response_model=Outcome)
def approve(ref: str, body: Decision, queue: Queue) -> Outcome:
    """Apply the report to the register as a new version (the right to make that change); conflicts are reported, not forced."""
    return _outcome(queue.approve([ref], reason=body.reason))


@router.post("/reports/{ref}/reject", response_model=Outcome)
def reject(ref: str, body: Decision, queue: Queue) -> Outcome:
    """Reject the report, saying why (reviewer)."""
    return _outcome(queue.reject([ref], reason=body.reason))
