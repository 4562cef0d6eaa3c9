from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from submarine_hub.store import database_urls

from .helpers.hub import Hub
from .helpers.service import ROUTE_SUMMARY, SERVER_SUMMARY, InProcessService

pytest_plugins = ["tests.helpers.browser"]  # the browser fixture

#: Markers that take a test out of the fast tier (see pytest_collection_modifyitems).
NOT_FAST = ("hub", "browser", "slow", "local")

PG_URL = os.environ.get("SUBMARINE_TEST_DB_URL")


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One real JupyterHub for the whole test session, on free ports."""
    h = Hub(data_dir=tmp_path_factory.mktemp("hub"))
    try:
        h.start()
        yield h
    finally:  # also when it did not come up: its proxy, service and accounts go
        h.stop()
        h.cleanup()


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessService]:
    """The platform service in this process (its real handlers and metastore, a fake hub
    directory, fake experiment and endpoint backends), for the whole test session: on
    PostgreSQL when SUBMARINE_TEST_DB_URL is set (the hub's service stays on SQLite), else
    on SQLite. Users alice, bob, carol and admin in teams data-science and ml-platform, as
    on the demo hub; :meth:`InProcessService.new_team` makes a team of a test's own."""
    with _database(
        tmp_path_factory.mktemp("service-db"), "postgresql" if PG_URL else "sqlite"
    ) as url:
        s = InProcessService(tmp_path_factory.mktemp("service"), url).start()
        try:
            yield s
        finally:
            s.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tiers: a test using the ``hub`` or ``browser`` fixture is marked so; a test marked
    none of hub, browser, slow and local is ``fast`` (no hub, no browser, no processes to
    wait for: ``pytest -m fast`` runs in well under a minute). The route tests' coverage
    checks (``test_every_handler_...``) run last."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        for marker in ("hub", "browser"):
            if marker in names and not item.get_closest_marker(marker):
                item.add_marker(marker)
        if not any(item.get_closest_marker(m) for m in NOT_FAST):
            item.add_marker(pytest.mark.fast)
    # the route tests' coverage checks read what the tests before them called: last
    items.sort(key=lambda item: item.name.startswith("test_every_handler_"))


@pytest.fixture(autouse=True)
def _no_ambient_submarine_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never pick up the developer's own login or session."""
    for var in ("SUBMARINE_API_URL", "SUBMARINE_TOKEN", "JUPYTERHUB_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SUBMARINE_CONFIG", str(tmp_path / "submarine-config.json"))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say how many routes of the service and of the server extension the route tests
    covered (when they ran)."""
    for key in (ROUTE_SUMMARY, SERVER_SUMMARY):
        if key in config.stash:
            terminalreporter.write_line(config.stash[key])


def pytest_report_header(config: pytest.Config) -> list[str]:
    url = os.environ.get("SUBMARINE_TEST_DB_URL")
    return [
        "metastore tests: SQLite"
        + (
            f" and PostgreSQL ({url})"
            if url
            else " only (set SUBMARINE_TEST_DB_URL for PostgreSQL)"
        )
    ]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("PostgreSQL not configured: set SUBMARINE_TEST_DB_URL to test on it")
    with _database(tmp_path, request.param) as url:
        yield url


@contextlib.contextmanager
def _database(folder: Path, kind: str) -> Iterator[str]:
    """A fresh, empty database: SQLite in ``folder``, or a new one on PG_URL's server."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'meta.sqlite'}"
        return
    assert PG_URL
    name = f"submarine_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_urls(PG_URL)[0], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
