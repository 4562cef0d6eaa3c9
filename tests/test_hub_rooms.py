"""Team rooms on the real hub, without a browser: JupyterHub's own home page lists the
user's team rooms, and a member who leaves the team has every websocket they hold open
in the room (kernels, documents) closed within seconds, not only new requests refused."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import websocket

from .helpers.hub import Hub
from .helpers.rooms import new_team, open_room, save_team_notebook

pytestmark = pytest.mark.hub
NOTEBOOK = "sockets.ipynb"


@pytest.fixture
def team(hub: Hub) -> Iterator[str]:
    """A team of alice and bob of this test's own, gone after it."""
    with new_team(hub, ["alice", "bob"]) as name:
        yield name


def test_the_hub_home_page_lists_the_users_team_rooms(hub: Hub, team: str) -> None:
    alice = hub.login("alice")
    page = alice.get(f"{hub.url}/hub/home", timeout=30)
    assert page.status_code == 200, page.text
    row = re.search(rf'<tr class="submarine-room" data-team="{team}">(.*?)</tr>', page.text, re.S)
    assert row, page.text[-3000:]
    assert "stopped" in row[1]  # never opened yet
    assert f'href="/services/submarine/rooms/{team}"' in row[1]
    assert "runs as the team" in page.text
    assert 'data-team="data-science"' in page.text  # each of her teams
    # carol (another team) sees no row of it, and its link refuses her
    carol = hub.login("carol")
    assert f'data-team="{team}"' not in carol.get(f"{hub.url}/hub/home", timeout=30).text
    link = f"{hub.url}/services/submarine/rooms/{team}"
    r = requests.get(
        link,
        headers={"Authorization": f"token {hub.token_for('carol')}"},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 403, r.text
    assert hub.hub_api("GET", f"users/collab-{team}").status_code == 404  # nothing made
    # a team that does not exist: 404
    r = requests.get(
        f"{hub.url}/services/submarine/rooms/no-such-team",
        headers={"Authorization": f"token {hub.token_for('alice')}"},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 404, r.text


class Socket:
    """A websocket of the room, opened with a member's token through the hub's proxy."""

    def __init__(self, url: str, user: str, hub: Hub) -> None:
        headers = {"Authorization": f"token {hub.token_for(user)}"}
        self.ws = websocket.create_connection(url.replace("http", "ws", 1), header=headers)
        self.close_code: int | None = None

    def closed_within(self, seconds: float) -> bool:
        """Read what comes until the server closes it (True) or ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.1, min(1.0, deadline - time.monotonic())))
            try:
                opcode, frame = self.ws.recv_data_frame(True)
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketConnectionClosedException, OSError):
                return True
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                data = frame.data or b""
                self.close_code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                return True
        return False


def kernel_socket(hub: Hub, account: str, user: str, kernel: str) -> Socket:
    session = uuid.uuid4().hex
    url = hub.user_url(account, f"api/kernels/{kernel}/channels?session_id={session}")
    return Socket(url, user, hub)


def document_socket(hub: Hub, account: str, team: str, user: str) -> Socket:
    r = requests.put(
        hub.user_url(account, f"api/collaboration/session/teams/{team}/{NOTEBOOK}"),
        headers={"Authorization": f"token {hub.token_for(user)}"},
        json={"format": "json", "type": "notebook"},
        timeout=30,
    )
    r.raise_for_status()
    s: dict[str, Any] = r.json()
    room = f"{s['format']}:{s['type']}:{s['fileId']}"
    url = hub.user_url(account, f"api/collaboration/room/{room}?sessionId={s['sessionId']}")
    return Socket(url, user, hub)


def test_a_member_who_leaves_has_their_open_websockets_closed(hub: Hub, team: str) -> None:
    save_team_notebook(hub, "alice", team, NOTEBOOK, ["x = 1"])
    room = open_room(hub, "alice", team)
    account = room["account"]
    started = hub.hub_api("GET", f"users/{account}").json()["servers"][""]["started"]
    sockets: list[Socket] = []
    try:
        r = requests.post(
            hub.user_url(account, "api/kernels"),
            headers={"Authorization": f"token {hub.token_for('bob')}"},
            json={},
            timeout=60,
        )
        assert r.status_code == 201, r.text  # bob, a member, starts a kernel of the room
        kernel = r.json()["id"]
        bob_kernel = kernel_socket(hub, account, "bob", kernel)
        alice_kernel = kernel_socket(hub, account, "alice", kernel)
        bob_doc = document_socket(hub, account, team, "bob")
        alice_doc = document_socket(hub, account, team, "alice")
        sockets = [bob_kernel, alice_kernel, bob_doc, alice_doc]
        for s in sockets:
            assert not s.closed_within(1), "a member's websocket closed by itself"
        with pytest.raises(websocket.WebSocketBadStatusException):  # another team's user
            kernel_socket(hub, account, "carol", kernel)

        removed = time.monotonic()
        hub.hub_api("DELETE", f"groups/{team}/users", json={"users": ["bob"]}).raise_for_status()
        assert bob_kernel.closed_within(30), "bob's kernel websocket stayed open"
        assert bob_doc.closed_within(max(1.0, 30 - (time.monotonic() - removed)))
        took = time.monotonic() - removed
        print(f"bob's kernel and document websockets closed {took:.1f} s after his removal began")
        assert bob_kernel.close_code == 4403, bob_kernel.close_code  # the room's "left the team"
        # alice, still a member, keeps hers; and bob cannot open a new one
        assert not alice_kernel.closed_within(2) and not alice_doc.closed_within(1)
        with pytest.raises(websocket.WebSocketBadStatusException):
            kernel_socket(hub, account, "bob", kernel)
        log = hub.log_tail(600)
        assert f"bob left team {team}: closing their websockets" in log
        assert "Closing bob's kernel websocket" in log
        server = hub.hub_api("GET", f"users/{account}").json()["servers"][""]
        assert server["started"] == started  # nothing restarted
    finally:
        for s in sockets:
            s.ws.close()
        hub.stop_server(account)
