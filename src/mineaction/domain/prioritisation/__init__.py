"""Ranking hazards for clearance: criteria, methods, explanations.

Pure planning mathematics, no database: callers assemble a decision matrix
(one row per hazard, one column per :class:`Criterion`), choose weights (or
derive them with :func:`ahp`), rank with :func:`weighted_sum` or
:func:`topsis`, show why with :func:`explain`, and check how much the ranking
depends on the weights with :func:`sensitivity`. The spatial helpers compute
criteria such as the population near each hazard.
"""

from mineaction.domain.prioritisation.ahp import AHP, SAATY_RANDOM_INDEX, ahp, pairwise_matrix
from mineaction.domain.prioritisation.criteria import (
    STANDARD_CRITERIA,
    Criterion,
    Direction,
    directions_of,
)
from mineaction.domain.prioritisation.explain import Sensitivity, explain, sensitivity
from mineaction.domain.prioritisation.methods import topsis, weighted_sum
from mineaction.domain.prioritisation.ranking import Ranking
from mineaction.domain.prioritisation.spatial import (
    ProjectedHazards,
    count_within,
    metric_crs,
    population_within,
    population_within_raster,
    project_hazards,
)

__all__ = [
    "AHP",
    "SAATY_RANDOM_INDEX",
    "STANDARD_CRITERIA",
    "Criterion",
    "Direction",
    "ProjectedHazards",
    "Ranking",
    "Sensitivity",
    "ahp",
    "count_within",
    "directions_of",
    "explain",
    "metric_crs",
    "pairwise_matrix",
    "population_within",
    "population_within_raster",
    "project_hazards",
    "sensitivity",
    "topsis",
    "weighted_sum",
]
