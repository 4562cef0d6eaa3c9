"""A user of two teams in JupyterLab, in chromium: the status bar says which team and
environment the session runs for, and the Lab terminal has the platform's CLI on its
PATH, already logged in, acting for that team."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

from .helpers.browser import login
from .helpers.hub import Hub
from .helpers.sessions import ensure_session

pytestmark = [pytest.mark.hub, pytest.mark.browser]


def terminal_text(page) -> str:  # type: ignore[no-untyped-def]
    """What the terminal shows, read from xterm's screen-reader rows."""
    return "\n".join(page.locator(".jp-Terminal .xterm-accessibility-tree > div").all_inner_texts())


def test_the_lab_terminal_runs_the_cli_for_the_sessions_team(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    ensure_session(hub, "bob", "ml-platform")
    headers = {"Authorization": f"token {hub.token_for('bob')}"}
    # xterm draws on a canvas; its screen-reader mode keeps the rows as text too
    r = requests.put(
        hub.user_url("bob", "lab/api/settings/@jupyterlab/terminal-extension:plugin"),
        headers=headers,
        json={"raw": json.dumps({"screenReaderMode": True})},
        timeout=30,
    )
    assert r.status_code == 204, r.text
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(90_000)
    try:
        login(page, hub, "bob")
        page.wait_for_url(re.compile(r".*/user/bob/lab.*"))
        page.goto(hub.user_url("bob", "lab") + "?reset")
        status = page.locator('[data-testid="submarine-status"]')
        status.wait_for()
        assert status.inner_text() == "Submarine: ml-platform"
        assert "team ml-platform" in (status.get_attribute("title") or "")

        page.click('.jp-LauncherCard[data-category="Other"][title*="terminal"]')
        page.wait_for_selector(".jp-Terminal .xterm-helper-textarea")
        page.click(".jp-Terminal .xterm-screen")
        page.keyboard.type("which submarine python; submarine whoami; echo END-$((6*7))\n")
        deadline = time.monotonic() + 60
        while "END-42" not in (text := terminal_text(page)):
            assert time.monotonic() < deadline, text
            time.sleep(0.5)
        assert re.search(r"/bin/submarine\b", text), text  # on the PATH of the terminal
        assert re.search(r"/bin/python\b", text), text
        assert re.search(r"default team: ml-platform\b", text), text  # the session's team
        assert "Traceback" not in text and "command not found" not in text, text
    finally:
        page.close()
