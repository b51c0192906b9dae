"""What the completion forecast needs, learned from the register's own history.

* **Remaining work** per administrative area (level 2 by default), by expected
  method (:mod:`.hazards`): hazard area − released parts. Each area is split
  into its *priority land* (hazards blocking any of :data:`PRIORITY_LAND_USES`)
  and the rest, so the forecast can work priority land first and report how
  much of it a plan releases in year one.
* **Productivity** per method, from completed clearance activities: the m²
  of the activity's released parts ÷ its team-days, ``ended_on − started_on +
  1`` (one team per activity). Only clearance counts: the forecast divides the
  area *to clear* by productivity, while land cancelled by NTS or reduced by
  TS is modelled by the release share. A method with fewer than ``min_n``
  activities keeps the illustrative default, and says so.
* **Release share**: per suspected area already closed, the share of its
  released m² that was cancelled or reduced rather than cleared. With fewer
  than ``min_n`` such areas nothing is assumed to be cancelled (the
  pessimistic choice), and the source says so.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from mineaction.domain.forecast import (
    DEFAULT_MIN_SAMPLE,
    DEFAULT_PRODUCTIVITY,
    AreaWork,
    Productivity,
    ReleaseShare,
)
from mineaction.errors import InvalidValue
from mineaction.planning.hazards import LiveHazards, live_hazards
from mineaction.storage import Register, admin_ancestors, closed_suspected_release, completed_clearance

__all__ = [
    "DEFAULT_METHOD_PRODUCTIVITY",
    "PRIORITY_LAND_USES",
    "UNASSIGNED",
    "ForecastInputs",
    "area_work",
    "clearance_rates",
    "forecast_inputs",
    "learned_productivity",
    "release_share_history",
]

DEFAULT_METHOD_PRODUCTIVITY: Mapping[str, Productivity] = MappingProxyType({
    "manual": DEFAULT_PRODUCTIVITY["manual"],
    "mechanical": DEFAULT_PRODUCTIVITY["mechanical"],
    "mdd": DEFAULT_PRODUCTIVITY["dog"],
})
"""The forecast's illustrative defaults under the register's method codes (``mdd``: dogs)."""

PRIORITY_LAND_USES: frozenset[str] = frozenset({"housing", "schools", "health", "water"})
"""Blocked land uses that make a hazard's land priority land: homes and essential services."""

UNASSIGNED = "unassigned"
"""Area name for hazards outside every admin area of the gazetteer."""

_CLOSED = ("closed", "handed_over")
_PRIORITY_SUFFIX = " priority"


def clearance_rates(register: Register) -> dict[str, list[float]]:
    """m² per team-day of every completed clearance activity, by the method of its released parts."""
    rates: dict[str, list[float]] = defaultdict(list)
    for started, ended, method, m2 in completed_clearance(register):
        team_days = (ended - started).days + 1
        if team_days >= 1 and m2 > 0:  # an end before the start is a data error, not a rate
            rates[method].append(m2 / team_days)
    return dict(rates)


def learned_productivity(
    register: Register,
    *,
    defaults: Mapping[str, Productivity] = DEFAULT_METHOD_PRODUCTIVITY,
    min_n: int = DEFAULT_MIN_SAMPLE,
) -> dict[str, Productivity]:
    """Productivity per method fitted to the register's completed clearance, else the default."""
    rates = clearance_rates(register)
    return {method: Productivity.from_sample(rates.get(method, []), default=default, min_n=min_n)
            for method, default in defaults.items()}


def release_share_history(register: Register, *, min_n: int = DEFAULT_MIN_SAMPLE) -> tuple[ReleaseShare, str]:
    """Share of suspected area cancelled or reduced, from closed SHAs, and where it comes from."""
    released = closed_suspected_release(register, _CLOSED)
    shares = [(by_type.get("cancelled", 0.0) + by_type.get("reduced", 0.0)) / sum(by_type.values())
              for by_type in released.values() if sum(by_type.values()) > 0]
    if len(shares) < max(min_n, 2):
        return ReleaseShare(0.0), (f"no history ({len(shares)} closed suspected areas, fewer than {min_n}): "
                                   f"every suspected m² assumed cleared (pessimistic)")
    try:
        fitted = ReleaseShare.from_sample(shares)
    except InvalidValue:  # wider than any Beta with that mean (shares bunched at 0 and 1): cap the spread
        mean = float(np.mean(shares))
        fitted = ReleaseShare(mean, 0.99 * math.sqrt(mean * (1 - mean)))
    return fitted, f"{len(shares)} closed suspected areas: {fitted.mean:.0%} ± {fitted.sd:.0%} cancelled or reduced"


def area_work(
    hazards: LiveHazards,
    area_of: Mapping[str, str],
    priority_uses: Collection[str] = PRIORITY_LAND_USES,
) -> list[AreaWork]:
    """Remaining work per area, split into priority land (``"<area> priority"``) and the rest.

    ``area_of`` maps a hazard's admin P-code to the area it is forecast in;
    P-codes it lacks are their own area, and hazards without one are
    :data:`UNASSIGNED`. Pieces without remaining area are left out.
    """
    uses = frozenset(priority_uses)
    remaining: dict[tuple[str, bool], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    suspected: dict[tuple[str, bool], float] = defaultdict(float)
    for i, pcode in enumerate(hazards.admin_pcode):
        area = (area_of.get(pcode, pcode) if pcode else None) or UNASSIGNED
        key = (area, not uses.isdisjoint(hazards.blocked_land_use[i]))
        for method, share in hazards.expected_methods[i].items():
            remaining[key][method] += share * hazards.remaining_m2[i]
        if hazards.hazard_type[i] == "SHA":
            suspected[key] += hazards.remaining_m2[i]
    work = []
    for (area, priority), by_method in sorted(remaining.items(), key=lambda kv: (not kv[0][1], kv[0][0])):
        total = sum(by_method.values())
        if total > 0:
            work.append(AreaWork(area + _PRIORITY_SUFFIX * priority, dict(by_method),
                                 suspected_fraction=min(1.0, suspected[area, priority] / total), priority=priority))
    return work


@dataclass(frozen=True, eq=False)
class ForecastInputs:
    """Remaining work (priority land first), productivity and release share, with their sources.

    ``admin_of`` maps each piece of work to the admin area it belongs to.
    """

    areas: tuple[AreaWork, ...]
    admin_of: Mapping[str, str]
    productivity: Mapping[str, Productivity]
    release_share: ReleaseShare
    release_share_source: str
    default_methods: Mapping[str, float]
    as_of: dt.datetime

    @property
    def methods(self) -> tuple[str, ...]:
        """Methods with remaining work, each of which needs teams."""
        return tuple(sorted({m for a in self.areas for m, m2 in a.remaining_m2.items() if m2 > 0}))


def forecast_inputs(
    register: Register,
    *,
    admin_level: int = 2,
    priority_uses: Collection[str] = PRIORITY_LAND_USES,
    min_n: int = DEFAULT_MIN_SAMPLE,
) -> ForecastInputs:
    """Everything :func:`~mineaction.domain.forecast.forecast` needs except the plan."""
    land_uses = register.vocabularies().get("land_use", set())
    if unknown := set(priority_uses) - land_uses:
        raise InvalidValue(f"unknown land use(s) {', '.join(sorted(unknown))}",
                           hint=f"use codes of the land_use vocabulary: {', '.join(sorted(land_uses))}")
    hazards = live_hazards(register)
    work = area_work(hazards, admin_ancestors(register, admin_level), priority_uses)
    if not work:
        raise InvalidValue("no remaining contamination to forecast: every live hazard is fully released",
                           hint="close the released hazards, or check the register with mineaction status")
    productivity = learned_productivity(register, min_n=min_n)
    share, source = release_share_history(register, min_n=min_n)
    return ForecastInputs(
        areas=tuple(work),
        admin_of={a.name: a.name.removesuffix(_PRIORITY_SUFFIX) for a in work},
        productivity=productivity,
        release_share=share,
        release_share_source=source,
        default_methods=hazards.default_methods,
        as_of=hazards.as_of,
    )
