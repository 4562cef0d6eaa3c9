"""A team's room in two browsers: alice and bob edit one notebook together in real time,
carol (another team) is refused, and bob, removed from the team, loses the room at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests

from .helpers.browser import IMAGES, dismiss_dialogs
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


def versions(hub: Hub, team: str, user: str) -> list[dict]:
    r = hub.api("GET", f"files/versions?space=team:{team}&path={NOTEBOOK}", user=user)
    r.raise_for_status()
    return r.json()["items"]


@pytest.fixture
def team(hub: Hub) -> Iterator[str]:
    """A team of alice and bob of this test's own, gone after it."""
    with new_team(hub, ["alice", "bob"]) as name:
        yield name


def test_two_members_edit_one_notebook_in_their_team_room(browser, hub: Hub, team: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
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
