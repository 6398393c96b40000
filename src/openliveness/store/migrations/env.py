"""Alembic environment: runs on the connection `store.migrate` hands over (never builds its own engine)."""

from alembic import context

from openliveness.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `openliveness migrate` (it provides the database connection)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
