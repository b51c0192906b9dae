"""The access tables: accounts, grants, sessions, API tokens and the permission log.

:mod:`mineaction.access.accounts` decides (passwords, lock-out, roles); this
module only reads and writes the rows, and gives them back as plain
dataclasses. Every change of an account or its grants runs in
:meth:`AccountTables.change`, which appends the account's state before and
after to the append-only permission log in the same transaction: no change
without its audit entry, no entry for a change that rolled back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mineaction.errors import RecordNotFound
from mineaction.storage.access_schema import PERMISSION_LOG
from mineaction.storage.register import Register
from mineaction.storage.transactions import reading, writing
from mineaction.storage.unit_of_work import utcnow

__all__ = ["AccountChange", "AccountRow", "AccountTables", "CredentialRow", "GrantRow"]

#: credential kind → its table
_CREDENTIALS = {"session": "web_session", "token": "api_token"}


@dataclass(frozen=True)
class AccountRow:
    id: str
    username: str
    display_name: str
    password_hash: str
    active: bool
    failed_logins: int
    locked_until: dt.datetime | None


@dataclass(frozen=True)
class GrantRow:
    organisation_id: str | None
    role: str
    personal_data: bool


@dataclass(frozen=True)
class CredentialRow:
    """A live session or API token: whose, until when, and a session's CSRF token."""

    account_id: str
    expires_at: dt.datetime | None
    csrf_token: str | None


def _account(row: sa.Row) -> AccountRow:
    return AccountRow(row.id, row.username, row.display_name, row.password_hash, bool(row.active),
                      row.failed_logins, row.locked_until)


class AccountChange:
    """Writes of one account change, inside its transaction."""

    def __init__(self, register: Register, connection: sa.Connection) -> None:
        self._tables = register.tables
        self._connection = connection

    def username_taken(self, username: str) -> bool:
        account = self._tables["account"]
        return self._connection.execute(sa.select(account.c.id).where(account.c.username == username)).first() is not None

    def insert_account(self, values: Mapping[str, Any]) -> None:
        self._connection.execute(self._tables["account"].insert(), [dict(values)])

    def add_grants(self, account_id: str, grants: Sequence[GrantRow], by: str) -> None:
        if grants:
            self._connection.execute(self._tables["account_grant"].insert(), [
                {"account_id": account_id, "organisation_id": g.organisation_id, "role": g.role,
                 "personal_data": g.personal_data, "granted_by": by, "granted_at": utcnow()}
                for g in grants
            ])

    def remove_grant(self, account_id: str, grant: GrantRow) -> bool:
        """Remove the grant held as given; False when the account holds no such grant."""
        table = self._tables["account_grant"]
        return bool(self._connection.execute(table.delete().where(
            table.c.account_id == account_id, table.c.organisation_id.is_not_distinct_from(grant.organisation_id),
            table.c.role == grant.role, table.c.personal_data.is_(grant.personal_data),
        )).rowcount)

    def set_active(self, account_id: str, active: bool) -> None:
        account = self._tables["account"]
        self._connection.execute(account.update().where(account.c.id == account_id).values(active=active))


class AccountTables:
    """Rows of one register's access tables."""

    def __init__(self, register: Register) -> None:
        self.register = register
        self._tables = register.tables

    @contextlib.contextmanager
    def change(self, account_id: str, action: str, by: str, *, new: bool = False) -> Iterator[AccountChange]:
        """One change of an account, logged with its state before (None when ``new``) and after."""
        with writing(self.register, "changing accounts") as connection:
            before = None if new else self._state(connection, account_id)[1]
            yield AccountChange(self.register, connection)
            username, after = self._state(connection, account_id)
            connection.execute(self._tables[PERMISSION_LOG].insert(), [{
                "changed_at": utcnow(), "changed_by": by, "account_id": account_id, "username": username,
                "action": action, "state_before": before, "state_after": after,
            }])

    def _state(self, connection: sa.Connection, account_id: str) -> tuple[str, dict[str, Any]]:
        """Username, and the active flag and grants of an account as the permission log keeps them."""
        row = self._account_row(connection, account_id)
        grants = [{"organisation_id": g.organisation_id, "role": g.role, "personal_data": g.personal_data}
                  for g in self._grants(connection, [account_id])[account_id]]
        return row.username, {"active": row.active, "grants": grants}

    def _account_row(self, connection: sa.Connection, account_id: str) -> AccountRow:
        account = self._tables["account"]
        row = connection.execute(sa.select(account).where(account.c.id == account_id)).first()
        if row is None:
            raise RecordNotFound(f"no account {account_id!r}")
        return _account(row)

    def _grants(self, connection: sa.Connection, account_ids: list[str]) -> dict[str, tuple[GrantRow, ...]]:
        table = self._tables["account_grant"]
        rows = connection.execute(
            sa.select(table).where(table.c.account_id.in_(account_ids)).order_by(table.c.id)
        ).all()
        out: dict[str, list[GrantRow]] = {a: [] for a in account_ids}
        for r in rows:
            out[r.account_id].append(GrantRow(r.organisation_id, r.role, bool(r.personal_data)))
        return {k: tuple(v) for k, v in out.items()}

    def accounts(self, organisations: frozenset[str] | None = None) -> list[tuple[AccountRow, tuple[GrantRow, ...]]]:
        """Accounts by username with their grants, or those holding a grant in one of ``organisations``."""
        account, grant = self._tables["account"], self._tables["account_grant"]
        query = sa.select(account).order_by(account.c.username)
        if organisations is not None:
            query = query.where(
                account.c.id.in_(sa.select(grant.c.account_id).where(grant.c.organisation_id.in_(organisations)))
            )
        with reading(self.register, "reading accounts") as connection:
            rows = [_account(r) for r in connection.execute(query).all()]
            grants = self._grants(connection, [r.id for r in rows])
        return [(r, grants[r.id]) for r in rows]

    def account(self, account_id: str) -> tuple[AccountRow, tuple[GrantRow, ...]]:
        """One account and its grants; :class:`RecordNotFound` for an unknown id."""
        with reading(self.register, "reading accounts") as connection:
            row = self._account_row(connection, account_id)
            return row, self._grants(connection, [row.id])[row.id]

    def sign_in(
        self, username: str, decide: Callable[[AccountRow | None], tuple[dict[str, Any] | None, bool]],
    ) -> tuple[AccountRow | None, tuple[GrantRow, ...]]:
        """The account named ``username`` (None if unknown), and its grants when ``decide`` lets it in.

        ``decide`` sees the account inside the transaction and says what to
        change in its row (failure count, lock, password hash) and whether
        the sign-in succeeds; the change is committed before anything is raised.
        """
        account = self._tables["account"]
        with writing(self.register, "signing in") as connection:
            found = connection.execute(sa.select(account).where(account.c.username == username)).first()
            row = None if found is None else _account(found)
            changes, ok = decide(row)
            if row is not None and changes:
                connection.execute(account.update().where(account.c.id == row.id).values(changes))
            grants = self._grants(connection, [row.id])[row.id] if ok and row is not None else ()
        return row, grants

    def add_credential(self, kind: str, values: Mapping[str, Any]) -> None:
        """Store a new ``session`` or ``token`` row (its secret's digest, never the secret)."""
        with writing(self.register, "changing accounts") as connection:
            connection.execute(self._tables[_CREDENTIALS[kind]].insert(), [dict(values)])

    def live_credential(self, kind: str, digest: str) -> CredentialRow | None:
        """The unrevoked ``session`` or ``token`` with this digest, of an active account, or None."""
        table, account = self._tables[_CREDENTIALS[kind]], self._tables["account"]
        with reading(self.register, "reading accounts") as connection:
            row = connection.execute(
                sa.select(table)
                .join(account, account.c.id == table.c.account_id)
                .where(table.c.digest == digest, table.c.revoked.is_(False), account.c.active.is_(True))
            ).first()
        if row is None:
            return None
        return CredentialRow(row.account_id, row.expires_at, row._mapping.get("csrf_token"))

    def revoke_credential(self, kind: str, digest: str) -> None:
        table = self._tables[_CREDENTIALS[kind]]
        with writing(self.register, "changing accounts") as connection:
            connection.execute(table.update().where(table.c.digest == digest).values(revoked=True))
