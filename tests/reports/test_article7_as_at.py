"""Article 7 tables show each area as at the end of the reporting year, whatever was edited afterwards."""

from __future__ import annotations

import datetime as dt

import pytest

from mineaction.demo.fictional_programme import build_demo
from mineaction.reports.annual import annual_report
from mineaction.storage.register import Register
from tests.common import OPERATOR

YEAR = 2025


@pytest.fixture
def report_register(register: Register) -> Register:
    build_demo(register, seed=11, hazards=60)
    return register


def _ap_hazards(register: Register, status: str) -> list:
    return [h for h in register.records("hazard") if "ap_mine" in h["contamination"] and h["status"] == status]


def test_later_edits_leave_the_years_article7_table_unchanged(report_register: Register) -> None:
    year_end = report_register.latest_change()  # the register as it stood "at year end"
    before = annual_report(report_register, YEAR, scope=OPERATOR, as_at=year_end).table("apmbc_article7").frame
    open_hazard = _ap_hazards(report_register, "active")[0]
    shown = before.loc[before["area"] == open_hazard.ref].iloc[0]
    assert shown["status"] == "active"
    with report_register.write("tester", "closed and re-estimated after the year") as w:
        w.update("hazard", open_hazard.id, base_version=open_hazard.version,
                 values={"status": "closed", "closed_on": dt.date(YEAR + 1, 1, 14), "estimated_items": 999.0})
    now = annual_report(report_register, YEAR, scope=OPERATOR).table("apmbc_article7").frame
    assert now.loc[now["area"] == open_hazard.ref, "estimated quantity"].item() == 999  # today's register
    after = annual_report(report_register, YEAR, scope=OPERATOR, as_at=year_end).table("apmbc_article7").frame
    assert after.equals(before)
    assert after.loc[after["area"] == open_hazard.ref, "status"].item() == "active"


def test_a_hazard_closed_after_the_year_is_shown_open_at_year_end(report_register: Register) -> None:
    # every demo record was entered after 2025 (a migrated register): status at year end comes from its dates
    hazard = _ap_hazards(report_register, "active")[0]
    with report_register.write("tester", "closed in the new year") as w:
        w.update("hazard", hazard.id, base_version=hazard.version,
                 values={"status": "closed", "closed_on": dt.date(YEAR + 1, 1, 14)})
    table = annual_report(report_register, YEAR, scope=OPERATOR).table("apmbc_article7").frame
    assert table.loc[table["area"] == hazard.ref, "status"].item() in ("active", "worked_on")
    closed_in_year = [h for h in _ap_hazards(report_register, "closed")
                      if h["closed_on"] and h["closed_on"] < dt.date(YEAR + 1, 1, 1)]
    for closed in closed_in_year:
        assert table.loc[table["area"] == closed.ref, "status"].item() == "closed"
