"""Assess residual hazard: for one area over ages, or for many hazards over calendar dates.

:func:`assess_residual_hazard` evaluates the closed forms at any array of
ages and, on request, credible bands for one profile. :func:`assess_hazard_grid`
is the register-scale path (e.g. 100,000 hazards × 365 daily dates): ages in
whole days take few distinct values, so ``f`` and ``e`` (and their bands) are
evaluated once per distinct age and gathered, which gives exactly the values
the closed forms give; only ``P(≥ 1 functional)`` is computed per cell. Rows
are processed in cache-sized blocks, optionally on several threads (NumPy
releases the GIL inside its loops).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mineaction.domain.residual_hazard._validation import RngLike, generator, parameter, whole
from mineaction.domain.residual_hazard.counts import (
    count_model_description,
    prob_any_functional,
    prob_any_into,
)
from mineaction.domain.residual_hazard.credible import (
    DEFAULT_DRAWS,
    Band,
    fraction_bands,
    functional_count_interval,
)
from mineaction.domain.residual_hazard.profiles import ReliabilityProfile
from mineaction.domain.residual_hazard.results import (
    HazardGrid,
    ResidualHazardResult,
    hazard_caveats,
)
from mineaction.domain.residual_hazard.survival import DatesLike, day_numbers, survival_fractions
from mineaction.errors import InvalidValue

__all__ = ["assess_hazard_grid", "assess_residual_hazard"]

_BLOCK_CELLS = 1 << 15  # cells per block: 256 KiB per float64 array, stays in L2 cache


def assess_residual_hazard(
    t: ArrayLike,
    profile: ReliabilityProfile,
    mean_count: ArrayLike,
    shape: ArrayLike | None = None,
    *,
    level: float | None = 0.9,
    draws: int = DEFAULT_DRAWS,
    rng: RngLike = 0,
) -> ResidualHazardResult:
    """Functional and explosive fractions, expected count and ``P(≥ 1 functional)`` at ages ``t``.

    Parameters
    ----------
    t
        Ages in days since emplacement (any shape; see :func:`age_days`).
    profile
        Reliability assumption; must be a single profile when ``level`` is set.
    mean_count, shape
        Initial number of mines: Poisson mean ``μ``, or negative binomial with
        mean ``μ`` and shape ``k``. Broadcast against ``t``.
    level
        Credible level of the bands, or None for point figures only.
    draws, rng
        Monte Carlo draws for the bands, and the generator or seed (the
        default seed keeps reports reproducible).

    Examples
    --------
    >>> from mineaction.domain.residual_hazard import shipped_profiles
    >>> r = assess_residual_hazard([30, 120, 365], shipped_profiles()["ccw-apii-design-bound"],
    ...                            mean_count=200, shape=0.5, level=None)
    >>> r.functional.round(4), r.explosive.round(4)  # e(t) stays at 1 in 10
    (array([0.1  , 0.001, 0.001]), array([0.1, 0.1, 0.1]))
    >>> r.p_any_functional.round(4)  # (1 + 200·f/0.5)^-0.5 is P(none)
    array([0.8438, 0.1548, 0.1548])
    >>> r.caveats[0][:40]
    'e(t) is the fraction of mines still hold'
    """
    mean = parameter("mean_count", mean_count, low=0.0)
    k = None if shape is None else parameter("shape", shape, low=0.0, low_open=True)
    functional, explosive = survival_fractions(t, profile)
    p_any = prob_any_functional(functional, mean, k)
    count_model = count_model_description(mean, k)
    bands: dict[str, Band] = {}
    if level is not None:
        gen = generator(rng)
        f_band, e_band = fraction_bands(t, profile, level=level, draws=draws, rng=gen)
        bands = {
            "functional_band": f_band,
            "explosive_band": e_band,
            "p_any_functional_band": Band(
                prob_any_functional(f_band.lower, mean, k),
                prob_any_functional(f_band.upper, mean, k),
                f_band.level,
            ),
            "functional_count": functional_count_interval(
                t, profile, mean, k, level=level, draws=draws, rng=gen
            ),
        }
    return ResidualHazardResult(
        age_days=np.asarray(t, dtype=float),
        functional=functional,
        explosive=explosive,
        p_any_functional=p_any,
        mean_count=mean,
        count_shape=k,
        profile=profile,
        count_model=count_model,
        caveats=hazard_caveats(profile, count_model, level, draws),
        **bands,
    )


def assess_hazard_grid(
    emplaced: DatesLike,
    on: DatesLike,
    profile: ReliabilityProfile,
    mean_count: ArrayLike,
    shape: ArrayLike | None = None,
    *,
    level: float | None = None,
    draws: int = DEFAULT_DRAWS,
    rng: RngLike = 0,
    workers: int = 1,
) -> HazardGrid:
    """Residual-hazard figures for every hazard on every date.

    Parameters
    ----------
    emplaced
        Emplacement date of each hazard (``datetime64``, ``date``, ISO text or
        whole day numbers), shape ``(n_hazards,)``.
    on
        Calendar dates to evaluate, shape ``(n_dates,)``.
    profile
        One reliability profile for all these hazards (group hazards by
        profile, or by evidence posterior, and call once per group).
    mean_count, shape
        Count model per hazard: scalars or arrays of shape ``(n_hazards,)``.
    level, draws, rng
        Credible bands (off by default: they triple the memory).
    workers
        Threads to use; rows are split between them.

    Examples
    --------
    >>> from mineaction.domain.residual_hazard import shipped_profiles
    >>> g = assess_hazard_grid(["2024-01-01", "2024-03-01"], ["2024-01-31", "2024-06-01"],
    ...                        shipped_profiles()["ccw-apii-design-bound"], mean_count=[100, 10])
    >>> g.functional.round(4)  # the second hazard is not yet emplaced on 31 January
    array([[0.1  , 0.001],
           [  nan, 0.1  ]])
    >>> g.explosive.round(4)
    array([[0.1, 0.1],
           [nan, 0.1]])
    """
    em = _dates_1d("emplaced", emplaced)
    dd = _dates_1d("on", on)
    n, m = em.size, dd.size
    mean_value = parameter("mean_count", mean_count, low=0.0)
    k_value = None if shape is None else parameter("shape", shape, low=0.0, low_open=True)
    count_model = count_model_description(mean_value, k_value)
    mean = _per_hazard("mean_count", mean_value, n)
    k = None if k_value is None else _per_hazard("shape", k_value, n)
    if profile.param_shape:
        raise InvalidValue(
            f"profile {profile.name!r}: the grid needs one profile, got parameters of shape "
            f"{profile.param_shape}; group hazards by profile and call once per group"
        )
    whole("workers", workers, low=1)
    first_age = int(dd.min() - em.max()) if n and m else 0
    table_ages = np.arange(first_age, int(dd.max() - em.min()) + 1 if n and m else 0, dtype=float)
    f_table, e_table = (np.asarray(x) for x in survival_fractions(table_ages, profile))
    tables: dict[str, ArrayLike] = {"functional": f_table, "explosive": e_table}
    probabilities = {"p_any_functional": "functional"}
    if level is not None:
        f_band, e_band = fraction_bands(
            table_ages, profile, level=level, draws=draws, rng=generator(rng)
        )
        tables |= {
            "functional_lower": f_band.lower,
            "functional_upper": f_band.upper,
            "explosive_lower": e_band.lower,
            "explosive_upper": e_band.upper,
        }
        probabilities |= {"p_lower": "functional_lower", "p_upper": "functional_upper"}
    out = {name: np.empty((n, m)) for name in (*tables, *probabilities)}

    def fill(rows: slice) -> None:
        index = np.subtract(dd[None, :], em[rows, None] + first_age)
        for name, table in tables.items():
            np.take(
                table, index, out=out[name][rows], mode="clip"
            )  # in range by construction; unbuffered
        for name, source in probabilities.items():
            prob_any_into(
                out[source][rows], mean[rows], None if k is None else k[rows], out[name][rows]
            )

    _run_blocks(fill, n, max(1, _BLOCK_CELLS // max(m, 1)), workers)
    bands: dict[str, Band] = {}
    if level is not None:
        bands = {
            "functional_band": Band(out["functional_lower"], out["functional_upper"], level),
            "explosive_band": Band(out["explosive_lower"], out["explosive_upper"], level),
            "p_any_functional_band": Band(out["p_lower"], out["p_upper"], level),
        }
    return HazardGrid(
        emplaced=em.astype("datetime64[D]"),
        on=dd.astype("datetime64[D]"),
        functional=out["functional"],
        explosive=out["explosive"],
        p_any_functional=out["p_any_functional"],
        mean_count=mean,
        count_shape=k,
        profile=profile,
        count_model=count_model,
        caveats=hazard_caveats(profile, count_model, level, draws),
        **bands,
    )


def _dates_1d(name: str, dates: DatesLike) -> NDArray[np.int64]:
    days = day_numbers(name, dates)
    if days.ndim != 1:
        raise InvalidValue(f"{name}: expected a 1-D sequence of dates, got shape {days.shape}")
    return days


def _per_hazard(name: str, value: float | NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """A per-hazard column ``(n, 1)`` from a scalar or an ``(n,)`` array."""
    if np.ndim(value) == 0:
        return np.full((n, 1), value)
    if np.shape(value) != (n,):
        raise InvalidValue(
            f"{name}: expected a number or {n} values (one per hazard), got shape {np.shape(value)}"
        )
    return np.asarray(value).reshape(n, 1)


def _run_blocks(fill: Callable[[slice], None], n: int, block: int, workers: int) -> None:
    """Call ``fill`` on consecutive row blocks, spread over ``workers`` threads."""
    blocks = [slice(start, min(n, start + block)) for start in range(0, n, block)]
    if workers == 1 or len(blocks) < 2:
        for rows in blocks:
            fill(rows)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(fill, blocks))
