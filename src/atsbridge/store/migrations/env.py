"""Alembic environment: runs migrations on the connection handed over by ``atsbridge.store.db.migrate``.

There is no ``alembic.ini`` and no offline (SQL script) mode: the store always migrates a live database, SQLite or
PostgreSQL. ``render_as_batch`` lets future revisions alter SQLite tables (copy-and-move) with the same code.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from atsbridge.store.tables import metadata

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
