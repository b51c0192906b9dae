"""geodesic_area measures in an equal-area projection; pyproj Geod is the reference it must match."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

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


def _planar_area_after_projection(geometries: np.ndarray) -> np.ndarray:
    """The definition geodesic_area computes: split long edges, project to EASE-Grid 2.0, planar area."""
    to_ease = Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True)
    projected = shapely.transform(
        shapely.segmentize(geometries, EDGE_STEP_DEG), lambda xy: np.column_stack(to_ease.transform(*xy.T))
    )
    return np.nan_to_num(shapely.area(projected))


def _with_holes(lon: float, lat: float, radius_deg: float, rng: np.random.Generator) -> shapely.Polygon:
    """A 30-point star with two round holes.

    Its vertices lie 0.5-1 radius out at even angles, so its edges stay
    beyond 0.5·cos(6°) ≈ 0.497 radius; the holes (0.2 radius, centred
    ±0.25 radius out) reach 0.45 and are 0.1 radius apart.
    """
    angles = np.linspace(0, 2 * np.pi, 30, endpoint=False)
    r = radius_deg * rng.uniform(0.5, 1.0, 30)
    outer = np.column_stack([lon + r * np.cos(angles), lat + r * np.sin(angles)])
    holes = [shapely.Point(lon + dx * radius_deg, lat).buffer(radius_deg / 5, 4).exterior for dx in (-0.25, 0.25)]
    return shapely.Polygon(outer, holes)


def test_coordinate_arithmetic_equals_projected_geometry_area() -> None:
    """geodesic_area works on coordinate arrays; the same numbers through projected geometries agree.

    Both project the same vertices with the same transformer and sum the
    same shoelace terms; only the order of additions and the last bit of
    split points differ, each ~1e-16 of the area per term: 1e-9 relative
    leaves a wide margin and still catches a misplaced ring or a lost hole.
    """
    rng = np.random.default_rng(7)
    lat = rng.uniform(-70, 70, 40)
    small = [_star(30.0, la, 2e-4, 40, rng) for la in lat[:10]]  # no edge to split
    long_edged = [_star(31.0, la, 3e-2, 8, rng) for la in lat[10:20]]  # every edge split
    holed = [_with_holes(32.0, la, 1e-2, rng) for la in lat[20:30]]
    multi = [
        shapely.MultiPolygon([_with_holes(33.0, la, 1e-2, rng), _with_holes(33.1, la, 3e-2, rng)]) for la in lat[30:]
    ]
    mixed = [
        shapely.GeometryCollection([holed[0], shapely.LineString([(30, 10), (31, 11)]), shapely.Point(30, 10)]),
        shapely.GeometryCollection([shapely.GeometryCollection([long_edged[0]]), multi[0]]),
        shapely.Polygon(), None, shapely.Point(1, 2),
    ]
    geometries = np.array([*small, *long_edged, *holed, *multi, *mixed], dtype=object)
    assert shapely.is_valid(geometries[:40]).all() and (shapely.get_num_interior_rings(holed) == 2).all()
    ours = geodesic_area(geometries)
    reference = _planar_area_after_projection(geometries)
    assert ours == pytest.approx(reference, rel=1e-9, abs=0)
    assert ours[40] == pytest.approx(ours[20], rel=1e-12) and ours[-3:].tolist() == [0.0, 0.0, 0.0]
