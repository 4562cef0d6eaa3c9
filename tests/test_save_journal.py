"""The journal of saves with the shared hub: a save is acknowledged once it is journaled;
the journal reaches the platform in order, exactly once, after the platform or the
session's server was down.

A session server killed with saves queued while the service hangs; in-process contents
managers (as the bench runs them) behind a gate that cuts the platform off; a conflict
recorded on top; a refused record kept; a user of another team refused. The journal on
disk alone is tested in ``test_save_journal_disk.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests
from tornado import web

from submarine_hub.core import contentaddr
from submarine_hub.server import journal as journal_mod
from submarine_hub.server import journal_push
from submarine_hub.server.contents import SessionContentsManager, SubmarineContentsManager
from submarine_hub.server.journal import JournalFolder

from .helpers.api import wait_for
from .helpers.hub import Hub, free_port, service_pid, service_up


def book(i: int) -> dict[str, Any]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"value = {i}", id="c1")]
    return nbformat.from_dict(nb)


def value_of(content: dict[str, Any]) -> int:
    return int(content["cells"][0]["source"].split("=")[1])


# --- with the hub ------------------------------------------------------------------------
def put(hub: Hub, user: str, path: str, content: dict[str, Any]) -> requests.Response:
    return requests.put(
        hub.user_url(user, f"api/contents/{path}"),
        headers={"Authorization": f"token {hub.token_for(user)}"},
        json={"type": "notebook", "format": "json", "content": content},
        timeout=60,
    )


def via_session(hub: Hub, user: str, path: str) -> requests.Response:
    """The versions API through the session's server extension (it flushes first)."""
    return requests.get(
        hub.user_url(user, f"submarine/api/v1/{path}"),
        headers={"Authorization": f"token {hub.token_for(user)}"},
        timeout=60,
    )


def home_journal(hub: Hub, user: str) -> Path:
    return hub.home(user) / ".submarine" / "journal" / "default"


def values_in_history(hub: Hub, user: str, space: str, path: str) -> list[int]:
    """The notebook's ``value`` in each version, oldest first."""
    items = hub.api("GET", f"files/versions?space={space}&path={path}", user=user).json()["items"]
    values = []
    for v in reversed(items):
        r = hub.api(
            "GET", f"files/content?space={space}&path={path}&version={v['number']}", user=user
        )
        values.append(value_of(r.json()["content"]))
    return values


@contextlib.contextmanager
def service_frozen(hub: Hub) -> Iterator[int]:
    """The platform service stopped (SIGSTOP): it accepts connections, answers nothing.
    Killed on the way out; the hub restarts it (we wait for it)."""
    pid = service_pid(hub)
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: service_up(hub), 120, "the hub to restart the service")


@pytest.mark.hub
@pytest.mark.slow
def test_a_killed_server_replays_its_journal_in_order_exactly_once(hub: Hub) -> None:
    hub.spawn("alice")
    path, other = f"replayed-{uuid.uuid4().hex[:8]}.ipynb", "replayed-other.ipynb"
    put(hub, "alice", path, book(0)).raise_for_status()
    assert via_session(hub, "alice", f"files/versions?space=user:alice&path={path}").ok

    with service_frozen(hub):
        saved = []
        for i in range(1, 7):
            start = time.monotonic()
            r = put(hub, "alice", path, book(i))
            assert r.status_code == 200, r.text
            assert time.monotonic() - start < 5, "a save waited for the platform"
            saved.append(path)
            if i % 3 == 0:
                put(hub, "alice", other, book(100 + i)).raise_for_status()
                saved.append(other)
        # all of them wait in the journal, in the order they were saved
        assert [h["path"] for h in journal_mod.queued(home_journal(hub, "alice"))] == saved

        # history through the session: not without them (503 after history_wait)
        r = via_session(hub, "alice", f"files/versions?space=user:alice&path={path}")
        assert r.status_code == 503, r.text
        assert "journal" in r.json()["message"]

        pid = hub.hub_api("GET", "users/alice").json()["servers"][""]["state"]["pid"]
        os.kill(pid, signal.SIGKILL)  # the session's server, its saves still queued

    hub.stop_server("alice")
    hub.spawn("alice")  # replays the journal
    r = via_session(hub, "alice", f"files/versions?space=user:alice&path={path}")
    assert r.status_code == 200, r.text
    assert values_in_history(hub, "alice", "user:alice", path) == list(range(7))
    assert journal_mod.queued(home_journal(hub, "alice")) == []


class Gate:
    """A TCP relay to the platform service that can be shut: closed, nothing listens on
    its port (connections refused), as when the service is down."""

    def __init__(self, target: str) -> None:
        host, _, port = target.removeprefix("http://").partition(":")
        self.target = (host, int(port))
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.streams: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/submarine/api/v1"

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for stream in self.streams:  # kept-alive connections too
                stream.close()
            await self.server.wait_closed()
            self.server = None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.streams |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            finally:
                dst.close()

        with contextlib.suppress(asyncio.CancelledError):  # the loop's end
            await asyncio.gather(
                pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True
            )


@pytest.fixture
async def gate(hub: Hub) -> AsyncIterator[Gate]:
    g = Gate(hub.service_url)
    try:
        yield g
    finally:
        await g.close()


def manager(
    hub: Hub,
    gate: Gate,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    user: str = "alice",
    cls: type[SubmarineContentsManager] = SubmarineContentsManager,
) -> SubmarineContentsManager:
    """A versioned contents manager in this process, like a session's, reaching the
    platform through ``gate``."""
    monkeypatch.setenv("SUBMARINE_API_URL", gate.url)
    monkeypatch.setenv("SUBMARINE_TOKEN", hub.token_for(user))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(home.parent / "jupyter-data"))
    home.mkdir(parents=True, exist_ok=True)
    return cls(
        root_dir=str(home),
        user=user,
        push_retry_interval=0.2,
        push_retry_max=1.0,
        history_wait=5.0,
        log=logging.getLogger("test-journal"),
    )


async def save(mgr: SubmarineContentsManager, path: str, i: int) -> None:
    await mgr.save({"type": "notebook", "format": "json", "content": book(i)}, path)


async def close(mgr: SubmarineContentsManager) -> None:
    await mgr.stop_journal()
    assert mgr.platform is not None
    await mgr.platform.client.close()


@pytest.mark.hub
async def test_saves_while_the_platform_is_down_reach_it_once_it_is_back(
    hub: Hub,
    gate: Gate,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mgr = manager(hub, gate, tmp_path / "home", monkeypatch)  # the gate is shut: down
    path, other = f"offline-{uuid.uuid4().hex[:8]}.ipynb", f"offline-{uuid.uuid4().hex[:8]}.txt"
    caplog.set_level(logging.INFO, logger="test-journal")
    try:
        for i in range(1, 7):
            await save(mgr, path, i)  # acknowledged
            if i == 3:
                await mgr.save({"type": "file", "format": "text", "content": "notes"}, other)
        await mgr.delete_file(other)
        assert mgr.journal is not None
        assert [e.key[1] for e in mgr.journal.pending] == [path] * 3 + [other] + [path] * 3 + [
            other
        ]
        assert not await mgr.flush_saves()  # one retry, now; still down: no wait
        with pytest.raises(web.HTTPError) as refused:
            await mgr.checkpoints.list_checkpoints(path)
        assert refused.value.status_code == 503
        assert "Could not record" in caplog.text  # the push warns, and retries

        await gate.open()  # the platform is back
        assert await mgr.flush_saves()
        checkpoints = await mgr.checkpoints.list_checkpoints(path)
        assert [c["id"] for c in checkpoints] == [str(n) for n in range(1, 7)]
        assert values_in_history(hub, "alice", "user:alice", path) == list(range(1, 7))
        other_history = hub.api(
            "GET", f"files/versions?space=user:alice&path={other}", user="alice"
        ).json()["items"]
        assert [v["action"] for v in other_history] == ["delete", "save"]
        assert journal_mod.queued(mgr.journal.disk.folder) == []
        assert "reachable again" in caplog.text
    finally:
        await close(mgr)


@pytest.mark.hub
async def test_a_record_the_platform_has_already_is_not_recorded_twice(
    hub: Hub, gate: Gate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, path = tmp_path / "home", f"twice-{uuid.uuid4().hex[:8]}.ipynb"
    await gate.open()
    first = manager(hub, gate, home, monkeypatch)
    try:
        await save(first, path, 1)
        assert await first.flush_saves()
        await gate.close()
        await save(first, path, 2)  # queued
        # the platform gets it, but the server dies before it could mark it done
        assert first.platform is not None and first.journal is not None
        task = first.journal._task
        assert task is not None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await gate.open()
        data = (home / path).read_bytes()
        manifest, parts = contentaddr.split(nbformat.reads(data, as_version=4), "notebook")
        key = first.journal.pending[0].header["id"]
        stored = await first.platform.post(
            "user:alice", path, manifest, parts, len(data), idempotency_key=key
        )
        assert stored.status_code == 201, stored.text
    finally:
        await close(first)

    second = manager(hub, gate, home, monkeypatch)  # the server again: replays
    try:
        await second.start_journal()
        assert await second.flush_saves()
        await save(second, path, 3)
        assert await second.flush_saves()
        assert values_in_history(hub, "alice", "user:alice", path) == [1, 2, 3]
    finally:
        await close(second)


@pytest.mark.hub
async def test_a_replay_sends_each_record_again_by_its_key_without_reading_history(
    hub: Hub, gate: Gate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, path = tmp_path / "home", f"keyed-{uuid.uuid4().hex[:8]}.ipynb"
    first = manager(hub, gate, home, monkeypatch)  # the platform is down
    try:
        for i in (1, 2, 3):
            await save(first, path, i)
        assert first.platform is not None and first.journal is not None
        entries = list(first.journal.pending)
        await gate.open()
        # the platform gets the first two, the server dies before it marks them done
        for entry in entries[:2]:
            data = first.journal.disk.data(entry.seq)
            manifest, parts = contentaddr.split(nbformat.reads(data, as_version=4), "notebook")
            stored = await first.platform.post(
                "user:alice", path, manifest, parts, len(data), idempotency_key=entry.header["id"]
            )
            assert stored.status_code == 201, stored.text
    finally:
        await close(first)

    # the replay costs one request per record: no history, no content read back
    looked: list[int] = []

    async def in_history(self: Any, entry: Any, *args: Any) -> bool:
        looked.append(entry.seq)
        return False

    monkeypatch.setattr(journal_push.JournalPusher, "_in_history", in_history)
    second = manager(hub, gate, home, monkeypatch)
    try:
        await second.start_journal()
        assert await second.flush_saves()
        assert looked == []
        assert values_in_history(hub, "alice", "user:alice", path) == [1, 2, 3]
    finally:
        await close(second)


@pytest.mark.hub
async def test_a_version_that_came_in_meanwhile_gets_the_save_on_top(
    hub: Hub,
    gate: Gate,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = f"on-top-{uuid.uuid4().hex[:8]}.ipynb"
    await gate.open()
    mgr = manager(hub, gate, tmp_path / "home", monkeypatch)
    try:
        await save(mgr, path, 1)
        assert await mgr.flush_saves()
        await gate.close()
        await save(mgr, path, 2)  # queued, based on version 1...
        restored = hub.api(  # ...while a restore from elsewhere makes version 2
            "POST",
            "files/restore",
            user="alice",
            json={"space": "user:alice", "path": path, "version": 1},
        )
        assert restored.status_code == 201, restored.text
        await gate.open()
        assert await mgr.flush_saves()
        history = hub.api(
            "GET", f"files/versions?space=user:alice&path={path}", user="alice"
        ).json()["items"]
        assert [(v["number"], v["action"]) for v in history] == [
            (3, "save"),
            (2, "restore"),
            (1, "save"),
        ]
        assert "recorded on top" in history[0]["message"]
        assert values_in_history(hub, "alice", "user:alice", path) == [1, 1, 2]
        assert "changed on the platform while a save was queued" in caplog.text
    finally:
        await close(mgr)


@pytest.mark.hub
async def test_a_refused_record_is_kept_aside_and_does_not_block_the_others(
    hub: Hub,
    gate: Gate,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    home, path = tmp_path / "home", f"after-refusal-{uuid.uuid4().hex[:8]}.ipynb"
    # a record left in the journal for a space this user may not write
    disk = JournalFolder(home / ".submarine" / "journal", "default")
    disk.open()
    header = {
        "seq": disk.next_seq(),
        "action": "save",
        "space": "user:bob",
        "path": "not-yours.ipynb",
        "format": "notebook",
        "saved_at": "2026-01-01T00:00:00+00:00",
        "author": "alice",
    }
    disk.write(header, (json.dumps(book(0)) + "\n").encode())
    disk.close()

    await gate.open()
    mgr = manager(hub, gate, home, monkeypatch)
    try:
        await save(mgr, path, 1)  # replays the journal first
        assert await mgr.flush_saves()
        assert values_in_history(hub, "alice", "user:alice", path) == [1]
        failed = home / ".submarine" / "journal" / "default" / "failed"
        assert (failed / f"{header['seq']}.record").exists()
        assert "HTTP 403" in (failed / f"{header['seq']}.reason").read_text()
        assert "refused a queued save of not-yours.ipynb" in caplog.text
        assert journal_mod.queued(home / ".submarine" / "journal" / "default") == []
    finally:
        await close(mgr)


@pytest.mark.hub
async def test_a_user_of_another_team_is_still_refused(
    hub: Hub, gate: Gate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await gate.open()
    carol = manager(hub, gate, tmp_path / "carol", monkeypatch, "carol", SessionContentsManager)
    path = f"teams/data-science/intruder-{uuid.uuid4().hex[:8]}.ipynb"
    try:
        with pytest.raises(web.HTTPError) as refused:
            await save(carol, path, 0)
        assert refused.value.status_code == 403
        assert carol.journal is not None and carol.journal.pending == []
        # and a member's save there is in the team's history at once (no journal)
        alice = manager(hub, gate, tmp_path / "alice", monkeypatch, "alice", SessionContentsManager)
        try:
            member_path = path.replace("intruder", "member")
            await alice.save(
                {"type": "notebook", "format": "json", "content": copy.deepcopy(book(5))},
                member_path,
            )
            rel = member_path.split("/", 2)[2]
            seen = hub.api("GET", f"files/content?space=team:data-science&path={rel}", user="bob")
            assert seen.status_code == 200 and value_of(seen.json()["content"]) == 5
        finally:
            await close(alice)
    finally:
        await close(carol)


class ProxyPage:
    """What the hub's proxy answers for the platform while the service is down: an HTML
    503 page, for every request."""

    PAGE = b"<html><body><h1>503: Service Unavailable</h1></body></html>"

    def __init__(self) -> None:
        self.port = free_port()
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/submarine/api/v1"

    async def __aenter__(self) -> ProxyPage:
        self.server = await asyncio.start_server(self._answer, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (int(line.split(b":")[1]) for line in head.split(b"\r\n")
                 if line.lower().startswith(b"content-length:")), 0,
            )  # fmt: skip
            await reader.readexactly(length)
            writer.write(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(self.PAGE), self.PAGE)
            )
            await writer.drain()
        writer.close()


@pytest.mark.hub
async def test_a_team_folder_save_while_the_platform_is_down_answers_503_with_a_message(
    hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"teams/data-science/down-{uuid.uuid4().hex[:8]}.ipynb"
    async with ProxyPage() as proxy:
        gate = Gate(hub.service_url)
        gate.port = proxy.port  # the manager reaches the proxy's page, not the service
        alice = manager(hub, gate, tmp_path / "alice", monkeypatch, "alice", SessionContentsManager)
        try:
            with pytest.raises(web.HTTPError) as refused:
                await save(alice, path, 1)
            assert refused.value.status_code == 503
            assert "not available" in (refused.value.log_message or "")
            # the platform went down after the session learnt its teams: the save itself
            # is refused with 503 (it was a 500: the proxy's page is not JSON, and
            # jupytext turns every error of a save into a 500)

            async def teams() -> list[str]:
                return ["data-science"]

            monkeypatch.setattr(alice, "_my_teams", teams)
            with pytest.raises(web.HTTPError) as refused:
                await save(alice, path, 1)
            assert refused.value.status_code == 503
            assert "not available" in (refused.value.log_message or "")
        finally:
            await close(alice)
    # and with nothing listening at all (connection refused): 503 too
    gate = Gate(hub.service_url)
    alice = manager(hub, gate, tmp_path / "alice2", monkeypatch, "alice", SessionContentsManager)
    try:
        with pytest.raises(web.HTTPError) as refused:
            await save(alice, path, 1)
        assert refused.value.status_code == 503
    finally:
        await close(alice)
