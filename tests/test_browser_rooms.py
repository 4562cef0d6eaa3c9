"""A team's room in two browsers: alice and bob edit one notebook together in real time,
carol (another team) is refused, and bob, removed from the team, loses the room at once;
a restore shows live in both members' browsers (alice entering from the hub's home
page); and a notebook open both in a personal session and in the room loses no edit
silently (the personal side's "File Changed" dialog)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from .helpers.browser import IMAGES, dismiss_dialogs, login, open_lab
from .helpers.hub import Hub
from .helpers.rooms import VISIBLE_CELL, enter_room, new_team, open_room, save_team_notebook

pytestmark = [pytest.mark.hub, pytest.mark.browser]
NOTEBOOK = "together.ipynb"


def wait_notebook(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(f"{VISIBLE_CELL} .cm-content:has-text('x = 1')")
    dismiss_dialogs(page, 1000)


def type_in_cell(page, index: int, text: str) -> None:  # type: ignore[no-untyped-def]
    cell = page.locator(f"{VISIBLE_CELL} .cm-content").nth(index)
    cell.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def versions(hub: Hub, team: str, user: str, path: str = NOTEBOOK) -> list[dict]:
    r = hub.api("GET", f"files/versions?space=team:{team}&path={path}", user=user)
    r.raise_for_status()
    return r.json()["items"]


def source_of(hub: Hub, team: str, path: str, number: int) -> str:
    """The first cell's source in version ``number`` of a team notebook."""
    r = hub.api(
        "GET", f"files/content?space=team:{team}&path={path}&version={number}", user="alice"
    )
    r.raise_for_status()
    return "".join(r.json()["content"]["cells"][0]["source"])


def wait_versions(hub: Hub, team: str, path: str, ok, timeout: float = 60) -> list[dict]:  # type: ignore[no-untyped-def]
    """The file's history once ``ok(history)`` holds (newest first)."""
    deadline = time.monotonic() + timeout
    while True:
        found = versions(hub, team, "alice", path)
        if ok(found) or time.monotonic() > deadline:
            assert ok(found), found
            return found
        time.sleep(0.5)


def cell_text_lacks(page, text: str, timeout: float = 30_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until the notebook's first cell no longer shows ``text``."""
    page.wait_for_function(
        """([sel, text]) => {
            const cell = document.querySelector(sel);
            return cell !== null && !cell.textContent.includes(text);
        }""",
        arg=[f"{VISIBLE_CELL} .cm-content", text],
        timeout=timeout,
    )


@pytest.fixture
def team(hub: Hub) -> Iterator[str]:
    """A team of alice and bob of this test's own, gone after it."""
    with new_team(hub, ["alice", "bob"]) as name:
        yield name


def test_two_members_edit_one_notebook_in_their_team_room(
    browser: Any, hub: Hub, team: str, tmp_path: Path
) -> None:
    save_team_notebook(hub, "alice", team, NOTEBOOK, ["x = 1", "print('ran by ' + 'bob')"])
    room = open_room(hub, "alice", team)
    account = room["account"]
    started = hub.hub_api("GET", f"users/{account}").json()["servers"][""]["started"]
    url = f"{hub.url}{room['url']}/{quote(NOTEBOOK)}?reset"
    alice_ctx, alice, _ = enter_room(browser, hub, "alice", url)
    bob_ctx, bob, _ = enter_room(browser, hub, "bob", url)
    carol_ctx = None
    try:
        wait_notebook(alice)
        wait_notebook(bob)
        # each sees the other's typing within a second, and the other's named cursor
        type_in_cell(alice, 0, "  # alice was here")
        bob.wait_for_selector(
            f"{VISIBLE_CELL} .cm-content:has-text('# alice was here')", timeout=1000
        )
        type_in_cell(bob, 0, " and bob")
        alice.wait_for_selector(f"{VISIBLE_CELL} .cm-content:has-text('and bob')", timeout=1000)
        # the other's caret in the cell, flagged with their hub name (a CodeMirror tooltip,
        # faded out while they are idle)
        for page, other in ((alice, "bob"), (bob, "alice")):
            page.wait_for_selector(f"{VISIBLE_CELL} .jp-remote-cursor", state="attached")
            flag = f".jp-remote-userFlag-name:has-text('{other}')"
            page.wait_for_selector(flag, state="attached", timeout=20_000)
        # bob runs a cell of the room's kernel (the team's): alice sees its output
        bob.locator(f"{VISIBLE_CELL} .cm-content").nth(1).click()
        bob.keyboard.press("Shift+Enter")
        alice.wait_for_selector(f"{VISIBLE_CELL} .jp-OutputArea-output:has-text('ran by bob')")
        alice.screenshot(path=str(IMAGES / "team-room.png"))

        # the history lists the room's versions, naming both authors
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            authors = {a for v in versions(hub, team, "alice") for a in v["authors"]}
            if {"alice", "bob"} <= authors:
                break
            time.sleep(0.5)
        assert {"alice", "bob"} <= authors, versions(hub, team, "alice")

        # carol, of another team, is refused the room's URL
        carol_ctx, carol, _ = enter_room(browser, hub, "carol", url)
        carol.wait_for_selector("text=403")  # the hub's page: no access to the room's server
        assert "/lab" not in carol.url
        r = requests.get(
            hub.user_url(account, f"api/contents/teams/{team}/{NOTEBOOK}"),
            headers={"Authorization": f"token {hub.token_for('carol')}"},
            timeout=30,
        )
        assert r.status_code == 403, r.status_code

        # bob leaves the team: the room refuses him within seconds, nothing restarted
        contents = hub.user_url(account, f"api/contents/teams/{team}/{NOTEBOOK}?content=0")
        assert bob.request.get(contents).status == 200
        hub.hub_api("DELETE", f"groups/{team}/users", json={"users": ["bob"]}).raise_for_status()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and bob.request.get(contents).status == 200:
            time.sleep(0.5)
        assert bob.request.get(contents).status == 403
        assert alice.request.get(contents).status == 200
        while time.monotonic() < deadline and "bob left team" not in hub.log_tail(400):
            time.sleep(0.5)
        assert f"bob left team {team}: closing their websockets" in hub.log_tail(400)
        server = hub.hub_api("GET", f"users/{account}").json()["servers"][""]
        assert server["ready"] and server["started"] == started  # the room never restarted
    except BaseException:  # what each browser showed, and the hub's log, for the report
        for name, page in (("alice", alice), ("bob", bob)):
            page.screenshot(path=str(tmp_path / f"{name}.png"))
        (tmp_path / "hub.log").write_text(hub.log_tail(400))
        print(f"browser screenshots and the hub's log: {tmp_path}")
        raise
    finally:
        for ctx in (alice_ctx, bob_ctx, carol_ctx):
            if ctx is not None:
                ctx.close()
        hub.stop_server(account)


def test_a_restore_appears_live_to_everyone_in_the_room(  # type: ignore[no-untyped-def]
    browser, hub: Hub, team: str, tmp_path
) -> None:
    """alice opens the room from JupyterHub's own home page; bob by its link. An older
    version restored (by bob, through the API, as the history panel does) shows in both
    of their open notebooks without a reload."""
    path = "restore.ipynb"
    save_team_notebook(hub, "alice", team, path, ["x = 1"])
    first = versions(hub, team, "alice", path)[0]["number"]
    room = open_room(hub, "alice", team)
    account = room["account"]
    url = f"{hub.url}{room['url']}/{quote(path)}?reset"
    # alice: the hub's home page lists her team's room, running; its link opens it
    alice_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    alice = alice_ctx.new_page()
    alice.set_default_timeout(90_000)
    bob_ctx = None
    try:
        login(alice, hub, "alice")
        alice.wait_for_url(re.compile(r".*/(hub/|user/).*"))
        alice.goto(f"{hub.url}/hub/home")
        row = alice.locator(f'tr.submarine-room[data-team="{team}"]')
        assert row.locator(".submarine-room-state").inner_text().strip() == "ready"
        row.locator("a.submarine-room-open").click()
        alice.wait_for_url(re.compile(rf".*(oauth2/authorize|/user/{account}/lab).*"))
        if alice.locator("button:has-text('Authorize')").count():
            alice.click("button:has-text('Authorize')")
        alice.wait_for_url(re.compile(rf".*/user/{account}/lab.*"))
        alice.goto(url)
        bob_ctx, bob, _ = enter_room(browser, hub, "bob", url)
        for page in (alice, bob):
            wait_notebook(page)

        type_in_cell(alice, 0, "  # an edit to undo")
        bob.wait_for_selector(f"{VISIBLE_CELL} .cm-content:has-text('an edit to undo')")
        wait_versions(hub, team, path, lambda vs: "an edit to undo" in source_of(
            hub, team, path, vs[0]["number"]))  # fmt: skip

        # bad input and another team first: nothing changes
        restore = {"space": f"team:{team}", "path": path, "version": first}
        r = hub.api("POST", "files/restore", user="carol", json=restore)
        assert r.status_code == 403, r.text
        r = hub.api("POST", "files/restore", user="bob", json={**restore, "version": 9999})
        assert r.status_code == 404, r.text
        r = hub.api("POST", "files/restore", user="bob", json={**restore, "version": "one"})
        assert r.status_code == 400, r.text

        r = hub.api("POST", "files/restore", user="bob", json=restore)
        assert r.status_code == 201, r.text
        restored = time.monotonic()
        for page in (alice, bob):  # live, in both open notebooks
            cell_text_lacks(page, "an edit to undo")
            assert "x = 1" in page.locator(f"{VISIBLE_CELL} .cm-content").first.inner_text()
        print(f"the restore showed in both browsers {time.monotonic() - restored:.1f} s after")
        assert versions(hub, team, "alice", path)[0]["action"] in ("restore", "save")
        assert any(v["action"] == "restore" for v in versions(hub, team, "alice", path))
    except BaseException:
        alice.screenshot(path=str(tmp_path / "alice.png"))
        (tmp_path / "hub.log").write_text(hub.log_tail(400))
        print(f"browser screenshots and the hub's log: {tmp_path}")
        raise
    finally:
        for ctx in (alice_ctx, bob_ctx):
            if ctx is not None:
                ctx.close()
        hub.stop_server(account)


def test_a_notebook_open_in_a_personal_session_and_in_the_room_loses_no_edit(  # type: ignore[no-untyped-def]
    browser, hub: Hub, team: str, tmp_path
) -> None:
    """bob edits in the room; alice's personal session, which loaded the notebook
    before, is stopped by JupyterLab's "File Changed" dialog when she saves; she
    overwrites knowingly, the room shows her version live, and bob's edit is in the
    history."""
    path = "both.ipynb"
    save_team_notebook(hub, "alice", team, path, ["x = 1"])
    room = open_room(hub, "alice", team)
    account = room["account"]
    alice_ctx, alice = open_lab(browser, hub, "alice", f"teams/{team}/{path}")
    bob_ctx = None
    try:
        wait_notebook(alice)  # her personal session (RTC off there)
        assert "/user/alice/" in alice.url
        bob_ctx, bob, _ = enter_room(browser, hub, "bob", f"{hub.url}{room['url']}/{path}?reset")
        wait_notebook(bob)

        type_in_cell(bob, 0, "  # bob in the room")
        history = wait_versions(hub, team, path, lambda vs: "bob in the room" in source_of(
            hub, team, path, vs[0]["number"]))  # fmt: skip
        bobs = history[0]["number"]
        assert "bob" in history[0]["authors"]

        type_in_cell(alice, 0, "  # alice in her session")
        alice.keyboard.press("Control+s")
        dialog = alice.locator(".jp-Dialog")
        dialog.wait_for()
        assert "File Changed" in dialog.inner_text(), dialog.inner_text()
        alice.screenshot(path=str(tmp_path / "file-changed.png"))
        assert len(versions(hub, team, "alice", path)) == len(history)  # nothing written yet
        dialog.locator("button:has-text('Overwrite')").click()

        after = wait_versions(hub, team, path, lambda vs: "alice in her session" in source_of(
            hub, team, path, vs[0]["number"]))  # fmt: skip
        assert after[0]["author"] == "alice"
        assert "bob in the room" in source_of(hub, team, path, bobs)  # his edit is kept
        # the room loads her version live (a version newer than its own)
        bob.wait_for_selector(f"{VISIBLE_CELL} .cm-content:has-text('alice in her session')")
    except BaseException:
        alice.screenshot(path=str(tmp_path / "alice.png"))
        (tmp_path / "hub.log").write_text(hub.log_tail(400))
        print(f"browser screenshots and the hub's log: {tmp_path}")
        raise
    finally:
        for ctx in (alice_ctx, bob_ctx):
            if ctx is not None:
                ctx.close()
        hub.stop_server(account)
        hub.stop_server("alice")  # her session ran with a team this test deletes
