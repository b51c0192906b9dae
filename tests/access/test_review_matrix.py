"""Every entity x role x action through the review queue, on both backends (the library-level access API).

Organisations A and B own a record of every entity (``tests/web/seed.py``);
B's records are at version 2, changed by someone A must never hear of. Roles
are granted in organisation A or programme-wide. Three things are asserted:

* nobody scoped to A, and no programme-wide account below the field reporter
  role, can submit a report on B's record, named by id or by ref;
* a report on B's record that is already in the queue (as the hole let one in)
  is never applied by anyone without the right to change B's record now: the
  record keeps its version and values, and the refusal names no one, no time
  and no reason from B's history; the note a conflict leaves in the queue
  names versions only;
* the allowed cases apply: add, update, delete and release of every entity
  by the roles that may.

Each refused cross-organisation attempt is counted; the totals are asserted.
"""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import shapely

from mineaction.access import AccessDenied, Grant, Principal, Role, ScopedEditor, ScopedReviewQueue
from mineaction.errors import ConflictError, RecordNotFound
from mineaction.io.importer import import_file
from mineaction.storage import review
from mineaction.storage.register import Register
from tests.common import hazard_values, square_m
from tests.conftest import postgis_database
from tests.web.seed import OWNED, Seeded, seed

PROGRAMME_WIDE = ("organisation", "admin_area", "place")
ENTITIES = (*PROGRAMME_WIDE, *OWNED)
B_EDITOR, B_REASON = "bravo.archivist", "Bravo's confidential survey revision"
REFUSED = (AccessDenied, RecordNotFound)
SOURCE = review.ImportSource(name="crafted", sha256="c" * 64, format="web", mapping="direct")
#: a field each entity's update changes, and the value it takes
UPDATES: dict[str, tuple[str, Any]] = {
    "organisation": ("acronym", "UPD"), "admin_area": ("name_uk", "Оновлено"), "place": ("name_uk", "Оновлено"),
    "hazard": ("description", "updated"), "activity": ("team", "updated"), "released_part": ("released_on", "2025-05-06"),
    "eo_find": ("model", "updated"), "accident": ("description", "updated"), "victim": ("notes", "updated"),
    "eore_session": ("girls", 9), "qm_activity": ("description", "updated"),
}


def _principal(role: Role, organisation_id: str | None) -> Principal:
    scope = "all" if organisation_id is None else "A"
    return Principal(f"{role.code}-{scope}", f"{role.code}@{scope}", (Grant(organisation_id, role),))


@dataclass
class World:
    register: Register
    seeded: Seeded
    scoped: dict[Role, Principal]  # a grant in organisation A
    everywhere: dict[Role, Principal]  # a programme-wide grant

    @property
    def a(self) -> str:
        return self.seeded.orgs["A"]

    @property
    def b(self) -> str:
        return self.seeded.orgs["B"]

    def queue(self, principal: Principal) -> ScopedReviewQueue:
        return ScopedReviewQueue(self.register, principal, "matrix test")

    def state(self, entity_name: str, record_id: str) -> tuple[int, dict[str, Any], bytes | None]:
        r = self.register.get(entity_name, record_id)
        return r.version, r.values, None if r.geometry is None else shapely.to_wkb(r.geometry)

    def queued(self) -> list[review.FieldReport]:
        return review.page(self.register, organisations=None, status=None, limit=None)


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if request.param == "gpkg":
        path = tmp_path_factory.mktemp("matrix") / "register.gpkg"
        shutil.copy(request.getfixturevalue("gpkg_template"), path)
        place = nullcontext(str(path))
    else:
        place = postgis_database(request, "mineaction_matrix")
    with place as target:
        seeded = seed(target)
        with Register.open(target) as register:
            with register.write(B_EDITOR, B_REASON) as w:
                for name, record_id in seeded.records["B"].items():
                    w.update(name, record_id, base_version=1, values={})
            a = seeded.orgs["A"]
            yield World(register, seeded, {role: _principal(role, a) for role in Role},
                        {role: _principal(role, None) for role in Role})


# -- values of a new record of each entity -------------------------------------------------------------------------

def _new(world: World, entity_name: str, n: int) -> tuple[dict[str, Any], shapely.Geometry | None]:
    """Values and geometry of a new record of organisation A (or programme-wide), the ``n``-th of the test."""
    a, records = world.a, world.seeded.records["A"]
    point = square_m(6000 + 40 * n, 6000, 1).centroid
    return {
        "organisation": ({"name": f"New Operator {n} (fictional)", "organisation_type": "ngo"}, None),
        "admin_area": ({"pcode": f"ZZ01{n:02d}", "name_en": f"Test Raion {n}", "level": 2, "parent_pcode": "ZZ01"},
                       square_m(9000 + 300 * n, 9000, 200)),
        "place": ({"name_en": f"Testhamlet {n}"}, point),
        "hazard": ({**hazard_values(a, description=f"new {n}"), "reported_on": "2025-03-01"},
                   square_m(6000 + 500 * n, 7000, 300)),
        "activity": ({"hazard_id": records["hazard"], "activity_type": "clearance", "status": "completed",
                      "started_on": "2025-04-01", "team": f"team {n}", "organisation_id": a}, None),
        "eo_find": ({"category": "ap_mine", "condition": "functional", "quantity": n + 1, "found_on": "2025-05-02",
                     "organisation_id": a}, point),
        "accident": ({"occurred_on": "2024-06-01", "accident_type": "mine", "description": f"new {n}",
                      "organisation_id": a}, point),
        "victim": ({"accident_id": records["accident"], "name": f"Reported Person {n}", "sex": "female",
                    "victim_group": "civilian", "outcome": "injured", "organisation_id": a}, None),
        "eore_session": ({"held_on": "2025-02-01", "eore_method": "school", "girls": n,
                          "organisation_id": a}, point),
        "qm_activity": ({"qm_type": "qa_visit", "held_on": "2025-05-03", "result": "pass",
                         "description": f"new {n}", "organisation_id": a}, None),
    }[entity_name]


def _release(world: World, org: str, activity_key: str, n: int) -> tuple[dict[str, Any], shapely.Geometry]:
    """A release by ``activity_key`` (id or ref) of a 40 m square of its organisation's seeded hazard."""
    x = 0 if org == "A" else 3000
    return ({"activity_id": activity_key, "release_type": "cleared", "method": "manual", "released_on": "2025-05-04"},
            square_m(x + 120 + 60 * (n % 4), 120 + 60 * (n // 4), 40))


def _may_submit(principal: Principal, entity_name: str) -> bool:
    role, everywhere = principal.grants[0].role, principal.grants[0].organisation_id is None
    return role >= Role.FIELD_REPORTER and (everywhere or entity_name not in PROGRAMME_WIDE)


def _may_approve(principal: Principal, entity_name: str) -> bool:
    role, everywhere = principal.grants[0].role, principal.grants[0].organisation_id is None
    if entity_name in PROGRAMME_WIDE:
        return everywhere and role is Role.ADMINISTRATOR
    return role >= Role.REVIEWER


# -- B's records: never reported on, never changed -----------------------------------------------------------------

def _attempts_on_b(world: World, entity_name: str) -> list[tuple[str, dict[str, Any], Any, str | None, int | None]]:
    """(action, values, geometry, target, base version) of every report on B's record, by id and by ref."""
    record = world.register.get(entity_name, world.seeded.records["B"][entity_name])
    out: list[tuple[str, dict[str, Any], Any, str | None, int | None]] = []
    for key in (record.id, record.ref):
        out.append(("update", {"organisation_id": world.a} if entity_name in OWNED else {"name_uk": "A"}, None, key,
                    record.version))
        out.append(("delete", {}, None, key, record.version))
    if entity_name in OWNED:
        values, geometry = _new(world, entity_name, 99) if entity_name != "released_part" else ({}, None)
        if values:
            out.append(("add", {**values, "organisation_id": world.b}, geometry, None, None))
    if entity_name == "released_part":
        activity = world.register.get("activity", world.seeded.records["B"]["activity"])
        for n, key in enumerate((activity.id, activity.ref)):
            values, geometry = _release(world, "B", key, n)
            out.append(("release", values, geometry, None, None))
    return out


@pytest.mark.parametrize("entity_name", OWNED)
def test_no_one_scoped_elsewhere_submits_a_report_on_another_organisations_record(world: World,
                                                                                   entity_name: str) -> None:
    before = world.state(entity_name, world.seeded.records["B"][entity_name])
    queued = len(world.queued())
    refused = 0
    principals = [*world.scoped.values(), world.everywhere[Role.PUBLIC], world.everywhere[Role.VIEWER]]
    for principal in principals:
        for action, values, geometry, target, base in _attempts_on_b(world, entity_name):
            with pytest.raises(REFUSED) as refusal:
                world.queue(principal).submit(entity_name, action, values, geometry, target_id=target,
                                              base_version=base, reason="probe")
            assert B_EDITOR not in str(refusal.value) and B_REASON not in str(refusal.value)
            refused += 1
    assert world.state(entity_name, world.seeded.records["B"][entity_name]) == before
    assert len(world.queued()) == queued
    # 7 principals; updates and deletes by id and by ref, then an add naming B, or two releases by B's activity
    assert refused == 7 * (5 if entity_name != "released_part" else 6)
    _tally(world, "submit", refused)


def _crafted(world: World, entity_name: str, label: str) -> list[str]:
    """Reports on B's record that A's field reporter got into the queue before the hole was closed.

    Owned by A and naming A as the new owner, as in the issue; each at B's
    current version and at the stale one, by id and by ref.
    """
    record = world.register.get(entity_name, world.seeded.records["B"][entity_name])
    submissions = []
    for key in (record.id, record.ref):
        for base in (record.version, 1):
            submissions.append(review.Submission(
                entity_name, "update", {"organisation_id": world.a}, None, f"{label}-u-{key}-{base}",
                f"{label} update", target_id=key, base_version=base, organisation_id=world.a))
            submissions.append(review.Submission(
                entity_name, "delete", {}, None, f"{label}-d-{key}-{base}", f"{label} delete", target_id=key,
                base_version=base, organisation_id=world.a))
    if entity_name == "released_part":
        activity = world.register.get("activity", world.seeded.records["B"]["activity"])
        for n, key in enumerate((activity.id, activity.ref)):
            values, geometry = _release(world, "B", key, n)
            submissions.append(review.Submission(
                entity_name, "release", values, shapely.to_wkb(geometry, output_dimension=2), f"{label}-r-{key}",
                f"{label} release", organisation_id=world.a))
    queued = review.submit(world.register, SOURCE, [submissions], user="reporter@A", reason="probe")
    assert queued is not None and queued.submitted == len(submissions)
    return [r.ref for r in review.page(world.register, organisations=None, import_id=queued.import_id, limit=None)]


@pytest.mark.parametrize("entity_name", OWNED)
def test_a_report_on_another_organisations_record_is_never_applied(world: World, entity_name: str) -> None:
    record_id = world.seeded.records["B"][entity_name]
    before = world.state(entity_name, record_id)
    refs = _crafted(world, entity_name, f"attack-{entity_name}")
    refused = 0
    principals = [*world.scoped.values(), *(world.everywhere[r] for r in (Role.PUBLIC, Role.VIEWER, Role.FIELD_REPORTER))]
    for principal in principals:
        for ref in refs:
            with pytest.raises(REFUSED) as refusal:
                world.queue(principal).approve([ref], reason="looks fine")
            text = str(refusal.value)
            assert B_EDITOR not in text and B_REASON not in text, text
            refused += 1
    assert world.state(entity_name, record_id) == before
    assert {r.status for r in review.page(world.register, organisations=None, refs=refs, limit=None)} == {"submitted"}
    assert refused == len(principals) * len(refs) == 8 * (8 if entity_name != "released_part" else 10)
    _tally(world, "approve", refused)

    # a programme-wide reviewer may: the stale ones conflict, and the note kept in A's queue names versions only
    stale = [r.ref for r in review.page(world.register, organisations=None, refs=refs, limit=None) if r.base_version == 1]
    outcome = world.queue(world.everywhere[Role.REVIEWER]).approve(stale, reason="checked")
    assert [ref for ref, _ in outcome.conflicts] == stale and B_EDITOR in outcome.conflicts[0][1]
    for shown in world.queue(world.scoped[Role.VIEWER]).list(status="conflict", limit=1000):
        assert B_EDITOR not in (shown.report.review_note or "") and B_REASON not in (shown.report.review_note or "")
    assert world.state(entity_name, record_id) == before
    world.queue(world.everywhere[Role.REVIEWER]).reject([r for r in refs if r not in stale], reason="probe")


def test_a_record_moved_away_after_the_report_is_not_applied_by_its_old_organisation(world: World) -> None:
    """Approval decides on the target as it is at approval, not as it was when the report came in."""
    values, geometry = _new(world, "hazard", 40)
    hazard = ScopedEditor(world.register, world.everywhere[Role.ADMINISTRATOR]).create(
        "hazard", values, geometry, crs="EPSG:4326", reason="setup")
    shown = world.queue(world.scoped[Role.FIELD_REPORTER]).submit(
        "hazard", "update", {"description": "A's edit"}, target_id=hazard.ref, base_version=1, reason="edit")
    assert shown.report.organisation_id == world.a
    ScopedEditor(world.register, world.everywhere[Role.REVIEWER]).update(
        "hazard", hazard.id, base_version=1, values={"organisation_id": world.b}, geometry=None, crs="EPSG:4326",
        reason=B_REASON)
    before = world.state("hazard", hazard.id)
    for role in (Role.REVIEWER, Role.ADMINISTRATOR):
        with pytest.raises(RecordNotFound) as refusal:
            world.queue(world.scoped[role]).approve([shown.report.ref], reason="ours")
        assert B_REASON not in str(refusal.value)
        _tally(world, "approve", 1)
    assert world.state("hazard", hazard.id) == before
    assert world.queue(world.scoped[Role.VIEWER]).get(shown.report.ref).report.status == "submitted"


def test_moving_a_record_to_another_organisation_needs_a_programme_wide_grant(world: World) -> None:
    values, geometry = _new(world, "hazard", 41)
    reviewer_a = world.scoped[Role.REVIEWER]
    hazard = ScopedEditor(world.register, reviewer_a).create("hazard", values, geometry, crs="EPSG:4326", reason="x")
    both = Principal("both", "reviewer@A+B", (Grant(world.a, Role.REVIEWER), Grant(world.b, Role.REVIEWER)))
    with pytest.raises(AccessDenied, match="programme-wide"):  # rights in both organisations are not enough
        ScopedEditor(world.register, both).update("hazard", hazard.id, base_version=1, values={"organisation_id": world.b},
                                                  geometry=None, crs="EPSG:4326", reason="hand over")
    with pytest.raises(AccessDenied, match="programme-wide"):
        world.queue(Principal("both-r", "reporter@A+B", (Grant(world.a, Role.FIELD_REPORTER),
                                                          Grant(world.b, Role.FIELD_REPORTER)))).submit(
            "hazard", "update", {"organisation_id": world.b}, target_id=hazard.id, base_version=1, reason="hand over")
    move = world.queue(world.everywhere[Role.FIELD_REPORTER]).submit(
        "hazard", "update", {"organisation_id": world.b}, target_id=hazard.ref, base_version=1, reason="hand over")
    for principal in (reviewer_a, both):
        with pytest.raises(AccessDenied, match="programme-wide"):
            world.queue(principal).approve([move.report.ref], reason="ok")
        _tally(world, "approve", 1)
    assert world.state("hazard", hazard.id)[0] == 1
    world.queue(world.everywhere[Role.REVIEWER]).approve([move.report.ref], reason="ok")
    assert world.register.get("hazard", hazard.id)["organisation_id"] == world.b


# -- the allowed cases ---------------------------------------------------------------------------------------------

def _principals(world: World) -> list[Principal]:
    """Every role, A first, least first: so the first principal that may act is the one that does."""
    return [*world.scoped.values(), *world.everywhere.values()]


def _submit_as_each(world: World, entity_name: str, action: str, values: dict[str, Any], geometry: Any,
                    target: str | None = None, base: int | None = None) -> str:
    """Every principal tries to submit the same report; those that may not are refused. Returns its ref."""
    ref = None
    for principal in _principals(world):
        attempt = functools.partial(world.queue(principal).submit, entity_name, action, values, geometry,
                                    target_id=target, base_version=base, reason=f"{action} report")
        if not _may_submit(principal, entity_name):
            with pytest.raises(REFUSED):
                attempt()
        elif ref is None:
            shown = attempt()
            ref = shown.report.ref
            expected = None if entity_name in PROGRAMME_WIDE else world.a
            assert shown.report.organisation_id == expected and shown.report.submitted_by == principal.username
        else:  # allowed, and found to repeat the report already queued
            with pytest.raises(ConflictError, match="already in the queue"):
                attempt()
    assert ref is not None
    return ref


def _approve_as_each(world: World, entity_name: str, ref: str, unchanged: Any) -> review.ReviewOutcome:
    """Every principal tries to approve; refused ones leave the register as ``unchanged()`` finds it."""
    before = unchanged()
    for principal in _principals(world):
        if _may_approve(principal, entity_name):
            outcome = world.queue(principal).approve([ref], reason="checked")
            assert outcome.approved == [ref], outcome
            return outcome
        with pytest.raises(REFUSED):
            world.queue(principal).approve([ref], reason="checked")
        assert unchanged() == before
    raise AssertionError(f"no one approved {ref}")


@pytest.mark.parametrize("entity_name", ENTITIES)
def test_each_action_applies_when_the_roles_allow_it(world: World, entity_name: str) -> None:
    n = ENTITIES.index(entity_name)
    viewer = world.queue(world.scoped[Role.VIEWER] if entity_name in OWNED else world.everywhere[Role.VIEWER])
    if entity_name == "released_part":
        activity = world.register.get("activity", world.seeded.records["A"]["activity"])
        values, geometry = _release(world, "A", activity.ref, 8 + n)
        ref = _submit_as_each(world, entity_name, "release", values, geometry)
    else:
        values, geometry = _new(world, entity_name, n)
        ref = _submit_as_each(world, entity_name, "add", values, geometry)
    assert ref in [s.report.ref for s in viewer.list(limit=1000)]
    _approve_as_each(world, entity_name, ref, lambda: len(world.register.records(entity_name)))
    record_id = viewer.get(ref).report.record_id
    created = world.register.get(entity_name, record_id)
    assert created.version == 1 and created.values.get("organisation_id") == (world.a if entity_name in OWNED else None)

    field, value = UPDATES[entity_name]
    ref = _submit_as_each(world, entity_name, "update", {field: value}, None, created.ref, 1)
    _approve_as_each(world, entity_name, ref, lambda: world.state(entity_name, record_id))
    updated = world.register.get(entity_name, record_id)
    assert updated.version == 2 and str(updated[field]) == str(value)

    ref = _submit_as_each(world, entity_name, "delete", {}, None, record_id, 2)
    _approve_as_each(world, entity_name, ref, lambda: world.state(entity_name, record_id))
    with pytest.raises(RecordNotFound):
        world.register.get(entity_name, record_id)


# -- listing and personal data -------------------------------------------------------------------------------------

def test_the_queue_is_paged_in_sql_within_the_callers_organisations(world: World) -> None:
    mine = []
    for n in range(5):
        for org in ("A", "B"):
            values = {"held_on": "2025-02-02", "eore_method": "school", "boys": 100 + n,
                      "organisation_id": world.seeded.orgs[org]}
            shown = world.queue(world.everywhere[Role.FIELD_REPORTER]).submit(
                "eore_session", "add", values, square_m(7000 + 50 * n, 7000, 1).centroid, reason="paging")
            if org == "A":
                mine.append(shown.report.ref)
    queue = world.queue(world.scoped[Role.VIEWER])
    everything = [s.report for s in queue.list(limit=1000)]
    assert all(r.organisation_id == world.a for r in everything)
    listed = [r.ref for r in everything]
    assert set(mine) <= set(listed)
    start = listed.index(mine[0])
    assert [s.report.ref for s in queue.list(limit=2, offset=start)] == listed[start:start + 2]
    assert not world.queue(world.scoped[Role.PUBLIC]).list(limit=1000)
    with pytest.raises(RecordNotFound):
        world.queue(world.scoped[Role.REVIEWER]).get(  # B's report is "not found" for A
            next(s.report.ref for s in world.queue(world.everywhere[Role.VIEWER]).list(limit=1000)
                 if s.report.organisation_id == world.b))


def test_personal_fields_are_withheld_as_in_every_other_read(world: World) -> None:
    values, _ = _new(world, "victim", 30)
    shown = world.queue(world.scoped[Role.FIELD_REPORTER]).submit("victim", "add", values, reason="casualty")
    assert "name" in shown.withheld and shown.report.values["name"] is None
    assert world.queue(world.scoped[Role.REVIEWER]).get(shown.report.ref).report.values["name"] is None
    granted = Principal("pd", "personal@A", (Grant(world.a, Role.VIEWER, personal_data=True),))
    assert world.queue(granted).get(shown.report.ref).report.values["name"] == values["name"]


def test_an_import_records_each_reports_own_organisation(world: World, tmp_path: Path) -> None:
    """Imports (the CLI) queue each report for the organisation of the record it brings, named by name or id;
    a report depending on another of the same import without one takes its parent's."""
    features = [{"type": "Feature", "geometry": shapely.geometry.mapping(square_m(7500 + 50 * i, 7500, 1).centroid),
                 "properties": {"held_on": "2025-02-03", "eore_method": "school", "men": 40 + i,
                                "organisation_id": org}}
                for i, org in enumerate(["Alpha Demining (fictional)", world.b])]
    path = tmp_path / "eore_session.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = import_file(world.register, path, user="importer", reason="import", entity="eore_session")
    assert result.queued is not None and result.queued.submitted == 2, result.report.table()
    owners = [r.organisation_id for r in review.page(world.register, organisations=None,
                                                      import_id=result.queued.import_id)]
    assert owners == [world.a, world.b]
    assert len(world.queue(world.scoped[Role.REVIEWER]).list(import_id=result.queued.import_id)) == 1

    accident = review.Submission("accident", "add", {"occurred_on": "2025-02-01", "accident_type": "mine",
                                                     "organisation_id": world.b},
                                 shapely.to_wkb(square_m(3300, 300, 1).centroid, output_dimension=2), "imp-acc", "row 1")
    victim = review.Submission("victim", "add", {"accident_id": None, "sex": "male", "victim_group": "civilian",
                                                 "outcome": "injured"}, None, "imp-vic", "row 2",
                               depends_on={"accident_id": "imp-acc"})
    queued = review.submit(world.register, SOURCE, [[accident, victim]], user="importer", reason="import")
    assert queued is not None
    owners = [r.organisation_id for r in review.page(world.register, organisations=None, import_id=queued.import_id)]
    assert owners == [world.b, world.b]


# -- the tally -----------------------------------------------------------------------------------------------------

_TALLY: dict[tuple[int, str], int] = {}


def _tally(world: World, kind: str, n: int) -> None:
    key = (id(world), kind)
    _TALLY[key] = _TALLY.get(key, 0) + n


def test_zz_cross_organisation_attempts_were_refused(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last in the module for its backend: how many cross-organisation attempts were tried and refused."""
    submitted, approved = _TALLY.get((id(world), "submit"), 0), _TALLY.get((id(world), "approve"), 0)
    with capsys.disabled():
        print(f"\ncross-organisation attempts refused on {world.register.dialect}: "
              f"{submitted} submissions, {approved} approvals")
    assert submitted and approved
