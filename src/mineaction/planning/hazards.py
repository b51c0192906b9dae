"""The live hazards a plan works on, read once from the register.

Prioritisation and the completion forecast start from the same facts per
hazard: where it is, what it holds, what land it blocks, how much of it
remains (hazard area − released parts, the ledger's rule) and which method is
expected to clear the rest. Reading them in one place keeps the ranking and
the forecast about the same land.

The expected method of a hazard is, in order of preference:

1. the method(s) of its latest technical survey or clearance activity (the
   operator already chose), split equally between them;
2. otherwise the programme's history: the share of cleared m² each method
   released so far;
3. otherwise manual clearance, the method every programme has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from mineaction.storage import Register, clearance_methods, released_area, released_by_hazard

__all__ = ["CLEARANCE_METHODS", "LIVE_STATUSES", "LiveHazards", "live_hazards"]

LIVE_STATUSES = ("active", "worked_on")
"""Hazard statuses that still hold land to release."""

CLEARANCE_METHODS = ("manual", "mechanical", "mdd")
"""Codes of the ``method`` vocabulary that clear land with teams (NTS does not)."""

_FIELDS = ("status", "hazard_type", "contamination", "blocked_land_use", "area_m2", "admin_pcode",
           "residual_profile", "emplaced_on", "estimated_items", "count_dispersion")


@dataclass(frozen=True, eq=False)
class LiveHazards:
    """Column arrays of the live hazards, in reference order.

    ``expected_methods[i]`` maps each method expected to clear hazard i to its
    share of the remaining area (shares sum to 1); ``default_methods`` is the
    split used where no activity names a method, shown so a reader can judge it.
    """

    ids: tuple[str, ...]
    refs: tuple[str, ...]
    geometries: NDArray[np.object_]
    admin_pcode: tuple[str | None, ...]
    hazard_type: tuple[str, ...]
    contamination: tuple[tuple[str, ...], ...]
    blocked_land_use: tuple[tuple[str, ...], ...]
    remaining_m2: NDArray[np.float64]
    expected_methods: tuple[Mapping[str, float], ...]
    default_methods: Mapping[str, float]
    residual_profile: tuple[str | None, ...]
    emplaced_on: tuple[dt.date | None, ...]
    estimated_items: tuple[float | None, ...]
    count_dispersion: tuple[float | None, ...]
    as_of: dt.datetime

    def __len__(self) -> int:
        return len(self.ids)


def _chosen_methods(register: Register) -> dict[str, Mapping[str, float]]:
    """Per hazard, the clearance methods of its latest TS or clearance activity."""
    chosen: dict[str, Mapping[str, float]] = {}
    for hazard_id, methods in clearance_methods(register):  # later activities overwrite earlier ones
        usable = [m for m in methods or () if m in CLEARANCE_METHODS]
        if usable:
            chosen[hazard_id] = MappingProxyType({m: 1 / len(usable) for m in usable})
    return chosen


def _history_methods(register: Register) -> Mapping[str, float]:
    """Share of cleared m² each clearance method released so far (manual if none)."""
    cleared = {row["method"]: float(row["area_m2"]) for row in released_area(register, by=("release_type", "method"))
               if row["release_type"] == "cleared" and row["method"] in CLEARANCE_METHODS}
    total = sum(cleared.values())
    if total <= 0:
        return MappingProxyType({"manual": 1.0})
    return MappingProxyType({m: cleared[m] / total for m in sorted(cleared)})


def live_hazards(register: Register) -> LiveHazards:
    """The hazards still holding land to release (status active or worked on), as columns.

    A hazard without an outline has no area and no place to measure distances
    from, so it is left out.
    """
    as_of = register.latest_change()
    features = register.features("hazard", fields=_FIELDS)
    props = features.properties
    live = [i for i, status in enumerate(props["status"])
            if status in LIVE_STATUSES and features.geometries[i] is not None]
    live.sort(key=lambda i: features.refs[i])
    ids = tuple(features.ids[i] for i in live)
    released = released_by_hazard(register)
    area = np.array([props["area_m2"][i] or 0.0 for i in live], dtype=float)
    remaining = np.maximum(area - np.array([released.get(h, 0.0) for h in ids]), 0.0)
    chosen = _chosen_methods(register)
    default = _history_methods(register)

    def column(name: str) -> tuple:
        return tuple(props[name][i] for i in live)

    return LiveHazards(
        ids=ids,
        refs=tuple(features.refs[i] for i in live),
        geometries=features.geometries[live] if live else np.empty(0, dtype=object),
        admin_pcode=column("admin_pcode"),
        hazard_type=column("hazard_type"),
        contamination=tuple(tuple(c or ()) for c in column("contamination")),
        blocked_land_use=tuple(tuple(u or ()) for u in column("blocked_land_use")),
        remaining_m2=remaining,
        expected_methods=tuple(chosen.get(h, default) for h in ids),
        default_methods=default,
        residual_profile=column("residual_profile"),
        emplaced_on=column("emplaced_on"),
        estimated_items=column("estimated_items"),
        count_dispersion=column("count_dispersion"),
        as_of=as_of,
    )
