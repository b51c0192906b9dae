"""Productivity, release share and completion dates learned from a register equal the hand calculation."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from mineaction.domain.forecast import ReleaseShare
from mineaction.planning import (
    clearance_rates,
    compare_plans,
    forecast_completion,
    forecast_inputs,
    learned_productivity,
    release_share_history,
)
from mineaction.planning.forecast_inputs import DEFAULT_METHOD_PRODUCTIVITY
from mineaction.storage.register import Register
from mineaction.storage.unit_of_work import Release
from tests.common import activity_values, add_organisation, box_m, hazard_values
from tests.planning.conftest import HISTORY_DAYS, Handmade

START = dt.date(2026, 1, 5)
WORKING_DAYS = 220


def test_productivity_learned_from_completed_clearance(handmade: Handmade) -> None:
    rates = clearance_rates(handmade.register)
    # the NTS that cancelled part of L1 and the planned clearance of L2 are not clearance work done
    assert set(rates) == set(HISTORY_DAYS)
    learned = learned_productivity(handmade.register)
    for method, days in HISTORY_DAYS.items():
        by_hand = np.array(handmade.history_areas[method]) / days  # m² of the parts ÷ (end − start + 1)
        assert sorted(rates[method]) == pytest.approx(sorted(by_hand), rel=1e-12)
        logs = np.log(by_hand)
        assert learned[method].median == pytest.approx(math.exp(logs.mean()), rel=1e-12)
        assert learned[method].sigma == pytest.approx(logs.std(ddof=1), abs=1e-12)
        assert learned[method].source == "fitted to 10 completed activities"
    assert learned["mdd"].median == DEFAULT_METHOD_PRODUCTIVITY["mdd"].median
    assert "0 completed activities, fewer than 10" in learned["mdd"].source
    too_few = learned_productivity(handmade.register, min_n=11)
    assert too_few["manual"].median == DEFAULT_METHOD_PRODUCTIVITY["manual"].median


def _deadline(working_days: float) -> dt.date:
    """The hand calculation of a date within the plan's first year: the share of 365 calendar days."""
    calendar = working_days / WORKING_DAYS * 365
    assert 0.05 < calendar % 1 < 0.95  # the case keeps clear of whole days, so rounding cannot flip one
    return START + dt.timedelta(days=math.ceil(calendar))


def test_forecast_p50_of_a_deterministic_case_equals_the_hand_calculation(handmade: Handmade) -> None:
    inputs = forecast_inputs(handmade.register)
    # no closed SHA yet: nothing is assumed cancelled, and each method's ten equal-sized
    # history squares give a log-normal productivity with sigma ~1e-6: the case is deterministic
    assert inputs.release_share == ReleaseShare(0.0)
    manual, mechanical = (sum(handmade.history_areas[m]) for m in HISTORY_DAYS)
    share = {"manual": manual / (manual + mechanical), "mechanical": mechanical / (manual + mechanical)}
    rate = {m: math.exp(np.log(np.array(handmade.history_areas[m]) / d).mean()) for m, d in HISTORY_DAYS.items()}
    r = handmade.remaining
    # one team per method; priority land first: L1 (T101, blocks housing and water), then T102:
    # L2 planned for mechanical clearance, L1 and L3 split by the programme's cleared m² per method
    manual_t101 = share["manual"] * r["L1"] / rate["manual"]
    manual_t102 = manual_t101 + share["manual"] * r["L3"] / rate["manual"]
    mechanical_t101 = share["mechanical"] * r["L1"] / rate["mechanical"]
    mechanical_t102 = mechanical_t101 + (r["L2"] + share["mechanical"] * r["L3"]) / rate["mechanical"]
    expected = {"T101": _deadline(max(manual_t101, mechanical_t101)),
                "T102": _deadline(max(manual_t102, mechanical_t102))}
    expected["national"] = max(expected.values())

    completion = forecast_completion(inputs, {"manual": 1, "mechanical": 1}, start=START,
                                     working_days_per_year=WORKING_DAYS, runs=200)
    table = completion.table().set_index("area")
    assert table["p50"].to_dict() == expected
    assert table["p90"].to_dict() == expected
    assert table.loc["national", "remaining_m2"] == pytest.approx(sum(r.values()), rel=1e-12)
    assert table.loc["T101", "priority_m2"] == pytest.approx(r["L1"], rel=1e-12)
    assert table.loc["T102", "suspected_share"] == pytest.approx(r["L3"] / (r["L2"] + r["L3"]), rel=1e-12)

    # what-if: a second manual team halves the manual queue; mechanical work is unchanged
    comparison = compare_plans(inputs, ({"manual": 1, "mechanical": 1}, "priority-first"),
                               ({"manual": 2, "mechanical": 1}, "priority-first"), start=START,
                               working_days_per_year=WORKING_DAYS, runs=200)
    faster = _deadline(max(manual_t102 / 2, mechanical_t102))
    deltas = comparison.table().set_index("quantile")
    assert deltas.loc["P50", "alternative_completion"] == faster
    assert deltas.loc["P50", "completion_change_days"] == (faster - expected["national"]).days
    # all priority land is released within year one under both plans
    assert deltas.loc["P50", "priority_m2_year_one_base"] == pytest.approx(r["L1"], rel=1e-9)
    assert deltas.loc["P50", "priority_m2_year_one_change"] == pytest.approx(0.0, abs=1e-6)


def test_release_share_from_closed_suspected_areas(register: Register) -> None:
    """Per closed SHA, cancelled + reduced m² over all its released m²; a closed CHA does not count."""
    with register.write("test", "closed areas") as w:
        org = add_organisation(w)
        hazards = w.add_many("hazard", [hazard_values(org.id, hazard_type=kind, status="closed")
                                        for kind in ("SHA", "SHA", "SHA", "CHA")],
                             [box_m(1_000 * k, 0, 1_000 * k + 100, 100) for k in range(4)])
        # (activity type, release type, method, strip from x0 to x1 within each 100 m square)
        plans = [[("nts", "cancelled", "nts", 0, 40), ("clearance", "cleared", "manual", 40, 100)],
                 [("ts", "reduced", "manual", 0, 70), ("clearance", "cleared", "manual", 70, 100)],
                 [("nts", "cancelled", "nts", 0, 100)],
                 [("clearance", "cleared", "manual", 0, 100)]]
        releases = []
        for k, (hazard, steps) in enumerate(zip(hazards, plans, strict=True)):
            for kind, release_type, method, x0, x1 in steps:
                activity = w.add("activity", activity_values(hazard.id, org.id, kind, method=[method]))
                releases.append(Release(activity.id, box_m(1_000 * k + x0, 0, 1_000 * k + x1, 100),
                                        release_type, method, "2025-05-01"))
        parts = w.release_many(releases)
    area = [p["area_m2"] for p in parts]
    by_hand = [area[0] / (area[0] + area[1]), area[2] / (area[2] + area[3]), 1.0]  # ≈ 0.4, 0.7, 1
    share, source = release_share_history(register, min_n=3)
    assert share.mean == pytest.approx(np.mean(by_hand), rel=1e-12)
    assert share.sd == pytest.approx(np.std(by_hand, ddof=1), rel=1e-12)
    assert source.startswith("3 closed suspected areas")
    pessimistic, why = release_share_history(register)
    assert pessimistic == ReleaseShare(0.0) and "fewer than 10" in why
