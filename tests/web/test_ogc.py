"""OGC API – Features on a real server, read by real clients: GDAL's OAPIF driver and OWSLib.

Also CRS by reference (Part 2), CQL2 text filters (Part 3) and transactions (Part 4).
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import shapely
import shapely.geometry
from owslib.ogcapi.features import Features

from tests.common import square_m
from tests.conftest import missing_service
from tests.web.seed import Seeded

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
UTM = "http://www.opengis.net/def/crs/EPSG/0/32725"


@pytest.fixture(scope="module")
def ogrinfo() -> str:
    path = shutil.which("ogrinfo")
    if path is None:
        missing_service("ogrinfo (Debian package gdal-bin) is not installed")
    return path


def _ogrinfo(ogrinfo: str, server, token: str, *args: str) -> str:
    result = subprocess.run(
        [ogrinfo, "--config", "GDAL_HTTP_HEADERS", f"Authorization: Bearer {token}", "-ro",
         f"OAPIF:{server.url}/ogc", *args],
        check=False, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_gdal_lists_collections_and_reads_filtered_features(server, seeded: Seeded, ogrinfo: str) -> None:
    token = server.token("viewer_a")
    listing = _ogrinfo(ogrinfo, server, token, "-so", "-q")
    for name in ("hazard", "released_part", "eo_find", "admin_area"):
        assert name in listing
    features = _ogrinfo(ogrinfo, server, token, "hazard", "-where", "status = 'active'")
    assert "OGRFeature(hazard)" in features and "HAZ-000001" in features
    assert seeded.records["A"]["hazard"] in features and seeded.records["B"]["hazard"] not in features
    west, south, east, north = square_m(-100, -100, 700).bounds
    clipped = _ogrinfo(ogrinfo, server, token, "hazard", "-spat", str(west), str(south), str(east), str(north))
    assert seeded.records["A"]["hazard"] in clipped


def test_owslib_reads_collections_items_queryables_and_filters(server, seeded: Seeded) -> None:
    token = server.token("national_viewer")
    api = Features(f"{server.url}/ogc", headers={"Authorization": f"Bearer {token}"})
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter" in api.conformance()["conformsTo"]
    assert "hazard" in [c["id"] for c in api.collections()["collections"]]
    page = api.collection_items("hazard", limit=1)
    assert page["numberReturned"] == 1 and any(link["rel"] == "next" for link in page["links"])
    both = api.collection_items("hazard", filter="description LIKE 'hazard of %'", limit=100)
    assert {f["properties"]["description"] for f in both["features"]} == {"hazard of A", "hazard of B"}
    only_a = api.collection_items("hazard", filter="description = 'hazard of A' OR (status = 'closed' AND NOT area_m2 > 0)")
    assert [f["id"] for f in only_a["features"]] == [seeded.records["A"]["hazard"]]
    queryables = api.collection_queryables("hazard")
    assert "hazard_type" in queryables["properties"] and "SHA" in queryables["properties"]["hazard_type"]["enum"]


def test_s_intersects_and_bbox(server, seeded: Seeded) -> None:
    inside_b = square_m(3100, 100, 50)
    with server.client("national_viewer") as client:
        hits = client.get("/ogc/collections/hazard/items", params={"filter": f"S_INTERSECTS(geom, {inside_b.wkt})"}).json()
        assert [f["id"] for f in hits["features"]] == [seeded.records["B"]["hazard"]]
        box = ",".join(map(str, inside_b.bounds))
        by_box = client.get("/ogc/collections/hazard/items", params={"bbox": box}).json()
        assert [f["id"] for f in by_box["features"]] == [seeded.records["B"]["hazard"]]
        combined = client.get("/ogc/collections/hazard/items", params={
            "filter": f"S_INTERSECTS(geom, {inside_b.wkt}) AND description = 'hazard of A'"}).json()
        assert combined["numberMatched"] == 0
        bbox_function = client.get("/ogc/collections/hazard/items", params={
            "filter": "S_INTERSECTS(geom, BBOX({}, {}, {}, {}))".format(*inside_b.bounds)}).json()
        assert bbox_function["numberReturned"] == 1


def test_crs_by_reference(server, seeded: Seeded) -> None:
    with server.client("viewer_a") as client:
        collection = client.get("/ogc/collections/hazard").json()
        assert collection["crs"][:2] == [CRS84, EPSG4326] and UTM in collection["crs"]
        url = f"/ogc/collections/hazard/items/{seeded.records['A']['hazard']}"
        lonlat = client.get(url)
        assert lonlat.headers["content-crs"] == f"<{CRS84}>"
        latlon = client.get(url, params={"crs": EPSG4326})
        assert latlon.headers["content-crs"] == f"<{EPSG4326}>"
        (x, y), (a, b) = (lonlat.json()["geometry"]["coordinates"][0][0], latlon.json()["geometry"]["coordinates"][0][0])
        assert (a, b) == pytest.approx((y, x))  # EPSG:4326 is latitude first
        utm = client.get(url, params={"crs": UTM}).json()
        easting, northing = utm["geometry"]["coordinates"][0][0]
        assert 400_000 < easting < 500_000 and 6_600_000 < northing < 6_700_000
        box = square_m(-100, -100, 700).bounds
        in_latlon = f"{box[1]},{box[0]},{box[3]},{box[2]}"
        found = client.get("/ogc/collections/hazard/items", params={"bbox": in_latlon, "bbox-crs": EPSG4326}).json()
        assert [f["id"] for f in found["features"]] == [seeded.records["A"]["hazard"]]
        refused = client.get(url, params={"crs": "http://www.opengis.net/def/crs/EPSG/0/2056"})
        assert refused.status_code == 422 and "not supported" in refused.json()["detail"]


def test_transactions_for_roles_that_may_write(server, seeded: Seeded) -> None:
    outline = square_m(9000, 9000, 150)
    feature = {"type": "Feature", "geometry": shapely.geometry.mapping(outline), "properties": {
        "hazard_type": "CHA", "status": "active", "contamination": ["at_mine"], "evidence": "direct",
        "reported_on": "2025-06-01", "organisation_id": seeded.orgs["A"]}}
    with server.client("viewer_a") as viewer:
        assert viewer.post("/ogc/collections/hazard/items", json=feature).status_code == 403
    with server.client("reviewer_a") as client:
        created = client.post("/ogc/collections/hazard/items", json=feature, params={"reason": "OGC create test"})
        assert created.status_code == 201, created.text
        location, etag = created.headers["location"], created.headers["etag"]
        patched = client.patch(location, json={"type": "Feature", "geometry": None, "properties": {"status": "worked_on"}},
                               headers={"If-Match": etag})
        assert patched.status_code == 200 and patched.json()["properties"]["status"] == "worked_on"
        assert client.put(location, json=feature, headers={"If-Match": etag}).status_code == 412
        replaced = client.put(location, json=feature, headers={"If-Match": patched.headers["etag"]})
        assert replaced.status_code == 200 and replaced.json()["properties"]["status"] == "active"
        assert client.delete(location, headers={"If-Match": replaced.headers["etag"]}).status_code == 204
        assert client.get(location).status_code == 404


def test_landing_and_conformance_are_public_features_are_not(server) -> None:
    with server.client() as anonymous:
        landing = anonymous.get("/ogc").json()
        assert {"service-desc", "conformance", "data"} <= {link["rel"] for link in landing["links"]}
        service = next(link["href"] for link in landing["links"] if link["rel"] == "service-desc")
        assert json.loads(anonymous.get(service).text)["openapi"].startswith("3.")
        items = anonymous.get("/ogc/collections/hazard/items")
        assert items.status_code == 401 and items.headers.get_list("www-authenticate")[0] == 'Basic realm="mineaction"'
