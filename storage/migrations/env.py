"""Alembic environment: migrations run on a connection that `storage.db` hands over."""

from alembic import context

from storage.models import Base, is_modelled

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through storage.db.Database.upgrade (visnyk db upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    include_name=is_modelled,
)
with context.begin_transaction():
    context.run_migrations()
