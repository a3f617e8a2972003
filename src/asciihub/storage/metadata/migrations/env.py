"""Alembic environment: runs on a connection handed in by ``migrate.upgrade``."""

from __future__ import annotations

from alembic import context

from asciihub.storage.metadata.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    message = "run migrations through `asciihub migrate`, which supplies the connection"
    raise RuntimeError(message)

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
