"""Confidence after survey (Gamma–Poisson) and QC operating characteristics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mineaction.domain.residual_hazard import GammaPrior, acceptance_probability, survey_confidence
from mineaction.errors import InvalidValue

# ---------------------------------------------------------------- technical survey


def test_survey_posterior_by_hand() -> None:
    result = survey_confidence(GammaPrior(shape=1.5, rate=2.0), coverage=0.3, detection=0.8)
    # b' = b + c p_d = 2.24; q = 1 - c p_d = 0.76.
    assert result.posterior == GammaPrior(1.5, 2.24)
    assert result.expected_remaining == pytest.approx(0.76 * 1.5 / 2.24, rel=1e-14)
    assert result.p_any_remaining == pytest.approx(1 - (2.24 / (2.24 + 0.76)) ** 1.5, rel=1e-14)


def test_found_items_update_the_shape_and_are_not_counted_as_remaining() -> None:
    result = survey_confidence(GammaPrior(0.5, 1.0), coverage=1.0, detection=0.9, found=3)
    assert result.posterior == GammaPrior(3.5, 1.9)
    assert result.expected_remaining == pytest.approx(0.1 * 3.5 / 1.9)


def test_no_search_leaves_the_prior_predictive() -> None:
    result = survey_confidence(GammaPrior(2.0, 0.5), coverage=0.0, detection=0.9)
    # Nothing searched: remaining items are the prior negative binomial, P(N = 0) = (b/(b+1))^a.
    assert result.p_any_remaining == pytest.approx(1 - stats.nbinom.pmf(0, 2.0, 0.5 / 1.5))


@pytest.mark.parametrize(
    ("found", "coverage", "detection"), [(0, 0.6, 0.85), (0, 0.2, 0.5), (2, 0.7, 0.9)]
)
def test_survey_confidence_agrees_with_a_monte_carlo(
    found: int, coverage: float, detection: float
) -> None:
    prior = GammaPrior(shape=0.8, rate=0.4)
    rng = np.random.default_rng(found * 100 + int(coverage * 10))
    lam = rng.gamma(prior.shape, 1.0 / prior.rate, 2_000_000)
    items = rng.poisson(lam)
    seen = rng.binomial(items, coverage * detection)
    keep = seen == found
    remaining = (items - seen)[keep]
    n = remaining.size
    result = survey_confidence(prior, coverage, detection, found=found)
    p = result.p_any_remaining
    assert abs(np.mean(remaining > 0) - p) <= 4.0 * math.sqrt(p * (1 - p) / n)
    assert abs(remaining.mean() - result.expected_remaining) <= 4.0 * remaining.std() / math.sqrt(n)
    # The fresh-area expression 1 - (b'/(b'+1))^a' ignores that the search itself thinned the
    # missed items: it is visibly wrong for the surveyed area.
    posterior = result.posterior
    fresh = 1 - (posterior.rate / (posterior.rate + 1)) ** posterior.shape
    assert fresh > p
    assert abs(np.mean(remaining > 0) - fresh) > 10.0 * math.sqrt(p * (1 - p) / n)


def test_survey_is_vectorised_and_validates() -> None:
    result = survey_confidence(GammaPrior(1.0, 1.0), coverage=[0.0, 0.5, 1.0], detection=1.0)
    assert result.p_any_remaining.shape == (3,)
    # everything searched with perfect detection still misses 1 in 1,000: 1 − b'/(b' + q), b' = 1.999, q = 0.001
    assert result.p_any_remaining[-1] == pytest.approx(1 - 1.999 / 2.0, rel=1e-12)
    assert np.all(np.diff(result.p_any_remaining) < 0)
    with pytest.raises(InvalidValue, match="coverage"):
        survey_confidence(GammaPrior(1.0, 1.0), coverage=1.2, detection=0.9)
    with pytest.raises(InvalidValue, match="detection"):
        survey_confidence(GammaPrior(1.0, 1.0), coverage=0.5, detection=-0.1)
    with pytest.raises(InvalidValue, match=r"gamma.rate"):
        GammaPrior(1.0, 0.0)
    assert "never zero" in result.notes[0]


def test_gamma_interval_matches_scipy() -> None:
    lo, hi = GammaPrior(3.0, 2.0).interval(0.9)
    assert (lo, hi) == pytest.approx(stats.gamma(3.0, scale=0.5).interval(0.9), rel=1e-12)


# ---------------------------------------------------------------- acceptance sampling


def test_zero_acceptance_plan_is_one_minus_p_to_the_n() -> None:
    p = np.linspace(0.0, 1.0, 21)
    np.testing.assert_allclose(
        acceptance_probability(p, sample_size=20, acceptance_number=0), (1 - p) ** 20
    )


def test_known_binomial_value() -> None:
    # n = 50, c = 1, p = 2%: (0.98)^50 + 50 (0.02)(0.98)^49.
    expected = 0.98**50 + 50 * 0.02 * 0.98**49
    assert acceptance_probability(0.02, 50, 1) == pytest.approx(expected, rel=1e-12)


def test_hypergeometric_by_counting() -> None:
    # A lot of 100 with 5 defects, sample 20, accept none: C(95, 20) / C(100, 20).
    expected = math.comb(95, 20) / math.comb(100, 20)
    assert acceptance_probability(0.05, 20, 0, lot_size=100) == pytest.approx(expected, rel=1e-12)


def test_hypergeometric_tends_to_binomial_for_large_lots() -> None:
    p = np.array([0.01, 0.05, 0.1])
    big = acceptance_probability(p, 32, 1, lot_size=1_000_000)
    np.testing.assert_allclose(big, acceptance_probability(p, 32, 1), rtol=1e-3)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 200),
    c_share=st.floats(0.0, 1.0),
    lot_extra=st.one_of(st.none(), st.integers(0, 2000)),
)
def test_oc_curve_is_decreasing_from_one_to_zero(
    n: int, c_share: float, lot_extra: int | None
) -> None:
    c = int(c_share * n)
    lot = None if lot_extra is None else n + lot_extra
    p = np.linspace(0.0, 1.0, 101)
    oc = acceptance_probability(p, n, c, lot_size=lot)
    assert oc[0] == pytest.approx(1.0)
    assert np.all(np.diff(oc) <= 1e-12)
    if c < n:
        assert oc[-1] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"defect_rate": 1.5, "sample_size": 10, "acceptance_number": 0}, "defect_rate"),
        ({"defect_rate": 0.1, "sample_size": 0, "acceptance_number": 0}, "sample_size"),
        ({"defect_rate": 0.1, "sample_size": 10, "acceptance_number": 11}, "acceptance_number"),
        (
            {"defect_rate": 0.1, "sample_size": 10, "acceptance_number": 1, "lot_size": 5},
            "lot_size",
        ),
        ({"defect_rate": 0.1, "sample_size": 10.5, "acceptance_number": 1}, "sample_size"),
    ],
)
def test_invalid_plans_name_the_parameter(kwargs, field: str) -> None:
    with pytest.raises(InvalidValue, match=field):
        acceptance_probability(**kwargs)
