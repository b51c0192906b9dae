"""Sessions, tokens and sign-in over HTTP on real servers: security headers, trusted proxies, API
tokens listed/revoked/expiring, throttles shared by two server processes, one answer for every
refused sign-in, administrators unlocking, weak passwords refused, and grants scoped to a region
on REST items, OGC items, tiles and dashboard aggregates."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import time
from collections.abc import Iterator

import httpx
import mapbox_vector_tile
import pytest

from mineaction.access import AccountStore
from mineaction.storage.register import Register
from mineaction.web.middleware import TrustedProxies
from mineaction.web.tiles import lonlat_to_tile
from tests.access.regions import REGIONAL, Regions, build_regions
from tests.common import square_m
from tests.conftest import missing_service, postgis_database
from tests.web.seed import Seeded, password
from tests.web.server import Server, database, running
from tests.web.test_browser import browser  # noqa: F401  (the fixture: Debian's Chromium through Playwright)

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def _login(client: httpx.Client, username: str, secret: str, source: str) -> httpx.Response:
    return client.post("/auth/login", json={"username": username, "password": secret},
                       headers={"X-Forwarded-For": source})


@pytest.mark.parametrize("path", ["/", "/static/app.js", "/api/v1/hazard", "/ogc/conformance", "/auth/me", "/nowhere"])
def test_every_response_carries_the_security_headers(server: Server, path: str) -> None:
    with server.client() as client:
        response = client.get(path)
        for name, value in HEADERS.items():
            assert response.headers[name] == value, (path, name)
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe" not in policy
        assert "strict-transport-security" not in response.headers  # plain HTTP
        https = client.get(path, headers={"X-Forwarded-Proto": "https"})  # from the trusted proxy (loopback)
        assert https.headers["strict-transport-security"].startswith("max-age=")


def test_forwarded_headers_count_only_from_a_trusted_proxy(gpkg_template, tmp_path) -> None:
    """Loopback is not trusted here: its X-Forwarded-* name nothing, so neither HTTPS nor a fresh address."""
    target = tmp_path / "untrusted.gpkg"
    target.write_bytes(gpkg_template.read_bytes())
    with running(str(target), trusted_proxies="192.0.2.250", login_attempts_per_minute="2") as s, s.client() as client:
        https = client.get("/", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in https.headers
        codes = [_login(client, "nobody", "wrong-password-1", f"203.0.113.{i}").status_code for i in range(3)]
        assert codes == [401, 401, 429]  # one source (the socket's peer), whatever the header claims


def test_tokens_are_listed_revoked_and_expire_over_http(server: Server, seeded: Seeded, web_target: str) -> None:
    with server.client("viewer_a") as client:
        made = client.post("/auth/tokens", json={"name": "QGIS"}).json()
        days = dt.datetime.fromisoformat(made["expires_at"]) - dt.datetime.fromisoformat(made["created_at"])
        assert days == dt.timedelta(days=90) and made["state"] == "active"
        short = client.post("/auth/tokens", json={"name": "one week", "days": 7}).json()
        mine = {t["id"]: t for t in client.get("/auth/tokens").json()}
        assert {made["id"], short["id"]} <= set(mine) and "token" not in mine[made["id"]]
        assert {t["username"] for t in mine.values()} == {"viewer_a"}
        bearer = {"Authorization": f"Bearer {made['token']}"}
        assert client.get("/api/v1/hazard", headers=bearer).status_code == 200
        assert client.delete(f"/auth/tokens/{made['id']}").json()["state"] == "revoked"
    with httpx.Client(base_url=server.url, headers=bearer) as revoked:
        assert revoked.get("/api/v1/hazard").status_code == 401

    with server.client("reviewer_b") as other:  # another account's token is not theirs to list or revoke
        assert other.delete(f"/auth/tokens/{short['id']}").status_code == 404
        assert other.get(f"/api/v1/admin/accounts/{short['account_id']}/tokens").status_code == 403
    with server.client("admin") as admin:
        listed = admin.get(f"/api/v1/admin/accounts/{short['account_id']}/tokens").json()
        assert {t["id"]: t["state"] for t in listed}[made["id"]] == "revoked"

    with database(web_target) as (engine, tables), engine.begin() as connection:  # expiry moved into the past
        table = tables["api_token"]
        connection.execute(table.update().where(table.c.id == short["id"])
                           .values(expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=1)))
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {short['token']}"}) as expired:
        refused = expired.get("/api/v1/hazard")
        assert refused.status_code == 401 and "expired" in refused.json()["detail"]
    with server.client("admin") as admin:
        states = {t["id"]: t["state"] for t in admin.get(f"/api/v1/admin/accounts/{short['account_id']}/tokens").json()}
        assert states[short["id"]] == "expired"
        assert admin.delete(f"/api/v1/admin/accounts/{short['account_id']}/tokens/{2**70}").status_code == 422


def test_unknown_user_wrong_password_and_locked_account_get_one_answer(server: Server, seeded: Seeded) -> None:
    """Status and body identical; times alike (each checks a password hash): the fastest of five tries
    of each within a factor of three of the others."""
    source = "198.51.100.20"
    with httpx.Client(base_url=server.url) as client:
        for _ in range(5):  # lock reviewer_b from this source
            assert _login(client, "reviewer_b", "wrong-password-1", source).status_code == 401
        answers, times = {}, {}
        for kind, (username, secret) in {
            "unknown user": ("no-such-user", "wrong-password-1"),
            "wrong password": ("reviewer_a", "wrong-password-1"),
            "locked": ("reviewer_b", password("reviewer_b")),
        }.items():
            samples = []
            for _ in range(5):
                started = time.perf_counter()
                response = _login(client, username, secret, source)
                samples.append(time.perf_counter() - started)
            answers[kind] = (response.status_code, response.content, response.headers.get("retry-after"))
            times[kind] = min(samples)  # the least disturbed by other work on the machine
    assert len(set(answers.values())) == 1, answers
    assert answers["locked"][0] == 401
    assert max(times.values()) < 3 * min(times.values()), times
    with server.client("admin") as admin:  # an administrator lifts the pause
        account_id = next(a["id"] for a in admin.get("/api/v1/admin/accounts").json() if a["username"] == "reviewer_b")
        assert admin.post(f"/api/v1/admin/accounts/{account_id}/unlock").json()["cleared"] >= 1
    with httpx.Client(base_url=server.url) as client:
        assert _login(client, "reviewer_b", password("reviewer_b"), source).status_code == 200
    with server.client("reviewer_a") as reviewer:
        assert reviewer.post(f"/api/v1/admin/accounts/{account_id}/unlock").status_code == 403


def test_an_administrator_locked_out_by_an_attacker_signs_in_from_elsewhere(server: Server, seeded: Seeded) -> None:
    with httpx.Client(base_url=server.url) as client:
        for _ in range(8):
            assert _login(client, "admin", "attacker-guess-1", "198.51.100.66").status_code == 401
        assert _login(client, "admin", password("admin"), "198.51.100.66").status_code == 401
        assert _login(client, "admin", password("admin"), "192.0.2.44").status_code == 200


@pytest.fixture
def shared_target(web_backend: str, request: pytest.FixtureRequest, gpkg_template, tmp_path) -> Iterator[str]:
    if web_backend == "gpkg":
        path = tmp_path / "shared.gpkg"
        path.write_bytes(gpkg_template.read_bytes())
        yield str(path)
        return
    with postgis_database(request, "mineaction_shared") as url:
        yield url


def test_two_server_processes_share_throttles_and_lock_outs(shared_target: str) -> None:
    with Register.open(shared_target) as register:
        AccountStore(register).create_account("shared.user", password("shared.user"), by="t")
    settings = {"login_attempts_per_minute": "4", "max_failed_logins": "2"}
    with running(shared_target, **settings) as one, running(shared_target, **settings) as two, \
            httpx.Client(base_url=one.url) as first, httpx.Client(base_url=two.url) as second:
        # an account from one source: a failure on each server locks it
        assert _login(first, "shared.user", "wrong-password-1", "192.0.2.5").status_code == 401
        assert _login(second, "shared.user", "wrong-password-1", "192.0.2.5").status_code == 401
        assert _login(first, "shared.user", password("shared.user"), "192.0.2.5").status_code == 401
        assert _login(second, "shared.user", password("shared.user"), "192.0.2.6").status_code == 200
        # a source: failures on both servers add up to its limit
        codes = [_login(c, "nobody", "wrong-password-1", "198.51.100.3").status_code
                 for c in (first, second, first, second, first, second)]
        assert codes == [401, 401, 401, 401, 429, 429]
        assert int(_login(second, "x", "y-wrong-password", "198.51.100.3").headers["retry-after"]) > 0


def test_weak_passwords_are_refused_over_http_saying_what_to_do(server: Server, seeded: Seeded) -> None:
    with server.client("admin") as admin:
        refused = admin.post("/api/v1/admin/accounts", json={"username": "weak.one", "password": "password1234"})
        assert refused.status_code == 422
        assert "too easy to guess" in refused.json()["detail"] and "passphrase" in refused.json()["hint"]


# -- regions ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regional(web_backend: str, request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[tuple[Server, Regions]]:
    if web_backend == "gpkg":
        path = tmp_path_factory.mktemp("regions") / "regions.gpkg"
        path.write_bytes(request.getfixturevalue("gpkg_template").read_bytes())
        context = None
        target = str(path)
    else:
        context = postgis_database(request, "mineaction_regions")
        target = context.__enter__()
    try:
        with Register.open(target) as register:
            regions = build_regions(register)
        with running(target, login_attempts_per_minute="100000") as s:
            yield s, regions
    finally:
        if context is not None:
            context.__exit__(None, None, None)


def _tile_refs(client: httpx.Client) -> set[str]:
    """Hazard refs in the zoom-11 tiles over the fixture's ground."""
    refs: set[str] = set()
    tiles = {lonlat_to_tile(*square_m(x, y, 1).centroid.coords[0], 11)
             for x in (0, 10_000) for y in (-10_000, 0, 10_000)}
    for tx, ty in tiles:
        response = client.get(f"/ogc/collections/hazard/tiles/WebMercatorQuad/11/{ty}/{tx}")
        assert response.status_code == 200
        decoded = mapbox_vector_tile.decode(response.content) if response.content else {}
        refs |= {f["properties"]["ref"] for f in decoded.get("hazard", {}).get("features", [])}
    return refs


def test_regional_centres_see_only_their_subtree_everywhere(regional: tuple[Server, Regions]) -> None:
    server, regions = regional
    h = regions.hazards
    expected = {"north": {h["RN-1"], h["RN"]}, "north_sub": {h["RN-1"]}, "south": {h["RS"]},
                "region_admin": {h["RN-1"], h["RN"]}}
    for username in REGIONAL:
        with server.client(username) as client:
            rest = client.get("/api/v1/hazard", params={"limit": 100}).json()
            assert {i["ref"] for i in rest["items"]} == expected[username] and rest["total"] == len(expected[username])
            ogc = client.get("/ogc/collections/hazard/items", params={"limit": 100}).json()
            assert {f["properties"]["ref"] for f in ogc["features"]} == expected[username]
            assert _tile_refs(client) == expected[username], username
            dashboard = client.get("/api/v1/dashboard").json()
            assert sum(r["count"] for r in dashboard["hazards_by_status"]) == len(expected[username])
            names = {v["name"] for v in client.get("/api/v1/victim").json()["items"]}
            other = "RS" if username != "south" else "RN-1"
            assert f"Person in {other}" not in names
            assert client.get(f"/api/v1/victim/{regions.victims[other]}").status_code == 404


def test_grants_take_a_region_over_http(regional: tuple[Server, Regions]) -> None:
    server, regions = regional
    org = regions.organisation
    with server.client("chief") as chief:
        made = chief.post("/api/v1/admin/accounts", json={
            "username": "hub.viewer", "password": "a long enough secret",
            "grants": [{"organisation_id": org, "region": "RN-1", "role": "viewer"}]})
        assert made.status_code == 201, made.text
        assert made.json()["grants"] == [{"organisation_id": org, "region": "RN-1", "role": "viewer",
                                          "personal_data": False}]
        unknown = chief.post(f"/api/v1/admin/accounts/{made.json()['id']}/grants",
                             json={"organisation_id": org, "region": "NOWHERE", "role": "viewer"})
        assert unknown.status_code == 422 and "NOWHERE" in unknown.json()["detail"]
    path = f"/api/v1/admin/accounts/{made.json()['id']}"
    with server.client("region_admin") as admin:  # administers RN and what lies below it, nothing else
        assert admin.post(f"{path}/grants", json={"organisation_id": org, "region": "RS", "role": "viewer"}
                          ).status_code == 403
        assert admin.post(f"{path}/grants", json={"organisation_id": org, "region": "RN", "role": "reviewer"}
                          ).status_code == 200
        listed = {a["username"] for a in admin.get("/api/v1/admin/accounts").json()}
        assert {"north", "north_sub", "hub.viewer"} <= listed and not listed & {"south", "chief"}
        revoked = admin.delete(f"{path}/grants", params={"organisation_id": org, "region": "RN-1", "role": "viewer"})
        assert revoked.status_code == 200
        assert revoked.json()["grants"] == [{"organisation_id": org, "region": "RN", "role": "reviewer",
                                             "personal_data": False}]
    with server.client() as client:
        response = client.post("/auth/login", json={"username": "hub.viewer", "password": "a long enough secret"})
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        assert {i["ref"] for i in client.get("/api/v1/hazard").json()["items"]} == {
            regions.hazards["RN-1"], regions.hazards["RN"]}


def test_the_map_runs_under_the_content_security_policy(
    request: pytest.FixtureRequest, server: Server, seeded: Seeded, repo_root
) -> None:
    """MapLibre's workers, the tiles, the legend, the charts: nothing the policy refuses (Chromium
    reports each refusal on the console)."""
    if not (repo_root / "node_modules" / "maplibre-gl" / "dist").is_dir():
        missing_service("maplibre-gl is not installed: run scripts/setup (npm ci)")
    context = request.getfixturevalue("browser").new_context(viewport={"width": 1000, "height": 700})
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(server.url + "/")
        page.fill("input[name=username]", "viewer_a")
        page.fill("input[name=password]", password("viewer_a"))
        page.click("#login button[type=submit]")
        page.wait_for_function("() => window.mineactionMap && window.mineactionMap.loaded() "
                               "&& window.mineactionMap.areTilesLoaded()", timeout=30_000)
        assert page.evaluate("window.mineactionMap.queryRenderedFeatures({layers: ['hazard-fill']}).length") > 0
        swatch = page.evaluate("getComputedStyle(document.querySelector('#legend .swatch')).backgroundColor")
        assert swatch not in ("", "rgba(0, 0, 0, 0)")
        page.click("button[data-page=dashboard]")
        page.wait_for_selector("#chart-hazards svg")
        assert violations == []
    finally:
        context.close()


@pytest.mark.parametrize(("peer", "forwarded", "client", "scheme"), [
    ("127.0.0.1", "198.51.100.1", "198.51.100.1", "https"),
    ("127.0.0.1", "203.0.113.9, 198.51.100.1", "198.51.100.1", "https"),  # the left entry is the client's own claim
    ("127.0.0.1", "198.51.100.1, 10.1.2.3", "198.51.100.1", "https"),  # 10.1.2.3: a trusted inner proxy
    ("127.0.0.1", "not-an-address", "127.0.0.1", "https"),
    ("198.51.100.7", "203.0.113.9", "198.51.100.7", "http"),  # not a trusted proxy: headers ignored
])
def test_the_client_address_is_the_last_one_a_trusted_proxy_saw(peer: str, forwarded: str, client: str,
                                                                 scheme: str) -> None:
    seen = {}

    async def app(scope, receive, send) -> None:
        seen.update(client=scope["client"][0], scheme=scope["scheme"])

    middleware = TrustedProxies(app, ["127.0.0.1", "10.0.0.0/8"])
    scope = {"type": "http", "client": (peer, 5000), "scheme": "http",
             "headers": [(b"x-forwarded-for", forwarded.encode()), (b"x-forwarded-proto", b"https")]}
    # a thread of its own: a browser test's Playwright may leave an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, middleware(scope, None, None)).result()
    assert seen == {"client": client, "scheme": scheme}
    with pytest.raises(ValueError, match="not an IP address"):
        TrustedProxies(app, ["proxy.example"])
