"""Reliability profiles: distributions against SciPy, Beta beliefs, validation, YAML, CCW bounds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from scipy import stats

from mineaction.domain import residual_hazard as rh
from mineaction.domain.residual_hazard import (
    Beta,
    Gamma,
    LogNormal,
    PointMass,
    Provenance,
    ReliabilityProfile,
    Weibull,
    check_ccw_bounds,
    load_profiles,
    save_profiles,
    shipped_profiles,
)
from mineaction.errors import InvalidValue
from tests.domain.test_residual_hazard_support import make_profile, profiles

T = np.array([0.0, 0.5, 1.0, 7.0, 29.9, 30.0, 30.1, 90.0, 120.0, 365.0, 3650.0])

# ---------------------------------------------------------------- public surface


def test_public_names_are_exported_sorted_and_importable() -> None:
    assert rh.__all__ == sorted(rh.__all__)
    for name in rh.__all__:
        assert getattr(rh, name) is not None


# ---------------------------------------------------------------- time distributions


@pytest.mark.parametrize(
    ("ours", "scipys"),
    [
        (Weibull(shape=3.0, scale_days=150.0), stats.weibull_min(c=3.0, scale=150.0)),
        (Weibull(shape=0.7, scale_days=20.0), stats.weibull_min(c=0.7, scale=20.0)),
        (LogNormal(median_days=25.0, sigma=0.5), stats.lognorm(s=0.5, scale=25.0)),
        (Gamma(shape=16.0, scale_days=1.5), stats.gamma(a=16.0, scale=1.5)),
        (Gamma(shape=0.5, scale_days=40.0), stats.gamma(a=0.5, scale=40.0)),
    ],
)
def test_cdf_matches_scipy(ours, scipys) -> None:
    np.testing.assert_allclose(ours.cdf(T), scipys.cdf(T), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "dist",
    [PointMass(30), Weibull(2, 50), LogNormal(25, 0.5), Gamma(4, 5)],
)
def test_cdf_is_zero_before_emplacement_and_propagates_nan(dist) -> None:
    out = dist.cdf([-5.0, np.nan])
    assert out[0] == 0.0
    assert np.isnan(out[1])


def test_point_mass_is_a_step_at_its_time() -> None:
    np.testing.assert_array_equal(PointMass(30).cdf([29.999, 30.0, 31.0]), [0.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("ours", "scipys"),
    [
        (Weibull(shape=3.0, scale_days=150.0), stats.weibull_min(c=3.0, scale=150.0)),
        (LogNormal(median_days=25.0, sigma=0.5), stats.lognorm(s=0.5, scale=25.0)),
        (Gamma(shape=16.0, scale_days=1.5), stats.gamma(a=16.0, scale=1.5)),
    ],
)
def test_samples_follow_the_distribution(ours, scipys) -> None:
    sample = ours.sample(np.random.default_rng(11), 20_000)
    # Kolmogorov–Smirnov with a fixed seed: p > 0.001 unless the sampler is wrong.
    assert stats.kstest(sample, scipys.cdf).pvalue > 1e-3


def test_array_parameters_broadcast_against_times() -> None:
    dist = Weibull(shape=[[1.0], [2.0]], scale_days=100.0)
    out = dist.cdf([50.0, 100.0, 200.0])
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out[1], Weibull(2.0, 100.0).cdf([50.0, 100.0, 200.0]))


def test_distribution_round_trips_through_its_dict() -> None:
    for dist in (PointMass(12.5), Weibull(3, 90), LogNormal(110, 0.25), Gamma(16, 1.5)):
        assert rh.distributions.time_distribution_from_dict(dist.to_dict()) == dist


# ---------------------------------------------------------------- Beta beliefs


def test_beta_moments_and_interval_match_scipy() -> None:
    b = Beta(12.0, 8.0)
    ref = stats.beta(12.0, 8.0)
    assert b.mean == pytest.approx(ref.mean(), rel=1e-14)
    assert b.variance == pytest.approx(ref.var(), rel=1e-12)
    lo, hi = b.interval(0.9)
    assert (lo, hi) == pytest.approx(ref.interval(0.9), rel=1e-12)
    assert b.strength == 20.0


def test_beta_from_mean_and_update_are_conjugate_counts() -> None:
    b = Beta.from_mean(0.25, strength=8)
    assert (b.alpha, b.beta) == pytest.approx((2.0, 6.0))
    post = b.updated(successes=3, failures=1)
    assert (post.alpha, post.beta) == pytest.approx((5.0, 7.0))


# ---------------------------------------------------------------- validation names the field


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: PointMass(at_days=-3), "point.at_days"),
        (lambda: Weibull(shape=-1, scale_days=10), "weibull.shape"),
        (lambda: Weibull(shape=2, scale_days=0), "weibull.scale_days"),
        (lambda: LogNormal(median_days=20, sigma=0), "lognormal.sigma"),
        (lambda: Gamma(shape=2, scale_days=float("nan")), "gamma.scale_days"),
        (lambda: Weibull(shape=[1, 2], scale_days=[1, 2, 3]), "do not broadcast"),
        (lambda: Beta(0, 1), "alpha"),
        (lambda: Beta(1, -2), "beta"),
        (lambda: Beta.from_mean(1.2, 10), "mean"),
        (lambda: Beta.from_mean(-0.1, 10), "mean"),
        (lambda: Beta.from_mean(0.5, 0), "strength"),
        (lambda: Beta("lots", 1), "alpha"),
        (lambda: make_profile(name=""), "name"),
        (
            lambda: ReliabilityProfile(
                "x",
                PointMass(30),
                Beta([1, 2], [1, 2]),
                PointMass(120),
                Beta([1, 2, 3], 1),
                "test report",
                "",
            ),
            "do not broadcast",
        ),
        (
            lambda: ReliabilityProfile(
                "x", PointMass(30), Beta(9, 1), PointMass(120), Beta(9, 1), "rumour", ""
            ),
            "provenance",
        ),
        (
            lambda: ReliabilityProfile(
                "x", 30, Beta(9, 1), PointMass(120), Beta(9, 1), "test report", ""
            ),
            "sd_time",
        ),
    ],
)
def test_invalid_parameters_raise_errors_naming_the_field(build, field: str) -> None:
    with pytest.raises(InvalidValue, match=field.replace(".", r"\.")):
        build()


def test_invalid_value_is_a_value_error_for_callers() -> None:
    with pytest.raises(ValueError):
        Beta.from_mean(2.0, 1.0)


# ---------------------------------------------------------------- YAML


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profiles.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
profiles:
  - name: lab-batch-7
    provenance: test report
    source: storage trial
    self_destruct:
      time: {distribution: weibull, shape: 5, scale_days: 28}
      success: {mean: 0.95, strength: 200}
    self_deactivation:
      time: {distribution: gamma, shape: 9, scale_days: 12}
      success: {alpha: 95, beta: 5}
"""


def test_load_reads_user_profiles(tmp_path: Path) -> None:
    profile = load_profiles(_write(tmp_path, GOOD))["lab-batch-7"]
    assert profile.provenance is Provenance.TEST_REPORT
    assert profile.sd_time == Weibull(5.0, 28.0)
    assert profile.r_sd == pytest.approx(0.95)
    assert profile.r_sda == pytest.approx(0.95)
    assert not profile.illustrative


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("mean: 0.95", "mean: 1.5"), r"profile 'lab-batch-7': self_destruct: mean"),
        (("distribution: gamma", "distribution: exponential"), r"self_deactivation: distribution"),
        (("shape: 9", "shape: -9"), r"self_deactivation: gamma\.shape"),
        (("scale_days: 28", "scale_days: 28, extra: 1"), r"weibull: expected parameters"),
        (("provenance: test report", "provenance: hearsay"), r"provenance"),
        (("    source: storage trial\n", ""), r"missing 'source'"),
    ],
)
def test_load_errors_name_file_profile_and_field(tmp_path: Path, change, expected: str) -> None:
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(InvalidValue, match=expected) as info:
        load_profiles(path)
    assert str(path) in str(info.value)


def test_load_rejects_duplicates_and_bad_yaml(tmp_path: Path) -> None:
    twice = GOOD + GOOD.split("profiles:\n", 1)[1]
    with pytest.raises(InvalidValue, match="appears twice"):
        load_profiles(_write(tmp_path, twice))
    with pytest.raises(InvalidValue, match="not valid YAML"):
        load_profiles(_write(tmp_path, "profiles: [unclosed"))
    with pytest.raises(InvalidValue, match="'profiles' list"):
        load_profiles(_write(tmp_path, "name: nothing"))


def test_save_then_load_round_trips(tmp_path: Path) -> None:
    originals = {**shipped_profiles(), **load_profiles(_write(tmp_path, GOOD))}
    path = tmp_path / "out.yaml"
    save_profiles(originals.values(), path)
    assert load_profiles(path) == originals
    assert "never a land-release method" in path.read_text(encoding="utf-8")


def test_array_valued_profiles_cannot_be_saved(tmp_path: Path) -> None:
    arrays = ReliabilityProfile(
        "x", PointMass(30), Beta([9, 8], 1), PointMass(120), Beta(9, 1), "test report", ""
    )
    with pytest.raises(InvalidValue, match="scalar"):
        save_profiles([arrays], tmp_path / "x.yaml")


# ---------------------------------------------------------------- shipped profiles


def test_shipped_design_bound_is_labelled_as_such() -> None:
    design = shipped_profiles()["ccw-apii-design-bound"]
    assert design.provenance is Provenance.DESIGN_BOUND
    assert design.label == "design bound — not a field measurement"
    assert not design.illustrative
    assert "Technical Annex" in design.source


def test_shipped_degraded_profiles_are_labelled_illustrative_examples() -> None:
    degraded = [p for name, p in shipped_profiles().items() if name.startswith("degraded")]
    assert len(degraded) == 2
    for profile in degraded:
        assert profile.illustrative
        assert profile.label == "degraded field reliability (illustrative example)"
        assert "ILLUSTRATIVE EXAMPLE" in profile.describe()


# ---------------------------------------------------------------- CCW bounds


def test_design_bound_profile_meets_both_bounds_exactly_at_the_limit() -> None:
    check = check_ccw_bounds(shipped_profiles()["ccw-apii-design-bound"])
    assert check.failed_to_self_destruct_30d == pytest.approx(0.10, rel=1e-12)
    assert check.functional_120d == pytest.approx(0.001, rel=1e-12)
    assert check.meets_30d and check.meets_120d and check.meets
    # ...and still one mine in ten holds explosive: the summary must say land is not safe.
    assert check.explosive_120d == pytest.approx(0.10, rel=1e-12)
    assert "never makes land safe" in check.summary()


@pytest.mark.parametrize("name", ["degraded-field-example-a", "degraded-field-example-b"])
def test_degraded_profiles_are_reported_as_violating(name: str) -> None:
    check = check_ccw_bounds(shipped_profiles()[name])
    assert not check.meets
    assert "VIOLATES" in check.summary()


def test_weak_self_deactivation_violates_only_the_120_day_bound() -> None:
    check = check_ccw_bounds(make_profile(r_sd=0.95, r_sda=0.9))
    assert check.meets_30d
    assert not check.meets_120d
    assert check.functional_120d == pytest.approx(0.05 * 0.1)


def test_late_self_destruct_violates_the_30_day_bound_whatever_r_sd() -> None:
    check = check_ccw_bounds(make_profile(sd_time=PointMass(31), r_sd=0.999))
    assert not check.meets_30d
    assert check.failed_to_self_destruct_30d == 1.0


def test_bound_check_is_vectorised_over_array_profiles() -> None:
    profile = ReliabilityProfile(
        "array",
        PointMass(30),
        Beta([95.0, 80.0], [5.0, 20.0]),
        PointMass(120),
        Beta(999, 1),
        "test report",
        "",
    )
    check = check_ccw_bounds(profile)
    np.testing.assert_array_equal(check.meets_30d, [True, False])


@settings(max_examples=60, deadline=None)
@given(profiles)
def test_bound_verdicts_agree_with_the_fractions(profile: ReliabilityProfile) -> None:
    check = check_ccw_bounds(profile)
    e30 = 1.0 - profile.r_sd * float(profile.sd_time.cdf(30.0))
    f120 = (1.0 - profile.r_sd * float(profile.sd_time.cdf(120.0))) * (
        1.0 - profile.r_sda * float(profile.sda_time.cdf(120.0))
    )
    assert check.failed_to_self_destruct_30d == pytest.approx(e30, rel=1e-12, abs=1e-15)
    assert check.functional_120d == pytest.approx(f120, rel=1e-12, abs=1e-15)
    assert check.meets_30d == (e30 <= 0.10 * (1 + 1e-12))
    assert check.meets_120d == (f120 <= 0.001 * (1 + 1e-12))


def test_describe_names_provenance_and_label() -> None:
    text = shipped_profiles()["ccw-apii-design-bound"].describe()
    assert "design bound" in text and "not a field measurement" in text
