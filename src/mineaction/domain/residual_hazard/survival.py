"""Fractions of mines still functional, and still holding explosive, at an age.

With self-destruct (SD) and self-deactivation (SDA) independent::

    e(t) = 1 − r_sd·F_sd(t)                       still holds explosive
    f(t) = (1 − r_sd·F_sd(t)) · (1 − r_sda·F_sda(t))   still functions as a mine

``e(t) ≥ f(t)`` always, and ``e(t)`` never reaches 0 while ``r_sd < 1``: a
self-deactivated mine stops functioning as a mine but keeps its explosive and
can still be initiated by handling, burning or clearance work. ``f(t)`` is
therefore never a reason to release land; results show ``e(t)`` beside it.

Ages ``t`` are days since emplacement. Everything broadcasts: an array of
ages against a profile whose parameters are arrays (one per hazard) gives
one value per pair, e.g. ages of shape ``(n_hazards, n_dates)`` with
parameters of shape ``(n_hazards, 1)``. Negative ages (a date before
emplacement) and NaN give NaN.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mineaction.domain.residual_hazard._validation import Param, scalar_or_array
from mineaction.domain.residual_hazard.profiles import ReliabilityProfile
from mineaction.errors import InvalidValue

#: dates as ``datetime64``, ``date`` or ISO text, or whole day numbers; None (NaT) is refused by name
DatesLike: TypeAlias = ArrayLike | Sequence[dt.date | None]

__all__ = [
    "age_days",
    "day_numbers",
    "explosive_fraction",
    "functional_fraction",
    "survival_fractions",
]


def explosive_fraction(t: ArrayLike, profile: ReliabilityProfile) -> Param:
    """``e(t)``: fraction of mines still holding explosive at age ``t`` (days).

    Examples
    --------
    >>> from mineaction.domain.residual_hazard import shipped_profiles
    >>> design = shipped_profiles()["ccw-apii-design-bound"]
    >>> explosive_fraction([0, 29, 30, 10_000], design).round(12)  # never 0 while r_sd < 1
    array([1. , 1. , 0.1, 0.1])
    """
    t = as_ages(t)
    return scalar_or_array(remaining_fraction(profile.r_sd, profile.sd_time.cdf(t)))


def functional_fraction(t: ArrayLike, profile: ReliabilityProfile) -> Param:
    """``f(t)``: fraction of mines still functioning as mines at age ``t`` (days).

    Examples
    --------
    >>> from mineaction.domain.residual_hazard import shipped_profiles
    >>> design = shipped_profiles()["ccw-apii-design-bound"]
    >>> functional_fraction([30, 119, 120], design).round(12)
    array([0.1  , 0.1  , 0.001])
    >>> functional_fraction(-1, design)  # before emplacement
    nan
    """
    return survival_fractions(t, profile)[0]


def survival_fractions(t: ArrayLike, profile: ReliabilityProfile) -> tuple[Param, Param]:
    """``(f(t), e(t))`` together, sharing the self-destruct term.

    Examples
    --------
    >>> from mineaction.domain.residual_hazard import shipped_profiles
    >>> f, e = survival_fractions(365, shipped_profiles()["ccw-apii-design-bound"])
    >>> round(f, 12), round(e, 12)  # a year on, 1 in 10 mines still holds explosive
    (0.001, 0.1)
    """
    t = as_ages(t)
    explosive = remaining_fraction(profile.r_sd, profile.sd_time.cdf(t))
    functional = explosive * remaining_fraction(profile.r_sda, profile.sda_time.cdf(t))
    return scalar_or_array(functional), scalar_or_array(explosive)


def age_days(emplaced: ArrayLike, on: ArrayLike) -> NDArray[np.float64]:
    """Days from ``emplaced`` to ``on`` (dates, broadcast elementwise).

    Examples
    --------
    >>> age_days("2024-01-01", ["2024-01-31", "2024-04-30"])
    array([ 30., 120.])
    """
    return (day_numbers("on", on) - day_numbers("emplaced", emplaced)).astype(float)


def day_numbers(name: str, dates: DatesLike) -> NDArray[np.int64]:
    """Whole days since 1970-01-01 from dates (``datetime64``, ``date``, ISO text) or day counts."""
    arr = np.asarray(dates)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if arr.dtype.kind in "bfc":
        raise InvalidValue(f"{name}: expected dates or whole day numbers, got {dates!r}")
    try:
        days = arr.astype("datetime64[D]")
    except (TypeError, ValueError):
        raise InvalidValue(f"{name}: expected dates or whole day numbers, got {dates!r}") from None
    if np.isnat(days).any():
        raise InvalidValue(f"{name}: missing dates (NaT); estimate them or leave the hazard out")
    return days.astype(np.int64)


def as_ages(t: ArrayLike) -> NDArray[np.float64]:
    """Ages in days as floats, NaN before emplacement."""
    try:
        t = np.asarray(t, dtype=float)
    except (TypeError, ValueError):
        raise InvalidValue(f"t: expected ages in days (numbers), got {t!r}") from None
    return np.where(t < 0.0, np.nan, t)


def remaining_fraction(r: ArrayLike, cdf: NDArray[np.float64]) -> NDArray[np.float64]:
    """``1 − r·F``: the fraction a mechanism with success probability ``r`` has not removed.

    Written this way (not ``(1 − F) + F·(1 − r)``) because it is exactly
    non-increasing in ``F`` in floating point; the price is that a profile
    sitting exactly on a bound may land one rounding above it, which is why
    :func:`check_ccw_bounds` compares with a 1e-12 relative slack.
    """
    return 1.0 - np.multiply(r, cdf)
