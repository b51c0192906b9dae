"""A small handmade register whose planning figures can be worked out by hand.

Layout (metres from the test origin, UTM zone 25S; admin area T1 split at
x = 5 km into T101 and T102):

* history, closed CHAs on a row at y = 8 km, each a 100 m square released
  whole by one completed clearance activity: ten manual ones that took 4 days
  (2,500 m² per team-day) and ten mechanical ones that took 1 day (10,000);
* live hazards, each with a hand-known criterion value:

  ==== ===== ======================== ====== ============= ================= ======================
  ref  area  where (m)                type   contamination blocks            other
  ==== ===== ======================== ====== ============= ================= ======================
  L1   T101  300 × 300 at (0, 0)      SHA    ap_mine       housing, water    NTS cancelled 300 × 60;
                                                                             residual profile (CCW
                                                                             bound, 100 items)
  L2   T102  200 × 150 at (8000, 0)   CHA    uxo, axo      forest, roads     planned mechanical
                                                                             clearance
  L3   T102  100 × 100 at (12000, 0)  SHA    ap_mine       (nothing)         no residual profile
  ==== ===== ======================== ====== ============= ================= ======================

* accidents: 500 m east of L1 (2 victims, 2025), 1,500 m east of L1 (1
  victim, 2025) and inside L1 in 2015 (before any ``since`` a test uses);
* population points, written by :func:`population_points`: 120 people 100 m
  east of L1, 50 people 250 m north of L2, 999 people far from everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely

from mineaction.domain.geometry import to_wgs84
from mineaction.storage.register import Register
from mineaction.storage.unit_of_work import Release
from tests.common import (
    E0,
    N0,
    UTM,
    activity_values,
    add_organisation,
    box_m,
    hazard_values,
    square_m,
)

HISTORY_DAYS = {"manual": 4, "mechanical": 1}
POPULATION = [(400.0, 150.0, 120), (8100.0, 400.0, 50), (3000.0, 3000.0, 999)]  # x, y, people


@dataclass(frozen=True)
class Handmade:
    register: Register
    refs: dict[str, str]  # L1, L2, L3 -> register ref
    history_areas: dict[str, list[float]]  # method -> stored m² of each history square
    remaining: dict[str, float]  # L1, L2, L3 -> hazard m² - released m²


def _utm_point(x: float, y: float) -> shapely.Point:
    return to_wgs84(shapely.Point(E0 + x, N0 + y), UTM)


def build_handmade(register: Register) -> Handmade:
    with register.write("test", "handmade planning register") as w:
        org = add_organisation(w)
        w.add("admin_area", {"pcode": "T1", "name_en": "Test province", "level": 1},
              box_m(-10_000, -10_000, 20_000, 10_000))
        w.add("admin_area", {"pcode": "T101", "name_en": "West", "level": 2, "parent_pcode": "T1"},
              box_m(-10_000, -10_000, 5_000, 10_000))
        w.add("admin_area", {"pcode": "T102", "name_en": "East", "level": 2, "parent_pcode": "T1"},
              box_m(5_000, -10_000, 20_000, 10_000))
        methods = ["manual"] * 10 + ["mechanical"] * 10
        done = w.add_many("hazard", [hazard_values(org.id, hazard_type="CHA", evidence="direct", status="closed",
                                                   closed_on=dt.date(2025, 4, 5)) for _ in methods],
                          [square_m(-9_000 + 300 * k, 8_000, 100) for k in range(len(methods))])
        activities = w.add_many("activity", [
            activity_values(h.id, org.id, method=[m], ended_on=dt.date(2025, 4, HISTORY_DAYS[m]))
            for h, m in zip(done, methods, strict=True)])
        parts = w.release_many([Release(a.id, h.geometry, "cleared", m, "2025-04-05")
                                for h, a, m in zip(done, activities, methods, strict=True)])
        history = {m: [p["area_m2"] for p, pm in zip(parts, methods, strict=True) if pm == m] for m in HISTORY_DAYS}
        l1 = w.add("hazard", hazard_values(
            org.id, blocked_land_use=["housing", "water"], residual_profile="ccw-apii-design-bound",
            emplaced_on=dt.date(2024, 1, 1), estimated_items=100.0), square_m(0, 0, 300))
        nts = w.add("activity", activity_values(l1.id, org.id, "nts", method=["nts"],
                                                ended_on=dt.date(2025, 4, 2)))
        cancelled = w.release(activity_id=nts.id, geometry=box_m(0, 0, 300, 60), release_type="cancelled",
                              method="nts", released_on="2025-04-02")
        l2 = w.add("hazard", hazard_values(org.id, hazard_type="CHA", evidence="direct",
                                           contamination=["uxo", "axo"], blocked_land_use=["forest", "roads"]),
                   box_m(8_000, 0, 8_200, 150))
        w.add("activity", activity_values(l2.id, org.id, status="planned", method=["mechanical"],
                                          started_on=dt.date(2026, 2, 1)))
        l3 = w.add("hazard", hazard_values(org.id), square_m(12_000, 0, 100))
        accidents = w.add_many("accident", [
            {"occurred_on": day, "accident_type": "mine", "organisation_id": org.id}
            for day in (dt.date(2025, 6, 1), dt.date(2025, 7, 1), dt.date(2015, 1, 1))
        ], [_utm_point(800, 150), _utm_point(1_800, 150), _utm_point(100, 100)])
        w.add_many("victim", [
            {"accident_id": accident.id, "sex": "female", "victim_group": "civilian", "outcome": "injured",
             "organisation_id": org.id}
            for accident, victims in zip(accidents, (2, 1, 4), strict=True) for _ in range(victims)
        ])
    return Handmade(
        register=register,
        refs={"L1": l1.ref, "L2": l2.ref, "L3": l3.ref},
        history_areas=history,
        remaining={"L1": l1["area_m2"] - cancelled["area_m2"], "L2": l2["area_m2"], "L3": l3["area_m2"]},
    )


@pytest.fixture
def handmade(register: Register) -> Handmade:
    return build_handmade(register)


def population_points(path: Path) -> Path:
    """:data:`POPULATION` as a file: CSV in lon/lat, or GeoPackage in the local UTM CRS."""
    xy = np.array([(E0 + x, N0 + y) for x, y, _ in POPULATION])
    people = np.array([p for *_, p in POPULATION])
    if path.suffix == ".csv":
        lonlat = shapely.get_coordinates(to_wgs84(shapely.points(xy), UTM))
        path.write_text("lon,lat,population\n" + "".join(f"{float(lon)!r},{float(lat)!r},{n}\n"
                                                         for (lon, lat), n in zip(lonlat, people, strict=True)))
    else:
        pyogrio.raw.write(str(path), shapely.to_wkb(shapely.points(xy)), [people], ["population"],
                          geometry_type="Point", crs=UTM, driver="GPKG")
    return path
