"""Published tables: the web's are the annual report's, suppressed alike, within the caller's scope."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pyogrio
import pytest
from typer.testing import CliRunner

from mineaction.access import Grant, Principal, Role, ScopedReader
from mineaction.access.scopes import public_scope
from mineaction.cli.app import app
from mineaction.domain.entities import Sensitivity
from mineaction.errors import InvalidValue
from mineaction.io.export import PersonalDataRefused, export
from mineaction.reports.annual import annual_report
from mineaction.reports.frames import table_csv
from mineaction.reports.published import TABLES, dashboard, published_table
from mineaction.storage.register import Register
from tests.common import OPERATOR, activity_values, hazard_values, square_m

YEAR = 2025
#: (organisation, victim_group, outcome, sex, age, how many); B's lone killed deminer is the small cell
VICTIMS = [("A", "deminer", "killed", "male", 30, 3), ("A", "civilian", "injured", "female", 40, 4),
           ("B", "civilian", "killed", "male", 50, 5), ("B", "deminer", "killed", "female", 35, 1)]
ITEMS = {"A": 7, "B": 11}
AUDIENCE = {"A": {"girls": 6, "boys": 10}, "B": {"women": 8}}


@pytest.fixture
def two_organisations(register: Register) -> tuple[Register, dict[str, str], dict[str, dict]]:
    """Organisations A and B, each with a hazard, a released part, a find, an accident with victims, EORE."""
    orgs, made = {}, {}
    with register.write("test", "two organisations") as w:
        for key, x in (("A", 0), ("B", 3000)):
            org = w.add("organisation", {"name": f"Org {key} (fictional)", "acronym": f"O{key}",
                                         "organisation_type": "ngo"})
            orgs[key] = org.id
            hazard = w.add("hazard", hazard_values(org.id), square_m(x, 0, 400))
            activity = w.add("activity", activity_values(hazard.id, org.id))
            part = w.release(activity_id=activity.id, geometry=square_m(x, 0, 100 + x / 100), release_type="cleared",
                             method="manual", released_on=dt.date(YEAR, 5, 1))
            w.add("eo_find", {"hazard_id": hazard.id, "category": "ap_mine", "condition": "functional",
                              "quantity": ITEMS[key], "found_on": dt.date(YEAR, 5, 2), "organisation_id": org.id},
                  square_m(x + 50, 50, 1).centroid)
            accident = w.add("accident", {"occurred_on": dt.date(YEAR, 6, 1), "accident_type": "mine",
                                          "organisation_id": org.id}, square_m(x + 300, 300, 1).centroid)
            for owner, group, outcome, sex, age, n in VICTIMS:
                for i in range(n if owner == key else 0):
                    w.add("victim", {"accident_id": accident.id, "name": f"Person {key}{group}{i}", "age": age,
                                     "sex": sex, "victim_group": group, "outcome": outcome, "organisation_id": org.id})
            w.add("eore_session", {"held_on": dt.date(YEAR, 2, 1), "eore_method": "school", **AUDIENCE[key],
                                   "organisation_id": org.id}, square_m(x + 200, 600, 1).centroid)
            made[key] = {"hazard": hazard.ref, "area": part["area_m2"]}
    return register, orgs, made


def _viewer_of(org_id: str) -> Principal:
    return Principal("viewer", "viewer", (Grant(org_id, Role.VIEWER),))


def test_the_web_casualty_table_is_the_annual_reports_suppressed_alike(two_organisations) -> None:
    register, _, _ = two_organisations
    report = annual_report(register, YEAR, scope=OPERATOR)
    annual = report.table("casualties")
    web = published_table(ScopedReader(register, OPERATOR), "casualties")
    assert web.frame.equals(annual.frame)
    assert table_csv(web) == table_csv(annual)  # what the web sends, cell for cell
    assert annual.frame.loc["deminer killed", "female adult"] == "<5"  # B's lone deminer is never published as 1
    assert annual.frame.loc["deminer killed", "Total"] == "<5"
    assert annual.frame.loc["civilian killed", "male adult"] == "x"  # 5, hidden: it would give the <5 away
    assert annual.frame.loc["Total", "Total"] == "13"
    shown = {f"{r['victim_group']} {r['outcome']}": r for r in dashboard(ScopedReader(register, OPERATOR))["casualties"]}
    assert {k: r["shown"] for k, r in shown.items()} == annual.frame["Total"].drop("Total").to_dict()
    assert shown["deminer killed"]["count"] is None and shown["civilian killed"]["count"] is None
    assert shown["deminer injured"]["count"] == 0 and shown["deminer injured"]["shown"] == "0"
    assert all(value in ("<5", "x") or int(value) == 0 or int(value) >= 5 for value in annual.frame.to_numpy().ravel())


def test_a_scoped_account_reports_only_its_organisations(two_organisations) -> None:
    register, orgs, made = two_organisations
    scoped = _viewer_of(orgs["A"])
    report = annual_report(register, YEAR, scope=scoped, suppression_threshold=3)
    everything = annual_report(register, YEAR, scope=OPERATOR, suppression_threshold=3)
    by_org = report.table("land_release_by_organisation").frame
    assert list(by_org["organisation"]) == ["OA", ""] and by_org.index[-1] == "total"
    assert by_org.loc["total", "total"] == pytest.approx(made["A"]["area"])
    assert everything.table("land_release_by_organisation").frame.loc["total", "total"] == pytest.approx(
        made["A"]["area"] + made["B"]["area"])
    assert report.table("eo_destroyed").frame.loc["total", "total"] == ITEMS["A"]
    assert list(report.table("apmbc_article7").frame["area"]) == [made["A"]["hazard"]]
    casualties = report.table("casualties").frame  # threshold 3: A's counts (3 and 4) are all shown
    assert casualties.loc["Total", "Total"] == "7" and casualties.loc["civilian killed", "Total"] == "0"
    assert casualties.loc["deminer killed", "male adult"] == "3"
    assert report.table("eore_audience").frame.loc["Total", "Total"] == str(sum(AUDIENCE["A"].values()))
    reader = ScopedReader(register, scoped)
    assert published_table(reader, "hazards").frame["count"].sum() == 1
    assert published_table(reader, "eo-finds").frame["quantity"].sum() == ITEMS["A"]
    assert published_table(reader, "land-release").frame["area_m2"].sum() == pytest.approx(made["A"]["area"])
    figures = dashboard(reader)
    assert sum(r["area_m2"] for r in figures["land_release_by_month"]) == pytest.approx(made["A"]["area"])
    shown = {f"{r['victim_group']} {r['outcome']}": r["shown"] for r in figures["casualties"]}
    assert shown == published_table(reader, "casualties").frame["Total"].drop("Total").to_dict()
    assert shown["civilian killed"] == "0"  # B's five killed civilians are not A's to publish
    assert shown["deminer killed"] == "<5" and shown["civilian injured"] == "<5"  # A's 3 and 4, at threshold 5


def test_an_account_without_any_grant_publishes_nothing(two_organisations) -> None:
    register, _, _ = two_organisations
    nobody = ScopedReader(register, Principal("nobody", "nobody", ()))
    for name in TABLES:
        frame = published_table(nobody, name).frame
        assert frame.empty or (frame.to_numpy() == "0").all(), name
    assert annual_report(register, YEAR, scope=nobody.principal).table("eo_destroyed").frame.loc["total", "total"] == 0


def test_the_public_scope_reads_every_organisation(two_organisations) -> None:
    register, _, _ = two_organisations
    public = published_table(ScopedReader(register, public_scope()), "eo-finds").frame
    assert public["quantity"].sum() == sum(ITEMS.values())


def test_the_command_line_reports_and_exports_in_the_operators_scope(gpkg_template: Path, tmp_path: Path) -> None:
    """``report`` covers every organisation; ``export --level public`` writes what anyone may see."""
    db = tmp_path / "national.gpkg"
    shutil.copy(gpkg_template, db)
    with Register.open(db) as register:
        with register.write("test", "one organisation") as w:
            org = w.add("organisation", {"name": "Org (fictional)", "organisation_type": "ngo"})
            w.add("eo_find", {"category": "ap_mine", "condition": "functional", "quantity": 3,
                              "found_on": dt.date(YEAR, 5, 2), "organisation_id": org.id, "model": "=1+1"},
                  square_m(50, 50, 1).centroid)
    runner = CliRunner()
    result = runner.invoke(app, ["report", "--year", str(YEAR), "--db", str(db), "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    eo = (tmp_path / "report" / "csv" / "eo_destroyed.csv").read_text(encoding="utf-8")
    assert eo.splitlines()[-1].split(",")[-1] == "3"
    for level, model in (("restricted", "'=1+1"), ("public", None)):
        out = tmp_path / f"{level}.csv"
        result = runner.invoke(app, ["export", str(out), "--db", str(db), "--entity", "eo_find", "--level", level])
        assert result.exit_code == 0, result.output
        with out.open(encoding="utf-8", newline="") as f:
            row = next(csv.DictReader(f))
        assert row.get("model") == model  # a restricted field: quoted in the community's file, absent from the public one


def test_an_export_holds_what_its_scope_may_read(two_organisations, tmp_path: Path) -> None:
    register, orgs, _ = two_organisations
    scoped = export(register, tmp_path / "a.gpkg", scope=_viewer_of(orgs["A"]))
    assert scoped.counts["hazard"] == 1 and scoped.counts["victim"] == 7 and scoped.counts["organisation"] == 2
    assert set(pyogrio.read_dataframe(tmp_path / "a.gpkg", layer="victim")["organisation_id"]) == {"ORG-000001"}
    assert "name" not in pyogrio.read_info(tmp_path / "a.gpkg", layer="victim")["fields"]  # no personal-data grant
    with pytest.raises(PersonalDataRefused):
        export(register, tmp_path / "p.gpkg", scope=_viewer_of(orgs["A"]), level=Sensitivity.PERSONAL)
    public = export(register, tmp_path / "public.gpkg", scope=public_scope())  # restricted asked, public given
    assert public.counts["hazard"] == 2 and public.metadata["sensitivity"] == "public"
    assert "description" not in pyogrio.read_info(tmp_path / "public.gpkg", layer="hazard")["fields"]


def test_a_table_that_cannot_be_published_is_refused_everywhere(register: Register) -> None:
    """Four deminers killed, each alone in their sex and age group: every cell would be exactly 1."""
    with register.write("test", "four alike") as w:
        org = w.add("organisation", {"name": "Org (fictional)", "organisation_type": "ngo"})
        accident = w.add("accident", {"occurred_on": dt.date(YEAR, 6, 1), "accident_type": "mine",
                                      "organisation_id": org.id}, square_m(300, 300, 1).centroid)
        for sex, age in (("female", 12), ("female", 40), ("male", 12), ("male", 40)):
            w.add("victim", {"accident_id": accident.id, "age": age, "sex": sex, "victim_group": "deminer",
                             "outcome": "killed", "organisation_id": org.id})
    reader = ScopedReader(register, OPERATOR)
    with pytest.raises(InvalidValue, match="cannot be published"):
        annual_report(register, YEAR, scope=OPERATOR)
    with pytest.raises(InvalidValue, match="cannot be published"):
        published_table(reader, "casualties")
    figures = dashboard(reader)
    assert figures["casualties"] == [] and "cannot be published" in figures["withheld"]["casualties"]
    assert figures["hazards_by_status"] == []  # the rest of the dashboard is still there
