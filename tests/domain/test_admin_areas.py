"""AdminIndex gives the deepest admin area whose interior holds a geometry's representative point."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from mineaction.domain import admin_areas
from mineaction.domain.admin_areas import AdminIndex


def _gazetteer(rng: np.random.Generator) -> tuple[list[str], list[int], list[shapely.Geometry]]:
    """Four nested levels over a unit square: region, two halves (up to y = 0.9), Voronoi cells
    (up to y = 0.8) and a pocket inside one cell; beside it two overlapping level-3 areas."""
    region = shapely.box(0, 0, 1, 1)
    seeds = shapely.MultiPoint(rng.random((12, 2)) * [1, 0.8])
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=region))
    cells = [cell.intersection(shapely.box(0, 0, 1, 0.8)) for cell in cells]
    halves = [shapely.box(0, 0, 0.5, 0.9), shapely.box(0.5, 0, 1, 0.9)]
    pocket = shapely.Point(shapely.get_coordinates(cells[0].centroid)[0]).buffer(0.02)
    overlap = [shapely.box(1.2, 0.2, 1.6, 0.6), shapely.box(1.4, 0.4, 1.8, 0.8)]  # outside the region
    areas = [region, *halves, *cells, pocket, *overlap]
    levels = [1, 2, 2, *[3] * len(cells), 4, 3, 3]
    return [f"A{i:02d}" for i in range(len(areas))], levels, areas


def _reference(pcodes: list[str], levels: list[int], areas: list[shapely.Geometry], geometries: np.ndarray) -> list:
    """The definition, one point and one area at a time: the deepest area the representative point is within."""
    out = []
    for point in shapely.point_on_surface(geometries):
        holding = [i for i, area in enumerate(areas) if point is not None and shapely.within(point, area)]
        out.append(pcodes[min(holding, key=lambda i: (-levels[i], i))] if holding else None)
    return out


def _probes(areas: list[shapely.Geometry], rng: np.random.Generator) -> np.ndarray:
    """Random points in and around the areas, small polygons (many across a boundary), every
    area vertex and edge midpoint (on a boundary), a point where the overlapping areas overlap,
    and geometries without a point."""
    points = shapely.points(np.concatenate([rng.uniform(-0.2, 2.0, (400, 2)), [(1.5, 0.5)]]))
    centres = rng.uniform(-0.1, 1.9, (200, 2))
    stars = [shapely.Point(c).buffer(r, 3) for c, r in zip(centres, rng.uniform(0.001, 0.1, 200))]
    empty = [None, shapely.Polygon(), shapely.Point()]
    return np.array([*points, *stars, *_on_boundary(areas), *empty], dtype=object)


def _on_boundary(areas: list[shapely.Geometry]) -> np.ndarray:
    """Every area vertex and the midpoint of every edge (within rounding of the edge)."""
    rings = [shapely.get_coordinates(ring) for area in areas for ring in shapely.get_rings(area)]
    return shapely.points(np.concatenate([xy for ring in rings for xy in (ring, (ring[1:] + ring[:-1]) / 2)]))


@pytest.mark.parametrize("grid", [True, False], ids=["grid", "points only"])
@pytest.mark.parametrize("seed", range(5))
def test_assign_matches_the_within_definition(seed: int, grid: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin_areas, "GRID_MIN_BATCH", 0 if grid else 10**9)
    rng = np.random.default_rng(seed)
    pcodes, levels, areas = _gazetteer(rng)
    probes = _probes(areas, rng)
    index = AdminIndex(pcodes, levels, areas)
    assigned = index.assign(probes)
    assert assigned == _reference(pcodes, levels, areas, probes)
    if grid:  # the grid answered many probes itself (not those on a boundary or beyond its extent)
        answered = index._from_grid(shapely.bounds(probes)) >= 0
        assert answered.sum() >= 100 and not answered[-len(_on_boundary(areas)) - 3 : -3].any()
    # the probes reach every case: each level, overlap ties, and outside every area
    assert {levels[pcodes.index(p)] for p in assigned if p} == {1, 2, 3, 4} and None in assigned
    assert {pcodes[-2], pcodes[-1]} <= set(assigned)


def test_a_point_on_a_boundary_is_not_in_that_area() -> None:
    """On the line between two halves: in neither half, only in the region around both; on the
    region's edge: in nothing."""
    halves = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]
    index = AdminIndex(["R", "W", "E"], [1, 2, 2], [shapely.box(0, 0, 2, 1), *halves])
    assert index.assign(shapely.points([(1, 0.5), (0, 0.5), (0.5, 0.5)])) == ["R", None, "W"]


def test_a_small_area_inside_a_long_bounding_box_is_not_missed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A thin strip over three grid cells whose ends lie in cells of the region alone: the pocket
    in the middle cell, where the strip's representative point lies, still wins."""
    monkeypatch.setattr(admin_areas, "GRID_MIN_BATCH", 0)
    cell = 1 / admin_areas.GRID_CELLS
    middle = 0.5 + cell / 2  # the centre of a cell
    pocket = shapely.box(middle - cell / 4, middle - cell / 4, middle + cell / 4, middle + cell / 4)
    strip = shapely.box(middle - 1.4 * cell, middle - cell / 10, middle + 1.4 * cell, middle + cell / 10)
    index = AdminIndex(["R", "P"], [1, 2], [shapely.box(0, 0, 1, 1), pocket])
    assert index.assign([strip]) == _reference(["R", "P"], [1, 2], [shapely.box(0, 0, 1, 1), pocket], [strip]) == ["P"]


@pytest.mark.parametrize("grid_min_batch", [0, 10**9], ids=["grid", "points only"])
def test_no_areas_or_no_geometries(grid_min_batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin_areas, "GRID_MIN_BATCH", grid_min_batch)
    assert AdminIndex([], [], []).assign([shapely.Point(0, 0), None]) == [None, None]
    assert AdminIndex(["R"], [1], [shapely.box(0, 0, 1, 1)]).assign([]) == []
