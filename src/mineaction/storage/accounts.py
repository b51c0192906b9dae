"""Queries of the access tables: accounts, grants, sessions, API tokens and sign-in throttles.

The access layer decides (who may, what a failure costs); this module only
reads and writes, each function one transaction. Every change of an account
or its grants appends the account's state before and after to the
append-only ``permission_change`` log in the same transaction: no change
without its audit entry, no entry for a change that rolled back.

Writes take SQLite's write lock at BEGIN (``BEGIN IMMEDIATE``), as the
register's writers do, so a read-then-write (a throttle counter, say) is
never interleaved with another process's; on PostgreSQL such rows are read
``FOR UPDATE``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert

from mineaction.domain.entities import entity
from mineaction.errors import ConflictError, InvalidValue, RecordNotFound
from mineaction.storage.access_schema import PERMISSION_LOG, THROTTLE_TABLE
from mineaction.storage.register import Register
from mineaction.storage.transactions import reading, writing
from mineaction.storage.unit_of_work import utcnow

__all__ = [
    "Alternatives",
    "Counter",
    "StoredAccount",
    "StoredGrant",
    "StoredToken",
    "account",
    "account_by_username",
    "accounts",
    "add_grant",
    "clear_throttles",
    "count_failures",
    "delete_grant",
    "insert_account",
    "insert_session",
    "insert_token",
    "linked_admin_pcodes",
    "live_session",
    "live_token_account",
    "region_subtrees",
    "revoke_session",
    "revoke_token",
    "scope_clause",
    "set_active",
    "set_password_hash",
    "throttle_blocks",
    "tokens",
]


@dataclass(frozen=True)
class StoredGrant:
    organisation_id: str | None
    role: str
    personal_data: bool = False
    region: str | None = None

    def logged(self) -> dict[str, Any]:
        """As the permission log keeps it (``region`` only when set, as entries before regions had none)."""
        out: dict[str, Any] = {"organisation_id": self.organisation_id, "role": self.role,
                               "personal_data": self.personal_data}
        if self.region is not None:
            out["region"] = self.region
        return out


@dataclass(frozen=True)
class StoredAccount:
    id: str
    username: str
    display_name: str
    password_hash: str
    active: bool
    grants: tuple[StoredGrant, ...]


@dataclass(frozen=True)
class StoredToken:
    id: int
    account_id: str
    username: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_by: str | None

    def state(self, now: dt.datetime) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


@dataclass(frozen=True)
class Counter:
    """Failed sign-ins under one throttle key."""

    failures: int
    window_start: dt.datetime
    strikes: int
    last_failure_at: dt.datetime
    blocked_until: dt.datetime | None


# -- accounts and grants -----------------------------------------------------


def _grants(register: Register, connection: sa.Connection, account_ids: Sequence[str]) -> dict[str, tuple[StoredGrant, ...]]:
    table = register.tables["account_grant"]
    rows = connection.execute(
        sa.select(table).where(table.c.account_id.in_(account_ids)).order_by(table.c.id)
    ).all() if account_ids else []
    out: dict[str, list[StoredGrant]] = {a: [] for a in account_ids}
    for r in rows:
        out[r.account_id].append(StoredGrant(r.organisation_id, r.role, bool(r.personal_data), r.region))
    return {k: tuple(v) for k, v in out.items()}


def _accounts(register: Register, connection: sa.Connection, where: sa.ColumnElement[bool]) -> list[StoredAccount]:
    table = register.tables["account"]
    rows = connection.execute(sa.select(table).where(where).order_by(table.c.username)).all()
    grants = _grants(register, connection, [r.id for r in rows])
    return [StoredAccount(r.id, r.username, r.display_name, r.password_hash, bool(r.active), grants[r.id]) for r in rows]


def _one(register: Register, connection: sa.Connection, account_id: str) -> StoredAccount:
    found = _accounts(register, connection, register.tables["account"].c.id == account_id)
    if not found:
        raise RecordNotFound(f"no account {account_id!r}", hint="list accounts: GET /api/v1/admin/accounts")
    return found[0]


def account(register: Register, account_id: str) -> StoredAccount:
    with reading(register, "reading accounts") as connection:
        return _one(register, connection, account_id)


def account_by_username(register: Register, username: str) -> StoredAccount | None:
    with reading(register, "reading accounts") as connection:
        found = _accounts(register, connection, register.tables["account"].c.username == username)
    return found[0] if found else None


def accounts(register: Register, organisations: frozenset[str] | None = None) -> list[StoredAccount]:
    """Every account, or those holding a grant in one of ``organisations``."""
    account_table, grant = register.tables["account"], register.tables["account_grant"]
    where: sa.ColumnElement[bool] = sa.true()
    if organisations is not None:
        where = account_table.c.id.in_(
            sa.select(grant.c.account_id).where(grant.c.organisation_id.in_(sorted(organisations)))
        )
    with reading(register, "reading accounts") as connection:
        return _accounts(register, connection, where)


@contextlib.contextmanager
def _logged(
    register: Register, account_id: str, action: str, by: str, *, new: bool = False
) -> Iterator[sa.Connection]:
    """One change of an account, then its state before and after appended to the permission log."""
    with writing(register, "changing accounts") as connection:
        before = None if new else _state(_one(register, connection, account_id))
        yield connection
        after = _one(register, connection, account_id)
        connection.execute(register.tables[PERMISSION_LOG].insert(), [{
            "changed_at": utcnow(), "changed_by": by, "account_id": account_id, "username": after.username,
            "action": action, "state_before": before, "state_after": _state(after),
        }])


def _state(stored: StoredAccount) -> dict[str, Any]:
    return {"active": stored.active, "grants": [g.logged() for g in stored.grants]}


def _insert_grants(register: Register, connection: sa.Connection, account_id: str,
                   grants: Sequence[StoredGrant], by: str) -> None:
    regions = {g.region for g in grants if g.region is not None}
    if regions:
        area = register.tables["admin_area"]
        known = set(connection.execute(
            sa.select(area.c.pcode).where(area.c.pcode.in_(sorted(regions)), area.c.deleted.is_(False))
        ).scalars())
        if regions - known:
            raise InvalidValue(f"no admin area with pcode {', '.join(sorted(regions - known))} in the gazetteer",
                               hint="a region is an admin area's pcode (GET /api/v1/admin_area lists them)")
    if grants:
        connection.execute(register.tables["account_grant"].insert(), [
            {"account_id": account_id, "organisation_id": g.organisation_id, "region": g.region, "role": g.role,
             "personal_data": g.personal_data, "granted_by": by, "granted_at": utcnow()}
            for g in grants
        ])


def insert_account(
    register: Register, *, account_id: str, username: str, display_name: str, password_hash: str,
    grants: Sequence[StoredGrant], by: str,
) -> None:
    """Store a new account with its grants; refuse a taken username."""
    table = register.tables["account"]
    with _logged(register, account_id, "create", by, new=True) as connection:
        if connection.execute(sa.select(table.c.id).where(table.c.username == username)).first():
            raise ConflictError(f"the username {username!r} is taken")
        connection.execute(table.insert(), [{
            "id": account_id, "username": username, "display_name": display_name, "password_hash": password_hash,
            "active": True, "created_at": utcnow(),
        }])
        _insert_grants(register, connection, account_id, grants, by)


def add_grant(register: Register, account_id: str, grant: StoredGrant, *, by: str) -> None:
    with _logged(register, account_id, "grant", by) as connection:
        _insert_grants(register, connection, account_id, [grant], by)


def delete_grant(register: Register, account_id: str, grant: StoredGrant, *, by: str) -> None:
    """Remove one grant as listed; refuse (and log nothing) when the account holds no such grant."""
    table = register.tables["account_grant"]
    with _logged(register, account_id, "revoke", by) as connection:
        removed = connection.execute(table.delete().where(
            table.c.account_id == account_id,
            table.c.organisation_id.is_not_distinct_from(grant.organisation_id),
            table.c.region.is_not_distinct_from(grant.region),
            table.c.role == grant.role,
            table.c.personal_data.is_(grant.personal_data),
        )).rowcount
        if not removed:
            scope = "every organisation" if grant.organisation_id is None else f"organisation {grant.organisation_id}"
            where = "" if grant.region is None else f", region {grant.region}"
            raise RecordNotFound(
                f"account {account_id} holds no {grant.role} grant in {scope}{where} "
                f"with personal_data={str(grant.personal_data).lower()}",
                hint="list the account's grants (GET /api/v1/admin/accounts) and revoke one as listed",
            )


def set_active(register: Register, account_id: str, active: bool, *, by: str) -> None:
    table = register.tables["account"]
    with _logged(register, account_id, "enable" if active else "disable", by) as connection:
        connection.execute(table.update().where(table.c.id == account_id).values(active=active))


def set_password_hash(register: Register, account_id: str, password_hash: str) -> None:
    """Replace a hash (a rehash with newer parameters after a sign-in): not a permission change."""
    table = register.tables["account"]
    with writing(register, "signing in") as connection:
        connection.execute(table.update().where(table.c.id == account_id).values(password_hash=password_hash))


def region_subtrees(register: Register, regions: Sequence[str]) -> dict[str, frozenset[str]]:
    """Each region's pcode with every admin area below it, by the gazetteer's ``parent_pcode`` links."""
    if not regions:
        return {}
    area = register.tables["admin_area"]
    live = area.c.deleted.is_(False)
    tree = (
        sa.select(area.c.pcode.label("root"), area.c.pcode.label("pcode"))
        .where(area.c.pcode.in_(sorted(set(regions))), live)
        .cte("subtree", recursive=True)
    )
    child = area.alias("child")
    tree = tree.union(
        sa.select(tree.c.root, child.c.pcode)
        .select_from(child.join(tree, child.c.parent_pcode == tree.c.pcode))
        .where(child.c.deleted.is_(False))
    )
    with reading(register, "reading the regions of grants") as connection:
        rows = connection.execute(sa.select(tree.c.root, tree.c.pcode)).all()
    out: dict[str, set[str]] = {r: {r} for r in regions}  # a region since removed still covers its own pcode
    for root, pcode in rows:
        out[root].add(pcode)
    return {k: frozenset(v) for k, v in out.items()}


def _located_by(entity_name: str) -> tuple[str, str] | None:
    """For a record without an admin area of its own, the link to the record that has one (an activity's
    hazard, a victim's accident), or None when the record has its own or none is linked."""
    spec = entity(entity_name)
    if "admin_pcode" in spec.field_map:
        return None
    for f in spec.fields:
        if f.link and "admin_pcode" in entity(f.link).field_map:
            return f.name, f.link
    return None


#: a scope as alternatives, any of which admits a record: (organisation or None for any, the pcodes
#: of a region or None for everywhere)
Alternatives = Sequence[tuple[str | None, frozenset[str] | None]]


def scope_clause(
    register: Register, entity_name: str, source: sa.FromClause, owner_field: str, alternatives: Alternatives
) -> sa.ColumnElement[bool]:
    """Records of ``source`` admitted by any alternative: owned by its organisation, and in its region by
    their own ``admin_pcode`` or their linked hazard's or accident's (an entity with neither is in no region)."""
    conditions = []
    for organisation, pcodes in alternatives:
        parts = []
        if organisation is not None:
            parts.append(source.c[owner_field] == organisation)
        if pcodes is not None:
            parts.append(_in_region(register, entity_name, source, pcodes))
        if not parts:
            return sa.true()
        conditions.append(sa.and_(*parts))
    return sa.or_(*conditions) if conditions else sa.false()


def _in_region(
    register: Register, entity_name: str, source: sa.FromClause, pcodes: frozenset[str]
) -> sa.ColumnElement[bool]:
    wanted = sorted(pcodes)
    if "admin_pcode" in entity(entity_name).field_map:
        return source.c.admin_pcode.in_(wanted)
    via = _located_by(entity_name)
    if via is None:
        return sa.false()
    link, parent = via
    table = register.tables[parent]
    return source.c[link].in_(sa.select(table.c.id).where(table.c.admin_pcode.in_(wanted)))


def linked_admin_pcodes(register: Register, entity_name: str, values: Sequence[Mapping[str, Any]]) -> list[str | None]:
    """The admin area of each record (``values`` as read), its own or its linked record's."""
    via = _located_by(entity_name)
    if via is None:
        return [v.get("admin_pcode") for v in values]
    link, parent = via
    ids = sorted({v[link] for v in values if v.get(link)})
    table = register.tables[parent]
    with reading(register, "reading admin areas of linked records") as connection:
        found = dict(connection.execute(
            sa.select(table.c.id, table.c.admin_pcode).where(table.c.id.in_(ids))
        ).all()) if ids else {}
    return [found.get(v.get(link)) for v in values]


# -- sessions and tokens -------------------------------------------------------


def insert_session(register: Register, *, digest: str, account_id: str, csrf_token: str,
                   created_at: dt.datetime, expires_at: dt.datetime) -> None:
    with writing(register, "opening a session") as connection:
        connection.execute(register.tables["web_session"].insert(), [{
            "digest": digest, "account_id": account_id, "csrf_token": csrf_token, "created_at": created_at,
            "expires_at": expires_at, "revoked": False,
        }])


def live_session(register: Register, digest: str, now: dt.datetime) -> tuple[str, str] | None:
    """Account id and CSRF token of an open session of an active account, or None."""
    table, account_table = register.tables["web_session"], register.tables["account"]
    with reading(register, "reading sessions") as connection:
        row = connection.execute(
            sa.select(table.c.account_id, table.c.csrf_token)
            .join(account_table, account_table.c.id == table.c.account_id)
            .where(table.c.digest == digest, table.c.revoked.is_(False), account_table.c.active.is_(True),
                   sa.or_(table.c.expires_at.is_(None), table.c.expires_at > now))
        ).first()
    return None if row is None else (row.account_id, row.csrf_token)


def revoke_session(register: Register, digest: str) -> None:
    table = register.tables["web_session"]
    with writing(register, "closing a session") as connection:
        connection.execute(table.update().where(table.c.digest == digest).values(revoked=True))


def insert_token(register: Register, *, digest: str, account_id: str, name: str,
                 created_at: dt.datetime, expires_at: dt.datetime) -> StoredToken:
    table = register.tables["api_token"]
    with writing(register, "issuing a token") as connection:
        token_id = connection.execute(table.insert().returning(table.c.id), [{
            "digest": digest, "account_id": account_id, "name": name, "created_at": created_at,
            "expires_at": expires_at,
        }]).scalar_one()
        return _tokens(register, connection, table.c.id == token_id)[0]


def live_token_account(register: Register, digest: str, now: dt.datetime) -> str | None:
    """The account of an unrevoked, unexpired token of an active account, or None."""
    table, account_table = register.tables["api_token"], register.tables["account"]
    with reading(register, "reading tokens") as connection:
        return connection.execute(
            sa.select(table.c.account_id)
            .join(account_table, account_table.c.id == table.c.account_id)
            .where(table.c.digest == digest, table.c.revoked_at.is_(None), table.c.expires_at > now,
                   account_table.c.active.is_(True))
        ).scalar()


def _tokens(register: Register, connection: sa.Connection, where: sa.ColumnElement[bool]) -> list[StoredToken]:
    table, account_table = register.tables["api_token"], register.tables["account"]
    rows = connection.execute(
        sa.select(table.c.id, table.c.account_id, account_table.c.username, table.c.name, table.c.created_at,
                  table.c.expires_at, table.c.revoked_at, table.c.revoked_by)
        .join(account_table, account_table.c.id == table.c.account_id)
        .where(where)
        .order_by(table.c.id)
    ).all()
    return [StoredToken(*r) for r in rows]


def tokens(register: Register, account_id: str | None = None) -> list[StoredToken]:
    """Tokens of one account (None: of every account), oldest first; secrets are not stored, so not shown."""
    table = register.tables["api_token"]
    where = sa.true() if account_id is None else table.c.account_id == account_id
    with reading(register, "reading tokens") as connection:
        return _tokens(register, connection, where)


def revoke_token(register: Register, token_id: int, *, by: str, at: dt.datetime) -> StoredToken:
    """Revoke one token by id; revoking a revoked one keeps its first revocation."""
    table = register.tables["api_token"]
    which = table.c.id == token_id
    with writing(register, "revoking a token") as connection:
        connection.execute(table.update().where(which, table.c.revoked_at.is_(None)).values(revoked_at=at, revoked_by=by))
        found = _tokens(register, connection, which)
    if not found:
        raise RecordNotFound(f"no API token {token_id}", hint="list tokens: GET /auth/tokens or mineaction token list")
    return found[0]


# -- sign-in throttles -----------------------------------------------------------


def throttle_blocks(register: Register, keys: Sequence[str], now: dt.datetime) -> dict[str, dt.datetime]:
    """Keys blocked at ``now``, with the time each block ends."""
    table = register.tables[THROTTLE_TABLE]
    with reading(register, "reading sign-in throttles") as connection:
        rows = connection.execute(
            sa.select(table.c.key, table.c.blocked_until).where(table.c.key.in_(keys), table.c.blocked_until > now)
        ).all()
    return {r.key: r.blocked_until for r in rows}


def count_failures(
    register: Register, keys: Mapping[str, tuple[str, str | None]], step: Callable[[str, Counter | None], Counter],
    *, forget_before: dt.datetime,
) -> dict[str, Counter]:
    """Apply ``step(key, counter)`` to the counter of each key (``key → (source, account id)``) in one transaction.

    The rows are created first and read locked, so two processes counting
    the same key at once both count. Counters whose last failure and block
    both ended before ``forget_before`` are deleted on the way, so that
    sources seen once do not pile up.
    """
    table = register.tables[THROTTLE_TABLE]
    if not keys:
        return {}
    out = {}
    with writing(register, "counting failed sign-ins") as connection:
        connection.execute(table.delete().where(
            table.c.last_failure_at < forget_before,
            sa.or_(table.c.blocked_until.is_(None), table.c.blocked_until < forget_before),
        ))
        query = sa.select(table).where(table.c.key.in_(sorted(keys))).order_by(table.c.key)
        if register.dialect == "postgresql":
            query = query.with_for_update()
            missing = [{"key": k, "source": s, "account_id": a, "failures": 0, "window_start": utcnow(),
                        "strikes": 0, "last_failure_at": utcnow(), "blocked_until": None}
                       for k, (s, a) in sorted(keys.items())]
            # an empty counter first, so that FOR UPDATE has a row to lock even for a key seen for the first time
            connection.execute(postgresql_insert(table).on_conflict_do_nothing(index_elements=["key"]), missing)
        rows = {r.key: r for r in connection.execute(query)}
        for key, (source, account_id) in sorted(keys.items()):
            row = rows.get(key)
            before = None if row is None or (row.failures == 0 and row.strikes == 0 and row.blocked_until is None) \
                else Counter(row.failures, row.window_start, row.strikes, row.last_failure_at, row.blocked_until)
            after = step(key, before)
            values = {"failures": after.failures, "window_start": after.window_start, "strikes": after.strikes,
                      "last_failure_at": after.last_failure_at, "blocked_until": after.blocked_until}
            if row is None:
                connection.execute(table.insert(), [{"key": key, "source": source, "account_id": account_id,
                                                           **values}])
            else:
                connection.execute(table.update().where(table.c.key == key).values(values))
            out[key] = after
    return out


def clear_throttles(register: Register, *, keys: Sequence[str] = (), account_id: str | None = None,
                    source: str | None = None) -> int:
    """Forget failed sign-ins: of these keys, of an account (from every source) and of a source (for every account)."""
    table = register.tables[THROTTLE_TABLE]
    conditions: list[sa.ColumnElement[bool]] = []
    if keys:
        conditions.append(table.c.key.in_(keys))
    if account_id is not None:
        conditions.append(table.c.account_id == account_id)
    if source is not None:
        conditions.append(table.c.source == source)
    if not conditions:
        return 0
    with writing(register, "clearing sign-in throttles") as connection:
        return connection.execute(table.delete().where(sa.or_(*conditions))).rowcount
