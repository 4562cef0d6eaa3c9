from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from submarine_hub.store import database_urls

from .helpers.hub import Hub

pytest_plugins = ["tests.helpers.browser"]  # the browser fixture

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


@pytest.fixture(autouse=True)
def _no_ambient_submarine_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never pick up the developer's own login or session."""
    for var in ("SUBMARINE_API_URL", "SUBMARINE_TOKEN", "JUPYTERHUB_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SUBMARINE_CONFIG", str(tmp_path / "submarine-config.json"))


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
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'meta.sqlite'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set SUBMARINE_TEST_DB_URL to test on it")
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
