"""Completion dates per admin area and nationally, for a plan and for a what-if.

The forecast itself is :func:`mineaction.domain.forecast.forecast`; this
module chooses the work order, runs it on :class:`.ForecastInputs`, and
gathers the pieces of each admin area (its priority land and the rest) back
into one completion date: an area is complete when its last piece is, run by
run, and the quantiles are taken over those runs.

Work orders:

``priority-first``
    priority land of every area first, then the rest (the default: what a
    planning unit asks for);
``area-by-area``
    one admin area after another, its priority land first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from mineaction.domain.forecast import (
    DEFAULT_RUNS,
    AreaWork,
    Forecast,
    Plan,
    WhatIf,
    what_if,
    working_days_to_date,
)
from mineaction.domain.forecast import forecast as run_forecast
from mineaction.errors import InvalidValue
from mineaction.planning.forecast_inputs import ForecastInputs
from mineaction.planning.hazards import CLEARANCE_METHODS

__all__ = ["ORDERS", "Comparison", "Completion", "compare_plans", "forecast_completion", "plan"]

Order = Literal["priority-first", "area-by-area"]
ORDERS: tuple[Order, ...] = ("priority-first", "area-by-area")
_QUANTILES = (0.5, 0.9)


def plan(inputs: ForecastInputs, teams: Mapping[str, float], order: Order = "priority-first") -> Plan:
    """A plan for ``inputs``: the teams, and the areas in the chosen order."""
    if order not in ORDERS:
        raise InvalidValue(f"unknown order {order!r}", hint=f"use one of {', '.join(ORDERS)}")
    if unknown := sorted(set(teams) - set(CLEARANCE_METHODS)):
        raise InvalidValue(f"teams for unknown method(s) {', '.join(unknown)}",
                           hint=f"clearance methods are {', '.join(CLEARANCE_METHODS)}")
    if missing := [m for m in inputs.methods if m not in teams]:
        raise InvalidValue(
            f"remaining land is expected to need {', '.join(missing)}, but the plan gives no teams for it",
            hint="give every method a number of teams (0 for none), e.g. --teams " +
                 ",".join(f"{m}=2" for m in inputs.methods))
    names = [a.name for a in inputs.areas]  # priority land first already
    if order == "area-by-area":
        names.sort(key=lambda name: (inputs.admin_of[name], name == inputs.admin_of[name]))
    return Plan(dict(teams), names)


@dataclass(frozen=True, eq=False)
class Completion:
    """One plan's forecast, read per admin area."""

    inputs: ForecastInputs
    plan: Plan
    forecast: Forecast

    @property
    def admin_areas(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.inputs.admin_of.values())))

    def _finish(self, admin: str) -> np.ndarray:
        columns = [j for j, name in enumerate(self.forecast.areas) if self.inputs.admin_of[name] == admin]
        return self.forecast.finish[:, columns].max(axis=1)

    def completion(self, q: float) -> dict[str, dt.date | None]:
        """Date each admin area is complete by with probability ``q`` (None: never, a method has no teams)."""
        fc = self.forecast
        return {admin: working_days_to_date(fc.start, float(np.quantile(self._finish(admin), q, method="inverted_cdf")),
                                            fc.working_days_per_year)
                for admin in self.admin_areas}

    def table(self) -> pd.DataFrame:
        """Per admin area and nationally: remaining m², suspected share, P50 and P90 completion."""
        rows = []
        dates = {q: self.completion(q) for q in _QUANTILES}
        for admin in self.admin_areas:
            pieces = [a for a in self.inputs.areas if self.inputs.admin_of[a.name] == admin]
            rows.append(self._row(admin, pieces, {q: dates[q][admin] for q in _QUANTILES}))
        rows.append(self._row("national", list(self.inputs.areas),
                              {q: self.forecast.national_completion(q) for q in _QUANTILES}))
        return pd.DataFrame(rows)

    @staticmethod
    def _row(name: str, pieces: list[AreaWork], when: Mapping[float, dt.date | None]) -> dict[str, object]:
        total = sum(sum(a.remaining_m2.values()) for a in pieces)
        priority = sum(sum(a.remaining_m2.values()) for a in pieces if a.priority)
        suspected = sum(a.suspected_fraction * sum(a.remaining_m2.values()) for a in pieces)
        return {"area": name, "remaining_m2": total, "priority_m2": priority,
                "suspected_share": suspected / total if total else 0.0,
                **{f"p{int(q * 100)}": when[q] for q in _QUANTILES}}


@dataclass(frozen=True, eq=False)
class Comparison:
    """Two plans for the same work, forecast with the same random numbers."""

    base: Completion
    alternative: Completion
    what_if: WhatIf

    def table(self) -> pd.DataFrame:
        """Per quantile: national completion under each plan, the change in days, and the change in
        priority land released in year one."""
        rows = []
        for q in _QUANTILES:
            rows.append({
                "quantile": f"P{int(q * 100)}",
                "base_completion": self.base.forecast.national_completion(q),
                "alternative_completion": self.alternative.forecast.national_completion(q),
                "completion_change_days": self.what_if.completion_change_days(q),
                "priority_m2_year_one_base": float(np.quantile(self.base.forecast.priority_year_one, q)),
                "priority_m2_year_one_change": self.what_if.priority_year_one_change_m2(q),
            })
        return pd.DataFrame(rows)


def forecast_completion(
    inputs: ForecastInputs,
    teams: Mapping[str, float],
    *,
    order: Order = "priority-first",
    start: dt.date,
    working_days_per_year: float = 220.0,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
) -> Completion:
    """Monte Carlo completion of the remaining work with ``teams`` per method."""
    chosen = plan(inputs, teams, order)
    fc = run_forecast(inputs.areas, chosen, inputs.productivity, inputs.release_share, start=start,
                      working_days_per_year=working_days_per_year, runs=runs, seed=seed)
    return Completion(inputs, chosen, fc)


def compare_plans(
    inputs: ForecastInputs,
    base: tuple[Mapping[str, float], Order],
    alternative: tuple[Mapping[str, float], Order],
    *,
    start: dt.date,
    working_days_per_year: float = 220.0,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
) -> Comparison:
    """Forecast two plans (teams, order) with common random numbers, so the difference is the plan's."""
    base_plan, alt_plan = plan(inputs, *base), plan(inputs, *alternative)
    result = what_if(inputs.areas, base_plan, alt_plan, inputs.productivity, inputs.release_share,
                     start=start, working_days_per_year=working_days_per_year, runs=runs, seed=seed)
    return Comparison(Completion(inputs, base_plan, result.base),
                      Completion(inputs, alt_plan, result.alternative), result)
