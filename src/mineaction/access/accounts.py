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

import contextlib
import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mineaction.access.errors import NotAuthenticated, TooManyAttempts
from mineaction.access.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from mineaction.access.roles import Grant, Principal, Role
from mineaction.errors import ConflictError, InvalidValue, RecordNotFound
from mineaction.storage.access_schema import PERMISSION_LOG
from mineaction.storage.register import Register
from mineaction.storage.transactions import reading, writing
from mineaction.storage.unit_of_work import utcnow

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
        self.tables = register.tables
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
        account = self.tables["account"]
        record: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "username": username,
            "display_name": display_name or username,
            "password_hash": hash_password(password),
            "active": True,
            "failed_logins": 0,
            "created_at": utcnow(),
        }
        with writing(self.register, "changing accounts") as connection:
            taken = connection.execute(sa.select(account.c.id).where(account.c.username == username)).first()
            if taken:
                raise ConflictError(f"the username {username!r} is taken")
            with self._logged(connection, record["id"], "create", by, new=True):
                connection.execute(account.insert(), [record])
                self._add_grants(connection, record["id"], grants, by)
        return record["id"]

    def grant(self, account_id: str, grant: Grant, *, by: str) -> None:
        with writing(self.register, "changing accounts") as connection, self._logged(connection, account_id, "grant", by):
            self._add_grants(connection, account_id, (grant,), by)

    def revoke(self, account_id: str, grant: Grant, *, by: str) -> None:
        """Remove one grant (organisation, role and personal-data flag as listed); refuse one not held."""
        table = self.tables["account_grant"]
        with writing(self.register, "changing accounts") as connection, self._logged(connection, account_id, "revoke", by):
            removed = connection.execute(table.delete().where(
                table.c.account_id == account_id, table.c.organisation_id.is_not_distinct_from(grant.organisation_id),
                table.c.role == grant.role.code, table.c.personal_data.is_(grant.personal_data),
            )).rowcount
            if not removed:
                scope = "every organisation" if grant.organisation_id is None else f"organisation {grant.organisation_id}"
                raise RecordNotFound(
                    f"account {account_id} holds no {grant.role.code} grant in {scope} "
                    f"with personal_data={str(grant.personal_data).lower()}",
                    hint="list the account's grants (GET /api/v1/admin/accounts) and revoke one as listed",
                )

    def set_active(self, account_id: str, active: bool, *, by: str) -> None:
        """Enable or disable an account; a disabled one's sessions and tokens stop working at once."""
        account = self.tables["account"]
        action = "enable" if active else "disable"
        with writing(self.register, "changing accounts") as connection, self._logged(connection, account_id, action, by):
            connection.execute(account.update().where(account.c.id == account_id).values(active=active))

    @contextlib.contextmanager
    def _logged(
        self, connection: sa.Connection, account_id: str, action: str, by: str, *, new: bool = False
    ) -> Iterator[None]:
        """Run one change of an account, then append its state before and after to the permission log."""
        before = None if new else self._state(connection, account_id)[1]
        yield
        username, after = self._state(connection, account_id)
        connection.execute(self.tables[PERMISSION_LOG].insert(), [{
            "changed_at": utcnow(), "changed_by": by, "account_id": account_id, "username": username,
            "action": action, "state_before": before, "state_after": after,
        }])

    def _state(self, connection: sa.Connection, account_id: str) -> tuple[str, dict[str, Any]]:
        """Username, and the active flag and grants of an account as the permission log keeps them."""
        row = self._account_row(connection, account_id)
        grants = [{"organisation_id": g.organisation_id, "role": g.role.code, "personal_data": g.personal_data}
                  for g in self._grants(connection, [account_id])[account_id]]
        return row.username, {"active": bool(row.active), "grants": grants}

    def _add_grants(self, connection: sa.Connection, account_id: str, grants: tuple[Grant, ...], by: str) -> None:
        if grants:
            connection.execute(
                self.tables["account_grant"].insert(),
                [
                    {"account_id": account_id, "organisation_id": g.organisation_id, "role": g.role.code,
                     "personal_data": g.personal_data, "granted_by": by, "granted_at": utcnow()}
                    for g in grants
                ],
            )

    def _account_row(self, connection: sa.Connection, account_id: str) -> sa.Row:
        account = self.tables["account"]
        row = connection.execute(sa.select(account).where(account.c.id == account_id)).first()
        if row is None:
            raise RecordNotFound(f"no account {account_id!r}")
        return row

    def _grants(self, connection: sa.Connection, account_ids: list[str]) -> dict[str, tuple[Grant, ...]]:
        table = self.tables["account_grant"]
        rows = connection.execute(
            sa.select(table).where(table.c.account_id.in_(account_ids)).order_by(table.c.id)
        ).all()
        out: dict[str, list[Grant]] = {a: [] for a in account_ids}
        for r in rows:
            out[r.account_id].append(Grant(r.organisation_id, Role.parse(r.role), bool(r.personal_data)))
        return {k: tuple(v) for k, v in out.items()}

    def accounts(self, organisations: frozenset[str] | None = None) -> list[Account]:
        """Accounts, or those holding a grant in one of ``organisations``."""
        account, grant = self.tables["account"], self.tables["account_grant"]
        query = sa.select(account).order_by(account.c.username)
        if organisations is not None:
            query = query.where(
                account.c.id.in_(sa.select(grant.c.account_id).where(grant.c.organisation_id.in_(organisations)))
            )
        with reading(self.register, "reading accounts") as connection:
            rows = connection.execute(query).all()
            grants = self._grants(connection, [r.id for r in rows])
        return [Account(r.id, r.username, r.display_name, bool(r.active), r.locked_until, grants[r.id]) for r in rows]

    def account(self, account_id: str) -> Account:
        with reading(self.register, "reading accounts") as connection:
            r = self._account_row(connection, account_id)
            return Account(r.id, r.username, r.display_name, bool(r.active), r.locked_until,
                           self._grants(connection, [r.id])[r.id])

    def principal(self, account_id: str) -> Principal:
        with reading(self.register, "reading accounts") as connection:
            row = self._account_row(connection, account_id)
            return Principal(row.id, row.username, self._grants(connection, [row.id])[row.id])

    # -- signing in ---------------------------------------------------------

    def authenticate(self, username: str, password: str) -> Principal:
        """The principal for a correct password; counts failures and locks the account."""
        account = self.tables["account"]
        now = utcnow()
        with writing(self.register, "signing in") as connection:  # committed before any refusal is raised
            row = connection.execute(sa.select(account).where(account.c.username == username.strip())).first()
            locked = row is not None and row.locked_until is not None and row.locked_until > now
            ok = not locked and verify_password(row.password_hash if row is not None else None, password)
            ok = ok and row is not None and row.active
            if row is not None and not locked:
                changes: dict[str, object] = {"failed_logins": 0, "locked_until": None}
                if not ok:
                    failures = row.failed_logins + 1
                    lock = failures >= self.max_failures
                    changes = {"failed_logins": 0 if lock else failures, "locked_until": now + self.lockout if lock else None}
                elif needs_rehash(row.password_hash):
                    changes["password_hash"] = hash_password(password)
                connection.execute(account.update().where(account.c.id == row.id).values(changes))
            grants = self._grants(connection, [row.id])[row.id] if ok and row is not None else ()
        if locked and row is not None:
            retry = int((row.locked_until - now).total_seconds()) + 1
            raise TooManyAttempts("this account is locked after repeated failed sign-ins", retry_after_s=retry)
        if not ok or row is None:
            raise NotAuthenticated("wrong username or password", hint="check both and try again")
        return Principal(row.id, row.username, grants)

    def open_session(self, principal: Principal) -> tuple[str, Session]:
        """A new session (never a reused id: no session fixation); returns its secret."""
        secret = secrets.token_urlsafe(32)
        session = Session(principal, secrets.token_urlsafe(32))
        now = utcnow()
        with writing(self.register, "changing accounts") as connection:
            connection.execute(
                self.tables["web_session"].insert(),
                [{"digest": _digest(secret), "account_id": principal.account_id, "csrf_token": session.csrf_token,
                  "created_at": now, "expires_at": now + self.session_ttl, "revoked": False}],
            )
        return secret, session

    def session(self, secret: str) -> Session:
        row = self._live("web_session", secret)
        return Session(self.principal(row.account_id), row.csrf_token)

    def close_session(self, secret: str) -> None:
        self._revoke("web_session", secret)

    def issue_token(self, principal: Principal, name: str, ttl: dt.timedelta | None = None) -> str:
        """A new API token for scripts and GIS clients; the secret is shown only now."""
        secret = "mat_" + secrets.token_urlsafe(32)
        now = utcnow()
        with writing(self.register, "changing accounts") as connection:
            connection.execute(
                self.tables["api_token"].insert(),
                [{"digest": _digest(secret), "account_id": principal.account_id, "name": name or "token",
                  "created_at": now, "expires_at": now + ttl if ttl else None, "revoked": False}],
            )
        return secret

    def token(self, secret: str) -> Principal:
        return self.principal(self._live("api_token", secret).account_id)

    def revoke_token(self, secret: str) -> None:
        self._revoke("api_token", secret)

    def _live(self, table_name: str, secret: str) -> sa.Row:
        table, account = self.tables[table_name], self.tables["account"]
        with reading(self.register, "reading accounts") as connection:
            row = connection.execute(
                sa.select(table)
                .join(account, account.c.id == table.c.account_id)
                .where(table.c.digest == _digest(secret), table.c.revoked.is_(False), account.c.active.is_(True))
            ).first()
        if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
            raise NotAuthenticated("the session or token is not valid (expired, revoked or unknown)")
        return row

    def _revoke(self, table_name: str, secret: str) -> None:
        table = self.tables[table_name]
        with writing(self.register, "changing accounts") as connection:
            connection.execute(table.update().where(table.c.digest == _digest(secret)).values(revoked=True))
