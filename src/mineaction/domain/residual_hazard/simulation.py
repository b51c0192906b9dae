"""Monte Carlo over individual mines, the independent check of every closed form.

Each simulated mine draws, independently: whether self-destruct (SD) works
and when it is due; whether self-deactivation (SDA) works and when it is due.
A mine holds explosive until a working SD happens, and functions as a mine
until the first working mechanism happens. Counting mines past each age gives
estimates of ``e(t)`` and ``f(t)`` with binomial standard errors; simulating
whole areas (a Poisson or negative-binomial number of mines each) gives
``P(≥ 1 functional)`` and the expected count; simulating what clearance finds
(with detection by condition) gives the data the evidence update learns from.

Mines are generated in chunks of ``chunk_size`` (about 40 bytes per mine of a
chunk: some 40 MiB for the default million), so ten million mines need well
under 1 GiB. Results are reproducible
for a given seed and chunk size. The success probabilities are the Beta means:
the simulation checks the model, it does not propagate belief uncertainty.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mineaction.domain.residual_hazard._validation import RngLike, generator, parameter, whole
from mineaction.domain.residual_hazard.evidence import (
    EQUAL_DETECTION,
    DetectionProbability,
    FindCounts,
)
from mineaction.domain.residual_hazard.profiles import ReliabilityProfile
from mineaction.errors import InvalidValue

__all__ = [
    "AreaSimulation",
    "Estimate",
    "MineSimulation",
    "simulate_areas",
    "simulate_finds",
    "simulate_mines",
]

DEFAULT_CHUNK = 1_000_000


@dataclass(frozen=True, eq=False)
class Estimate:
    """A Monte Carlo estimate per age and its standard error."""

    value: NDArray[np.float64]
    standard_error: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class MineSimulation:
    """Simulated fractions of mines still functional and still explosive."""

    age_days: NDArray[np.float64]
    functional: Estimate
    explosive: Estimate
    n_mines: int


@dataclass(frozen=True, eq=False)
class AreaSimulation:
    """Simulated areas: share with at least one functional mine, and mean functional count."""

    age_days: NDArray[np.float64]
    p_any_functional: Estimate
    mean_functional: Estimate
    n_areas: int


def simulate_mines(
    profile: ReliabilityProfile,
    t: ArrayLike,
    n_mines: int,
    *,
    rng: RngLike,
    chunk_size: int = DEFAULT_CHUNK,
) -> MineSimulation:
    """Estimate ``f(t)`` and ``e(t)`` from ``n_mines`` simulated mines.

    Examples
    --------
    >>> from mineaction.domain.residual_hazard import shipped_profiles
    >>> sim = simulate_mines(shipped_profiles()["ccw-apii-design-bound"], [30, 120], 100_000, rng=1)
    >>> sim.explosive.value.round(2), sim.functional.value.round(3)
    (array([0.1, 0.1]), array([0.1  , 0.001]))
    """
    ages, restore = _ages_sorted(t)
    n = whole("n_mines", n_mines, low=1)
    gen = generator(rng)
    alive_f = np.zeros(ages.size)
    alive_e = np.zeros(ages.size)
    for size in _chunk_sizes(n, chunk_size):
        explosive_until, functional_until = _lifetimes(profile, size, gen)
        alive_e += _alive(explosive_until, ages)[0]
        alive_f += _alive(functional_until, ages)[0]
    return MineSimulation(
        age_days=ages[restore],
        functional=_proportion(alive_f[restore], n),
        explosive=_proportion(alive_e[restore], n),
        n_mines=n,
    )


def simulate_areas(
    profile: ReliabilityProfile,
    t: ArrayLike,
    mean_count: float,
    shape: float | None = None,
    *,
    n_areas: int,
    rng: RngLike,
    chunk_size: int = DEFAULT_CHUNK,
) -> AreaSimulation:
    """Estimate ``P(≥ 1 functional mine)`` and the mean functional count over simulated areas.

    Each area gets ``N ~ Poisson(μ)`` (``shape=None``) or negative binomial
    (mean ``μ``, shape ``k``) mines, each simulated individually.

    Examples
    --------
    >>> from mineaction.domain.residual_hazard import shipped_profiles
    >>> sim = simulate_areas(shipped_profiles()["ccw-apii-design-bound"], [120], 100.0,
    ...                      n_areas=20_000, rng=2)
    >>> round(float(sim.p_any_functional.value[0]), 2)  # closed form 1 - exp(-0.1) = 0.095
    0.1
    """
    ages, restore = _ages_sorted(t)
    mean = float(parameter("mean_count", mean_count, low=0.0))
    k = None if shape is None else float(parameter("shape", shape, low=0.0, low_open=True))
    areas = whole("n_areas", n_areas, low=1)
    gen = generator(rng)
    any_functional = np.zeros(ages.size)
    total = np.zeros(ages.size)
    total_sq = np.zeros(ages.size)
    per_chunk = max(1, int(whole("chunk_size", chunk_size, low=1) / max(mean, 1.0)))
    for size in _chunk_sizes(areas, per_chunk):
        mines = (
            gen.poisson(mean, size) if k is None else gen.negative_binomial(k, k / (k + mean), size)
        )
        _, functional_until = _lifetimes(profile, int(mines.sum()), gen)
        area = np.repeat(np.arange(size), mines)
        counts = _alive(functional_until, ages, area, size)
        any_functional += np.count_nonzero(counts, axis=0)
        total += counts.sum(axis=0)
        total_sq += (counts.astype(float) ** 2).sum(axis=0)
    mean_functional = total / areas
    variance = np.maximum(total_sq / areas - mean_functional**2, 0.0)
    return AreaSimulation(
        age_days=ages[restore],
        p_any_functional=_proportion(any_functional[restore], areas),
        mean_functional=Estimate(mean_functional[restore], np.sqrt(variance[restore] / areas)),
        n_areas=areas,
    )


def simulate_finds(
    profile: ReliabilityProfile,
    age_days: float,
    n_mines: int,
    detection: DetectionProbability = EQUAL_DETECTION,
    *,
    rng: RngLike,
    chunk_size: int = DEFAULT_CHUNK,
) -> FindCounts:
    """Condition counts clearance would record among ``n_mines`` mines of age ``age_days``.

    Self-destructed mines are found with probability ``detection.fragments``,
    the others with ``detection.intact``: the biased sample the evidence
    update must correct.
    """
    age = float(parameter("age_days", age_days, low=0.0))
    gen = generator(rng)
    found = dict.fromkeys(("self_destructed", "self_deactivated", "functional"), 0)
    for size in _chunk_sizes(whole("n_mines", n_mines, low=1), chunk_size):
        explosive_until, functional_until = _lifetimes(profile, size, gen)
        destructed = explosive_until <= age
        functional = functional_until > age
        p_find = np.where(destructed, detection.fragments, detection.intact)
        seen = gen.random(size) < p_find
        found["self_destructed"] += int(np.count_nonzero(seen & destructed))
        found["functional"] += int(np.count_nonzero(seen & functional))
        found["self_deactivated"] += int(np.count_nonzero(seen & ~destructed & ~functional))
    return FindCounts(**found)


def _lifetimes(
    profile: ReliabilityProfile, size: int, gen: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per mine: age until which it holds explosive, and until which it functions."""
    if profile.param_shape:
        raise InvalidValue(
            f"profile {profile.name!r}: simulation needs one profile, got shape {profile.param_shape}"
        )
    explosive_until = profile.sd_time.sample(gen, size)
    explosive_until[gen.random(size) >= profile.r_sd] = np.inf  # SD failed
    functional_until = profile.sda_time.sample(gen, size)
    functional_until[gen.random(size) >= profile.r_sda] = np.inf  # SDA failed
    np.minimum(functional_until, explosive_until, out=functional_until)
    return explosive_until, functional_until


def _alive(
    until: NDArray[np.float64],
    ages: NDArray[np.float64],
    group: NDArray[np.intp] | None = None,
    n_groups: int = 1,
) -> NDArray[np.int64]:
    """Mines with ``until > age`` for each sorted age, per group: shape ``(n_groups, n_ages)``.

    Without groups the chunk is sorted once and each age looked up (a SIMD sort
    beats one binary search per mine); with groups each mine's count of ages
    passed is binned per group.
    """
    if group is None:
        return (until.size - np.searchsorted(np.sort(until), ages, side="right"))[None, :]
    width = ages.size + 1
    passed = np.searchsorted(ages, until, side="left") + group * width  # ages strictly below
    hist = np.bincount(passed, minlength=n_groups * width).reshape(n_groups, width)
    return np.cumsum(hist[:, ::-1], axis=1)[:, ::-1][:, 1:]


def _ages_sorted(t: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Sorted ages and the permutation that restores the caller's order."""
    ages = np.asarray(parameter("t", t, low=0.0), dtype=float).reshape(-1)
    order = np.argsort(ages, kind="stable")
    return ages[order], np.argsort(order, kind="stable")


def _proportion(successes: NDArray[np.float64], n: int) -> Estimate:
    p = successes / n
    return Estimate(p, np.sqrt(p * (1.0 - p) / n))


def _chunk_sizes(n: int, chunk_size: int) -> Iterator[int]:
    step = whole("chunk_size", chunk_size, low=1)
    for start in range(0, n, step):
        yield min(step, n - start)
