"""Named reads of records for the layers above storage.

Each function answers one question with plain arguments (entity names, ids,
a :class:`Scope`) and gives :class:`~mineaction.storage.records.Record`
objects or plain values back; the SQL stays here.
"""

from __future__ import annotations

import sqlalchemy as sa

from mineaction.domain.entities import entity
from mineaction.storage.records import Record, record_from_row
from mineaction.storage.register import Register
from mineaction.storage.transactions import reading

__all__ = ["latest_changeset", "live_id", "stored_version"]


def latest_changeset(register: Register) -> int:
    """Id of the newest changeset (0 for an empty register): changes whenever anything in the register does."""
    table = register.tables["changeset"]
    with reading(register, "reading the latest change") as connection:
        return connection.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()


def live_id(register: Register, entity_name: str, key: str) -> str | None:
    """Id of the live record whose id or ref is ``key``, or None."""
    table = register.tables[entity(entity_name).name]
    with reading(register, f"looking up {entity_name} {key}") as connection:
        return connection.execute(
            sa.select(table.c.id).where(sa.or_(table.c.id == key, table.c.ref == key), table.c.deleted.is_(False))
        ).scalar()


def stored_version(register: Register, entity_name: str, record_id: str) -> Record | None:
    """The current version of the record with this id, a deleted one included, or None."""
    table = register.tables[entity(entity_name).name]
    with reading(register, f"reading {entity_name}") as connection:
        row = connection.execute(sa.select(table).where(table.c.id == record_id)).first()
    return None if row is None else record_from_row(entity_name, row)
