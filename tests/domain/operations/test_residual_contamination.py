"""Residual contamination: inside, outside, on the boundary, and within the stated tolerance on the ground."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, Polygon, box

from mineaction.domain.operations.residual_contamination import (
    DEFAULT_TOLERANCE_M,
    RESIDUAL_REVIEW,
    ReleasedLand,
    check_review_outcome,
    find_residual_contamination,
)
from mineaction.domain.operations.states import TransitionNotAllowed
from mineaction.errors import InvalidGeometry, InvalidValue

GEOD = Geod(ellps="WGS84")
LAT = 49.99


def square(lon: float, lat: float, side_m: float) -> Polygon:
    """A released part whose west edge is the meridian ``lon``, built by geodesic steps."""
    east, _, _ = GEOD.fwd(lon, lat, 90, side_m)
    _, north, _ = GEOD.fwd(lon, lat, 0, side_m)
    return Polygon([(lon, lat), (east, lat), (east, north), (lon, north)])


PART = ReleasedLand("REL-1", "released_part", "T-7", square(36.0, LAT, 200))
FAR = ReleasedLand("REL-2", "released_part", "T-8", square(30.0, 46.5, 200))  # ~600 km away: moves the projection


def west_of_edge(metres: float) -> Point:
    _, mid_lat, _ = GEOD.fwd(36.0, LAT, 0, 100)
    lon, lat, _ = GEOD.fwd(36.0, mid_lat, 270, metres)
    return Point(lon, lat)


def test_inside_outside_and_on_the_boundary() -> None:
    inside = PART.geometry.centroid
    on_edge = Point(36.0, PART.geometry.centroid.y)
    corner = Point(36.0, LAT)
    outside = west_of_edge(30)
    hits = find_residual_contamination([inside, on_edge, corner, outside], [PART, FAR])
    assert [(h.find, h.land_ref, h.task_ref, h.inside) for h in hits] == [
        (0, "REL-1", "T-7", True), (1, "REL-1", "T-7", True), (2, "REL-1", "T-7", True)]


def test_tolerance_is_metres_on_the_ground() -> None:
    # the rule: within 5 m of released land counts as in it; geodesic distances from pyproj
    near, beyond = west_of_edge(DEFAULT_TOLERANCE_M - 0.1), west_of_edge(DEFAULT_TOLERANCE_M + 0.1)
    hits = find_residual_contamination([near, beyond], [PART, FAR])
    assert [h.find for h in hits] == [0]
    assert not hits[0].inside
    assert hits[0].distance_m == pytest.approx(DEFAULT_TOLERANCE_M - 0.1, abs=0.01)


def test_tolerance_per_find_and_zero_tolerance() -> None:
    finds = [west_of_edge(8), west_of_edge(8)]
    assert [h.find for h in find_residual_contamination(finds, [PART], tolerance_m=[10, 5])] == [0]
    assert find_residual_contamination([west_of_edge(0.5)], [PART], tolerance_m=0) == []


def test_handed_over_area_and_released_part_both_named_nearest_first() -> None:
    handover = ReleasedLand("HO-1", "handover", "T-7", PART.geometry.buffer(0.001))
    hits = find_residual_contamination([PART.geometry.centroid, west_of_edge(30)], [handover, PART])
    assert [(h.find, h.land_ref, h.kind) for h in hits] == [
        (0, "HO-1", "handover"), (0, "REL-1", "released_part"), (1, "HO-1", "handover")]


def test_many_finds_agree_with_a_brute_force_intersection() -> None:
    rng = np.random.default_rng(11)
    lon0, lat0 = rng.uniform(30, 38, 400), rng.uniform(46, 52, 400)
    parts = [ReleasedLand(f"REL-{i}", "released_part", None, box(x, y, x + 0.002, y + 0.002))
             for i, (x, y) in enumerate(zip(lon0, lat0, strict=True))]
    pick = rng.integers(0, 400, 5_000)
    jitter = rng.uniform(-0.002, 0.004, (2, 5_000))
    finds = shapely.points(lon0[pick] + jitter[0], lat0[pick] + jitter[1])
    exact = {(h.find, h.land_ref) for h in find_residual_contamination(finds, parts, tolerance_m=0)}
    areas = np.array([p.geometry for p in parts])
    expected = {(int(f), f"REL-{j}") for f, j in zip(*np.nonzero(shapely.intersects(finds[:, None], areas[None, :])),
                                                     strict=True)}
    assert exact == expected and len(expected) > 500
    loose = find_residual_contamination(finds, parts, tolerance_m=20)
    assert exact < {(h.find, h.land_ref) for h in loose}
    assert all(0 < h.distance_m <= 20 for h in loose if (h.find, h.land_ref) not in exact)


def test_bad_input() -> None:
    with pytest.raises(InvalidValue, match="kind must be one of"):
        ReleasedLand("X", "cleared", None, PART.geometry)
    with pytest.raises(InvalidGeometry, match="find 0 has no geometry"):
        find_residual_contamination([Point()], [PART])
    with pytest.raises(InvalidValue, match="metres ≥ 0"):
        find_residual_contamination([PART.geometry.centroid], [PART], tolerance_m=-1)
    assert find_residual_contamination([], [PART]) == []


def test_review_runs_to_reopened_with_cause_and_new_hazard() -> None:
    RESIDUAL_REVIEW.check("flagged", "investigating", "authority")
    RESIDUAL_REVIEW.check("investigating", "reopened", "authority", reason="AP mine 2 m inside, missed")
    check_review_outcome("reopened", "missed", "HAZ-88")
    check_review_outcome("dismissed", "boundary_error", None)
    with pytest.raises(InvalidValue, match="records its cause"):
        check_review_outcome("reopened", None, "HAZ-88")
    with pytest.raises(InvalidValue, match="not a residual_cause code"):
        check_review_outcome("dismissed", "bad luck", None)
    with pytest.raises(TransitionNotAllowed, match="allowed next states: closed"):
        RESIDUAL_REVIEW.check("reopened", "flagged", "authority")
