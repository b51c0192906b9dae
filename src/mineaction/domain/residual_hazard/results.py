"""Result structures: e(t) always beside f(t), provenance and caveats always attached.

:class:`ResidualHazardResult` holds figures over ages (a curve, or any array
of ages); :class:`HazardGrid` holds them over hazards × calendar dates. Both
carry the profile they used, how the count was modelled and the caveats a
reader must see, starting with the one that matters most: while ``e(t) > 0``
mines still hold explosive and the land still needs survey or clearance.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mineaction.domain.residual_hazard._validation import Param
from mineaction.domain.residual_hazard.credible import Band
from mineaction.domain.residual_hazard.profiles import Provenance, ReliabilityProfile
from mineaction.errors import InvalidValue

__all__ = [
    "EXPLOSIVE_CAVEAT",
    "HazardFigures",
    "HazardGrid",
    "ResidualHazardResult",
    "hazard_caveats",
]

EXPLOSIVE_CAVEAT = (
    "e(t) is the fraction of mines still holding explosive. While e(t) > 0 the land still "
    "needs survey or clearance: a self-deactivated mine no longer functions as a mine but "
    "can still be initiated by handling, burning or clearance work, and elapsed time is "
    "never a land-release method."
)


def hazard_caveats(
    profile: ReliabilityProfile, count_model: str, level: float | None, draws: int
) -> tuple[str, ...]:
    """The notes every residual-hazard result carries, most important first.

    ``draws`` is only mentioned when there are bands (``level`` not None).
    """
    notes = [EXPLOSIVE_CAVEAT, f"Assumption: {profile.describe()}. Source: {profile.source}"]
    if profile.provenance is Provenance.DESIGN_BOUND:
        notes.append(
            "A design bound is not a field measurement; field reliability can be far worse."
        )
    if profile.illustrative:
        notes.append(
            "Illustrative example profile: the figures are not findings; "
            "do not use them for decisions."
        )
    notes.append(
        f"Initial number of mines: {count_model}. "
        "Point figures use the Beta means of r_sd and r_sda."
    )
    if level is not None:
        notes.append(
            f"Bands are {level:.0%} credible intervals over the Beta beliefs on r_sd and r_sda "
            f"({draws} Monte Carlo draws); they leave out uncertainty in the time distributions."
        )
    return tuple(notes)


@dataclass(frozen=True, eq=False, kw_only=True)
class HazardFigures:
    """The figures and bands shared by curves and grids (all arrays broadcast together)."""

    functional: Param
    explosive: Param
    p_any_functional: Param
    mean_count: Param
    count_shape: Param | None
    profile: ReliabilityProfile
    count_model: str
    caveats: tuple[str, ...]
    functional_band: Band | None = None
    explosive_band: Band | None = None
    p_any_functional_band: Band | None = None

    @property
    def expected_functional(self) -> Param:
        """Expected number of functional mines, ``μ·f`` (computed when asked)."""
        return np.multiply(self.mean_count, self.functional)

    @property
    def expected_functional_band(self) -> Band | None:
        """Band of the expected count: the ``f`` band scaled by ``μ`` (a monotone map)."""
        band = self.functional_band
        if band is None:
            return None
        return Band(
            np.multiply(self.mean_count, band.lower),
            np.multiply(self.mean_count, band.upper),
            band.level,
        )


@dataclass(frozen=True, eq=False, kw_only=True)
class ResidualHazardResult(HazardFigures):
    """Figures over ages in days (a curve for one area, or any array of ages).

    ``functional_count`` is the predictive interval for the number of
    functional mines (Beta beliefs and count model together), when bands
    were asked for.
    """

    age_days: NDArray[np.float64]
    functional_count: Band | None = None

    def rows(self) -> list[dict[str, float]]:
        """One dict per age, ``explosive`` right after ``functional`` (1-D results)."""
        if np.ndim(self.age_days) != 1:
            raise InvalidValue(
                f"rows: needs a 1-D result, got ages of shape {np.shape(self.age_days)}"
            )
        columns = self._columns()
        n = len(self.age_days)
        return [
            {name: float(np.broadcast_to(v, (n,))[i]) for name, v in columns.items()}
            for i in range(n)
        ]

    def format_table(self) -> str:
        """A plain-text table with the caveats under it, for the CLI and reports.

        Examples
        --------
        >>> from mineaction.domain.residual_hazard import assess_residual_hazard, shipped_profiles
        >>> r = assess_residual_hazard([30, 120], shipped_profiles()["ccw-apii-design-bound"], 200,
        ...                            level=None)
        >>> print(r.format_table().splitlines()[0])
        age (d)  f(t) functional  e(t) explosive  expected functional  P(≥1 functional)
        """
        headings = {
            "age_days": "age (d)",
            "functional": "f(t) functional",
            "explosive": "e(t) explosive",
            "expected_functional": "expected functional",
            "p_any_functional": "P(≥1 functional)",
        }
        if self.functional_count is not None:
            headings["functional_count"] = "number functional"
        rows = self.rows()
        cells = [[_cell(row, key) for key in headings] for row in rows]
        widths = [max(len(h), *(len(c[j]) for c in cells)) for j, h in enumerate(headings.values())]
        lines = ["  ".join(h.rjust(w) for h, w in zip(headings.values(), widths, strict=True))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
        if self.functional_band is not None:
            lines.append(f"[lower–upper]: {self.functional_band.level:.0%} credible intervals.")
        if self.functional_count is not None:
            lines.append(
                f"number functional: {self.functional_count.level:.0%} predictive interval "
                "(Beta beliefs and count model together)."
            )
        lines += [
            textwrap.fill(note, 100, initial_indent="* ", subsequent_indent="  ")
            for note in self.caveats
        ]
        return "\n".join(lines)

    def _columns(self) -> dict[str, Param]:
        columns: dict[str, Param] = {
            "age_days": self.age_days,
            "functional": self.functional,
            "explosive": self.explosive,
            "expected_functional": self.expected_functional,
            "p_any_functional": self.p_any_functional,
        }
        bands = {
            "functional": self.functional_band,
            "explosive": self.explosive_band,
            "expected_functional": self.expected_functional_band,
            "p_any_functional": self.p_any_functional_band,
            "functional_count": self.functional_count,
        }
        for name, band in bands.items():
            if band is not None:
                columns[f"{name}_lower"] = band.lower
                columns[f"{name}_upper"] = band.upper
        return columns


@dataclass(frozen=True, eq=False, kw_only=True)
class HazardGrid(HazardFigures):
    """Figures for every hazard (rows) on every date (columns).

    ``mean_count`` and ``count_shape`` have shape ``(n_hazards, 1)``; dates
    before a hazard's emplacement give NaN.
    """

    emplaced: NDArray[np.datetime64]
    on: NDArray[np.datetime64]


def _cell(row: dict[str, float], key: str) -> str:
    """The value (if any) and its interval (if any) of one column."""
    parts = []
    if key in row:
        parts.append(f"{row[key]:.0f}" if key == "age_days" else f"{row[key]:.4g}")
    if f"{key}_lower" in row:
        parts.append(f"[{row[f'{key}_lower']:.3g}–{row[f'{key}_upper']:.3g}]")
    return " ".join(parts)
