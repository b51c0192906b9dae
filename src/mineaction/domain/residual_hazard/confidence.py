"""Confidence in surveyed and cleared land: what remains after a search, and QC sampling plans.

Technical survey
----------------
An area holds ``N ~ Poisson(λ)`` items (``λ`` in items per area, so area
units are "whole areas"), with a ``Gamma(a, b)`` belief on ``λ`` (shape
``a``, rate ``b``: ``b`` is how many areas' worth of search the prior is
worth). A survey searches a fraction ``c`` of the area and detects each item
there with probability ``p_d``, so each item is found with probability
``c·p_d``, independently. By Poisson thinning the found count ``D`` and the
missed count ``U`` are independent::

    D | λ ~ Poisson(λ·c·p_d),   U | λ ~ Poisson(λ·(1 − c·p_d))

Finding ``D = d`` items gives the conjugate posterior
``λ | d ~ Gamma(a + d, b + c·p_d)`` (``Gamma(a, b + c·p_d)`` when nothing is
found). The items that remain are the missed ones, ``U``; with
``a' = a + d``, ``b' = b + c·p_d`` and ``q = 1 − c·p_d``::

    E[U | d]      = q·a'/b'
    P(U ≥ 1 | d)  = 1 − E[exp(−q·λ)] = 1 − (b' / (b' + q))^a'

(the Gamma Laplace transform; ``U`` is negative binomial). The expression
``1 − (b'/(b' + 1))^a'`` sometimes quoted is the predictive of a fresh,
unsearched area with the updated density: it ignores that the search itself
made the missed count smaller, so it overstates the residual probability (it
is the ``q = 1`` case). Residual risk is never zero; report it.

Under this model a search with ``c·p_d = 1`` finds every item and leaves
``q = 0``: exactly nothing, which no survey can show (items deeper than the
detector reaches, a lane skipped, a signal dismissed, a record lost). So the
share found is capped: ``c·p_d ≤ 1 − MIN_MISS``, i.e. each item escapes even
a complete search with a perfect detector with probability at least
``MIN_MISS`` = 1 in 1,000. With ``q ≥ MIN_MISS > 0`` both ``E[U | d]`` and
``P(U ≥ 1 | d)`` stay above zero for every prior (``a', b' > 0``), which is
what the notes promise; surveys with ``c·p_d ≤ 1 − MIN_MISS`` are unchanged.

Quality control
---------------
Inspection of cleared land by acceptance sampling (ISO 2859 family): a lot
passes if a sample of ``n`` units holds at most ``c`` defects. The operating
characteristic (OC) curve is the probability of passing as a function of the
lot's defect rate ``p``: binomial (large lots, or sampling with replacement)
or hypergeometric (a lot of ``N`` units with ``round(p·N)`` defects).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from mineaction.domain.residual_hazard._validation import (
    Param,
    count,
    parameter,
    scalar_or_array,
    whole,
)
from mineaction.domain.residual_hazard._validation import (
    level as check_level,
)
from mineaction.errors import InvalidValue

__all__ = ["MIN_MISS", "GammaPrior", "SurveyConfidence", "acceptance_probability", "survey_confidence"]

#: least chance that an item escapes any search (see the module's note): residual risk is never zero
MIN_MISS = 1e-3


@dataclass(frozen=True)
class GammaPrior:
    """Gamma belief on the expected number of items in an area (shape ``a``, rate ``b``).

    Examples
    --------
    >>> GammaPrior(shape=2, rate=0.5).mean
    4.0
    """

    shape: Param
    rate: Param

    def __post_init__(self) -> None:
        for name in ("shape", "rate"):
            value = parameter(f"gamma.{name}", getattr(self, name), low=0.0, low_open=True)
            object.__setattr__(self, name, value)

    @property
    def mean(self) -> Param:
        """Expected number of items, ``a/b``."""
        return scalar_or_array(np.divide(self.shape, self.rate))

    def interval(self, level: float = 0.9) -> tuple[Param, Param]:
        """Equal-tailed credible interval of ``λ``."""
        tail = (1.0 - check_level(level)) / 2.0
        scale = np.divide(1.0, self.rate)
        return (
            scalar_or_array(stats.gamma.ppf(tail, self.shape, scale=scale)),
            scalar_or_array(stats.gamma.isf(tail, self.shape, scale=scale)),
        )


@dataclass(frozen=True, eq=False)
class SurveyConfidence:
    """What a survey says about the items that may remain."""

    prior: GammaPrior
    posterior: GammaPrior
    coverage: Param
    detection: Param
    found: Param
    expected_remaining: Param
    p_any_remaining: Param

    @property
    def notes(self) -> tuple[str, ...]:
        """Caveats every report of this result carries."""
        return (
            (
                f"Residual risk is never zero: P(≥ 1 item remains) is reported, not hidden; even a complete "
                f"search with a perfect detector is taken to miss each item with probability {MIN_MISS:g}."
            ),
            (
                "Assumes items spread uniformly over the area and independent detection with the "
                "stated probability; clustered contamination or a detector that misses deep items "
                "makes the true residual risk higher."
            ),
        )


def survey_confidence(
    prior: GammaPrior, coverage: ArrayLike, detection: ArrayLike, found: ArrayLike = 0
) -> SurveyConfidence:
    """Posterior belief and residual items after a survey (vectorised over arrays).

    Parameters
    ----------
    prior
        Gamma belief on the expected number of items in the whole area.
    coverage
        Fraction ``c`` of the area searched, in [0, 1].
    detection
        Probability ``p_d`` of detecting an item in the searched part, in [0, 1]; ``c·p_d`` counts as at most
        ``1 − MIN_MISS``.
    found
        Items found (and removed); 0 for a survey that found nothing.

    Examples
    --------
    >>> r = survey_confidence(GammaPrior(shape=0.5, rate=1.0), coverage=0.4, detection=0.9)
    >>> r.posterior
    GammaPrior(shape=0.5, rate=1.36)
    >>> round(r.expected_remaining, 4), round(r.p_any_remaining, 4)  # q = 0.64
    (0.2353, 0.1754)
    """
    c = parameter("coverage", coverage, low=0.0, high=1.0)
    p_d = parameter("detection", detection, low=0.0, high=1.0)
    d = count("found", found)
    searched = np.minimum(np.multiply(c, p_d), 1.0 - MIN_MISS)
    posterior = GammaPrior(np.add(prior.shape, d), np.add(prior.rate, searched))
    missed_share = 1.0 - searched
    expected = missed_share * np.asarray(posterior.mean)
    p_any = -np.expm1(
        -np.multiply(posterior.shape, np.log1p(missed_share / np.asarray(posterior.rate)))
    )
    return SurveyConfidence(
        prior=prior,
        posterior=posterior,
        coverage=c,
        detection=p_d,
        found=d,
        expected_remaining=scalar_or_array(expected),
        p_any_remaining=scalar_or_array(p_any),
    )


def acceptance_probability(
    defect_rate: ArrayLike,
    sample_size: int,
    acceptance_number: int,
    lot_size: int | None = None,
) -> Param:
    """Operating characteristic: probability that a lot with defect rate ``p`` passes.

    Parameters
    ----------
    defect_rate
        Share ``p`` of defective units in the lot, in [0, 1] (array for a curve).
    sample_size
        Units inspected, ``n`` ≥ 1.
    acceptance_number
        Most defects allowed in the sample, ``0 ≤ c ≤ n``.
    lot_size
        ``N`` units in the lot for the hypergeometric (exact, without
        replacement) curve; None for the binomial curve.

    Examples
    --------
    >>> acceptance_probability([0.0, 0.05, 0.1], sample_size=20, acceptance_number=0).round(4)
    array([1.    , 0.3585, 0.1216])
    >>> acceptance_probability(0.05, 20, 0, lot_size=100)  # 5 defects among 100
    0.3193...
    """
    p = np.asarray(parameter("defect_rate", defect_rate, low=0.0, high=1.0))
    n = whole("sample_size", sample_size, low=1)
    c = whole("acceptance_number", acceptance_number, low=0)
    if c > n:
        raise InvalidValue(f"acceptance_number: must be ≤ sample_size ({n}), got {c}")
    if lot_size is None:
        return scalar_or_array(stats.binom.cdf(c, n, p))
    lot = whole("lot_size", lot_size, low=n)
    defects = np.rint(p * lot)
    return scalar_or_array(stats.hypergeom.cdf(c, lot, defects, n))
