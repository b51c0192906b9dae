"""The attack of issue 17 through the real HTTP server, on both backends: organisation A's field reporter
and reviewer cannot rewrite (or move into A) a hazard of organisation B through the review queue.

The full entity x role x action matrix runs at library level (``tests/access/test_review_matrix.py``).
"""

from __future__ import annotations

from typing import Any

import shapely

from tests.common import square_m
from tests.web.seed import Seeded

SECRET_REASON = "Bravo's confidential hand-over"


def _hazard(client: Any, ref_or_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/hazard/{ref_or_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_reporter_and_reviewer_of_a_cannot_overwrite_bs_hazard(server, seeded: Seeded) -> None:
    b_hazard = seeded.records["B"]["hazard"]
    with server.client("admin") as admin:
        before = _hazard(admin, b_hazard)
    refused = 0
    for username in ("reporter_a", "reviewer_a"):
        with server.client(username) as client:
            for key in (b_hazard, before["ref"]):
                for action, values in (("update", {"organisation_id": seeded.orgs["A"], "description": "ours now"}),
                                       ("delete", {})):
                    response = client.post("/api/v1/review/reports", json={
                        "entity": "hazard", "action": action, "target_id": key, "base_version": 1, "values": values})
                    assert response.status_code == 404, response.text
                    refused += 1
            added = client.post("/api/v1/review/reports", json={  # a new record in B's name
                "entity": "eore_session", "values": {"held_on": "2025-03-05", "eore_method": "school",
                                                     "organisation_id": seeded.orgs["B"]},
                "geometry": shapely.geometry.mapping(square_m(3900, 900, 1).centroid)})
            assert added.status_code == 403, added.text
            released = client.post("/api/v1/review/reports", json={  # land of B's hazard, by B's activity
                "entity": "released_part", "action": "release",
                "values": {"activity_id": seeded.records["B"]["activity"], "release_type": "cleared",
                           "method": "manual", "released_on": "2025-05-05"},
                "geometry": shapely.geometry.mapping(square_m(3200, 200, 50))})
            assert released.status_code == 404, released.text
            refused += 2
    with server.client("admin") as admin:
        after = _hazard(admin, b_hazard)
    assert (after["version"], after["organisation_id"], after["description"]) == (
        before["version"], seeded.orgs["B"], "hazard of B")
    assert refused == 12


def test_a_pending_report_on_a_hazard_that_moved_to_b_is_not_applied_and_leaks_nothing(server, seeded: Seeded) -> None:
    """A report queued while the hazard was A's; the hazard then went to B. A's reviewer may no longer apply it,
    and the answer says nothing of B's change (who, when, why)."""
    with server.client("reviewer_a") as reviewer:
        hazard = reviewer.post("/api/v1/hazard", json={
            "reason": "new", "hazard_type": "SHA", "status": "active", "contamination": ["uxo"],
            "evidence": "indirect", "reported_on": "2025-04-01", "organisation_id": seeded.orgs["A"],
            "geometry": shapely.geometry.mapping(square_m(1500, 1500, 80))}).json()
    with server.client("reporter_a") as reporter:
        report = reporter.post("/api/v1/review/reports", json={
            "entity": "hazard", "action": "update", "target_id": hazard["ref"], "base_version": 1,
            "values": {"description": "A's field update"}})
        assert report.status_code == 201, report.text
        assert report.json()["organisation_id"] == seeded.orgs["A"] and report.json()["target_id"] == hazard["id"]
    ref = report.json()["ref"]
    with server.client("admin") as admin:
        moved = admin.patch(f"/api/v1/hazard/{hazard['id']}", headers={"If-Match": f'"{hazard["id"]}.v1"'},
                            json={"reason": SECRET_REASON, "organisation_id": seeded.orgs["B"]})
        assert moved.status_code == 200, moved.text
        before = _hazard(admin, hazard["id"])
    with server.client("reviewer_a") as reviewer:
        for attempt in (reviewer.post(f"/api/v1/review/reports/{ref}/approve", json={"reason": "ours"}),
                        reviewer.post("/api/v1/review/reports", json={
                            "entity": "hazard", "action": "update", "target_id": hazard["ref"], "base_version": 2,
                            "values": {"organisation_id": seeded.orgs["A"]}})):
            assert attempt.status_code == 404, attempt.text
            assert SECRET_REASON not in attempt.text and "admin" not in attempt.text
        assert reviewer.get(f"/api/v1/review/reports/{ref}").json()["status"] == "submitted"
        assert reviewer.get(f"/api/v1/hazard/{hazard['id']}").status_code == 404
    with server.client("reviewer_b") as other:  # B's reviewer cannot reach A's report either
        assert other.post(f"/api/v1/review/reports/{ref}/approve", json={"reason": "mine"}).status_code == 404
    with server.client("admin") as admin:
        assert _hazard(admin, hazard["id"]) == before
        stale = admin.post(f"/api/v1/review/reports/{ref}/approve", json={"reason": "late"})
        assert stale.status_code == 200 and stale.json()["conflicts"][0][0] == ref  # admin may read B's history
    with server.client("reporter_a") as reporter:
        note = reporter.get(f"/api/v1/review/reports/{ref}").json()
        assert note["status"] == "conflict" and "version 2" in note["review_note"]
        assert SECRET_REASON not in note["review_note"] and "admin" not in note["review_note"]
