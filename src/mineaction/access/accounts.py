"""Accounts, grants, sessions and API tokens, stored in the register's database.

Every change of an account or its grants (creation, grant, revocation,
disabling) is logged with the account's state before and after, in the same
transaction (:mod:`mineaction.storage.accounts`).

Signing in gives one answer for an unknown user, a wrong password and an
account locked from this source: the same status, message and work (a
password hash is always checked), so none of them tells an account exists.
Failures are throttled per source and per account from a source
(:class:`~mineaction.access.ratelimit.LoginThrottle`).

Session ids and tokens are random 256-bit values handed out once; only
their SHA-256 digests are stored. Every API token expires (90 days unless
asked otherwise), is listed with its name and dates, and can be revoked on
its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import secrets
import uuid
from dataclasses import dataclass

from mineaction.access.errors import NotAuthenticated
from mineaction.access.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from mineaction.access.ratelimit import LoginThrottle
from mineaction.access.roles import Grant, Principal, Role
from mineaction.errors import InvalidValue
from mineaction.storage import Register, utcnow
from mineaction.storage import accounts as stored

__all__ = ["MAX_TOKEN_DAYS", "Account", "AccountStore", "Session", "Token"]

#: the longest an API token may live
MAX_TOKEN_DAYS = 3650
#: the one answer to a sign-in that fails for whatever reason
_REFUSED = "wrong username or password, or sign-in from here paused after repeated failures"
_REFUSED_HINT = "check both and try again later; an administrator can lift a pause (mineaction unlock)"


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    display_name: str
    active: bool
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class Session:
    """A signed-in browser: the principal and the CSRF token its writes must echo."""

    principal: Principal
    csrf_token: str


#: an API token as listed: never its secret, which is shown once at creation
Token = stored.StoredToken


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _grant(g: stored.StoredGrant) -> Grant:
    return Grant(g.organisation_id, Role.parse(g.role), g.personal_data, g.region)


def _stored(g: Grant) -> stored.StoredGrant:
    return stored.StoredGrant(g.organisation_id, g.role.code, g.personal_data, g.region)


def _account(a: stored.StoredAccount) -> Account:
    return Account(a.id, a.username, a.display_name, a.active, tuple(_grant(g) for g in a.grants))


class AccountStore:
    """Account operations over one register's access tables."""

    def __init__(
        self,
        register: Register,
        *,
        throttle: LoginThrottle | None = None,
        session_ttl: dt.timedelta = dt.timedelta(hours=8),
        token_ttl: dt.timedelta = dt.timedelta(days=90),
    ) -> None:
        self.register = register
        self.throttle = throttle or LoginThrottle(register)
        self.session_ttl = session_ttl
        self.token_ttl = token_ttl
        dummy_hash()  # ready before the first login, whose timing must not tell unknown accounts apart

    # -- accounts and grants ------------------------------------------------

    def create_account(
        self, username: str, password: str, *, display_name: str = "", grants: tuple[Grant, ...] = (), by: str
    ) -> str:
        """Create an account with its grants; refuse a taken username or a weak password."""
        username = username.strip()
        if not username:
            raise InvalidValue("an account needs a username")
        account_id = uuid.uuid4().hex
        stored.insert_account(
            self.register, account_id=account_id, username=username, display_name=display_name or username,
            password_hash=hash_password(password, (username, display_name)),
            grants=[_stored(g) for g in grants], by=by,
        )
        return account_id

    def grant(self, account_id: str, grant: Grant, *, by: str) -> None:
        stored.add_grant(self.register, account_id, _stored(grant), by=by)

    def revoke(self, account_id: str, grant: Grant, *, by: str) -> None:
        """Remove one grant (organisation, region, role and personal-data flag as listed); refuse one not held."""
        stored.delete_grant(self.register, account_id, _stored(grant), by=by)

    def set_active(self, account_id: str, active: bool, *, by: str) -> None:
        """Enable or disable an account; a disabled one's sessions and tokens stop working at once."""
        stored.set_active(self.register, account_id, active, by=by)

    def accounts(self, organisations: frozenset[str] | None = None) -> list[Account]:
        """Accounts, or those holding a grant in one of ``organisations``."""
        return [_account(a) for a in stored.accounts(self.register, organisations)]

    def account(self, account_id: str) -> Account:
        return _account(stored.account(self.register, account_id))

    def account_named(self, username: str) -> Account:
        found = stored.account_by_username(self.register, username.strip())
        if found is None:
            raise InvalidValue(f"no account named {username!r}", hint="list accounts: GET /api/v1/admin/accounts")
        return _account(found)

    def principal(self, account_id: str) -> Principal:
        """The account's principal, each granted region resolved to its subtree of admin areas."""
        return self._principal(self.account(account_id))

    def _principal(self, account: Account) -> Principal:
        regions = sorted({g.region for g in account.grants if g.region is not None})
        return Principal(account.id, account.username, account.grants, stored.region_subtrees(self.register, regions))

    # -- signing in ---------------------------------------------------------

    def authenticate(self, username: str, password: str, *, source: str = "local") -> Principal:
        """The principal for a correct password of an active account not locked from ``source``.

        A source that must wait gets :class:`TooManyAttempts` before any
        check; every other refusal is one :class:`NotAuthenticated`.
        """
        self.throttle.check_source(source)
        row = stored.account_by_username(self.register, username.strip())
        locked = row is not None and self.throttle.account_blocked(row.id, source)
        ok = verify_password(row.password_hash if row is not None else None, password)  # always: same work
        if row is None or not ok or locked or not row.active:
            self.throttle.failed(source, row.id if row is not None else None)
            raise NotAuthenticated(_REFUSED, hint=_REFUSED_HINT)
        self.throttle.succeeded(row.id, source)
        if needs_rehash(row.password_hash):
            stored.set_password_hash(self.register, row.id, hash_password(password))
        return self._principal(_account(row))

    def unlock(self, *, account_id: str | None = None, source: str | None = None) -> int:
        """Lift the pauses of an account (from every source) and/or of a source; how many were lifted."""
        if account_id is None and source is None:
            raise InvalidValue("name the account or the source address to unlock")
        if source is not None:
            try:
                source = str(ipaddress.ip_address(source.strip()))
            except ValueError:
                raise InvalidValue(f"{source!r} is not an IP address", hint="e.g. 192.0.2.10 or 2001:db8::1") from None
        return self.throttle.unlock(account_id=account_id, source=source)

    def open_session(self, principal: Principal) -> tuple[str, Session]:
        """A new session (never a reused id: no session fixation); returns its secret."""
        secret = secrets.token_urlsafe(32)
        session = Session(principal, secrets.token_urlsafe(32))
        now = utcnow()
        stored.insert_session(self.register, digest=_digest(secret), account_id=principal.account_id,
                              csrf_token=session.csrf_token, created_at=now, expires_at=now + self.session_ttl)
        return secret, session

    def session(self, secret: str) -> Session:
        found = stored.live_session(self.register, _digest(secret), utcnow())
        if found is None:
            raise NotAuthenticated("the session is not valid (expired, closed or unknown)")
        account_id, csrf = found
        return Session(self.principal(account_id), csrf)

    def close_session(self, secret: str) -> None:
        stored.revoke_session(self.register, _digest(secret))

    # -- API tokens ---------------------------------------------------------

    def issue_token(self, principal: Principal, name: str, ttl: dt.timedelta | None = None) -> tuple[str, Token]:
        """A new API token for scripts and GIS clients, expiring after ``ttl`` (default: the store's);
        the secret is returned only now."""
        ttl = self.token_ttl if ttl is None else ttl
        if not dt.timedelta(0) < ttl <= dt.timedelta(days=MAX_TOKEN_DAYS):
            raise InvalidValue(f"a token lives between a moment and {MAX_TOKEN_DAYS} days, not {ttl}")
        secret = "mat_" + secrets.token_urlsafe(32)
        now = utcnow()
        row = stored.insert_token(self.register, digest=_digest(secret), account_id=principal.account_id,
                                  name=name.strip() or "token", created_at=now, expires_at=now + ttl)
        return secret, row

    def token(self, secret: str) -> Principal:
        """The principal of a live token; an expired, revoked or unknown one is refused alike."""
        account_id = stored.live_token_account(self.register, _digest(secret), utcnow())
        if account_id is None:
            raise NotAuthenticated("the token is not valid (expired, revoked or unknown)",
                                   hint="create a new one: POST /auth/tokens or mineaction token create")
        return self.principal(account_id)

    def tokens(self, account_id: str | None = None) -> list[Token]:
        """Tokens of one account (None: every account), oldest first."""
        return stored.tokens(self.register, account_id)

    def revoke_token(self, token_id: int, *, by: str) -> Token:
        """Revoke one token by its listed id (revoking it again changes nothing)."""
        return stored.revoke_token(self.register, token_id, by=by, at=utcnow())
