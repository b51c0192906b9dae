"""The land-release ledger as the register enforces it, on both backends."""

from __future__ import annotations

import pytest

from mineaction.errors import InvalidValue, LedgerViolation
from mineaction.storage.register import Register
from mineaction.storage.statistics import hazard_balance, released_area
from mineaction.storage.unit_of_work import Release
from tests.common import activity_values, add_organisation, box_m, hazard_values, square_m


@pytest.fixture
def hazard_and_activities(register: Register):
    """A 100 m × 100 m hazard with an NTS, a TS and a clearance activity."""
    with register.write("alice", "hazard with three activities") as w:
        org = add_organisation(w)
        hazard = w.add("hazard", hazard_values(org.id), square_m(0, 0, 100))
        acts = {t: w.add("activity", activity_values(hazard.id, org.id, t)) for t in ("nts", "ts", "clearance")}
    return hazard, acts


def _release(register: Register, activity, geometry, release_type, method="manual"):
    with register.write("bob", "completion report") as w:
        return w.release(activity_id=activity.id, geometry=geometry, release_type=release_type,
                         method=method, released_on="2025-06-01")


def test_non_overlapping_parts_add_up(register: Register, hazard_and_activities) -> None:
    _, acts = hazard_and_activities
    _release(register, acts["nts"], box_m(0, 0, 40, 100), "cancelled", "nts")
    _release(register, acts["ts"], box_m(40, 0, 70, 100), "reduced", "mechanical")
    _release(register, acts["clearance"], box_m(70, 0, 90, 100), "cleared", "manual")
    balance = hazard_balance(register)
    assert balance.released_m2 == pytest.approx(0.9 * balance.hazard_area_m2, rel=1e-3)
    assert balance.remaining_m2 == pytest.approx(0.1 * balance.hazard_area_m2, rel=1e-2)
    rows = {r["release_type"]: r["area_m2"] for r in released_area(register)}
    assert rows["cancelled"] == pytest.approx(4000, rel=2e-3)
    assert rows["reduced"] == pytest.approx(3000, rel=2e-3)
    assert rows["cleared"] == pytest.approx(2000, rel=2e-3)


def test_overlap_is_refused_naming_hazard_activity_part_and_area(register: Register, hazard_and_activities) -> None:
    hazard, acts = hazard_and_activities
    first = _release(register, acts["nts"], box_m(0, 0, 50, 100), "cancelled", "nts")
    with pytest.raises(LedgerViolation) as info:
        _release(register, acts["clearance"], box_m(40, 0, 80, 100), "cleared")
    message = str(info.value)
    assert hazard.ref in message and "ACT-000003" in message and first.ref in message
    overlap = float(message.split("by ")[1].split(" m²")[0].replace(",", ""))
    assert overlap == pytest.approx(1000, rel=2e-3)  # 10 m × 100 m
    assert register.count("released_part") == 1


def test_part_outside_the_hazard_is_refused(register: Register, hazard_and_activities) -> None:
    _hazard, acts = hazard_and_activities
    with pytest.raises(LedgerViolation, match="outside the hazard"):
        _release(register, acts["clearance"], box_m(80, 0, 130, 100), "cleared")
    assert register.count("released_part") == 0


def test_slivers_within_tolerance_are_trimmed_so_parts_never_overlap(register: Register, hazard_and_activities) -> None:
    _hazard, acts = hazard_and_activities
    first = _release(register, acts["nts"], box_m(0, 0, 50, 100), "cancelled", "nts")
    # 0.005 m overlap × 100 m = 0.5 m², below the 1 m² tolerance; also 0.005 m outside the hazard
    second = _release(register, acts["clearance"], box_m(49.995, -0.005, 100, 100), "cleared")
    assert first.geometry.intersection(second.geometry).area == pytest.approx(0, abs=1e-15)
    assert second.values["area_m2"] == pytest.approx(5000, rel=2e-3)


def test_activity_type_limits_the_release_type(register: Register, hazard_and_activities) -> None:
    _hazard, acts = hazard_and_activities
    with pytest.raises(LedgerViolation, match="nts cannot produce 'cleared'"):
        _release(register, acts["nts"], box_m(0, 0, 10, 10), "cleared")


def test_hazard_outline_cannot_shrink_away_from_released_land(register: Register, hazard_and_activities) -> None:
    hazard, acts = hazard_and_activities
    part = _release(register, acts["clearance"], box_m(60, 0, 100, 100), "cleared")
    with pytest.raises(LedgerViolation, match=part.ref), register.write("carol", "redraw") as w:
        w.update("hazard", hazard.id, base_version=1, geometry=box_m(0, 0, 50, 100))
    with register.write("carol", "extend") as w:
        grown = w.update("hazard", hazard.id, base_version=1, geometry=box_m(0, 0, 150, 100))
    assert grown.values["area_m2"] == pytest.approx(15000, rel=2e-3)


def test_released_land_cannot_bypass_the_ledger(register: Register, hazard_and_activities) -> None:
    hazard, acts = hazard_and_activities
    with pytest.raises(InvalidValue, match=r"Writer.release"), register.write("mallory", "sneak") as w:
        w.add("released_part", {"hazard_id": hazard.id, "activity_id": acts["nts"].id, "release_type": "cancelled",
                                "method": "nts", "released_on": "2025-06-01"}, box_m(0, 0, 200, 200))


def test_release_many_checks_parts_within_the_batch(register: Register, hazard_and_activities) -> None:
    _hazard, acts = hazard_and_activities
    batch = [Release(acts["ts"].id, box_m(0, 0, 50, 100), "reduced", "mdd", "2025-06-01"),
             Release(acts["clearance"].id, box_m(30, 0, 100, 100), "cleared", "manual", "2025-06-02")]
    with pytest.raises(LedgerViolation, match="release 0 by ACT-000002"), register.write("bob", "batch") as w:
        w.release_many(batch)
    assert register.count("released_part") == 0
    batch[1] = Release(acts["clearance"].id, box_m(50, 0, 100, 100), "cleared", "manual", "2025-06-02")
    with register.write("bob", "batch") as w:
        parts = w.release_many(batch)
    assert [p["release_type"] for p in parts] == ["reduced", "cleared"]
