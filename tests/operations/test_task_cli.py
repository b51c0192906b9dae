"""``mineaction task`` on both backends: the authority creates and issues, its operator (``--as``) accepts,
starts and reports progress, ``status`` shows the figures; another operator's account gets an error."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mineaction.access import AccountStore, Grant, Role
from mineaction.cli.app import app
from mineaction.errors import RecordNotFound
from mineaction.storage.register import Register
from tests.common import activity_values, add_organisation, hazard_values, square_m


@pytest.fixture
def world(register_target: str) -> dict[str, str]:
    with Register.create(register_target) as register:
        with register.write("nmac", "set up") as w:
            alpha, bravo = add_organisation(w, "Alpha (fictional)"), add_organisation(w, "Bravo (fictional)")
            hazard = w.add("hazard", hazard_values(alpha.id), square_m(0, 0, 100))
            w.add("hazard", hazard_values(alpha.id, blocked_land_use=["housing"]), square_m(500, 0, 300))
            activity = w.add("activity", activity_values(hazard.id, alpha.id))
            w.release(activity_id=activity.id, geometry=square_m(0, 0, 50), release_type="cleared", method="manual",
                      released_on="2025-05-01")
            w.add("eo_find", {"category": "uxo", "condition": "functional", "quantity": 1, "found_on": "2026-02-01",
                              "organisation_id": alpha.id}, square_m(20, 20, 1).centroid)
        accounts = AccountStore(register)
        accounts.create_account("op_alpha", "op_alpha long password", grants=(Grant(alpha.id, Role.REVIEWER),), by="t")
        accounts.create_account("op_bravo", "op_bravo long password", grants=(Grant(bravo.id, Role.REVIEWER),), by="t")
    return {"db": register_target, "alpha": alpha.id, "hazard": hazard.ref}


def _run(world: dict[str, str], *args: str):
    return CliRunner().invoke(app, ["task", *args, "--db", world["db"]])


def test_task_commands_follow_the_life_cycle_within_the_operator_scope(world: dict[str, str], tmp_path: Path) -> None:
    ranked = CliRunner().invoke(app, ["prioritise", "--db", world["db"], "--runs", "20", "--out", str(tmp_path)])
    assert ranked.exit_code == 0, ranked.output
    created = _run(world, "create", "--reference", "TO-7", "--activity", "clearance", "--operator", world["alpha"],
                   "--start", "2026-03-01", "--deadline", "2026-03-31", "--teams", "2", "--hazard", world["hazard"],
                   "--area-m2", "10000", "--ranking", str(tmp_path / "ranking.csv"), "--reason", "prioritised")
    assert created.exit_code == 0, created.output
    ref = created.output.split()[0]
    with Register.open(world["db"]) as register:
        task = register.get("task", ref)
    assert task["priority_rank"] in (1, 2) and f"hazard {world['hazard']} ranks" in task["priority_explanation"]
    assert _run(world, "issue", ref).exit_code == 0
    stranger = _run(world, "accept", ref, "--as", "op_bravo")
    assert stranger.exit_code != 0 and isinstance(stranger.exception, RecordNotFound)
    assert ref in str(stranger.exception)
    assert _run(world, "accept", ref, "--as", "op_alpha").exit_code == 0
    assert _run(world, "start", ref, "--as", "op_alpha").exit_code == 0
    suspended = _run(world, "suspend", ref, "--as", "op_alpha")
    assert suspended.exit_code != 0 and "reason" in str(suspended.exception)
    report = _run(world, "progress", "add", ref, "--on", "2026-03-05", "--method", "manual", "--cleared-m2", "2500",
                  "--team-days", "10", "--as", "op_alpha")
    assert report.exit_code == 0, report.output
    status = CliRunner().invoke(app, ["task", "status", "--as-of", "2026-04-10", "--db", world["db"], "--as", "op_alpha"])
    assert status.exit_code == 0, status.output
    row = next(line for line in status.output.splitlines() if "TO-7" in line)
    assert "25.0" in row and "250" in row  # % done, m² per team-day (the table may be cut to the terminal's width)
    assert f"overdue {ref}" in status.output and "10 days past its deadline" in status.output
    assert "TO-7" not in CliRunner().invoke(app, ["task", "status", "--db", world["db"], "--as", "op_bravo"]).output


def test_the_authority_reviews_a_residual_flag(world: dict[str, str]) -> None:
    refused = _run(world, "review-residual", "RCE-000001", "investigating", "--reason", "look", "--as", "op_alpha")
    assert refused.exit_code != 0 and "only the authority" in str(refused.exception)
    assert _run(world, "review-residual", "RCE-000001", "investigating", "--reason", "team sent").exit_code == 0
    dismissed = _run(world, "review-residual", "RCE-000001", "dismissed", "--reason", "item outside the part",
                     "--cause", "boundary_error")
    assert dismissed.exit_code == 0 and "dismissed" in dismissed.output
