"""A register with two regions, one with a sub-area, and records of one operator in each.

North (``RN``, 10 km square) holds ``RN-1`` (its south-west quarter); South
(``RS``) lies below it. The operator has a hazard in RN-1, one elsewhere in
RN and one in RS, an accident with a victim in RN-1 and in RS, and an
activity on each hazard. The accounts: one per grant in :data:`REGIONAL`, and
``chief``, a programme-wide administrator. Passwords follow tests.web.seed's pattern.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mineaction.access import AccountStore, Grant, Role
from mineaction.storage.register import Register
from tests.common import activity_values, box_m, hazard_values, square_m
from tests.web.seed import password

#: username → grant
REGIONAL = {
    "north": Grant(None, Role.VIEWER, True, "RN"),
    "north_sub": Grant(None, Role.VIEWER, True, "RN-1"),
    "south": Grant(None, Role.VIEWER, True, "RS"),
    "region_admin": Grant(None, Role.ADMINISTRATOR, False, "RN"),
}


@dataclass
class Regions:
    organisation: str = ""
    hazards: dict[str, str] = field(default_factory=dict)  # area pcode → hazard ref
    victims: dict[str, str] = field(default_factory=dict)  # area pcode → victim id
    accounts: dict[str, str] = field(default_factory=dict)  # username → account id


def build_regions(register: Register, *, with_accounts: bool = True) -> Regions:
    out = Regions()
    with register.write("seed", "regional test fixture") as w:
        for pcode, name, level, parent, area in [
            ("RN", "North (fictional)", 1, None, box_m(0, 0, 10_000, 10_000)),
            ("RN-1", "North-west (fictional)", 2, "RN", box_m(0, 0, 5_000, 5_000)),
            ("RS", "South (fictional)", 1, None, box_m(0, -10_000, 10_000, 0)),
        ]:
            w.add("admin_area", {"pcode": pcode, "name_en": name, "level": level, "parent_pcode": parent}, area)
        org = w.add("organisation", {"name": "Regional Operator (fictional)", "organisation_type": "ngo"}).id
        out.organisation = org
        for pcode, (x, y) in {"RN-1": (1_000, 1_000), "RN": (7_000, 7_000), "RS": (1_000, -5_000)}.items():
            hazard = w.add("hazard", hazard_values(org, description=f"hazard in {pcode}"), square_m(x, y, 200))
            w.add("activity", activity_values(hazard.id, org))
            out.hazards[pcode] = hazard.ref
            if pcode != "RN":
                accident = w.add("accident", {"occurred_on": dt.date(2024, 6, 1), "accident_type": "mine",
                                              "hazard_id": hazard.id, "organisation_id": org},
                                 square_m(x + 300, y + 300, 1).centroid)
                out.victims[pcode] = w.add("victim", {
                    "accident_id": accident.id, "name": f"Person in {pcode}", "age": 30, "sex": "male",
                    "victim_group": "civilian", "outcome": "injured", "organisation_id": org}).id
    if with_accounts:
        accounts = AccountStore(register)
        for username, grant in REGIONAL.items():
            out.accounts[username] = accounts.create_account(username, password(username), grants=(grant,), by="seed")
        out.accounts["chief"] = accounts.create_account(
            "chief", password("chief"), grants=(Grant(None, Role.ADMINISTRATOR, True),), by="seed")
    return out
