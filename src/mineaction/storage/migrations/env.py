"""Alembic environment: runs on the connection the register hands it."""

from alembic import context

from mineaction.storage.schema import build_metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=build_metadata(connection.dialect.name))
with context.begin_transaction():
    context.run_migrations()
