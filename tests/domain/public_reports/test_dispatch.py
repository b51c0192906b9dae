"""Which operator answers a report, and the spot task it is given."""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely

from mineaction.domain.geometry import geodesic_area
from mineaction.domain.operations.tasks import TaskOrder
from mineaction.domain.public_reports.dispatch import responsible_operators, spot_task
from mineaction.domain.public_reports.policy import IntakePolicy
from mineaction.domain.public_reports.report import validate_report

NOW = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)


def test_the_smallest_covering_area_wins_and_its_boundary_counts() -> None:
    oblast = shapely.box(34, 47, 37, 49)
    hromada = shapely.box(35, 48, 35.2, 48.2)
    other = shapely.MultiPolygon([shapely.box(20, 40, 21, 41), shapely.box(36.5, 48.5, 37.5, 49.5)])
    ids = np.array(["org-oblast", "org-hromada", "org-other"], dtype=object)
    lon = np.array([35.1, 36.0, 35.2, 36.8, 10.0])
    lat = np.array([48.1, 47.5, 48.1, 48.8, 10.0])
    got = responsible_operators(lon, lat, ids, np.array([oblast, hromada, other], dtype=object))
    # on the hromada's edge: still the hromada; where the oblast (3° x 2°) and the other operator's two 1° squares
    # overlap: the other, whose area is smaller in all; nowhere: None
    assert got.tolist() == ["org-hromada", "org-oblast", "org-hromada", "org-other", None]


def test_many_points_agree_with_a_loop() -> None:
    rng = np.random.default_rng(5)
    areas = np.array([shapely.box(x, y, x + w, y + w) for x, y, w in
                      zip(rng.uniform(30, 36, 60), rng.uniform(46, 50, 60), rng.uniform(0.1, 2, 60))], dtype=object)
    ids = np.array([f"org-{k}" for k in range(60)], dtype=object)
    lon, lat = rng.uniform(29, 38, 2000), rng.uniform(45, 52, 2000)
    got = responsible_operators(lon, lat, ids, areas)
    size = geodesic_area(areas)
    for i in range(0, 2000, 7):
        covering = [k for k in range(60) if areas[k].covers(shapely.Point(lon[i], lat[i]))]
        assert got[i] == (ids[min(covering, key=lambda k: size[k])] if covering else None)


def test_a_spot_task_is_an_operations_task_due_sooner_when_people_are_near() -> None:
    policy = IntakePolicy(spot_task_days_people_near=1, spot_task_days=4)
    near = validate_report({"lon": 35.0, "lat": 48.5, "category": "submunition", "people_near": "yes"}, now=NOW)
    away = validate_report({"lon": 35.0, "lat": 48.5, "category": "mine", "people_near": "no"}, now=NOW)
    day = dt.date(2026, 5, 1)
    a, b = spot_task("T-1", "PRP-1", near, "org-7", day, policy), spot_task("T-2", "PRP-2", away, "org-7", day, policy)
    assert isinstance(a, TaskOrder) and (a.activity, a.hazard_ids, a.area_m2) == ("eod_spot", (), 0.0)
    assert (a.deadline - day, b.deadline - day) == (dt.timedelta(days=1), dt.timedelta(days=4))
    assert "PRP-1" in a.priority_explanation and "people near" in a.priority_explanation
    assert "people near" not in b.priority_explanation
