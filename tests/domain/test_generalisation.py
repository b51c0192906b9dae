"""Location generalisation for public outputs: fixed equal-area grid cells, or admin areas."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from mineaction.domain.generalisation import (
    AdminAreas,
    Generalisation,
    coarsen_bbox,
    generalise,
    to_admin_areas,
    to_grid,
)
from mineaction.domain.geometry import geodesic_area
from mineaction.errors import InvalidValue
from tests.common import box_m, square_m

lon = st.floats(-34.5, -32.5)
lat = st.floats(-30.7, -29.3)


@settings(max_examples=200, deadline=None)
@given(lon, lat, st.sampled_from([250.0, 1000.0, 5000.0]))
def test_a_point_becomes_the_one_cell_holding_it(x: float, y: float, cell_m: float) -> None:
    point = shapely.Point(x, y)
    (cell,) = to_grid([point], cell_m)
    assert cell.geom_type == "Polygon" and len(cell.exterior.coords) == 5
    assert cell.distance(point) < 1e-9  # covers it, up to the rounding of the grid lines
    assert float(geodesic_area(cell)) == pytest.approx(cell_m**2, rel=5e-3)


def test_the_grid_is_fixed_not_fitted_to_the_data() -> None:
    a, b = shapely.Point(-33.7, -30.0), shapely.Point(-33.7001, -30.0001)
    alone = to_grid([a], 1000)[0]
    together = to_grid([b, a, shapely.Point(-33.0, -29.5)], 1000)
    assert together[1].equals(alone)
    assert together[0].equals(alone)  # 15 m away: same cell
    assert not together[2].equals(alone)
    assert to_grid([alone], 1000)[0].equals(alone)  # a cell generalises to itself


def test_a_polygon_becomes_the_cells_its_interior_reaches() -> None:
    cell = to_grid([square_m(0, 0, 1)], 1000)[0]
    minx, miny, maxx, maxy = cell.bounds
    width, height = maxx - minx, maxy - miny
    inner = shapely.box(minx + width * 0.4, miny + height * 0.4, minx + width * 1.6, miny + height * 1.6)
    four = to_grid([inner], 1000)[0]
    assert four.covers(inner) and float(geodesic_area(four)) == pytest.approx(4e6, rel=5e-3)
    edge_only = shapely.box(minx + width * 0.2, miny + height * 0.2, maxx, maxy)  # ends on the cell's edges
    assert to_grid([edge_only], 1000)[0].equals(cell)


def test_a_large_hazard_is_covered_by_its_cells() -> None:
    hazard = box_m(0, 0, 3300, 2100)
    cells = to_grid([hazard], 1000)[0]
    assert cells.covers(hazard) and cells.is_valid
    assert 12 <= round(float(geodesic_area(cells)) / 1e6) <= 20


def test_missing_and_empty_geometries_stay_missing() -> None:
    out = to_grid([None, shapely.Polygon(), square_m(0, 0, 10)], 1000)
    assert out[0] is None and out[1] is None and out[2] is not None
    assert to_grid([], 1000).tolist() == []


def test_admin_areas_replace_locations_and_withhold_the_rest() -> None:
    west, east = box_m(-2000, -2000, 0, 2000), box_m(0, -2000, 2000, 2000)
    shapes, codes = to_admin_areas(
        [square_m(-500, 0, 100), square_m(100, 0, 100), square_m(-50, 500, 150), square_m(9000, 0, 10), None],
        ["XX01", "XX02"], [west, east],
    )
    assert codes.tolist() == ["XX01", "XX02", "XX02", None, None]  # the straddler goes by its representative point
    assert shapes[0].equals(west) and shapes[1].equals(east) and shapes[3] is None


def test_generalise_follows_the_configuration() -> None:
    areas = AdminAreas(["XX", "XX01"], [1, 2], [box_m(-5000, -5000, 5000, 5000), box_m(-1000, -1000, 1000, 1000)])
    hazard = square_m(0, 0, 100)
    assert generalise([hazard], Generalisation("admin", admin_level=1), areas)[0].equals(areas.geometries[0])
    assert generalise([hazard], Generalisation("admin", admin_level=2), areas)[0].equals(areas.geometries[1])
    assert generalise([hazard], Generalisation("grid", cell_m=2000))[0].covers(hazard)
    with pytest.raises(InvalidValue, match="needs the admin areas"):
        generalise([hazard], Generalisation("admin"))


def test_exact_publishes_the_geometry_as_drawn() -> None:
    hazard = square_m(0, 0, 100)
    shown = generalise([hazard, None], Generalisation("exact"))
    assert shown[0].equals_exact(hazard, 0) and shown[1] is None
    assert coarsen_bbox(hazard.bounds, Generalisation("exact")) == hazard.bounds


@settings(max_examples=100, deadline=None)
@given(lon, lat, st.floats(0, 0.05), st.floats(0, 0.05))
def test_a_coarsened_bbox_is_the_cells_it_reaches(x: float, y: float, width: float, height: float) -> None:
    bbox = (x, y, x + width, y + height)
    wide = coarsen_bbox(bbox, Generalisation(cell_m=1000))
    cells = to_grid([shapely.Point(x, y), shapely.Point(x + width, y + height)], 1000)
    assert shapely.box(*wide).covers(shapely.box(*bbox))
    assert wide == (*cells[0].bounds[:2], *cells[1].bounds[2:])
    # any box inside one cell widens to that same cell: the answer cannot say more than the cell
    inner = coarsen_bbox((x, y, x, y), Generalisation(cell_m=1000))
    assert shapely.box(*inner).equals(cells[0].envelope)


def test_a_coarsened_bbox_spans_the_admin_areas_it_reaches() -> None:
    areas = AdminAreas(["XX01", "XX02"], [1, 1], [box_m(-2000, -2000, 0, 2000), box_m(0, -2000, 2000, 2000)])
    west = shapely.box(*coarsen_bbox(square_m(-500, 0, 10).bounds, Generalisation("admin"), areas))
    both = shapely.box(*coarsen_bbox(square_m(-5, 0, 10).bounds, Generalisation("admin"), areas))
    outside = square_m(9000, 0, 10).bounds
    assert west.equals(areas.geometries[0].envelope)
    assert both.equals(shapely.union_all(areas.geometries).envelope)
    assert coarsen_bbox(outside, Generalisation("admin"), areas) == outside
    with pytest.raises(InvalidValue, match="needs the admin areas"):
        coarsen_bbox(outside, Generalisation("admin"))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "rounded"}, "method"), ({"cell_m": 0}, "cell size"), ({"cell_m": float("nan")}, "cell size"),
    ({"admin_level": 0}, "admin level"),
])
def test_bad_configurations_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        Generalisation(**kwargs)


def test_a_tiny_cell_over_a_huge_area_is_refused() -> None:
    with pytest.raises(InvalidValue, match="larger cell"):
        to_grid([shapely.box(-34, -30.5, -33, -29.5)], 10)


def test_it_is_vectorised() -> None:
    points = shapely.points(np.column_stack([np.linspace(-34, -33, 2000), np.full(2000, -30.0)]))
    cells = to_grid(points, 1000)
    assert len(cells) == 2000 and all(c.distance(p) < 1e-9 for c, p in zip(cells, points))
    assert 90 <= len({c.wkb for c in cells}) <= 100  # 1° of longitude at 30° S is ~96 km
