"""Accounts, grants, sessions and API tokens, stored in the register's database.

Every change of an account or its grants (creation, grant, revocation,
disabling) appends the account's state before and after to the append-only
``permission_change`` log in the same transaction: no change without its
audit entry, no entry for a change that rolled back.

Failed sign-ins count per account; after ``max_failures`` in a row the
account is locked for ``lockout`` (a correct password does not open a locked
account). Session ids and tokens are random 256-bit values handed out once;
only their SHA-256 digests are stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from mineaction.access.errors import NotAuthenticated, TooManyAttempts
from mineaction.access.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from mineaction.access.roles import Grant, Principal, Role
from mineaction.errors import ConflictError, InvalidValue, RecordNotFound
from mineaction.storage import AccountRow, AccountTables, CredentialRow, GrantRow, Register, utcnow

__all__ = ["Account", "AccountStore", "Session"]


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    display_name: str
    active: bool
    locked_until: dt.datetime | None
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class Session:
    """A signed-in browser: the principal and the CSRF token its writes must echo."""

    principal: Principal
    csrf_token: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _grant_row(grant: Grant) -> GrantRow:
    return GrantRow(grant.organisation_id, grant.role.code, grant.personal_data)


def _grants(rows: tuple[GrantRow, ...]) -> tuple[Grant, ...]:
    return tuple(Grant(g.organisation_id, Role.parse(g.role), g.personal_data) for g in rows)


def _account(row: AccountRow, grants: tuple[GrantRow, ...]) -> Account:
    return Account(row.id, row.username, row.display_name, row.active, row.locked_until, _grants(grants))


class AccountStore:
    """Account operations over one register's access tables."""

    def __init__(
        self,
        register: Register,
        *,
        max_failures: int = 5,
        lockout: dt.timedelta = dt.timedelta(minutes=15),
        session_ttl: dt.timedelta = dt.timedelta(hours=8),
    ) -> None:
        self.register = register
        self.tables = AccountTables(register)
        self.max_failures = max_failures
        self.lockout = lockout
        self.session_ttl = session_ttl
        dummy_hash()  # ready before the first login, whose timing must not tell unknown accounts apart

    # -- accounts and grants ------------------------------------------------

    def create_account(
        self, username: str, password: str, *, display_name: str = "", grants: tuple[Grant, ...] = (), by: str
    ) -> str:
        """Create an account with its grants; refuse a taken username."""
        username = username.strip()
        if not username:
            raise InvalidValue("an account needs a username")
        account_id = uuid.uuid4().hex
        record = {
            "id": account_id,
            "username": username,
            "display_name": display_name or username,
            "password_hash": hash_password(password),
            "active": True,
            "failed_logins": 0,
            "created_at": utcnow(),
        }
        with self.tables.change(account_id, "create", by, new=True) as change:
            if change.username_taken(username):
                raise ConflictError(f"the username {username!r} is taken")
            change.insert_account(record)
            change.add_grants(account_id, [_grant_row(g) for g in grants], by)
        return account_id

    def grant(self, account_id: str, grant: Grant, *, by: str) -> None:
        with self.tables.change(account_id, "grant", by) as change:
            change.add_grants(account_id, [_grant_row(grant)], by)

    def revoke(self, account_id: str, grant: Grant, *, by: str) -> None:
        """Remove one grant (organisation, role and personal-data flag as listed); refuse one not held."""
        with self.tables.change(account_id, "revoke", by) as change:
            if not change.remove_grant(account_id, _grant_row(grant)):
                scope = "every organisation" if grant.organisation_id is None else f"organisation {grant.organisation_id}"
                raise RecordNotFound(
                    f"account {account_id} holds no {grant.role.code} grant in {scope} "
                    f"with personal_data={str(grant.personal_data).lower()}",
                    hint="list the account's grants (GET /api/v1/admin/accounts) and revoke one as listed",
                )

    def set_active(self, account_id: str, active: bool, *, by: str) -> None:
        """Enable or disable an account; a disabled one's sessions and tokens stop working at once."""
        with self.tables.change(account_id, "enable" if active else "disable", by) as change:
            change.set_active(account_id, active)

    def accounts(self, organisations: frozenset[str] | None = None) -> list[Account]:
        """Accounts, or those holding a grant in one of ``organisations``."""
        return [_account(row, grants) for row, grants in self.tables.accounts(organisations)]

    def account(self, account_id: str) -> Account:
        return _account(*self.tables.account(account_id))

    def principal(self, account_id: str) -> Principal:
        row, grants = self.tables.account(account_id)
        return Principal(row.id, row.username, _grants(grants))

    # -- signing in ---------------------------------------------------------

    def authenticate(self, username: str, password: str) -> Principal:
        """The principal for a correct password; counts failures and locks the account."""
        now = utcnow()
        verdict: dict[str, bool] = {}

        def decide(row: AccountRow | None) -> tuple[dict[str, Any] | None, bool]:
            locked = row is not None and row.locked_until is not None and row.locked_until > now
            ok = not locked and verify_password(row.password_hash if row is not None else None, password)
            ok = ok and row is not None and row.active
            verdict.update(locked=locked, ok=ok)
            if row is None or locked:
                return None, ok
            changes: dict[str, Any] = {"failed_logins": 0, "locked_until": None}
            if not ok:
                failures = row.failed_logins + 1
                lock = failures >= self.max_failures
                changes = {"failed_logins": 0 if lock else failures, "locked_until": now + self.lockout if lock else None}
            elif needs_rehash(row.password_hash):
                changes["password_hash"] = hash_password(password)
            return changes, ok

        row, grants = self.tables.sign_in(username.strip(), decide)  # committed before any refusal is raised
        if verdict["locked"] and row is not None and row.locked_until is not None:
            retry = int((row.locked_until - now).total_seconds()) + 1
            raise TooManyAttempts("this account is locked after repeated failed sign-ins", retry_after_s=retry)
        if not verdict["ok"] or row is None:
            raise NotAuthenticated("wrong username or password", hint="check both and try again")
        return Principal(row.id, row.username, _grants(grants))

    def open_session(self, principal: Principal) -> tuple[str, Session]:
        """A new session (never a reused id: no session fixation); returns its secret."""
        secret = secrets.token_urlsafe(32)
        session = Session(principal, secrets.token_urlsafe(32))
        now = utcnow()
        self.tables.add_credential("session", {
            "digest": _digest(secret), "account_id": principal.account_id, "csrf_token": session.csrf_token,
            "created_at": now, "expires_at": now + self.session_ttl, "revoked": False,
        })
        return secret, session

    def session(self, secret: str) -> Session:
        row = self._live("session", secret)
        return Session(self.principal(row.account_id), row.csrf_token or "")

    def close_session(self, secret: str) -> None:
        self.tables.revoke_credential("session", _digest(secret))

    def issue_token(self, principal: Principal, name: str, ttl: dt.timedelta | None = None) -> str:
        """A new API token for scripts and GIS clients; the secret is shown only now."""
        secret = "mat_" + secrets.token_urlsafe(32)
        now = utcnow()
        self.tables.add_credential("token", {
            "digest": _digest(secret), "account_id": principal.account_id, "name": name or "token",
            "created_at": now, "expires_at": now + ttl if ttl else None, "revoked": False,
        })
        return secret

    def token(self, secret: str) -> Principal:
        return self.principal(self._live("token", secret).account_id)

    def revoke_token(self, secret: str) -> None:
        self.tables.revoke_credential("token", _digest(secret))

    def _live(self, kind: str, secret: str) -> CredentialRow:
        row = self.tables.live_credential(kind, _digest(secret))
        if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
            raise NotAuthenticated("the session or token is not valid (expired, revoked or unknown)")
        return row
