"""Multi-criteria ranking: weighted sum and TOPSIS, with each criterion's contribution.

Both methods take a decision matrix (one row per hazard, one column per
criterion), non-negative weights (normalised here to sum 1) and each
criterion's direction. They share one scoring path that evaluates many weight
vectors at once, so sensitivity analysis (:mod:`.explain`) scores exactly as a
single ranking does, bit for bit.

Weighted sum
    Each column is min-max normalised to [0, 1] with 1 the most urgent value
    (the largest for a benefit criterion, the smallest for a cost criterion);
    the score is the weighted sum. A constant column normalises to 0: it cannot
    tell hazards apart, so it adds nothing. The contribution of criterion j to
    hazard i is ``w_j * n_ij``, and the contributions add up to the score.

TOPSIS (Hwang & Yoon, 1981)
    Columns are vector-normalised, ``r_ij = x_ij / sqrt(sum_i x_ij**2)``, and
    weighted, ``v_ij = w_j r_ij``. The ideal takes the most urgent value of each
    column and the anti-ideal the least urgent; ``D+`` and ``D-`` are Euclidean
    distances to them and the closeness is ``C = D- / (D+ + D-)`` in [0, 1].
    Because ``C - 1/2 = (D-**2 - D+**2) / (2 (D+ + D-)**2)`` and both squared
    distances are sums over criteria, the closeness splits exactly into
    ``1/2 + sum_j c_ij`` with ``c_ij = (d-_ij**2 - d+_ij**2) / (2 (D+ + D-)**2)``:
    criterion j pushes hazard i up when the hazard is nearer the ideal than
    the anti-ideal on it. When every column is constant (``D+ = D- = 0``) all
    hazards tie at 1/2.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mineaction.domain.prioritisation.criteria import Direction
from mineaction.domain.prioritisation.ranking import Ranking, ranks_from_scores
from mineaction.errors import InvalidValue

__all__ = ["MethodName", "topsis", "weighted_sum"]

MethodName = Literal["weighted_sum", "topsis"]
_RESERVED = frozenset({"alternative", "rank", "score"})


@dataclass(frozen=True, eq=False)
class Problem:
    """A validated decision matrix with normalised weights."""

    values: NDArray[np.float64]  # (n, m)
    weights: NDArray[np.float64]  # (m,), sums to 1
    benefit: NDArray[np.bool_]  # (m,)
    alternatives: tuple[Hashable, ...]
    criteria: tuple[str, ...]


def problem(
    matrix: ArrayLike,
    weights: ArrayLike,
    directions: Sequence[Direction | str],
    alternatives: Sequence[Hashable] | None = None,
    criteria: Sequence[str] | None = None,
) -> Problem:
    """Check and normalise the inputs every method shares."""
    values = np.asarray(matrix, dtype=float)
    if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
        raise InvalidValue(f"matrix: expected a non-empty 2-D table, got shape {values.shape}")
    n, m = values.shape
    names_alt = tuple(range(n)) if alternatives is None else tuple(alternatives)
    names_crit = tuple(f"c{j}" for j in range(m)) if criteria is None else tuple(criteria)
    if len(names_alt) != n or len(names_crit) != m:
        raise InvalidValue(f"expected {n} alternatives and {m} criterion names for a {n}×{m} matrix")
    if clash := _RESERVED.intersection(names_crit):
        raise InvalidValue(f"criterion names {sorted(clash)} are reserved for ranking columns")
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        i, j = bad[0]
        raise InvalidValue(
            f"matrix: {names_crit[j]} of {names_alt[i]} is {values[i, j]} "
            f"({len(bad)} missing or infinite values)",
            hint="fill or impute missing criteria before ranking; a gap must be a decision",
        )
    w = np.asarray(weights, dtype=float).reshape(-1)
    if w.shape != (m,) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise InvalidValue(f"weights: expected {m} finite values ≥ 0, not all zero; got {weights!r}")
    if len(directions) != m:
        raise InvalidValue(f"directions: expected {m}, got {len(directions)}")
    try:
        benefit = np.array([Direction(d) is Direction.BENEFIT for d in directions])
    except ValueError as exc:
        raise InvalidValue(f"directions: {exc}; use 'benefit' or 'cost'") from None
    return Problem(values, w / w.sum(), benefit, names_alt, names_crit)


def weighted_columns(values: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """``values @ weights.T`` summed in a fixed order, so each column is exact whatever k is.

    ``values`` is (n, m), ``weights`` is (k, m); the result is (n, k). BLAS may
    sum a product in a different order for different k, which would let a
    sensitivity run with unchanged weights disagree with the ranking in the
    last bit and break ties differently.
    """
    out = np.zeros((values.shape[0], weights.shape[0]))
    for j in range(values.shape[1]):
        out += values[:, j, None] * weights[None, :, j]
    return out


class Method(Protocol):
    """What a ranking method provides to :func:`rank` and to sensitivity analysis."""

    name: MethodName
    baseline: float

    def prepare(self, p: Problem) -> object: ...

    def scores(self, state: object, weights: NDArray[np.float64]) -> NDArray[np.float64]: ...

    def contributions(self, state: object, weights: NDArray[np.float64]) -> NDArray[np.float64]: ...


class _WeightedSum:
    name: MethodName = "weighted_sum"
    baseline = 0.0

    def prepare(self, p: Problem) -> NDArray[np.float64]:
        low, high = p.values.min(axis=0), p.values.max(axis=0)
        span = high - low
        towards_best = np.where(p.benefit, p.values - low, high - p.values)
        return np.divide(towards_best, span, out=np.zeros_like(p.values), where=span > 0)

    def scores(self, state: object, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        return weighted_columns(state, weights)  # type: ignore[arg-type]

    def contributions(self, state: object, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        return state * weights  # type: ignore[operator]


@dataclass(frozen=True, eq=False)
class _TopsisState:
    to_ideal: NDArray[np.float64]  # (r - r+)**2, unweighted
    to_anti: NDArray[np.float64]  # (r - r-)**2, unweighted


class _Topsis:
    name: MethodName = "topsis"
    baseline = 0.5

    def prepare(self, p: Problem) -> _TopsisState:
        norm = np.sqrt((p.values**2).sum(axis=0))
        r = np.divide(p.values, norm, out=np.zeros_like(p.values), where=norm > 0)
        best = np.where(p.benefit, r.max(axis=0), r.min(axis=0))
        worst = np.where(p.benefit, r.min(axis=0), r.max(axis=0))
        return _TopsisState((r - best) ** 2, (r - worst) ** 2)

    def _distances(
        self, s: _TopsisState, weights: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return (
            np.sqrt(weighted_columns(s.to_ideal, weights**2)),
            np.sqrt(weighted_columns(s.to_anti, weights**2)),
        )

    def scores(self, state: object, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        d_plus, d_minus = self._distances(state, weights)  # type: ignore[arg-type]
        total = d_plus + d_minus
        return np.divide(d_minus, total, out=np.full_like(total, 0.5), where=total > 0)

    def contributions(self, state: object, weights: NDArray[np.float64]) -> NDArray[np.float64]:
        s: _TopsisState = state  # type: ignore[assignment]
        d_plus, d_minus = self._distances(s, weights[None, :])
        scale = 2 * (d_plus + d_minus) ** 2
        parts = (s.to_anti - s.to_ideal) * weights**2
        return np.divide(parts, scale, out=np.zeros_like(parts), where=scale > 0)


METHODS: dict[str, Method] = {m.name: m for m in (_WeightedSum(), _Topsis())}


def rank(method: Method, p: Problem) -> Ranking:
    """Score, rank and explain one problem with one method."""
    state = method.prepare(p)
    scores = method.scores(state, p.weights[None, :])[:, 0]
    return Ranking(
        method=method.name,
        alternatives=p.alternatives,
        criteria=p.criteria,
        scores=scores,
        ranks=ranks_from_scores(scores),
        contributions=method.contributions(state, p.weights),
        baseline=method.baseline,
    )


def weighted_sum(
    matrix: ArrayLike,
    weights: ArrayLike,
    directions: Sequence[Direction | str],
    *,
    alternatives: Sequence[Hashable] | None = None,
    criteria: Sequence[str] | None = None,
) -> Ranking:
    """Rank alternatives by the weighted sum of min-max normalised criteria.

    Parameters
    ----------
    matrix : array_like, shape (n, m)
        Raw criterion values, one row per hazard; NaN is refused.
    weights : array_like, shape (m,)
        Relative importance, ≥ 0; normalised to sum 1.
    directions : sequence of Direction or {"benefit", "cost"}, length m
    alternatives : sequence, length n, optional
        Hazard identifiers (default 0..n-1).
    criteria : sequence of str, length m, optional
        Criterion names (default c0..c{m-1}).

    Returns
    -------
    Ranking
        Scores in [0, 1]; contributions ``w_j n_ij`` sum to the score.

    Examples
    --------
    People nearby (benefit) and cost per m² (cost), weighted 3:1:

    >>> r = weighted_sum([[500, 2.0], [100, 1.0], [300, 4.0]], [3, 1], ["benefit", "cost"])
    >>> r.scores.round(4)
    array([0.9167, 0.25  , 0.375 ])
    >>> r.ranks
    array([1, 3, 2])
    >>> r.contributions.round(4)
    array([[0.75  , 0.1667],
           [0.    , 0.25  ],
           [0.375 , 0.    ]])
    """
    return rank(METHODS["weighted_sum"], problem(matrix, weights, directions, alternatives, criteria))


def topsis(
    matrix: ArrayLike,
    weights: ArrayLike,
    directions: Sequence[Direction | str],
    *,
    alternatives: Sequence[Hashable] | None = None,
    criteria: Sequence[str] | None = None,
) -> Ranking:
    """Rank alternatives by TOPSIS closeness to the ideal hazard-to-clear.

    Parameters are those of :func:`weighted_sum`.

    Returns
    -------
    Ranking
        Scores are closeness coefficients in [0, 1]; contributions add up to
        ``score - 0.5`` (see the module notes for the decomposition).

    Examples
    --------
    >>> r = topsis([[500, 2.0], [100, 1.0], [300, 4.0]], [3, 1], ["benefit", "cost"])
    >>> r.ranks
    array([1, 3, 2])
    >>> bool(np.allclose(r.scores, 0.5 + r.contributions.sum(axis=1)))
    True

    A hazard best on every criterion is the ideal itself:

    >>> float(topsis([[9, 1.0], [5, 2.0]], [1, 1], ["benefit", "cost"]).scores[0])
    1.0
    """
    return rank(METHODS["topsis"], problem(matrix, weights, directions, alternatives, criteria))
