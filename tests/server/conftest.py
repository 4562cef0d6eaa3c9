"""The single-user server extension in this process, with pytest-jupyter's ``jp_fetch``.

The one boundary between the extension and the platform is the platform's HTTP API (what
``AsyncSubmarineClient`` calls): behind it runs the in-process service of
:mod:`tests.helpers.service` (its real handlers and metastore, a fake hub directory), on
its own thread and port. The Jupyter server is pytest-jupyter's, on pytest-asyncio's
event loop: its fixtures are used, its own loop and test-running hooks are not.

Each test's server runs for ``session`` (a user of a team of its own, made for the test)
with ``SubmarineContentsManager`` and the extension enabled, as a hub session is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from pytest_jupyter import jupyter_server as _jupyter_server
from pytest_jupyter.jupyter_server import *  # noqa: F403  (the jp_ fixtures)
from traitlets.config import Config

from submarine_hub.server.handlers import _Relay

from ..helpers.service import InProcessService

# pytest-jupyter's hooks would run coroutine tests on a loop of their own; pytest-asyncio
# runs them here, on the loop the server below is started on
del pytest_pycollect_makeitem, pytest_pyfunc_call  # noqa: F821
assert _jupyter_server  # the plugin module is imported for its fixtures only


@pytest.fixture(autouse=True)
async def jp_asyncio_loop() -> AsyncIterator[asyncio.AbstractEventLoop]:
    """pytest-asyncio's loop (pytest-jupyter's own closes the loop after each test)."""
    yield asyncio.get_running_loop()


@dataclass
class Session:
    """Whom the server runs for, and the platform behind it."""

    user: str
    team: str
    other_team: str  # a team the user is not in
    service: InProcessService


@pytest.fixture
def session(service: InProcessService, monkeypatch: pytest.MonkeyPatch) -> Session:
    team = service.new_team("lab")
    other_team = service.new_team("lab-other", [service.new_user("stranger")])
    user = service.new_user("lab", [team])
    monkeypatch.setenv("SUBMARINE_API_URL", service.api_url().rstrip("/"))
    monkeypatch.setenv("SUBMARINE_TOKEN", service.token_for(user))
    monkeypatch.setenv("SUBMARINE_TEAM", team)
    monkeypatch.setattr(_Relay, "_client", None)  # one client per server, made for this one
    return Session(user, team, other_team, service)


@pytest.fixture
def jp_server_config(session: Session, tmp_path: Any) -> Config:
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"submarine_hub.server": True},
                "contents_manager_class": "submarine_hub.server.contents.SubmarineContentsManager",
            },
            "SubmarineContentsManager": {
                "user": session.user,
                "journal_fsync": False,
                "journal_dir": str(tmp_path / "journal"),
                "history_wait": 5.0,
            },
        }
    )
