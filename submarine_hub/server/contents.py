"""Versioned contents for sessions: every save kept by the platform, team folders.

``SubmarineContentsManager`` is jupyter-server's large-file manager plus:

- every save of a notebook or file in your folders is a version in the platform (space
  ``user:<you>``): the save writes its version record (the file's bytes, where, when) to
  a write-ahead journal on the session's disk, fsync'd, then the file, and is
  acknowledged; a background task sends the journal to the platform in order, and
  replays it after a restart (see :mod:`.journal`). Reads of history through the session
  (checkpoints, the versions API through the server extension) wait for the file's
  queued saves first, so you never see history missing a save of yours;
- ``teams/<team>/`` is a virtual folder per team you belong to, backed by the
  platform's store (the platform is that folder's only copy, so its saves go straight
  to it): members read and write, everyone else is refused, and ``last_modified`` is the
  newest version's, so JupyterLab's "File Changed" dialog catches a save based on a
  stale version;
- ``shared/users/<owner>/`` and ``shared/teams/<team>/`` hold the files others shared
  with you, read-only or writable as the share says (their saves are versions in the
  owner's space);
- checkpoints are the platform's versions: JupyterLab's "Revert to checkpoint" lists
  them, and restoring one writes it back (as a new version).

Without a platform (no ``SUBMARINE_API_URL``) it behaves like the plain manager.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import posixpath
import uuid
from base64 import decodebytes
from collections import OrderedDict
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import nbformat
from anyio.to_thread import run_sync
from jupyter_server.services.contents.checkpoints import (
    AsyncCheckpoints,
    AsyncGenericCheckpointsMixin,
)
from jupyter_server.services.contents.filecheckpoints import AsyncFileCheckpoints
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web
from traitlets import Bool, Float, Integer, Unicode, default

from ..client.client import AsyncSubmarineClient
from ..client.config import NotConfigured
from ..client.errors import SubmarineAPIError, error_message
from ..core import contentaddr
from ..core.errors import InvalidInput
from ..core.spaces import SHARED, TEAMS, folder_of, shared_path, space_of
from .journal import JournalError, JournalFolder, Slot
from .journal_push import JournalPusher

KNOWN_PARTS = 50_000


@dataclass(frozen=True)
class _Saving:
    """The versioned save in progress in this task: API path, and where it goes."""

    path: str
    space: str
    rel: str
    restored_from: int | None = None  # a checkpoint restore: recorded as a "restore"


_SAVING: ContextVar[_Saving | None] = ContextVar("submarine_saving", default=None)
#: The version a save in this task writes back (JupyterLab's "Revert to checkpoint").
_RESTORING: ContextVar[int | None] = ContextVar("submarine_restoring", default=None)


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def platform_error(resp: httpx.Response, what: str) -> web.HTTPError:
    """The error to answer for a platform's failed answer: its 4xx as it is; a 5xx (the
    proxy's page while the service is down or restarting, say) as 503, with a message."""
    if resp.status_code < 500:
        return web.HTTPError(resp.status_code, f"{what}: {error_message(resp)}")
    return web.HTTPError(
        503,
        f"{what}: the platform is not available (HTTP {resp.status_code}); try again in a moment.",
    )


class PlatformFiles:
    """The platform's versioned-file API, as the contents manager uses it."""

    def __init__(self, client: AsyncSubmarineClient, user: str) -> None:
        self.client = client
        self.user = user
        self._known: OrderedDict[str, None] = OrderedDict()  # parts the platform has

    def locate(self, path: str) -> tuple[str, str]:
        """``(space, path in it)`` of a path of this session: :func:`~..core.spaces.space_of`."""
        return space_of(path, self.user)

    def remember(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._known[key] = None
            self._known.move_to_end(key)
        while len(self._known) > KNOWN_PARTS:
            self._known.popitem(last=False)

    async def post(
        self,
        space: str,
        path: str,
        manifest: dict[str, Any],
        parts: dict[str, bytes],
        size: int,
        *,
        base: int | None = None,
        message: str = "",
        moved_from: str | None = None,
        restored_from: int | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """POST a version, sending only the parts the platform does not have yet (all of
        them if it says some are missing). The platform's answer, whatever it is. With an
        ``idempotency_key``, a repeat is answered with the version the first one made."""
        body: dict[str, Any] = {
            "space": space,
            "path": path,
            "manifest": manifest,
            "size": size,
            "base_version": base,
        }
        if message:
            body["message"] = message
        if moved_from:
            body["moved_from"] = moved_from
        if restored_from is not None:
            body["restored_from"] = restored_from
        fresh = {k: v for k, v in parts.items() if k not in self._known}
        for attempt in range(2):
            body["parts"] = {k: base64.b64encode(v).decode() for k, v in fresh.items()}
            headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
            resp = await self.client.send("POST", "files/versions", json=body, headers=headers)
            if resp.status_code == 409 and "missing" in resp.json() and attempt == 0:
                fresh = parts  # our cache was wrong: send everything
                continue
            break
        if resp.is_success:
            self.remember(parts)
        return resp

    async def record(
        self,
        path: str,
        content: Any,
        fmt: str,
        *,
        base_version: int | None = None,
        space: str | None = None,
    ) -> dict:
        """Record a version now (team folders, whose only copy is the platform)."""
        if space is None:
            space, path = self.locate(path)
        # serializing and hashing a large notebook's parts take their time: off the loop
        try:
            (manifest, parts), size = await run_sync(
                lambda: (contentaddr.split(content, fmt), contentaddr.size_of(content, fmt))
            )
        except InvalidInput as e:  # content the platform would refuse: the client's mistake
            raise web.HTTPError(400, e.message) from None
        try:
            resp = await self.post(space, path, manifest, parts, size, base=base_version)
        except SubmarineAPIError as e:
            raise web.HTTPError(e.status, e.message) from None
        if not resp.is_success:
            raise platform_error(resp, "The platform could not keep this version")
        return resp.json()

    async def call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            return await self.client.request(method, path, **kw)
        except SubmarineAPIError as e:
            if e.status >= 500:
                raise web.HTTPError(
                    503,
                    f"The platform is not available ({e.message[:100]}); try again in a moment.",
                ) from None
            raise web.HTTPError(e.status, e.message) from None


class SubmarineContentsManager(AsyncLargeFileManager):
    """Large-file contents manager whose saves are versioned by the platform."""

    max_versioned_size = Integer(
        10 * 1024 * 1024, help="Files larger than this (bytes) are saved without a version."
    ).tag(config=True)

    user = Unicode(help="Whose space saves go to. Default: $JUPYTERHUB_USER.").tag(config=True)

    journal_dir = Unicode(
        help="""Folder of the write-ahead journal where saves wait to be recorded by the
        platform (each server of the user journals in a subfolder named after it). It must
        survive a restart of the server: records left in it are replayed at start.
        Default: .submarine/journal in the server's root folder."""
    ).tag(config=True)

    journal_fsync = Bool(
        True,
        help="""fsync each journal record and its folder before a save is acknowledged, so
        that not even a crash of the machine right after loses it. Without, a kill of the
        server still loses nothing, a power cut may lose the last seconds of history.""",
    ).tag(config=True)

    push_retry_interval = Float(
        1.0,
        help="""Seconds before the journal's push retries when the platform cannot be
        reached; doubled at each failure, up to push_retry_max. A read of history retries
        at once.""",
    ).tag(config=True)

    push_retry_max = Float(
        30.0, help="Longest wait (seconds) between two retries of the journal's push."
    ).tag(config=True)

    history_wait = Float(
        10.0,
        help="""How long (seconds) a read of history through this session (checkpoints, the
        versions API through the server extension) waits for the file's queued saves to
        reach the platform; after that, or at once when the platform cannot be reached,
        it answers 503 rather than a history missing your saves.""",
    ).tag(config=True)

    @default("user")
    def _default_user(self) -> str:
        return os.environ.get("JUPYTERHUB_USER", "")

    @default("journal_dir")
    def _default_journal_dir(self) -> str:
        return os.path.join(self.root_dir, ".submarine", "journal")

    @default("checkpoints_class")
    def _default_checkpoints_class(self) -> type:
        return SubmarineCheckpoints if self.platform else AsyncFileCheckpoints

    _platform: PlatformFiles | bool | None = False

    @property
    def platform(self) -> PlatformFiles | None:
        if self._platform is False:
            try:
                client = AsyncSubmarineClient()
            except NotConfigured:
                self._platform = None
            else:
                self._platform = PlatformFiles(client, self.user) if self.user else None
        return self._platform  # type: ignore[return-value]

    # --- the journal --------------------------------------------------------------------
    _journal: JournalPusher | None = None
    _file_locks: dict[tuple[str, str], asyncio.Lock]

    @property
    def journal(self) -> JournalPusher | None:
        """The write-ahead journal of saves and its push (None without a platform)."""
        if self._journal is None and self.platform is not None:
            server = os.environ.get("JUPYTERHUB_SERVER_NAME", "") or "default"
            disk = JournalFolder(Path(self.journal_dir), server, fsync=self.journal_fsync)
            self._journal = JournalPusher(
                disk,
                self.platform,
                self.log,
                retry_interval=self.push_retry_interval,
                retry_max=self.push_retry_max,
            )
            self._file_locks = {}
        return self._journal

    async def start_journal(self) -> None:
        """Replay what the journal holds and start pushing (also done at the first save)."""
        if self.journal is not None:
            await self.journal.start()

    async def stop_journal(self) -> None:
        """Stop pushing; what is queued stays in the journal, for the next start."""
        if self._journal is not None:
            await self._journal.stop()

    async def flush_saves(self, space: str | None = None, path: str | None = None) -> bool:
        """Wait (up to ``history_wait``) until this session's queued saves of ``path`` in
        ``space`` (of everything, if not given) are recorded by the platform."""
        if self.journal is None:
            return True
        await self.journal.start()
        key = (space, path.strip("/")) if space and path else None
        return await self.journal.flush(key, self.history_wait)

    async def _journal_record(self, header: dict[str, Any], data: bytes = b"") -> None:
        assert self.journal is not None
        await self.journal.start()
        header["seq"] = self.journal.reserve()
        try:
            await run_sync(self.journal.disk.write, header, data)
        except JournalError as e:
            self.journal.abandon(header["seq"])
            raise web.HTTPError(500, f"Could not record this change: {e}") from e
        except BaseException:
            self.journal.abandon(header["seq"])
            raise
        self.journal.commit(header)

    def _header(self, action: str, space: str, rel: str, fmt: str | None) -> dict[str, Any]:
        return {
            "action": action,
            "space": space,
            "path": rel,
            "format": fmt,
            "saved_at": datetime.now().astimezone().isoformat(),
            "author": self.user,
            # the record's idempotency key: the platform answers a repeat with the version
            # it made, so a replay just sends the record again
            "id": uuid.uuid4().hex,
        }

    async def _write_versioned(
        self, os_path: str, produce: Callable[[], bytes], fmt: str, saving: _Saving
    ) -> None:
        """Journal the version, then write the file while the record syncs to disk (a
        failed write takes the record back); ``produce`` gives the file's bytes (in the
        thread that writes them)."""
        journal = self.journal
        assert journal is not None
        await journal.start()
        header = self._header("save", saving.space, saving.rel, fmt)
        if saving.restored_from is not None:
            header["restored_from"] = saving.restored_from
        lock = self._file_locks.setdefault((saving.space, saving.rel), asyncio.Lock())
        async with lock:  # saves of one file: journal order = order on disk
            header["seq"] = journal.reserve()
            try:
                slot = await run_sync(self._journal_then_write, header, produce, os_path)
            except BaseException:
                journal.abandon(header["seq"])
                raise
            if slot is None:  # too large to version
                journal.abandon(header["seq"])
            else:
                journal.commit(header)

    def _journal_then_write(
        self, header: dict[str, Any], produce: Callable[[], bytes], os_path: str
    ) -> Slot | None:
        assert self.journal is not None
        data = produce()
        if len(data) > self.max_versioned_size:
            self._write_bytes(os_path, data)
            return None
        try:  # the file is written while the journal syncs the record
            return self.journal.disk.write(
                header, data, meanwhile=lambda: self._write_bytes(os_path, data)
            )
        except JournalError as e:
            raise web.HTTPError(500, f"Could not keep this save's version: {e}") from e

    def _write_bytes(self, os_path: str, data: bytes) -> None:
        with self.atomic_writing(os_path, text=False) as f:
            f.write(data)

    async def _save_notebook(
        self, os_path: str, nb: Any, capture_validation_error: dict | None = None
    ) -> None:
        saving = _SAVING.get()
        if saving is None or self.journal is None:
            return await super()._save_notebook(
                os_path, nb, capture_validation_error=capture_validation_error
            )

        def produce() -> bytes:  # what nbformat.write writes, serialized once for both
            text = nbformat.writes(
                nb, version=nbformat.NO_CONVERT, capture_validation_error=capture_validation_error
            )
            return (text if text.endswith("\n") else text + "\n").encode("utf-8")

        await self._write_versioned(os_path, produce, "notebook", saving)

    async def _save_file(self, os_path: str, content: Any, format: str | None) -> None:
        saving = _SAVING.get()
        if saving is None or self.journal is None or format not in ("text", "base64"):
            return await super()._save_file(os_path, content, format)
        try:
            data = (
                content.encode("utf8") if format == "text" else decodebytes(content.encode("ascii"))
            )
        except Exception as e:
            raise web.HTTPError(400, f"Encoding error saving {os_path}: {e}") from e
        await self._write_versioned(os_path, lambda: data, format, saving)

    # --- team folders ---------------------------------------------------------------
    @staticmethod
    def _team_path(path: str) -> list[str] | None:
        parts = [p for p in path.strip("/").split("/") if p]
        return parts if parts and parts[0] == TEAMS else None

    async def _my_teams(self) -> list[str]:
        assert self.platform is not None
        me = await self.platform.call("GET", "me")
        return [t["name"] for t in me["teams"]]

    async def _team_dir(self, parts: list[str], content: bool) -> dict[str, Any]:
        assert self.platform is not None
        path = "/".join(parts)
        model = self._folder_model(path, writable=True)
        if len(parts) == 1:
            teams = await self._my_teams()
            if content:
                model["format"] = "json"
                model["content"] = [
                    {**model, "name": t, "path": f"{TEAMS}/{t}", "content": None, "format": None}
                    for t in teams
                ]
            return model
        space, prefix = folder_of(path, self.user)
        files = (
            await self.platform.call("GET", "files", params={"space": space, "prefix": prefix})
        )["items"]
        if not files and len(parts) > 2:
            raise web.HTTPError(404, f"No such directory: {path}")
        if content:
            children: dict[str, dict[str, Any]] = {}
            depth = len(parts) - 2
            for f in files:
                rel = f["path"].split("/")[depth:]
                child = f"{path}/{rel[0]}"
                if len(rel) > 1:
                    children.setdefault(rel[0], {**model, "name": rel[0], "path": child})
                else:
                    children[rel[0]] = self._space_file_model(f"{TEAMS}/{parts[1]}", f, None)
            model["format"] = "json"
            model["content"] = [c for n, c in sorted(children.items()) if n != ".keep"]
        return model

    @staticmethod
    def _space_file_model(
        root: str, f: dict[str, Any], content: Any, writable: bool = True
    ) -> dict[str, Any]:
        """The contents model of a file of a platform space shown under ``root``."""
        fmt = f["format"]
        name = posixpath.basename(f["path"])
        when = _when(f.get("updated_at") or f["created_at"])
        model = {
            "name": name,
            "path": f"{root}/{f['path']}",
            "type": "notebook" if fmt == "notebook" else "file",
            "format": None,
            "mimetype": None,
            "content": None,
            "writable": writable,
            "created": when,
            "last_modified": when,
            "size": f.get("size"),
            "hash": None,
            "hash_algorithm": None,
        }
        if content is not None:
            model["content"] = content
            model["format"] = "json" if fmt == "notebook" else fmt
            model["mimetype"] = (
                None
                if fmt == "notebook"
                else ("text/plain" if fmt == "text" else "application/octet-stream")
            )
        return model

    async def _team_get(
        self,
        parts: list[str],
        content: bool,
        type: str | None,
        format: str | None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        assert self.platform is not None
        if len(parts) >= 2 and parts[1] not in await self._my_teams():
            raise web.HTTPError(403, f"You are not a member of team {parts[1]!r}.")
        if len(parts) <= 2 or type == "directory":
            return await self._team_dir(parts, content)
        space, rel = space_of("/".join(parts), self.user)
        model = await self._space_file(
            space, f"{TEAMS}/{parts[1]}", rel, content, format, require_hash
        )
        if model is None:
            return await self._team_dir(parts, content)  # a folder, or nothing
        return model

    async def _space_file(
        self,
        space: str,
        root: str,
        rel: str,
        content: bool,
        format: str | None,
        require_hash: bool,
        writable: bool = True,
    ) -> dict[str, Any] | None:
        """A file of a platform space (shown under ``root``), or None if it has none."""
        assert self.platform is not None
        try:
            resp = await self.platform.client.send(
                "GET", "files/content", params={"space": space, "path": rel}
            )
        except SubmarineAPIError as e:
            raise web.HTTPError(e.status, e.message) from None
        if resp.status_code == 404:
            return None
        if not resp.is_success:
            raise platform_error(resp, f"Could not read {rel}")
        found = resp.json()
        data = found["content"]
        if found["format"] == "notebook" and content:
            nb = nbformat.from_dict(data)
            self.mark_trusted_cells(nb, f"{root}/{rel}")
            data = nb
        if found["format"] == "text" and format == "base64":
            data = base64.b64encode(data.encode()).decode()
            found["format"] = "base64"
        model = self._space_file_model(
            root, {**found, "updated_at": found["created_at"]}, data if content else None, writable
        )
        if require_hash:
            raw = found["content"]
            blob = contentaddr.canonical(raw) if found["format"] == "notebook" else raw.encode()
            model["hash"] = hashlib.sha256(blob).hexdigest()
            model["hash_algorithm"] = "sha256"
        if content and found["format"] == "notebook":
            self.validate_notebook_model(model)
        return model

    @staticmethod
    def _version_of(model: dict[str, Any]) -> tuple[Any, str]:
        """A saved contents model's content and platform format."""
        if model["type"] == "notebook":
            return model["content"], "notebook"
        return model["content"], model.get("format") or "text"

    async def _team_save(self, model: dict[str, Any], parts: list[str]) -> dict[str, Any]:
        assert self.platform is not None
        if len(parts) < 3:
            raise web.HTTPError(400, "Save inside a team's folder: teams/<team>/<file>.")
        if model.get("chunk") is not None:
            raise web.HTTPError(400, "Upload large files to your own folder, not a team folder.")
        space, rel = space_of("/".join(parts), self.user)
        if model["type"] == "directory":
            content, fmt, rel = "", "text", f"{rel}/.keep"
        else:
            content, fmt = self._version_of(model)
        await self.platform.record(rel, content, fmt, space=space)
        if model["type"] == "directory":
            return await self._team_dir(parts, False)
        return await self._team_get(parts, False, None, None)

    # --- files shared with you ----------------------------------------------------------
    @staticmethod
    def _shared_path(path: str) -> list[str] | None:
        parts = [p for p in path.strip("/").split("/") if p]
        return parts if parts and parts[0] == SHARED else None

    async def _shared_files(self) -> dict[str, tuple[str, str, str]]:
        """API path -> (space, path in it, "r" or "rw") of each file shared with you."""
        assert self.platform is not None
        found: dict[str, tuple[str, str, str]] = {}
        for share in (await self.platform.call("GET", "files/shared-with-me"))["items"]:
            key = shared_path(share["space"], share["path"])
            before = found.get(key, ("", "", "r"))[2]
            mode = "rw" if "rw" in (share["mode"], before) else "r"  # a user and a team grant
            found[key] = (share["space"], share["path"], mode)
        return found

    async def _shared_get(
        self,
        parts: list[str],
        content: bool,
        type: str | None,
        format: str | None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        shared = await self._shared_files()
        path = "/".join(parts)
        if path in shared and type != "directory":
            space, rel, mode = shared[path]
            model = await self._space_file(
                space, "/".join(parts[:3]), rel, content, format, require_hash, mode == "rw"
            )
            if model is None:
                raise web.HTTPError(404, f"{path} was deleted by its owner.")
            return model
        prefix = f"{path}/"
        below = {p: v for p, v in shared.items() if p.startswith(prefix)}
        if not below and len(parts) > 1:
            raise web.HTTPError(404, f"No such directory: {path}")
        model = self._folder_model(path)
        if content:
            children: dict[str, dict[str, Any]] = {}
            for p in below:
                rest = p[len(prefix) :].split("/")
                child = f"{path}/{rest[0]}"
                if len(rest) > 1:
                    children.setdefault(rest[0], self._folder_model(child))
                else:  # what the listing says without fetching each file
                    children[rest[0]] = {
                        **self._folder_model(child),
                        "type": "notebook" if child.endswith(".ipynb") else "file",
                        "writable": below[p][2] == "rw",
                    }
            model["format"] = "json"
            model["content"] = [c for _, c in sorted(children.items())]
        return model

    @staticmethod
    def _folder_model(path: str, writable: bool = False) -> dict[str, Any]:
        """The contents model of a virtual folder (``teams/...``, ``shared/...``)."""
        now = datetime.now().astimezone()
        return {
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "type": "directory",
            "format": None,
            "mimetype": None,
            "content": None,
            "writable": writable,
            "created": now,
            "last_modified": now,
            "size": None,
            "hash": None,
            "hash_algorithm": None,
        }

    async def _shared_save(self, model: dict[str, Any], parts: list[str]) -> dict[str, Any]:
        assert self.platform is not None
        path = "/".join(parts)
        found = (await self._shared_files()).get(path)
        if found is None or model["type"] == "directory":
            raise web.HTTPError(
                403,
                f"Only files shared with you are saved in {SHARED}/; save yours in your folder.",
            )
        if found[2] != "rw":
            raise web.HTTPError(
                403, f"{path} is shared with you read-only; save a copy in your folder."
            )
        if model.get("chunk") is not None:
            raise web.HTTPError(400, "Upload large files to your own folder.")
        content, fmt = self._version_of(model)
        await self.platform.record(found[1], content, fmt, space=found[0])
        return await self._shared_get(parts, False, None, None)

    # --- the contents API -------------------------------------------------------------
    async def get(
        self,
        path: str,
        content: bool = True,
        type: str | None = None,
        format: str | None = None,
        require_hash: bool = False,
    ) -> dict[str, Any]:
        parts = self._team_path(path)
        if parts and self.platform:
            return await self._team_get(parts, content, type, format, require_hash)
        parts = self._shared_path(path)
        if parts and self.platform:
            return await self._shared_get(parts, content, type, format, require_hash)
        model = await super().get(
            path, content=content, type=type, format=format, require_hash=require_hash
        )
        if self.platform and path.strip("/") == "" and model.get("content") is not None:
            names = {c["name"] for c in model["content"]}
            if TEAMS not in names:
                model["content"].append(await self._team_dir([TEAMS], False))
            if SHARED not in names:
                model["content"].append(self._folder_model(SHARED))
        return model

    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        parts = self._team_path(path)
        if parts and self.platform:
            return await self._team_save(model, parts)
        parts = self._shared_path(path)
        if parts and self.platform:
            return await self._shared_save(model, parts)
        if (
            self.platform
            and model.get("chunk") is None
            and model.get("type") in ("notebook", "file")
        ):
            space, rel = self.platform.locate(path)
            token = _SAVING.set(_Saving(path.strip("/"), space, rel, _RESTORING.get()))
            try:  # the file is written, and journaled, by _save_notebook / _save_file
                return await super().save(model, path)
            finally:
                _SAVING.reset(token)
        return await super().save(model, path)

    async def delete_file(self, path: str) -> None:
        parts = self._team_path(path)
        if parts and self.platform:
            if len(parts) < 3:
                raise web.HTTPError(400, "Team folders themselves cannot be deleted.")
            space, rel = space_of("/".join(parts), self.user)
            await self.platform.call(
                "DELETE", "files/content", params={"space": space, "path": rel}
            )
            return
        if self._shared_path(path) and self.platform:
            raise web.HTTPError(403, "A file shared with you is deleted by its owner.")
        was_file = await super().file_exists(path)
        await super().delete_file(path)
        if self.platform and was_file:
            space, rel = self.platform.locate(path)
            await self._journal_record(self._header("delete", space, rel, None))

    async def rename_file(self, old_path: str, new_path: str) -> None:
        if (self._team_path(old_path) or self._team_path(new_path)) and self.platform:
            raise web.HTTPError(
                400, "Renaming in or out of team folders is not supported yet; copy, then delete."
            )
        if (self._shared_path(old_path) or self._shared_path(new_path)) and self.platform:
            raise web.HTTPError(
                403, f"Files in {SHARED}/ are renamed by their owner; copy one to keep it."
            )
        await super().rename_file(old_path, new_path)
        if not self.platform:
            return
        if await super().dir_exists(new_path):
            root = Path(self._get_os_path(new_path))
            found = await run_sync(lambda: sorted(p for p in root.rglob("*") if p.is_file()))
            moves = [
                (f"{old_path.strip('/')}/{rel}", f"{new_path.strip('/')}/{rel}")
                for rel in (p.relative_to(root).as_posix() for p in found)
            ]
        else:
            moves = [(old_path, new_path)]
        for old, new in moves:
            if await super().is_hidden(new):
                continue
            await self._journal_move(old, new)

    async def _journal_move(self, old_path: str, new_path: str) -> None:
        """Journal a renamed file: its content at the new path, taking the old path's
        history (``moved_from``), then the old path's deletion."""
        assert self.platform is not None
        model = await super().get(new_path, content=False)
        data = await run_sync(Path(self._get_os_path(new_path)).read_bytes)
        if model["type"] == "notebook":
            fmt = "notebook"
        else:
            try:
                data.decode("utf-8")
                fmt = "text"
            except UnicodeDecodeError:
                fmt = "base64"
        old_space, old_rel = self.platform.locate(old_path)
        if len(data) <= self.max_versioned_size:
            space, rel = self.platform.locate(new_path)
            header = self._header("save", space, rel, fmt)
            if space == old_space:
                header["moved_from"] = old_rel
            await self._journal_record(header, data)
        await self._journal_record(self._header("delete", old_space, old_rel, None))

    async def file_exists(self, path: str = "") -> bool:
        parts = self._team_path(path)
        if parts and self.platform:
            try:
                model = await self._team_get(parts, False, None, None)
            except web.HTTPError:
                return False
            return model["type"] != "directory"
        if self._shared_path(path) and self.platform:
            return path.strip("/") in await self._shared_files()
        return await super().file_exists(path)

    @staticmethod
    def _shared_dir_in(parts: list[str], shared: dict[str, Any]) -> bool:
        """Whether ``parts`` (under ``shared/``) is a folder of the files shared with you."""
        prefix = "/".join(parts) + "/"
        return len(parts) == 1 or any(p.startswith(prefix) for p in shared)

    async def dir_exists(self, path: str) -> bool:
        parts = self._team_path(path)
        if parts and self.platform:
            if len(parts) <= 2:
                return len(parts) == 1 or parts[1] in await self._my_teams()
            try:
                return (await self._team_dir(parts, False))["type"] == "directory"
            except web.HTTPError:
                return False
        parts = self._shared_path(path)
        if parts and self.platform:
            return self._shared_dir_in(parts, await self._shared_files())
        return await super().dir_exists(path)

    def exists(self, path: str) -> Any:
        """Like the file manager's, plus team folders (answered as an awaitable, which
        jupyter-server and jupytext both accept)."""
        if (self._team_path(path) or self._shared_path(path)) and self.platform:
            return self._virtual_exists(path)
        return super().exists(path)

    async def _virtual_exists(self, path: str) -> bool:
        parts = self._shared_path(path)
        if parts:  # one look at what is shared answers both questions
            shared = await self._shared_files()
            return "/".join(parts) in shared or self._shared_dir_in(parts, shared)
        return await self.file_exists(path) or await self.dir_exists(path)

    async def is_hidden(self, path: str) -> bool:
        if (self._team_path(path) or self._shared_path(path)) and self.platform:
            return False
        return await super().is_hidden(path)


class SubmarineCheckpoints(AsyncGenericCheckpointsMixin, AsyncCheckpoints):
    """Checkpoints are the platform's versions of a file. The generic interface (a
    checkpoint's content by id) is what nbdime's "diff against checkpoint" reads."""

    def _platform(self, contents_mgr: Any = None) -> PlatformFiles:
        mgr: Any = contents_mgr or self.parent
        assert mgr.platform is not None
        return mgr.platform

    @staticmethod
    def _model(version: dict[str, Any]) -> dict[str, Any]:
        return {"id": str(version["number"]), "last_modified": _when(version["created_at"])}

    @staticmethod
    def _queued(saved_at: str) -> dict[str, Any]:
        """A version in the journal, not numbered by the platform yet."""
        return {"id": "queued", "last_modified": _when(saved_at)}

    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        """Versions oldest first, as JupyterLab expects (it offers the last as newest);
        this session's queued saves of the file are recorded first."""
        saving = _SAVING.get()
        if saving is not None and saving.path == path.strip("/"):
            # jupyter-server asks within a save whether the file has a checkpoint: it has,
            # the version this very save has just journaled
            return [self._queued(datetime.now().astimezone().isoformat())]
        platform = self._platform()
        space, rel = platform.locate(path)
        manager: Any = self.parent  # a SubmarineContentsManager
        if not await manager.flush_saves(space, rel):
            raise web.HTTPError(
                503,
                f"Your latest saves of {path} are safe in this session's journal, but the "
                "platform cannot record them right now; its history lists them once it can.",
            )
        try:
            resp = await platform.client.send(
                "GET", "files/versions", params={"space": space, "path": rel}
            )
        except SubmarineAPIError as e:
            raise web.HTTPError(e.status, e.message) from None
        if resp.status_code == 404:
            return []
        if not resp.is_success:
            raise platform_error(resp, f"Could not read the history of {rel}")
        items = [self._model(v) for v in resp.json()["items"] if v["action"] != "delete"]
        return items[::-1]

    async def create_checkpoint(self, contents_mgr: Any, path: str) -> dict[str, Any]:
        """Every save is already a version: the checkpoint is the newest one (JupyterLab
        asks after each of its saves; with the platform unreachable, the queued one)."""
        platform = self._platform(contents_mgr)
        space, rel = platform.locate(path)
        journal = contents_mgr.journal
        if journal is not None and journal.pending_for((space, rel)):
            if not await contents_mgr.flush_saves(space, rel):
                return self._queued(journal.pending_for((space, rel))[-1].header["saved_at"])
        known = journal.latest.get((space, rel)) if journal is not None else None
        if known is not None and known.get("action") == "save":
            return self._model(known)
        found = await self.list_checkpoints(path)
        if found:
            return found[-1]
        model = await contents_mgr.get(path, content=True)
        fmt = "notebook" if model["type"] == "notebook" else model["format"]
        return self._model(await platform.record(path, model["content"], fmt))

    async def restore_checkpoint(self, contents_mgr: Any, checkpoint_id: str, path: str) -> None:
        platform = self._platform(contents_mgr)
        space, rel = platform.locate(path)
        if not (checkpoint_id.isascii() and checkpoint_id.isdigit()):
            raise web.HTTPError(404, f"No checkpoint {checkpoint_id!r}.")
        found = await platform.call(
            "GET", "files/content", params={"space": space, "path": rel, "version": checkpoint_id}
        )
        fmt = found["format"]
        model = {
            "type": "notebook" if fmt == "notebook" else "file",
            "format": "json" if fmt == "notebook" else fmt,
            "content": found["content"],
        }
        token = _RESTORING.set(int(checkpoint_id))
        try:  # a new version (a "restore" of that one), and the file on disk
            await contents_mgr.save(model, path)
        finally:
            _RESTORING.reset(token)

    async def _version(self, checkpoint: Any, path: str) -> dict[str, Any]:
        """A checkpoint's version with its content (``checkpoint``: its id, or its model
        as :meth:`list_checkpoints` gives it, which is what nbdime passes)."""
        checkpoint_id = str(checkpoint["id"] if isinstance(checkpoint, dict) else checkpoint)
        if not checkpoint_id.isdigit():
            raise web.HTTPError(404, f"No checkpoint {checkpoint_id!r}.")
        platform = self._platform()
        space, rel = platform.locate(path)
        return await platform.call(
            "GET", "files/content", params={"space": space, "path": rel, "version": checkpoint_id}
        )

    async def get_notebook_checkpoint(self, checkpoint: Any, path: str) -> dict[str, Any]:
        found = await self._version(checkpoint, path)
        if found["format"] != "notebook":
            raise web.HTTPError(400, f"Version {found['number']} of {path} is not a notebook.")
        return {"type": "notebook", "content": nbformat.from_dict(found["content"])}

    async def get_file_checkpoint(self, checkpoint: Any, path: str) -> dict[str, Any]:
        found = await self._version(checkpoint, path)
        fmt = found["format"]
        return {"type": "file", "content": found["content"], "format": fmt}

    async def rename_checkpoint(self, checkpoint_id: str, old_path: str, new_path: str) -> None:
        """History stays with the old path; the renamed file starts its own."""

    async def delete_checkpoint(self, checkpoint_id: str, path: str) -> None:
        raise web.HTTPError(403, "Versions are kept for good; history is never rewritten.")

    async def rename_all_checkpoints(self, old_path: str, new_path: str) -> None:
        """See :meth:`rename_checkpoint`."""

    async def delete_all_checkpoints(self, path: str) -> None:
        """A deleted file keeps its history, to be recovered."""


def _with_jupytext(base: type[SubmarineContentsManager]) -> type[SubmarineContentsManager]:
    """``base`` with jupytext's pairing (what its server extension would wrap it in), and
    refusals checked before jupytext turns every error of a save into a 500."""
    try:
        from jupytext import build_async_jupytext_contents_manager_class
    except ImportError:  # pragma: no cover - jupytext is a dependency
        return base

    class SessionContentsManager(build_async_jupytext_contents_manager_class(base)):  # type: ignore[misc]
        """Versioned contents, team folders and jupytext pairing: sessions' manager."""

        async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
            parts = self._team_path(path)
            if parts and self.platform and len(parts) >= 2:
                if parts[1] not in await self._my_teams():
                    raise web.HTTPError(403, f"You are not a member of team {parts[1]!r}.")
            shared = self._shared_path(path)
            if shared and self.platform:  # no pairing: its owner's session pairs it
                return await self._shared_save(model, shared)
            try:
                return await super().save(model, path)
            except web.HTTPError as e:
                # jupytext answers 500 for any error of a save: give ours (503 while the
                # platform is down, 409 on a conflict...) as we raised it
                inner = e.__context__
                if e.status_code == 500 and isinstance(inner, web.HTTPError):
                    raise inner from None
                raise

    return SessionContentsManager


SessionContentsManager = _with_jupytext(SubmarineContentsManager)
