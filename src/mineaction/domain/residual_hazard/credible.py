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
    level = check_level(level)
    gen = generator(rng)
    t = as_ages(t)
    r_sd, r_sda = _reliability_draws(profile, draws, gen)
    a = profile.sd_time.cdf(t).ravel()
    b = profile.sda_time.cdf(t).ravel()
    tails = np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    r_sd_q = np.quantile(r_sd, tails)
    e_lower, e_upper = remaining_fraction(r_sd_q[1], a), remaining_fraction(r_sd_q[0], a)
    f_q = np.empty((2, a.size))
    for part in _chunks(a.size, draws):
        f_q[:, part] = np.quantile(_functional_draws(r_sd, r_sda, a[part], b[part]), tails, axis=0)
    return (
        Band(_shaped(f_q[0], t.shape), _shaped(f_q[1], t.shape), level),
        Band(_shaped(e_lower, t.shape), _shaped(e_upper, t.shape), level),
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
    level = check_level(level)
    gen = generator(rng)
    mean = parameter("mean_count", mean_count, low=0.0)
    k = None if shape is None else parameter("shape", shape, low=0.0, low_open=True)
    t = as_ages(t)
    out_shape = broadcast_shape(
        "functional_count_interval", t=t.shape, mean_count=np.shape(mean), shape=np.shape(k)
    )
    t, mean_b, k_b = np.broadcast_arrays(t, mean, 1.0 if k is None else k)
    r_sd, r_sda = _reliability_draws(profile, draws, gen)
    a = profile.sd_time.cdf(t).ravel()
    b = profile.sda_time.cdf(t).ravel()
    missing = np.isnan(a) | np.isnan(b)
    a, b = np.where(missing, 0.0, a), np.where(missing, 0.0, b)
    mean_b, k_b = mean_b.ravel(), k_b.ravel()
    tails = np.array([(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    q = np.empty((2, a.size))
    for part in _chunks(a.size, draws):
        expected = _functional_draws(r_sd, r_sda, a[part], b[part]) * mean_b[part]
        if k is None:
            counts = gen.poisson(expected)
        else:
            counts = gen.negative_binomial(k_b[part], k_b[part] / (k_b[part] + expected))
        q[:, part] = np.quantile(counts, tails, axis=0, method="inverted_cdf")
    q[:, missing] = np.nan
    return Band(_shaped(q[0], out_shape), _shaped(q[1], out_shape), level)


def _reliability_draws(
    profile: ReliabilityProfile, draws: int, gen: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if profile.shape:
        raise InvalidValue(
            f"profile {profile.name!r}: credible bands need one profile, got parameters of shape "
            f"{profile.shape}; evaluate hazards with different beliefs one at a time"
        )
    whole("draws", draws, low=100)
    return profile.sd_success.sample(gen, draws)[:, None], profile.sda_success.sample(gen, draws)[
        :, None
    ]


def _functional_draws(
    r_sd: NDArray[np.float64],
    r_sda: NDArray[np.float64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``f`` for every draw (rows) and age (columns)."""
    return remaining_fraction(r_sd, a) * remaining_fraction(r_sda, b)


def _chunks(n: int, draws: int) -> Iterator[slice]:
    step = max(1, _CHUNK_CELLS // draws)
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def _shaped(values: NDArray[np.float64], shape: tuple[int, ...]) -> Param:
    return scalar_or_array(values.reshape(shape))
