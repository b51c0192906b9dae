"""Credible bands: propagate the Beta beliefs on r_sd and r_sda by Monte Carlo.

Point results use the Beta means: ``f`` is linear in each of the two
independent probabilities, so its mean over the beliefs is ``f`` at their
means. Its spread is not that simple, so bands come from ``draws`` joint
draws of ``(r_sd, r_sda)``, shared by every age so a band is a smooth curve.

Two shortcuts keep this exact and cheap:

* ``e = 1 − r_sd·F_sd`` is decreasing in ``r_sd``, so its quantiles are those
  of the drawn ``r_sd`` mapped through it, upper and lower swapped;
* the expected count ``μ·f`` and ``P(≥ 1 functional)`` are increasing in ``f``,
  so their bands are the ``f`` band mapped through them (quantiles commute with
  monotone maps); callers do that, nothing is re-sampled.

:func:`functional_count_interval` adds the count's own randomness (Poisson or
negative binomial around ``μ·f``) to give a predictive interval for the
number of functional mines.

Bands cover only the uncertainty in ``r_sd`` and ``r_sda``: not that in the
time distributions, nor in the mean count ``μ`` beyond its count model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mineaction.domain.residual_hazard._validation import (
    Param,
    RngLike,
    broadcast_shape,
    generator,
    parameter,
    scalar_or_array,
    whole,
)
from mineaction.domain.residual_hazard._validation import (
    level as check_level,
)
from mineaction.domain.residual_hazard.profiles import ReliabilityProfile
from mineaction.domain.residual_hazard.survival import as_ages, remaining_fraction
from mineaction.errors import InvalidValue

__all__ = ["DEFAULT_DRAWS", "Band", "fraction_bands", "functional_count_interval"]

DEFAULT_DRAWS = 4000
_CHUNK_CELLS = 1 << 22  # draws × ages held at once: 32 MiB of float64


@dataclass(frozen=True, eq=False)
class Band:
    """Equal-tailed credible (or predictive) interval at ``level``, elementwise."""

    lower: Param
    upper: Param
    level: float


def fraction_bands(
    t: ArrayLike,
    profile: ReliabilityProfile,
    *,
    level: float = 0.9,
    draws: int = DEFAULT_DRAWS,
    rng: RngLike = 0,
) -> tuple[Band, Band]:
    """Credible bands of ``f(t)`` and ``e(t)`` (in that order) for one profile.

    Examples
    --------
    >>> from mineaction.domain.residual_hazard import Beta, PointMass, ReliabilityProfile
    >>> p = ReliabilityProfile("x", PointMass(30), Beta(1, 1), PointMass(120), Beta(1, 1),
    ...                        "test report", "uniform beliefs")
    >>> f_band, e_band = fraction_bands([0, 60], p, level=0.9, draws=20_000)
    >>> [round(float(x), 2) for x in e_band.lower], [round(float(x), 2) for x in e_band.upper]
    ([1.0, 0.05], [1.0, 0.95])
    """
    ages = as_ages(t)
    d = _draw(profile, ages.ravel(), level, draws, rng)
    r_sd_q = np.quantile(d.r_sd, d.tails)
    e_lower, e_upper = remaining_fraction(r_sd_q[1], d.a), remaining_fraction(r_sd_q[0], d.a)
    f_q = np.empty((2, d.a.size))
    for part in _chunks(d.a.size, draws):
        f_q[:, part] = np.quantile(d.functional(part), d.tails, axis=0)
    return (
        Band(_shaped(f_q[0], ages.shape), _shaped(f_q[1], ages.shape), d.level),
        Band(_shaped(e_lower, ages.shape), _shaped(e_upper, ages.shape), d.level),
    )


def functional_count_interval(
    t: ArrayLike,
    profile: ReliabilityProfile,
    mean_count: ArrayLike,
    shape: ArrayLike | None = None,
    *,
    level: float = 0.9,
    draws: int = DEFAULT_DRAWS,
    rng: RngLike = 0,
) -> Band:
    """Predictive interval for the *number* of functional mines at age ``t``.

    Each draw takes ``(r_sd, r_sda)`` from their beliefs, then a count from
    the Poisson (``shape=None``) or negative binomial thinned to mean ``μ·f``.

    Examples
    --------
    >>> from mineaction.domain.residual_hazard import shipped_profiles
    >>> band = functional_count_interval(365, shipped_profiles()["degraded-field-example-a"], 200)
    >>> band.lower <= band.upper
    True
    """
    mean = parameter("mean_count", mean_count, low=0.0)
    k = None if shape is None else parameter("shape", shape, low=0.0, low_open=True)
    ages = as_ages(t)
    out_shape = broadcast_shape(
        "functional_count_interval", t=ages.shape, mean_count=np.shape(mean), shape=() if k is None else np.shape(k)
    )
    ages, mean_b, k_b = (
        np.broadcast_to(x, out_shape).ravel() for x in (ages, mean, 1.0 if k is None else k)
    )
    missing = np.isnan(ages)
    d = _draw(profile, np.where(missing, 0.0, ages), level, draws, rng)
    q = np.empty((2, ages.size))
    for part in _chunks(ages.size, draws):
        expected = d.functional(part) * mean_b[part]
        if k is None:
            counts = d.gen.poisson(expected)
        else:
            counts = d.gen.negative_binomial(k_b[part], k_b[part] / (k_b[part] + expected))
        q[:, part] = np.quantile(counts, d.tails, axis=0, method="inverted_cdf")
    q[:, missing] = np.nan
    return Band(_shaped(q[0], out_shape), _shaped(q[1], out_shape), d.level)


@dataclass(frozen=True, eq=False)
class _Draws:
    """What both bands need: CDFs at each age, joint draws of the probabilities, the tails."""

    a: NDArray[np.float64]  # F_sd at each (flattened) age
    b: NDArray[np.float64]  # F_sda at each age
    r_sd: NDArray[np.float64]  # (draws, 1)
    r_sda: NDArray[np.float64]  # (draws, 1)
    level: float
    tails: NDArray[np.float64]
    gen: np.random.Generator

    def functional(self, part: slice) -> NDArray[np.float64]:
        """``f`` for every draw (rows) and age in ``part`` (columns)."""
        return remaining_fraction(self.r_sd, self.a[part]) * remaining_fraction(
            self.r_sda, self.b[part]
        )


def _draw(
    profile: ReliabilityProfile, ages: NDArray[np.float64], level: float, draws: int, rng: RngLike
) -> _Draws:
    if profile.param_shape:
        raise InvalidValue(
            f"profile {profile.name!r}: credible bands need one profile, got parameters of shape "
            f"{profile.param_shape}; evaluate hazards with different beliefs one at a time"
        )
    level = check_level(level)
    whole("draws", draws, low=100)
    gen = generator(rng)
    return _Draws(
        a=profile.sd_time.cdf(ages),
        b=profile.sda_time.cdf(ages),
        r_sd=profile.sd_success.sample(gen, draws)[:, None],
        r_sda=profile.sda_success.sample(gen, draws)[:, None],
        level=level,
        tails=np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0]),
        gen=gen,
    )


def _chunks(n: int, draws: int) -> Iterator[slice]:
    """Column slices holding at most ``_CHUNK_CELLS`` draws × ages at once."""
    step = max(1, _CHUNK_CELLS // draws)
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def _shaped(values: NDArray[np.float64], shape: tuple[int, ...]) -> Param:
    return scalar_or_array(values.reshape(shape))
