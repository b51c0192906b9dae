"""Account administration over HTTP is audited, and the audit logs are readable only by
programme-wide administrators."""

from __future__ import annotations

import uuid

from tests.web.seed import Seeded


def _create(client, seeded: Seeded, grants: list[dict]) -> dict:
    username = f"officer-{uuid.uuid4().hex[:8]}"
    created = client.post("/api/v1/admin/accounts",
                          json={"username": username, "password": "a long enough secret", "grants": grants})
    assert created.status_code == 201, created.text
    return created.json()


def test_grant_revoke_and_disable_over_http_are_in_the_permission_log(server, seeded: Seeded) -> None:
    a = seeded.orgs["A"]
    with server.client("admin") as admin:
        account = _create(admin, seeded, [{"organisation_id": a, "role": "viewer"}])
        path = f"/api/v1/admin/accounts/{account['id']}"
        granted = admin.post(f"{path}/grants", json={"organisation_id": a, "role": "reviewer"})
        assert [g["role"] for g in granted.json()["grants"]] == ["viewer", "reviewer"]
        revoked = admin.delete(f"{path}/grants", params={"organisation_id": a, "role": "viewer"})
        assert [g["role"] for g in revoked.json()["grants"]] == ["reviewer"]
        missing = admin.delete(f"{path}/grants", params={"organisation_id": a, "role": "viewer"})
        assert missing.status_code == 404 and "holds no viewer grant" in missing.json()["detail"]
        assert admin.patch(path, json={"active": False}).json()["active"] is False

        log = admin.get("/api/v1/admin/audit/permissions", params={"username": account["username"]}).json()
    assert [(e["action"], e["changed_by"]) for e in log] == [
        ("disable", "admin"), ("revoke", "admin"), ("grant", "admin"), ("create", "admin")]
    disable, revoke, grant, create = log
    assert create["state_before"] is None and create["account_id"] == account["id"]
    assert [g["role"] for g in grant["state_before"]["grants"]] == ["viewer"]
    assert [g["role"] for g in revoke["state_after"]["grants"]] == ["reviewer"]
    assert disable["state_before"]["active"] is True and disable["state_after"]["active"] is False


def test_organisation_administrators_change_only_their_organisations_grants(server, seeded: Seeded) -> None:
    a, b = seeded.orgs["A"], seeded.orgs["B"]
    with server.client("admin") as admin:
        account = _create(admin, seeded, [{"organisation_id": b, "role": "viewer"}])
        assert admin.patch("/api/v1/admin/accounts/" + admin.get("/auth/me").json()["account_id"],
                           json={"active": False}).status_code == 403
    path = f"/api/v1/admin/accounts/{account['id']}"
    with server.client("reviewer_a") as reviewer:  # not an administrator anywhere
        assert reviewer.post(f"{path}/grants", json={"organisation_id": a, "role": "viewer"}).status_code == 403
        assert reviewer.delete(f"{path}/grants", params={"organisation_id": b, "role": "viewer"}).status_code == 403
        assert reviewer.patch(path, json={"active": False}).status_code == 403
    with server.client("admin") as admin:
        log = admin.get("/api/v1/admin/audit/permissions", params={"username": account["username"]}).json()
    assert [e["action"] for e in log] == ["create"]


def test_the_audit_logs_are_readable_only_by_programme_wide_administrators(server, seeded: Seeded) -> None:
    victim = seeded.records["A"]["victim"]
    with server.client("personal_a") as reader:
        assert reader.get(f"/api/v1/victim/{victim}").json()["name"] == "Secret Person A"
        for log in ("permissions", "reads"):
            refused = reader.get(f"/api/v1/admin/audit/{log}")
            assert refused.status_code == 403 and "programme-wide administrators" in refused.json()["detail"]
    with server.client() as anonymous:
        assert anonymous.get("/api/v1/admin/audit/reads").status_code == 401
    with server.client("admin") as admin:
        reads = admin.get("/api/v1/admin/audit/reads", params={"username": "personal_a"}).json()
        assert admin.get("/api/v1/admin/audit/logins").status_code == 422
    assert reads[0]["record_id"] == victim and reads[0]["entity"] == "victim"
    assert reads[0]["purpose"] == f"GET /api/v1/victim/{victim}"
    assert "Secret Person" not in str(reads)
