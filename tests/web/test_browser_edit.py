"""Data entry in Debian's Chromium: draw a hazard, fill the generated form, save with a reason, edit a vertex.

Checked through the REST API: the hazard exists with the drawn polygon's
geodesic area, and the vertex edit makes version 2. A viewer gets no edit
controls; the Ukrainian form asks for no untranslated text key.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely.geometry
from pyproj import Geod

from tests.conftest import missing_service
from tests.web.seed import Seeded
from tests.web.test_browser import CHROMIUM, FLAGS, sign_in

SHOTS = Path(os.environ.get("MINEACTION_SHOTS", "/work/wt/webedit-shots"))
GEOD = Geod(ellps="WGS84")
MAP_READY = "() => window.mineactionMap && window.mineactionMap.loaded() && window.mineactionDraw"


def _geodesic_m2(geometry: dict[str, Any]) -> float:
    return abs(GEOD.geometry_area_perimeter(shapely.geometry.shape(geometry))[0])


def _shot(page, name: str) -> None:
    """A PNG for the issue's record of each page (only where the shots folder's parent exists)."""
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture
def open_as(server, repo_root) -> Iterator[Callable[..., Any]]:
    """Pages signed in as an account, in a Chromium of this test's own: no Playwright event loop outlives it."""
    if not os.path.exists(CHROMIUM):
        missing_service(f"{CHROMIUM} is missing (Debian package chromium)")
    if not (repo_root / "node_modules" / "terra-draw" / "dist").is_dir():
        missing_service("terra-draw is not installed: run scripts/setup (npm ci)")
    sync_api = pytest.importorskip("playwright.sync_api")
    playwright = sync_api.sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    contexts = []

    def open_page(username: str, width: int = 1100, height: int = 800, lang: str = "en"):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.add_init_script(f"localStorage.setItem('mineaction.lang', '{lang}')")
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.errors = errors
        sign_in(page, server.url, username)
        page.wait_for_function(MAP_READY, timeout=30_000)
        return page

    yield open_page
    for context in contexts:
        context.close()
    browser.close()
    playwright.stop()


def _click_polygon(page, corners: list[tuple[int, int]]) -> None:
    box = page.locator("#map").bounding_box()
    for x, y in [*corners, corners[0]]:  # the first corner again closes the polygon
        page.mouse.click(box["x"] + x, box["y"] + y)
        page.wait_for_timeout(150)


def test_reviewer_draws_a_hazard_saves_it_and_edits_a_vertex(open_as, server, seeded: Seeded) -> None:
    page = open_as("reviewer_a")
    page.wait_for_selector("#new-record", state="visible")
    page.click("#new-record")
    _click_polygon(page, [(200, 200), (400, 210), (390, 380), (210, 360)])
    page.wait_for_function("() => document.getElementById('vertices').textContent.startsWith('4 ')")
    drawn = page.evaluate("window.mineactionDraw.getSnapshot()[0].geometry")

    page.click("#save-record")  # nothing filled in: the required fields say so, next to themselves
    assert page.inner_text("#error-hazard_type") == "Required"
    assert page.inner_text("#error-reason") == "Required"
    assert page.inner_text("#error-organisation_id") == ""  # the only organisation is chosen already

    page.select_option("#field-hazard_type", "SHA")
    page.select_option("#field-status", "active")
    page.select_option("#field-contamination", ["uxo"])
    page.select_option("#field-evidence", "indirect")
    page.fill("#field-reported_on", "2025-04-01")
    page.fill("#edit-reason", "drawn in the browser test")
    _shot(page, "hazard-form-en")
    page.click("#save-record")
    page.wait_for_function("() => document.getElementById('form-message').textContent.includes('version 1')")
    ref = page.inner_text("#record-title").split()[-1]

    with server.client("reviewer_a") as client:
        saved = client.get(f"/api/v1/hazard/{ref}").json()
    assert saved["version"] == 1 and saved["hazard_type"] == "SHA" and saved["contamination"] == ["uxo"]
    assert saved["area_m2"] == pytest.approx(_geodesic_m2(drawn), rel=1e-3)
    assert shapely.geometry.shape(saved["geometry"]).equals_exact(shapely.geometry.shape(drawn), 1e-6)

    # drag the first (top-left) corner 60 px left, outwards: terra-draw's select mode moves the vertex
    corner = page.evaluate(f"window.mineactionMap.project({drawn['coordinates'][0][0]})")
    box = page.locator("#map").bounding_box()
    x, y = box["x"] + corner["x"], box["y"] + corner["y"]
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 7):
        page.mouse.move(x - 10 * step, y, steps=2)
    page.mouse.up()
    moved = page.evaluate("window.mineactionDraw.getSnapshot().find(f => f.properties.mode === 'polygon').geometry")
    assert moved["coordinates"][0][0] != drawn["coordinates"][0][0]
    page.fill("#edit-reason", "corner moved")
    page.click("#save-record")
    page.wait_for_function("() => document.getElementById('form-message').textContent.includes('version 2')")
    _shot(page, "hazard-vertex-edited-en")
    with server.client("reviewer_a") as client:
        edited = client.get(f"/api/v1/hazard/{ref}").json()
    assert edited["version"] == 2
    assert edited["area_m2"] == pytest.approx(_geodesic_m2(moved), rel=1e-3)
    assert edited["area_m2"] > saved["area_m2"]  # the corner moved outwards
    assert not page.errors


def test_a_stale_edit_shows_what_changed_and_saves_on_top(open_as, server, seeded: Seeded) -> None:
    page = open_as("reviewer_a")
    page.wait_for_selector("#new-record", state="visible")
    page.click("#new-record")
    page.fill("#coordinates", "30.0101 50.0101\n30.0111, 50.0101\n30.0111 50.0111; 30.0101 50.0111")
    page.click("#use-coordinates")
    page.wait_for_function("() => document.getElementById('vertices').textContent.startsWith('4 ')")
    for field, value in (("hazard_type", "CHA"), ("status", "active"), ("evidence", "direct")):
        page.select_option(f"#field-{field}", value)
    page.select_option("#field-contamination", ["uxo"])
    page.fill("#field-reported_on", "2025-05-02")
    page.fill("#edit-reason", "pasted coordinates")
    page.click("#save-record")  # the server's domain rule refuses it, and the page says so next to the geometry
    page.wait_for_function("() => document.getElementById('error-geometry').textContent")
    assert "outside the programme extent" in page.inner_text("#error-geometry")
    page.fill("#coordinates", "-33.5101 -30.0101\n-33.5091, -30.0101\n-33.5091 -30.0091; -33.5101 -30.0091")
    page.click("#use-coordinates")
    page.click("#save-record")
    page.wait_for_function("() => document.getElementById('form-message').textContent.includes('version 1')")
    ref = page.inner_text("#record-title").split()[-1]
    with server.client("reviewer_a") as client:
        hazard = client.get(f"/api/v1/hazard/{ref}")
        ring = hazard.json()["geometry"]["coordinates"][0]
        assert ring[0] == pytest.approx([-33.5101, -30.0101]) and len(ring) == 5
        changed = client.patch(f"/api/v1/hazard/{ref}", headers={"If-Match": hazard.headers["ETag"]},
                               json={"reason": "someone else", "status": "worked_on"})
        assert changed.status_code == 200, changed.text

    page.fill("#field-description", "my change")
    page.fill("#edit-reason", "a stale edit")
    page.click("#save-record")
    page.wait_for_selector("#stale", state="visible")
    stale = page.inner_text("#stale")
    with server.client("reviewer_a") as client:
        statuses = {term["code"]: term["label"] for term in client.get("/api/v1/vocabularies/hazard_status").json()}
    assert "version 2" in stale and f"Status: {statuses['active']} → {statuses['worked_on']}" in stale  # labels, not codes
    _shot(page, "hazard-stale-en")
    page.fill("#edit-reason", "my change on top")
    page.click("#save-record")
    page.wait_for_function("() => document.getElementById('form-message').textContent.includes('version 3')")
    with server.client("reviewer_a") as client:
        latest = client.get(f"/api/v1/hazard/{ref}").json()
    assert (latest["status"], latest["description"], latest["version"]) == ("worked_on", "my change", 3)


def test_bad_coordinates_are_named_next_to_the_geometry(open_as, seeded: Seeded) -> None:
    page = open_as("reviewer_a")
    page.wait_for_selector("#new-record", state="visible")
    page.click("#new-record")
    page.fill("#coordinates", "30.01 50.01 30.02")
    page.click("#use-coordinates")
    page.wait_for_function("() => document.getElementById('error-geometry').textContent.includes('pairs')", timeout=5000)
    page.fill("#coordinates", "30.01 95 30.02 50.01 30.02 50.02")
    page.click("#use-coordinates")
    page.wait_for_function("() => document.getElementById('error-geometry').textContent.includes('latitude')", timeout=5000)


def test_mgrs_references_make_the_polygon(open_as, seeded: Seeded) -> None:
    page = open_as("reviewer_a")
    page.wait_for_selector("#new-record", state="visible")
    page.click("#new-record")
    corners = [(-33.51, -30.01), (-33.50, -30.01), (-33.50, -30.00)]
    references = page.evaluate(f"{[list(c) for c in corners]}.map(c => mgrs.forward(c, 5))")
    page.fill("#coordinates", "\n".join(f"{r[:3]} {r[3:5]} {r[5:10]} {r[10:]}" for r in references))  # "23J LL 12345 67890"
    page.click("#use-coordinates")
    page.wait_for_function("() => document.getElementById('vertices').textContent.startsWith('3 ')")
    ring = page.evaluate("window.mineactionDraw.getSnapshot()[0].geometry.coordinates[0]")
    for (lon, lat), corner in zip(ring, corners):  # a 1 m reference: its south-west corner, within 1e-4°
        assert lon == pytest.approx(corner[0], abs=1e-4) and lat == pytest.approx(corner[1], abs=1e-4)
    page.fill("#coordinates", "23J LL 123 XYZ")
    page.click("#use-coordinates")
    page.wait_for_function("() => document.getElementById('error-geometry').textContent", timeout=5000)


def test_a_viewer_sees_no_edit_controls(open_as, seeded: Seeded) -> None:
    page = open_as("viewer_a")
    page.fill("#search-text", "HAZ-000001")
    page.click("#search button")
    page.wait_for_selector("#details-history li")
    assert not page.is_visible("#new-record")
    assert page.locator("#edit-record").count() == 0
    assert page.locator("#record-form").is_hidden()


def test_ukrainian_form_at_phone_width_has_no_untranslated_key(open_as, seeded: Seeded) -> None:
    page = open_as("reviewer_a", width=390, height=844, lang="uk")
    page.wait_for_selector("#new-record", state="visible")
    assert page.inner_text("#new-record") == "Нова небезпечна ділянка"
    page.click("#new-record")
    page.click("#save-record")  # the required-field messages too
    assert page.inner_text("#error-hazard_type") == "Обов'язкове поле"
    page.fill("#search-text", "HAZ-000001")
    page.click("#search button")
    page.wait_for_selector("#edit-record")
    page.click("#edit-record")
    page.wait_for_function("() => document.getElementById('vertices').textContent.includes('вершин')")
    assert page.evaluate("[...UNTRANSLATED]") == []
    assert page.evaluate("Object.keys(TEXTS.en).filter(k => !(k in TEXTS.uk))") == []
    labels = page.eval_on_selector_all("#record-form label", "nodes => nodes.map(n => n.textContent)")
    assert labels and not [text for text in labels if "_" in text]  # no raw field names
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing sticks out sideways at phone width
    assert page.inner_text("#error-reason") == ""  # the edit form starts without the earlier messages
    page.locator("#record-form").scroll_into_view_if_needed()
    _shot(page, "hazard-form-uk-phone")
    assert not page.errors
