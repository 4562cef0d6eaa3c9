"""JupyterLab in Debian's chromium, driven by Playwright, against the real hub: the
``browser`` fixture and what the browser tests do in a page."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from .hub import DEMO_PASSWORD, Hub
from .sessions import ensure_session

CHROMIUM = os.environ.get("SUBMARINE_TEST_CHROMIUM", "/usr/bin/chromium")
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
# Without these Chromium keeps calling out to Google, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PANEL = "#submarine-hub-panel"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless chromium for a module's tests (skipped where there is none)."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no chromium at {CHROMIUM} (scripts/bootstrap --test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def login(page: Any, hub: Hub, user: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the hub's form, as a person would."""
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")


def tid(name: str) -> str:
    """The Submarine panel's element with ``data-testid=name``."""
    return f'{PANEL} [data-testid="{name}"]'


def open_lab(chromium: Any, hub: Hub, user: str, path: str = "") -> tuple[Any, Any]:
    """Log in as ``user`` and open the lab (on ``path``) from a fresh workspace."""
    ensure_session(hub, user)
    # JupyterLab's own "get notified about Jupyter news?" toast would cover the screenshots
    requests.put(
        hub.user_url(user, "lab/api/settings/@jupyterlab/apputils-extension:notification"),
        headers={"Authorization": f"token {hub.token_for(user)}"},
        json={"raw": '{"fetchNews": "false"}'},
        timeout=30,
    ).raise_for_status()
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    login(page, hub, user)
    page.wait_for_url(re.compile(rf".*/user/{user}/lab.*"))
    # ?reset: no tabs restored from an earlier test
    page.goto(hub.user_url(user, f"lab/tree/{path}" if path else "lab") + "?reset")
    page.wait_for_selector('.jp-SideBar [data-id="submarine-hub-panel"]')
    return context, page


def open_panel(page: Any, tab: str) -> None:
    """Open the Submarine panel's ``tab``."""
    if not page.locator(PANEL).is_visible():
        page.click('.jp-SideBar [data-id="submarine-hub-panel"]')
    page.wait_for_selector(tid("submarine-user"))
    page.click(tid(f"submarine-tab-{tab}"))


def widen_sidebar(page: Any, width: int = 420) -> None:
    """Drag the left sidebar's edge, as a person would, for roomier screenshots."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    assert box
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(width, y, steps=5)
    page.mouse.up()


def dismiss_dialogs(page: Any, settle_ms: int = 500) -> None:
    """Kernel choices and other prompts are not what these tests are about."""
    page.wait_for_timeout(settle_ms)
    while page.locator(".jp-Dialog").count():
        page.keyboard.press("Escape")
        page.wait_for_timeout(300)


def set_theme(page: Any, theme: str) -> None:
    page.click(".lm-MenuBar-itemLabel:text-is('Settings')")
    page.click(".lm-Menu-itemLabel:text-is('Theme')")
    page.click(f".lm-Menu-itemLabel:text-is('{theme}')")
    light = "true" if "Light" in theme else "false"
    page.wait_for_selector(f"body[data-jp-theme-light='{light}']", state="attached")
    page.wait_for_timeout(500)  # the theme's CSS applied


def save_notebook(hub: Hub, user: str, path: str, cells: list[tuple[str, str]]) -> None:
    """Save ``cells`` (id, source) as the notebook ``path`` of ``user``'s session."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, id=cell_id) for cell_id, src in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    r = requests.put(
        hub.user_url(user, f"api/contents/{path}"),
        headers={"Authorization": f"token {hub.token_for(user)}"},
        json={"type": "notebook", "format": "json", "content": nb},
        timeout=60,
    )
    r.raise_for_status()
