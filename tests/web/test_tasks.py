"""A task's whole life over REST, on both backends: planned and issued by the national authority,
accepted, worked and completed by its operator with progress and released land, verified and closed;
every change a version with who and why; another operator can neither see nor change it; a find in
the released land raises a residual-contamination flag, one outside does not."""

from __future__ import annotations

import shapely

from tests.common import square_m
from tests.web.seed import Seeded
from tests.web.server import Server

X, Y = 1000, 1000  # this test's own ground, apart from the seeded records


def _geojson(geometry: shapely.Geometry) -> dict:
    return shapely.geometry.mapping(geometry)


def test_a_task_from_priority_to_closure(server: Server, seeded: Seeded) -> None:
    a = seeded.orgs["A"]
    with server.client("admin") as nmac, server.client("reviewer_a") as alpha, server.client("reviewer_b") as bravo:
        hazard = nmac.post("/api/v1/hazard", json={
            "hazard_type": "CHA", "status": "active", "contamination": ["ap_mine"], "evidence": "direct",
            "reported_on": "2026-01-10", "organisation_id": a, "reason": "survey", "geometry": _geojson(square_m(X, Y, 200)),
        })
        assert hazard.status_code == 201, hazard.text
        hazard_id = hazard.json()["id"]
        refused = alpha.post("/api/v1/tasks", json={
            "reference": "TO-A", "activity": "clearance", "organisation_id": a, "planned_start": "2026-03-01",
            "deadline": "2026-06-30", "teams": 2, "hazard_ids": [hazard_id], "planned_area_m2": 10_000, "reason": "x"})
        assert refused.status_code == 403  # operators do not task themselves
        no_reason = nmac.post("/api/v1/tasks", json={
            "reference": "TO-1", "activity": "clearance", "organisation_id": a, "planned_start": "2026-03-01",
            "deadline": "2026-06-30", "teams": 2, "hazard_ids": [hazard_id], "planned_area_m2": 10_000,
            "priority_rank": 1, "reason": "prioritised"})
        assert no_reason.status_code == 422 and "explanation" in no_reason.json()["detail"]
        created = nmac.post("/api/v1/tasks", json={
            "reference": "TO-1", "activity": "clearance", "organisation_id": a, "planned_start": "2026-03-01",
            "deadline": "2026-06-30", "teams": 2, "hazard_ids": [hazard_id], "planned_area_m2": 10_000,
            "priority_rank": 1, "priority_score": 0.93, "priority_explanation": "school 300 m away; road to market",
            "reason": "prioritised"})
        assert created.status_code == 201, created.text
        task = created.json()
        assert task["state"] == "draft" and task["hazard_ids"] == [hazard_id] and task["geometry"]["type"] == "MultiPolygon"
        tid = task["id"]

        def move(client, target: str, reason: str = "as planned") -> int:
            return client.post(f"/api/v1/tasks/{tid}/transitions", json={"target": target, "reason": reason}).status_code

        assert move(alpha, "accept") == 409  # still a draft: not yet issued
        assert move(nmac, "issue") == 200
        # the other operator sees nothing of it and changes nothing
        assert bravo.get(f"/api/v1/tasks/{tid}").status_code == 404
        assert bravo.get(f"/api/v1/task/{tid}").status_code == 404
        assert move(bravo, "accept") == 404
        assert bravo.post(f"/api/v1/tasks/{tid}/progress", json={"reported_on": "2026-03-02", "method": "manual"}
                          ).status_code == 404
        assert bravo.get(f"/api/v1/tasks/{tid}/status").status_code == 404
        assert tid not in {row["task_id"] for row in bravo.get("/api/v1/tasks").json()["items"]}
        assert move(alpha, "accept") == 200 and move(alpha, "start") == 200
        for day, cleared, team_days in (("2026-03-05", 4_000, 8), ("2026-03-12", 6_000, 10)):
            report = alpha.post(f"/api/v1/tasks/{tid}/progress", json={
                "reported_on": day, "method": "manual", "cleared_m2": cleared, "team_days": team_days, "items_found": 1})
            assert report.status_code == 201, report.text
        stopped = alpha.post(f"/api/v1/tasks/{tid}/progress", json={
            "reported_on": "2026-03-13", "method": "manual", "stoppage_days": 1})
        assert stopped.status_code == 422  # a stoppage needs its reason
        status = alpha.get(f"/api/v1/tasks/{tid}/status", params={"as_of": "2026-03-20"}).json()
        assert status["percent_done"] == 100.0 and status["done_m2"] == 10_000 and status["m2_per_team_day"] == 10_000 / 18
        assert status["finish_p50"] == "2026-03-12" and status["days_late"] == (-110) and status["alerts"] == []

        activity = alpha.post("/api/v1/activity", json={
            "hazard_id": hazard_id, "activity_type": "clearance", "status": "completed", "started_on": "2026-03-02",
            "task_id": tid, "organisation_id": a, "reason": "clearance of TO-1"})
        assert activity.status_code == 201, activity.text
        part = alpha.post("/api/v1/released_part", json={
            "activity_id": activity.json()["id"], "release_type": "cleared", "method": "manual",
            "released_on": "2026-03-12", "reason": "cleared", "geometry": _geojson(square_m(X, Y, 100))})
        assert part.status_code == 201, part.text
        assert part.json()["task_id"] == tid

        assert move(alpha, "complete") == 200
        assert move(alpha, "verify") == 403  # the authority verifies
        assert move(nmac, "close") == 409  # verified first
        assert move(nmac, "verify", "QC sample passed") == 200 and move(nmac, "close", "handed over") == 200
        history = nmac.get(f"/api/v1/task/{tid}/history").json()
        assert [v["state"] for v in history] == [
            "draft", "issued", "accepted", "in_progress", "completed", "verified", "closed"]
        assert [v["recorded_by"] for v in history] == ["admin", "admin", "reviewer_a", "reviewer_a", "reviewer_a",
                                                       "admin", "admin"]
        assert [v["state_party"] for v in history[1:]] == ["authority", "operator", "operator", "operator",
                                                          "authority", "authority"]
        assert history[3]["started_on"] is not None

        find = {"category": "uxo", "condition": "functional", "quantity": 1, "found_on": "2026-08-01",
                "organisation_id": a, "reason": "found by a farmer"}
        inside = alpha.post("/api/v1/eo_find", json={**find, "geometry": _geojson(square_m(X + 50, Y + 50, 1).centroid)})
        outside = alpha.post("/api/v1/eo_find", json={**find, "geometry": _geojson(square_m(X + 150, Y + 150, 1).centroid)})
        assert inside.status_code == outside.status_code == 201
        flagged = alpha.get("/api/v1/residual_event", params={"filter": f"task_id = '{tid}'"}).json()["items"]
        assert [(e["eo_find_id"], e["released_part_id"], e["inside"], e["state"]) for e in flagged] == [
            (inside.json()["id"], part.json()["id"], True, "flagged")]
        assert bravo.get("/api/v1/residual_event", params={"filter": f"task_id = '{tid}'"}).json()["items"] == []
        event = flagged[0]["id"]

        def review(client, target: str, **extra) -> int:
            return client.post(f"/api/v1/residual_events/{event}/transitions",
                               json={"target": target, "reason": "residual review", **extra}).status_code

        assert review(alpha, "investigating") == 403  # the authority reviews
        assert review(bravo, "investigating") == 404
        assert review(nmac, "investigating") == 200
        assert review(nmac, "reopened", cause="missed") == 422  # names the new hazard
        reopened = nmac.post("/api/v1/hazard", json={
            "hazard_type": "CHA", "status": "active", "contamination": ["uxo"], "evidence": "direct",
            "reported_on": "2026-08-02", "organisation_id": a, "reason": "residual contamination",
            "geometry": _geojson(square_m(X, Y, 100))}).json()
        assert review(nmac, "reopened", cause="missed", new_hazard_id=reopened["ref"]) == 200
        after = alpha.get(f"/api/v1/residual_event/{event}").json()
        assert (after["state"], after["cause"], after["new_hazard_id"]) == ("reopened", "missed", reopened["id"])
