"""JupyterLab's own "Revert to Checkpoint" dialog lists the platform's versions."""

from __future__ import annotations

import re

import nbformat
import pytest
import requests

from .helpers.browser import IMAGES, dismiss_dialogs, login, save_notebook
from .helpers.hub import Hub
from .helpers.sessions import ensure_session

pytestmark = [pytest.mark.hub, pytest.mark.browser]
PATH = "revert-me.ipynb"
# The cell of the notebook in the current tab, not of one hidden behind it.
VISIBLE_CELL = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"


def test_revert_dialog_lists_every_version_and_restores_one(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    ensure_session(hub, "bob")
    for i in range(1, 6):
        save_notebook(hub, "bob", PATH, [("c1", f"value = {i}")])
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(90_000)
    try:
        login(page, hub, "bob")
        page.wait_for_url(re.compile(r".*/(hub/spawn|user/bob/lab).*"))
        page.goto(hub.user_url("bob", f"lab/tree/{PATH}") + "?reset")
        page.wait_for_selector(f"{VISIBLE_CELL} .cm-content:has-text('value = 5')")
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
        page.wait_for_selector(f"{VISIBLE_CELL} .cm-content:has-text('value = 2')")
    finally:
        page.close()
    # through the session, which waits for its journal of saves first
    history = requests.get(
        hub.user_url("bob", f"submarine/api/v1/files/versions?space=user:bob&path={PATH}"),
        headers={"Authorization": f"token {hub.token_for('bob')}"},
        timeout=60,
    )
    assert [v["number"] for v in history.json()["items"]][:1] == [6]  # the restore is a version


def open_lab_page(chromium, hub: Hub, user: str, path: str):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(90_000)
    login(page, hub, user)
    page.wait_for_url(re.compile(rf".*/(hub/spawn|user/{user}/lab).*"))
    # ?reset: start from an empty workspace, so tabs restored from an earlier test (hidden
    # notebooks with cells of their own) are not in the page.
    page.goto(hub.user_url(user, f"lab/tree/{path}") + "?reset")
    page.wait_for_selector(f"{VISIBLE_CELL} .cm-content")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator, .jp-KernelStatus", state="attached")
    dismiss_dialogs(page, 1000)
    return context, page


def edit_and_save(page, text: str) -> None:  # type: ignore[no-untyped-def]
    dismiss_dialogs(page, 1000)
    page.click(f"{VISIBLE_CELL} .cm-content")
    page.keyboard.press("End")
    page.keyboard.type(text)
    page.keyboard.press("Control+s")


def test_a_stale_save_in_a_team_folder_gets_the_file_changed_dialog(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    hub.spawn("alice")
    ensure_session(hub, "bob", "data-science")
    path = "teams/data-science/conflict.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("shared = 1", id="c1")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    requests.put(
        hub.user_url("alice", f"api/contents/{path}"),
        headers={"Authorization": f"token {hub.token_for('alice')}"},
        json={"type": "notebook", "format": "json", "content": nb},
        timeout=60,
    ).raise_for_status()
    alice_ctx, alice = open_lab_page(browser, hub, "alice", path)
    bob_ctx, bob = open_lab_page(browser, hub, "bob", path)
    try:
        edit_and_save(bob, "  # bob")
        bob.wait_for_selector(f"{VISIBLE_CELL} .cm-content:has-text('# bob')")
        deadline = 60
        for _ in range(deadline * 2):  # bob's save has reached the platform
            latest = hub.api(
                "GET", "files/versions?space=team:data-science&path=conflict.ipynb", user="bob"
            ).json()["items"][0]
            if latest["author"] == "bob":
                break
            bob.wait_for_timeout(500)
        assert latest["author"] == "bob"
        edit_and_save(alice, "  # alice")
        dialog = alice.wait_for_selector(".jp-Dialog:has-text('File Changed')")
        assert "changed on disk" in dialog.inner_text()
        alice.screenshot(path=str(IMAGES / "team-folder-conflict.png"))
    finally:
        alice_ctx.close()
        bob_ctx.close()
    history = hub.api(
        "GET", "files/versions?space=team:data-science&path=conflict.ipynb", user="alice"
    ).json()["items"]
    assert history[0]["author"] == "bob"  # alice's stale copy did not overwrite silently
