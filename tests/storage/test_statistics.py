"""Land-release statistics agree with the ledger and with exact geometry."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from mineaction.demo.fictional_programme import build_demo
from mineaction.domain.geometry import geodesic_area
from mineaction.domain.ledger import remaining_geometry
from mineaction.storage.register import Register
from mineaction.storage.statistics import hazard_balance, released_area


@pytest.fixture
def demo_register(register: Register) -> Register:
    build_demo(register, seed=7, hazards=40)
    return register


def test_totals_by_method_add_up_to_released_total(demo_register: Register) -> None:
    balance = hazard_balance(demo_register)
    by_method = released_area(demo_register, by=("release_type", "method"))
    by_admin = released_area(demo_register, by=("admin_pcode",), admin_level=2)
    by_month = released_area(demo_register, by=("month",))
    parts = demo_register.records("released_part")
    exact = sum(p["area_m2"] for p in parts)
    for rows in (by_method, by_admin, by_month):
        assert sum(r["area_m2"] for r in rows) == pytest.approx(balance.released_m2, rel=1e-12)
        assert sum(r["parts"] for r in rows) == len(parts)
    assert balance.released_m2 == pytest.approx(exact, rel=1e-12)
    assert {r["admin_pcode"] for r in by_admin} <= {f"ZZ01{i:02d}" for i in range(1, 5)}
    assert {r["month"][:4] for r in by_month} == {"2025"}
    # methods are consistent with release types (NTS cancels, TS reduces, clearance clears)
    assert {r["method"] for r in by_method if r["release_type"] == "cancelled"} == {"nts"}


def test_remaining_equals_hazard_minus_union_of_parts(demo_register: Register) -> None:
    hazards = demo_register.records("hazard")
    parts = demo_register.records("released_part")
    by_hazard: dict[str, list] = {}
    for part in parts:
        by_hazard.setdefault(part["hazard_id"], []).append(part)
    for hazard in hazards:
        mine = by_hazard.get(hazard.id, [])
        union = shapely.union_all([p.geometry for p in mine]) if mine else shapely.Polygon()
        # parts never overlap: the union's area is the sum of the parts' areas
        assert geodesic_area(union) == pytest.approx(sum(p["area_m2"] for p in mine), abs=1e-3)
        remaining = geodesic_area(remaining_geometry(hazard.geometry, [p.geometry for p in mine]))
        # Edges are straight in lon/lat; geodesic_area measures them in ~55 m steps, each
        # off the straight edge by at most L²·tan(φ)/(8R) ≈ 3e-5 m, i.e. ≤ 0.0012 m² per step.
        # A hazard's cuts add at most a few dozen such steps: 0.05 m² bounds the mismatch.
        assert remaining == pytest.approx(hazard["area_m2"] - sum(p["area_m2"] for p in mine), abs=0.05)
    balance = hazard_balance(demo_register)
    assert balance.remaining_m2 == pytest.approx(
        sum(h["area_m2"] for h in hazards) - sum(p["area_m2"] for p in parts), rel=1e-12)
    assert np.isclose(balance.hazard_area_m2, sum(h["area_m2"] for h in hazards))


def test_statistics_as_of_the_start_show_nothing_released(demo_register: Register) -> None:
    first = demo_register.history("hazard", "HAZ-000001")[0].recorded_at
    balance = hazard_balance(demo_register, as_of=first)
    assert balance.hazards == 40 and balance.released_m2 == 0
    assert released_area(demo_register, as_of=first) == []
