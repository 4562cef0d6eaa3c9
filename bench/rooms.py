"""Team rooms: how fast an edit reaches the other client of a room, and how many
versions a scripted editing session leaves against the saves RTC issued.

    python bench/rooms.py                       # 200 edits, a 5-minute session
    python bench/rooms.py --duration 60         # a shorter session

Starts a real hub from the embedded config (as the tests do), makes a team of alice and
bob, opens its room and connects two collaboration clients (pycrdt documents over the
room's websocket, as JupyterLab's are, through the hub's proxy, with alice's and bob's
own tokens) to one notebook of the team's folder.

(a) Edit propagation: alice inserts a marker into a cell 200 times (one at a time, 20 ms
apart); each latency is from her insert to bob's document holding it. Prints p50/p95.
Target (issue 15): p95 < 250 ms.
(b) Versions against RTC saves: alice "types" for ``--duration`` seconds in bursts (a
character every 120 ms for ``--burst`` 0.5-3 s, then a ``--pause`` of 1.2-2.5 s; seeded).
RTC saves the document a second after each pause (``YDocExtension.document_save_delay``);
the room records at most one version per file per ``RoomContentsManager.version_interval``
(5 s). Prints the saves RTC issued (the room's log), the versions the platform recorded,
and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jupyter_ydoc import YNotebook
from pycrdt import Doc, Provider
from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from tests.helpers.hub import Hub
from tests.helpers.rooms import new_team, open_room, save_team_notebook

NOTEBOOK = "bench.ipynb"


class Socket:
    """A tornado websocket as a pycrdt channel."""

    def __init__(self, conn: WebSocketClientConnection, path: str) -> None:
        self.conn, self._path = conn, path

    @property
    def path(self) -> str:
        return self._path

    def __aiter__(self) -> Socket:
        return self

    async def __anext__(self) -> bytes:
        message = await self.recv()
        if message is None:
            raise StopAsyncIteration
        return message

    async def send(self, message: bytes) -> None:
        await self.conn.write_message(message, binary=True)

    async def recv(self) -> Any:
        return await self.conn.read_message()


async def connect(hub: Hub, account: str, team: str, user: str) -> Socket:
    """Open the notebook's collaboration room as ``user`` (their token, through the proxy)."""
    import httpx

    headers = {"Authorization": f"token {hub.token_for(user)}"}
    async with httpx.AsyncClient(headers=headers, timeout=60) as http:
        r = await http.put(
            hub.user_url(account, f"api/collaboration/session/teams/{team}/{NOTEBOOK}"),
            json={"format": "json", "type": "notebook"},
        )
        r.raise_for_status()
        session = r.json()
    room = f"{session['format']}:{session['type']}:{session['fileId']}"
    url = hub.user_url(account, f"api/collaboration/room/{room}?sessionId={session['sessionId']}")
    conn = await websocket_connect(HTTPRequest(url.replace("http", "ws", 1), headers=headers))
    return Socket(conn, room)


async def synced(doc: Doc, timeout: float = 60) -> Any:
    nb = YNotebook(doc)
    deadline = time.monotonic() + timeout
    while nb.cell_number < 1:
        if time.monotonic() > deadline:
            raise TimeoutError("the document did not sync")
        await asyncio.sleep(0.05)
    return nb.ycells[0]["source"]


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


async def propagation(alice_text: Any, bob_text: Any, edits: int) -> list[float]:
    arrived: dict[str, float] = {}
    waiting: dict[str, asyncio.Event] = {}

    def seen(_event: Any) -> None:
        now = time.perf_counter()
        text = str(bob_text)
        for marker, event in list(waiting.items()):
            if marker in text and marker not in arrived:
                arrived[marker] = now
                event.set()

    subscription = bob_text.observe(seen)
    latencies = []
    try:
        for i in range(edits):
            marker = f"<{i}>"
            waiting[marker] = asyncio.Event()
            start = time.perf_counter()
            alice_text += marker
            await asyncio.wait_for(waiting[marker].wait(), 30)
            latencies.append((arrived[marker] - start) * 1000)
            del waiting[marker]
            await asyncio.sleep(0.02)
    finally:
        bob_text.unobserve(subscription)
    return latencies


async def typing_session(
    alice_text: Any, duration: float, burst: tuple[float, float], pause: tuple[float, float]
) -> int:
    """Type in bursts for ``duration`` seconds (a character every 120 ms for ``burst``
    seconds, then a pause of ``pause`` seconds, both drawn uniformly, seeded); the
    characters typed."""
    rng = random.Random(15)
    typed = 0
    end = time.monotonic() + duration
    while time.monotonic() < end:
        burst_end = min(end, time.monotonic() + rng.uniform(*burst))
        while time.monotonic() < burst_end:
            alice_text += rng.choice("abcdefghij ")
            typed += 1
            await asyncio.sleep(0.12)
        await asyncio.sleep(min(max(0.0, end - time.monotonic()), rng.uniform(*pause)))
    return typed


def versions_of(hub: Hub, team: str) -> int:
    r = hub.api("GET", f"files/versions?space=team:{team}&path={NOTEBOOK}", user="alice")
    r.raise_for_status()
    return len(r.json()["items"])


def rtc_saves(hub: Hub, team: str) -> int:
    assert hub.log_path is not None
    line = f"Saving file: teams/{team}/{NOTEBOOK}"
    return hub.log_path.read_text(errors="replace").count(line)


async def run(hub: Hub, account: str, team: str, args: argparse.Namespace) -> None:
    alice_doc, bob_doc = Doc(), Doc()
    alice_socket = await connect(hub, account, team, "alice")
    bob_socket = await connect(hub, account, team, "bob")
    async with Provider(alice_doc, alice_socket), Provider(bob_doc, bob_socket):
        alice_text, bob_text = await synced(alice_doc), await synced(bob_doc)
        latencies = await propagation(alice_text, bob_text, args.edits)
        print(
            f"(a) edit propagation alice -> bob through the proxy, {len(latencies)} edits: "
            f"p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms, "
            f"max {max(latencies):.1f} ms, mean {statistics.mean(latencies):.1f} ms "
            f"(target p95 < 250 ms: {'met' if percentile(latencies, 95) < 250 else 'NOT met'})"
        )
        await asyncio.sleep(8)  # the propagation's own saves settle
        saves0, versions0 = rtc_saves(hub, team), versions_of(hub, team)
        typed = await typing_session(
            alice_text, args.duration, tuple(args.burst), tuple(args.pause)
        )
        await asyncio.sleep(8)  # RTC's last save (1 s) and the room's interval's end (5 s)
        saves, versions = rtc_saves(hub, team) - saves0, versions_of(hub, team) - versions0
    alice_socket.conn.close()
    bob_socket.conn.close()
    print(
        f"(b) {args.duration:.0f} s scripted session ({typed} characters; bursts "
        f"{args.burst[0]}-{args.burst[1]} s, pauses {args.pause[0]}-{args.pause[1]} s): RTC issued "
        f"{saves} saves, the platform recorded {versions} versions "
        f"(ratio versions/saves {versions / max(saves, 1):.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=200, help="edits timed in (a)")
    parser.add_argument("--duration", type=float, default=300, help="seconds of (b)")
    parser.add_argument(
        "--burst", type=float, nargs=2, default=[0.5, 3.0], help="typing burst, seconds (b)"
    )
    parser.add_argument(
        "--pause", type=float, nargs=2, default=[1.2, 2.5], help="pause after a burst (b)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp, "hub"))
        try:
            hub.start()
            with new_team(hub, ["alice", "bob"]) as team:
                save_team_notebook(hub, "alice", team, NOTEBOOK, ["x = 1"])
                room = open_room(hub, "alice", team)
                try:
                    asyncio.run(run(hub, room["account"], team, args))
                finally:
                    hub.stop_server(room["account"])
        finally:
            hub.stop()
            hub.cleanup()


if __name__ == "__main__":
    main()
