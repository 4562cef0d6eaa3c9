"""Apply Alembic migrations under a lock, so concurrent service replicas never race.

PostgreSQL: a session-level advisory lock held on the migrating connection.
SQLite: an exclusive file lock beside the database file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from filelock import FileLock
from sqlalchemy import Connection, create_engine, text

from .db import configure_engine, database_urls

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# An arbitrary constant that names "the Submarine Hub metastore migration" lock.
ADVISORY_LOCK_KEY = 0x5B3A_7E11
LOCK_TIMEOUT_S = 600


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def _sqlite_lock(database: str | None) -> Iterator[None]:
    if not database or database == ":memory:":
        yield
        return
    with FileLock(f"{database}.migrate.lock", timeout=LOCK_TIMEOUT_S):
        yield


def upgrade(url: str, revision: str = "head") -> str | None:
    """Bring the database at ``url`` to ``revision``; return the revision it is at afterwards."""
    sync_url, _ = database_urls(url)
    if sync_url.get_backend_name() == "sqlite" and sync_url.database not in (None, "", ":memory:"):
        Path(sync_url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = configure_engine(create_engine(sync_url))
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
                conn.commit()
                try:
                    return _upgrade_on(conn, revision)
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                    conn.commit()
        with _sqlite_lock(sync_url.database), engine.connect() as conn:
            return _upgrade_on(conn, revision)
    finally:
        engine.dispose()


def _upgrade_on(conn: Connection, revision: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    before = MigrationContext.configure(conn).get_current_revision()
    command.upgrade(alembic_config(conn), revision)
    conn.commit()
    after = MigrationContext.configure(conn).get_current_revision()
    if before != after:
        log.info("metastore migrated", extra={"from_revision": before, "to_revision": after})
    return after


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    sync_url, _ = database_urls(url)
    engine = configure_engine(create_engine(sync_url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
