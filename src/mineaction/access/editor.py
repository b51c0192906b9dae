"""Changing the register as one principal may: the access check, then the Writer.

The Writer keeps history, validation and stale-edit rules; this adds only
who may change what (:mod:`mineaction.access.policy`). A record the principal
cannot see is "not found", never "forbidden", so ids of other organisations'
records reveal nothing.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry.base import BaseGeometry

from mineaction.access import policy
from mineaction.access.reader import ScopedReader
from mineaction.access.roles import Principal
from mineaction.domain.entities import entity
from mineaction.errors import InvalidValue
from mineaction.storage import Record, Register, one_writer

__all__ = ["RELEASE_INPUT", "ScopedEditor"]

#: fields of released land given by the caller; hazard, organisation, area and admin area are derived
RELEASE_INPUT = ("activity_id", "release_type", "method", "released_on")


class ScopedEditor:
    """Create, update and delete records on behalf of one principal."""

    def __init__(self, register: Register, principal: Principal) -> None:
        self.register = register
        self.principal = principal
        self.reader = ScopedReader(register, principal, "edit")

    def create(
        self, entity_name: str, values: dict[str, Any], geometry: BaseGeometry | None, *, crs: str, reason: str
    ) -> Record:
        """A new record; released land goes through the ledger (``Writer.release``)."""
        spec = entity(entity_name)
        if spec.name == "released_part":
            return self._release(values, geometry, crs=crs, reason=reason)
        policy.check_may_edit(self.principal, spec, policy.owner_of(spec, values))
        with one_writer(self.register), self.register.write(self.principal.username, reason, "create") as w:
            return w.add(spec.name, values, geometry, crs=crs)

    def _release(self, values: dict[str, Any], geometry: BaseGeometry | None, *, crs: str, reason: str) -> Record:
        unknown = set(values) - set(RELEASE_INPUT)
        if unknown or geometry is None:
            raise InvalidValue(
                "released land is recorded from its activity: give activity_id, release_type, method, "
                f"released_on and the released geometry{f' (not {sorted(unknown)})' if unknown else ''}",
                hint="the hazard, organisation, area and admin area are derived",
            )
        activity = self.reader.get("activity", str(values.get("activity_id", "")))
        policy.check_may_edit(self.principal, entity("released_part"), activity.record["organisation_id"],
                              admin_pcode=activity.record.values.get("admin_pcode"))
        with one_writer(self.register), self.register.write(self.principal.username, reason, "release") as w:
            return w.release(
                activity_id=activity.record.id, geometry=geometry, crs=crs,
                release_type=values.get("release_type", ""), method=values.get("method", ""),
                released_on=values.get("released_on", ""),
            )

    def update(
        self,
        entity_name: str,
        record_id: str,
        *,
        base_version: int,
        values: dict[str, Any],
        geometry: BaseGeometry | None,
        crs: str,
        reason: str,
    ) -> Record:
        """A new version based on ``base_version``; moving a record to another organisation needs a programme-wide grant."""
        spec = entity(entity_name)
        current = self.reader.get(spec.name, record_id).record
        policy.check_may_replace(self.principal, spec, current.values, {**current.values, **values})
        with one_writer(self.register), self.register.write(self.principal.username, reason, "update") as w:
            return w.update(spec.name, current.id, base_version=base_version, values=values,
                            geometry=geometry, crs=crs)

    def delete(self, entity_name: str, record_id: str, *, base_version: int, reason: str) -> Record:
        spec = entity(entity_name)
        current = self.reader.get(spec.name, record_id).record
        policy.check_may_edit(self.principal, spec, policy.owner_of(spec, current.values),
                              admin_pcode=current.values.get("admin_pcode"))
        with one_writer(self.register), self.register.write(self.principal.username, reason, "delete") as w:
            return w.delete(spec.name, current.id, base_version=base_version)

    def move_review(self, event_id: str, target: str, *, reason: str, cause: str | None = None,
                    new_hazard_id: str | None = None) -> Record:
        """Move a visible residual-contamination event's review; the domain lets only the authority do it."""
        spec = entity("residual_event")
        event = self.reader.get(spec.name, event_id).record
        if new_hazard_id:
            new_hazard_id = self.reader.get("hazard", new_hazard_id).record.id
        with one_writer(self.register), self.register.write(self.principal.username, reason, "review") as w:
            return w.move_review(event.id, target, policy.task_party(self.principal), base_version=event.version,
                                 cause=cause, new_hazard_id=new_hazard_id)

    def move_task(self, task_id: str, target: str, *, base_version: int | None = None, reason: str) -> Record:
        """Move a visible task to ``target`` as the party the principal's grants make it (the domain
        decides whether that party may); ``base_version`` None: the task as it is now."""
        spec = entity("task")
        task = self.reader.get(spec.name, task_id).record
        policy.check_may_work_task(self.principal, policy.owner_of(spec, task.values),
                                   admin_pcode=task.values.get("admin_pcode"))
        with one_writer(self.register), self.register.write(self.principal.username, reason, "transition") as w:
            return w.move_task(task.id, target, policy.task_party(self.principal),
                               base_version=task.version if base_version is None else base_version)
