"""Monte Carlo over individual mines against every closed form, with binomial tolerances."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy import stats

from mineaction.domain.residual_hazard import (
    DetectionProbability,
    Gamma,
    LogNormal,
    PointMass,
    Weibull,
    prob_any_functional,
    shipped_profiles,
    simulate_areas,
    simulate_finds,
    simulate_mines,
    survival_fractions,
)
from mineaction.errors import InvalidValue
from tests.domain.test_residual_hazard_support import make_profile

AGES = np.array([0.0, 10.0, 25.0, 30.0, 45.0, 90.0, 120.0, 200.0, 400.0])
PROFILES = {
    **shipped_profiles(),
    "weibull-gamma": make_profile(
        sd_time=Weibull(2.5, 20.0), r_sd=0.7, sda_time=Gamma(3.0, 40.0), r_sda=0.9
    ),
    "late-lognormal": make_profile(
        sd_time=LogNormal(60.0, 0.8), r_sd=0.5, sda_time=PointMass(45.0), r_sda=0.6
    ),
}
SEEDS = range(30)
N_MINES = 20_000


def _z_scores(estimate: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    """Standardised errors with the closed form's binomial standard error sqrt(p(1-p)/n)."""
    se = np.sqrt(p * (1.0 - p) / n)
    degenerate = se == 0.0
    # Where p is 0 or 1 the simulation must match exactly.
    assert np.all(estimate[degenerate] == p[degenerate])
    return (estimate[~degenerate] - p[~degenerate]) / se[~degenerate]


@pytest.mark.parametrize("name", list(PROFILES))
def test_mine_simulation_agrees_with_the_closed_forms_over_many_seeds(name: str) -> None:
    profile = PROFILES[name]
    f, e = survival_fractions(AGES, profile)
    z = []
    for seed in SEEDS:
        sim = simulate_mines(profile, AGES, N_MINES, rng=seed, chunk_size=7_000)
        z.append(_z_scores(sim.functional.value, f, N_MINES))
        z.append(_z_scores(sim.explosive.value, e, N_MINES))
    z_all = np.concatenate(z)
    # Every seed within 4 standard errors (probability of a miss ~6e-5 per check)...
    assert np.all(np.abs(z_all) <= 4.0)
    # ...the number beyond 2 standard errors as rare as a normal law says (~4.6 %)...
    beyond = np.count_nonzero(np.abs(z_all) > 2.0)
    assert beyond <= stats.binom.ppf(0.999, z_all.size, 0.0455)
    # ...and no systematic bias. (Checks of one seed share mines, so allow twice the iid spread.)
    assert abs(z_all.mean()) <= 2 * 4.0 / np.sqrt(len(SEEDS))


def test_reported_standard_errors_are_binomial() -> None:
    sim = simulate_mines(PROFILES["degraded-field-example-a"], [60.0], 50_000, rng=1)
    p = sim.functional.value[0]
    assert sim.functional.standard_error[0] == pytest.approx(np.sqrt(p * (1 - p) / 50_000))
    assert sim.n_mines == 50_000


def test_simulation_keeps_the_callers_age_order() -> None:
    ages = np.array([400.0, 0.0, 120.0, 30.0, 120.0])
    sim = simulate_mines(PROFILES["ccw-apii-design-bound"], ages, 10_000, rng=2)
    np.testing.assert_array_equal(sim.age_days, ages)
    assert sim.explosive.value[1] == 1.0 and sim.functional.value[0] < sim.functional.value[3]
    assert sim.functional.value[2] == sim.functional.value[4]


@pytest.mark.parametrize("shape", [None, 0.6, 4.0])
def test_area_simulation_agrees_with_p_any_and_expected_count(shape) -> None:
    profile = PROFILES["degraded-field-example-b"]
    mean = 12.0
    f, _ = survival_fractions(AGES, profile)
    p = prob_any_functional(f, mean, shape)
    z_p, z_mean = [], []
    for seed in range(8):
        sim = simulate_areas(profile, AGES, mean, shape, n_areas=4_000, rng=seed, chunk_size=20_000)
        z_p.append(_z_scores(sim.p_any_functional.value, p, 4_000))
        ok = sim.mean_functional.standard_error > 0
        z_mean.append(
            (sim.mean_functional.value[ok] - mean * f[ok]) / sim.mean_functional.standard_error[ok]
        )
    assert np.all(np.abs(np.concatenate(z_p)) <= 4.0)
    assert np.all(np.abs(np.concatenate(z_mean)) <= 4.5)  # the standard error itself is estimated


def test_simulated_finds_follow_the_detection_tilted_proportions() -> None:
    profile = make_profile(sd_time=PointMass(30), r_sd=0.6, sda_time=PointMass(120), r_sda=0.75)
    detection = DetectionProbability(intact=0.9, fragments=0.3)
    n = 100_000
    finds = simulate_finds(profile, 365.0, n, detection, rng=4)
    expected = {
        "self_destructed": 0.6 * 0.3,
        "self_deactivated": 0.4 * 0.75 * 0.9,
        "functional": 0.4 * 0.25 * 0.9,
    }
    for condition, p in expected.items():
        observed = getattr(finds, condition)
        assert abs(observed - n * p) <= 4.0 * np.sqrt(n * p * (1 - p))


def test_chunking_bounds_memory() -> None:
    profile = PROFILES["degraded-field-example-a"]
    tracemalloc.start()
    try:
        simulate_mines(profile, AGES, 1_000_000, rng=5, chunk_size=50_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # About 40 bytes per mine of a chunk: 50,000 mines need a few MB, not the 40 MB of a million.
    assert peak < 8 * 2**20


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: simulate_mines(make_profile(), [10.0], 0, rng=1), "n_mines"),
        (lambda: simulate_mines(make_profile(), [-1.0], 10, rng=1), "t"),
        (lambda: simulate_mines(make_profile(), [1.0], 10, rng=1, chunk_size=0), "chunk_size"),
        (lambda: simulate_mines(make_profile(), [1.0], 10, rng=1.5), "rng"),
        (lambda: simulate_areas(make_profile(), [1.0], -2.0, n_areas=10, rng=1), "mean_count"),
    ],
)
def test_invalid_simulation_parameters_name_the_parameter(call, field: str) -> None:
    with pytest.raises(InvalidValue, match=field):
        call()
