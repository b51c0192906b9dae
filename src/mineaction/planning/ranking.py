"""Rank the live hazards on their criteria, show why, and show how much the order hangs on the weights.

Three ways to weigh the criteria:

``weighted_sum``
    min-max normalised criteria, weighted and summed;
``topsis``
    closeness to the ideal hazard-to-clear;
``ahp``
    weights from pairwise judgements (Saaty; refused when the consistency
    ratio is 0.10 or more, naming the judgements to revisit), then the
    weighted sum, as in classic AHP.

Given no weights, every criterion weighs the same. Given weights (or AHP
judgements), the ranking uses exactly the criteria they name.

Pairwise judgements are read from YAML, one mapping per criterion of how many
times more important it is than others (fractions written as ``1/3``)::

    population_nearby:
      cost_per_m2: 5
      blocked_land_use: 2
    blocked_land_use:
      cost_per_m2: 3
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml

from mineaction.domain.prioritisation import (
    AHP,
    Ranking,
    Sensitivity,
    ahp,
    directions_of,
    pairwise_matrix,
    sensitivity,
    topsis,
    weighted_sum,
)
from mineaction.errors import InvalidValue
from mineaction.planning.criteria import CriteriaMatrix

__all__ = ["METHODS", "Prioritisation", "prioritise", "read_pairwise"]

Method = Literal["weighted_sum", "topsis", "ahp"]
METHODS: tuple[Method, ...] = ("weighted_sum", "topsis", "ahp")


@dataclass(frozen=True, eq=False)
class Prioritisation:
    """A ranking of the live hazards with its weights, explanation and stability."""

    matrix: CriteriaMatrix
    method: Method
    weights: Mapping[str, float]
    ranking: Ranking
    sensitivity: Sensitivity
    ahp: AHP | None = None

    def table(self) -> pd.DataFrame:
        """Most urgent first: ref, admin area, rank, score and each criterion's contribution.

        For the weighted sum the contributions add up to the score; for TOPSIS
        to the score minus 0.5.
        """
        hazards = self.matrix.hazards
        order = self.ranking.order()
        frame = pd.DataFrame(self.ranking.contributions[order],
                             columns=[f"{name}_contribution" for name in self.ranking.criteria])
        frame.insert(0, "score", self.ranking.scores[order])
        frame.insert(0, "rank", self.ranking.ranks[order])
        frame.insert(0, "admin_pcode", [hazards.admin_pcode[i] for i in order])
        frame.insert(0, "ref", [hazards.refs[i] for i in order])
        return frame

    def sensitivity_table(self) -> pd.DataFrame:
        """Per hazard, in rank order: share of perturbed runs its rank changed, and its P5–P95 ranks."""
        frame = pd.DataFrame(self.sensitivity.to_rows()).rename(columns={"alternative": "ref"})
        frame.insert(1, "admin_pcode", frame["ref"].map(dict(zip(self.matrix.hazards.refs,
                                                                  self.matrix.hazards.admin_pcode))))
        return frame


def _fraction(value: object, where: str) -> float:
    try:
        number = float(Fraction(str(value).strip()))
    except (ValueError, ZeroDivisionError):
        raise InvalidValue(f"{where}: {value!r} is not a number or a fraction like 1/3") from None
    return number


def read_pairwise(path: Path) -> dict[tuple[str, str], float]:
    """Pairwise judgements ``{(a, b): v}`` (a is v times as important as b) from a YAML file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidValue(f"{path}: cannot read pairwise judgements ({exc})") from None
    if not isinstance(document, dict) or not all(isinstance(v, dict) for v in document.values()):
        raise InvalidValue(f"{path}: expected a mapping of criterion to {{other criterion: times as important}}",
                           hint="e.g. population_nearby: {cost_per_m2: 5, blocked_land_use: 1/2}")
    return {(str(a), str(b)): _fraction(v, f"{path.name}: {a} over {b}")
            for a, others in document.items() for b, v in others.items()}


def _labels(judgements: Mapping[tuple[str, str], float]) -> list[str]:
    return list(dict.fromkeys(name for pair in judgements for name in pair))


def prioritise(
    matrix: CriteriaMatrix,
    *,
    method: Method = "weighted_sum",
    weights: Mapping[str, float] | None = None,
    judgements: Mapping[tuple[str, str], float] | None = None,
    runs: int = 500,
    seed: int = 0,
) -> Prioritisation:
    """Rank ``matrix``'s hazards and test the ranking against perturbed weights.

    Parameters
    ----------
    matrix : CriteriaMatrix
    method : {"weighted_sum", "topsis", "ahp"}
    weights : mapping of criterion name to weight, optional
        Not with ``ahp``. Default: equal weights on every criterion.
    judgements : mapping of (criterion, criterion) to float
        Required with ``ahp``: each pair once (see :func:`read_pairwise`).
    runs, seed : int
        Perturbed weight vectors of the sensitivity analysis, and its seed.

    Raises
    ------
    InvalidValue
        Unknown method or criterion, judgements missing or given without
        ``ahp``, or AHP judgements with CR ≥ 0.10 (the message names the most
        inconsistent comparisons).
    """
    if method not in METHODS:
        raise InvalidValue(f"unknown method {method!r}", hint=f"use one of {', '.join(METHODS)}")
    found: AHP | None = None
    if method == "ahp":
        if judgements is None or weights is not None:
            raise InvalidValue("AHP derives the weights from pairwise judgements",
                               hint="give the judgements (--pairwise FILE.yaml) and no weights")
        labels = _labels(judgements)
        matrix = matrix.select(labels)
        found = ahp(pairwise_matrix(labels, judgements), labels)
        chosen = dict(zip(labels, found.weights.tolist()))
    elif judgements is not None:
        raise InvalidValue("pairwise judgements are only used by the AHP method", hint="use --method ahp")
    elif weights is not None:
        matrix = matrix.select(list(weights))
        chosen = dict(weights)
    else:
        chosen = dict.fromkeys(matrix.names, 1 / len(matrix.names))
    score_with: Literal["weighted_sum", "topsis"] = "topsis" if method == "topsis" else "weighted_sum"
    w = np.array([chosen[name] for name in matrix.names], dtype=float)
    directions = directions_of(matrix.criteria)
    rank = topsis if score_with == "topsis" else weighted_sum
    ranking = rank(matrix.values, w, directions, alternatives=matrix.hazards.refs, criteria=matrix.names)
    stability = sensitivity(matrix.values, w, directions, method=score_with, runs=runs, seed=seed,
                            alternatives=matrix.hazards.refs, criteria=matrix.names)
    total = w.sum()
    return Prioritisation(matrix, method, {n: float(v / total) for n, v in zip(matrix.names, w)},
                         ranking, stability, found)
