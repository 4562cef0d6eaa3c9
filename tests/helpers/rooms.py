"""Team rooms on the shared test hub: a team of the test's own, its room opened and
joined in a browser as a member would (docs/collaboration.md)."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .browser import login
from .hub import Hub

#: the cell of the notebook in the current tab, not of one hidden behind it
VISIBLE_CELL = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"


@contextmanager
def new_team(hub: Hub, members: list[str]) -> Iterator[str]:
    """A hub group (a team) of the test's own, with ``members``, deleted when the block
    ends: the shared hub's users (alice, bob) must not stay in a third team, or every later
    test that counts on their teams would have to choose one."""
    team = f"rtc-{secrets.token_hex(3)}"
    hub.hub_api("POST", f"groups/{team}").raise_for_status()
    try:
        hub.hub_api("POST", f"groups/{team}/users", json={"users": members}).raise_for_status()
        wait_teams(hub, members, team, True)
        yield team
    finally:
        hub.hub_api("DELETE", f"groups/{team}").raise_for_status()
        wait_teams(hub, members, team, False)


def wait_teams(hub: Hub, users: list[str], team: str, member: bool, timeout: float = 30) -> None:
    """Until the service sees ``users`` in ``team`` (or out of it): it keeps users' groups
    from the hub for a few seconds (``SubmarineService.hub_cache_seconds``)."""
    deadline = time.monotonic() + timeout
    for user in users:
        while time.monotonic() < deadline:
            teams = {t["name"] for t in hub.api("GET", "me", user=user).json()["teams"]}
            if (team in teams) == member:
                break
            time.sleep(0.5)


def open_room(hub: Hub, member: str, team: str, timeout: float = 300) -> dict[str, Any]:
    """Open ``team``'s room as ``member`` and wait until its server is ready."""
    r = hub.api("POST", f"teams/{team}/room", user=member)
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        room = hub.api("GET", f"teams/{team}/room", user=member).json()
        if room["state"] == "ready":
            return room
        if room["state"] == "stopped":
            raise AssertionError(
                f"the room did not start: {hub.spawn_failure(room['account'])}\n{hub.log_tail()}"
            )
        time.sleep(0.5)
    raise AssertionError(f"the room did not start in time:\n{hub.log_tail()}")


def save_team_notebook(hub: Hub, user: str, team: str, path: str, sources: list[str]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, id=f"c{i}") for i, src in enumerate(sources)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    r = hub.api(
        "POST",
        "files/versions",
        user=user,
        json={"space": f"team:{team}", "path": path, "format": "notebook", "content": nb},
    )
    assert r.status_code == 201, r.text


def enter_room(chromium: Any, hub: Hub, user: str, url: str) -> tuple[Any, Any, Any]:
    """Log ``user`` in, in a browser context of their own, and open ``url`` in the room
    (confirming, once, JupyterHub's "Authorize access" to the team's server); the
    context, the page and the first answer to ``url``."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(90_000)
    login(page, hub, user)
    page.wait_for_url(re.compile(r".*/(hub/|user/).*"))
    answer = page.goto(url)
    if page.locator("button:has-text('Authorize')").count():
        page.click("button:has-text('Authorize')")
    return context, page, answer
