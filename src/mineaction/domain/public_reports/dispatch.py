"""From a verified report to an EOD spot task for the operator responsible for the place.

Which operator answers a report is a matter of areas of responsibility: an
operator is accredited for, or assigned, some admin areas or drawn polygons.
The rule here: the operator whose area **contains** the point, and where
areas overlap (a national operator over a regional one) the **smallest**
area, because the assignment closest to the place is the most specific. No
area: None, and the dispatcher chooses. The task is the operations' own
:class:`TaskOrder` (activity ``eod_spot``, no hazard, no area), due in the
days the intake policy gives, sooner when people are near.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely

from mineaction.domain.geometry import geodesic_area
from mineaction.domain.operations.tasks import TaskOrder
from mineaction.domain.public_reports.policy import IntakePolicy
from mineaction.domain.public_reports.report import PublicReport
from mineaction.domain.public_reports.vocabularies import label

__all__ = ["responsible_operators", "spot_task"]


def responsible_operators(
    lon: np.ndarray, lat: np.ndarray, operator_ids: np.ndarray, areas: np.ndarray
) -> np.ndarray:
    """For each point, the operator of the smallest area of responsibility that covers it (None if none).

    ``operator_ids`` and ``areas`` (lon/lat polygons) are parallel arrays, one
    row per assignment; an operator may have several.

    >>> areas = np.array([shapely.box(30, 50, 32, 52), shapely.box(30.5, 50.5, 31, 51)])
    >>> responsible_operators(np.array([30.7, 31.5, 35.0]), np.array([50.7, 51.5, 50.0]),
    ...                       np.array(["national", "regional"]), areas).tolist()
    ['regional', 'national', None]
    """
    points = np.asarray(shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)), dtype=object)
    out = np.full(len(points), None, dtype=object)
    if len(areas) == 0 or len(points) == 0:
        return out
    point, area = shapely.STRtree(np.asarray(areas, dtype=object)).query(points, predicate="covered_by")
    size = geodesic_area(np.asarray(areas, dtype=object))[area]
    order = np.lexsort((size, point))  # per point, smallest area first
    point, area = point[order], area[order]
    first = np.ones(len(point), dtype=bool)
    first[1:] = point[1:] != point[:-1]
    out[point[first]] = np.asarray(operator_ids, dtype=object)[area[first]]
    return out


def spot_task(
    reference: str, report_reference: str, report: PublicReport, operator_id: str, issued_on: dt.date,
    policy: IntakePolicy | None = None,
) -> TaskOrder:
    """The EOD spot task a dispatcher issues for a verified report.

    >>> from mineaction.domain.public_reports.report import validate_report
    >>> r = validate_report({"lon": 35.0, "lat": 48.5, "category": "shell", "people_near": "yes"},
    ...                     now=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    >>> task = spot_task("T-88", "PRP-000012", r, "org-7", dt.date(2026, 5, 1))
    >>> task.activity, task.deadline, task.priority_explanation
    ('eod_spot', datetime.date(2026, 5, 2), 'public report PRP-000012: Shell or mortar bomb, people near')
    """
    policy = policy or IntakePolicy()
    near = report.people_near == "yes"
    days = policy.spot_task_days_people_near if near else policy.spot_task_days
    why = f"public report {report_reference}: {label('reported_item', report.category, 'en')}"
    return TaskOrder(
        reference, "eod_spot", operator_id, (), issued_on, issued_on + dt.timedelta(days=days),
        priority_explanation=why + (", people near" if near else ""),
    )
