"""The web's dashboard and report downloads: the annual report's tables, suppressed alike, in the caller's scope."""

from __future__ import annotations

import csv
import io

import pytest

from mineaction.access import Grant, Principal, Role
from mineaction.domain.spreadsheet import neutralise
from mineaction.reports.annual import annual_report
from mineaction.reports.frames import table_csv
from mineaction.reports.published import TABLES
from mineaction.storage.register import Register
from tests.web.seed import Seeded

ACCIDENT_YEAR = 2024  # every seeded accident, and the one a review test adds victims to


def _principal(username: str, seeded: Seeded) -> Principal:
    """The grants ``seed`` gives these accounts."""
    grants = {"admin": (Grant(None, Role.ADMINISTRATOR, True),), "viewer_a": (Grant(seeded.orgs["A"], Role.VIEWER),)}
    return Principal(username, username, grants[username])


def _annual_casualties(target: str, principal: Principal):
    register = Register.open(target)  # not closed: closing checkpoints the WAL, which waits for the server's readers
    try:
        assert {a["occurred_on"].year for a in register.records("accident")} == {ACCIDENT_YEAR}
        return annual_report(register, ACCIDENT_YEAR, scope=principal).table("casualties")
    finally:
        register.engine.dispose()


@pytest.mark.parametrize("username", ["admin", "viewer_a"])
def test_casualty_download_and_dashboard_are_the_annual_reports_table(
        server, seeded: Seeded, web_target: str, username: str) -> None:
    with server.client(username) as client:
        download = client.get("/api/v1/reports/casualties.csv")
        figures = client.get("/api/v1/dashboard").json()["casualties"]
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    annual = _annual_casualties(web_target, _principal(username, seeded))
    assert download.text == table_csv(annual)  # cell for cell what the annual report publishes
    rows = list(csv.reader(io.StringIO(download.text)))
    assert all(cell in ("<5", "x") or int(cell) == 0 or int(cell) >= 5 for row in rows[1:] for cell in row[1:])
    assert annual.frame.loc["civilian injured", "Total"] == "<5"  # one or two injured civilians: never "1"
    shown = {f"{r['victim_group']} {r['outcome']}": (r["count"], r["shown"]) for r in figures}
    assert shown["civilian injured"] == (None, "<5") and shown["deminer killed"] == (0, "0")
    assert {k: v[1] for k, v in shown.items()} == annual.frame["Total"].drop("Total").to_dict()


def test_a_scoped_account_downloads_only_its_organisations_counts(server, seeded: Seeded) -> None:
    def finds(username: str) -> int:
        with server.client(username) as client:
            rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/reports/eo-finds.csv").text)))
        return sum(int(r["quantity"]) for r in rows)

    assert finds("viewer_a") == 1 and finds("reviewer_b") == 1 and finds("admin") == 2  # one item each, as seeded


def test_every_download_is_safe_to_open_in_a_spreadsheet(server) -> None:
    with server.client("admin") as client:
        for name in TABLES:
            response = client.get(f"/api/v1/reports/{name}.csv")
            assert response.status_code == 200, name
            for row in csv.reader(io.StringIO(response.text)):
                assert all(neutralise(cell) == cell for cell in row), (name, row)
