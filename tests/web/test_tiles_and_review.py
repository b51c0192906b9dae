"""Vector tiles (cache invalidated by any change) and the review queue over HTTP."""

from __future__ import annotations

import hashlib
from pathlib import Path

import mapbox_vector_tile
import shapely.geometry

from mineaction.io.odk import import_submissions
from mineaction.storage import review
from mineaction.storage.register import Register
from mineaction.web.tiles import lonlat_to_tile
from tests.common import square_m
from tests.io.test_field_exports import PHOTO, central_zip
from tests.web.seed import Seeded

Z = 13


def _tile_refs(client, layer: str, x: int, y: int) -> set[str]:
    response = client.get(f"/ogc/collections/{layer}/tiles/WebMercatorQuad/{Z}/{y}/{x}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layers = mapbox_vector_tile.decode(response.content) if response.content else {}
    return {f["properties"]["ref"] for f in layers.get(layer, {}).get("features", [])}


def test_tiles_for_each_layer_and_a_change_shows_at_once(server, seeded: Seeded) -> None:
    x, y = lonlat_to_tile(*square_m(50, 50, 1).centroid.coords[0], Z)
    with server.client("reviewer_a") as client:
        for layer in ("hazard", "released_part", "eo_find"):
            assert _tile_refs(client, layer, x, y), layer
        tileset = client.get("/ogc/collections/hazard/tiles/WebMercatorQuad").json()
        assert any(link["rel"] == "item" for link in tileset["links"])
        before = _tile_refs(client, "hazard", x, y)
        assert _tile_refs(client, "hazard", x, y) == before  # served from the cache
        created = client.post("/api/v1/hazard", json={
            "reason": "tile test", "hazard_type": "SHA", "status": "active", "contamination": ["uxo"],
            "evidence": "indirect", "reported_on": "2025-04-01", "organisation_id": seeded.orgs["A"],
            "geometry": shapely.geometry.mapping(square_m(600, 600, 80))}).json()
        assert _tile_refs(client, "hazard", x, y) == before | {created["ref"]}
        etag = client.get(f"/ogc/collections/hazard/tiles/WebMercatorQuad/{Z}/{y}/{x}").headers["etag"]
        assert client.get(f"/ogc/collections/hazard/tiles/WebMercatorQuad/{Z}/{y}/{x}",
                          headers={"If-None-Match": etag}).status_code == 304
        assert client.get("/ogc/collections/victim/tiles/WebMercatorQuad/1/0/0").status_code == 404
        assert client.get("/ogc/collections/place/tiles/WebMercatorQuad/1/0/0").status_code == 422
        assert client.get("/ogc/collections/hazard/tiles/WebMercatorQuad/3/9/0").status_code == 422


def test_field_report_submitted_approved_by_a_reviewer_not_by_a_viewer(server, seeded: Seeded) -> None:
    report = {"entity": "eore_session", "reason": "session held", "values": {
        "held_on": "2025-03-03", "eore_method": "house_to_house", "girls": 4, "organisation_id": seeded.orgs["A"]},
        "geometry": shapely.geometry.mapping(square_m(900, 900, 1).centroid)}
    with server.client("reporter_a") as reporter:
        submitted = reporter.post("/api/v1/review/reports", json=report)
        assert submitted.status_code == 201, submitted.text
        ref = submitted.json()["ref"]
        assert reporter.post("/api/v1/review/reports", json=report).status_code == 409  # the same report twice
        assert reporter.post(f"/api/v1/review/reports/{ref}/approve", json={"reason": "self"}).status_code == 403
    with server.client("viewer_a") as viewer:
        assert ref in [r["ref"] for r in viewer.get("/api/v1/review/reports").json()]
        assert viewer.post(f"/api/v1/review/reports/{ref}/approve", json={"reason": "no"}).status_code == 403
    with server.client("reviewer_b") as other:
        assert ref not in [r["ref"] for r in other.get("/api/v1/review/reports").json()]
        assert other.post(f"/api/v1/review/reports/{ref}/approve", json={"reason": "no"}).status_code == 404
    with server.client("reviewer_a") as reviewer:
        outcome = reviewer.post(f"/api/v1/review/reports/{ref}/approve", json={"reason": "checked"})
        assert outcome.status_code == 200 and outcome.json()["approved"] == [ref]
        approved = reviewer.get(f"/api/v1/review/reports/{ref}").json()
        assert approved["status"] == "approved" and approved["record_id"]
        record = reviewer.get(f"/api/v1/eore_session/{approved['record_id']}").json()
        assert record["girls"] == 4 and record["recorded_by"] == "reviewer_a"


def test_a_field_report_breaking_the_register_rules_is_refused_when_submitted(server, seeded: Seeded) -> None:
    """The field team learns at once which value is wrong; nothing reaches the reviewers' queue."""
    report = {"entity": "eore_session", "reason": "session held", "values": {
        "held_on": "2025-03-04", "eore_method": "house_to_house", "organisation_id": seeded.orgs["A"]},
        "geometry": shapely.geometry.mapping(square_m(950, 950, 1).centroid)}
    with server.client("reporter_a") as reporter:
        queued = {r["ref"] for r in reporter.get("/api/v1/review/reports").json()}
        for field, value, why in [("girls", 10**30, "outside"), ("girls", 2.5, "whole number"),
                                  ("eore_method", "by_carrier_pigeon", "by_carrier_pigeon"),
                                  ("held_on", "yesterday", "held_on")]:
            bad = {**report, "values": {**report["values"], field: value}}
            refused = reporter.post("/api/v1/review/reports", json=bad)
            assert refused.status_code == 422, refused.text
            assert f"values.{field}" in refused.json()["detail"] and why in refused.json()["detail"]
        stale = {**report, "action": "update", "target_id": seeded.records["A"]["hazard"], "base_version": 2**31}
        assert reporter.post("/api/v1/review/reports", json=stale).status_code == 422
        assert {r["ref"] for r in reporter.get("/api/v1/review/reports").json()} == queued


def test_victim_reports_withhold_personal_fields(server, seeded: Seeded) -> None:
    report = {"entity": "victim", "reason": "new casualty", "values": {
        "accident_id": seeded.records["A"]["accident"], "name": "Secret Reported Person", "sex": "male",
        "victim_group": "civilian", "outcome": "injured", "organisation_id": seeded.orgs["A"]}}
    with server.client("reporter_a") as reporter:
        created = reporter.post("/api/v1/review/reports", json=report)
        assert created.status_code == 201 and created.json()["withheld"] and "Secret" not in created.text
    with server.client("reviewer_a") as reviewer:
        assert "Secret Reported Person" not in reviewer.get("/api/v1/review/reports").text
    with server.client("personal_a") as granted:
        assert "Secret Reported Person" in granted.get("/api/v1/review/reports").text


def test_a_form_submissions_metadata_and_photos_show_in_review(server, seeded: Seeded, web_target: str,
                                                                 tmp_path: Path) -> None:
    """Imported from ODK Central's zip: the reviewer sees who sent it from which device, and the photo's hash."""
    with Register.open(web_target) as register:
        organisation = register.get("organisation", seeded.orgs["A"]).ref
        result = import_submissions(register, central_zip(tmp_path, organisation), user="im", reason="web review")
        refs = [r.ref for r in review.reports(register, import_id=result.queued.import_id)]
    try:
        with server.client("reviewer_a") as reviewer:
            shown = reviewer.get(f"/api/v1/review/reports/{refs[0]}").json()
    finally:
        with Register.open(web_target) as register:
            review.reject(register, refs, user="im", reason="shown in a test only")
    assert shown["submission"]["submitter"] == "Field Team 3" and shown["submission"]["device"] == "collect:Q9xY"
    assert shown["files"] == [{"name": "1717320000123.jpg", "sha256": hashlib.sha256(PHOTO).hexdigest(),
                               "size": len(PHOTO)}]
