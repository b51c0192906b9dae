"""Accounts in the library, on both backends: API tokens that are listed, revoked and expire; sign-in
throttles in the database, per source with back-off and per account from a source; one answer for
every refused sign-in; weak passwords refused; grants scoped to a region and what they read."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from mineaction.access import (
    AccountStore,
    Grant,
    NotAuthenticated,
    Principal,
    Role,
    ScopedReader,
    TooManyAttempts,
)
from mineaction.access.ratelimit import LoginThrottle, Rule
from mineaction.cli.app import app
from mineaction.errors import InvalidValue
from mineaction.storage.register import Register
from mineaction.storage.unit_of_work import utcnow
from tests.access.regions import REGIONAL, build_regions
from tests.web.seed import password

ORG = "org-alpha"


def _store(register: Register, **throttle: int) -> AccountStore:
    return AccountStore(register, throttle=LoginThrottle(register, **throttle))


def test_tokens_are_listed_expire_and_are_revoked_one_by_one(register: Register) -> None:
    accounts = AccountStore(register)
    account = accounts.create_account("script.owner", "a long enough secret", grants=(Grant(ORG, Role.VIEWER),), by="t")
    principal = accounts.principal(account)
    first, info = accounts.issue_token(principal, "QGIS")
    second, _ = accounts.issue_token(principal, "nightly export", dt.timedelta(days=7))
    assert info.expires_at - info.created_at == dt.timedelta(days=90)  # the default
    listed = accounts.tokens(account)
    assert [(t.name, (t.expires_at - t.created_at).days, t.state(utcnow())) for t in listed] == [
        ("QGIS", 90, "active"), ("nightly export", 7, "active")]
    assert accounts.token(first).username == accounts.token(second).username == "script.owner"

    revoked = accounts.revoke_token(listed[0].id, by="chief")
    assert revoked.state(utcnow()) == "revoked" and revoked.revoked_by == "chief"
    with pytest.raises(NotAuthenticated):
        accounts.token(first)
    assert accounts.token(second).account_id == account  # the other one still works

    with register.engine.begin() as connection:  # its expiry moved into the past
        table = register.tables["api_token"]
        connection.execute(table.update().where(table.c.id == listed[1].id)
                           .values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    with pytest.raises(NotAuthenticated, match="expired, revoked or unknown"):
        accounts.token(second)
    assert [t.state(utcnow()) for t in accounts.tokens(account)] == ["revoked", "expired"]
    with pytest.raises(InvalidValue):
        accounts.issue_token(principal, "forever", dt.timedelta(days=100_000))


def test_token_commands_create_list_and_revoke(register_target: str) -> None:
    with Register.open(register_target) as register:
        AccountStore(register).create_account("gis.user", "a long enough secret", by="t")
    runner = CliRunner()
    created = runner.invoke(app, ["token", "create", "gis.user", "--name", "QGIS", "--days", "30",
                                  "--db", register_target])
    assert created.exit_code == 0, created.output
    secret = created.output.split()[-1]
    assert secret.startswith("mat_")
    listed = runner.invoke(app, ["token", "list", "--db", register_target], env={"COLUMNS": "200"})
    assert "QGIS" in listed.output and "active" in listed.output
    revoked = runner.invoke(app, ["token", "revoke", "1", "--by", "chief", "--db", register_target])
    assert revoked.exit_code == 0, revoked.output
    with Register.open(register_target) as register, pytest.raises(NotAuthenticated):
        AccountStore(register).token(secret)
    missing = runner.invoke(app, ["token", "revoke", "99", "--db", register_target])
    assert missing.exit_code != 0 and "no API token 99" in str(missing.exception)


@pytest.mark.parametrize("weak", ["password1234", "qwertyuiop123", "aaaaaaaaaaaaaaaa", "Password2024!", "analyst12345"])
def test_guessable_passwords_are_refused_saying_what_to_do(register: Register, weak: str) -> None:
    with pytest.raises(InvalidValue, match="too easy to guess") as refused:
        AccountStore(register).create_account("analyst", weak, by="t")
    assert "passphrase" in refused.value.hint
    with pytest.raises(InvalidValue, match="too short"):
        AccountStore(register).create_account("analyst", "Xy7#", by="t")
    assert AccountStore(register).accounts() == []


def test_every_refused_sign_in_gives_one_answer(register: Register) -> None:
    accounts = _store(register, account_limit=2)
    accounts.create_account("known", password("known"), by="t")
    answers = []
    for username, secret in [("nobody", "whatever-it-is-1"), ("known", "wrong-password-1"),
                             ("known", "wrong-password-2"), ("known", password("known"))]:  # the last: locked
        with pytest.raises(NotAuthenticated) as refused:
            accounts.authenticate(username, secret, source="192.0.2.1")
        answers.append((str(refused.value), refused.value.hint))
    assert len(set(answers)) == 1


def test_an_account_locked_from_one_source_signs_in_from_another_and_an_administrator_unlocks(
    register: Register,
) -> None:
    accounts = _store(register, account_limit=3)
    admin = accounts.create_account("chief", password("chief"), grants=(Grant(None, Role.ADMINISTRATOR),), by="t")
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate("chief", "guessed-by-attacker", source="198.51.100.9")
    with pytest.raises(NotAuthenticated):  # locked from the attacker's address, right password or not
        accounts.authenticate("chief", password("chief"), source="198.51.100.9")
    assert accounts.authenticate("chief", password("chief"), source="192.0.2.10").account_id == admin
    assert accounts.unlock(account_id=admin) == 1
    assert accounts.authenticate("chief", password("chief"), source="198.51.100.9").account_id == admin


def test_a_source_failing_too_often_waits_longer_each_time(register: Register) -> None:
    accounts = _store(register, source_limit=3)
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate("nobody", "wrong-password-1", source="203.0.113.5")
    with pytest.raises(TooManyAttempts) as waiting:
        accounts.authenticate("nobody", "wrong-password-1", source="203.0.113.5")
    assert 50 <= waiting.value.retry_after_s <= 61
    with pytest.raises(NotAuthenticated):  # other sources are not slowed
        accounts.authenticate("nobody", "wrong-password-1", source="203.0.113.6")
    assert accounts.unlock(source="203.0.113.5") == 1
    with pytest.raises(InvalidValue, match="not an IP address"):
        accounts.unlock(source="203.0.113.5; DROP TABLE account")
    with pytest.raises(NotAuthenticated):
        accounts.authenticate("nobody", "wrong-password-1", source="203.0.113.5")


def test_the_back_off_doubles_and_is_capped() -> None:
    rule = Rule(3, dt.timedelta(minutes=1), dt.timedelta(minutes=1), dt.timedelta(minutes=5))
    now, counter, blocks = dt.datetime(2026, 1, 1), None, []
    for _ in range(5):
        for _ in range(3):
            counter = rule.step(counter, now)
        blocks.append(counter.blocked_until - now)
        assert rule.step(counter, now + dt.timedelta(seconds=1)) == counter  # no longer while blocked
        now = counter.blocked_until + dt.timedelta(seconds=1)
    assert [b.total_seconds() / 60 for b in blocks] == [1, 2, 4, 5, 5]
    for _ in range(2):
        counter = rule.step(counter, now + dt.timedelta(minutes=10))  # after a quiet spell: strikes forgotten
    assert counter.strikes == 0 and counter.blocked_until is None


def test_unlock_command_lifts_an_accounts_pause(register_target: str) -> None:
    with Register.open(register_target) as register:
        accounts = _store(register, account_limit=1)
        accounts.create_account("field.lead", password("field.lead"), by="t")
        with pytest.raises(NotAuthenticated):
            accounts.authenticate("field.lead", "wrong-password-1", source="192.0.2.3")
    result = CliRunner().invoke(app, ["unlock", "field.lead", "--db", register_target])
    assert result.exit_code == 0, result.output
    assert "1 pause" in result.output
    with Register.open(register_target) as register:
        assert _store(register, account_limit=1).authenticate("field.lead", password("field.lead"), source="192.0.2.3")
    unknown = CliRunner().invoke(app, ["unlock", "nobody", "--db", register_target])
    assert unknown.exit_code != 0 and "no account named 'nobody'" in str(unknown.exception)


def test_a_regional_grant_allows_its_subtree_only() -> None:
    principal = Principal("a", "north", (Grant("org-1", Role.REVIEWER, region="RN"),), {"RN": frozenset({"RN", "RN-1"})})
    assert principal.allows(Role.VIEWER, "org-1", admin_pcode="RN-1")
    assert principal.allows(Role.REVIEWER, "org-1", admin_pcode="RN")
    assert not principal.allows(Role.VIEWER, "org-1", admin_pcode="RS")
    assert not principal.allows(Role.VIEWER, "org-1")  # a record in no admin area is in no region
    assert not principal.allows(Role.VIEWER, "org-2", admin_pcode="RN")
    assert principal.organisations(Role.VIEWER) == frozenset({"org-1"})
    everywhere = Principal("b", "chief", (Grant(None, Role.ADMINISTRATOR, region="RN"),))
    assert everywhere.organisations(Role.ADMINISTRATOR) == frozenset()  # never "all" on a regional grant


def test_regional_centres_read_only_their_own_subtree(register: Register) -> None:
    regions = build_regions(register)
    accounts = AccountStore(register)
    seen = {}
    for username in REGIONAL:
        reader = ScopedReader(register, accounts.principal(regions.accounts[username]))
        hazards = reader.select("hazard", limit=None)
        victims = reader.select("victim", limit=None).items
        seen[username] = (
            sorted(s.record.ref for s in hazards.items), hazards.total,
            sorted(s.record.values["name"] or "withheld" for s in victims),
            sum(row["count"] for row in reader.aggregate("activity", ["status"])),
        )
    h = regions.hazards
    assert seen["north"] == (sorted([h["RN-1"], h["RN"]]), 2, ["Person in RN-1"], 2)
    assert seen["north_sub"] == ([h["RN-1"]], 1, ["Person in RN-1"], 1)
    assert seen["south"] == ([h["RS"]], 1, ["Person in RS"], 1)
    assert seen["region_admin"] == (sorted([h["RN-1"], h["RN"]]), 2, ["withheld"], 2)  # no personal-data flag
    north = ScopedReader(register, accounts.principal(regions.accounts["north"]))
    with pytest.raises(Exception, match="no hazard"):
        north.get("hazard", h["RS"])


def test_region_grants_are_checked_logged_and_revoked_as_listed(register: Register) -> None:
    regions = build_regions(register, with_accounts=False)
    accounts = AccountStore(register)
    account = accounts.create_account("regional.hub", password("regional.hub"), by="t")
    with pytest.raises(InvalidValue, match="no admin area with pcode XX9"):
        accounts.grant(account, Grant(regions.organisation, Role.VIEWER, region="XX9"), by="t")
    accounts.grant(account, Grant(regions.organisation, Role.VIEWER, region="RS"), by="t")
    assert accounts.account(account).grants == (Grant(regions.organisation, Role.VIEWER, region="RS"),)
    with pytest.raises(Exception, match="holds no viewer grant"):
        accounts.revoke(account, Grant(regions.organisation, Role.VIEWER), by="t")  # everywhere: not held
    accounts.revoke(account, Grant(regions.organisation, Role.VIEWER, region="RS"), by="t")
    with register.engine.connect() as connection:
        log = connection.execute(sa.select(register.tables["permission_change"].c.state_after)
                                 .order_by(register.tables["permission_change"].c.id)).scalars().all()
    assert log[-2]["grants"] == [{"organisation_id": regions.organisation, "role": "viewer", "personal_data": False,
                                  "region": "RS"}]
    assert log[-1]["grants"] == []


def test_counters_quiet_for_longer_than_the_longest_block_are_deleted(register: Register) -> None:
    throttle = LoginThrottle(register, max_block=dt.timedelta(hours=1))
    throttle.failed("192.0.2.1", None)
    table = register.tables["login_throttle"]
    with register.engine.begin() as connection:
        connection.execute(table.update().values(last_failure_at=utcnow() - dt.timedelta(hours=2)))
    throttle.failed("192.0.2.2", None)
    with register.engine.connect() as connection:
        assert connection.execute(sa.select(table.c.source)).scalars().all() == ["192.0.2.2"]
