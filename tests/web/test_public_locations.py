"""Accounts with only the public role see restricted locations generalised as the programme
configures (a 1 km grid by default, admin areas, or exact), never the drawn geometry; accounts
with the viewer role see them exactly. Over a real server, on both backends."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
import shapely.geometry
import sqlalchemy as sa
from pyproj import Transformer
from typer.testing import CliRunner

from mineaction.cli.app import app
from mineaction.domain.generalisation import to_grid
from mineaction.storage.register import Register
from mineaction.web.tiles import EXTENT, lonlat_to_tile, tile_bounds
from tests.common import square_m
from tests.web.conftest import _fresh_target
from tests.web.seed import Seeded, seed
from tests.web.server import running

GEOMETRY_ENTITIES = ("hazard", "accident", "eo_find", "released_part")
CELL_M = 1000.0


def _shape(data: dict) -> shapely.Geometry:
    return shapely.geometry.shape(data)


def _vertices(geometry: shapely.Geometry) -> set[tuple[float, float]]:
    return {(round(x, 9), round(y, 9)) for x, y in shapely.get_coordinates(geometry)}


def _assert_is(shown: shapely.Geometry, expected: shapely.Geometry) -> None:
    assert shown.normalize().equals_exact(expected.normalize(), tolerance=1e-9), (shown.wkt, expected.wkt)


@pytest.mark.parametrize("entity", GEOMETRY_ENTITIES)
def test_public_account_gets_grid_cells_and_a_viewer_the_drawn_geometry(server, seeded: Seeded, entity: str) -> None:
    record = seeded.records["A"][entity]
    with server.client("national_viewer") as viewer:
        exact = viewer.get(f"/api/v1/{entity}/{record}").json()
    drawn = _shape(exact["geometry"])
    cells = to_grid([drawn], CELL_M)[0]
    with server.client("public") as public:
        rest = public.get(f"/api/v1/{entity}/{record}").json()
        (item,) = [f for f in public.get(f"/ogc/collections/{entity}/items", params={"limit": 1000}).json()["features"]
                   if f["id"] == record]
        history = public.get(f"/api/v1/{entity}/{record}/history").json()
    for shown in (_shape(rest["geometry"]), _shape(item["geometry"]), _shape(history[0]["geometry"])):
        _assert_is(shown, cells)
        assert shown.covers(drawn) and not _vertices(shown) & _vertices(drawn)
    restricted = [name for name, value in exact.items() if name in rest["withheld"]]
    assert restricted and all(rest[name] is None for name in restricted)
    assert rest["organisation_id"] == exact["organisation_id"] and rest["ref"] == exact["ref"]
    if entity == "hazard":
        assert {"hazard_type", "status", "description", "reference_lon", "reference_lat"} <= set(rest["withheld"])
        assert rest["area_m2"] == exact["area_m2"]


def test_public_bbox_and_spatial_filters_answer_only_by_grid_cell(server, seeded: Seeded) -> None:
    hazard = seeded.records["A"]["hazard"]  # a 400 m square at the test origin
    with server.client("national_viewer") as viewer:
        drawn = _shape(viewer.get(f"/api/v1/hazard/{hazard}").json()["geometry"])
    cell = to_grid([drawn], CELL_M)[0]
    # a small box in the hazard's grid cell that misses the hazard itself
    corner = shapely.box(*cell.bounds).difference(drawn.buffer(0.0005)).representative_point()
    probe = ",".join(str(v) for v in (corner.x - 1e-6, corner.y - 1e-6, corner.x + 1e-6, corner.y + 1e-6))
    assert cell.contains(corner) and not drawn.intersects(shapely.box(*map(float, probe.split(","))))
    cql = f"S_INTERSECTS(geom, BBOX({probe}))"

    def found(client, **params) -> set[str]:
        return {i["id"] for i in client.get("/api/v1/hazard", params={"limit": 1000, **params}).json()["items"]}

    with server.client("national_viewer") as viewer:
        assert hazard not in found(viewer, bbox=probe) and hazard not in found(viewer, filter=cql)
    with server.client("public") as public:
        assert hazard in found(public, bbox=probe) and hazard in found(public, filter=cql)
        refused = public.get("/api/v1/hazard", params={"filter": "status = 'active'"})
        assert refused.status_code == 422 and "status" in refused.json()["detail"]
        queryables = public.get("/ogc/collections/hazard/queryables").json()["properties"]
        assert "reference_lon" not in queryables and "area_m2" in queryables


def _tile_polygons(client, x: int, y: int, z: int) -> dict[str, tuple[shapely.Geometry, dict]]:
    response = client.get(f"/ogc/collections/hazard/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert response.status_code == 200
    features = mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": True})["hazard"]["features"]
    return {f["properties"]["ref"]: (_shape(f["geometry"]), f["properties"]) for f in features}


def _pixels(geometry: shapely.Geometry, z: int, x: int, y: int) -> shapely.Geometry:
    west, _, east, north = tile_bounds(z, x, y)
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    scale = EXTENT / (east - west)

    def transform(xy: np.ndarray) -> np.ndarray:
        mx, my = to_mercator.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([(mx - west) * scale, (north - my) * scale])

    return shapely.transform(geometry, transform)


def test_public_tiles_draw_grid_cells_without_restricted_properties(server, seeded: Seeded) -> None:
    with server.client("national_viewer") as viewer:
        exact = viewer.get(f"/api/v1/hazard/{seeded.records['A']['hazard']}").json()
    drawn = _shape(exact["geometry"])
    z = 14
    x, y = lonlat_to_tile(*drawn.centroid.coords[0], z)
    with server.client("national_viewer") as viewer:
        viewer_shape, viewer_props = _tile_polygons(viewer, x, y, z)[exact["ref"]]
    with server.client("public") as public:
        public_shape, public_props = _tile_polygons(public, x, y, z)[exact["ref"]]
    expected_drawn = _pixels(drawn, z, x, y)
    expected_cell = _pixels(to_grid([drawn], CELL_M)[0], z, x, y).intersection(
        shapely.box(-64, -64, EXTENT + 64, EXTENT + 64))
    assert viewer_shape.symmetric_difference(expected_drawn).area < 0.02 * expected_drawn.area
    assert public_shape.symmetric_difference(expected_cell).area < 0.02 * expected_cell.area
    assert public_shape.area > 2 * expected_drawn.area
    assert viewer_props["status"] == "active" and "status" not in public_props and "hazard_type" not in public_props


def _last_changeset(register: Register) -> dict:
    table = register.tables["changeset"]
    with register.engine.connect() as connection:
        return dict(connection.execute(sa.select(table).order_by(table.c.id.desc()).limit(1)).one()._mapping)


@pytest.fixture(scope="module")
def admin_server(web_backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A server on a register whose programme publishes locations as level-1 admin areas."""
    with _fresh_target(web_backend, request, tmp_path_factory) as target:
        seeded = seed(target)
        result = CliRunner().invoke(app, ["public-locations", "admin", "--admin-level", "1", "--user", "im.chief",
                                          "--reason", "publication policy 2026-3", "--db", target])
        assert result.exit_code == 0 and "admin level 1" in result.output, result.output
        with Register.open(target) as register:  # the decision is recorded like any edit
            decided = _last_changeset(register)
        assert (decided["user_name"], decided["reason"], decided["operation"]) == (
            "im.chief", "publication policy 2026-3", "settings")
        with running(target) as s:
            yield s, seeded


def test_admin_area_setting_shows_the_area_holding_each_record(admin_server) -> None:
    server, seeded = admin_server
    with server.client("national_viewer") as viewer:
        area = _shape(viewer.get(f"/api/v1/admin_area/{seeded.programme_wide['admin_area']}").json()["geometry"])
        exact = {e: _shape(viewer.get(f"/api/v1/{e}/{seeded.records['B'][e]}").json()["geometry"])
                 for e in ("hazard", "accident")}
    with server.client("public") as public:
        for entity, drawn in exact.items():
            shown = _shape(public.get(f"/api/v1/{entity}/{seeded.records['B'][entity]}").json()["geometry"])
            _assert_is(shown, area)
            assert not _vertices(shown) & _vertices(drawn)
        outside = ",".join(str(v) for v in square_m(30000, 30000, 10).bounds)  # beyond the admin area
        listed = public.get("/api/v1/hazard", params={"bbox": outside}).json()["items"]
        inside = ",".join(str(v) for v in square_m(12000, 12000, 10).bounds)  # in the area, far from every hazard
        found = {i["id"] for i in public.get("/api/v1/hazard", params={"bbox": inside}).json()["items"]}
    assert listed == [] and {seeded.records[k]["hazard"] for k in "AB"} <= found
