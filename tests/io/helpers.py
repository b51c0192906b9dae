"""A small fictional register to export, import and review (test region only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mineaction.storage.register import Register
from tests.common import activity_values, add_organisation, box_m, hazard_values, square_m


@dataclass(frozen=True)
class Sample:
    organisation: str
    hazard: str
    activity: str


def populate(register: Register) -> Sample:
    """One operator, two hazards (one with a hole), a clearance with one released part,
    two EO finds, an accident with a victim and an EORE session."""
    with register.write("alice", "sample programme") as w:
        org = add_organisation(w)
        outline = square_m(0, 0, 200).difference(square_m(80, 80, 20))
        hazard = w.add("hazard", hazard_values(org.id, contamination=["ap_mine", "uxo"], description="Поле біля лісу"),
                       outline)
        w.add("hazard", hazard_values(org.id, hazard_type="CHA", evidence="direct"), square_m(400, 0, 100))
        activity = w.add("activity", activity_values(hazard.id, org.id))
        w.release(activity_id=activity.id, geometry=box_m(0, 0, 50, 50), release_type="cleared", method="manual",
                  released_on=dt.date(2025, 5, 1))
        for k, (x, y) in enumerate([(10, 10), (60, 20)]):
            w.add("eo_find", {"hazard_id": hazard.id, "category": "ap_mine", "condition": "functional",
                              "quantity": k + 1, "found_on": dt.date(2025, 4, 20), "organisation_id": org.id},
                  square_m(x, y, 1).centroid)
        accident = w.add("accident", {"occurred_on": dt.date(2025, 2, 1), "accident_type": "mine",
                                      "organisation_id": org.id}, square_m(300, 300, 1).centroid)
        w.add("victim", {"accident_id": accident.id, "name": "Test Person", "age": 40, "sex": "male",
                         "victim_group": "civilian", "outcome": "injured", "organisation_id": org.id})
        w.add("eore_session", {"held_on": dt.date(2025, 3, 3), "eore_method": "school", "girls": 10, "boys": 12,
                               "organisation_id": org.id}, square_m(500, 500, 1).centroid)
    return Sample(org.id, hazard.id, activity.id)
