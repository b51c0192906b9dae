"""Reading the register as one principal may: scoped, redacted, audited.

Every interface that shows records (REST, OGC API, tiles, exports, reports)
reads through :class:`ScopedReader`, so organisation scope and personal-data
rules are applied in one place. Scope is a SQL condition, so pagination and
counts are right; personal fields are blanked unless granted, and every read
that shows them is logged to the append-only ``personal_data_read`` table in
the same call. A caller with only the ``public`` role for a record gets its
restricted fields blanked and its restricted location generalised
(:mod:`mineaction.access.publication`), and its bounding boxes widened.
A grant scoped to a region adds the region to the SQL condition: records
whose admin area (or their hazard's or accident's) lies in its subtree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import shapely

from mineaction.access import policy
from mineaction.access.publication import coarse_bbox, generalise_locations
from mineaction.access.roles import ALL, Principal
from mineaction.domain.entities import Entity, Sensitivity, entity
from mineaction.errors import InvalidValue, RecordNotFound
from mineaction.storage import (
    Filter,
    Record,
    Register,
    Scope,
    append_personal_reads,
    latest_changeset,
    linked_admin_pcodes,
    scoped_columns,
    scoped_counts,
    scoped_history,
    scoped_record,
    scoped_records,
    utcnow,
)

__all__ = ["SORTABLE_SYSTEM", "Page", "ScopedReader", "Shown", "Where"]

#: a checked filter of the entity being read
Where = Filter
SORTABLE_SYSTEM = ("ref", "recorded_at", "version")


@dataclass(frozen=True)
class Shown:
    """A record as this principal sees it; ``withheld`` names blanked fields (personal, or restricted)."""

    record: Record
    withheld: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    items: list[Shown]
    total: int | None


class ScopedReader:
    """Reads for one principal; ``purpose`` names the request in the audit log."""

    def __init__(self, register: Register, principal: Principal, purpose: str = "read") -> None:
        self.register = register
        self.principal = principal
        self.purpose = purpose

    # -- conditions -----------------------------------------------------------

    def scope(self, spec: Entity) -> Scope:
        """The records of ``spec`` this principal may read, as storage takes it."""
        orgs = policy.read_scope(self.principal, spec)
        owners = None if orgs is ALL else frozenset(orgs)
        if self.principal.regional and policy.owned(spec):
            return Scope(policy.OWNER_FIELD, owners, regions=self._alternatives(), entity_name=spec.name,
                         register=self.register)
        return Scope(policy.OWNER_FIELD, owners)

    def _alternatives(self) -> tuple[tuple[str | None, frozenset[str] | None], ...]:
        """Each grant as (organisation or None, the pcodes of its region or None): any one admits a record."""
        return tuple((g.organisation_id, None if g.region is None else self.principal.subtree(g.region))
                     for g in self.principal.grants)

    def _order(self, spec: Entity, sort: Sequence[str]) -> list[tuple[str, bool]]:
        allowed = set(SORTABLE_SYSTEM) | set(policy.queryable_fields(self.principal, spec))
        order = []
        for key in sort:
            name = key.lstrip("+-")
            if name not in allowed:
                raise InvalidValue(
                    f"cannot sort {spec.name} by {name!r}", hint=f"sort by one of {', '.join(sorted(allowed))}"
                )
            order.append((name, key.startswith("-")))
        return order

    # -- reads ----------------------------------------------------------------

    def select(
        self,
        entity_name: str,
        *,
        as_of: dt.datetime | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        where: Where | None = None,
        sort: Sequence[str] = (),
        limit: int | None = 100,
        offset: int = 0,
        count: bool = True,
    ) -> Page:
        """One page of visible records matching the conditions (``limit`` None: all), and the total when asked."""
        spec = entity(entity_name)
        area = None
        if bbox is not None:
            if not spec.geometry:
                raise InvalidValue(f"{spec.name} records have no geometry to filter by bbox")
            if not policy.exact_everywhere(self.principal, spec):
                bbox = coarse_bbox(self.register, bbox)
            area = shapely.box(*bbox)
        records, total = scoped_records(
            self.register, spec.name, self.scope(spec), as_of=as_of, area=area, where=where,
            sort=self._order(spec, sort), limit=limit, offset=offset, count=count,
        )
        return Page(self._show(spec, records), total)

    def get(self, entity_name: str, record_id: str, *, as_of: dt.datetime | None = None) -> Shown:
        """One visible record by id or ref; invisible and missing look the same (404)."""
        spec = entity(entity_name)
        record = scoped_record(self.register, spec.name, record_id, self.scope(spec), as_of=as_of)
        if record is None:
            when = f" as of {as_of:%Y-%m-%d %H:%M:%S}" if as_of else ""
            raise RecordNotFound(f"no {spec.name} {record_id!r} in the register{when}")
        return self._show(spec, [record])[0]

    def history(self, entity_name: str, record_id: str) -> list[Shown]:
        """Every version of a record the principal may see, oldest first."""
        spec = entity(entity_name)
        versions = scoped_history(self.register, spec.name, record_id, self.scope(spec))
        if not versions:
            raise RecordNotFound(f"no {spec.name} {record_id!r} in the register")
        return self._show(spec, versions)

    def show(self, record: Record) -> Shown:
        """Apply redaction (and audit) to a record obtained elsewhere, e.g. just written."""
        return self._show(entity(record.entity), [record])[0]

    def aggregate(
        self, entity_name: str, by: Sequence[str], *, total: str | None = None, as_of: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """Counts (and a sum of ``total``) of visible records grouped by non-personal fields."""
        spec = entity(entity_name)
        allowed = set(spec.field_map) - set(policy.personal_fields(spec))
        bad = [name for name in [*by, *([total] if total else [])] if name not in allowed]
        if bad:
            raise InvalidValue(f"cannot aggregate {spec.name} by {', '.join(bad)}")
        return scoped_counts(self.register, spec.name, by, self.scope(spec), total=total, as_of=as_of)

    def columns(self, entity_name: str, fields: Sequence[str]) -> dict[str, list[Any]]:
        """``fields`` and ``id`` of every visible record, a list per field; only fields the principal may read
        in every record it sees (no redaction row by row on this path)."""
        spec = entity(entity_name)
        allowed = set(SORTABLE_SYSTEM) | set(policy.queryable_fields(self.principal, spec))
        hidden = [name for name in fields if name not in allowed]
        if hidden:
            raise InvalidValue(f"cannot read {spec.name} field(s) {', '.join(hidden)} for every record you see")
        return scoped_columns(self.register, spec.name, fields, self.scope(spec))

    def latest_changeset(self) -> int:
        """Id of the newest changeset: changes whenever anything in the register changes."""
        return latest_changeset(self.register)

    # -- redaction and audit --------------------------------------------------

    def _show(self, spec: Entity, records: list[Record]) -> list[Shown]:
        owners = [policy.owner_of(spec, r.values) for r in records]
        areas: list[str | None] = [None] * len(records)
        if self.principal.regional and policy.owned(spec):
            areas = linked_admin_pcodes(self.register, spec.name, [r.values for r in records])
        located = spec.geometry is not None and spec.geometry_sensitivity is not Sensitivity.PUBLIC
        moved = [i for i, (o, a) in enumerate(zip(owners, areas))
                 if located and not policy.sees_restricted(self.principal, spec, o, a)]
        places = {}
        if moved:
            places = dict(zip(moved, generalise_locations(self.register, [records[i].geometry for i in moved])))
        out, audited = [], []
        for i, (r, owner, area) in enumerate(zip(records, owners, areas)):
            hidden = policy.hidden_fields(self.principal, spec, owner, area)
            if policy.shows_personal(self.principal, spec, owner, area):
                audited.append(r)
            if hidden or i in places:
                r = replace(r, values={**r.values, **dict.fromkeys(hidden)},
                            geometry=places.get(i, r.geometry))
            out.append(Shown(r, hidden))
        if audited:
            self.log_personal_reads(spec, [r.id for r in audited])
        return out

    def log_personal_reads(self, spec: Entity, record_ids: Sequence[str]) -> None:
        """Append who read the personal fields of these records, and why, to the audit log."""
        at = utcnow()
        fields = ",".join(policy.personal_fields(spec))
        rows = [
            {"read_at": at, "account_id": self.principal.account_id, "username": self.principal.username,
             "entity": spec.name, "record_id": record_id, "fields": fields, "purpose": self.purpose[:500]}
            for record_id in record_ids
        ]
        append_personal_reads(self.register, rows)
