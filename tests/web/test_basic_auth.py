"""HTTP Basic authentication, as QGIS, GDAL and ArcGIS Pro send it, on a real server.

A username with its API token (or its password) is the same principal as the
token sent as Bearer; a password sent as Basic is one more sign-in attempt,
throttled and refused with the sign-in's own answer.
"""

from __future__ import annotations

import base64

import httpx
import shapely.geometry

from tests.common import square_m
from tests.web.seed import Seeded, password
from tests.web.server import Server

BASIC = 'Basic realm="mineaction"'
BEARER = 'Bearer realm="mineaction"'


def basic(username: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()}


def _refusal(response: httpx.Response) -> tuple[int, str, str, str]:
    body = response.json()
    return response.status_code, body["title"], body["detail"], body.get("hint", "")


def test_basic_with_a_token_or_password_is_the_tokens_principal(server: Server, seeded: Seeded) -> None:
    token = server.token("viewer_a")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        bearer = client.get("/ogc/collections/hazard/items", headers={"Authorization": f"Bearer {token}"})
        assert bearer.status_code == 200
        seen = {f["id"] for f in bearer.json()["features"]}
        assert seeded.records["A"]["hazard"] in seen and seeded.records["B"]["hazard"] not in seen
        for secret in (token, password("viewer_a")):
            for path in ("/ogc/collections/hazard/items", "/api/v1/hazard", "/auth/me"):
                response = client.get(path, headers=basic("viewer_a", secret))
                assert response.status_code == 200, (path, response.text)
            items = client.get("/ogc/collections/hazard/items", headers=basic("viewer_a", secret)).json()
            assert {f["id"] for f in items["features"]} == seen
            assert client.get("/auth/me", headers=basic("viewer_a", secret)).json()["username"] == "viewer_a"


def test_a_token_counts_only_for_its_own_account_and_while_live(server: Server) -> None:
    token = server.token("viewer_a")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        elsewhere = {"X-Forwarded-For": "198.51.100.125"}  # the failed sign-in it is counted there
        assert client.get("/auth/me", headers={**basic("national_viewer", token), **elsewhere}).status_code == 401
        assert client.get("/auth/me", headers=basic("viewer_a", token)).status_code == 200
        mine = client.get("/auth/tokens", headers=basic("viewer_a", token)).json()
        token_id = max(t["id"] for t in mine)  # the newest: this one
        assert client.delete(f"/auth/tokens/{token_id}", headers=basic("viewer_a", token)).status_code == 200
        assert client.get("/auth/me", headers=basic("viewer_a", token)).status_code == 401


def test_a_refused_basic_request_asks_for_credentials_and_says_what_a_sign_in_says(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        source = {"X-Forwarded-For": "198.51.100.124"}  # failures counted there, not where other tests sign in
        refused = client.get("/ogc/collections/hazard/items", headers={**basic("viewer_a", "wrong-password-1"), **source})
        login = client.post("/auth/login", json={"username": "viewer_a", "password": "wrong-password-1"}, headers=source)
        assert _refusal(refused) == _refusal(login)
        assert refused.headers.get_list("www-authenticate") == [BASIC, BEARER]
        anonymous = client.get("/ogc/collections/hazard/tiles/WebMercatorQuad/0/0/0")
        assert anonymous.status_code == 401 and anonymous.headers.get_list("www-authenticate") == [BASIC, BEARER]
        # the web app's own script is not offered Basic: the browser would pop up its password dialog
        script = client.get("/api/v1/hazard", headers={"Sec-Fetch-Dest": "empty"})
        assert script.status_code == 401 and script.headers.get_list("www-authenticate") == [BEARER]
        for header in ("Basic not-base64!", "Basic " + base64.b64encode(b"no-colon").decode(),
                       "Basic " + base64.b64encode(b"viewer_a:").decode(), "Basic " + base64.b64encode(b"\xff:x").decode()):
            malformed = client.get("/auth/me", headers={"Authorization": header})
            assert malformed.status_code == 401, header
            assert malformed.json()["title"] == "NotAuthenticated"


def test_basic_passwords_go_through_the_sign_in_throttle(server: Server) -> None:
    """Five wrong Basic passwords from one source lock the account from there, for sign-ins too."""
    source = {"X-Forwarded-For": "198.51.100.123"}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(5):
            wrong = client.get("/ogc/collections/hazard/items", headers={**basic("reviewer_a", "guess-1"), **source})
            assert wrong.status_code == 401
        right = basic("reviewer_a", password("reviewer_a"))
        assert client.get("/ogc/collections/hazard/items", headers={**right, **source}).status_code == 401
        signing_in = client.post("/auth/login", json={"username": "reviewer_a", "password": password("reviewer_a")},
                                 headers=source)
        assert signing_in.status_code == 401
        assert client.get("/ogc/collections/hazard/items", headers=right).status_code == 200  # other sources: not
    with server.client("admin") as admin:
        account_id = next(a["id"] for a in admin.get("/api/v1/admin/accounts").json() if a["username"] == "reviewer_a")
        assert admin.post(f"/api/v1/admin/accounts/{account_id}/unlock").json()["cleared"] >= 1
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.get("/ogc/collections/hazard/items", headers={**right, **source}).status_code == 200


def test_a_disabled_account_is_refused_at_once_though_its_basic_password_was_just_taken(
    server: Server, seeded: Seeded,
) -> None:
    with server.client("admin") as admin:
        created = admin.post("/api/v1/admin/accounts", json={
            "username": "basic_disabled", "password": "a long passphrase for basic",
            "grants": [{"organisation_id": seeded.orgs["A"], "role": "viewer"}]})
        assert created.status_code == 201, created.text
        credentials = basic("basic_disabled", "a long passphrase for basic")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert [client.get("/auth/me", headers=credentials).status_code for _ in range(3)] == [200] * 3
            assert admin.patch(f"/api/v1/admin/accounts/{created.json()['id']}", json={"active": False}).status_code == 200
            assert client.get("/auth/me", headers=credentials).status_code == 401
            assert admin.patch(f"/api/v1/admin/accounts/{created.json()['id']}", json={"active": True}).status_code == 200
            assert client.get("/auth/me", headers=credentials).status_code == 200


def test_a_write_from_a_web_page_never_counts_basic_credentials(server: Server, seeded: Seeded) -> None:
    """A browser attaches Basic credentials its user once typed, to any site's form: such a write needs the session."""
    feature = {"type": "Feature", "geometry": shapely.geometry.mapping(square_m(9500, 9500, 100)), "properties": {
        "hazard_type": "SHA", "status": "active", "contamination": ["ap_mine"], "evidence": "indirect",
        "reported_on": "2025-06-01", "organisation_id": seeded.orgs["A"]}}
    credentials = basic("reviewer_a", server.token("reviewer_a"))
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for page in ({"Origin": "https://elsewhere.example"}, {"Sec-Fetch-Site": "cross-site"}):
            forged = client.post("/ogc/collections/hazard/items", json=feature, headers={**credentials, **page})
            assert forged.status_code == 401, forged.text
        assert client.get("/ogc/collections/hazard/items", headers={**credentials, "Sec-Fetch-Site": "cross-site"}
                          ).status_code == 200  # reading: the page cannot see the answer (no CORS)
        created = client.post("/ogc/collections/hazard/items", json=feature, headers=credentials,
                              params={"reason": "QGIS edit over Basic"})
        assert created.status_code == 201, created.text
        deleted = client.delete(created.headers["location"], headers={**credentials, "If-Match": created.headers["etag"]})
        assert deleted.status_code == 204
