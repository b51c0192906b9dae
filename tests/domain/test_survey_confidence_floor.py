"""survey_confidence never reports zero residual risk, as its notes say, and is unchanged below the cap."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mineaction.domain.residual_hazard import GammaPrior, survey_confidence
from mineaction.domain.residual_hazard.confidence import MIN_MISS


@pytest.mark.parametrize(("shape", "rate", "found"), [(0.5, 1.0, 0), (2.0, 0.5, 0), (3.0, 2.0, 4), (0.05, 10.0, 0)])
def test_a_complete_search_with_a_perfect_detector_leaves_a_residual(shape: float, rate: float, found: int) -> None:
    result = survey_confidence(GammaPrior(shape, rate), coverage=1.0, detection=1.0, found=found)
    a, b, q = shape + found, rate + 1.0 - MIN_MISS, MIN_MISS
    assert result.posterior.shape == pytest.approx(a, rel=1e-15) and result.posterior.rate == pytest.approx(b, rel=1e-15)
    assert result.expected_remaining == pytest.approx(q * a / b, rel=1e-12)
    # P(U ≥ 1) = 1 − (1 + x)^−a with x = q/b: Bernoulli gives ≤ a·x, ln(1 + x) ≥ x/(1 + x) gives the lower bound
    x = q / b
    assert -math.expm1(-a * x / (1 + x)) <= result.p_any_remaining <= a * x
    assert result.p_any_remaining > 0 and result.expected_remaining > 0
    assert "never zero" in result.notes[0]


def test_the_cap_is_continuous_and_leaves_ordinary_surveys_unchanged() -> None:
    prior = GammaPrior(0.5, 1.0)
    ordinary = survey_confidence(prior, coverage=0.4, detection=0.9)
    q = 1 - 0.36
    assert ordinary.expected_remaining == pytest.approx(q * 0.5 / 1.36, rel=1e-12)
    assert ordinary.p_any_remaining == pytest.approx(1 - (1.36 / (1.36 + q)) ** 0.5, rel=1e-12)
    at_cap = survey_confidence(prior, coverage=1.0, detection=1.0 - MIN_MISS)
    perfect = survey_confidence(prior, coverage=1.0, detection=1.0)
    assert perfect.p_any_remaining == pytest.approx(at_cap.p_any_remaining, rel=1e-12)
    sweep = survey_confidence(prior, coverage=1.0, detection=np.linspace(0.9, 1.0, 101))
    assert np.all(np.diff(sweep.p_any_remaining) <= 0) and np.all(sweep.p_any_remaining > 0)
