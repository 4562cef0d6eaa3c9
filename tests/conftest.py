from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .hub import Hub


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One real JupyterHub for the whole test session, on free ports."""
    h = Hub(data_dir=tmp_path_factory.mktemp("hub"))
    h.start()
    try:
        yield h
    finally:
        h.stop()


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
