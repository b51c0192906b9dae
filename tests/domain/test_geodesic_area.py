"""geodesic_area measures in an equal-area projection; pyproj Geod is the reference it must match."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from mineaction.domain.geometry import EDGE_STEP_DEG, geodesic_area

GEOD = Geod(ellps="WGS84")


def _geod_area(geometry: shapely.Geometry) -> float:
    """Geod's area of the polygon with its edges split as the register splits them."""
    return abs(GEOD.geometry_area_perimeter(shapely.segmentize(geometry, EDGE_STEP_DEG))[0])


def _star(lon: float, lat: float, radius_deg: float, vertices: int, rng: np.random.Generator) -> shapely.Polygon:
    angles = np.sort(rng.uniform(0, 2 * np.pi, vertices))
    r = radius_deg * rng.uniform(0.5, 1.0, vertices)
    return shapely.Polygon(np.column_stack([lon + r * np.cos(angles), lat + r * np.sin(angles)]))


@pytest.mark.parametrize("lat", [-60.0, -33.5, 0.0, 48.5, 67.0])
@pytest.mark.parametrize("radius_deg", [1e-4, 2e-3, 3e-2])
def test_areas_agree_with_geod(lat: float, radius_deg: float) -> None:
    rng = np.random.default_rng([int(lat + 90), int(radius_deg * 1e5)])
    polygons = np.array([_star(30.0 + i * 0.1, lat, radius_deg, 40, rng) for i in range(20)], dtype=object)
    ours = geodesic_area(polygons)
    reference = np.array([_geod_area(p) for p in polygons])
    # Both measure the same straight-in-lon/lat polygon with its edges split into steps of
    # EDGE_STEP_DEG; each step's chord differs from the true edge by at most ~0.0012 m²
    # (L²·tan φ/(8R) sideways), in either method: 2 × 0.0012 m² per step bounds the gap.
    steps = shapely.get_num_coordinates(shapely.segmentize(polygons, EDGE_STEP_DEG))
    assert (np.abs(ours - reference) <= 2.5e-3 * steps + 1e-9 * reference).all()


def test_holes_and_parts() -> None:
    outer = shapely.box(30.0, 48.0, 30.01, 48.01)
    hole = shapely.box(30.002, 48.002, 30.004, 48.004)
    with_hole = outer.difference(hole)
    assert geodesic_area(with_hole) == pytest.approx(geodesic_area(outer) - geodesic_area(hole), abs=1e-6)
    two = shapely.MultiPolygon([outer, shapely.box(31.0, 48.0, 31.01, 48.01)])
    assert geodesic_area(two) == pytest.approx(_geod_area(two), rel=1e-7)
    assert geodesic_area(two) == pytest.approx(2 * geodesic_area(outer), rel=1e-6)  # same latitudes


def test_points_lines_and_missing_geometries_have_no_area() -> None:
    areas = geodesic_area([shapely.Point(30, 48), shapely.LineString([(30, 48), (31, 49)]), None, shapely.Polygon()])
    assert areas.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_a_cut_polygon_adds_up() -> None:
    """A long-edged triangle cut in two: the parts' areas sum to the whole, as the ledger needs."""
    triangle = shapely.Polygon([(30.0, 48.0), (30.05, 48.0), (30.0, 48.04)])
    left, right = shapely.box(29.9, 47.9, 30.02, 48.1), shapely.box(30.02, 47.9, 30.1, 48.1)
    parts = [triangle.intersection(left), triangle.intersection(right)]
    assert sum(geodesic_area(parts)) == pytest.approx(geodesic_area(triangle), abs=0.01)
