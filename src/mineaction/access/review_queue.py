"""The review queue as one principal may use it: submit, list, read, approve and reject field reports.

Every interface (REST, CLI) goes through :class:`ScopedReviewQueue`, so the
queue decides in one place, with the same rules as direct edits
(:mod:`mineaction.access.policy`):

* a field report belongs to the organisation it is submitted for, which must
  be one where the submitter is a field reporter; a report on an existing
  record (update, delete, or a release by an activity) is for the
  organisation that owns that record now, and proposing to move a record to
  another organisation needs a programme-wide grant;
* reports are listed to viewers of their organisation, the scope part of the
  SQL query (:func:`mineaction.storage.review.page`), personal fields withheld
  as in every other read, and every read of them audited;
* approving asks, inside the approval's transaction, for the right to change
  each target record as it is then, and the right where each record ends up
  (:class:`ReviewPermit`); a target the reviewer may not see is "not found",
  and nothing is applied unless all of it is allowed;
* rejecting needs the reviewer role in the report's organisation.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from mineaction.access import policy
from mineaction.access.editor import RELEASE_INPUT
from mineaction.access.errors import AccessDenied
from mineaction.access.reader import ScopedReader
from mineaction.access.roles import Principal
from mineaction.domain.entities import clean_values, entity
from mineaction.domain.geometry import to_wgs84
from mineaction.errors import ConflictError, InvalidValue, RecordNotFound
from mineaction.storage import Record, Register, one_writer, review
from mineaction.storage.review_schema import REPORT_STATUSES

__all__ = ["ReviewPermit", "ScopedReviewQueue", "ShownReport"]

#: where a report submitted through :meth:`ScopedReviewQueue.submit` says it came from
WEB_SOURCE = "web form"


@dataclass(frozen=True)
class ShownReport:
    """A field report as this principal sees it; ``withheld`` names blanked fields."""

    report: review.FieldReport
    withheld: tuple[str, ...] = ()


class ReviewPermit:
    """The access layer's answer to :class:`mineaction.storage.review.Permit`: may this principal apply it?"""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    def existing(self, entity_name: str, action: str, key: str, current: Record) -> None:
        """The right to change the target as it is now; one the principal may not see is "not found"."""
        spec, found = entity(entity_name), entity(current.entity)
        owner, pcode = policy.owner_of(found, current.values), current.values.get("admin_pcode")
        if not policy.reads(self.principal, found, owner, admin_pcode=pcode):
            raise RecordNotFound(f"no {found.name} {key!r} in the register")
        policy.check_may_edit(self.principal, spec, owner, admin_pcode=pcode)

    def written(self, entity_name: str, action: str, places: set[tuple[str | None, str | None]],
                before: Record | None) -> None:
        """The right where records end up; for an update also the move rule against the version it replaced."""
        spec = entity(entity_name)
        for owner, pcode in places:
            after = {policy.OWNER_FIELD: owner, "admin_pcode": pcode}
            if before is None:
                policy.check_may_edit(self.principal, spec, owner, admin_pcode=pcode)
            else:
                policy.check_may_replace(self.principal, spec, before.values, after)


class ScopedReviewQueue:
    """The review queue for one principal; ``purpose`` names its requests in the personal-data audit log."""

    def __init__(self, register: Register, principal: Principal, purpose: str = "review queue") -> None:
        self.register = register
        self.principal = principal
        self.reader = ScopedReader(register, principal, purpose)

    # -- reading ---------------------------------------------------------------

    def list(self, *, status: str | None = "submitted", import_id: str | None = None, limit: int = 100,
             offset: int = 0) -> Sequence[ShownReport]:
        """A page of the reports of the principal's organisations, oldest first."""
        if status is not None and status not in REPORT_STATUSES:
            raise InvalidValue(f"unknown report status {status!r}", hint=f"use one of {', '.join(REPORT_STATUSES)}")
        found = review.page(self.register, organisations=policy.queue_scope(self.principal), status=status,
                            import_id=import_id, limit=limit, offset=offset)
        return self._shown(found)

    def get(self, ref: str) -> ShownReport:
        """One report by ref or id; one of another organisation is "not found"."""
        return self._shown(self._find([ref]))[0]

    def _find(self, refs: Sequence[str]) -> Sequence[review.FieldReport]:
        """The named reports (refs or ids), all of which the principal must be allowed to list."""
        found = review.page(self.register, organisations=policy.queue_scope(self.principal), refs=refs, limit=None)
        known = {r.ref for r in found} | {r.id for r in found}
        missing = [ref for ref in refs if ref not in known]
        if missing:
            raise RecordNotFound(f"no field report {', '.join(missing)} in the queue")
        return found

    def _shown(self, reports: Sequence[review.FieldReport]) -> Sequence[ShownReport]:
        """Reports with the fields the principal may not read blanked, and reads of personal fields logged."""
        out, audited = [], defaultdict(list)
        for r in reports:
            spec = entity(r.entity)
            hidden = policy.hidden_fields(self.principal, spec, r.organisation_id)
            if policy.shows_personal(self.principal, spec, r.organisation_id):
                audited[spec.name].append(r.id)
            if hidden:
                r = replace(r, values={**r.values, **dict.fromkeys(hidden)})
            out.append(ShownReport(r, hidden))
        for name, ids in audited.items():
            self.reader.log_personal_reads(entity(name), ids)
        return out

    # -- submitting --------------------------------------------------------------

    def submit(
        self,
        entity_name: str,
        action: str,
        values: dict[str, Any],
        geometry: BaseGeometry | None = None,
        *,
        crs: str = "EPSG:4326",
        target_id: str | None = None,
        base_version: int | None = None,
        reason: str,
    ) -> ShownReport:
        """Queue one field report, checked now against the register's rules, so the field team learns what is wrong."""
        spec = entity(entity_name)
        values = dict(values)
        target, owner = self._subject(spec.name, action, values, geometry, target_id, base_version)
        if geometry is not None:
            geometry = to_wgs84(geometry, crs)
        stored = json.loads(json.dumps(values, default=str))
        target_key = None if target is None or action == "release" else target.id
        payload = json.dumps([spec.name, action, stored, None if geometry is None else geometry.wkt, target_key,
                              base_version], sort_keys=True, default=str)
        digest = hashlib.sha256(payload.encode()).hexdigest()
        submission = review.Submission(
            entity=spec.name, action=action, values=stored,
            geometry_wkb=None if geometry is None else shapely.to_wkb(geometry, output_dimension=2),
            content_hash=digest, source_feature=f"{WEB_SOURCE} by {self.principal.username}",
            target_id=target_key, base_version=base_version, organisation_id=owner,
        )
        source = review.ImportSource(name=WEB_SOURCE, sha256=digest, format="web", mapping="direct")
        with one_writer(self.register):
            result = review.submit(self.register, source, [[submission]], user=self.principal.username, reason=reason)
        if result is None or not result.submitted:
            raise ConflictError("the same report is already in the queue", hint="nothing to do: it awaits review")
        return self._shown(review.reports(self.register, import_id=result.import_id))[0]

    def _subject(self, entity_name: str, action: str, values: dict[str, Any], geometry: BaseGeometry | None,
                 target_id: str | None, base_version: int | None) -> tuple[Record | None, str | None]:
        """The record a report acts on (as the submitter sees it now) and the organisation the report is for.

        Refuses, before anything is queued, what the submitter may not report
        or what the register would refuse; fills in the organisation of an
        added record when the submitter reports for exactly one.
        """
        spec = entity(entity_name)
        vocabularies = self.register.vocabularies()
        if action == "add":
            orgs = self.principal.organisations(policy.REPORT_ROLE)
            if policy.owned(spec) and policy.OWNER_FIELD not in values and orgs is not None and len(orgs) == 1:
                values[policy.OWNER_FIELD] = next(iter(orgs))
            owner = policy.owner_of(spec, values)
            policy.check_may_report(self.principal, spec, owner)
            clean_values(spec, values, vocabularies, where="values")
            return None, owner
        if action == "release":
            unknown = set(values) - set(RELEASE_INPUT)
            if spec.name != "released_part" or unknown or geometry is None or not values.get("activity_id"):
                raise InvalidValue(
                    "a release is a released_part report with values activity_id, release_type, method, "
                    f"released_on and the released geometry{f' (not {sorted(unknown)})' if unknown else ''}",
                    hint="the hazard, organisation, area and admin area are derived",
                )
            activity = self.reader.get("activity", str(values["activity_id"])).record
            owner = policy.owner_of(entity("activity"), activity.values)
            policy.check_may_report(self.principal, spec, owner)
            values["activity_id"] = activity.id
            clean_values(spec, values, vocabularies, partial=True, where="values")
            return activity, owner
        if action not in ("update", "delete"):
            raise InvalidValue(f"unknown action {action!r}", hint=f"use one of {', '.join(review.ACTIONS)}")
        if not target_id or base_version is None:
            raise InvalidValue(f"an {action} names its target_id and the base_version the field team saw")
        if action == "delete" and (values or geometry is not None):
            raise InvalidValue("a deletion takes no values or geometry", hint="give the reason instead")
        target = self.reader.get(spec.name, target_id).record
        owner = policy.owner_of(spec, target.values)
        policy.check_may_report(self.principal, spec, owner, admin_pcode=target.values.get("admin_pcode"))
        if policy.OWNER_FIELD in values:
            policy.check_may_move(self.principal, spec, policy.REPORT_ROLE, owner, values[policy.OWNER_FIELD])
        clean_values(spec, values, vocabularies, partial=True, where="values")
        return target, owner

    # -- reviewing ---------------------------------------------------------------

    def approve(self, refs: Sequence[str] | None = None, *, import_id: str | None = None,
                reason: str) -> review.ReviewOutcome:
        """Apply reports (named, or every submitted one of an import) if the principal may make each change."""
        if refs is not None:
            refs = [r.ref for r in self._find(refs)]
        with one_writer(self.register):
            return review.approve(self.register, user=self.principal.username, reason=reason, refs=refs,
                                  import_id=import_id, permit=ReviewPermit(self.principal))

    def reject(self, refs: Sequence[str], *, reason: str) -> review.ReviewOutcome:
        """Reject reports, saying why: the reviewer role in each report's organisation."""
        found = self._find(refs)
        for r in found:
            if not self.principal.allows(policy.EDIT_ROLE, r.organisation_id):
                raise AccessDenied(f"rejecting {r.ref} needs the {policy.EDIT_ROLE.code} role in its organisation")
        with one_writer(self.register):
            return review.reject(self.register, [r.ref for r in found], user=self.principal.username, reason=reason)
