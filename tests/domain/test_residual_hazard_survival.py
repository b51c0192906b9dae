"""f(t) and e(t): the Annex figures, hand computations, monotonicity, broadcasting, the grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mineaction.domain.residual_hazard import (
    Beta,
    LogNormal,
    PointMass,
    ReliabilityProfile,
    Weibull,
    age_days,
    assess_hazard_grid,
    check_ccw_bounds,
    explosive_fraction,
    fraction_bands,
    functional_fraction,
    prob_any_functional,
    shipped_profiles,
    survival_fractions,
)
from mineaction.errors import InvalidValue
from tests.domain.test_residual_hazard_support import make_profile, profiles


@pytest.mark.parametrize("sd_due", [0.0, 12.5, 29.0, 30.0])
def test_r_sd_090_with_sd_due_by_day_30_leaves_exactly_ten_percent(sd_due: float) -> None:
    profile = make_profile(sd_time=PointMass(sd_due), r_sd=0.90)
    assert profile.r_sd == 0.9
    assert explosive_fraction(30.0, profile) == pytest.approx(0.10, rel=1e-12)
    assert 1.0 - explosive_fraction(30.0, profile) == pytest.approx(0.90, rel=1e-12)


def test_profile_meeting_the_120_day_bound_has_f120_at_most_one_in_a_thousand() -> None:
    better = make_profile(r_sd=0.95, sda_time=Weibull(4.0, 60.0), r_sda=0.995)
    assert check_ccw_bounds(better).meets_120d
    assert functional_fraction(120.0, better) <= 0.001
    # The design-bound profile sits exactly on the bound: 0.1 × 0.01, up to one rounding.
    at_bound = functional_fraction(120.0, shipped_profiles()["ccw-apii-design-bound"])
    assert at_bound == pytest.approx(0.001, rel=1e-12)
    assert check_ccw_bounds(shipped_profiles()["ccw-apii-design-bound"]).meets_120d


@settings(max_examples=100, deadline=None)
@given(profiles)
def test_every_profile_meeting_the_120_day_bound_has_f120_within_it(
    profile: ReliabilityProfile,
) -> None:
    if check_ccw_bounds(profile).meets_120d:
        assert functional_fraction(120.0, profile) <= 0.001 * (1 + 1e-12)
    else:
        assert functional_fraction(120.0, profile) > 0.001


def test_explosive_fraction_never_reaches_zero_while_r_sd_below_one() -> None:
    profile = make_profile(r_sd=0.999, sda_time=PointMass(1.0), r_sda=0.999)
    late = np.array([1e3, 1e5, 1e8])
    assert np.all(explosive_fraction(late, profile) > 0.0)
    np.testing.assert_allclose(explosive_fraction(late, profile), 0.001, rtol=1e-9)


def test_hand_computation_for_continuous_distributions() -> None:
    profile = make_profile(
        sd_time=LogNormal(25.0, 0.5), r_sd=0.6, sda_time=Weibull(3.0, 150.0), r_sda=0.8
    )
    t = 120.0
    f_sd = 0.5 * math.erfc(-math.log(t / 25.0) / 0.5 / math.sqrt(2.0))
    f_sda = 1.0 - math.exp(-((t / 150.0) ** 3))
    e = 1.0 - 0.6 * f_sd
    f = e * (1.0 - 0.8 * f_sda)
    assert explosive_fraction(t, profile) == pytest.approx(e, rel=1e-12)
    assert functional_fraction(t, profile) == pytest.approx(f, rel=1e-12)
    assert survival_fractions(t, profile) == pytest.approx((f, e), rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(profiles, st.lists(st.floats(0.0, 5000.0), min_size=2, max_size=40))
def test_fractions_are_monotone_ordered_and_bounded(
    profile: ReliabilityProfile, times: list[float]
) -> None:
    t = np.sort(np.asarray(times))
    f, e = survival_fractions(t, profile)
    assert np.all((0.0 <= f) & (f <= 1.0)) and np.all((0.0 <= e) & (e <= 1.0))
    assert np.all(e >= f)
    assert np.all(np.diff(f) <= 0.0), "f(t) must not increase"
    assert np.all(np.diff(e) <= 0.0), "e(t) must not increase"
    assert np.all(e >= 1.0 - profile.r_sd - 1e-15), "only a working self-destruct removes explosive"


def test_scalar_in_scalar_out_and_nan_before_emplacement() -> None:
    profile = make_profile()
    assert isinstance(functional_fraction(10.0, profile), float)
    out = functional_fraction([-1.0, np.nan, 0.0], profile)
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == 1.0


def test_per_hazard_parameters_broadcast_against_dates() -> None:
    r_sd = np.array([0.5, 0.9, 0.99])
    arrays = ReliabilityProfile(
        "per hazard",
        LogNormal(25.0, 0.5),
        Beta.from_mean(r_sd[:, None], 100.0),
        Weibull(3.0, 150.0),
        Beta(80.0, 20.0),
        "field evidence",
        "",
    )
    dates = np.arange(0.0, 400.0, 7.0)
    f, e = survival_fractions(dates, arrays)
    assert f.shape == e.shape == (3, dates.size)
    for i, r in enumerate(r_sd):
        single = ReliabilityProfile(
            "one",
            LogNormal(25.0, 0.5),
            Beta.from_mean(r, 100.0),
            Weibull(3.0, 150.0),
            Beta(80.0, 20.0),
            "field evidence",
            "",
        )
        np.testing.assert_allclose(f[i], functional_fraction(dates, single), rtol=1e-14)
        np.testing.assert_allclose(e[i], explosive_fraction(dates, single), rtol=1e-14)


def test_age_days_from_dates() -> None:
    np.testing.assert_array_equal(
        age_days("2024-01-01", ["2024-01-31", "2023-12-31"]), [30.0, -1.0]
    )
    with pytest.raises(InvalidValue, match="emplaced"):
        age_days(np.array(["NaT"], dtype="datetime64[D]"), "2024-01-01")
    with pytest.raises(InvalidValue, match="on"):
        age_days("2024-01-01", [1.5])


# ---------------------------------------------------------------- the register-scale grid


@pytest.fixture(scope="module")
def grid_case():
    rng = np.random.default_rng(3)
    emplaced = np.datetime64("2023-06-01") + rng.integers(0, 400, 300).astype("timedelta64[D]")
    on = np.datetime64("2024-01-01") + np.arange(0, 200, 3).astype("timedelta64[D]")
    mean = rng.gamma(2.0, 40.0, 300)
    shape = rng.uniform(0.2, 5.0, 300)
    return emplaced, on, mean, shape


@pytest.mark.parametrize(
    "name", ["ccw-apii-design-bound", "degraded-field-example-a", "degraded-field-example-b"]
)
def test_grid_equals_the_closed_forms_cell_by_cell(grid_case, name: str) -> None:
    emplaced, on, mean, shape = grid_case
    profile = shipped_profiles()[name]
    grid = assess_hazard_grid(emplaced, on, profile, mean, shape)
    ages = age_days(emplaced[:, None], on[None, :])
    f, e = survival_fractions(ages, profile)
    np.testing.assert_array_equal(grid.functional, f)
    np.testing.assert_array_equal(grid.explosive, e)
    np.testing.assert_allclose(
        grid.p_any_functional, prob_any_functional(f, mean[:, None], shape[:, None]), rtol=1e-15
    )
    np.testing.assert_allclose(grid.expected_functional, mean[:, None] * f, rtol=1e-15)
    assert np.isnan(grid.functional[ages < 0]).all()
    assert not np.isnan(grid.functional[ages >= 0]).any()


def test_grid_on_two_threads_gives_identical_results(grid_case) -> None:
    emplaced, on, mean, shape = grid_case
    profile = shipped_profiles()["degraded-field-example-a"]
    one = assess_hazard_grid(emplaced, on, profile, mean, shape)
    two = assess_hazard_grid(emplaced, on, profile, mean, shape, workers=2)
    np.testing.assert_array_equal(one.p_any_functional, two.p_any_functional)


def test_grid_bands_are_the_curve_bands_gathered(grid_case) -> None:
    emplaced, on, mean, _ = grid_case
    profile = shipped_profiles()["degraded-field-example-b"]
    grid = assess_hazard_grid(emplaced, on, profile, mean, level=0.8, draws=500, rng=9)
    ages = age_days(emplaced[:, None], on[None, :])
    # Same seed, same draws: the band at an age does not depend on which other ages are asked.
    first, last = int(np.nanmin(np.where(ages >= 0, ages, np.nan))), int(ages.max())
    f_band, e_band = fraction_bands(
        np.arange(first, last + 1.0), profile, level=0.8, draws=500, rng=9
    )
    valid = ages >= 0
    index = (ages[valid] - first).astype(int)
    np.testing.assert_allclose(grid.functional_band.lower[valid], f_band.lower[index], rtol=1e-14)
    np.testing.assert_allclose(grid.explosive_band.upper[valid], e_band.upper[index], rtol=1e-14)
    assert np.all(grid.p_any_functional_band.lower[valid] <= grid.p_any_functional[valid] + 1e-12)
    assert np.all(grid.p_any_functional[valid] <= grid.p_any_functional_band.upper[valid] + 1e-12)


def test_grid_rejects_what_it_cannot_do(grid_case) -> None:
    emplaced, on, mean, _ = grid_case
    arrays = ReliabilityProfile(
        "arr", PointMass(30), Beta([9, 8], 1), PointMass(120), Beta(9, 1), "test report", ""
    )
    with pytest.raises(InvalidValue, match="group hazards by profile"):
        assess_hazard_grid(emplaced, on, arrays, mean)
    with pytest.raises(InvalidValue, match="mean_count"):
        assess_hazard_grid(emplaced, on, make_profile(), mean[:10])
    with pytest.raises(InvalidValue, match="workers"):
        assess_hazard_grid(emplaced, on, make_profile(), mean, workers=0)
    with pytest.raises(InvalidValue, match="emplaced"):
        assess_hazard_grid(emplaced.reshape(10, 30), on, make_profile(), 1.0)


def test_grid_caveats_put_the_explosive_hazard_first(grid_case) -> None:
    emplaced, on, mean, _ = grid_case
    grid = assess_hazard_grid(emplaced, on, shipped_profiles()["degraded-field-example-a"], mean)
    assert grid.caveats[0].startswith("e(t) is the fraction of mines still holding explosive")
    assert "never a land-release method" in grid.caveats[0]
    assert any("Illustrative example profile" in note for note in grid.caveats)
