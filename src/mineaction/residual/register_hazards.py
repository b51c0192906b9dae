"""Residual hazard for every hazard in the register, on a date.

Each hazard names its reliability profile (``residual_profile``), when its
non-persistent mines were laid (``emplaced_on``) and how many there were
thought to be (``estimated_items``, with ``count_dispersion`` as the
negative-binomial shape). Clearance finds recorded in the register, by
condition, update each profile (Beta–Binomial, corrected for how much harder
fragments of self-destructed mines are to find than intact mines). Mines in
land already released are taken out of the count in proportion to area.

The table always shows ``e(t)`` beside ``f(t)``: a self-deactivated mine
still holds explosive, and no figure here is a reason to release land.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from mineaction.domain.residual_hazard import (
    DetectionProbability,
    EvidenceUpdate,
    FindCounts,
    ReliabilityProfile,
    assess_hazard_grid,
    load_profiles,
    shipped_profiles,
    update_from_finds,
)
from mineaction.domain.residual_hazard.results import EXPLOSIVE_CAVEAT
from mineaction.errors import InvalidValue
from mineaction.storage import Register, ap_mine_conditions, released_by_hazard

__all__ = ["DEFAULT_DETECTION", "ResidualTable", "available_profiles", "evidence_by_profile", "residual_table"]

#: clearance finds intact mines more readily than the fragments a self-destructed one leaves
DEFAULT_DETECTION = DetectionProbability(intact=0.9, fragments=0.5)


@dataclass(frozen=True)
class ResidualTable:
    on: dt.date
    frame: pd.DataFrame
    evidence: dict[str, EvidenceUpdate]
    caveats: tuple[str, ...]


def available_profiles(extra: Path | None = None) -> dict[str, ReliabilityProfile]:
    """Shipped example profiles, plus the user's own from YAML (theirs win on a name clash)."""
    profiles = dict(shipped_profiles())
    if extra is not None:
        profiles.update(load_profiles(extra))
    return profiles


def _find_conditions(register: Register) -> dict[str, list[str]]:
    """Conditions of anti-personnel mines found, by the profile of the hazard they were found in."""
    conditions: dict[str, list[str]] = defaultdict(list)
    for profile, condition, quantity in ap_mine_conditions(register):
        conditions[profile] += [condition] * quantity
    return conditions


def evidence_by_profile(
    register: Register,
    profiles: dict[str, ReliabilityProfile],
    detection: DetectionProbability = DEFAULT_DETECTION,
) -> dict[str, EvidenceUpdate]:
    """Each profile updated with the finds made in hazards that use it."""
    return {
        name: update_from_finds(profiles[name], FindCounts.from_conditions(conditions), detection,
                                name=f"{name}+register-finds")
        for name, conditions in _find_conditions(register).items()
        if name in profiles
    }


def _cell(values: ArrayLike, i: int) -> Any:
    """Hazard ``i``'s figure in a grid of one date."""
    return np.asarray(values)[i, 0]


def residual_table(
    register: Register,
    on: dt.date,
    *,
    profiles: dict[str, ReliabilityProfile] | None = None,
    use_evidence: bool = True,
    level: float = 0.9,
) -> ResidualTable:
    """One row per hazard with a residual profile: f, e, expected functional mines, P(≥1), bands."""
    profiles = profiles if profiles is not None else available_profiles()
    hazards = [h for h in register.records("hazard") if h["residual_profile"]]
    unknown = sorted({h["residual_profile"] for h in hazards} - set(profiles))
    if unknown:
        raise InvalidValue(
            f"hazards name unknown reliability profile(s): {', '.join(unknown)}",
            hint=f"known profiles: {', '.join(sorted(profiles))}; add yours with --profiles FILE.yaml",
        )
    evidence = evidence_by_profile(register, profiles) if use_evidence else {}
    released = released_by_hazard(register)
    rows = []
    for name in sorted({h["residual_profile"] for h in hazards}):
        group = [h for h in hazards if h["residual_profile"] == name and h["emplaced_on"] and h["estimated_items"]]
        if not group:
            continue
        profile = evidence[name].posterior if name in evidence else profiles[name]
        remaining_share = np.array([max(h["area_m2"] - released.get(h.id, 0.0), 0.0) / h["area_m2"] for h in group])
        mean = np.array([h["estimated_items"] for h in group]) * remaining_share
        shapes = [h["count_dispersion"] for h in group]
        shape = None if any(k is None for k in shapes) else np.array(shapes, dtype=float)
        grid = assess_hazard_grid([h["emplaced_on"] for h in group], [on], profile, mean, shape, level=level)
        band = grid.p_any_functional_band
        assert band is not None  # asked for with level=
        for i, hazard in enumerate(group):
            rows.append({
                "hazard": hazard.ref,
                "admin_pcode": hazard["admin_pcode"],
                "profile": profile.name,
                "age_days": (on - hazard["emplaced_on"]).days,
                "remaining_share": remaining_share[i],
                "expected_items": mean[i],
                "f_functional": _cell(grid.functional, i),
                "e_explosive": _cell(grid.explosive, i),
                "expected_functional": _cell(grid.expected_functional, i),
                "p_any_functional": _cell(grid.p_any_functional, i),
                "p_any_functional_low": _cell(band.lower, i),
                "p_any_functional_high": _cell(band.upper, i),
            })
    frame = pd.DataFrame(rows)
    if len(frame):
        frame = frame.sort_values("p_any_functional", ascending=False, kind="stable").reset_index(drop=True)
    caveats = (EXPLOSIVE_CAVEAT, *(u.summary() for u in evidence.values()))
    return ResidualTable(on, frame, evidence, caveats)
