"""Criteria from the register and context layers equal values worked out by hand."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from mineaction.planning import CriteriaOptions, criteria_matrix
from mineaction.planning.criteria import DEFAULT_COST_PER_M2
from tests.common import E0, N0, UTM
from tests.planning.conftest import Handmade, population_points

ON = dt.date(2026, 1, 1)


def _by_ref(handmade: Handmade, options: CriteriaOptions) -> dict[str, dict[str, float]]:
    matrix = criteria_matrix(handmade.register, options)
    refs = {ref: name for name, ref in handmade.refs.items()}
    assert sorted(refs[r] for r in matrix.hazards.refs) == ["L1", "L2", "L3"]  # the closed history is not live
    return {refs[r]: dict(zip(matrix.names, row.tolist(), strict=True))
            for r, row in zip(matrix.hazards.refs, matrix.values, strict=True)}


def test_criteria_equal_the_hand_computation(handmade: Handmade, tmp_path: Path) -> None:
    options = CriteriaOptions(on=ON, population=population_points(tmp_path / "people.csv"))
    got = _by_ref(handmade, options)
    manual, mechanical = (sum(handmade.history_areas[m]) for m in ("manual", "mechanical"))
    # L1 and L3 have no survey or clearance activity: the programme's cleared m² by method decide
    history_cost = (manual * DEFAULT_COST_PER_M2["manual"] + mechanical * DEFAULT_COST_PER_M2["mechanical"]) / (
        manual + mechanical)
    # CCW design bound 731 days after emplacement: f = (1 - 0.9)(1 - 0.99); Poisson with 100 mines
    residual_l1 = 1 - math.exp(-100 * 0.1 * 0.01)
    expected = {
        # accidents within 1 km since 2021: only the one 500 m east of L1 (2 victims)
        "L1": {"accidents_nearby": 1, "victims_nearby": 2, "population_nearby": 120, "blocked_land_use": 6,
               "contamination_severity": 3, "contamination_confidence": 0.5, "residual_hazard": residual_l1,
               "cost_per_m2": history_cost},
        # a planned mechanical clearance sets L2's method; uxo 2 beats axo 1; no AP mines, no residual hazard
        "L2": {"accidents_nearby": 0, "victims_nearby": 0, "population_nearby": 50, "blocked_land_use": 3,
               "contamination_severity": 2, "contamination_confidence": 1.0, "residual_hazard": 0.0,
               "cost_per_m2": DEFAULT_COST_PER_M2["mechanical"]},
        # AP mines without a residual-hazard model: nothing says they stopped functioning
        "L3": {"accidents_nearby": 0, "victims_nearby": 0, "population_nearby": 0, "blocked_land_use": 0,
               "contamination_severity": 3, "contamination_confidence": 0.5, "residual_hazard": 1.0,
               "cost_per_m2": history_cost},
    }
    for name, values in expected.items():
        assert got[name] == pytest.approx(values, rel=1e-9, abs=1e-12), name

    # a wider distance and an earlier date take in the accident 1,500 m east (1 victim) and the old one (4)
    wide = _by_ref(handmade, replace(options, event_distance_m=2_000, events_since=dt.date(2010, 1, 1)))
    assert (wide["L1"]["accidents_nearby"], wide["L1"]["victims_nearby"]) == (3, 7)
    late = _by_ref(handmade, replace(options, event_distance_m=2_000, events_since=dt.date(2025, 6, 15)))
    assert (late["L1"]["accidents_nearby"], late["L1"]["victims_nearby"]) == (1, 1)
    flat = _by_ref(handmade, replace(options, cost_per_m2={"manual": 2.0, "mechanical": 2.0}))
    assert [flat[n]["cost_per_m2"] for n in ("L1", "L2", "L3")] == pytest.approx([2.0, 2.0, 2.0])


def _raster(path: Path) -> Path:
    """100 m cells over ±1 km of the origin (UTM): 30 people 150 m east of L1, 7 people 1,151 m from it."""
    counts = np.zeros((20, 20), dtype="float32")
    counts[8, 14] = 30  # centre (450, 150)
    counts[0, 0] = 7  # centre (-950, 950): 950 m west and 650 m north of L1's corner
    with rasterio.open(path, "w", driver="GTiff", width=20, height=20, count=1, dtype="float32", crs=UTM,
                       transform=from_origin(E0 - 1_000, N0 + 1_000, 100, 100), nodata=-1) as dst:
        dst.write(counts, 1)
    return path


def test_population_from_a_projected_layer_a_raster_or_nothing(handmade: Handmade, tmp_path: Path) -> None:
    for source, expected in ((population_points(tmp_path / "people.gpkg"), (120, 50, 0)),
                             (_raster(tmp_path / "people.tif"), (30, 0, 0))):
        got = _by_ref(handmade, CriteriaOptions(on=ON, population=source))
        assert tuple(got[n]["population_nearby"] for n in ("L1", "L2", "L3")) == expected, source.name
    # no layer and no settlement with a population in the register: the criterion is left out, and said so
    matrix = criteria_matrix(handmade.register, CriteriaOptions(on=ON))
    assert "population_nearby" not in matrix.names and len(matrix.names) == 7
    assert any("no settlement in the register has a population" in note for note in matrix.notes)
    # every criterion says what it measures, its unit and its direction
    assert all(c.measures and c.unit and c.direction.value in ("benefit", "cost") for c in matrix.criteria)
