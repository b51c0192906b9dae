"""Roles, grants and the principal a request acts as.

A grant gives one role in one organisation, or in every organisation
(``organisation_id`` None: national authority staff). Roles are ordered, each
including the ones below it. Reading victims' personal data is never implied
by a role: it is a separate flag on a grant.

``public`` is below every mine action role: an account for a public map,
a donor or the press sees what may be published of those organisations'
records: public fields only, and restricted locations (hazards, finds,
accidents) generalised as the programme configures
(:attr:`Programme.public_locations`). Restricted data needs ``viewer`` or above.

A grant may also be scoped to a region: an admin area's pcode, covering
that area and every area below it in the gazetteer (``parent_pcode``), so
regional centres and hubs see only their own ground. A grant scoped to an
organisation and a region covers that organisation's records there. The
subtree of each region is resolved once, when the principal is loaded
(:meth:`AccountStore.principal`), and kept in :attr:`Principal.regions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from mineaction.errors import InvalidValue

__all__ = ["ALL", "Grant", "Principal", "Role"]


class Role(IntEnum):
    PUBLIC = 0
    VIEWER = 1
    FIELD_REPORTER = 2
    REVIEWER = 3
    ADMINISTRATOR = 4

    @property
    def code(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper().replace(" ", "_")]
        except KeyError:
            raise InvalidValue(
                f"unknown role {text!r}", hint=f"use one of {', '.join(r.code for r in cls)}"
            ) from None


#: stands for "every organisation" where a set of organisation ids is expected
ALL = None


@dataclass(frozen=True)
class Grant:
    organisation_id: str | None  # None: every organisation
    role: Role
    personal_data: bool = False
    region: str | None = None  # None: everywhere; else an admin area's pcode and its whole subtree

    def gives(self, role: Role, personal_data: bool) -> bool:
        return self.role >= role and (self.personal_data or not personal_data)


@dataclass(frozen=True)
class Principal:
    """An authenticated account and its grants: what every access decision reads."""

    account_id: str
    username: str
    grants: tuple[Grant, ...]
    #: each granted region's pcode → the pcodes of its subtree (a region missing here covers only itself)
    regions: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False, hash=False)

    def subtree(self, region: str) -> frozenset[str]:
        return self.regions.get(region) or frozenset({region})

    def organisations(self, role: Role, *, personal_data: bool = False) -> frozenset[str] | None:
        """Organisations where the account holds at least ``role`` (anywhere); None means all of them.

        Only a grant for every organisation and every region is "all": one for
        every organisation in a region adds no organisation here, so checks
        such as "a programme-wide administrator" never pass on a regional grant.
        """
        orgs: set[str] = set()
        for grant in self.grants:
            if not grant.gives(role, personal_data):
                continue
            if grant.organisation_id is None:
                if grant.region is None:
                    return ALL
                continue
            orgs.add(grant.organisation_id)
        return frozenset(orgs)

    def allows(
        self, role: Role, organisation_id: str | None, *, personal_data: bool = False, admin_pcode: str | None = None
    ) -> bool:
        """True when the account holds ``role`` for a record of this organisation (None: a programme-wide
        record) in the admin area ``admin_pcode`` (None: in none; a regional grant does not cover it)."""
        for grant in self.grants:
            if not grant.gives(role, personal_data):
                continue
            if grant.organisation_id is not None and grant.organisation_id != organisation_id:
                continue
            if grant.region is not None and admin_pcode not in self.subtree(grant.region):
                continue
            return True
        return False

    def covers(self, role: Role, *, personal_data: bool = False) -> bool:
        """Does ``role`` (with personal data) extend over everything the principal can read at all?

        True when each grant is matched by one giving ``role`` for the same
        organisation (or all) over the same ground (everywhere, or a region
        holding the grant's region).
        """
        givers = [g for g in self.grants if g.gives(role, personal_data)]
        return all(
            any((h.organisation_id is None or h.organisation_id == g.organisation_id)
                and (h.region is None or (g.region is not None and g.region in self.subtree(h.region)))
                for h in givers)
            for g in self.grants
        )

    @property
    def regional(self) -> bool:
        """True when any grant is scoped to a region."""
        return any(g.region is not None for g in self.grants)

    @property
    def scope_key(self) -> str:
        """A short stable text naming what this principal may see, and how exactly, for cache keys."""
        keys = []
        for role in (Role.VIEWER, Role.PUBLIC):
            orgs = self.organisations(role)
            keys.append("*" if orgs is ALL else ",".join(sorted(orgs)))
        regional = sorted(f"{g.role.code}:{g.organisation_id or '*'}@{g.region}" for g in self.grants if g.region)
        return "|".join([*keys, *regional])
