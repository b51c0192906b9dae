"""The review queue over HTTP: field reporters submit, reviewers approve or reject.

Uses :mod:`mineaction.storage.review`; a report belongs to the organisation
named in its values (or owning the record it updates), and is visible,
submitted and reviewed under that organisation's roles.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Annotated, Any, Literal

import shapely
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from mineaction.access import AccessDenied, Role, ScopedReader, policy
from mineaction.access._db import one_writer
from mineaction.domain.entities import ENTITIES, clean_values, entity
from mineaction.domain.geometry import to_wgs84
from mineaction.errors import ConflictError, RecordNotFound
from mineaction.storage import review
from mineaction.web.deps import CurrentPrincipal, Offset, Reader
from mineaction.web.schemas import GeoJSONGeometry, geometry_from_geojson

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/review", tags=["review queue"])


class ReportIn(BaseModel):
    entity: str = Field(description=f"one of {', '.join(ENTITIES)}")
    action: Literal["add", "update"] = "add"
    values: dict[str, Any]
    geometry: GeoJSONGeometry | None = None
    crs: str = "EPSG:4326"
    target_id: str | None = Field(None, description="record an update applies to")
    base_version: int | None = Field(None, ge=1, le=2**31 - 1, description="version the field team saw")
    reason: str = Field("field report", min_length=1, max_length=2000)


class ReportOut(BaseModel):
    id: str
    ref: str
    entity: str
    action: str
    status: str
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


class Decision(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class Outcome(BaseModel):
    approved: list[str]
    rejected: list[str]
    conflicts: list[tuple[str, str]] = Field(description="(report ref, why it conflicts)")


def _owner(reader: ScopedReader, report: review.FieldReport) -> str | None:
    spec = entity(report.entity)
    owner = policy.owner_of(spec, report.values)
    if owner is None and report.target_id:
        try:
            owner = policy.owner_of(spec, reader.get(spec.name, report.target_id).record.values)
        except RecordNotFound:
            return None
    return owner


def _visible(reader: ScopedReader, report: review.FieldReport, role: Role) -> bool:
    spec = entity(report.entity)
    if not policy.owned(spec):
        return reader.principal.organisations(role) is None
    return reader.principal.allows(role, _owner(reader, report))


def _out(reader: ScopedReader, report: review.FieldReport) -> ReportOut:
    spec = entity(report.entity)
    values, withheld = dict(report.values), []
    if policy.personal_fields(spec):
        if policy.shows_personal(reader.principal, spec, _owner(reader, report)):
            reader.log_personal_reads(spec, [report.id])
        else:
            withheld = list(policy.personal_fields(spec))
            values.update({name: None for name in withheld})
    return ReportOut(
        id=report.id, ref=report.ref, entity=report.entity, action=report.action, status=report.status,
        values=values, geometry=None if report.geometry is None else report.geometry.__geo_interface__,
        withheld=withheld, submitted_by=report.submitted_by, submitted_at=report.submitted_at,
        target_id=report.target_id, base_version=report.base_version, reviewed_by=report.reviewed_by,
        review_note=report.review_note, record_id=report.record_id,
    )


def _find(reader: ScopedReader, ref: str, role: Role) -> review.FieldReport:
    found = review.reports(reader.register, refs=[ref])
    if not found or not _visible(reader, found[0], Role.VIEWER):
        raise RecordNotFound(f"no field report {ref!r} in the queue")
    if not _visible(reader, found[0], role):
        raise AccessDenied(f"reviewing {found[0].ref} needs the {role.code} role in its organisation")
    return found[0]


@router.get("/reports", response_model=list[ReportOut])
def list_reports(
    reader: Reader,
    status: Annotated[Literal["submitted", "approved", "rejected", "conflict"] | None, Query()] = "submitted",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[ReportOut]:
    """Field reports of your organisations, oldest first."""
    visible = (r for r in review.iter_reports(reader.register, status=status) if _visible(reader, r, Role.VIEWER))
    return [_out(reader, r) for r in itertools.islice(visible, offset, offset + limit)]


@router.get("/reports/{ref}", response_model=ReportOut)
def get_report(ref: str, reader: Reader) -> ReportOut:
    return _out(reader, _find(reader, ref, Role.VIEWER))


@router.post("/reports", response_model=ReportOut, status_code=201)
def submit_report(body: ReportIn, reader: Reader, principal: CurrentPrincipal) -> ReportOut:
    """Submit one field report for review (field reporter or above in its organisation)."""
    spec = entity(body.entity)
    owner = policy.owner_of(spec, body.values)
    if body.action == "update" and body.target_id:
        owner = owner or policy.owner_of(spec, reader.get(spec.name, body.target_id).record.values)
    if not (principal.allows(Role.FIELD_REPORTER, owner) if policy.owned(spec) else principal.organisations(Role.FIELD_REPORTER) is None):
        raise AccessDenied(f"submitting {spec.name} reports for organisation {owner} needs the field_reporter role there")
    # the register's own rules, now, so the field team learns what is wrong, not the reviewer later
    clean_values(spec, body.values, reader.register.vocabularies(), partial=body.action == "update", where="values")
    geometry = geometry_from_geojson(body.geometry, body.crs)
    if geometry is not None:
        geometry = to_wgs84(geometry, body.crs)
    payload = json.dumps(
        [spec.name, body.action, body.values, None if geometry is None else geometry.wkt, body.target_id,
         body.base_version],
        sort_keys=True, default=str,
    )
    digest = hashlib.sha256(payload.encode()).hexdigest()
    submission = review.Submission(
        entity=spec.name, action=body.action, values=json.loads(json.dumps(body.values, default=str)),
        geometry_wkb=None if geometry is None else shapely.to_wkb(geometry, output_dimension=2), content_hash=digest, source_feature=f"web form by {principal.username}",
        target_id=body.target_id, base_version=body.base_version,
    )
    source = review.ImportSource(name="web form", sha256=digest, format="web", mapping="direct")
    with one_writer(reader.register.engine):
        result = review.submit(reader.register, source, [[submission]], user=principal.username, reason=body.reason)
    if not result.submitted:
        raise ConflictError("the same report is already in the queue", hint="nothing to do: it awaits review")
    return _out(reader, review.reports(reader.register, import_id=result.import_id)[0])


@router.post("/reports/{ref}/approve", response_model=Outcome)
def approve(ref: str, body: Decision, reader: Reader, principal: CurrentPrincipal) -> Outcome:
    """Apply the report to the register as a new version (reviewer); conflicts are reported, not forced."""
    report = _find(reader, ref, Role.REVIEWER)
    with one_writer(reader.register.engine):
        outcome = review.approve(reader.register, user=principal.username, reason=body.reason, refs=[report.ref])
    return Outcome(approved=outcome.approved, rejected=outcome.rejected, conflicts=outcome.conflicts)


@router.post("/reports/{ref}/reject", response_model=Outcome)
def reject(ref: str, body: Decision, reader: Reader, principal: CurrentPrincipal) -> Outcome:
    """Reject the report, saying why (reviewer)."""
    report = _find(reader, ref, Role.REVIEWER)
    with one_writer(reader.register.engine):
        outcome = review.reject(reader.register, [report.ref], user=principal.username, reason=body.reason)
    return Outcome(approved=outcome.approved, rejected=outcome.rejected, conflicts=outcome.conflicts)
