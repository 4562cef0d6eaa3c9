"""JupyterLab's own "Revert to Checkpoint" dialog lists the platform's versions."""

from __future__ import annotations

import re

import nbformat
import pytest
import requests

from .hub import DEMO_PASSWORD, Hub
from .test_browser import IMAGES, browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.hub, pytest.mark.browser]
PATH = "revert-me.ipynb"


def save(hub: Hub, i: int) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"value = {i}", id="c1")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    r = requests.put(
        hub.user_url("alice", f"api/contents/{PATH}"),
        headers={"Authorization": f"token {hub.token_for('alice')}"},
        json={"type": "notebook", "format": "json", "content": nb},
        timeout=60,
    )
    r.raise_for_status()


def test_revert_dialog_lists_every_version_and_restores_one(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    hub.spawn("alice")
    for i in range(1, 6):
        save(hub, i)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(90_000)
    try:
        page.goto(f"{hub.url}/hub/login")
        page.fill("#username_input", "alice")
        page.fill("#password_input", DEMO_PASSWORD)
        page.click("#login_submit")
        page.wait_for_url(re.compile(r".*/(hub/spawn|user/alice/lab).*"))
        page.goto(hub.user_url("alice", f"lab/tree/{PATH}"))
        page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content:has-text('value = 5')")
        if page.locator(".jp-Dialog").count():  # e.g. a kernel choice: not what we test
            page.keyboard.press("Escape")
        page.click(".lm-MenuBar-itemLabel:text-is('File')")
        page.click(".lm-Menu-itemLabel:has-text('Revert Notebook to Checkpoint')")
        select = page.wait_for_selector(".jp-Dialog select")
        options = select.query_selector_all("option")
        assert len(options) == 5  # one per saved version, newest first
        page.screenshot(path=str(IMAGES / "revert-to-checkpoint.png"))
        select.select_option(index=3)  # the 4th newest: version 2
        page.click(".jp-Dialog .jp-mod-accept")
        page.click(".jp-Dialog .jp-mod-accept:has-text('Revert')")
        page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content:has-text('value = 2')")
    finally:
        page.close()
    history = hub.api("GET", f"files/versions?space=user:alice&path={PATH}", user="alice")
    assert [v["number"] for v in history.json()["items"]][:1] == [6]  # the restore is a version
