"""No single request causes a server error: each malformed input gets a 4xx problem naming the parameter.

Every case goes through the real server on both backends, and the register
(records, their history, changesets, the review queue) is the same after the
refused request as before it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import shapely.geometry
import sqlalchemy as sa

from mineaction.domain.entities import ENTITIES
from tests.common import E0, N0, UTM
from tests.web.seed import Seeded, far_square
from tests.web.server import database

BIG = 99_999_999_999_999_999_999_999  # beyond 64 bits
MEGABYTE = "x" * 1_000_000
UNKNOWN_CRS = {"type": "name", "properties": {"name": "EPSG:99999"}}
REGISTER_TABLES = [t for name in ENTITIES for t in (name, f"{name}_history")] + ["changeset", "field_report"]


def _hazard(seeded: Seeded, **extra: Any) -> dict[str, Any]:
    return {"reason": "malformed input test", "hazard_type": "SHA", "status": "active", "contamination": ["uxo"],
            "evidence": "indirect", "reported_on": "2025-04-01", "organisation_id": seeded.orgs["A"],
            "geometry": shapely.geometry.mapping(far_square()), **extra}


def _find(seeded: Seeded, **extra: Any) -> dict[str, Any]:
    return {"category": "ap_mine", "condition": "functional", "quantity": 1, "found_on": "2025-05-02",
            "organisation_id": seeded.orgs["A"], **extra}


def _feature(seeded: Seeded, geometry: dict[str, Any] | None = None, **properties: Any) -> dict[str, Any]:
    point = shapely.geometry.mapping(far_square().centroid)
    return {"type": "Feature", "geometry": geometry or point, "properties": _find(seeded, **properties)}


def _report(seeded: Seeded, **extra: Any) -> dict[str, Any]:
    return {"entity": "hazard", "action": "add", "reason": "field report",
            "values": {k: v for k, v in _hazard(seeded).items() if k not in ("reason", "geometry")},
            "geometry": shapely.geometry.mapping(far_square()), **extra}


@dataclass(frozen=True)
class Case:
    """A request (method, path, what to send, given the seeded ids) and what its problem must name."""

    method: str
    path: str
    names: str
    send: Callable[[Seeded], dict[str, Any]] = lambda s: {}
    status: int = 422
    raw: bool = field(default=False)  # ``path`` is sent as is, already percent-encoded


def _raw_json(text: str) -> Callable[[Seeded], dict[str, Any]]:
    return lambda s: {"content": text.encode(), "headers": {"content-type": "application/json"}}


def _json(make: Callable[[Seeded], Any]) -> Callable[[Seeded], dict[str, Any]]:
    return lambda s: {"json": make(s)}


def _params(**params: Any) -> Callable[[Seeded], dict[str, Any]]:
    return lambda s: {"params": params}


CASES: dict[str, Case] = {
    # integers beyond 64 bits: in filters, query parameters, path parameters and JSON bodies
    "filter integer": Case("GET", "/api/v1/eo_find", "filter", _params(filter=f"quantity = {BIG}")),
    "OGC filter integer": Case("GET", "/ogc/collections/eo_find/items", "filter", _params(filter=f"quantity > -{BIG}")),
    "filter real overflow": Case("GET", "/api/v1/hazard", "filter", _params(filter="area_m2 > 1e999")),
    "query integer": Case("GET", "/api/v1/hazard", "limit", _params(limit=BIG)),
    "OGC offset": Case("GET", "/ogc/collections/hazard/items", "offset", _params(offset=BIG)),
    "tile row": Case("GET", f"/ogc/collections/hazard/tiles/WebMercatorQuad/3/{BIG}/0", "row"),
    "tile column": Case("GET", "/ogc/collections/hazard/tiles/WebMercatorQuad/3/0/-1", "column"),
    "body integer": Case("POST", "/api/v1/eo_find", "body.quantity", _json(lambda s: {"reason": "r", **_find(s, quantity=BIG)})),
    "body integer beyond the column": Case("POST", "/api/v1/eo_find", "quantity",
                                           _json(lambda s: {"reason": "r", **_find(s, quantity=2**40)})),
    "review base_version": Case("POST", "/api/v1/review/reports", "body.base_version",
                                _json(lambda s: _report(s, base_version=BIG))),
    "OGC body integer": Case("POST", "/ogc/collections/eo_find/items", "body.properties.quantity",
                             _json(lambda s: _feature(s, quantity=-BIG))),
    # times a zone far from UTC moves out of the calendar
    "as_of beyond the calendar": Case("GET", "/api/v1/hazard", "as_of", _params(as_of="0001-01-01T00:00:00+14:00")),
    "OGC as_of beyond the calendar": Case("GET", "/ogc/collections/hazard/items", "as_of",
                                          _params(as_of="9999-12-31T23:59:59-14:00")),
    "OGC datetime beyond the calendar": Case("GET", "/ogc/collections/hazard/items", "datetime",
                                             _params(datetime="2025-01-01/9999-12-31T23:59:59-14:00")),
    "audit since beyond the calendar": Case("GET", "/api/v1/admin/audit/reads", "since",
                                            _params(since="0001-01-01T00:00:00+14:00")),
    # NaN and infinities
    "bbox NaN": Case("GET", "/api/v1/hazard", "bbox", _params(bbox="nan,0,1,1")),
    "OGC bbox infinity": Case("GET", "/ogc/collections/hazard/items", "bbox", _params(bbox="-inf,-90,inf,90")),
    "OGC bbox NaN in another CRS": Case("GET", "/ogc/collections/hazard/items", "bbox",
                                        _params(bbox="0,0,nan,1", **{"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})),
    "filter BBOX infinity": Case("GET", "/api/v1/hazard", "filter", _params(filter="S_INTERSECTS(geom, BBOX(-1e999, 0, 1, 1))")),
    "JSON NaN": Case("POST", "/api/v1/hazard", "NaN", _raw_json('{"reason": "r", "estimated_items": NaN}')),
    "JSON Infinity": Case("POST", "/api/v1/hazard", "Infinity", _raw_json('{"reason": "r", "estimated_items": -Infinity}')),
    "JSON number overflow": Case("POST", "/api/v1/hazard", "body.estimated_items",
                                 _raw_json('{"reason": "r", "estimated_items": 1e999}')),
    "text infinity in a number field": Case("POST", "/api/v1/hazard", "estimated_items",
                                            _json(lambda s: _hazard(s, estimated_items="Infinity"))),
    "OGC text NaN in a number field": Case("POST", "/ogc/collections/hazard/items", "estimated_items", _json(lambda s: {
        "type": "Feature", "geometry": _hazard(s)["geometry"],
        "properties": {k: v for k, v in _hazard(s, estimated_items="NaN").items() if k not in ("reason", "geometry")}})),
    # lone surrogates, percent-encoded or as JSON escapes, and bytes that are not UTF-8
    "surrogate in a query parameter": Case("GET", "/api/v1/hazard?filter=description%20%3D%20%27%ED%A0%80%27", "filter",
                                           raw=True),
    "surrogate in an OGC parameter": Case("GET", "/ogc/collections/hazard/items?sortby=%ED%A0%80", "sortby", raw=True),
    "surrogate in a path": Case("GET", "/api/v1/hazard/%ED%A0%80", "path", raw=True),
    "surrogate in a JSON string": Case("POST", "/api/v1/hazard", "body.description",
                                       _raw_json('{"reason": "r", "description": "a\\ud800b"}')),
    "surrogate in a JSON member name": Case("POST", "/api/v1/review/reports", "body.values",
                                            _raw_json('{"entity": "hazard", "reason": "r", "values": {"\\udc00": 1}}')),
    "surrogate in a sign-in": Case("POST", "/auth/login", "body.username", _raw_json('{"username": "\\ud800", "password": "x"}')),
    "body not UTF-8": Case("POST", "/api/v1/hazard", "body", lambda s: {
        "content": b'{"reason": "\xed\xa0\x80"}', "headers": {"content-type": "application/json"}}),
    # LIKE with a trailing escape
    "LIKE ending with the escape": Case("GET", "/api/v1/hazard", "filter", _params(filter="description LIKE 'abc\\'")),
    "OGC LIKE ending with the escape": Case("GET", "/ogc/collections/hazard/items", "filter",
                                            _params(filter="description LIKE '%\\'")),
    # thousands of sort terms
    "thousands of sort keys": Case("GET", "/api/v1/hazard", "sort", _params(sort=",".join(["ref"] * 5000))),
    "eleven sort keys": Case("GET", "/api/v1/hazard", "sort", _params(sort=",".join(["ref", "-version"] * 5 + ["ref"]))),
    "OGC sortby keys": Case("GET", "/ogc/collections/hazard/items", "sortby", _params(sortby=",".join(["-ref"] * 11))),
    # megabyte-long text, through REST, OGC, the review queue, and non-register bodies
    "long description": Case("POST", "/api/v1/hazard", "description", _json(lambda s: _hazard(s, description=MEGABYTE))),
    "long code": Case("POST", "/api/v1/hazard", "status", _json(lambda s: _hazard(s, status=MEGABYTE))),
    "long update": Case("PATCH", "/api/v1/organisation/{org}", "name", _json(lambda s: {"reason": "r", "name": MEGABYTE})),
    "long OGC property": Case("POST", "/ogc/collections/eo_find/items", "model", _json(lambda s: _feature(s, model=MEGABYTE))),
    "long review value": Case("POST", "/api/v1/review/reports", "description",
                              _json(lambda s: _report(s, values={**_report(s)["values"], "description": MEGABYTE}))),
    "long filter": Case("GET", "/api/v1/hazard", "filter", _params(filter="description = '" + "y" * 30_000 + "'")),
    # a GeoJSON crs member naming an unknown code
    "REST geometry crs": Case("POST", "/api/v1/hazard", "geometry.crs",
                              _json(lambda s: _hazard(s, geometry={**_hazard(s)["geometry"], "crs": UNKNOWN_CRS}))),
    "OGC geometry crs": Case("POST", "/ogc/collections/eo_find/items", "geometry.crs", _json(lambda s: _feature(
        s, geometry={**shapely.geometry.mapping(far_square().centroid), "crs": UNKNOWN_CRS}))),
    "OGC feature crs": Case("POST", "/ogc/collections/eo_find/items", "body.crs",
                            _json(lambda s: {**_feature(s), "crs": UNKNOWN_CRS})),
    "review geometry crs": Case("POST", "/api/v1/review/reports", "geometry.crs", _json(lambda s: _report(
        s, geometry={**shapely.geometry.mapping(far_square()), "crs": UNKNOWN_CRS}))),
    # OGC parameters: answered or refused, never ignored
    "OGC unknown parameter": Case("GET", "/ogc/collections/hazard/items", "colour", _params(colour="red"), status=400),
    "OGC unknown parameter on a collection": Case("GET", "/ogc/collections/hazard", "page", _params(page=2), status=400),
    "OGC datetime not a date": Case("GET", "/ogc/collections/hazard/items", "datetime", _params(datetime="yesterday")),
    "OGC datetime backwards": Case("GET", "/ogc/collections/hazard/items", "datetime", _params(datetime="2025-02-01/2025-01-01")),
    "OGC datetime where there is no date": Case("GET", "/ogc/collections/place/items", "datetime",
                                                _params(datetime="2025-01-01"), status=400),
    "OGC sortby unknown": Case("GET", "/ogc/collections/hazard/items", "sortby", _params(sortby="-colour")),
    "OGC properties unknown": Case("GET", "/ogc/collections/hazard/items", "properties", _params(properties="ref,colour")),
}


def _counts(target: str) -> dict[str, int]:
    with database(target) as (engine, tables), engine.connect() as connection:
        return {name: connection.execute(sa.select(sa.func.count()).select_from(tables[name])).scalar_one()
                for name in REGISTER_TABLES}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_malformed_input_is_a_4xx_problem_naming_the_parameter(server, seeded: Seeded, web_target: str, case: Case) -> None:
    before = _counts(web_target)
    path = case.path.replace("{org}", seeded.orgs["B"])
    with server.client("admin") as client:
        if case.raw:  # httpx would re-encode the path; send the bytes as written
            request = client.build_request(case.method, path, **case.send(seeded))
            request.url = httpx.URL(server.url + path)
            response = client.send(request)
        else:
            headers = {"If-Match": client.get(path).headers.get("etag", "")} if case.method == "PATCH" else {}
            kwargs = case.send(seeded)
            kwargs["headers"] = {**headers, **kwargs.get("headers", {})}
            response = client.request(case.method, path, **kwargs)
    assert response.status_code == case.status, response.text[:2000]
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == case.status
    assert case.names in problem["detail"], problem
    assert len(response.content) < 10_000  # the offending value is never echoed whole
    assert _counts(web_target) == before


def test_like_escapes_mean_the_same_on_both_backends(server, seeded: Seeded) -> None:
    """CQL2 LIKE: % and _ are wildcards, a backslash makes either (or itself) literal."""
    texts = ["100% cleared", "1000 cleared", "a_b", "axb", "back\\slash", "slash/ed"]
    with server.client("admin") as client:
        for text in texts:
            response = client.post("/api/v1/hazard", json=_hazard(seeded, description=f"like-case {text}"))
            assert response.status_code == 201, response.text

        def matching(pattern: str) -> list[str]:
            response = client.get("/api/v1/hazard", params={"filter": f"description LIKE 'like-case {pattern}'",
                                                            "limit": 100})
            assert response.status_code == 200, response.text
            ogc = client.get("/ogc/collections/hazard/items", params={"filter": f"description LIKE 'like-case {pattern}'"})
            assert ogc.status_code == 200, ogc.text
            found = sorted(item["description"].removeprefix("like-case ") for item in response.json()["items"])
            assert sorted(f["properties"]["description"].removeprefix("like-case ") for f in ogc.json()["features"]) == found
            return found

        assert matching("100%") == ["100% cleared", "1000 cleared"]
        assert matching("100\\%%") == ["100% cleared"]
        assert matching("a_b") == ["a_b", "axb"]
        assert matching("a\\_b") == ["a_b"]
        assert matching("back\\\\slash") == ["back\\slash"]
        assert matching("slash/ed") == ["slash/ed"]
        assert matching("slash/%") == ["slash/ed"]


def test_ogc_items_answer_sortby_properties_and_datetime(server, seeded: Seeded) -> None:
    with server.client("admin") as client:
        for day in ("2021-01-10", "2021-01-20", "2021-01-30"):
            created = client.post("/api/v1/hazard", json=_hazard(seeded, reported_on=day, description="dated"))
            assert created.status_code == 201, created.text
        url = "/ogc/collections/hazard/items"

        def features(**params: Any) -> list[dict[str, Any]]:
            response = client.get(url, params={"filter": "description = 'dated'", "limit": 100, **params})
            assert response.status_code == 200, response.text
            return response.json()["features"]

        newest_first = features(sortby="-reported_on")
        assert [f["properties"]["reported_on"] for f in newest_first] == ["2021-01-30", "2021-01-20", "2021-01-10"]
        oldest_first = features(sortby="+reported_on,-ref")  # a + arrives as a space, and means ascending
        assert [f["properties"]["reported_on"] for f in oldest_first] == ["2021-01-10", "2021-01-20", "2021-01-30"]
        assert [f["properties"]["reported_on"] for f in features(datetime="2021-01-20")] == ["2021-01-20"]
        assert len(features(datetime="2021-01-15/..")) == 2
        assert len(features(datetime="../2021-01-20T23:00:00Z")) == 2
        assert len(features(datetime="2021-01-11T00:00:00Z/2021-01-29")) == 1
        assert len(features(datetime="2030-01-01/..")) == 0
        assert len(client.get(url, params={"datetime": "2021-01-20"}).json()["features"]) >= 1  # alone, no filter
        slim = features(properties="ref,reported_on")
        assert all(set(f["properties"]) == {"ref", "reported_on"} for f in slim) and len(slim) == 3
        assert all(f["properties"] == {} for f in features(properties=""))
    with server.client("public") as public:  # dates of hazards are restricted: a public caller cannot select by them
        refused = public.get(url, params={"datetime": "2021-01-20"})
        assert refused.status_code == 400 and "datetime" in refused.json()["detail"]


def test_responses_carry_rfc3339_timestamps_with_a_zone(server, seeded: Seeded) -> None:
    with server.client("admin") as client:
        record = client.get(f"/api/v1/hazard/{seeded.records['A']['hazard']}").json()
        assert record["recorded_at"].endswith(("Z", "+00:00"))
        feature = client.get(f"/ogc/collections/hazard/items/{seeded.records['A']['hazard']}").json()
        assert feature["properties"]["recorded_at"].endswith("Z")
        document = client.get("/openapi.json").json()
        errors = document["paths"]["/api/v1/hazard"]["get"]["responses"]["422"]["content"]
        assert list(errors) == ["application/problem+json"]
        assert json.dumps(document).count("HTTPValidationError") == 0


def test_a_crs_member_repeating_the_requests_crs_is_read_in_it(server, seeded: Seeded) -> None:
    """The GeoJSON 2008 ``crs`` member is accepted when it names the CRS the request reads coordinates in."""
    utm_square = shapely.box(E0 + 9500, N0 + 9500, E0 + 9600, N0 + 9600)
    geometry = {**shapely.geometry.mapping(utm_square), "crs": {"type": "name", "properties": {"name": UTM}}}
    with server.client("admin") as client:
        created = client.post("/api/v1/hazard", json=_hazard(seeded, crs=UTM, geometry=geometry))
        assert created.status_code == 201, created.text
        assert created.json()["area_m2"] == pytest.approx(10_000, rel=1e-3)
        report = _report(seeded, crs=UTM, geometry=geometry)
        report["values"]["description"] = "crs member in a field report"
        assert client.post("/api/v1/review/reports", json=report).status_code == 201
        mismatch = client.post("/api/v1/hazard", json=_hazard(seeded, geometry=geometry))  # read as WGS 84, says UTM
        assert mismatch.status_code == 422 and "geometry.crs" in mismatch.json()["detail"]
