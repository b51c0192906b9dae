"""QGIS and GDAL connect to a real ``mineaction serve`` as their users do: HTTP Basic with a username and an API
token (or password), OGC API Features paged by ``next`` links, vector tiles from the TileJSON's template.

Debian's QGIS 3.22 (python3-qgis) runs headless in the system's Python; GDAL is Debian's ``ogrinfo`` and the
venv's pyogrio. The register holds more hazards than two pages, so every count crosses pages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import mapbox_vector_tile
import pyogrio
import pytest

from mineaction.storage.register import Register
from mineaction.web.tiles import lonlat_to_tile
from tests.common import hazard_values, square_m
from tests.storage.test_register_file import SYSTEM_PYTHON, _system_python
from tests.web.conftest import _fresh_target
from tests.web.seed import Seeded, password, seed
from tests.web.server import Server, running

#: hazards added to the seeded two: more than two default pages (100) of GDAL, QGIS and the API
EXTRA_HAZARDS = 230
#: where a copy of the QGIS render is kept for people to look at (outside git)
RENDER_COPY = Path(os.environ.get("MINEACTION_QGIS_RENDER", "/work/wt/qgis-render.png"))


@pytest.fixture(scope="module")
def gis_server(web_backend: str, request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Seeded]]:
    with _fresh_target(web_backend, request, tmp_path_factory) as target:
        seeded = seed(target)
        with Register.open(target) as register, register.write("seed", "hazards for GIS clients") as w:
            for i in range(EXTRA_HAZARDS):
                x, y = (i % 16) * 600, 1200 + (i // 16) * 600
                w.add("hazard", hazard_values(seeded.orgs["A" if i % 2 else "B"], description=f"grid {i}"),
                      square_m(x, y, 300))
        with running(target, login_attempts_per_minute="100000") as server:
            yield server, seeded


def _hazards(server: Server, token: str) -> int:
    """The register's hazard count as the API reports it for this token's account."""
    response = httpx.get(f"{server.url}/ogc/collections/hazard/items", params={"limit": 1},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    response.raise_for_status()
    return response.json()["numberMatched"]


def test_the_tiles_describe_themselves_as_tilejson_and_an_ogc_tileset(gis_server: tuple[Server, Seeded]) -> None:
    server, _ = gis_server
    with httpx.Client(base_url=server.url, timeout=30) as client:
        tilejson = client.get("/ogc/collections/hazard/tiles/WebMercatorQuad/tilejson.json").json()
        tileset = client.get("/ogc/collections/hazard/tiles/WebMercatorQuad").json()
    assert tilejson["tilejson"] == "3.0.0"
    assert tilejson["tiles"] == [f"{server.url}/ogc/collections/hazard/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"]
    assert tilejson["vector_layers"] == [{"id": "hazard", "description": "Hazardous area", "minzoom": 0, "maxzoom": 22,
                                          "fields": {"ref": "String", "hazard_type": "String", "status": "String",
                                                     "area_m2": "Number"}}]
    assert tileset["tileMatrixSetURI"] == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    links = {link["rel"]: link["href"] for link in tileset["links"]}
    assert links["item"].endswith("/hazard/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    assert links["http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"].endswith("/ogc/tileMatrixSets/WebMercatorQuad")
    assert tileset["layers"][0]["propertiesSchema"]["properties"]["area_m2"]["type"] == "number"


def test_one_tile_carries_hazards_released_land_and_finds_as_layers(gis_server: tuple[Server, Seeded]) -> None:
    """The dataset tiles (``/ogc/tiles``): one QGIS connection shows every tiled collection."""
    server, _ = gis_server
    token = server.token("national_viewer")
    with httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        tilejson = client.get("/ogc/tiles/WebMercatorQuad/tilejson.json").json()
        tileset = client.get("/ogc/tiles/WebMercatorQuad").json()
        landing = client.get("/ogc").json()
        x, y = lonlat_to_tile(*square_m(50, 50, 1).centroid.coords[0], 14)
        combined = client.get(f"/ogc/tiles/WebMercatorQuad/14/{y}/{x}")
        alone = {layer: client.get(f"/ogc/collections/{layer}/tiles/WebMercatorQuad/14/{y}/{x}").content
                 for layer in ("hazard", "released_part", "eo_find")}
    assert tilejson["tiles"] == [f"{server.url}/ogc/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"]
    assert [layer["id"] for layer in tilejson["vector_layers"]] == ["hazard", "released_part", "eo_find"]
    assert [layer["id"] for layer in tileset["layers"]] == ["hazard", "released_part", "eo_find"]
    assert f"{server.url}/ogc/tiles" in {link["href"] for link in landing["links"]}
    assert combined.status_code == 200 and combined.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    decoded = mapbox_vector_tile.decode(combined.content)
    assert decoded == {k: v for part in alone.values() for k, v in mapbox_vector_tile.decode(part).items()}
    assert {layer: len(decoded[layer]["features"]) for layer in decoded} == {"hazard": 1, "released_part": 1, "eo_find": 1}


def test_items_come_100_a_page_by_default_and_up_to_10000_on_request(gis_server: tuple[Server, Seeded]) -> None:
    server, _ = gis_server
    token = server.token("national_viewer")
    seen: list[str] = []
    with httpx.Client(base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        url: str | None = "/ogc/collections/hazard/items"
        while url:
            page = client.get(url).json()
            seen += [f["id"] for f in page["features"]]
            url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
            assert len(page["features"]) == (100 if url else EXTRA_HAZARDS + 2 - 200)
        assert len(seen) == len(set(seen)) == EXTRA_HAZARDS + 2
        assert len(client.get("/ogc/collections/hazard/items", params={"limit": 10_000}).json()["features"]) == len(seen)
        assert client.get("/ogc/collections/hazard/items", params={"limit": 10_001}).status_code == 422


def _gdal_env(username: str, secret: str) -> dict[str, str]:
    return {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"{username}:{secret}"}


@pytest.mark.parametrize("username", ["national_viewer", "viewer_a"])
def test_ogrinfo_pages_through_every_hazard_with_basic_auth(gis_server: tuple[Server, Seeded], username: str) -> None:
    """Debian's GDAL 3.6 OAPIF driver with a token sent as Basic: every feature the account may see, page by page
    (10 a page: GDAL 3.6 asks for that unless given PAGE_SIZE)."""
    if shutil.which("ogrinfo") is None:
        pytest.skip("ogrinfo is not installed (apt install gdal-bin)")
    server, _ = gis_server
    token = server.token(username)
    result = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-geom=NO", "--debug", "on", f"OAPIF:{server.url}/ogc", "hazard"],
        capture_output=True, text=True, check=False, timeout=300, env={**os.environ, **_gdal_env(username, token)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    features = len(re.findall(r"^OGRFeature\(hazard\):", result.stdout, re.MULTILINE))
    pages = len(re.findall(r"HTTP: Fetch\(\S*/collections/hazard/items", result.stderr))
    assert features == _hazards(server, token) > 100
    assert pages > features / 10, result.stderr[-3000:]


def test_pyogrio_reads_every_hazard_with_a_password_as_basic(gis_server: tuple[Server, Seeded]) -> None:
    server, _ = gis_server
    token = server.token("national_viewer")
    pyogrio.set_gdal_config_options(_gdal_env("national_viewer", password("national_viewer")))
    try:
        frame = pyogrio.read_dataframe(f"OAPIF:{server.url}/ogc", layer="hazard", PAGE_SIZE=100)  # 3 pages
        pyogrio.set_gdal_config_options(_gdal_env("national_viewer", "wrong-password-1"))
        with pytest.raises((pyogrio.errors.DataSourceError, pyogrio.errors.FeatureError), match="401"):
            pyogrio.read_dataframe(f"OAPIF:{server.url}/ogc", layer="hazard")
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_USERPWD": None})
    assert len(frame) == _hazards(server, token) == EXTRA_HAZARDS + 2
    assert frame.geometry.notna().all() and set(frame["status"]) == {"active"}


_QGIS_SCRIPT = r"""
import json, os, sys, tempfile
os.environ["QGIS_AUTH_DB_DIR_PATH"] = tempfile.mkdtemp()  # a fresh authentication database
from qgis.core import (QgsApplication, QgsAuthMethodConfig, QgsCoordinateReferenceSystem, QgsCoordinateTransform,
                       QgsDataSourceUri, QgsMapRendererSequentialJob, QgsMapSettings, QgsProject, QgsVectorLayer,
                       QgsVectorTileLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

base, username, token, secret, template, png = sys.argv[1:7]
app = QgsApplication([], False)
app.initQgis()
auth = QgsApplication.authManager()
auth.setMasterPassword("master password of this test", True)
config = QgsAuthMethodConfig("Basic")  # Settings > Authentication > Basic: the username and the API token
config.setName("mineaction")
config.setConfig("username", username)
config.setConfig("password", token)
stored = auth.storeAuthenticationConfig(config)
authcfg = config.id() or stored[1].id()
seen = {"authcfg": bool(authcfg)}

def features(uri):
    layer = QgsVectorLayer(uri, "hazard", "OAPIF")
    return layer, (sum(1 for _ in layer.getFeatures()) if layer.isValid() else -1)

hazards, seen["authcfg_features"] = features(f"url='{base}/ogc' typename='hazard' authcfg='{authcfg}'")
_, seen["password_features"] = features(f"url='{base}/ogc' typename='hazard' username='{username}' password='{secret}'")
_, seen["anonymous_features"] = features(f"url='{base}/ogc' typename='hazard'")

uri = QgsDataSourceUri()  # Layer > Add Layer > Vector Tile > New generic connection: the TileJSON's template
uri.setParam("type", "xyz")
uri.setParam("url", template)
uri.setParam("zmin", "0")
uri.setParam("zmax", "14")
uri.setAuthConfigId(authcfg)
tiles = QgsVectorTileLayer(bytes(uri.encodedUri()).decode(), "hazard tiles")
seen["tiles_valid"] = tiles.isValid()

mercator = QgsCoordinateReferenceSystem("EPSG:3857")
extent = QgsCoordinateTransform(hazards.crs(), mercator, QgsProject.instance()).transformBoundingBox(hazards.extent())
extent.scale(1.1)
settings = QgsMapSettings()
settings.setLayers([tiles])
settings.setDestinationCrs(mercator)
settings.setOutputSize(QSize(600, 600))
settings.setExtent(extent)
settings.setBackgroundColor(QColor(255, 255, 255))
job = QgsMapRendererSequentialJob(settings)
job.start()
job.waitForFinished()
image = job.renderedImage()
image.save(png, "PNG")
white = QColor(255, 255, 255).rgb()
seen["pixels"] = image.width() * image.height()
drawn = [(x, y) for y in range(image.height()) for x in range(image.width()) if image.pixel(x, y) != white]
seen["drawn"] = len(drawn)
seen["drawn_box"] = [min(x for x, _ in drawn), min(y for _, y in drawn), max(x for x, _ in drawn), max(y for _, y in drawn)]
seen["errors"] = [e.message for e in job.errors()]
print(json.dumps(seen), flush=True)
os._exit(0)  # QGIS 3.22 may crash tearing down its application; what was asked is printed
"""


def test_qgis_adds_the_features_and_the_tiles_with_basic_auth_and_renders_them(
    gis_server: tuple[Server, Seeded], web_backend: str, tmp_path: Path,
) -> None:
    """Debian's QGIS 3.22: OAPIF with an authentication configuration (username + token) and with the provider's
    username/password keys counts the register's hazards; the dataset tiles (hazards, released land, finds) from
    the TileJSON's template, with the same configuration, render a map that is not blank."""
    _system_python("qgis.core", "python3-qgis")
    server, _ = gis_server
    token = server.token("national_viewer")
    template = httpx.get(f"{server.url}/ogc/tiles/WebMercatorQuad/tilejson.json").json()["tiles"][0]
    png = tmp_path / f"qgis-{web_backend}.png"
    result = subprocess.run(
        [SYSTEM_PYTHON, "-c", _QGIS_SCRIPT, server.url, "national_viewer", token, password("national_viewer"),
         template, str(png)],
        check=False, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": "", "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    if web_backend == "gpkg" and RENDER_COPY.parent.is_dir():
        shutil.copy(png, RENDER_COPY)
    count = _hazards(server, token)
    assert count == EXTRA_HAZARDS + 2
    assert seen["authcfg"] and seen["tiles_valid"] and not seen["errors"], seen
    assert seen["authcfg_features"] == seen["password_features"] == count, seen
    assert seen["anonymous_features"] <= 0, seen
    # squares of 300 m every 600 m fill about a quarter of the map (22 % drawn here), outlines included
    assert 0.01 * seen["pixels"] < seen["drawn"] < 0.5 * seen["pixels"], seen
    # where the data says: the map is the hazards' extent enlarged 1.1 times (and widened to the image's shape),
    # so what is drawn sits in the middle and spans 1/1.1 of the image in the extent's longer direction
    left, top, right, bottom = seen["drawn_box"]
    assert abs((left + right) / 2 - 300) < 15 and abs((top + bottom) / 2 - 300) < 15, seen
    assert max(right - left, bottom - top) > 0.85 * 600, seen
