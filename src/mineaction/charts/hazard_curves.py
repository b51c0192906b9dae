"""Residual-hazard curves: f(t), e(t) and P(≥ 1 functional mine), with credible bands.

Every chart shows ``e(t)`` (explosive still present) beside ``f(t)`` and says
in words that land with ``e(t) > 0`` still needs survey or clearance; the CCW
Amended Protocol II bound points (30 and 120 days) are marked for reference,
as design bounds. Figures are drawn with Matplotlib's object API on the Agg
canvas (no pyplot state, safe in servers and tests) and saved as PNG and SVG.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from numpy.typing import ArrayLike

from mineaction.charts.figures import new_figure, save_figure
from mineaction.domain.residual_hazard import (
    Band,
    EvidenceUpdate,
    ReliabilityProfile,
    ResidualHazardResult,
    fraction_bands,
    survival_fractions,
)
from mineaction.domain.residual_hazard.ccw_bounds import (
    FUNCTIONAL_BOUND_DAYS,
    MAX_FAILED_TO_SELF_DESTRUCT,
    MAX_STILL_FUNCTIONAL,
    SELF_DESTRUCT_BOUND_DAYS,
)
from mineaction.errors import InvalidValue

__all__ = [
    "EXPLOSIVE_LABEL",
    "plot_evidence_comparison",
    "plot_hazard_curves",
    "plot_profile_comparison",
]

EXPLOSIVE_LABEL = "e(t): explosive still present — land still needs survey/clearance"
FUNCTIONAL_LABEL = "f(t): still functions as a mine"
_FOOTNOTE = (
    "A self-deactivated mine still holds explosive. Elapsed time is never a land-release method: "
    "while e(t) > 0 the land needs survey or clearance."
)
_LOG_FLOOR = 1e-9  # lowest value drawn on log axes (0 cannot be)
_COLORS = ("tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown")


def plot_hazard_curves(
    result: ResidualHazardResult,
    path: str | Path,
    *,
    log_scale: bool = False,
    title: str | None = None,
) -> tuple[Path, Path]:
    """Chart one area's curves: fractions on the left, ``P(≥ 1 functional)`` on the right.

    Parameters
    ----------
    result
        A 1-D result from :func:`~mineaction.domain.residual_hazard.assess_residual_hazard`
        (bands are drawn when it has them).
    path
        Output path without suffix; PNG and SVG are written.
    log_scale
        Logarithmic y axes, to read small fractions such as the 1-in-1000 bound.
    title
        Figure title (default: the profile and its provenance).
    """
    if np.ndim(result.age_days) != 1:
        raise InvalidValue("result: plot_hazard_curves needs a result over a 1-D array of ages")
    ages = result.age_days
    fig = new_figure(12, 5)
    left, right = fig.subplots(1, 2)
    _fraction_curves(
        left,
        ages,
        result.functional,
        result.explosive,
        result.functional_band,
        result.explosive_band,
        color=_COLORS[0],
    )
    _mark_ccw_bounds(left)
    _style(left, "fraction of mines", log_scale)
    _legend(left, [(_COLORS[0], _short_name(result.profile))], result.functional_band)
    left.set_title("Mines still functional and still explosive", fontsize="medium")
    _line_with_band(
        right, ages, result.p_any_functional, result.p_any_functional_band, color="tab:purple"
    )
    _style(right, "P(≥1 functional mine)", log_scale)
    right.legend(
        [Line2D([], [], color="tab:purple"), *_band_handle(result.p_any_functional_band)],
        ["P(≥1 functional mine)", *_band_label(result.p_any_functional_band)],
        fontsize="x-small",
    )
    right.set_title(f"Initial count: {result.count_model}", fontsize="medium")
    fig.suptitle(title or f"Residual hazard — {result.profile.describe()}", fontsize="medium")
    _footnote(fig, result.profile)
    return save_figure(fig, path)


def plot_profile_comparison(
    profiles: Sequence[ReliabilityProfile],
    path: str | Path,
    *,
    labels: Sequence[str] | None = None,
    ages: ArrayLike | None = None,
    level: float | None = 0.9,
    draws: int = 4000,
    rng: np.random.Generator | int = 0,
    log_scale: bool = True,
    title: str | None = None,
) -> tuple[Path, Path]:
    """Compare profiles (e.g. design bound against degraded field reliability).

    Each profile gets one colour: ``f(t)`` solid, ``e(t)`` dashed, with
    credible bands unless ``level`` is None. Ages default to days 0–365.
    """
    if not profiles:
        raise InvalidValue("profiles: give at least one profile to plot")
    names = list(labels) if labels is not None else [_short_name(p) for p in profiles]
    if len(names) != len(profiles):
        raise InvalidValue(f"labels: expected {len(profiles)} labels, got {len(names)}")
    t = np.arange(0.0, 366.0) if ages is None else np.asarray(ages, dtype=float)
    gen = np.random.default_rng(rng)  # one stream shared by all profiles
    fig = new_figure(10, 6)
    ax = fig.subplots()
    band = None
    for profile, color in zip(profiles, _COLORS * len(profiles)):
        f, e = survival_fractions(t, profile)
        f_band, e_band = (None, None)
        if level is not None:
            f_band, e_band = fraction_bands(t, profile, level=level, draws=draws, rng=gen)
            band = f_band
        _fraction_curves(ax, t, f, e, f_band, e_band, color=color)
    _mark_ccw_bounds(ax)
    _style(ax, "fraction of mines", log_scale)
    _legend(ax, list(zip(_COLORS * len(profiles), names)), band)
    ax.set_title(title or "Reliability profiles compared", fontsize="medium")
    _footnote(fig, *profiles)
    return save_figure(fig, path)


def plot_evidence_comparison(
    update: EvidenceUpdate,
    path: str | Path,
    *,
    ages: ArrayLike | None = None,
    level: float | None = 0.9,
    draws: int = 4000,
    rng: np.random.Generator | int = 0,
    log_scale: bool = True,
) -> tuple[Path, Path]:
    """A profile before and after clearance evidence, on the same axes."""
    finds = int(np.sum(update.finds.classified))
    return plot_profile_comparison(
        [update.prior, update.posterior],
        path,
        labels=["before finds (prior)", f"after {finds} classified finds (posterior)"],
        ages=ages,
        level=level,
        draws=draws,
        rng=rng,
        log_scale=log_scale,
        title=f"Learning from clearance finds — {update.prior.name}",
    )


def _fraction_curves(
    ax: Axes,
    t: np.ndarray,
    f: ArrayLike,
    e: ArrayLike,
    f_band: Band | None,
    e_band: Band | None,
    *,
    color: str,
) -> None:
    _line_with_band(ax, t, f, f_band, color=color)
    _line_with_band(ax, t, e, e_band, color=color, linestyle="--")


def _line_with_band(
    ax: Axes, t: np.ndarray, y: ArrayLike, band: Band | None, *, color: str, linestyle: str = "-"
) -> None:
    ax.plot(t, np.asarray(y), color=color, linestyle=linestyle)
    if band is not None:
        ax.fill_between(t, band.lower, band.upper, color=color, alpha=0.15, linewidth=0)


def _mark_ccw_bounds(ax: Axes) -> None:
    """The two Technical Annex para 3(a) bound points, as design bounds."""
    ax.plot(
        [SELF_DESTRUCT_BOUND_DAYS],
        [MAX_FAILED_TO_SELF_DESTRUCT],
        marker="v",
        color="black",
        linestyle="none",
    )
    ax.plot(
        [FUNCTIONAL_BOUND_DAYS], [MAX_STILL_FUNCTIONAL], marker="s", color="black", linestyle="none"
    )
    for day in (SELF_DESTRUCT_BOUND_DAYS, FUNCTIONAL_BOUND_DAYS):
        ax.axvline(day, color="grey", linestyle=":", linewidth=0.8)


def _legend(ax: Axes, named_colors: list[tuple[str, str]], band: Band | None) -> None:
    """Colours name the profiles; line styles say which curve means what."""
    handles: list[Artist] = [Line2D([], [], color=color, linewidth=4) for color, _ in named_colors]
    texts = [name for _, name in named_colors]
    handles += [
        Line2D([], [], color="black"),
        Line2D([], [], color="black", linestyle="--"),
        *_band_handle(band),
        Line2D([], [], marker="v", color="black", linestyle="none"),
        Line2D([], [], marker="s", color="black", linestyle="none"),
    ]
    texts += [
        FUNCTIONAL_LABEL,
        EXPLOSIVE_LABEL,
        *_band_label(band),
        "CCW APII design bound: ≤10% fail to self-destruct by day 30",
        "CCW APII design bound: ≤1/1000 still functional at day 120",
    ]
    ax.legend(
        handles, texts, fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2
    )


def _band_handle(band: Band | None) -> list[Patch]:
    return [] if band is None else [Patch(color="grey", alpha=0.3)]


def _band_label(band: Band | None) -> list[str]:
    return [] if band is None else [f"{band.level:.0%} credible band (Beta beliefs on r_sd, r_sda)"]


def _short_name(profile: ReliabilityProfile) -> str:
    text = f"{profile.name} ({profile.provenance.value})"
    return text + " — illustrative example" if profile.illustrative else text


def _style(ax: Axes, ylabel: str, log_scale: bool) -> None:
    ax.set_xlabel("days since emplacement")
    ax.set_ylabel(ylabel)
    if log_scale:
        ax.set_yscale("log")
        ax.set_ylim(
            max(_LOG_FLOOR, min(_smallest_positive(ax) / 3.0, MAX_STILL_FUNCTIONAL / 3.0)), 1.5
        )
    else:
        ax.set_ylim(0.0, 1.02)
    ax.grid(True, which="major", alpha=0.3)


def _smallest_positive(ax: Axes) -> float:
    values = [np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()]
    positive = [v[v > 0].min() for v in values if np.any(v > 0)]
    return min(positive, default=1.0)


def _footnote(fig: Figure, *profiles: ReliabilityProfile) -> None:
    lines = [_FOOTNOTE, *(f"Assumption: {p.describe()}" for p in profiles)]
    fig.supxlabel("\n".join(lines), fontsize="x-small", ha="left", x=0.01)
