"""Alembic environment: runs on the connection handed over by ``store.migrate``."""

from alembic import context

from submarine_hub.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via store.migrate
    raise RuntimeError("Run migrations through submarine_hub.store.migrate.upgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
