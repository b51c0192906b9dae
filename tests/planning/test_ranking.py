"""Rankings of the register's hazards: hand-checked scores, AHP weights and refusals, explanations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import beta

import mineaction.planning
from mineaction.errors import InvalidValue
from mineaction.planning import (
    CriteriaMatrix,
    CriteriaOptions,
    criteria_matrix,
    prioritise,
    read_pairwise,
)
from tests.planning.conftest import Handmade, population_points


@pytest.fixture
def matrix(handmade: Handmade, tmp_path: Path) -> CriteriaMatrix:
    return criteria_matrix(handmade.register,
                           CriteriaOptions(on=dt.date(2026, 1, 1), population=population_points(tmp_path / "p.csv")))


def test_public_surface_is_importable() -> None:
    exported = mineaction.planning.__all__
    assert len(set(exported)) == len(exported)
    assert all(hasattr(mineaction.planning, name) for name in exported)


def test_rankings_are_hand_checked_explained_and_tested_for_stability(matrix: CriteriaMatrix,
                                                                      handmade: Handmade) -> None:
    name = {ref: n for n, ref in handmade.refs.items()}
    # people 120, 50, 0 (benefit) → 1, 5/12, 0; cost per m² L2 cheapest (mechanical) → 0, 1, 0
    runs = 4000
    result = prioritise(matrix, weights={"population_nearby": 3, "cost_per_m2": 1}, runs=runs)
    table = result.table()
    assert [name[r] for r in table["ref"]] == ["L1", "L2", "L3"]
    assert table["score"].tolist() == pytest.approx([0.75, 0.75 * 50 / 120 + 0.25, 0.0])
    assert table.columns.tolist() == ["ref", "admin_pcode", "rank", "score",
                                      "population_nearby_contribution", "cost_per_m2_contribution"]
    assert table["admin_pcode"].tolist() == ["T101", "T102", "T102"]
    # With people weighted w, L1 scores w and L2 5w/12 + 1 - w: they swap when w < 12/19. The
    # sensitivity draws w from Beta(100·0.75, 100·0.25); L3 scores 0 whatever the weights.
    swap = beta.cdf(12 / 19, 75, 25)  # ≈ 0.003
    stability = result.sensitivity_table()
    changed = stability.set_index("ref")["changed"].rename(index=name)
    assert changed["L1"] == changed["L2"] == pytest.approx(swap, abs=4 * np.sqrt(swap / runs))
    assert changed["L3"] == 0.0
    assert stability[["rank_p5", "rank_p95"]].to_numpy().tolist() == [[1, 1], [2, 2], [3, 3]]

    for method in ("weighted_sum", "topsis"):  # every criterion, equal weights
        full = prioritise(matrix, method=method, runs=50)
        baseline = 0.5 if method == "topsis" else 0.0
        parts = full.table().filter(like="_contribution").sum(axis=1)
        assert np.allclose(full.table()["score"], baseline + parts)
        assert set(full.weights) == set(matrix.names)
        assert sum(full.weights.values()) == pytest.approx(1.0)


def test_ahp_weights_from_consistent_judgements(matrix: CriteriaMatrix, tmp_path: Path) -> None:
    # weights 0.6 : 0.3 : 0.1 stated as ratios, one of them as a fraction the other way round
    path = tmp_path / "judgements.yaml"
    path.write_text("population_nearby:\n  blocked_land_use: 2\n  cost_per_m2: 6\n"
                    "cost_per_m2:\n  blocked_land_use: 1/3\n")
    result = prioritise(matrix, method="ahp", judgements=read_pairwise(path), runs=50)
    assert result.weights == pytest.approx({"population_nearby": 0.6, "blocked_land_use": 0.3,
                                            "cost_per_m2": 0.1}, abs=1e-12)
    assert result.ahp is not None and result.ahp.cr == pytest.approx(0.0, abs=1e-12)
    assert result.ranking.method == "weighted_sum" and result.matrix.names == tuple(result.weights)


def test_refusals_name_the_problem(matrix: CriteriaMatrix) -> None:
    with pytest.raises(InvalidValue, match=r"no criterion 'people'.*available: accidents_nearby"):
        prioritise(matrix, weights={"people": 1})
    with pytest.raises(InvalidValue, match=r"Most inconsistent: .*population_nearby vs cost_per_m2"):
        prioritise(matrix, method="ahp", judgements={("population_nearby", "cost_per_m2"): 9,
                                                     ("cost_per_m2", "blocked_land_use"): 9,
                                                     ("blocked_land_use", "population_nearby"): 9})
    with pytest.raises(InvalidValue, match="only used by the AHP method"):
        prioritise(matrix, judgements={("population_nearby", "cost_per_m2"): 3})
