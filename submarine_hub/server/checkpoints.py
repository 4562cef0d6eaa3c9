"""``SubmarineCheckpoints``: a session's checkpoints are the platform's versions of a file.

Contracts:

- JupyterLab's "Revert to checkpoint" lists the versions (oldest first) and restoring
  one saves it again, as a new version recorded as a restore of that one: history is
  never rewritten, and checkpoints are never deleted or renamed.
- A listing first waits for this session's queued saves of the file (see
  :meth:`~.contents.SubmarineContentsManager.flush_saves`): it never shows a history
  missing one of your saves; when they cannot be recorded, it answers 503.
- The save in progress in a task (:data:`SAVING`, set by the contents manager) has a
  checkpoint already: the version it has just journaled (``"queued"``).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nbformat
from jupyter_server.services.contents.checkpoints import (
    AsyncCheckpoints,
    AsyncGenericCheckpointsMixin,
)
from tornado import web

from ..client.errors import SubmarineAPIError
from .platform_files import PlatformFiles, parse_time, platform_error


@dataclass(frozen=True)
class Saving:
    """The versioned save in progress in this task: API path, and where it goes."""

    path: str
    space: str
    rel: str
    restored_from: int | None = None  # a checkpoint restore: recorded as a "restore"


SAVING: ContextVar[Saving | None] = ContextVar("submarine_saving", default=None)
#: The version a save in this task writes back (JupyterLab's "Revert to checkpoint").
RESTORING: ContextVar[int | None] = ContextVar("submarine_restoring", default=None)


class SubmarineCheckpoints(AsyncGenericCheckpointsMixin, AsyncCheckpoints):
    """Checkpoints are the platform's versions of a file. The generic interface (a
    checkpoint's content by id) is what nbdime's "diff against checkpoint" reads."""

    def _platform(self, contents_mgr: Any = None) -> PlatformFiles:
        mgr: Any = contents_mgr or self.parent
        assert mgr.platform is not None
        return mgr.platform

    @staticmethod
    def _model(version: dict[str, Any]) -> dict[str, Any]:
        return {"id": str(version["number"]), "last_modified": parse_time(version["created_at"])}

    @staticmethod
    def _queued(saved_at: str) -> dict[str, Any]:
        """A version in the journal, not numbered by the platform yet."""
        return {"id": "queued", "last_modified": parse_time(saved_at)}

    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        """Versions oldest first, as JupyterLab expects (it offers the last as newest);
        this session's queued saves of the file are recorded first."""
        saving = SAVING.get()
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
        token = RESTORING.set(int(checkpoint_id))
        try:  # a new version (a "restore" of that one), and the file on disk
            await contents_mgr.save(model, path)
        finally:
            RESTORING.reset(token)

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
