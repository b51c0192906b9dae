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
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Principal:
    """An authenticated account and its grants: what every access decision reads."""

    account_id: str
    username: str
    grants: tuple[Grant, ...]

    def organisations(self, role: Role, *, personal_data: bool = False) -> frozenset[str] | None:
        """Organisations where the account holds at least ``role``; None means all of them."""
        orgs: set[str] = set()
        for grant in self.grants:
            if grant.role < role or (personal_data and not grant.personal_data):
                continue
            if grant.organisation_id is None:
                return ALL
            orgs.add(grant.organisation_id)
        return frozenset(orgs)

    def allows(
        self, role: Role, organisation_id: str | None, *, personal_data: bool = False, admin_pcode: str | None = None
    ) -> bool:
        """True when the account holds ``role`` for this organisation (None: a programme-wide record).

        ``admin_pcode`` (the record's admin area) is accepted for region-scoped grants, not yet used.
        """
        del admin_pcode
        orgs = self.organisations(role, personal_data=personal_data)
        if orgs is ALL:
            return True
        return organisation_id is not None and organisation_id in orgs

    @property
    def scope_key(self) -> str:
        """A short stable text naming what this principal may see, and how exactly, for cache keys."""
        keys = []
        for role in (Role.VIEWER, Role.PUBLIC):
            orgs = self.organisations(role)
            keys.append("*" if orgs is ALL else ",".join(sorted(orgs)))
        return "|".join(keys)
