"""Storage of operations, on both backends: a task's state moves only by checked transitions, each a
version of the task; a find written in released land raises a residual-contamination event."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely

from mineaction.domain.operations.states import PartyNotAllowed, TransitionNotAllowed
from mineaction.errors import ConflictError, InvalidValue
from mineaction.reports.annual import annual_report
from mineaction.storage.register import Register
from tests.common import OPERATOR, activity_values, add_organisation, hazard_values, square_m


def _task(w, org_id: str, hazard_id: str):
    return w.add("task", {
        "reference": "T-1", "activity": "clearance", "planned_start": "2026-03-01", "deadline": "2026-09-30",
        "teams": 2, "hazard_ids": [hazard_id], "planned_area_m2": 10_000, "organisation_id": org_id,
    }, square_m(0, 0, 100))


def test_task_states_move_only_by_the_life_cycle_each_a_version(register: Register) -> None:
    with register.write("nmac", "set up") as w:
        org = add_organisation(w)
        hazard = w.add("hazard", hazard_values(org.id), square_m(0, 0, 100))
        task = _task(w, org.id, hazard.id)
    assert task["state"] == "draft"
    with pytest.raises(InvalidValue, match="derived"), register.write("nmac", "try") as w:
        w.update("task", task.id, base_version=1, values={"state": "issued"})
    moves = [("issued", "authority", "issue"), ("accepted", "operator", "accept"), ("in_progress", "operator", "go")]
    for version, (target, party, why) in enumerate(moves, start=1):
        with register.write(f"{party}-user", why, "transition") as w:
            moved = w.move_task(task.id, target, party, base_version=version)
    assert moved["state"] == "in_progress" and moved["started_on"] is not None and moved.version == 4
    with pytest.raises(PartyNotAllowed), register.write("operator-user", "give up") as w:
        w.move_task(task.id, "cancelled", "operator", base_version=4)
    with pytest.raises(TransitionNotAllowed), register.write("nmac", "close") as w:
        w.move_task(task.id, "closed", "authority", base_version=4)
    with register.write("nmac", "critical NC: medics absent", "transition") as w:
        w.move_task(task.id, "suspended", "authority", base_version=4)
    with pytest.raises(PartyNotAllowed, match="only the authority may resume"), register.write("op", "resume") as w:
        w.move_task(task.id, "in_progress", "operator", base_version=5)
    history = register.history("task", task.id)
    assert [v["state"] for v in history] == ["draft", "issued", "accepted", "in_progress", "suspended"]
    assert [v.recorded_by for v in history[1:]] == ["authority-user", "operator-user", "operator-user", "nmac"]
    assert history[-1]["suspended_by"] == "authority"


def test_a_find_in_released_land_is_flagged_and_one_outside_is_not(register: Register) -> None:
    with register.write("nmac", "set up") as w:
        org = add_organisation(w)
        hazard = w.add("hazard", hazard_values(org.id), square_m(0, 0, 100))
        task = _task(w, org.id, hazard.id)
        activity = w.add("activity", activity_values(hazard.id, org.id, task_id=task.id))
        part = w.release(activity_id=activity.id, geometry=square_m(0, 0, 50), release_type="cleared",
                         method="manual", released_on=dt.date(2026, 4, 1))
    find = {"category": "uxo", "condition": "functional", "quantity": 1, "found_on": "2026-05-02",
            "organisation_id": org.id}
    inside, boundary_near, outside = (shapely.centroid(square_m(0, 0, 50)), shapely.centroid(square_m(50, 10, 6)),
                                      shapely.centroid(square_m(70, 70, 10)))
    with register.write("op", "finds") as w:
        found = [w.add("eo_find", find, g) for g in (inside, boundary_near, outside)]
    events = register.records("residual_event")
    assert sorted(e["eo_find_id"] for e in events) == sorted([found[0].id, found[1].id])
    by_find = {e["eo_find_id"]: e for e in events}
    assert by_find[found[0].id]["inside"] is True and by_find[found[0].id]["distance_m"] == 0.0
    assert by_find[found[1].id]["inside"] is False and 0 < by_find[found[1].id]["distance_m"] <= 5
    assert {e["released_part_id"] for e in events} == {part.id} and {e["task_id"] for e in events} == {task.id}
    assert {e["state"] for e in events} == {"flagged"}
    with register.write("op", "position corrected") as w:
        w.update("eo_find", found[0].id, base_version=1, geometry=shapely.centroid(square_m(10, 10, 2)))
        w.update("eo_find", found[2].id, base_version=1, geometry=shapely.centroid(square_m(20, 20, 2)))
    moved = register.records("residual_event")
    assert len(moved) == 3 and {e["eo_find_id"] for e in moved} == {f.id for f in found}  # moved in: flagged once
    table = annual_report(register, events[0]["flagged_on"].year, scope=OPERATOR).table("residual_contamination")
    assert sorted(table.frame["find"]) == sorted(f.ref for f in found)
    assert set(table.frame["task"]) == {task.ref} and sorted(table.frame["where"]) == ["3.0 m outside", "inside", "inside"]


def test_a_task_plan_is_checked_however_it_is_written(register: Register) -> None:
    with register.write("nmac", "set up") as w:
        org = add_organisation(w)
        hazard = w.add("hazard", hazard_values(org.id), square_m(0, 0, 100))
        task = _task(w, org.id, hazard.id)
    with pytest.raises(InvalidValue, match="explanation"), register.write("nmac", "ranked") as w:
        w.update("task", task.id, base_version=1, values={"priority_rank": 1})
    with pytest.raises(InvalidValue, match="before the planned start"), register.write("nmac", "late") as w:
        w.update("task", task.id, base_version=1, values={"deadline": "2026-01-01"})


def test_an_open_non_conformity_keeps_its_task_from_verification(register: Register) -> None:
    with register.write("nmac", "set up") as w:
        org = add_organisation(w)
        hazard = w.add("hazard", hazard_values(org.id), square_m(0, 0, 100))
        task = _task(w, org.id, hazard.id)
    for version, (target, party) in enumerate([("issued", "authority"), ("accepted", "operator"),
                                               ("in_progress", "operator"), ("completed", "operator")], start=1):
        with register.write(party, f"to {target}") as w:
            w.move_task(task.id, target, party, base_version=version)
    with register.write("qa", "QC inspection") as w:
        qc = w.add("qm_activity", {"qm_type": "qc_inspection", "held_on": "2026-04-02", "result": "fail",
                                   "task_id": task.id, "organisation_id": org.id})
        nc = w.add("non_conformity", {"qm_activity_id": qc.ref, "category": "marking", "severity": "major",
                                      "requirement": "NMAS 09.10 5.2", "found_on": "2026-04-02",
                                      "organisation_id": org.id})
    assert (nc["task_id"], nc["state"]) == (task.id, "open")
    with pytest.raises(ConflictError, match="1 open non-conformities"), register.write("nmac", "QC passed") as w:
        w.move_task(task.id, "verified", "authority", base_version=5)
