"""The result of ranking hazards: ranks, scores and why, ready to print as a table."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Ranking", "ranks_from_scores"]


def ranks_from_scores(scores: NDArray[np.float64]) -> NDArray[np.int64]:
    """Rank 1 for the highest score along axis 0; ties share the best rank ("1, 2, 2, 4").

    >>> ranks_from_scores(np.array([0.2, 0.9, 0.2, 0.5]))
    array([3, 1, 3, 2])
    """
    return rankdata(-scores, method="min", axis=0).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Ranking:
    """Alternatives (hazards) ranked by one method, with each criterion's share of the score.

    ``scores[i] == baseline + contributions[i].sum()`` holds for every
    alternative (to rounding), so a reader can see which criteria put a hazard
    where it is.

    Attributes
    ----------
    method : str
        ``"weighted_sum"`` or ``"topsis"``.
    alternatives : tuple
        Identifiers of the alternatives, in input order.
    criteria : tuple of str
        Criterion names, in input order.
    scores : numpy.ndarray, shape (n,)
        Higher is more urgent.
    ranks : numpy.ndarray of int, shape (n,)
        1 is the most urgent; ties share the best rank.
    contributions : numpy.ndarray, shape (n, m)
        Each criterion's additive part of each score.
    baseline : float
        The score of an alternative every criterion contributes nothing to
        (0 for weighted sum, 0.5 for TOPSIS).
    """

    method: str
    alternatives: tuple[Hashable, ...]
    criteria: tuple[str, ...]
    scores: NDArray[np.float64]
    ranks: NDArray[np.int64]
    contributions: NDArray[np.float64]
    baseline: float

    def order(self) -> NDArray[np.intp]:
        """Indices of the alternatives, most urgent first (ties in input order)."""
        return np.argsort(self.ranks, kind="stable")

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per alternative, most urgent first: alternative, rank, score, contributions.

        >>> from mineaction.domain.prioritisation import weighted_sum
        >>> r = weighted_sum([[10, 5], [0, 1]], [0.6, 0.4], ["benefit", "cost"],
        ...                  alternatives=["H-1", "H-2"], criteria=["people", "cost"])
        >>> for row in r.to_rows():
        ...     print(row)
        {'alternative': 'H-1', 'rank': 1, 'score': 0.6, 'people': 0.6, 'cost': 0.0}
        {'alternative': 'H-2', 'rank': 2, 'score': 0.4, 'people': 0.0, 'cost': 0.4}
        """
        return [
            {
                "alternative": self.alternatives[i],
                "rank": int(self.ranks[i]),
                "score": float(self.scores[i]),
                **dict(zip(self.criteria, self.contributions[i].tolist(), strict=True)),
            }
            for i in self.order()
        ]

    def to_frame(self) -> pd.DataFrame:
        """The rows of :meth:`to_rows` as a pandas DataFrame indexed by alternative."""
        import pandas as pd

        return pd.DataFrame(self.to_rows()).set_index("alternative")
