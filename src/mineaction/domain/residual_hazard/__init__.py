"""Residual hazard from non-persistent anti-personnel mines, as a hazard to civilians.

Pure, vectorised NumPy/SciPy models; no database. A
:class:`ReliabilityProfile` states what is assumed about self-destruct (SD)
and self-deactivation (SDA), with its provenance. From it:

* :func:`functional_fraction` ``f(t)`` and :func:`explosive_fraction` ``e(t)``
  (:mod:`.survival`), checked against the CCW Amended Protocol II design
  bounds by :func:`check_ccw_bounds`;
* counts of functional mines and ``P(≥ 1 functional mine)`` under a Poisson or
  negative-binomial number of mines (:mod:`.counts`), with credible bands
  (:mod:`.credible`), assembled by :func:`assess_residual_hazard` for one area
  and :func:`assess_hazard_grid` for a register of hazards × dates;
* learning from clearance finds with a detection correction
  (:func:`update_from_finds`);
* confidence after technical survey and QC operating characteristics
  (:mod:`.confidence`);
* a Monte Carlo over individual mines that checks every closed form
  (:mod:`.simulation`).

A self-deactivated mine still holds explosive: ``e(t)`` is shown beside
``f(t)`` in every result, and elapsed time is never a land-release method.
"""

from mineaction.domain.residual_hazard.assessment import assess_hazard_grid, assess_residual_hazard
from mineaction.domain.residual_hazard.ccw_bounds import CcwBoundCheck, check_ccw_bounds
from mineaction.domain.residual_hazard.confidence import (
    GammaPrior,
    SurveyConfidence,
    acceptance_probability,
    survey_confidence,
)
from mineaction.domain.residual_hazard.counts import (
    expected_functional,
    prob_any_functional,
    prob_no_functional,
)
from mineaction.domain.residual_hazard.credible import (
    Band,
    fraction_bands,
    functional_count_interval,
)
from mineaction.domain.residual_hazard.distributions import (
    Beta,
    Gamma,
    LogNormal,
    PointMass,
    TimeDistribution,
    Weibull,
)
from mineaction.domain.residual_hazard.evidence import (
    DetectionProbability,
    EvidenceUpdate,
    FindCounts,
    update_from_finds,
)
from mineaction.domain.residual_hazard.profiles import (
    Provenance,
    ReliabilityProfile,
    load_profiles,
    save_profiles,
    shipped_profiles,
)
from mineaction.domain.residual_hazard.results import HazardGrid, ResidualHazardResult
from mineaction.domain.residual_hazard.simulation import (
    AreaSimulation,
    Estimate,
    MineSimulation,
    simulate_areas,
    simulate_finds,
    simulate_mines,
)
from mineaction.domain.residual_hazard.survival import (
    age_days,
    explosive_fraction,
    functional_fraction,
    survival_fractions,
)

__all__ = [
    "AreaSimulation",
    "Band",
    "Beta",
    "CcwBoundCheck",
    "DetectionProbability",
    "Estimate",
    "EvidenceUpdate",
    "FindCounts",
    "Gamma",
    "GammaPrior",
    "HazardGrid",
    "LogNormal",
    "MineSimulation",
    "PointMass",
    "Provenance",
    "ReliabilityProfile",
    "ResidualHazardResult",
    "SurveyConfidence",
    "TimeDistribution",
    "Weibull",
    "acceptance_probability",
    "age_days",
    "assess_hazard_grid",
    "assess_residual_hazard",
    "check_ccw_bounds",
    "expected_functional",
    "explosive_fraction",
    "fraction_bands",
    "functional_count_interval",
    "functional_fraction",
    "load_profiles",
    "prob_any_functional",
    "prob_no_functional",
    "save_profiles",
    "shipped_profiles",
    "simulate_areas",
    "simulate_finds",
    "simulate_mines",
    "survey_confidence",
    "survival_fractions",
    "update_from_finds",
]
