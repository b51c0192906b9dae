"""Small-count suppression: no hidden count can be recovered from what is published."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linprog

from mineaction.domain.disclosure import (
    PRIMARY,
    SECONDARY,
    SHOWN,
    suppress_small_counts,
    suppression_pattern,
    with_margins,
)
from mineaction.errors import InvalidValue

# counts as they come in casualty tables: many zeros, many small, some large
cell = st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 40))
tables = arrays(np.int64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=cell)


def _unknowns(full: np.ndarray, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and column sums of the table with margins as equations in the hidden cells:
    for each line, (sum of its hidden parts) - (its hidden total) = shown total - shown parts."""
    cells = np.flatnonzero(hidden.ravel())
    index = {c: k for k, c in enumerate(cells)}
    rows, cols = full.shape
    lines = [[(r, c) for c in range(cols)] for r in range(rows)] + [
        [(r, c) for r in range(rows)] for c in range(cols)
    ]
    a, b = [], []
    for line in lines:
        *parts, total = line
        eq, rhs = np.zeros(len(cells)), 0.0
        for (r, c), sign in [*((p, 1) for p in parts), (total, -1)]:
            flat = r * cols + c
            if flat in index:
                eq[index[flat]] += sign
            else:
                rhs -= sign * full[r, c]
        a.append(eq)
        b.append(rhs)
    return np.array(a), np.array(b)


def _pinned(full: np.ndarray, codes: np.ndarray, threshold: int) -> bool:
    """Whether a hidden cell has fewer than two values consistent with what is published
    (the line equations, <threshold cells holding 1..threshold-1, x cells at least threshold)."""
    a, b = _unknowns(full, codes != SHOWN)
    cells = np.flatnonzero(codes.ravel() != SHOWN)
    bounds = [(1, threshold - 1) if codes.flat[c] == PRIMARY else (threshold, None) for c in cells]
    for e in np.eye(len(cells)):
        low = linprog(e, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        high = linprog(-e, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        assert low.status == 0  # the true table is always a solution
        if high.status != 3 and (-high.fun) - low.fun < 1 - 1e-9:
            return True
    return False


@settings(max_examples=60, deadline=None)
@given(tables)
def test_no_hidden_count_can_be_recovered(counts: np.ndarray) -> None:
    threshold = 5
    full = with_margins(counts)
    small = (full > 0) & (full < threshold)
    try:
        codes = suppression_pattern(counts, threshold)
    except InvalidValue:
        # refused only when hiding every non-zero count would still give one away
        everything = np.where(small, PRIMARY, np.where(full > 0, SECONDARY, SHOWN))
        assert _pinned(full, everything, threshold)
        return
    hidden = codes != SHOWN

    # 1. nothing below the threshold is shown, zeros are never hidden
    assert not (small & ~hidden).any()
    assert not (hidden & (full == 0)).any()
    # primary means small, secondary means not small
    assert ((codes == PRIMARY) == small).all()

    # 2. no row or column (totals included) has exactly one hidden cell
    assert not (hidden.sum(axis=0) == 1).any()
    assert not (hidden.sum(axis=1) == 1).any()

    if not hidden.any():
        return
    # 3. no hidden cell is fixed by the equations: each moves along some null-space direction
    a, _ = _unknowns(full, hidden)
    null = scipy.linalg.null_space(a)
    assert null.shape[1] > 0
    assert (np.abs(null).max(axis=1) > 1e-9).all()
    # 4. nor by the equations together with what the labels say
    assert not _pinned(full, codes, threshold)


def test_unprotectable_table_is_refused_not_published() -> None:
    """Four counts of 1 with a total of 4: each <5 cell holds at least 1, so all are 1."""
    with pytest.raises(InvalidValue, match="cannot be published"):
        suppression_pattern([[1, 1, 1, 1]])


def test_line_rule_alone_would_leak_through_the_labels() -> None:
    """Row [5, 1 | 6]: the line rule hides the 1 and the 5, but a reader who
    knows x >= 5 gets 1 = 6 - 5. The audit hides the totals too."""
    codes = suppression_pattern([[5, 1]])
    assert (codes[:, :2] != SHOWN).all()
    assert (codes[:, 2] == SECONDARY).all()


def test_table_without_small_counts_is_unchanged() -> None:
    counts = np.array([[0, 12], [7, 30]])
    assert (suppression_pattern(counts) == SHOWN).all()
    out = suppress_small_counts(pd.DataFrame(counts, index=["a", "b"], columns=["f", "m"]))
    assert out.to_numpy().tolist() == [["0", "12", "12"], ["7", "30", "37"], ["7", "42", "49"]]


def test_dataframe_labels_and_threshold() -> None:
    frame = pd.DataFrame(
        {"girls": [3, 0, 10], "boys": [12, 9, 11], "women": [20, 15, 13]},
        index=pd.Index(["Kharkiv", "Kherson", "Mykolaiv"], name="oblast"),
    )
    out = suppress_small_counts(frame, threshold=5, total_label="All", hidden_label="..")
    assert out.index.tolist() == ["Kharkiv", "Kherson", "Mykolaiv", "All"]
    assert out.index.name == "oblast" and out.columns[-1] == "All"
    assert out.loc["Kharkiv", "girls"] == "<5"
    assert out.loc["Kherson", "girls"] == "0"
    hidden = out.isin(["<5", ".."])
    assert not (hidden.sum(axis=0) == 1).any() and not (hidden.sum(axis=1) == 1).any()
    shown = ~hidden.to_numpy()
    np.testing.assert_array_equal(out.to_numpy()[shown].astype(int), with_margins(frame.to_numpy())[shown])
    raised = suppress_small_counts(frame, threshold=11)
    assert raised.loc["Mykolaiv", "girls"] == "<11"


@pytest.mark.parametrize(
    ("counts", "threshold", "message"),
    [
        ([[1, -2]], 5, "≥ 0"),
        ([[1.5, 2]], 5, "whole"),
        ([[np.nan, 2]], 5, "NaN"),
        ([1, 2], 5, "2-D"),
        ([[1, 2]], 2, "≥ 3"),
    ],
)
def test_bad_tables_are_refused(counts, threshold, message) -> None:
    with pytest.raises(InvalidValue, match=message):
        suppression_pattern(counts, threshold)
