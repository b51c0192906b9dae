"""Access rules over HTTP: organisation scope for every entity, personal data, CSRF,
session fixation, lock-out, and injection attempts in ids, sorts and filters."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import mapbox_vector_tile
import pytest
import shapely.geometry
import sqlalchemy as sa

from mineaction.web.tiles import lonlat_to_tile
from tests.common import square_m
from tests.web.seed import OWNED, Seeded, password
from tests.web.server import database, running

SECRETS = ("Secret Person", "private note")


@pytest.mark.parametrize("entity", OWNED)
def test_other_organisations_records_cannot_be_read_or_changed_by_id(server, seeded: Seeded, entity: str) -> None:
    theirs, ours = seeded.records["B"][entity], seeded.records["A"][entity]
    with server.client("reviewer_a") as client:
        listed = {item["id"] for item in client.get(f"/api/v1/{entity}", params={"limit": 1000}).json()["items"]}
        assert ours in listed and theirs not in listed
        for path in (f"/api/v1/{entity}/{theirs}", f"/api/v1/{entity}/{theirs}/history"):
            assert client.get(path).status_code == 404
        etag = f'"{theirs}.v1"'
        changed = client.patch(f"/api/v1/{entity}/{theirs}", json={"reason": "probe"}, headers={"If-Match": etag})
        assert changed.status_code == 404
        deleted = client.delete(f"/api/v1/{entity}/{theirs}", params={"reason": "probe"}, headers={"If-Match": etag})
        assert deleted.status_code == 404
        if entity in ("hazard", "eo_find", "accident", "eore_session", "released_part"):
            assert client.get(f"/ogc/collections/{entity}/items/{theirs}").status_code == 404
        # moving our own record to the other organisation is refused too
        own = client.get(f"/api/v1/{entity}/{ours}")
        moved = client.patch(f"/api/v1/{entity}/{ours}", json={"reason": "probe", "organisation_id": seeded.orgs["B"]},
                             headers={"If-Match": own.headers["etag"]})
        assert moved.status_code in (403, 422)  # released parts take no organisation_id at all
    with server.client("admin") as client:
        assert client.get(f"/api/v1/{entity}/{theirs}").json()["version"] == 1


def test_creating_records_for_another_organisation_is_refused(server, seeded: Seeded) -> None:
    body = {"reason": "probe", "name": "x", "organisation_type": "ngo"}
    with server.client("reviewer_a") as client:
        assert client.post("/api/v1/organisation", json=body).status_code == 403
        eore = {"reason": "probe", "held_on": "2025-01-01", "eore_method": "school", "organisation_id": seeded.orgs["B"]}
        assert client.post("/api/v1/eore_session", json=eore).status_code == 403
    with server.client("viewer_a") as client:
        eore["organisation_id"] = seeded.orgs["A"]
        assert client.post("/api/v1/eore_session", json=eore).status_code == 403


def _all_text(client: httpx.Client, seeded: Seeded) -> str:
    """Every response an account can get that might carry victim data."""
    victim_a = seeded.records["A"]["victim"]
    paths = [
        "/api/v1/victim?limit=1000", f"/api/v1/victim/{victim_a}", f"/api/v1/victim/{victim_a}/history",
        "/api/v1/victim?filter=victim_group%20%3D%20%27civilian%27", "/api/v1/dashboard",
        "/api/v1/reports/casualties.csv", "/api/v1/review/reports?status=submitted", "/api/v1/accident",
        "/ogc/collections/accident/items?limit=1000", "/openapi.json",
    ]
    return "\n".join(client.get(p).text for p in paths)


def test_personal_data_only_under_an_explicit_grant_and_every_read_is_logged(server, seeded: Seeded, web_target: str) -> None:
    for username in ("viewer_a", "reviewer_a", "reviewer_b", "national_viewer", "reporter_a"):
        with server.client(username) as client:
            text = _all_text(client, seeded)
            assert not any(secret in text for secret in SECRETS), username
            # a filter on a personal field cannot probe its value either
            probe = client.get("/api/v1/victim", params={"filter": "name LIKE 'Secret%'"})
            assert probe.status_code == 422
    with server.client("personal_a") as client:
        shown = client.get(f"/api/v1/victim/{seeded.records['A']['victim']}").json()
        assert shown["name"] == "Secret Person A" and shown["withheld"] == []
        other = client.get("/api/v1/victim").json()["items"]
        assert [v["name"] for v in other] == ["Secret Person A"]  # B's victims are not even listed
    with database(web_target) as (engine, tables), engine.connect() as connection:
        rows = connection.execute(sa.select(tables["personal_data_read"])).all()
    mine = [r for r in rows if r.username == "personal_a"]
    assert mine and {r.record_id for r in mine} == {seeded.records["A"]["victim"]}
    assert all("name" in r.fields and r.purpose.startswith("GET ") for r in mine)
    assert not any(r.username in ("viewer_a", "reviewer_a", "national_viewer") for r in rows)


def test_tiles_carry_only_the_principals_organisations_records(server, seeded: Seeded) -> None:
    lon, lat = square_m(1500, 200, 1).centroid.coords[0]
    z = 12
    x, y = lonlat_to_tile(lon, lat, z)
    refs = {}
    for username in ("viewer_a", "reviewer_b", "national_viewer"):
        with server.client(username) as client:
            response = client.get(f"/ogc/collections/hazard/tiles/WebMercatorQuad/{z}/{y}/{x}")
            assert response.status_code == 200
            decoded = mapbox_vector_tile.decode(response.content) if response.content else {}
            features = decoded.get("hazard", {}).get("features", [])
            refs[username] = {f["properties"]["ref"] for f in features}
            assert all(set(f["properties"]) <= {"ref", "hazard_type", "status", "area_m2"} for f in features)
    assert refs["viewer_a"] and refs["reviewer_b"] and refs["viewer_a"].isdisjoint(refs["reviewer_b"])
    assert refs["national_viewer"] >= refs["viewer_a"] | refs["reviewer_b"]


def test_browser_writes_need_the_csrf_token_but_token_clients_do_not(server, seeded: Seeded) -> None:
    body = {"reason": "csrf", "held_on": "2025-01-01", "eore_method": "school", "organisation_id": seeded.orgs["A"],
            "geometry": shapely.geometry.mapping(square_m(700, 700, 1).centroid)}
    with server.client("reviewer_a") as client:
        client.headers.pop("X-CSRF-Token")
        refused = client.post("/api/v1/eore_session", json=body)
        assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
        client.headers["X-CSRF-Token"] = "forged"
        assert client.post("/api/v1/eore_session", json=body).status_code == 403
    token = server.token("reviewer_a")
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.post("/api/v1/eore_session", json=body).status_code == 201


def test_session_cookie_is_hardened_and_never_fixed(server) -> None:
    with httpx.Client(base_url=server.url) as client:
        client.cookies.set("mineaction_session", "planted-by-attacker")
        assert client.get("/auth/me").status_code == 401
        response = client.post("/auth/login", json={"username": "viewer_a", "password": password("viewer_a")})
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        issued = response.cookies["mineaction_session"]
        assert issued != "planted-by-attacker"
        client.cookies.set("mineaction_session", issued)
        assert client.get("/auth/me").status_code == 200
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        assert client.post("/auth/logout").status_code == 204
    with httpx.Client(base_url=server.url, cookies={"mineaction_session": issued}) as replay:
        assert replay.get("/auth/me").status_code == 401  # revoked server-side, not only forgotten


def test_cookie_is_secure_behind_an_https_proxy(server) -> None:
    """uvicorn trusts X-Forwarded-Proto from loopback (the proxy); the cookie then gets Secure."""
    with httpx.Client(base_url=server.url, headers={"X-Forwarded-Proto": "https"}) as client:
        response = client.post("/auth/login", json={"username": "viewer_a", "password": password("viewer_a")})
        assert "secure" in response.headers["set-cookie"].lower()
    with httpx.Client(base_url=server.url) as client:
        response = client.post("/auth/login", json={"username": "viewer_a", "password": password("viewer_a")})
        assert "secure" not in response.headers["set-cookie"].lower()


def test_account_locks_after_repeated_failures(server) -> None:
    """Locked from this source, the right password gets the very answer a wrong one does."""
    with httpx.Client(base_url=server.url, headers={"X-Forwarded-For": "192.0.2.77"}) as client:
        for _ in range(5):
            failed = client.post("/auth/login", json={"username": "lock_me", "password": "wrong-password-1"})
            assert failed.status_code == 401 and failed.headers["content-type"].startswith("application/problem+json")
        locked = client.post("/auth/login", json={"username": "lock_me", "password": password("lock_me")})
        assert locked.status_code == 401 and locked.json() == failed.json()


def test_sign_in_attempts_per_address_are_rate_limited(gpkg_template: Path, tmp_path: Path) -> None:
    """Failures per address, whichever account: tried on a GeoPackage of its own."""
    target = tmp_path / "limited.gpkg"
    shutil.copy(gpkg_template, target)
    with running(str(target), login_attempts_per_minute="3") as limited, httpx.Client(base_url=limited.url) as client:
        codes = [client.post("/auth/login", json={"username": "nobody", "password": "wrong-password-1"}).status_code
                 for _ in range(4)]
        assert codes == [401, 401, 401, 429]


@pytest.mark.parametrize("attack", [
    "status = 'active'; DROP TABLE hazard; --",
    "status = 'x'' OR ''1''=''1'",
    "description = 'a' OR 1=1",
    "S_INTERSECTS(geom, POINT(0 0)) OR status IN (SELECT status FROM account)",
    "(SELECT password_hash FROM account) = 'x'",
    "status = \"active\"",
    "password_hash = 'x'",
])
def test_sql_and_cql2_injection_is_refused_and_harmless(server, seeded: Seeded, web_target: str, attack: str) -> None:
    with server.client("viewer_a") as client:
        response = client.get("/api/v1/hazard", params={"filter": attack})
        assert response.status_code == 422, response.text
        assert response.json()["type"] == "/problems/invalid-value"
        ogc = client.get("/ogc/collections/hazard/items", params={"filter": attack})
        assert ogc.status_code == 422
        # SQL as a value is only ever a value
        quoted = client.get("/api/v1/hazard", params={"filter": "description = 'x\" OR 1=1; DROP TABLE hazard; --'"})
        assert quoted.status_code == 200 and quoted.json()["total"] == 0
        for path in ("/api/v1/hazard/x' OR '1'='1", "/api/v1/hazard?sort=ref;DROP TABLE hazard"):
            assert client.get(path).status_code in (404, 422)
    with database(web_target) as (engine, tables), engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(tables["hazard"])).scalar_one() >= 2


def test_nul_characters_are_refused_before_any_route(server, seeded: Seeded) -> None:
    """PostgreSQL cannot store U+0000: both backends refuse it alike, with a 422."""
    with server.client("reviewer_a") as client:
        body = {"reason": "nul\u0000", "qm_type": "qa_visit", "held_on": "2025-01-01", "result": "pass",
                "organisation_id": seeded.orgs["A"]}
        refused = client.post("/api/v1/qm_activity", json=body)
        assert refused.status_code == 422 and "NUL" in refused.json()["detail"]
        assert client.get("/api/v1/hazard", params={"filter": "description = 'a\x00'"}).status_code == 422
        body["reason"] = "no nul"
        assert client.post("/api/v1/qm_activity", json=body).status_code == 201


@pytest.mark.parametrize("path", ["/api/v1/hazard", "/api/v1/review/reports", "/ogc/collections/hazard/items"])
def test_paging_past_any_plausible_register_is_refused_not_a_crash(server, seeded: Seeded, path: str) -> None:
    """An offset beyond what a register holds is a client's mistake (422), never an unhandled overflow (500)."""
    with server.client("reviewer_a") as client:
        assert client.get(path, params={"offset": 10_000_000}).status_code == 200
        refused = client.get(path, params={"offset": 35674890785471273631744})
        assert refused.status_code == 422, refused.text
        assert "offset" in refused.text
