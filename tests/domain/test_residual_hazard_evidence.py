"""Learning from clearance finds: conjugate updates, the detection correction, evidence strength."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mineaction.domain.residual_hazard import (
    Beta,
    DetectionProbability,
    FindCounts,
    LogNormal,
    PointMass,
    ReliabilityProfile,
    simulate_finds,
    update_from_finds,
)
from mineaction.errors import InvalidValue
from tests.domain.test_residual_hazard_support import make_profile


def _prior(sd: Beta, sda: Beta) -> ReliabilityProfile:
    return ReliabilityProfile(
        "prior", PointMass(30), sd, PointMass(120), sda, "test report", "hand example"
    )


def test_equal_detection_is_the_conjugate_update_by_hand() -> None:
    prior = _prior(Beta(2.0, 3.0), Beta(4.0, 1.0))
    finds = FindCounts(functional=1, self_destructed=7, self_deactivated=4, unknown=3)
    for detection in (DetectionProbability(), DetectionProbability(intact=0.5, fragments=0.5)):
        update = update_from_finds(prior, finds, detection)
        # r_sd: 7 successes, 4 + 1 failures; r_sda: among the 5 SD failures, 4 successes, 1 failure.
        assert update.posterior.sd_success == Beta(9.0, 8.0)
        assert update.posterior.sda_success == Beta(8.0, 2.0)
        assert update.posterior.r_sd == pytest.approx(9 / 17)
        assert update.posterior.r_sda == pytest.approx(8 / 10)
        assert update.uncorrected_sd == update.posterior.sd_success


def test_detection_correction_by_hand() -> None:
    prior = _prior(Beta(1.0, 1.0), Beta(1.0, 1.0))
    finds = FindCounts(functional=10, self_destructed=30, self_deactivated=20)
    update = update_from_finds(prior, finds, DetectionProbability(intact=0.8, fragments=0.4))
    # rho = 1/2, n = 60, m = 30 + 30/2 = 45: pseudo-counts 30*45/(0.5*60) = 45 and 30*45/60 = 22.5.
    assert update.posterior.sd_success.alpha == pytest.approx(1 + 45.0)
    assert update.posterior.sd_success.beta == pytest.approx(1 + 22.5)
    # The reweighted proportion (30/0.4) / (30/0.4 + 30/0.8) = 2/3 is the likelihood's maximum.
    assert 45.0 / (45.0 + 22.5) == pytest.approx(2 / 3)
    # r_sda is learnt from intact finds only, which are equally detectable: exact conjugate.
    assert update.posterior.sda_success == Beta(21.0, 11.0)
    assert update.sd_evidence == pytest.approx(67.5)
    assert update.effective_sample_size_sd == pytest.approx(2 + 67.5)


@pytest.mark.parametrize(
    ("n_sd", "n_intact", "rho"),
    [(30, 40, 0.4), (5, 40, 0.3), (60, 5, 0.3), (300, 400, 0.4), (0, 20, 0.5), (20, 0, 0.5)],
)
def test_beta_matches_the_exact_detection_tilted_posterior(
    n_sd: int, n_intact: int, rho: float
) -> None:
    prior = _prior(Beta(2.0, 2.0), Beta(1.0, 1.0))
    update = update_from_finds(
        prior, FindCounts(self_destructed=n_sd, functional=n_intact), DetectionProbability(1.0, rho)
    )
    # Exact posterior of r_sd on a fine grid: prior × (r rho)^n_sd (1-r)^n_I / (r rho + 1 - r)^n.
    x = np.linspace(1e-9, 1 - 1e-9, 200_001)
    n = n_sd + n_intact
    log_post = (1 + n_sd) * np.log(x) + (1 + n_intact) * np.log1p(-x) - n * np.log(x * rho + 1 - x)
    density = np.exp(log_post - log_post.max())
    density /= np.trapezoid(density, x)
    mean = np.trapezoid(x * density, x)
    sd = np.sqrt(np.trapezoid((x - mean) ** 2 * density, x))
    approx = update.posterior.sd_success
    assert abs(approx.mean - mean) < 0.15 * sd
    assert np.sqrt(approx.variance) == pytest.approx(sd, rel=0.12)


def test_correction_removes_the_bias_of_a_simulated_clearance() -> None:
    truth = make_profile(
        sd_time=LogNormal(25.0, 0.4), r_sd=0.6, sda_time=LogNormal(100.0, 0.3), r_sda=0.8
    )
    prior = _prior(Beta(1.0, 1.0), Beta(1.0, 1.0))
    detection = DetectionProbability(intact=0.9, fragments=0.3)
    z_corrected, z_naive, covered = [], [], 0
    seeds = range(40)
    for seed in seeds:
        finds = simulate_finds(truth, 3000.0, 3000, detection, rng=seed)
        update = update_from_finds(prior, finds, detection)
        sd_belief = update.posterior.sd_success
        z_corrected.append((sd_belief.mean - 0.6) / np.sqrt(sd_belief.variance))
        z_naive.append((update.uncorrected_sd.mean - 0.6) / np.sqrt(update.uncorrected_sd.variance))
        lo, hi = update.interval_sd
        covered += lo <= 0.6 <= hi
    z_corrected, z_naive = np.array(z_corrected), np.array(z_naive)
    # Corrected: unbiased and well calibrated (z ~ N(0, 1)).
    assert np.all(np.abs(z_corrected) < 4.0)
    assert abs(z_corrected.mean()) < 4.0 / np.sqrt(len(seeds))
    assert np.count_nonzero(np.abs(z_corrected) > 2.0) <= stats.binom.ppf(0.999, len(seeds), 0.0455)
    assert covered >= stats.binom.ppf(0.001, len(seeds), 0.9)
    # Naive: fragments are under-counted, r_sd far too low (about 1/3 instead of 0.6).
    assert np.all(z_naive < -10.0)


def test_evidence_strength_grows_and_intervals_narrow_with_more_finds() -> None:
    prior = _prior(Beta(2.0, 2.0), Beta(2.0, 2.0))
    detection = DetectionProbability(0.9, 0.45)
    widths, sizes = [], []
    for scale in (1, 4, 16):
        update = update_from_finds(
            prior,
            FindCounts(functional=3 * scale, self_destructed=6 * scale, self_deactivated=5 * scale),
            detection,
        )
        lo, hi = update.interval_sd
        widths.append(hi - lo)
        sizes.append(update.effective_sample_size_sd)
        assert update.effective_sample_size_sd == pytest.approx(4.0 + update.sd_evidence)
        assert update.effective_sample_size_sda == pytest.approx(4.0 + 8 * scale)
    assert widths[0] > widths[1] > widths[2]
    assert sizes[0] < sizes[1] < sizes[2]
    # Quadrupling the data halves the width, roughly (1/sqrt(n)).
    assert widths[1] / widths[2] == pytest.approx(2.0, rel=0.15)


def test_notes_state_the_detection_caveat_and_what_was_ignored() -> None:
    prior = _prior(Beta(2.0, 2.0), Beta(2.0, 2.0))
    finds = FindCounts(functional=2, self_destructed=3, unknown=4)
    equal = update_from_finds(prior, finds)
    assert any("underestimated" in note for note in equal.notes)
    assert any("4 finds of unknown or other condition were ignored" in note for note in equal.notes)
    corrected = update_from_finds(prior, finds, DetectionProbability(0.9, 0.3))
    assert any("found less often" in note and "instead of" in note for note in corrected.notes)
    assert any("still explosive ordnance" in note for note in corrected.notes)
    summary = corrected.summary()
    assert "effective sample size" in summary and "90% interval" in summary


def test_posterior_profile_says_where_it_comes_from() -> None:
    prior = make_profile()
    update = update_from_finds(prior, FindCounts(functional=1, self_destructed=9))
    assert update.posterior.provenance.value == "field evidence"
    assert update.posterior.name == "test+finds"
    assert "self-destructed 9" in update.posterior.source
    assert update.posterior.sd_time == prior.sd_time


def test_no_finds_leaves_beliefs_unchanged() -> None:
    prior = make_profile()
    update = update_from_finds(prior, FindCounts())
    assert update.posterior.sd_success == prior.sd_success
    assert any("No classified finds" in note for note in update.notes)


def test_conditions_are_counted_from_the_vocabulary() -> None:
    counts = FindCounts.from_conditions(
        ["functional", "self_destructed", "Self-destructed", "self deactivated", "other", "unknown"]
    )
    assert (counts.functional, counts.self_destructed, counts.self_deactivated, counts.unknown) == (
        1,
        2,
        1,
        2,
    )


def test_finds_before_the_mechanisms_were_due_are_refused() -> None:
    prior = make_profile(sd_time=PointMass(30), sda_time=LogNormal(100.0, 0.3))
    finds = FindCounts(functional=3, self_destructed=5)
    with pytest.raises(InvalidValue, match=r"age_days.*self-deactivation"):
        update_from_finds(prior, finds, age_days=150)
    with pytest.raises(InvalidValue, match=r"age_days.*self-destruct"):
        update_from_finds(prior, finds, age_days=20)
    assert any("(age checked)" in n for n in update_from_finds(prior, finds, age_days=1000).notes)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: FindCounts(self_destructed=-1), "self_destructed"),
        (lambda: FindCounts(functional=2.5), "whole counts"),
        (lambda: DetectionProbability(fragments=0.0), "detection.fragments"),
        (lambda: DetectionProbability(intact=1.2), "detection.intact"),
        (lambda: update_from_finds(make_profile(), FindCounts(), level=0.0), "level"),
    ],
)
def test_invalid_evidence_names_the_field(call, field: str) -> None:
    with pytest.raises(InvalidValue, match=field.replace(".", r"\.")):
        call()


def test_updates_vectorise_over_hazards() -> None:
    prior = _prior(Beta(2.0, 2.0), Beta(3.0, 1.0))
    detection = DetectionProbability(0.9, 0.4)
    sd, fn, sda = np.array([0, 5, 40]), np.array([3, 2, 10]), np.array([1, 7, 0])
    many = update_from_finds(
        prior, FindCounts(functional=fn, self_destructed=sd, self_deactivated=sda), detection
    )
    assert many.posterior.param_shape == (3,)
    for i in range(3):
        one = update_from_finds(
            prior,
            FindCounts(functional=fn[i], self_destructed=sd[i], self_deactivated=sda[i]),
            detection,
        )
        assert many.posterior.sd_success.alpha[i] == pytest.approx(one.posterior.sd_success.alpha)
        assert many.posterior.sd_success.beta[i] == pytest.approx(one.posterior.sd_success.beta)
        assert many.posterior.sda_success.alpha[i] == pytest.approx(one.posterior.sda_success.alpha)
