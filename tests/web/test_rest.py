"""REST API on a real server: paging, sorting, filtering, history, ETag/If-Match, problem details."""

from __future__ import annotations

import datetime as dt

import shapely.geometry

from mineaction.domain.entities import ENTITIES
from tests.web.seed import Seeded, far_square


def _new_hazard(client, org_id: str, **extra) -> dict:
    body = {"reason": "test hazard", "hazard_type": "SHA", "status": "active", "contamination": ["uxo"],
            "evidence": "indirect", "reported_on": "2025-04-01", "organisation_id": org_id,
            "geometry": shapely.geometry.mapping(far_square()), **extra}
    response = client.post("/api/v1/hazard", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_list_pages_sorts_and_filters(server, seeded: Seeded) -> None:
    with server.client("admin") as client:
        for i in range(3):
            _new_hazard(client, seeded.orgs["A"], description=f"paging {i}")
        first = client.get("/api/v1/hazard", params={"limit": 2, "sort": "-ref"}).json()
        assert first["total"] >= 5 and len(first["items"]) == 2 and first["next"]
        refs = [item["ref"] for item in first["items"]]
        assert refs == sorted(refs, reverse=True)
        second = client.get(first["next"]).json()
        assert {i["ref"] for i in second["items"]}.isdisjoint(refs)
        filtered = client.get("/api/v1/hazard", params={"filter": "description LIKE 'paging%' AND contamination = 'uxo'"}).json()
        assert filtered["total"] == 3
        either = "description = 'paging 1' OR description = 'paging 2'"
        assert client.get("/api/v1/hazard", params={"filter": either}).json()["total"] == 2


def test_etag_if_match_history_and_as_of(server, seeded: Seeded) -> None:
    with server.client("admin") as client:
        created = _new_hazard(client, seeded.orgs["A"])
        url = f"/api/v1/hazard/{created['id']}"
        first = client.get(url)
        etag_v1 = first.headers["etag"]
        before_update = dt.datetime.now(dt.UTC)

        missing = client.patch(url, json={"reason": "no precondition", "status": "worked_on"})
        assert missing.status_code == 428
        assert missing.headers["content-type"].startswith("application/problem+json")

        updated = client.patch(url, json={"reason": "survey", "status": "worked_on"}, headers={"If-Match": etag_v1})
        assert updated.status_code == 200, updated.text
        assert updated.json()["version"] == 2 and updated.headers["etag"] != etag_v1

        stale = client.patch(url, json={"reason": "late", "status": "closed"}, headers={"If-Match": etag_v1})
        assert stale.status_code == 412
        problem = stale.json()
        assert problem["status"] == 412 and "version 2" in problem["detail"] and problem["hint"]

        history = client.get(url + "/history").json()
        assert [v["version"] for v in history] == [1, 2]
        old = client.get(url, params={"as_of": before_update.isoformat()}).json()
        assert old["status"] == "active" and old["version"] == 1

        gone = client.delete(url, params={"reason": "duplicate"}, headers={"If-Match": updated.headers["etag"]})
        assert gone.status_code == 204
        assert client.get(url).status_code == 404


def test_invalid_input_is_a_problem_saying_what_to_fix(server, seeded: Seeded) -> None:
    with server.client("admin") as client:
        bad_code = client.post("/api/v1/hazard", json={
            "reason": "x", "hazard_type": "NOPE", "status": "active", "contamination": ["uxo"],
            "evidence": "indirect", "reported_on": "2025-04-01", "organisation_id": seeded.orgs["A"]})
        assert bad_code.status_code == 422
        body = bad_code.json()
        assert "hazard_type" in body["detail"] and "SHA" in body["hint"]
        unknown_field = client.post("/api/v1/organisation",
                                    json={"reason": "x", "name": "n", "organisation_type": "ngo", "colour": "red"})
        assert unknown_field.status_code == 422 and "colour" in unknown_field.text
        bad_sort = client.get("/api/v1/hazard", params={"sort": "nonsense"})
        assert bad_sort.status_code == 422 and "sort" in bad_sort.json()["detail"]
        assert client.get("/api/v1/hazard/HAZ-999999").json()["status"] == 404


def test_released_land_goes_through_the_ledger(server, seeded: Seeded) -> None:
    with server.client("admin") as client:
        hazard = _new_hazard(client, seeded.orgs["A"])
        activity = client.post("/api/v1/activity", json={
            "reason": "clearance", "hazard_id": hazard["id"], "activity_type": "clearance", "status": "completed",
            "started_on": "2025-04-02", "organisation_id": seeded.orgs["A"]}).json()
        part = shapely.geometry.mapping(far_square().buffer(-0.0001))
        released = client.post("/api/v1/released_part", json={
            "reason": "cleared", "activity_id": activity["id"], "release_type": "cleared", "method": "manual",
            "released_on": "2025-04-20", "geometry": part})
        assert released.status_code == 201, released.text
        assert released.json()["hazard_id"] == hazard["id"] and released.json()["area_m2"] > 0
        overlap = client.post("/api/v1/released_part", json={
            "reason": "again", "activity_id": activity["id"], "release_type": "cleared", "method": "manual",
            "released_on": "2025-04-21", "geometry": part})
        assert overlap.status_code == 409


def test_openapi_lists_every_entity_with_its_schemas(server) -> None:
    with server.client() as client:
        spec = client.get("/openapi.json").json()
    for name in ENTITIES:
        assert f"/api/v1/{name}" in spec["paths"]
        assert "post" in spec["paths"][f"/api/v1/{name}"]
    schemas = spec["components"]["schemas"]
    assert "HazardCreate" in schemas and "hazard_type" in schemas["HazardCreate"]["required"]
    assert "sensitivity: personal" in schemas["Victim"]["properties"]["name"]["description"]
