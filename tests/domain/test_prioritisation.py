"""Ranking methods, AHP and sensitivity checked against hand calculations and published examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mineaction.domain import prioritisation
from mineaction.domain.prioritisation import (
    SAATY_RANDOM_INDEX,
    STANDARD_CRITERIA,
    Direction,
    ahp,
    directions_of,
    explain,
    pairwise_matrix,
    sensitivity,
    topsis,
    weighted_sum,
)
from mineaction.errors import InvalidValue

# ---------------------------------------------------------------- public surface


def _isort_key(name: str) -> tuple[bool, bool, str]:
    """Constants first, then classes, then functions, each alphabetical (ruff RUF022)."""
    return (not name.isupper(), not name[0].isupper(), name)


def test_exports_are_sorted_and_importable() -> None:
    assert prioritisation.__all__ == sorted(prioritisation.__all__, key=_isort_key)
    for name in prioritisation.__all__:
        assert getattr(prioritisation, name) is not None


def test_catalogue_directions() -> None:
    assert STANDARD_CRITERIA["cost_per_m2"].direction is Direction.COST
    benefit = [c for c in STANDARD_CRITERIA.values() if c.direction is Direction.BENEFIT]
    assert len(benefit) == len(STANDARD_CRITERIA) - 1
    for needed in ("accidents_nearby", "population_nearby", "blocked_schools", "residual_hazard"):
        assert needed in STANDARD_CRITERIA


# ---------------------------------------------------------------- weighted sum


def test_weighted_sum_by_hand() -> None:
    """Three hazards, people nearby (benefit), accidents (benefit), cost per m² (cost).

    Min-max normalisation, 1 = most urgent:
      people    [200, 800, 500] -> [0, 1, 0.5]
      accidents [2, 0, 1]       -> [1, 0, 0.5]
      cost      [3, 5, 1]       -> (5 - x) / 4 = [0.5, 0, 1]
    weights 2:1:1 -> 0.5, 0.25, 0.25; scores 0.375, 0.5, 0.625.
    """
    r = weighted_sum(
        [[200, 2, 3], [800, 0, 5], [500, 1, 1]],
        [2, 1, 1],
        directions_of([STANDARD_CRITERIA[n] for n in ("population_nearby", "accidents_nearby", "cost_per_m2")]),
        alternatives=["A", "B", "C"],
        criteria=["people", "accidents", "cost"],
    )
    np.testing.assert_allclose(r.scores, [0.375, 0.5, 0.625], rtol=0, atol=1e-15)
    assert r.ranks.tolist() == [3, 2, 1]
    np.testing.assert_allclose(
        r.contributions, [[0, 0.25, 0.125], [0.5, 0, 0], [0.25, 0.125, 0.25]], atol=1e-15
    )
    assert explain(r, "C") == [("people", 0.25), ("cost", 0.25), ("accidents", 0.125)]
    assert [row["alternative"] for row in r.to_rows()] == ["C", "B", "A"]
    frame = r.to_frame()
    assert frame.loc["A", "rank"] == 3 and frame.columns.tolist() == ["rank", "score", "people", "accidents", "cost"]


def test_constant_column_adds_nothing_and_ties_share_rank() -> None:
    r = weighted_sum([[1, 7], [3, 7], [3, 7]], [1, 1], ["benefit", "benefit"])
    np.testing.assert_array_equal(r.contributions[:, 1], 0)
    assert r.ranks.tolist() == [3, 1, 1]


@pytest.mark.parametrize(
    ("matrix", "weights", "directions", "message"),
    [
        ([[1, np.nan]], [1, 1], ["benefit", "cost"], "missing"),
        ([[1, 2]], [1, -1], ["benefit", "cost"], "weights"),
        ([[1, 2]], [0, 0], ["benefit", "cost"], "weights"),
        ([[1, 2]], [1, 1], ["benefit", "sideways"], "directions"),
        ([[1, 2]], [1, 1], ["benefit"], "directions"),
        ([1, 2], [1, 1], ["benefit", "cost"], "2-D"),
    ],
)
def test_bad_inputs_are_refused(matrix, weights, directions, message) -> None:
    with pytest.raises(InvalidValue, match=message):
        weighted_sum(matrix, weights, directions)


# ---------------------------------------------------------------- TOPSIS


def test_topsis_hwang_yoon_fighter_aircraft() -> None:
    """Hwang, C.-L. and Yoon, K. (1981) *Multiple Attribute Decision Making*,
    Lecture Notes in Economics and Mathematical Systems 186, Springer, the
    fighter-aircraft example used throughout the book.

    Four aircraft on six attributes: maximum speed (Mach), ferry range (NM),
    maximum payload (lb), acquisition cost (10^6 $, a cost), reliability and
    manoeuvrability (interval scores); weights (0.2, 0.1, 0.1, 0.1, 0.2, 0.3).
    Published closeness C* = (0.643, 0.268, 0.613, 0.312), order A1 > A3 > A4 > A2.

    Checked by hand: the column norms are 4.2814, 4096.34, 39560.08, 10.8513,
    10.3923 and 13.4164; for A1 the weighted normalised row is (0.0934,
    0.0366, 0.0506, 0.0507, 0.0962, 0.2012), the ideal (0.1168, 0.0659,
    0.0531, 0.0415, 0.1347, 0.2012), the anti-ideal (0.0841, 0.0366, 0.0455,
    0.0599, 0.0577, 0.1118), D+ = 0.0546, D- = 0.0984, C = 0.6433. Exact
    arithmetic gives C3 = 0.6135 where the book prints 0.613 (rounded
    intermediates), so the tolerance is one unit in the third decimal.
    """
    matrix = [
        [2.0, 1500, 20000, 5.5, 5, 9],
        [2.5, 2700, 18000, 6.5, 3, 5],
        [1.8, 2000, 21000, 4.5, 7, 7],
        [2.2, 1800, 20000, 5.0, 5, 5],
    ]
    directions = ["benefit", "benefit", "benefit", "cost", "benefit", "benefit"]
    r = topsis(matrix, [0.2, 0.1, 0.1, 0.1, 0.2, 0.3], directions)
    np.testing.assert_allclose(r.scores, [0.643, 0.268, 0.613, 0.312], atol=1e-3)
    assert r.ranks.tolist() == [1, 4, 2, 3]


def test_topsis_contributions_decompose_closeness_exactly() -> None:
    rng = np.random.default_rng(7)
    matrix = rng.uniform(0, 10, size=(30, 5))
    r = topsis(matrix, rng.uniform(0.1, 1, 5), ["benefit", "cost", "benefit", "cost", "benefit"])
    np.testing.assert_allclose(r.baseline + r.contributions.sum(axis=1), r.scores, atol=1e-12)


def test_topsis_all_constant_columns_tie_at_one_half() -> None:
    r = topsis([[2, 3], [2, 3]], [1, 1], ["benefit", "cost"])
    assert r.scores.tolist() == [0.5, 0.5] and r.ranks.tolist() == [1, 1]
    np.testing.assert_array_equal(r.contributions, 0)


# ---------------------------------------------------------------- AHP

# Saaty, T. L. (1990) "How to make a decision: the analytic hierarchy process",
# European Journal of Operational Research 48(1), 9-26: the house-buying example,
# eight criteria (size of house, transportation, neighbourhood, age, yard,
# modern facilities, general condition, financing).
SAATY_HOUSE = np.array(
    [
        [1, 5, 3, 7, 6, 6, 1 / 3, 1 / 4],
        [1 / 5, 1, 1 / 3, 5, 3, 3, 1 / 5, 1 / 7],
        [1 / 3, 3, 1, 6, 3, 4, 6, 1 / 5],
        [1 / 7, 1 / 5, 1 / 6, 1, 1 / 3, 1 / 4, 1 / 7, 1 / 8],
        [1 / 6, 1 / 3, 1 / 3, 3, 1, 1 / 2, 1 / 5, 1 / 6],
        [1 / 6, 1 / 3, 1 / 4, 4, 2, 1, 1 / 5, 1 / 6],
        [3, 5, 1 / 6, 7, 5, 5, 1, 1 / 2],
        [4, 7, 5, 8, 6, 6, 2, 1],
    ]
)
HOUSE_LABELS = ["size", "transport", "neighbourhood", "age", "yard", "modern", "condition", "financing"]


def test_ahp_saaty_house_example() -> None:
    """Published: weights (0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333),
    lambda_max = 9.669, CI = 0.238, CR = 0.169 (RI(8) = 1.41)."""
    result = ahp(SAATY_HOUSE, HOUSE_LABELS, max_cr=None)
    np.testing.assert_allclose(
        result.weights, [0.173, 0.054, 0.188, 0.018, 0.031, 0.036, 0.167, 0.333], atol=5e-4
    )
    assert result.lambda_max == pytest.approx(9.669, abs=5e-4)
    assert result.ci == pytest.approx(0.238, abs=5e-4)
    assert result.cr == pytest.approx(0.169, abs=5e-4)
    assert result.ri == 1.41


def test_ahp_refuses_saaty_house_and_names_worst_judgement() -> None:
    """Saaty's house matrix has CR 0.169 ≥ 0.10. Its worst judgement is
    neighbourhood over general condition (6) while the weights imply
    0.188 / 0.167 ≈ 1.1."""
    with pytest.raises(InvalidValue, match=r"0\.169.*neighbourhood vs condition: judged 6") as info:
        ahp(SAATY_HOUSE, HOUSE_LABELS)
    assert "revisit" in str(info.value)


def test_ahp_three_by_three_closed_form() -> None:
    """For n = 3 with a12 = a, a13 = b, a23 = c the principal eigenvalue is
    1 + t + 1/t with t = (b / (a c))**(1/3), and the eigenvector is the
    row geometric means (hand calculation). a = 3, b = 5, c = 2:
    t = (5/6)**(1/3), lambda_max = 3.003675, CI = 0.001838, CR = 0.003168."""
    a, b, c = 3.0, 5.0, 2.0
    result = ahp([[1, a, b], [1 / a, 1, c], [1 / b, 1 / c, 1]])
    t = (b / (a * c)) ** (1 / 3)
    assert result.lambda_max == pytest.approx(1 + t + 1 / t, rel=1e-12)
    assert result.cr == pytest.approx((t + 1 / t - 2) / 2 / 0.58, rel=1e-9)
    geometric = np.array([(a * b) ** (1 / 3), (c / a) ** (1 / 3), (1 / (b * c)) ** (1 / 3)])
    np.testing.assert_allclose(result.weights, geometric / geometric.sum(), rtol=1e-12)


@pytest.mark.parametrize("n", range(1, 10))
def test_ahp_consistent_matrix_returns_its_weights(n: int) -> None:
    w = np.arange(1, n + 1, dtype=float)[::-1]
    w /= w.sum()
    result = ahp(w[:, None] / w[None, :])
    np.testing.assert_allclose(result.weights, w, rtol=1e-12)
    assert result.cr == pytest.approx(0, abs=1e-12)
    assert result.ri == SAATY_RANDOM_INDEX[n]


def test_random_index_table() -> None:
    assert [SAATY_RANDOM_INDEX[n] for n in range(3, 10)] == [0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45]
    assert SAATY_RANDOM_INDEX[1] == SAATY_RANDOM_INDEX[2] == 0


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 2], [0.4, 1]], "not reciprocal"),
        ([[1, -2], [-0.5, 1]], "positive"),
        ([[2, 2], [0.5, 1]], "diagonal"),
        ([[1, 2, 3]], "square"),
        (np.ones((10, 10)), "at most 9"),
    ],
)
def test_ahp_refuses_malformed_matrices(matrix, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        ahp(matrix)


def test_pairwise_matrix_from_judgements() -> None:
    labels = ["people", "accidents", "cost"]
    m = pairwise_matrix(labels, {("people", "accidents"): 2, ("cost", "people"): 1 / 4, ("accidents", "cost"): 2})
    np.testing.assert_allclose(m, [[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]])
    np.testing.assert_allclose(ahp(m, labels).weights, [4 / 7, 2 / 7, 1 / 7], rtol=1e-12)
    with pytest.raises(InvalidValue, match="missing judgements"):
        pairwise_matrix(labels, {("people", "accidents"): 2})
    with pytest.raises(InvalidValue, match="twice"):
        pairwise_matrix(labels[:2], {("people", "accidents"): 2, ("accidents", "people"): 0.5})


# ---------------------------------------------------------------- sensitivity

matrices = arrays(
    float,
    st.tuples(st.integers(2, 12), st.integers(1, 5)),
    elements=st.integers(0, 20).map(float),  # small integers: ties happen
)


@settings(max_examples=40, deadline=None)
@given(matrix=matrices, method=st.sampled_from(["weighted_sum", "topsis"]), seed=st.integers(0, 99))
def test_zero_perturbation_never_changes_a_rank(matrix: np.ndarray, method: str, seed: int) -> None:
    m = matrix.shape[1]
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.05, 1, m)
    directions = rng.choice(["benefit", "cost"], m).tolist()
    s = sensitivity(matrix, weights, directions, method=method, runs=20, concentration=np.inf)
    ranking = (weighted_sum if method == "weighted_sum" else topsis)(matrix, weights, directions)
    np.testing.assert_array_equal(s.base_ranks, ranking.ranks)
    np.testing.assert_array_equal(s.changed, 0)
    np.testing.assert_array_equal(s.rank_p5, ranking.ranks)
    np.testing.assert_array_equal(s.rank_p95, ranking.ranks)


@settings(max_examples=40, deadline=None)
@given(matrix=matrices, method=st.sampled_from(["weighted_sum", "topsis"]), seed=st.integers(0, 99))
def test_dominating_hazard_keeps_rank_one(matrix: np.ndarray, method: str, seed: int) -> None:
    m = matrix.shape[1]
    rng = np.random.default_rng(seed)
    directions = rng.choice(["benefit", "cost"], m)
    # strictly better than every other hazard on every criterion
    best = np.where(directions == "benefit", matrix.max(axis=0) + 1, matrix.min(axis=0) - 1)
    with_best = np.vstack([matrix, best])
    s = sensitivity(
        with_best, rng.uniform(0.05, 1, m), directions.tolist(), method=method,
        runs=50, concentration=2.0, seed=seed,
    )
    assert s.base_ranks[-1] == 1
    assert s.changed[-1] == 0 and s.rank_p95[-1] == 1
    assert (s.base_ranks[:-1] > 1).all()


def test_sensitivity_is_reproducible_and_reports_rank_ranges() -> None:
    matrix = [[9, 1.0], [5, 3.0], [4, 2.0]]
    first = sensitivity(matrix, [0.5, 0.5], ["benefit", "cost"], runs=400, concentration=5, seed=3)
    again = sensitivity(matrix, [0.5, 0.5], ["benefit", "cost"], runs=400, concentration=5, seed=3)
    np.testing.assert_array_equal(first.changed, again.changed)
    # hazards 1 and 2 swap when the weight on people exceeds 5/7; under
    # Beta(2.5, 2.5) that happens with probability 0.1687; 400 runs give a
    # binomial standard error of 0.0187, so allow 4 of them
    assert first.changed[1] == first.changed[2] == pytest.approx(0.1687, abs=0.075)
    rows = first.to_rows()
    assert [row["alternative"] for row in rows] == [0, 2, 1]
    assert rows[1]["rank_p5"] == 2 and rows[1]["rank_p95"] == 3


def test_zero_weight_criterion_stays_out() -> None:
    s = sensitivity([[1, 9], [2, 0]], [1, 0], ["benefit", "benefit"], runs=50, concentration=1, seed=0)
    np.testing.assert_array_equal(s.changed, 0)
