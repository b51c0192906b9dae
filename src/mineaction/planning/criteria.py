"""The prioritisation criteria of every live hazard, computed from the register and context layers.

One row per live hazard, one column per criterion; each column is a
:class:`~mineaction.domain.prioritisation.Criterion` that says what it
measures, its unit and its direction (the catalogue's where one fits):

======================== ============ ========= =================================================
criterion                unit         direction how
======================== ============ ========= =================================================
accidents_nearby         accidents    benefit   accident points within a distance, since a date
victims_nearby           victims      benefit   victims of those accidents (counts only)
population_nearby        persons      benefit   people within a distance (:mod:`.population`)
blocked_land_use         score        benefit   weighted sum of the land uses the hazard blocks
contamination_severity   score        benefit   most lethal contamination type (:data:`SEVERITY`)
contamination_confidence score 0–1    benefit   CHA 1, SHA 0.5
residual_hazard          probability  benefit   P(≥ 1 functional mine) on a date (see below)
cost_per_m2              currency/m²  cost      cost of the expected method(s), by area share
======================== ============ ========= =================================================

Residual hazard uses the residual-hazard model (a shipped reliability
profile, the estimated emplacement date and number of items) where the hazard
records them. A hazard with anti-personnel mines but no usable model scores 1
(nothing says its mines stopped functioning), one without anti-personnel
mines scores 0 (no mines to function); a self-deactivated mine still holds
explosive either way, which the notes repeat.

Victims are read as counts per accident, never as personal records.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from mineaction.domain.prioritisation import (
    STANDARD_CRITERIA,
    Criterion,
    Direction,
    ProjectedHazards,
    count_within,
    project_hazards,
)
from mineaction.domain.residual_hazard import assess_hazard_grid, shipped_profiles
from mineaction.errors import InvalidValue
from mineaction.planning.hazards import LiveHazards, live_hazards
from mineaction.planning.population import people_near
from mineaction.storage import Register, victims_per_accident

__all__ = [
    "BLOCKED_LAND_USE",
    "CONFIDENCE",
    "DEFAULT_COST_PER_M2",
    "DEFAULT_LAND_USE_WEIGHTS",
    "SEVERITY",
    "CriteriaMatrix",
    "CriteriaOptions",
    "criteria_matrix",
]

SEVERITY: Mapping[str, float] = MappingProxyType(
    {"ap_mine": 3, "cmr": 3, "ied": 3, "at_mine": 2, "uxo": 2, "axo": 1}
)
"""Lethality to civilians of each contamination code; a hazard scores its worst."""

CONFIDENCE: Mapping[str, float] = MappingProxyType({"CHA": 1.0, "SHA": 0.5})
"""Strength of the evidence by hazard type (catalogue: ``contamination_confidence``)."""

DEFAULT_LAND_USE_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"housing": 3, "schools": 3, "health": 3, "water": 3, "agriculture": 2, "roads": 2,
     "infrastructure": 1, "forest": 1}
)
"""Weight of each blocked land use: essential services first, then livelihoods and access."""

DEFAULT_COST_PER_M2: Mapping[str, float] = MappingProxyType({"manual": 3.0, "mechanical": 0.8, "mdd": 1.5})
"""Illustrative cost of clearing one m² by each method; replace with the programme's own figures."""

BLOCKED_LAND_USE = Criterion(
    "blocked_land_use",
    "land uses the hazard keeps out of use, each weighted by how essential it is "
    "(default: housing, schools, health, water 3; agriculture, roads 2; infrastructure, forest 1)",
    "score",
    Direction.BENEFIT,
)

_AP_MINE = "ap_mine"
_EVENT_LOOKBACK_YEARS = 5


@dataclass(frozen=True)
class CriteriaOptions:
    """Distances, dates, layers and scores the criteria depend on.

    ``events_since`` defaults to five years before ``on``; ``on`` (the date
    residual hazard is evaluated on) defaults to today.
    """

    on: dt.date = field(default_factory=dt.date.today)
    event_distance_m: float = 1000.0
    events_since: dt.date | None = None
    population: Path | None = None
    population_field: str = "population"
    population_distance_m: float = 1000.0
    land_use_weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_LAND_USE_WEIGHTS)
    cost_per_m2: Mapping[str, float] = field(default_factory=lambda: DEFAULT_COST_PER_M2)

    @property
    def since(self) -> dt.date:
        if self.events_since is not None:
            return self.events_since
        try:
            return self.on.replace(year=self.on.year - _EVENT_LOOKBACK_YEARS)
        except ValueError:  # 29 February
            return self.on.replace(year=self.on.year - _EVENT_LOOKBACK_YEARS, day=28)


@dataclass(frozen=True, eq=False)
class CriteriaMatrix:
    """Criteria values of the live hazards: ``values[i, j]`` is criterion j of hazard i."""

    hazards: LiveHazards
    criteria: tuple[Criterion, ...]
    values: NDArray[np.float64]
    notes: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.criteria)

    def select(self, names: Sequence[str]) -> CriteriaMatrix:
        """The matrix restricted to ``names``, in that order; unknown names are refused."""
        unknown = [n for n in names if n not in self.names]
        if unknown:
            raise InvalidValue(f"no criterion {', '.join(map(repr, unknown))} in this register",
                               hint=f"available: {', '.join(self.names)}")
        columns = [self.names.index(n) for n in names]
        return replace(self, criteria=tuple(self.criteria[j] for j in columns), values=self.values[:, columns])

    def to_frame(self) -> pd.DataFrame:
        """Raw values, one row per hazard, columns named ``criterion (unit)``."""
        frame = pd.DataFrame(self.values, columns=[f"{c.name} ({c.unit})" for c in self.criteria])
        frame.insert(0, "admin_pcode", self.hazards.admin_pcode)
        frame.insert(0, "ref", self.hazards.refs)
        return frame


def _points(register: Register, entity: str, date_field: str) -> tuple[list[str], NDArray[np.float64], list]:
    """Ids, lon/lat and dates of the located records of a point entity."""
    features = register.features(entity, fields=(date_field,))
    keep = [i for i, g in enumerate(features.geometries) if g is not None and not g.is_empty]
    xy = shapely.get_coordinates(features.geometries[keep]) if keep else np.empty((0, 2))
    return [features.ids[i] for i in keep], xy, [features.properties[date_field][i] for i in keep]


def _events(register: Register, projected: ProjectedHazards, options: CriteriaOptions) -> tuple[NDArray, NDArray, str]:
    ids, xy, dates = _points(register, "accident", "occurred_on")
    victims = victims_per_accident(register)
    counts = np.array([victims.get(i, 0) for i in ids], dtype=float)
    kwargs: dict[str, Any] = {"event_dates": np.array(dates, dtype="datetime64[D]"), "since": options.since}
    accidents = count_within(projected, xy, options.event_distance_m, **kwargs)
    near_victims = count_within(projected, xy, options.event_distance_m, weights=counts, **kwargs)
    note = (f"accidents and victims within {options.event_distance_m:,.0f} m since {options.since}: "
            f"{len(ids)} located accidents in the register")
    return accidents, near_victims, note


def _land_use(hazards: LiveHazards, weights: Mapping[str, float]) -> NDArray[np.float64]:
    return np.array([sum(weights.get(u, 0.0) for u in uses) for uses in hazards.blocked_land_use], dtype=float)


def _severity(hazards: LiveHazards) -> NDArray[np.float64]:
    return np.array([max((SEVERITY.get(c, 0) for c in kinds), default=0) for kinds in hazards.contamination],
                    dtype=float)


def _cost(hazards: LiveHazards, costs: Mapping[str, float]) -> NDArray[np.float64]:
    needed = {m for shares in hazards.expected_methods for m in shares}
    if missing := sorted(needed - set(costs)):
        raise InvalidValue(f"no cost per m² for method(s) {', '.join(missing)}",
                           hint="give every expected method a cost, e.g. --costs manual=3,mechanical=0.8,mdd=1.5")
    return np.array([sum(share * costs[m] for m, share in shares.items()) for shares in hazards.expected_methods])


def _residual_hazard(hazards: LiveHazards, on: dt.date) -> tuple[NDArray[np.float64], list[str]]:
    """P(≥ 1 functional mine) on ``on`` per hazard, modelled where possible (module notes)."""
    profiles = shipped_profiles()
    has_ap = np.array([_AP_MINE in kinds for kinds in hazards.contamination], dtype=bool)
    values = has_ap.astype(float)
    groups: dict[tuple[str, bool], list[int]] = defaultdict(list)
    unknown: set[str] = set()
    for i, code in enumerate(hazards.residual_profile):
        emplaced, items = hazards.emplaced_on[i], hazards.estimated_items[i]
        if code is None or emplaced is None or items is None or emplaced > on:
            continue
        if code in profiles:
            groups[code, hazards.count_dispersion[i] is not None].append(i)
        else:
            unknown.add(code)
    modelled = np.zeros(len(values), dtype=bool)
    caveats: dict[str, None] = {}  # ordered set: every group repeats the general caveats
    for (code, negative_binomial), rows in sorted(groups.items()):
        grid = assess_hazard_grid(
            [hazards.emplaced_on[i] for i in rows], [on], profiles[code],
            mean_count=np.array([hazards.estimated_items[i] for i in rows], dtype=float),
            shape=np.array([hazards.count_dispersion[i] for i in rows], dtype=float) if negative_binomial else None,
        )
        values[rows] = np.asarray(grid.p_any_functional)[:, 0]
        modelled[rows] = True
        caveats.update(dict.fromkeys(grid.caveats))
    used = sorted({code for code, _ in groups}) or ["none"]
    notes = [(f"residual hazard on {on}: {int(modelled.sum())} hazards modelled (profiles: {', '.join(used)}); "
              f"{int((has_ap & ~modelled).sum())} others with AP mines scored 1, the rest 0")]
    if unknown:
        notes.append(f"residual hazard: unknown profile code(s) {', '.join(sorted(unknown))} "
                     f"(shipped: {', '.join(sorted(profiles))}); those hazards were scored as unmodelled")
    return values, notes + list(caveats)


def criteria_matrix(register: Register, options: CriteriaOptions | None = None) -> CriteriaMatrix:
    """Compute every criterion the register and the given layers support for the live hazards.

    Population is left out (with a note) when there is no population to
    count; everything else is always computed.
    """
    options = options or CriteriaOptions()
    hazards = live_hazards(register)
    if len(hazards) == 0:
        raise InvalidValue("the register holds no live hazard to prioritise",
                           hint="hazards with status active or worked_on are ranked")
    projected = project_hazards(hazards.geometries, register.programme.local_crs)
    accidents, victims, events_note = _events(register, projected, options)
    people, people_note = people_near(register, projected, options.population_distance_m,
                                      source=options.population, field=options.population_field)
    residual, residual_notes = _residual_hazard(hazards, options.on)
    columns: list[tuple[Criterion, NDArray[np.float64]]] = [
        (STANDARD_CRITERIA["accidents_nearby"], accidents),
        (STANDARD_CRITERIA["victims_nearby"], victims),
    ]
    if people is not None:
        columns.append((STANDARD_CRITERIA["population_nearby"], people))
    columns += [
        (BLOCKED_LAND_USE, _land_use(hazards, options.land_use_weights)),
        (STANDARD_CRITERIA["contamination_severity"], _severity(hazards)),
        (STANDARD_CRITERIA["contamination_confidence"],
         np.array([CONFIDENCE[t] for t in hazards.hazard_type], dtype=float)),
        (STANDARD_CRITERIA["residual_hazard"], residual),
        (STANDARD_CRITERIA["cost_per_m2"], _cost(hazards, options.cost_per_m2)),
    ]
    notes = (events_note, f"population within {options.population_distance_m:,.0f} m: {people_note}",
             *residual_notes,
             "cost per m²: expected methods from each hazard's latest survey/clearance activity, else the "
             "programme's cleared area by method ("
             + ", ".join(f"{m} {s:.0%}" for m, s in hazards.default_methods.items()) + ")")
    return CriteriaMatrix(
        hazards=hazards,
        criteria=tuple(c for c, _ in columns),
        values=np.column_stack([v for _, v in columns]),
        notes=notes,
    )
