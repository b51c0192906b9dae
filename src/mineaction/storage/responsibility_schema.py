"""Tables of data responsibility: the tombstones left by erasing personal data.

``redaction_log`` records every erasure: who, when, why (and on which basis:
a person's request or the end of a retention period), which record and which
fields, and how many stored versions were rewritten. It never holds the
erased values. It is append-only, like history: a tombstone that could be
edited would prove nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

from mineaction.storage.access_schema import append_only
from mineaction.storage.column_types import TIMESTAMP, JSONText

__all__ = ["REDACTION_LOG", "add_responsibility_tables"]

REDACTION_LOG = "redaction_log"
_APPEND_ONLY = "the redaction log is append-only: erasures are never undone or hidden"


def add_responsibility_tables(metadata: sa.MetaData, dialect: str) -> None:
    """Add ``redaction_log`` (and its append-only triggers) to the register's metadata."""
    table = sa.Table(
        REDACTION_LOG,
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recorded_at", TIMESTAMP, nullable=False, index=True),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("basis", sa.Text, nullable=False),  # request | retention
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("record_id", sa.Text, nullable=False, index=True),
        sa.Column("record_ref", sa.Text, nullable=False),
        sa.Column("fields", JSONText, nullable=False),
        sa.Column("versions", sa.Integer, nullable=False),  # history versions rewritten
        sa.Column("changeset_id", sa.Integer, sa.ForeignKey("changeset.id"), nullable=False),
        comment="Erasures of personal data: who, when, why, which record and fields; never the values.",
    )
    append_only(table, dialect, _APPEND_ONLY)
