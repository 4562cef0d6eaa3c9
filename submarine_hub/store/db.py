"""Engines and sessions for the metastore.

A user gives one URL (``sqlite:///path`` or ``postgresql://...``); we derive the
synchronous URL Alembic needs and the asynchronous URL the web layers use.
SQLite runs in WAL mode with foreign keys enforced.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 30_000

_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


def database_urls(url: str) -> tuple[URL, URL]:
    """Return ``(sync_url, async_url)`` for a user-facing database URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _SYNC_DRIVERS:
        raise ValueError(
            f"Unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
            "use sqlite:///PATH or postgresql://USER@HOST/DB"
        )
    return (
        parsed.set(drivername=_SYNC_DRIVERS[backend]),
        parsed.set(drivername=_ASYNC_DRIVERS[backend]),
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the driver, begins transactions (see _sqlite_begin)
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: Set (``reading(True)``) while serving a request that only reads (a GET): its
#: transactions on SQLite then begin deferred, and never queue for the write lock.
_READING: ContextVar[bool] = ContextVar("submarine_db_reading", default=False)


def reading(flag: bool) -> None:
    """Mark what this context (a request's task) does next as reading only, or not."""
    _READING.set(flag)


def _sqlite_begin(conn: Any) -> None:
    # A writer takes the write lock when its transaction starts: a WAL transaction that
    # read first cannot always upgrade to a writer when another one wrote meanwhile
    # ("database is locked"); with BEGIN IMMEDIATE it waits its turn (busy_timeout)
    # instead. A reader begins deferred: WAL readers never wait for the writer, so reads
    # no longer queue one by one behind every write (and each other) for the lock.
    conn.exec_driver_sql("BEGIN" if _READING.get() else "BEGIN IMMEDIATE")


def configure_engine(engine: Engine) -> Engine:
    """Install per-connection settings (SQLite pragmas, transaction start) on a sync engine."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


class Database:
    """The metastore's async engine and session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.sync_url, self.async_url = database_urls(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.async_url.get_backend_name() == "postgresql":
            kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=10)
        self.engine: AsyncEngine = create_async_engine(self.async_url, **kwargs)
        configure_engine(self.engine.sync_engine)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        #: SQLite has one writer at a time. Writers of this process queue here, in order,
        #: rather than in SQLite's busy handler, which sleeps in growing steps between
        #: tries (16 clients: write p99 1.8 s that way). Other processes still meet the
        #: busy timeout.
        self._writer = asyncio.Lock() if self.dialect == "sqlite" else None
        self._writing: asyncio.Task[Any] | None = None  # the task whose turn it is

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error.

        On SQLite, a session outside a reading request (see :func:`reading`) first waits
        for the process's other writing sessions to end. One opened inside another (in the
        same task), or after the busy timeout, goes straight to SQLite as it would without
        the queue: the queue orders writers, it never makes a deadlock of its own."""
        task = asyncio.current_task()
        if self._writer is None or _READING.get() or self._writing is task:
            async with self.sessionmaker() as session, session.begin():
                yield session
            return
        with contextlib.suppress(asyncio.TimeoutError):  # then without a turn, as SQLite would
            await asyncio.wait_for(self._writer.acquire(), SQLITE_BUSY_TIMEOUT_MS / 1000)
            self._writing = task
        try:
            async with self.sessionmaker() as session, session.begin():
                yield session
        finally:
            if self._writing is task:
                self._writing = None
                self._writer.release()

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
