"""Residual hazard computed from what the register holds, on both backends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mineaction.cli.app import app
from mineaction.domain.residual_hazard import (
    FindCounts,
    explosive_fraction,
    functional_fraction,
    shipped_profiles,
    update_from_finds,
)
from mineaction.errors import InvalidValue
from mineaction.residual.register_hazards import DEFAULT_DETECTION, residual_table
from mineaction.storage.register import Register
from tests.common import activity_values, add_organisation, box_m, hazard_values, square_m

ON = dt.date(2025, 12, 31)
EMPLACED = dt.date(2025, 1, 1)
PROFILE = "degraded-field-example-a"


@pytest.fixture
def hazards(register: Register):
    """Two AP-mine hazards on one profile; half of the first is cleared with five finds."""
    with register.write("alice", "hazards with residual-hazard data") as w:
        org = add_organisation(w)
        extra = {"residual_profile": PROFILE, "emplaced_on": EMPLACED, "estimated_items": 40.0, "count_dispersion": 2.0}
        first = w.add("hazard", hazard_values(org.id, **extra), square_m(0, 0, 100))
        second = w.add("hazard", hazard_values(org.id, **extra), square_m(500, 0, 100))
        clearance = w.add("activity", activity_values(first.id, org.id, "clearance"))
        w.release(activity_id=clearance.id, geometry=box_m(0, 0, 50, 100), release_type="cleared",
                  method="manual", released_on="2025-06-01")
        conditions = ["functional", "self_destructed", "self_destructed", "self_deactivated", "unknown"]
        w.add_many("eo_find", [{"hazard_id": first.id, "activity_id": clearance.id, "category": "ap_mine",
                                "condition": c, "quantity": 1, "found_on": "2025-06-01", "organisation_id": org.id}
                               for c in conditions], [square_m(10 + i, 10, 1).centroid for i in range(5)])
    return first, second, conditions


def test_figures_follow_the_model_and_the_ledger(register: Register, hazards) -> None:
    first, second, conditions = hazards
    table = residual_table(register, ON)
    prior = shipped_profiles()[PROFILE]
    posterior = update_from_finds(prior, FindCounts.from_conditions(conditions), DEFAULT_DETECTION).posterior
    rows = table.frame.set_index("hazard")
    age = (ON - EMPLACED).days
    for ref in (first.ref, second.ref):
        assert rows.loc[ref, "age_days"] == age
        assert rows.loc[ref, "f_functional"] == pytest.approx(functional_fraction(age, posterior), rel=1e-12)
        assert rows.loc[ref, "e_explosive"] == pytest.approx(explosive_fraction(age, posterior), rel=1e-12)
        assert rows.loc[ref, "e_explosive"] >= rows.loc[ref, "f_functional"]
    # half the first hazard is cleared: half its mines are gone from the count (area share, ±UTM distortion)
    assert rows.loc[first.ref, "expected_items"] == pytest.approx(20.0, rel=2e-3)
    assert rows.loc[second.ref, "expected_items"] == pytest.approx(40.0, rel=1e-12)
    for ref in (first.ref, second.ref):
        mu_f = rows.loc[ref, "expected_items"] * rows.loc[ref, "f_functional"]
        assert rows.loc[ref, "expected_functional"] == pytest.approx(mu_f, rel=1e-12)
        # negative binomial, shape k = 2: P(none) = (1 + μf/k)^-k
        assert rows.loc[ref, "p_any_functional"] == pytest.approx(1 - (1 + mu_f / 2) ** -2, rel=1e-9)
        row = rows.loc[ref]
        assert row["p_any_functional_low"] <= row["p_any_functional"] <= row["p_any_functional_high"]
    assert list(rows.index) == [second.ref, first.ref]  # more mines left: higher P(≥1)
    assert "never a land-release method" in table.caveats[0]


def test_evidence_update_matches_the_domain_update(register: Register, hazards) -> None:
    _first, _second, conditions = hazards
    update = residual_table(register, ON).evidence[PROFILE]
    direct = update_from_finds(shipped_profiles()[PROFILE], FindCounts.from_conditions(conditions), DEFAULT_DETECTION)
    assert update.posterior.sd_success == direct.posterior.sd_success
    assert update.posterior.sda_success == direct.posterior.sda_success
    assert float(update.finds.unknown) == 1.0
    without = residual_table(register, ON, use_evidence=False).frame
    assert set(without["profile"]) == {PROFILE}


def test_unknown_profile_is_refused(register: Register) -> None:
    with register.write("alice", "typo") as w:
        w.add("hazard", hazard_values(add_organisation(w).id, residual_profile="ccw-typo", emplaced_on=EMPLACED,
                                      estimated_items=5.0), square_m(0, 0, 50))
    with pytest.raises(InvalidValue, match="ccw-typo"):
        residual_table(register, ON)


def test_hazard_command_writes_table_map_and_curves(register: Register, hazards, tmp_path: Path) -> None:
    first, _second, _ = hazards
    register.close()
    out = tmp_path / "hazard"
    result = CliRunner().invoke(app, ["hazard", "--db", register.target, "--on", ON.isoformat(),
                                      "--profile", PROFILE, "--compare", "ccw-apii-design-bound",
                                      "--hazard", first.ref, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "e(t)" in result.output and "survey or clearance" in result.output
    lines = (out / f"residual-hazard-{ON}.csv").read_text().splitlines()
    assert len(lines) == 3 and "e_explosive" in lines[0]
    for name in (f"residual-map-{ON}", f"curves-{PROFILE}", f"evidence-{PROFILE}", f"hazard-{first.ref}"):
        assert (out / f"{name}.png").stat().st_size > 10_000 and (out / f"{name}.svg").exists()


def test_hazard_command_prints_a_ccw_verdict_for_each_profile(register: Register, hazards, tmp_path: Path) -> None:
    register.close()
    out = tmp_path / "hazard"
    result = CliRunner().invoke(app, ["hazard", "--db", register.target, "--on", ON.isoformat(),
                                      "--compare", "ccw-apii-design-bound", "--out", str(out)], terminal_width=250)
    assert result.exit_code == 0, result.output
    assert "CCW Amended Protocol II" in result.output
    assert "VIOLATES the CCW APII 30-day and 120-day bounds" in result.output  # the degraded field profile
    assert "meets both CCW APII design bounds" in result.output  # the design-bound profile asked for
    rows = pd.read_csv(out / "ccw-bounds.csv")
    assert PROFILE in set(rows["profile"]) and f"{PROFILE}+register-finds" in set(rows["profile"])
    design = rows[rows["profile"] == "ccw-apii-design-bound"].iloc[0]
    assert design["failed to self-destruct by day 30 (%)"] == pytest.approx(10.0)
    assert design["functional at day 120 (per 1000)"] == pytest.approx(1.0)
    field = rows[rows["profile"] == PROFILE].iloc[0]
    assert field["30-day bound (≤ 10%)"] == "VIOLATES" and field["failed to self-destruct by day 30 (%)"] > 10
