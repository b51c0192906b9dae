"""The map and review pages in Debian's Chromium, driven by Playwright (headless).

Launches /usr/bin/chromium (never a downloaded browser); skips locally, fails
in CI, when it is missing.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import numpy as np
import pytest
import shapely.geometry
from PIL import Image

from tests.common import square_m
from tests.conftest import missing_service
from tests.web.seed import Seeded, password

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def sign_in(page, url: str, username: str) -> None:
    """Open the web app at ``url`` and sign in through its form as a seeded account."""
    page.goto(url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password(username))
    page.click("#login button[type=submit]")
    page.wait_for_function("() => !document.getElementById('nav').hidden"
                           " || document.getElementById('login-error').textContent")
    assert not page.inner_text("#login-error")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        missing_service(f"{CHROMIUM} is missing (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page_for(browser, server, repo_root):
    if not (repo_root / "node_modules" / "maplibre-gl" / "dist").is_dir():
        missing_service("maplibre-gl is not installed: run scripts/setup (npm ci)")
    contexts = []

    def open_as(username: str):
        context = browser.new_context(viewport={"width": 1000, "height": 700})
        contexts.append(context)
        page = context.new_page()
        sign_in(page, server.url, username)
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_hazards_are_drawn_on_the_map_and_a_click_shows_history(page_for, seeded: Seeded) -> None:
    page = page_for("viewer_a")
    page.wait_for_function("() => window.mineactionMap && window.mineactionMap.loaded() && window.mineactionMap.areTilesLoaded()",
                           timeout=30_000)
    page.fill("#search-text", "HAZ-000001")
    page.click("#search button")
    page.wait_for_selector("#details-history li")
    page.wait_for_function("() => window.mineactionMap.areTilesLoaded()")
    refs = page.evaluate(
        "[...new Set(window.mineactionMap.queryRenderedFeatures({layers: ['hazard-fill']}).map(f => f.properties.ref))]"
    )
    assert "HAZ-000001" in refs
    assert page.evaluate("window.mineactionMap.queryRenderedFeatures({layers: ['eo_find']}).length") > 0
    pixels = np.asarray(Image.open(io.BytesIO(page.locator("#map").screenshot())).convert("RGB"), dtype=float)
    assert pixels.std() > 10  # not blank
    assert "version 1" in page.inner_text("#details-history")
    page.select_option("#lang", "uk")
    assert page.inner_text("button[data-page=review]") == "Черга перевірки"


def test_reviewer_approves_a_field_report_viewer_cannot(page_for, server, seeded: Seeded) -> None:
    report = {"entity": "eore_session", "reason": "browser test", "values": {
        "held_on": "2025-07-07", "eore_method": "group_session", "boys": 7, "organisation_id": seeded.orgs["A"]},
        "geometry": shapely.geometry.mapping(square_m(950, 950, 1).centroid)}
    with server.client("reporter_a") as reporter:
        ref = reporter.post("/api/v1/review/reports", json=report).json()["ref"]

    viewer = page_for("viewer_a")
    viewer.click("button[data-page=review]")
    viewer.wait_for_selector(f"tr[data-ref='{ref}']")
    viewer.on("dialog", lambda dialog: dialog.accept("trying"))
    viewer.click(f"button[data-action=approve][data-ref='{ref}']")
    viewer.wait_for_function("() => document.getElementById('review-message').textContent.length > 0")
    assert "reviewer" in viewer.inner_text("#review-message")  # refused: needs the reviewer role

    reviewer = page_for("reviewer_a")
    reviewer.click("button[data-page=review]")
    reviewer.on("dialog", lambda dialog: dialog.accept("checked in the browser"))
    reviewer.click(f"button[data-action=approve][data-ref='{ref}']")
    reviewer.wait_for_function(f"() => document.getElementById('review-message').textContent.includes('{ref}')")
    with server.client("reviewer_a") as client:
        assert client.get(f"/api/v1/review/reports/{ref}").json()["status"] == "approved"
