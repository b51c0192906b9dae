"""Spatial criteria: counts within a distance, checked against distances measured in UTM."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from mineaction.domain.prioritisation import (
    count_within,
    metric_crs,
    population_within,
    population_within_raster,
    project_hazards,
)
from mineaction.errors import CRSRequired, InvalidValue

UTM36 = 32636
TO_LONLAT = Transformer.from_crs(UTM36, 4326, always_xy=True)
TO_UTM = Transformer.from_crs(4326, UTM36, always_xy=True)


def _lonlat(geoms):
    return shapely.transform(geoms, lambda c: np.column_stack(TO_LONLAT.transform(c[:, 0], c[:, 1])))


@pytest.fixture
def square_hazard():
    """A 200 m square hazard near Kyiv, drawn in UTM 36N and stored as lon/lat."""
    return _lonlat(shapely.box(300_000, 5_580_000, 300_200, 5_580_200))


def test_points_just_inside_and_outside_the_distance(square_hazard) -> None:
    # east of the square's east edge (x = 300200) at 999.9 and 1000.1 m; inside; far away
    xs = np.array([300_200 + 999.9, 300_200 + 1000.1, 300_100, 310_000.0])
    ys = np.full(4, 5_580_100.0)
    lon, lat = TO_LONLAT.transform(xs, ys)
    points = np.column_stack([lon, lat])
    # reprojection round trips are good to micrometres; 0.1 m margins are safe
    got = population_within([square_hazard], points, [1, 10, 100, 1000], 1000, crs=UTM36)
    np.testing.assert_array_equal(got, [101.0])
    shapely_points = shapely.points(points)
    assert count_within([square_hazard], shapely_points, 1000, crs=UTM36).tolist() == [2.0]


def test_matches_brute_force_distances() -> None:
    rng = np.random.default_rng(11)
    centres = rng.uniform([290_000, 5_570_000], [310_000, 5_590_000], size=(40, 2))
    shapes = shapely.buffer(shapely.points(centres), rng.uniform(50, 400, 40), quad_segs=4)
    # shapes whose centroid lies outside, or that have no inside: a ring with a 2 km hole,
    # a U whose centroid is in the gap, a track (line) and a single point
    shapes[0] = shapely.buffer(shapely.Point(300_000, 5_580_000), 2_500).difference(
        shapely.buffer(shapely.Point(300_000, 5_580_000), 2_000)
    )
    shapes[1] = shapely.Polygon(
        [(295_000, 5_575_000), (297_000, 5_575_000), (297_000, 5_579_000), (296_600, 5_579_000),
         (296_600, 5_575_400), (295_400, 5_575_400), (295_400, 5_579_000), (295_000, 5_579_000)]
    )
    shapes[2] = shapely.LineString([(302_000, 5_585_000), (306_000, 5_586_000)])
    shapes[3] = shapely.Point(304_000, 5_572_000)
    hazards = _lonlat(shapes)
    pts = rng.uniform([288_000, 5_568_000], [312_000, 5_592_000], size=(3000, 2))
    weights = rng.integers(1, 50, 3000).astype(float)
    lon, lat = TO_LONLAT.transform(pts[:, 0], pts[:, 1])
    got = population_within(hazards, np.column_stack([lon, lat]), weights, 1500, crs=UTM36)
    hazards_m = shapely.transform(hazards, lambda c: np.column_stack(TO_UTM.transform(c[:, 0], c[:, 1])))
    d = shapely.distance(hazards_m[:, None], shapely.points(pts)[None, :])
    expected = (weights * (d <= 1500)).sum(axis=1)
    np.testing.assert_array_equal(got, expected)
    # projecting once and reusing gives the same answer
    projected = project_hazards(hazards, UTM36)
    np.testing.assert_array_equal(population_within(projected, np.column_stack([lon, lat]), weights, 1500), got)


def test_missing_geometry_is_nan_and_default_crs_is_utm(square_hazard) -> None:
    got = population_within([None, square_hazard, shapely.Polygon()], np.empty((0, 2)), None, 500)
    assert np.isnan(got[0]) and got[1] == 0 and np.isnan(got[2])
    assert metric_crs([square_hazard]).to_epsg() == UTM36


def test_accidents_since_date(square_hazard) -> None:
    lon, lat = TO_LONLAT.transform([300_100, 300_100, 300_100], [5_580_100, 5_580_500, 5_590_000])
    dates = np.array(["2022-06-01", "2024-03-01", "2024-03-01"], dtype="datetime64[D]")
    got = count_within(
        [square_hazard], np.column_stack([lon, lat]), 1000,
        event_dates=dates, since="2023-01-01", weights=[5, 2, 7],
    )
    assert got.tolist() == [2.0]
    with pytest.raises(InvalidValue, match="event_dates"):
        count_within([square_hazard], np.column_stack([lon, lat]), 1000, since="2023-01-01")


@pytest.mark.parametrize(
    ("points", "message"),
    [([[5_580_100.0, 300_100.0]], "longitude"), ([[1.0, 2.0, 3.0]], r"\(n, 2\)")],
)
def test_projected_or_malformed_points_are_refused(square_hazard, points, message) -> None:
    with pytest.raises(InvalidValue, match=message):
        population_within([square_hazard], points, None, 100)


def test_geographic_crs_is_refused_for_distances(square_hazard) -> None:
    with pytest.raises(CRSRequired, match="metres"):
        population_within([square_hazard], [[30.0, 50.0]], None, 100, crs=4326)


def test_population_raster(tmp_path, square_hazard) -> None:
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import from_origin

    # 100 m cells in UTM 36N over 4 × 4 km around the hazard; cell (r, c) holds r + c + 1 people
    transform = from_origin(298_000, 5_582_000, 100, 100)
    data = np.add.outer(np.arange(40), np.arange(40)).astype("float32") + 1
    data[0, 0] = -9999  # no data
    path = tmp_path / "pop.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=40, height=40, count=1, dtype="float32",
        crs=f"EPSG:{UTM36}", transform=transform, nodata=-9999,
    ) as dst:
        dst.write(data, 1)
    got = population_within_raster([square_hazard, None], path, 700, crs=UTM36)
    rows, cols = np.mgrid[0:40, 0:40]
    centres = shapely.points(298_000 + 100 * cols + 50, 5_582_000 - 100 * rows - 50)
    hazard_m = shapely.box(300_000, 5_580_000, 300_200, 5_580_200)
    inside = shapely.dwithin(hazard_m, centres, 700) & (data > 0)
    assert got[0] == pytest.approx(data[inside].sum(), rel=1e-12)
    assert np.isnan(got[1])
    far = _lonlat(shapely.box(400_000, 5_580_000, 400_200, 5_580_200))
    assert population_within_raster([far], path, 700, crs=UTM36).tolist() == [0.0]
