"""A team's room: the server of the team's collaboration account, with real-time
collaboration (jupyter-collaboration) on, opened by the team's members.

- :class:`RoomContentsManager` keeps the platform's history under RTC's saves: RTC saves
  a document about a second after each pause in typing; the room records at most one
  version of a file per ``version_interval`` seconds (the first save of a burst at once,
  the last one always, when the interval ends), each naming every member whose edits it
  holds. The room's saves report the time RTC last saved, so RTC does not mistake the
  room's own coalesced version for a change from outside; a version from elsewhere (a
  restore, a save from a personal session) is newer, and RTC loads it into the room,
  live for everyone in it.
- :class:`RoomAuthors` learns who edits what: every update of a shared document carries
  the Yjs client ids that made it, each client's awareness names its user, and only
  users whose websocket the server authenticated in that document count.
- :class:`RoomGuard` closes the websockets (documents, kernels, terminals) of anyone who
  is no longer a member of the team (JupyterHub refuses their next request by itself, once the room
  stops trusting its cached answer: ``HubOAuth.cache_max_age``, a few seconds here).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from pycrdt import Decoder, get_state
from traitlets import Float

from ..core import contentaddr
from ..core.spaces import TEAMS, space_of
from .contents import SessionContentsManager

AWARENESS_EVENTS = "https://schema.jupyter.org/jupyter_collaboration/awareness/v1"


def update_clients(update: bytes) -> set[int]:
    """The Yjs client ids whose insertions a document update holds (its state vector)."""
    decoder = Decoder(get_state(update))
    clients = set()
    for _ in range(decoder.read_var_uint()):
        clients.add(decoder.read_var_uint())
        decoder.read_var_uint()  # the clock
    return clients


def _ydoc_app(serverapp: Any) -> Any:
    """jupyter-collaboration's server extension (None when it is not loaded)."""
    apps = serverapp.extension_manager.extension_apps.get("jupyter_server_ydoc", ())
    return next(iter(apps), None)


class RoomAuthors:
    """Who edited which document of the room since its last version."""

    def __init__(self, serverapp: Any) -> None:
        self.serverapp = serverapp
        self.joined: dict[str, set[str]] = defaultdict(set)  # room id -> users seen in it
        self.edits: dict[str, list[str]] = defaultdict(list)  # path -> authors, in order
        self._observed: set[str] = set()

    def attach(self) -> bool:
        app = _ydoc_app(self.serverapp)
        if app is None:
            return False
        self.serverapp.event_logger.add_listener(schema_id=AWARENESS_EVENTS, listener=self._event)
        return True

    async def _event(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        room_id, user = data.get("roomid", ""), data.get("username", "")
        if data.get("action") != "join" or not room_id or not user:
            return
        self.joined[room_id].add(user)
        app = _ydoc_app(self.serverapp)
        room = app.ywebsocket_server.rooms.get(room_id) if app is not None else None
        if room is not None and room_id not in self._observed:
            self._observed.add(room_id)
            room.ydoc.observe(lambda event: self._edited(room_id, room, event.update))

    def _path(self, room_id: str) -> str | None:
        from jupyter_server_ydoc.utils import decode_file_path

        try:
            _, _, file_id = decode_file_path(room_id)
        except ValueError:
            return None
        ids = self.serverapp.web_app.settings.get("file_id_manager")
        return ids.get_path(file_id) if ids is not None else None

    def _edited(self, room_id: str, room: Any, update: bytes) -> None:
        try:
            clients = update_clients(update)
        except Exception:  # not an update we can read: nobody to credit
            return
        states = room.awareness.states
        for client in clients:
            user = (states.get(client) or {}).get("user") or {}
            name = user.get("username") if isinstance(user, dict) else None
            # a client's awareness says who it is; the server saw that user open this doc
            if name and name in self.joined[room_id]:
                path = self._path(room_id)
                if path and name not in self.edits[path]:
                    self.edits[path].append(name)

    def take(self, path: str) -> list[str]:
        return self.edits.pop(path.strip("/"), [])


def _username(handler: Any) -> str | None:
    """The hub name of whoever a websocket handler (or yws client) authenticated."""
    return getattr(getattr(handler, "current_user", None), "username", None)


def open_sockets(serverapp: Any) -> list[tuple[str, str, Any]]:
    """``(user, what, handler)`` of every websocket open on the server that runs as its
    visitors' code or shows them its files: collaboration documents, kernels, terminals."""
    found = []
    app = _ydoc_app(serverapp)
    if app is not None:
        for room in list(app.ywebsocket_server.rooms.values()):
            found += [(_username(c), "document", c) for c in list(room.clients)]
    # a kernel's websockets: jupyter-server's registry of open kernel sessions
    from jupyter_server.services.kernels.connection.channels import (
        ZMQChannelsWebsocketConnection,
    )

    sessions = getattr(ZMQChannelsWebsocketConnection, "_open_sessions", {})
    found += [(_username(h), "kernel", h) for h in list(sessions.values())]
    terminals = serverapp.web_app.settings.get("terminal_manager")
    for term in list(getattr(terminals, "terminals", {}).values()):
        found += [(_username(h), "terminal", h) for h in list(getattr(term, "clients", []))]
    return [(name, what, h) for name, what, h in found if name]


class RoomGuard:
    """Every few seconds, close the websockets (documents, kernels, terminals) of users
    who left the team: JupyterHub refuses their next request, but a websocket open
    already is never asked again."""

    def __init__(self, serverapp: Any, manager: RoomContentsManager, interval: float) -> None:
        self.serverapp = serverapp
        self.manager = manager
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception as e:  # the platform restarting, say: next time
                self.manager.log.warning("Could not check the room's members: %s", e)

    async def check(self) -> list[tuple[str, str]]:
        """Close the websockets of visitors who are not members any more; ``(user,
        what)`` of each one closed."""
        platform = self.manager.platform
        team = os.environ.get("SUBMARINE_TEAM", "")
        if platform is None or not team:
            return []
        sockets = [s for s in open_sockets(self.serverapp) if s[0] != self.manager.user]
        if not sockets:
            return []
        members = set((await platform.call("GET", f"teams/{team}"))["members"])
        closed: list[tuple[str, str]] = []
        for name, what, handler in sockets:
            if name in members:
                continue
            if not any(n == name for n, _ in closed):
                self.manager.log.warning("%s left team %s: closing their websockets", name, team)
            self.manager.log.info("Closing %s's %s websocket", name, what)
            with contextlib.suppress(Exception):  # closed meanwhile
                handler.close(4403, f"{name} is not a member of team {team} any more.")
            closed.append((name, what))
        return closed


class RoomContentsManager(SessionContentsManager):  # type: ignore[misc, valid-type]
    """The sessions' contents manager, with RTC's saves of team files coalesced into
    versions that name every author."""

    version_interval = Float(
        5.0,
        help="""At most one version of a team file per this many seconds while people type;
        the last save of a burst always becomes one when the interval ends.""",
    ).tag(config=True)

    access_recheck = Float(
        3.0, help="Seconds between two checks that everyone in the room is still a member."
    ).tag(config=True)

    authors: RoomAuthors | None = None
    guard: RoomGuard | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stamps: dict[str, tuple[int | None, datetime]] = {}  # path -> (version, time)
        self._held: dict[str, tuple[dict[str, Any], list[str]]] = {}  # path -> model, parts
        self._recorded_at: dict[str, float] = {}
        self._flushes: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.rtc_saves: dict[str, int] = defaultdict(int)
        self.versions: dict[str, int] = defaultdict(int)

    # --- start and stop (the server extension calls these) ---------------------------
    async def start_journal(self) -> None:
        await super().start_journal()
        serverapp = self.parent
        if serverapp is None or self.authors is not None:
            return
        self.authors = RoomAuthors(serverapp)
        if self.authors.attach():
            self.guard = RoomGuard(serverapp, self, self.access_recheck)
            self.guard.start()
            self.log.info("Team room: real-time collaboration on, versions coalesced")

    async def stop_journal(self) -> None:
        if self.guard is not None:
            await self.guard.stop()
        await self.record_held()  # nothing held is lost at a stop
        await super().stop_journal()

    async def record_held(self) -> None:
        """Record now the saves held for the end of their interval."""
        for key in list(self._held):
            task = self._flushes.get(key)
            if task is not None:
                task.cancel()
            await self._flush(key)

    # --- saves ---------------------------------------------------------------------------
    async def _team_save(self, model: dict[str, Any], parts: list[str]) -> dict[str, Any]:
        if model.get("type") == "directory" or len(parts) < 3 or model.get("chunk") is not None:
            return await super()._team_save(model, parts)
        key = "/".join(parts)
        self.rtc_saves[key] += 1
        now = datetime.now(timezone.utc)
        async with self._locks[key]:
            since = time.monotonic() - self._recorded_at.get(key, float("-inf"))
            if key not in self._flushes and since >= self.version_interval:
                number = await self._record(key, parts, model)
                self._stamps[key] = (number, now)
            else:  # within the interval: the newest content waits for its end
                self._held[key] = (model, parts)
                self._stamps[key] = (None, now)
                if key not in self._flushes:
                    delay = self.version_interval - since
                    self._flushes[key] = asyncio.create_task(self._flush_later(key, delay))
        return await self._team_get(parts, False, None, None)

    async def _record(self, key: str, parts: list[str], model: dict[str, Any]) -> int:
        assert self.platform is not None
        space, rel = space_of(key, self.user)
        content, fmt = self._version_of(model)
        authors = self.authors.take(key) if self.authors is not None else []
        version = await self.platform.record(rel, content, fmt, space=space, authors=authors)
        self._recorded_at[key] = time.monotonic()
        self.versions[key] += 1
        return int(version["number"])

    async def _flush_later(self, key: str, delay: float) -> None:
        await asyncio.sleep(max(0.0, delay))
        await self._flush(key)

    async def _flush(self, key: str) -> None:
        async with self._locks[key]:
            self._flushes.pop(key, None)
            held = self._held.pop(key, None)
            if held is None:
                return
            model, parts = held
            try:
                number = await self._record(key, parts, model)
            except Exception as e:
                self._held.setdefault(key, held)  # kept for the next save or the stop
                self.log.error("Could not record a version of %s: %s", key, e)
                return
            self._stamps[key] = (number, self._stamps.get(key, (None, _now()))[1])

    # --- reads: the room's own versions keep the time RTC saw -----------------------------
    async def _team_get(
        self,
        parts: list[str],
        content: bool,
        type: str | None,
        format: str | None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        key = "/".join(parts)
        held = self._held.get(key)
        if held is not None and type != "directory":
            return self._held_model(key, held[0], content, require_hash)
        return await super()._team_get(parts, content, type, format, require_hash)

    def _held_model(
        self, key: str, model: dict[str, Any], content: bool, require_hash: bool
    ) -> dict[str, Any]:
        data, fmt = self._version_of(model)
        when = self._stamps[key][1]
        _, rel = space_of(key, self.user)
        out = self._space_file_model(
            "/".join(key.split("/")[:2]),
            {"path": rel, "format": fmt, "created_at": when.isoformat(), "size": None},
            data if content else None,
        )
        if require_hash:
            blob = contentaddr.canonical(data) if fmt == "notebook" else str(data).encode()
            out["hash"], out["hash_algorithm"] = hashlib.sha256(blob).hexdigest(), "sha256"
        return out

    def _space_file_model(  # type: ignore[override]
        self, root: str, f: dict[str, Any], content: Any, writable: bool = True
    ) -> dict[str, Any]:
        model = SessionContentsManager._space_file_model(root, f, content, writable)
        if root.startswith(f"{TEAMS}/"):
            stamp = self._stamps.get(model["path"])
            number = f.get("number", f.get("latest"))
            if stamp is not None and (stamp[0] is None or stamp[0] == number):
                model["created"] = model["last_modified"] = stamp[1]
        return model


def _now() -> datetime:
    return datetime.now(timezone.utc)
