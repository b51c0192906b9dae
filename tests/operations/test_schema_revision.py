"""Revision 0002 on top of the frozen 0001 gives exactly the tables the entities declare, on both backends,
and the history trigger of a table that gained columns keeps them."""

from __future__ import annotations

import sqlalchemy as sa

from mineaction.storage.register import Register
from mineaction.storage.schema import build_metadata
from tests.common import activity_values, add_organisation, hazard_values, square_m


def test_a_new_register_holds_every_declared_column(register: Register) -> None:
    declared = build_metadata(register.dialect)
    inspector = sa.inspect(register.engine)
    for name, table in declared.tables.items():
        assert {c["name"] for c in inspector.get_columns(name)} == {c.name for c in table.columns}, name


def test_history_keeps_a_column_added_by_revision_0002(register: Register) -> None:
    with register.write("nmac", "set up") as w:
        org = add_organisation(w)
        hazard = w.add("hazard", hazard_values(org.id), square_m(0, 0, 100))
        task = w.add("task", {"reference": "T-9", "activity": "clearance", "planned_start": "2026-03-01",
                              "deadline": "2026-04-01", "teams": 1, "organisation_id": org.id,
                              "hazard_ids": [hazard.id], "planned_area_m2": 10_000}, square_m(0, 0, 100))
        activity = w.add("activity", activity_values(hazard.id, org.id, task_id=task.id))
    with register.write("nmac", "a team named") as w:
        w.update("activity", activity.id, base_version=1, values={"team": "Team 2"})
    first, second = register.history("activity", activity.id)
    assert first["task_id"] == second["task_id"] == task.id and first["team"] is None
