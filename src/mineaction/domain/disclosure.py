"""Small-count suppression for published tables (victims, beneficiaries, by area and group).

A published count of 1 to 4 victims in a village, or of girls among them, can
identify people. Published tables therefore hide small counts, and enough
other cells that the hidden ones cannot be worked out from the totals.

Rules, applied to the table *with its margins* (row totals, column totals and
the grand total are cells like the others):

1. **Primary suppression.** Every count ``0 < n < threshold`` is hidden and
   shown as ``"<threshold"`` (a small total is as revealing as a small cell).
2. **Secondary suppression, line rule.** A row or column (the totals row and
   column included) with exactly one hidden cell gives that cell away by
   subtraction, so the smallest non-zero shown cell of that line is hidden
   too, shown as ``"x"``; rows and columns are swept until none has exactly
   one hidden cell.
3. **Audit.** Hidden cells can still be pinned down by combining lines, and
   by what the labels say: a ``<5`` cell holds 1..4 and an ``x`` cell at least
   5 (it would be ``<5`` otherwise). For every hidden cell a linear programme
   finds the smallest and largest value consistent with everything shown; if
   that range is narrower than 1 (one value left), the smallest non-zero
   shown cell of its row or column is hidden as well, and rules 2-3 repeat.

**Zeros** are shown and never hidden. A zero identifies nobody; hiding zeros
as secondary cells would also break the rule that an ``x`` cell holds at least
``threshold``. Where "nobody in this group" is itself sensitive, merge the
categories before publishing.

The threshold must be at least 3: with 2, ``<2`` would mean exactly 1. Some
tables cannot be published at all under these labels: four counts of 1 in a
row whose total is 4 are each exactly 1 whatever is hidden, since each
``<5`` cell holds at least 1. Such tables are refused (:class:`InvalidValue`,
naming the cell) rather than published; merge categories and try again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import linprog

from mineaction.errors import InvalidValue

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PRIMARY", "SECONDARY", "SHOWN", "suppress_small_counts", "suppression_pattern", "with_margins"]

SHOWN, PRIMARY, SECONDARY = 0, 1, 2


def with_margins(counts: ArrayLike) -> NDArray[np.int64]:
    """The table with a row-total column and a column-total row appended.

    >>> with_margins([[1, 2], [3, 4]])
    array([[ 1,  2,  3],
           [ 3,  4,  7],
           [ 4,  6, 10]])
    """
    values = np.asarray(counts, dtype=float)
    if values.ndim != 2 or 0 in values.shape:
        raise InvalidValue(f"expected a non-empty 2-D table of counts, got shape {values.shape}")
    if not (np.isfinite(values).all() and (values >= 0).all() and (values == np.round(values)).all()):
        raise InvalidValue("counts must be whole numbers ≥ 0 (no NaN: a missing count is not a zero)")
    table = values.astype(np.int64)
    full = np.zeros((table.shape[0] + 1, table.shape[1] + 1), dtype=np.int64)
    full[:-1, :-1] = table
    full[:-1, -1] = table.sum(axis=1)
    full[-1, :] = full[:-1, :].sum(axis=0)
    return full


def _line_equations(shape: tuple[int, int]) -> NDArray[np.float64]:
    """One row per line: its cells sum to its total (the last cell), as ``A @ cells = 0``."""
    rows, cols = shape
    eqs = []
    for r in range(rows):
        eq = np.zeros(shape)
        eq[r, :-1], eq[r, -1] = 1, -1
        eqs.append(eq.ravel())
    for c in range(cols):
        eq = np.zeros(shape)
        eq[:-1, c], eq[-1, c] = 1, -1
        eqs.append(eq.ravel())
    return np.array(eqs)


def _hide_smallest(full: NDArray[np.int64], codes: NDArray[np.int8], where: NDArray[np.bool_]) -> bool:
    """Hide the smallest non-zero shown cell among ``where``; False if there is none."""
    candidates = where & (codes == SHOWN) & (full > 0)
    if not candidates.any():
        return False
    flat = np.flatnonzero(candidates)
    codes.flat[flat[np.argmin(full.flat[flat])]] = SECONDARY
    return True


def _apply_line_rule(full: NDArray[np.int64], codes: NDArray[np.int8]) -> None:
    changed = True
    while changed:
        changed = False
        for axis in (0, 1):
            hidden_per_line = (codes > 0).sum(axis=1 - axis)
            for line in np.flatnonzero(hidden_per_line == 1):
                mask = np.zeros(codes.shape, dtype=bool)
                if axis == 0:
                    mask[line, :] = True
                else:
                    mask[:, line] = True
                # a line holding a positive hidden cell has a positive shown cell too (its total
                # or a part of it), so this always finds one
                changed |= _hide_smallest(full, codes, mask)


def _feasible_range(
    full: NDArray[np.int64], codes: NDArray[np.int8], threshold: int, equations: NDArray[np.float64]
) -> list[tuple[int, float, float]]:
    """(flat index, lowest, highest) value of each hidden cell given what is published."""
    hidden = np.flatnonzero(codes.ravel() > 0)
    shown = np.flatnonzero(codes.ravel() == SHOWN)
    a_eq = equations[:, hidden]
    b_eq = -equations[:, shown] @ full.ravel()[shown].astype(float)
    bounds = [(1, threshold - 1) if codes.flat[i] == PRIMARY else (threshold, None) for i in hidden]
    ranges = []
    for k, cell in enumerate(hidden):
        objective = np.zeros(len(hidden))
        objective[k] = 1
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        # the published table is itself a solution, so the lowest value always exists
        assert low.fun is not None
        top = np.inf if high.status == 3 or high.fun is None else -high.fun  # status 3: unbounded above
        ranges.append((int(cell), float(low.fun), float(top)))
    return ranges


def suppression_pattern(counts: ArrayLike, threshold: int = 5) -> NDArray[np.int8]:
    """Which cells of the table with margins to hide, and why.

    Parameters
    ----------
    counts : array_like of int, shape (r, c)
        The interior counts, without totals.
    threshold : int
        Counts ``0 < n < threshold`` are hidden (≥ 3).

    Returns
    -------
    numpy.ndarray of int8, shape (r + 1, c + 1)
        ``SHOWN`` (0), ``PRIMARY`` (1) or ``SECONDARY`` (2) for each cell of
        :func:`with_margins` ``(counts)``.

    Examples
    --------
    The 2 would follow from its row total (9 − 7) and its column total
    (8 − 6), so the 7 and the 6 are hidden; then the 8 would follow from its
    totals, so it goes too. The four cells now hide one another (the 2 could be
    1, 2 or 3) and every total can stay:

    >>> with_margins([[2, 7], [6, 8]])
    array([[ 2,  7,  9],
           [ 6,  8, 14],
           [ 8, 15, 23]])
    >>> suppression_pattern([[2, 7], [6, 8]])
    array([[1, 2, 0],
           [2, 2, 0],
           [0, 0, 0]], dtype=int8)

    Zeros stay shown and never need protecting:

    >>> suppression_pattern([[0, 9], [6, 8]])
    array([[0, 0, 0],
           [0, 0, 0],
           [0, 0, 0]], dtype=int8)
    """
    if not (isinstance(threshold, int | np.integer) and threshold >= 3):
        raise InvalidValue(f"threshold must be a whole number ≥ 3, not {threshold!r}")
    full = with_margins(counts)
    codes = np.where((full > 0) & (full < threshold), PRIMARY, SHOWN).astype(np.int8)
    equations = _line_equations(full.shape)
    rows, cols = np.indices(full.shape)
    while True:
        _apply_line_rule(full, codes)
        if not (codes > 0).any():
            return codes
        ranges = _feasible_range(full, codes, threshold, equations)
        exposed = [cell for cell, low, high in ranges if high - low < 1 - 1e-9]
        if not exposed:
            return codes
        r, c = np.unravel_index(exposed[0], full.shape)
        if not (
            _hide_smallest(full, codes, (rows == r) | (cols == c))
            or _hide_smallest(full, codes, np.ones(full.shape, dtype=bool))
        ):
            raise InvalidValue(
                f"the table cannot be published at threshold {threshold}: even with every count "
                f"hidden, the cell in row {r}, column {c} (0-based, totals last) can be worked "
                f"out from the labels, e.g. small counts adding up to a small total",
                hint="merge small categories or areas before publishing",
            )


def suppress_small_counts(
    table: pd.DataFrame,
    threshold: int = 5,
    *,
    total_label: str = "Total",
    hidden_label: str = "x",
) -> pd.DataFrame:
    """A publishable copy of a count table: margins added, small counts hidden.

    Parameters
    ----------
    table : pandas.DataFrame
        Counts (whole numbers ≥ 0), e.g. victims by oblast (rows) and
        sex-and-age group (columns), without totals.
    threshold : int
        Counts ``0 < n < threshold`` are shown as ``"<threshold"``.
    total_label : str
        Label of the added total row and column.
    hidden_label : str
        Shown for cells hidden only to protect others (they hold at least
        ``threshold``).

    Returns
    -------
    pandas.DataFrame of str
        Same row and column labels plus the totals.

    Examples
    --------
    >>> import pandas as pd
    >>> victims = pd.DataFrame({"women": [2, 6], "men": [7, 8]}, index=["Kharkiv", "Kherson"])
    >>> suppress_small_counts(victims)
            women men Total
    Kharkiv    <5   x     9
    Kherson     x   x    14
    Total       8  15    23
    """
    import pandas as pd

    full = with_margins(table.to_numpy())
    codes = suppression_pattern(table.to_numpy(), threshold)
    labels = np.where(codes == SECONDARY, hidden_label, full.astype(str))
    text = np.where(codes == PRIMARY, f"<{threshold}", labels)
    return pd.DataFrame(
        text,
        index=pd.Index([*table.index, total_label], name=table.index.name),
        columns=pd.Index([*table.columns, total_label], name=table.columns.name),
    )
