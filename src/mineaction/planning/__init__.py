"""Planning from the register: which hazards to clear first, and when the work will be done.

The application layer of issue 6. It reads the register (and the context
layers a user loads), assembles the inputs of the pure planning mathematics in
:mod:`mineaction.domain.prioritisation` and :mod:`mineaction.domain.forecast`,
and returns results that say where their figures come from:

* :func:`criteria_matrix` → :func:`prioritise`: ranked hazards, each
  criterion's contribution, rank stability under perturbed weights;
* :func:`forecast_inputs` → :func:`forecast_completion` or
  :func:`compare_plans`: P50/P90 completion per admin area and nationally, and
  what a change of teams or work order buys.
"""

from mineaction.planning.completion import (
    ORDERS,
    Comparison,
    Completion,
    compare_plans,
    forecast_completion,
)
from mineaction.planning.criteria import CriteriaMatrix, CriteriaOptions, criteria_matrix
from mineaction.planning.forecast_inputs import (
    ForecastInputs,
    clearance_rates,
    forecast_inputs,
    learned_productivity,
    release_share_history,
)
from mineaction.planning.hazards import LiveHazards, live_hazards
from mineaction.planning.ranking import METHODS, Prioritisation, prioritise, read_pairwise

__all__ = [
    "METHODS",
    "ORDERS",
    "Comparison",
    "Completion",
    "CriteriaMatrix",
    "CriteriaOptions",
    "ForecastInputs",
    "LiveHazards",
    "Prioritisation",
    "clearance_rates",
    "compare_plans",
    "criteria_matrix",
    "forecast_completion",
    "forecast_inputs",
    "learned_productivity",
    "live_hazards",
    "prioritise",
    "read_pairwise",
    "release_share_history",
]
