"""Counts and P(≥1 functional): against SciPy, the Poisson limit, credible bands, result tables."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mineaction.domain.residual_hazard import (
    Beta,
    PointMass,
    ReliabilityProfile,
    Weibull,
    assess_residual_hazard,
    expected_functional,
    fraction_bands,
    functional_count_interval,
    prob_any_functional,
    prob_no_functional,
    shipped_profiles,
)
from mineaction.errors import InvalidValue
from tests.domain.test_residual_hazard_support import make_profile

# ---------------------------------------------------------------- closed forms


@settings(max_examples=200, deadline=None)
@given(
    f=st.floats(0.0, 1.0),
    mean=st.floats(0.0, 5000.0),
    k=st.floats(0.01, 1e4),
)
def test_negative_binomial_p_none_matches_scipy(f: float, mean: float, k: float) -> None:
    expected = stats.nbinom.pmf(0, k, k / (k + mean * f))
    assert prob_no_functional(f, mean, k) == pytest.approx(expected, rel=1e-9, abs=1e-300)
    # SciPy's pmf is p**k with p = k/(k + mean*f) rounded near 1: its log is off by ~eps, the
    # result by ~k*eps (1e-12 at k = 1e4), and 1 - pmf keeps that absolute error
    reference_error = 4 * k * np.finfo(float).eps * expected
    assert prob_any_functional(f, mean, k) == pytest.approx(1.0 - expected, rel=1e-9, abs=max(1e-12, reference_error))


@settings(max_examples=100, deadline=None)
@given(f=st.floats(0.0, 1.0), mean=st.floats(0.0, 500.0))
def test_poisson_p_none_matches_scipy(f: float, mean: float) -> None:
    assert prob_no_functional(f, mean) == pytest.approx(stats.poisson.pmf(0, mean * f), rel=1e-12)


def test_negative_binomial_tends_to_poisson_as_k_grows() -> None:
    f, mean = np.array([1.0, 0.3, 0.01, 1e-5]), 120.0
    poisson = prob_no_functional(f, mean)
    ks = np.array([1.0, 10.0, 100.0, 1e4, 1e8, 1e12])
    nb = np.array([prob_no_functional(f, mean, k) for k in ks])
    # Same mean, less dispersion: P(none) falls towards the Poisson value, monotonically.
    assert np.all(np.diff(nb, axis=0) <= 0.0)
    assert np.all(nb >= poisson)
    np.testing.assert_allclose(nb[-1], poisson, rtol=1e-8)
    # The gap closes like 1/k: log P_NB(0) - log P_Pois(0) ≈ (μf)² / (2k).
    gap = np.log(nb[3]) - np.log(poisson)
    np.testing.assert_allclose(gap, (mean * f) ** 2 / (2 * 1e4), rtol=0.02)


def test_tiny_probabilities_keep_their_digits() -> None:
    assert prob_any_functional(1e-15, 1.0) == pytest.approx(1e-15, rel=1e-12)
    assert prob_any_functional(1e-15, 1.0, shape=0.5) == pytest.approx(1e-15, rel=1e-12)


def test_expected_count_and_broadcasting_hazards_by_dates() -> None:
    f = np.array([1.0, 0.5, 0.1])
    mean = np.array([[10.0], [200.0]])
    np.testing.assert_allclose(expected_functional(f, mean), [[10, 5, 1], [200, 100, 20]])
    p = prob_any_functional(f, mean, shape=np.array([[0.5], [2.0]]))
    assert p.shape == (2, 3)
    assert p[1, 2] == pytest.approx(1 - (1 + 20 / 2.0) ** -2.0)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: prob_any_functional(0.5, -1.0), "mean_count"),
        (lambda: prob_any_functional(0.5, 10.0, shape=0.0), "shape"),
        (lambda: prob_any_functional(1.5, 10.0), "functional"),
        (lambda: prob_any_functional([0.5, 0.2], [1.0, 2.0, 3.0]), "do not broadcast"),
        (lambda: fraction_bands([1.0], make_profile(), level=1.0), "level"),
        (lambda: fraction_bands([1.0], make_profile(), draws=10), "draws"),
        (lambda: fraction_bands([1.0], make_profile(), rng="seed"), "rng"),
    ],
)
def test_invalid_count_parameters_name_the_parameter(call, field: str) -> None:
    with pytest.raises(InvalidValue, match=field):
        call()


# ---------------------------------------------------------------- credible bands


def _quantile_se(dist: stats.rv_continuous, q: float, n: int) -> float:
    """Standard error of an empirical q-quantile of n draws: sqrt(q(1-q)/n) / density."""
    return float(np.sqrt(q * (1 - q) / n) / dist.pdf(dist.ppf(q)))


def test_explosive_band_matches_the_beta_quantiles() -> None:
    profile = make_profile(sd_time=Weibull(3.0, 30.0), r_sd=0.8, strength=40.0)
    t = np.array([10.0, 30.0, 60.0, 400.0])
    draws = 20_000
    _, e_band = fraction_bands(t, profile, level=0.9, draws=draws, rng=5)
    beta = stats.beta(profile.sd_success.alpha, profile.sd_success.beta)
    F = Weibull(3.0, 30.0).cdf(t)
    for q, bound, sign in ((0.95, e_band.lower, 1), (0.05, e_band.upper, 1)):
        exact = 1.0 - F * beta.ppf(q)
        tol = 4.0 * F * _quantile_se(beta, q, draws) * sign
        assert np.all(np.abs(bound - exact) <= tol + 1e-15)


def test_functional_band_matches_the_beta_quantiles_before_self_destruct_is_due() -> None:
    # Before SD is due f = 1 - r_sda F_sda(t): its band is a Beta quantile, known exactly.
    profile = make_profile(
        sd_time=PointMass(500.0), sda_time=Weibull(2.0, 50.0), r_sda=0.7, strength=30.0
    )
    t = np.array([20.0, 50.0, 200.0])
    draws = 20_000
    f_band, _ = fraction_bands(t, profile, level=0.8, draws=draws, rng=6)
    beta = stats.beta(profile.sda_success.alpha, profile.sda_success.beta)
    F = Weibull(2.0, 50.0).cdf(t)
    np.testing.assert_allclose(
        f_band.lower, 1 - F * beta.ppf(0.9), atol=4 * _quantile_se(beta, 0.9, draws)
    )
    np.testing.assert_allclose(
        f_band.upper, 1 - F * beta.ppf(0.1), atol=4 * _quantile_se(beta, 0.1, draws)
    )


def test_bands_are_ordered_and_contain_the_point_values() -> None:
    profile = shipped_profiles()["degraded-field-example-a"]
    t = np.arange(0.0, 400.0, 5.0)
    result = assess_residual_hazard(t, profile, 200.0, 0.8, level=0.9, draws=2000, rng=1)
    assert np.all(result.functional_band.lower <= result.explosive_band.lower + 1e-15)
    assert np.all(result.functional_band.upper <= result.explosive_band.upper + 1e-15)
    for point, band in (
        (result.functional, result.functional_band),
        (result.explosive, result.explosive_band),
        (result.p_any_functional, result.p_any_functional_band),
    ):
        assert np.all(band.lower <= point + 1e-12) and np.all(point <= band.upper + 1e-12)


def test_count_bands_are_the_fraction_band_through_monotone_maps() -> None:
    profile = shipped_profiles()["degraded-field-example-b"]
    t = np.array([10.0, 40.0, 150.0, 365.0])
    result = assess_residual_hazard(t, profile, 80.0, 1.5, level=0.9, draws=1000, rng=2)
    band = result.functional_band
    np.testing.assert_allclose(
        result.p_any_functional_band.lower, prob_any_functional(band.lower, 80.0, 1.5)
    )
    np.testing.assert_allclose(
        result.p_any_functional_band.upper, prob_any_functional(band.upper, 80.0, 1.5)
    )
    np.testing.assert_allclose(result.expected_functional_band.upper, 80.0 * band.upper)


@pytest.mark.parametrize("shape", [None, 0.7])
def test_count_interval_reduces_to_count_model_quantiles_when_beliefs_are_sharp(shape) -> None:
    profile = make_profile(
        sd_time=PointMass(30), r_sd=0.6, sda_time=PointMass(120), r_sda=0.5, strength=1e9
    )
    t, mean = np.array([10.0, 60.0, 200.0]), 150.0
    band = functional_count_interval(t, profile, mean, shape, level=0.9, draws=20_000, rng=3)
    m = mean * np.array([1.0, 0.4, 0.2])
    dist = stats.poisson(m) if shape is None else stats.nbinom(shape, shape / (shape + m))
    # An empirical q-quantile x of n draws has F(x) ≥ q and F(x - 1) < q up to the
    # sampling error of the empirical CDF, sqrt(q(1 - q)/n).
    for q, x in ((0.05, band.lower), (0.95, band.upper)):
        tol = 4.0 * np.sqrt(q * (1 - q) / 20_000)
        assert np.all(dist.cdf(x) >= q - tol)
        assert np.all(dist.cdf(x - 1) <= q + tol)


def test_bands_need_one_profile() -> None:
    arrays = ReliabilityProfile(
        "arr", PointMass(30), Beta([9, 8], 1), PointMass(120), Beta(9, 1), "test report", ""
    )
    with pytest.raises(InvalidValue, match="one at a time"):
        fraction_bands([10.0], arrays)


def test_bands_are_reproducible_for_a_seed() -> None:
    profile = shipped_profiles()["degraded-field-example-a"]
    a, _ = fraction_bands([50.0, 100.0], profile, rng=7)
    b, _ = fraction_bands([50.0, 100.0], profile, rng=7)
    np.testing.assert_array_equal(a.lower, b.lower)


# ---------------------------------------------------------------- result table


def test_result_rows_put_explosive_beside_functional() -> None:
    result = assess_residual_hazard(
        [30.0, 120.0], shipped_profiles()["ccw-apii-design-bound"], 100.0, level=None
    )
    rows = result.rows()
    assert list(rows[0])[:3] == ["age_days", "functional", "explosive"]
    assert rows[1]["explosive"] == pytest.approx(0.1)
    assert rows[1]["expected_functional"] == pytest.approx(0.1)


def test_table_carries_provenance_and_caveats() -> None:
    result = assess_residual_hazard(
        [0.0, 30.0, 365.0], shipped_profiles()["degraded-field-example-a"], 50.0, 0.5, draws=500
    )
    table = result.format_table()
    header = table.splitlines()[0]
    assert (
        header.index("f(t) functional")
        < header.index("e(t) explosive")
        < header.index("P(≥1 functional)")
    )
    assert "never a land-release method" in table
    assert "Illustrative example profile" in table
    assert "negative binomial, mean 50, shape k = 0.5" in table
    assert "credible" in table and "predictive interval" in table
    design = assess_residual_hazard(
        [365.0], shipped_profiles()["ccw-apii-design-bound"], 50.0, level=None
    )
    assert "design bound is not a field measurement" in design.format_table()


def test_rows_need_a_1d_result() -> None:
    result = assess_residual_hazard([[1.0, 2.0]], make_profile(), 1.0, level=None)
    with pytest.raises(InvalidValue, match="1-D"):
        result.rows()
