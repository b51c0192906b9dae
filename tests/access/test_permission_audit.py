"""Every change of an account or its grants is in the append-only permission log,
with who, when, the account and its grants before and after, committed with the change."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from mineaction.access import AccessDenied, AccountStore, Grant, Principal, Role, audit
from mineaction.cli.app import app
from mineaction.errors import ConflictError, RecordNotFound, StorageError
from mineaction.storage.access_schema import PERMISSION_LOG
from mineaction.storage.register import Register

ORG = "org-alpha"


def _grant(role: str, organisation_id: str | None = ORG, personal_data: bool = False) -> dict[str, object]:
    return {"organisation_id": organisation_id, "role": role, "personal_data": personal_data}


def test_each_permission_change_is_logged_with_the_grants_before_and_after(register: Register) -> None:
    accounts = AccountStore(register)
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    account = accounts.create_account("field.officer", "a long enough secret", grants=(Grant(ORG, Role.VIEWER),),
                                      by="chief")
    accounts.grant(account, Grant(ORG, Role.VIEWER, personal_data=True), by="chief")
    accounts.revoke(account, Grant(ORG, Role.VIEWER), by="deputy")
    accounts.set_active(account, False, by="deputy")
    accounts.set_active(account, True, by="chief")

    log = list(reversed(audit.entries(register, "permissions", username="field.officer")))
    assert [(e["action"], e["changed_by"]) for e in log] == [
        ("create", "chief"), ("grant", "chief"), ("revoke", "deputy"), ("disable", "deputy"), ("enable", "chief"),
    ]
    assert all(e["account_id"] == account and started <= e["changed_at"] for e in log)
    assert [e["changed_at"] for e in log] == sorted(e["changed_at"] for e in log)
    create, grant, revoke, disable, enable = log
    assert create["state_before"] is None
    assert create["state_after"] == {"active": True, "grants": [_grant("viewer")]}
    assert grant["state_before"] == create["state_after"]
    assert grant["state_after"]["grants"] == [_grant("viewer"), _grant("viewer", personal_data=True)]
    assert revoke["state_after"]["grants"] == [_grant("viewer", personal_data=True)]
    assert disable["state_after"] == {"active": False, "grants": [_grant("viewer", personal_data=True)]}
    assert enable["state_before"]["active"] is False and enable["state_after"]["active"] is True


def test_a_refused_change_leaves_neither_the_change_nor_a_log_entry(register: Register) -> None:
    accounts = AccountStore(register)
    account = accounts.create_account("analyst", "a long enough secret", grants=(Grant(ORG, Role.VIEWER),), by="chief")
    with pytest.raises(RecordNotFound, match="holds no reviewer grant in organisation org-alpha"):
        accounts.revoke(account, Grant(ORG, Role.REVIEWER), by="chief")
    with pytest.raises(ConflictError):
        accounts.create_account("analyst", "another long secret", by="chief")
    with pytest.raises(RecordNotFound):
        accounts.grant("no-such-account", Grant(ORG, Role.VIEWER), by="chief")
    assert [e["action"] for e in audit.entries(register, "permissions")] == ["create"]
    assert accounts.account(account).grants == (Grant(ORG, Role.VIEWER),)


def test_the_permission_log_cannot_be_changed_or_emptied(register: Register) -> None:
    AccountStore(register).create_account("analyst", "a long enough secret", by="chief")
    table = register.tables[PERMISSION_LOG]
    for statement in (table.update().values(changed_by="someone else"), table.delete()):
        with pytest.raises((sa.exc.DatabaseError, StorageError), match="append-only"), register.engine.begin() as c:
            c.execute(statement)
    assert [e["changed_by"] for e in audit.entries(register, "permissions")] == ["chief"]


def test_only_programme_wide_administrators_may_read_the_audit_logs() -> None:
    audit.check_may_read(Principal("a", "chief", (Grant(None, Role.ADMINISTRATOR),)))
    for grants in [(Grant(ORG, Role.ADMINISTRATOR, personal_data=True),), (Grant(None, Role.REVIEWER, True),)]:
        with pytest.raises(AccessDenied, match="programme-wide administrators"):
            audit.check_may_read(Principal("b", "someone", grants))


def test_audit_command_lists_permission_changes_and_refuses_an_unknown_log(register_target: str) -> None:
    with Register.open(register_target) as register:
        accounts = AccountStore(register)
        account = accounts.create_account("analyst", "a long enough secret", grants=(Grant(ORG, Role.VIEWER),),
                                          by="chief")
        accounts.grant(account, Grant(None, Role.REVIEWER), by="deputy")
    runner = CliRunner()
    shown = runner.invoke(app, ["audit", "permissions", "--db", register_target], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    lines = [line for line in shown.output.splitlines() if "analyst" in line]
    assert len(lines) == 2
    assert "deputy" in lines[0] and "grant" in lines[0] and "viewer@org-alpha, reviewer@all" in lines[0]
    assert "chief" in lines[1] and "(new account)" in lines[1]
    wrong = runner.invoke(app, ["audit", "logins", "--db", register_target])
    assert wrong.exit_code != 0 and "no audit log 'logins'" in str(wrong.exception)
