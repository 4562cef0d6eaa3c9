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

This module holds the journaled saves of your own folders and the contents API that
dispatches between them and the platform's folders; the folders themselves are in
:mod:`.space_folders`, the checkpoints in :mod:`.checkpoints`, the platform's file API in
:mod:`.platform_files`.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from base64 import decodebytes
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
from anyio.to_thread import run_sync
from jupyter_server.services.contents.filecheckpoints import AsyncFileCheckpoints
from tornado import web
from traitlets import Bool, Float, Integer, Unicode, default

from ..core.spaces import SHARED, TEAMS, space_of
from .checkpoints import RESTORING, SAVING, Saving, SubmarineCheckpoints
from .journal import JournalError, JournalFolder, Slot
from .journal_push import JournalPusher
from .space_folders import SpaceFolders


class SubmarineContentsManager(SpaceFolders):
    """Large-file contents manager whose saves are versioned by the platform."""

    max_versioned_size = Integer(
        10 * 1024 * 1024, help="Files larger than this (bytes) are saved without a version."
    ).tag(config=True)

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

    @default("journal_dir")
    def _default_journal_dir(self) -> str:
        return os.path.join(self.root_dir, ".submarine", "journal")

    @default("checkpoints_class")
    def _default_checkpoints_class(self) -> type:
        return SubmarineCheckpoints if self.platform else AsyncFileCheckpoints

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
        self, os_path: str, produce: Callable[[], bytes], fmt: str, saving: Saving
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
        saving = SAVING.get()
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
        saving = SAVING.get()
        if saving is None or self.journal is None or format not in ("text", "base64"):
            return await super()._save_file(os_path, content, format)
        try:
            data = (
                content.encode("utf8") if format == "text" else decodebytes(content.encode("ascii"))
            )
        except Exception as e:
            raise web.HTTPError(400, f"Encoding error saving {os_path}: {e}") from e
        await self._write_versioned(os_path, lambda: data, format, saving)

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
            token = SAVING.set(Saving(path.strip("/"), space, rel, RESTORING.get()))
            try:  # the file is written, and journaled, by _save_notebook / _save_file
                return await super().save(model, path)
            finally:
                SAVING.reset(token)
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
