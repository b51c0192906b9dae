"""Tables of accounts and access: who may sign in, with which roles, and the
append-only audit logs: every read of victims' personal data, every change
of an account or its grants.

They live in the register's own database so that a grant, a session and the
audit entry of a read commit with the same guarantees as the register itself
(revision 0001 creates every table ``build_metadata`` returns and lists the
non-entity ones in ``gpkg_contents``).

Secrets are never stored: passwords as Argon2id hashes, session ids and API
tokens as SHA-256 digests of random values, so a copy of the file grants
nothing. Failed sign-ins are counted here too (``login_throttle``), so every
worker process and every server on the same register sees the same counts.
"""

from __future__ import annotations

import sqlalchemy as sa

from mineaction.storage.column_types import TIMESTAMP, JSONText

__all__ = ["AUDIT_TABLE", "PERMISSION_LOG", "THROTTLE_TABLE", "add_access_tables", "append_only"]

AUDIT_TABLE = "personal_data_read"
PERMISSION_LOG = "permission_change"
THROTTLE_TABLE = "login_throttle"


def add_access_tables(metadata: sa.MetaData, dialect: str) -> None:
    """Add ``account``, ``account_grant``, ``web_session``, ``api_token``, ``login_throttle`` and the two audit logs."""
    sa.Table(
        "account",
        metadata,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("username", sa.Text, nullable=False, unique=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        comment="People and scripts that sign in; Argon2id password hashes.",
    )
    grant = sa.Table(
        "account_grant",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Text, sa.ForeignKey("account.id"), nullable=False),
        # NULL: every organisation (national authority staff)
        sa.Column("organisation_id", sa.Text),
        # NULL: everywhere; else an admin area's pcode, covering its whole subtree of the gazetteer
        sa.Column("region", sa.Text),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("personal_data", sa.Boolean, nullable=False, default=False),
        sa.Column("granted_by", sa.Text, nullable=False),
        sa.Column("granted_at", TIMESTAMP, nullable=False),
        comment="A role in one organisation (or all) and region (or all), and whether it may read personal data.",
    )
    sa.Index("ix_account_grant_account_id", grant.c.account_id)
    sa.Table(
        "web_session",
        metadata,
        sa.Column("digest", sa.Text, primary_key=True),  # SHA-256 of the secret
        sa.Column("account_id", sa.Text, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("csrf_token", sa.Text, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP),
        sa.Column("revoked", sa.Boolean, nullable=False, default=False),
    )
    token = sa.Table(
        "api_token",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # what listings show and revocation names
        sa.Column("digest", sa.Text, nullable=False, unique=True),  # SHA-256 of the secret
        sa.Column("account_id", sa.Text, sa.ForeignKey("account.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),  # every token expires
        sa.Column("revoked_at", TIMESTAMP),
        sa.Column("revoked_by", sa.Text),
        comment="API tokens for scripts and GIS clients: SHA-256 digests, each expiring and revocable.",
    )
    sa.Index("ix_api_token_account_id", token.c.account_id)
    throttle = sa.Table(
        THROTTLE_TABLE,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        # "source <address>", or "account <account id> <address>": one account's failures from one source
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("account_id", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False),  # in the window that began at window_start
        sa.Column("window_start", TIMESTAMP, nullable=False),
        sa.Column("strikes", sa.Integer, nullable=False),  # how often the limit was reached: the back-off doubles
        sa.Column("last_failure_at", TIMESTAMP, nullable=False),
        sa.Column("blocked_until", TIMESTAMP),
        comment="Failed sign-ins per source and per account from a source, shared by every server process.",
    )
    sa.Index("ix_login_throttle_account_id", throttle.c.account_id)
    audit = sa.Table(
        AUDIT_TABLE,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("read_at", TIMESTAMP, nullable=False, index=True),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("username", sa.Text, nullable=False),  # copied: survives account changes
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("record_id", sa.Text, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),  # the request that read it
        comment="Every read of personal data (victims): who, when, which record and fields.",
    )
    append_only(audit, dialect, "the personal data read log is append-only")
    changes = sa.Table(
        PERMISSION_LOG,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("changed_at", TIMESTAMP, nullable=False, index=True),
        sa.Column("changed_by", sa.Text, nullable=False),  # who made the change (username or tool)
        sa.Column("account_id", sa.Text, nullable=False, index=True),
        sa.Column("username", sa.Text, nullable=False),  # copied: survives account changes
        sa.Column("action", sa.Text, nullable=False),  # create | grant | revoke | disable | enable
        # {"active": bool, "grants": [{"organisation_id", "role", "personal_data"}]}; state_before is NULL on create
        sa.Column("state_before", JSONText),
        sa.Column("state_after", JSONText, nullable=False),
        comment="Every change of an account or its grants: who, when, the account, its grants before and after.",
    )
    append_only(changes, dialect, "the permission change log is append-only")


def append_only(table: sa.Table, dialect: str, message: str) -> None:
    """Triggers refusing UPDATE and DELETE on ``table`` with ``message``, created with the table."""
    if dialect == "postgresql":
        function = f"{table.name}_refuse"
        statements = [
            (
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$ "
                f"BEGIN RAISE EXCEPTION '{message}'; END $$ LANGUAGE plpgsql"
            ),
            (
                f'CREATE TRIGGER "{table.name}_append_only" BEFORE UPDATE OR DELETE ON "{table.name}" '
                f"FOR EACH ROW EXECUTE FUNCTION {function}()"
            ),
        ]
    else:
        statements = [
            f'CREATE TRIGGER "{table.name}_no_{action.lower()}" BEFORE {action} ON "{table.name}" '
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            for action in ("UPDATE", "DELETE")
        ]
    for statement in statements:
        sa.event.listen(table, "after_create", sa.DDL(statement))
