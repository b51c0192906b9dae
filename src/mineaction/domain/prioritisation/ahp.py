"""Criterion weights from pairwise judgements: Saaty's Analytic Hierarchy Process.

Stakeholders find "schools matter 3 times as much as roads" easier to agree on
than a list of weights. AHP turns a reciprocal matrix of such judgements
(``a_ij`` = importance of i over j on Saaty's 1–9 scale, ``a_ji = 1/a_ij``)
into weights, the normalised principal eigenvector, and measures how
consistent the judgements are:

* ``lambda_max``: the principal eigenvalue; equal to n only for perfectly
  consistent judgements (``a_ij = w_i / w_j``), larger otherwise;
* consistency index ``CI = (lambda_max - n) / (n - 1)``;
* consistency ratio ``CR = CI / RI(n)``, with Saaty's random index RI, the
  mean CI of random reciprocal matrices.

Saaty's rule accepts CR < 0.10; :func:`ahp` refuses worse judgements and names
the comparisons that disagree most with the weights they produce, so the
group knows which to revisit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mineaction.errors import InvalidValue

__all__ = ["AHP", "SAATY_RANDOM_INDEX", "ahp", "pairwise_matrix"]

SAATY_RANDOM_INDEX: Mapping[int, float] = MappingProxyType(
    {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45}
)
"""Saaty's random index RI(n) for n = 1..9 (n = 1, 2 are always consistent)."""

_RECIPROCITY_RTOL = 1e-2


@dataclass(frozen=True)
class Comparison:
    """One judgement set against the ratio the final weights imply."""

    first: str
    second: str
    judged: float  # a_ij
    implied: float  # w_i / w_j

    @property
    def factor(self) -> float:
        """How many times the judgement and the weights disagree (≥ 1)."""
        ratio = self.judged / self.implied
        return max(ratio, 1 / ratio)

    def __str__(self) -> str:
        return (
            f"{self.first} vs {self.second}: judged {self.judged:.3g}, "
            f"weights imply {self.implied:.3g} (×{self.factor:.2f} apart)"
        )


@dataclass(frozen=True, eq=False)
class AHP:
    """Weights and consistency of one pairwise comparison matrix."""

    labels: tuple[str, ...]
    matrix: NDArray[np.float64]
    weights: NDArray[np.float64]
    lambda_max: float
    ci: float
    ri: float
    cr: float

    def most_inconsistent(self, k: int = 3) -> list[Comparison]:
        """The ``k`` judgements farthest (by ratio) from what the weights imply."""
        n = len(self.labels)
        pairs = [
            Comparison(
                self.labels[i],
                self.labels[j],
                float(self.matrix[i, j]),
                float(self.weights[i] / self.weights[j]),
            )
            for i in range(n)
            for j in range(i + 1, n)
        ]
        return sorted(pairs, key=lambda c: c.factor, reverse=True)[:k]


def pairwise_matrix(labels: Sequence[str], judgements: Mapping[tuple[str, str], float]) -> NDArray[np.float64]:
    """Build the full reciprocal matrix from one judgement per pair.

    Parameters
    ----------
    labels : sequence of str
        The criteria, in matrix order.
    judgements : mapping of (str, str) to float
        ``{(a, b): v}`` means a is v times as important as b; each unordered
        pair exactly once.

    Examples
    --------
    >>> pairwise_matrix(["people", "cost"], {("cost", "people"): 1 / 3})
    array([[1.        , 3.        ],
           [0.33333333, 1.        ]])
    """
    index = {label: i for i, label in enumerate(labels)}
    n = len(index)
    matrix = np.eye(n)
    seen: set[frozenset[str]] = set()
    for (a, b), value in judgements.items():
        if a not in index or b not in index or a == b:
            raise InvalidValue(f"judgement ({a!r}, {b!r}) does not name two different criteria")
        if frozenset((a, b)) in seen:
            raise InvalidValue(f"the pair {a!r}/{b!r} is judged twice")
        if not (np.isfinite(value) and value > 0):
            raise InvalidValue(f"judgement {a!r} over {b!r} must be a positive number, not {value!r}")
        seen.add(frozenset((a, b)))
        matrix[index[a], index[b]], matrix[index[b], index[a]] = value, 1 / value
    if len(seen) != n * (n - 1) // 2:
        missing = [
            (a, b) for i, a in enumerate(labels) for b in labels[i + 1 :] if frozenset((a, b)) not in seen
        ]
        raise InvalidValue(f"missing judgements for {missing}")
    return matrix


def _check(matrix: NDArray[np.float64]) -> None:
    n = matrix.shape[0]
    if matrix.ndim != 2 or matrix.shape != (n, n) or n == 0:
        raise InvalidValue(f"pairwise matrix must be square and non-empty, got shape {matrix.shape}")
    if n not in SAATY_RANDOM_INDEX:
        raise InvalidValue(
            f"{n} criteria in one comparison: Saaty's random index is tabulated for at most 9",
            hint="group the criteria into a hierarchy of at most 9 per level",
        )
    if not (np.isfinite(matrix).all() and (matrix > 0).all()):
        raise InvalidValue("pairwise judgements must be positive finite numbers")
    if not np.allclose(np.diag(matrix), 1.0):
        raise InvalidValue("a criterion compared with itself must be 1 (the diagonal)")
    off = np.abs(matrix * matrix.T - 1)
    if (off > _RECIPROCITY_RTOL).any():
        i, j = np.unravel_index(np.argmax(off), off.shape)
        raise InvalidValue(
            f"judgements are not reciprocal: a[{i},{j}] = {matrix[i, j]:.4g} but "
            f"a[{j},{i}] = {matrix[j, i]:.4g} (should be {1 / matrix[i, j]:.4g})",
            hint="enter fractions exactly (1/7, not 0.14), or build the matrix with pairwise_matrix",
        )


def ahp(
    pairwise: ArrayLike,
    labels: Sequence[str] | None = None,
    *,
    max_cr: float | None = 0.10,
) -> AHP:
    """Weights and consistency ratio of a pairwise comparison matrix.

    Parameters
    ----------
    pairwise : array_like, shape (n, n)
        Positive reciprocal matrix, ``a_ij`` = importance of i over j; 1 ≤ n ≤ 9.
    labels : sequence of str, optional
        Names of the criteria, used in the error message (default c0..).
    max_cr : float or None
        Refuse matrices whose CR is at or above this (Saaty: 0.10); ``None``
        returns the result whatever the consistency, e.g. to show it.

    Returns
    -------
    AHP
        ``weights`` (sum 1), ``lambda_max``, ``ci``, ``ri``, ``cr``.

    Raises
    ------
    InvalidValue
        The matrix is not square, positive and reciprocal, has more than 9
        rows, or is too inconsistent (the message names the worst judgements).

    Examples
    --------
    Perfectly consistent judgements give the weights back and CR = 0:

    >>> w = np.array([0.5, 0.3, 0.2])
    >>> result = ahp(w[:, None] / w[None, :])
    >>> result.weights.round(12), round(result.cr, 12)
    (array([0.5, 0.3, 0.2]), 0.0)

    Contradictory ones (A > B > C yet C > A) are refused:

    >>> ahp([[1, 3, 1/5], [1/3, 1, 3], [5, 1/3, 1]], ["A", "B", "C"])
    Traceback (most recent call last):
    ...
    mineaction.errors.InvalidValue: consistency ratio 1.58 ≥ 0.1: ...
    """
    matrix = np.asarray(pairwise, dtype=float)
    _check(matrix)
    n = matrix.shape[0]
    names = tuple(f"c{i}" for i in range(n)) if labels is None else tuple(labels)
    if len(names) != n:
        raise InvalidValue(f"expected {n} labels, got {len(names)}")
    eigenvalues, eigenvectors = np.linalg.eig(matrix)
    k = int(np.argmax(eigenvalues.real))
    vector = np.abs(eigenvectors[:, k].real)  # Perron vector: one sign, real
    lambda_max = float(eigenvalues[k].real)
    # lambda_max >= n for any positive reciprocal matrix; below n is rounding noise
    ci = max(0.0, (lambda_max - n) / (n - 1)) if n > 1 else 0.0
    ri = SAATY_RANDOM_INDEX[n]
    result = AHP(names, matrix, vector / vector.sum(), lambda_max, ci, ri, ci / ri if ri else 0.0)
    if max_cr is not None and result.cr >= max_cr:
        worst = "; ".join(str(c) for c in result.most_inconsistent())
        raise InvalidValue(
            f"consistency ratio {result.cr:.3g} ≥ {max_cr}: the judgements contradict each other. "
            f"Most inconsistent: {worst}",
            hint="revisit those comparisons with the group and judge them again",
        )
    return result
