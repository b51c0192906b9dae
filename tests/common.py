"""Canonical test geometries and records, shared by every test module.

All coordinates lie in the fictional test region (open South Atlantic, UTM
zone 25S), never on real ground. Shapes are built in metres and reprojected,
so their areas are known: a 100 m × 100 m square is 10,000 m² to within the
UTM scale-factor distortion (< 0.1 % here).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from mineaction.access.scopes import local_operator
from mineaction.domain.geometry import Extent, to_wgs84
from mineaction.domain.programme import Programme
from mineaction.storage.unit_of_work import Writer

#: the scope of exports and reports made by the command line's user, without and with personal data
OPERATOR = local_operator("test")
PERSONAL_SCOPE = local_operator("test", personal_data=True)

UTM = "EPSG:32725"
E0, N0 = 430_000.0, 6_675_000.0  # a point near (-33.7, -30.0)

TEST_PROGRAMME = Programme(
    name="Test programme (fictional)",
    extent=Extent(-34.6, -30.8, -32.4, -29.2),
    local_crs=UTM,
    fictional=True,
)


def square_m(x: float, y: float, size: float) -> BaseGeometry:
    """A square in UTM metres, offset (x, y) from the test origin, in lon/lat."""
    return to_wgs84(shapely.box(E0 + x, N0 + y, E0 + x + size, N0 + y + size), UTM)


def box_m(x0: float, y0: float, x1: float, y1: float) -> BaseGeometry:
    return to_wgs84(shapely.box(E0 + x0, N0 + y0, E0 + x1, N0 + y1), UTM)


def add_organisation(w: Writer, name: str = "Test Operator") -> Any:
    return w.add("organisation", {"name": name, "organisation_type": "ngo"})


def hazard_values(org_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "hazard_type": "SHA",
        "status": "active",
        "contamination": ["ap_mine"],
        "evidence": "indirect",
        "reported_on": dt.date(2025, 3, 1),
        "organisation_id": org_id,
        **extra,
    }


def activity_values(hazard_id: str, org_id: str, activity_type: str = "clearance", **extra: Any) -> dict[str, Any]:
    return {
        "hazard_id": hazard_id,
        "activity_type": activity_type,
        "status": "completed",
        "started_on": dt.date(2025, 4, 1),
        "organisation_id": org_id,
        **extra,
    }
