"""A small register with two organisations, a record of every entity each, and accounts.

Organisation A ("Alpha") and B ("Bravo") own one record of every owned
entity, so cross-organisation tests can try each one. Passwords follow one
pattern, ``<username>-password``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import shapely

from mineaction.access import AccountStore, Grant, Role
from mineaction.storage.register import Register
from tests.common import activity_values, hazard_values, square_m

OWNED = ("hazard", "activity", "released_part", "eo_find", "accident", "victim", "eore_session", "qm_activity")


@dataclass
class Seeded:
    """Ids of what was made: ``records[org][entity]`` → record id."""

    orgs: dict[str, str] = field(default_factory=dict)
    records: dict[str, dict[str, str]] = field(default_factory=dict)
    programme_wide: dict[str, str] = field(default_factory=dict)


def password(username: str) -> str:
    return f"{username}-password"


def seed(target: str) -> Seeded:
    out = Seeded()
    with Register.open(target) as register:
        with register.write("seed", "web test fixture") as w:
            out.programme_wide["admin_area"] = w.add(
                "admin_area", {"pcode": "ZZ01", "name_en": "Test Oblast (fictional)", "name_uk": "Тестова область",
                               "level": 1}, square_m(-5000, -5000, 20000)).id
            out.programme_wide["place"] = w.add(
                "place", {"name_en": "Testville (fictional)", "name_uk": "Тестове"}, square_m(100, 100, 1).centroid).id
            for key, (name, x) in {"A": ("Alpha Demining (fictional)", 0), "B": ("Bravo Clearance (fictional)", 3000)}.items():
                org = w.add("organisation", {"name": name, "organisation_type": "ngo"})
                out.orgs[key] = org.id
                hazard = w.add("hazard", hazard_values(org.id, description=f"hazard of {key}"), square_m(x, 0, 400))
                activity = w.add("activity", activity_values(hazard.id, org.id))
                part = w.release(activity_id=activity.id, geometry=square_m(x, 0, 100), release_type="cleared",
                                 method="manual", released_on=dt.date(2025, 5, 1))
                find = w.add("eo_find", {"hazard_id": hazard.id, "activity_id": activity.id, "category": "ap_mine",
                                         "condition": "functional", "quantity": 1, "found_on": dt.date(2025, 5, 2),
                                         "organisation_id": org.id}, square_m(x + 50, 50, 1).centroid)
                accident = w.add("accident", {"occurred_on": dt.date(2024, 6, 1), "accident_type": "mine",
                                              "hazard_id": hazard.id, "organisation_id": org.id},
                                 square_m(x + 300, 300, 1).centroid)
                victim = w.add("victim", {"accident_id": accident.id, "name": f"Secret Person {key}", "age": 41,
                                          "sex": "female", "victim_group": "civilian", "outcome": "injured",
                                          "notes": f"private note {key}", "organisation_id": org.id})
                eore = w.add("eore_session", {"held_on": dt.date(2025, 2, 1), "eore_method": "school", "girls": 3,
                                              "organisation_id": org.id}, square_m(x + 200, 600, 1).centroid)
                qm = w.add("qm_activity", {"qm_type": "qa_visit", "activity_id": activity.id, "hazard_id": hazard.id,
                                           "held_on": dt.date(2025, 5, 3), "result": "pass", "organisation_id": org.id})
                out.records[key] = {"hazard": hazard.id, "activity": activity.id, "released_part": part.id,
                                    "eo_find": find.id, "accident": accident.id, "victim": victim.id,
                                    "eore_session": eore.id, "qm_activity": qm.id}
        accounts = AccountStore(register)
        a, b = out.orgs["A"], out.orgs["B"]
        for username, grants in {
            "admin": (Grant(None, Role.ADMINISTRATOR, True),),
            "national_viewer": (Grant(None, Role.VIEWER),),
            "viewer_a": (Grant(a, Role.VIEWER),),
            "reporter_a": (Grant(a, Role.FIELD_REPORTER),),
            "reviewer_a": (Grant(a, Role.REVIEWER),),
            "personal_a": (Grant(a, Role.VIEWER, personal_data=True),),
            "reviewer_b": (Grant(b, Role.REVIEWER),),
            "lock_me": (Grant(a, Role.VIEWER),),
            "public": (Grant(None, Role.PUBLIC),),  # a public map's account: every organisation, generalised
        }.items():
            accounts.create_account(username, password(username), grants=grants, by="seed")
    return out


def far_square() -> shapely.Geometry:
    """A square well away from the seeded records, for new ones."""
    return square_m(8000, 8000, 200)
