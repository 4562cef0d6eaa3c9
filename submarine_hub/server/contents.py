"""Versioned contents for sessions: every save kept by the platform, team folders.

``SubmarineContentsManager`` is jupyter-server's large-file manager plus:

- every save of a notebook or file records an immutable version in the platform
  (space ``user:<you>``) *before* the file is written, so an acknowledged save is
  always in history; only parts the platform lacks are sent (content addressing);
- ``teams/<team>/`` is a virtual folder per team you belong to, backed by the
  platform's store: members read and write, everyone else is refused, and
  ``last_modified`` is the newest version's, so JupyterLab's "File Changed" dialog
  catches a save based on a stale version;
- checkpoints are the platform's versions: JupyterLab's "Revert to checkpoint" lists
  them, and restoring one writes it back (as a new version).

Without a platform (no ``SUBMARINE_API_URL``) it behaves like the plain manager.
"""

from __future__ import annotations

import base64
import hashlib
import os
import posixpath
from collections import OrderedDict
from datetime import datetime
from typing import Any

from jupyter_server.services.contents.checkpoints import AsyncCheckpoints
from jupyter_server.services.contents.filecheckpoints import AsyncFileCheckpoints
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web
from traitlets import Integer, Unicode, default

from ..client.client import AsyncSubmarineClient, SubmarineAPIError
from ..client.config import NotConfigured
from ..core import contentaddr

TEAMS = "teams"
KNOWN_PARTS = 50_000


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


class PlatformFiles:
    """The platform's versioned-file API, as the contents manager uses it."""

    def __init__(self, client: AsyncSubmarineClient, user: str) -> None:
        self.client = client
        self.user = user
        self._known: OrderedDict[str, None] = OrderedDict()  # parts the platform has
        # the version a save just recorded, for jupyter-server's "is there a checkpoint?"
        # question within the same save (answered without another round trip)
        self.just_recorded: dict[str, dict[str, Any]] = {}

    def locate(self, path: str) -> tuple[str, str]:
        parts = path.strip("/").split("/")
        if parts[0] == TEAMS and len(parts) > 2:
            return f"team:{parts[1]}", "/".join(parts[2:])
        return f"user:{self.user}", path.strip("/")

    async def record(
        self,
        path: str,
        content: Any,
        fmt: str,
        *,
        base_version: int | None = None,
        space: str | None = None,
    ) -> dict:
        """Record a version, sending only the parts the platform does not have yet."""
        if space is None:
            space, path = self.locate(path)
        manifest, parts = contentaddr.split(content, fmt)
        body: dict[str, Any] = {
            "space": space,
            "path": path,
            "manifest": manifest,
            "size": contentaddr.size_of(content, fmt),
            "base_version": base_version,
        }
        fresh = {k: v for k, v in parts.items() if k not in self._known}
        for attempt in range(2):
            body["parts"] = {k: base64.b64encode(v).decode() for k, v in fresh.items()}
            resp = await self.client.send("POST", "files/versions", json=body)
            if resp.status_code == 409 and "missing" in resp.json() and attempt == 0:
                fresh = parts  # our cache was wrong: send everything
                continue
            break
        if not resp.is_success:
            raise web.HTTPError(
                resp.status_code if resp.status_code < 500 else 503,
                f"The platform did not keep this version: {resp.json().get('message')}",
            )
        self.just_recorded[f"{space}/{path}"] = resp.json()
        for key in parts:
            self._known[key] = None
            self._known.move_to_end(key)
        while len(self._known) > KNOWN_PARTS:
            self._known.popitem(last=False)
        return resp.json()

    async def call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            return await self.client.request(method, path, **kw)
        except SubmarineAPIError as e:
            raise web.HTTPError(e.status, e.message) from None


class SubmarineContentsManager(AsyncLargeFileManager):
    """Large-file contents manager whose saves are versioned by the platform."""

    max_versioned_size = Integer(
        10 * 1024 * 1024, help="Files larger than this (bytes) are saved without a version."
    ).tag(config=True)

    user = Unicode(help="Whose space saves go to. Default: $JUPYTERHUB_USER.").tag(config=True)

    @default("user")
    def _default_user(self) -> str:
        return os.environ.get("JUPYTERHUB_USER", "")

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
        now = datetime.now().astimezone()
        model = {
            "name": parts[-1],
            "path": path,
            "type": "directory",
            "format": None,
            "mimetype": None,
            "content": None,
            "writable": True,
            "created": now,
            "last_modified": now,
            "size": None,
            "hash": None,
            "hash_algorithm": None,
        }
        if len(parts) == 1:
            teams = await self._my_teams()
            if content:
                model["format"] = "json"
                model["content"] = [
                    {**model, "name": t, "path": f"{TEAMS}/{t}", "content": None, "format": None}
                    for t in teams
                ]
            return model
        space, prefix = f"team:{parts[1]}", "/".join(parts[2:])
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
                    children[rel[0]] = self._team_file_model(parts[1], f, None)
            model["format"] = "json"
            model["content"] = [c for n, c in sorted(children.items()) if n != ".keep"]
        return model

    @staticmethod
    def _team_file_model(team: str, f: dict[str, Any], content: Any) -> dict[str, Any]:
        fmt = f["format"]
        name = posixpath.basename(f["path"])
        when = _when(f.get("updated_at") or f["created_at"])
        model = {
            "name": name,
            "path": f"{TEAMS}/{team}/{f['path']}",
            "type": "notebook" if fmt == "notebook" else "file",
            "format": None,
            "mimetype": None,
            "content": None,
            "writable": True,
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
        space, rel = f"team:{parts[1]}", "/".join(parts[2:])
        resp = await self.platform.client.send(
            "GET", "files/content", params={"space": space, "path": rel}
        )
        if resp.status_code == 404:
            return await self._team_dir(parts, content)  # a folder, or nothing
        if not resp.is_success:
            raise web.HTTPError(resp.status_code, resp.json().get("message"))
        found = resp.json()
        data = found["content"]
        if found["format"] == "notebook" and content:
            import nbformat

            nb = nbformat.from_dict(data)
            self.mark_trusted_cells(nb, "/".join(parts))
            data = nb
        if found["format"] == "text" and format == "base64":
            data = base64.b64encode(data.encode()).decode()
            found["format"] = "base64"
        model = self._team_file_model(
            parts[1], {**found, "updated_at": found["created_at"]}, data if content else None
        )
        if require_hash:
            raw = found["content"]
            blob = contentaddr.canonical(raw) if found["format"] == "notebook" else raw.encode()
            model["hash"] = hashlib.sha256(blob).hexdigest()
            model["hash_algorithm"] = "sha256"
        if content and found["format"] == "notebook":
            self.validate_notebook_model(model)
        return model

    async def _team_save(self, model: dict[str, Any], parts: list[str]) -> dict[str, Any]:
        assert self.platform is not None
        if len(parts) < 3:
            raise web.HTTPError(400, "Save inside a team's folder: teams/<team>/<file>.")
        if model.get("chunk") is not None:
            raise web.HTTPError(400, "Upload large files to your own folder, not a team folder.")
        if model["type"] == "directory":
            content, fmt, rel = "", "text", "/".join([*parts[2:], ".keep"])
        elif model["type"] == "notebook":
            content, fmt, rel = model["content"], "notebook", "/".join(parts[2:])
        else:
            fmt = model.get("format") or "text"
            content, rel = model["content"], "/".join(parts[2:])
        await self.platform.record(rel, content, fmt, space=f"team:{parts[1]}")
        if model["type"] == "directory":
            return await self._team_dir(parts, False)
        return await self._team_get(parts, False, None, None)

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
        model = await super().get(
            path, content=content, type=type, format=format, require_hash=require_hash
        )
        if self.platform and path.strip("/") == "" and model.get("content") is not None:
            if not any(c["name"] == TEAMS for c in model["content"]):
                model["content"].append(await self._team_dir([TEAMS], False))
        return model

    async def save(self, model: dict[str, Any], path: str = "") -> dict[str, Any]:
        parts = self._team_path(path)
        if parts and self.platform:
            return await self._team_save(model, parts)
        if (
            self.platform
            and model.get("chunk") is None
            and model.get("type") in ("notebook", "file")
            and "content" in model
        ):
            fmt = "notebook" if model["type"] == "notebook" else (model.get("format") or "text")
            if contentaddr_size(model["content"], fmt) <= self.max_versioned_size:
                await self.platform.record(path, model["content"], fmt)
                try:
                    return await super().save(model, path)
                finally:  # only this save's own checkpoint question may use it
                    space, rel = self.platform.locate(path)
                    self.platform.just_recorded.pop(f"{space}/{rel}", None)
        return await super().save(model, path)

    async def delete_file(self, path: str) -> None:
        parts = self._team_path(path)
        if parts and self.platform:
            if len(parts) < 3:
                raise web.HTTPError(400, "Team folders themselves cannot be deleted.")
            await self.platform.call(
                "DELETE",
                "files/content",
                params={"space": f"team:{parts[1]}", "path": "/".join(parts[2:])},
            )
            return
        was_file = await super().file_exists(path)
        await super().delete_file(path)
        if self.platform and was_file:
            space, rel = self.platform.locate(path)
            resp = await self.platform.client.send(
                "DELETE", "files/content", params={"space": space, "path": rel}
            )
            if resp.status_code not in (200, 404):
                self.log.warning("Could not record the deletion of %s: %s", path, resp.text)

    async def rename_file(self, old_path: str, new_path: str) -> None:
        if (self._team_path(old_path) or self._team_path(new_path)) and self.platform:
            raise web.HTTPError(
                400, "Renaming in or out of team folders is not supported yet; copy, then delete."
            )
        await super().rename_file(old_path, new_path)
        if self.platform and await super().file_exists(new_path):
            model = await super().get(new_path, content=True)
            fmt = "notebook" if model["type"] == "notebook" else model["format"]
            if contentaddr_size(model["content"], fmt) <= self.max_versioned_size:
                await self.platform.record(new_path, model["content"], fmt)
            space, rel = self.platform.locate(old_path)
            await self.platform.client.send(
                "DELETE", "files/content", params={"space": space, "path": rel}
            )

    async def file_exists(self, path: str = "") -> bool:
        parts = self._team_path(path)
        if parts and self.platform:
            try:
                model = await self._team_get(parts, False, None, None)
            except web.HTTPError:
                return False
            return model["type"] != "directory"
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
        return await super().dir_exists(path)

    def exists(self, path: str) -> Any:
        """Like the file manager's, plus team folders (answered as an awaitable, which
        jupyter-server and jupytext both accept)."""
        if self._team_path(path) and self.platform:
            return self._team_exists(path)
        return super().exists(path)

    async def _team_exists(self, path: str) -> bool:
        return await self.file_exists(path) or await self.dir_exists(path)

    async def is_hidden(self, path: str) -> bool:
        if self._team_path(path) and self.platform:
            return False
        return await super().is_hidden(path)


def contentaddr_size(content: Any, fmt: str) -> int:
    try:
        return contentaddr.size_of(content, fmt)
    except (TypeError, ValueError):
        return 0


class SubmarineCheckpoints(AsyncCheckpoints):
    """Checkpoints are the platform's versions of a file."""

    def _platform(self, contents_mgr: Any = None) -> PlatformFiles:
        mgr = contents_mgr or self.parent
        assert mgr.platform is not None
        return mgr.platform

    @staticmethod
    def _model(version: dict[str, Any]) -> dict[str, Any]:
        return {"id": str(version["number"]), "last_modified": _when(version["created_at"])}

    async def list_checkpoints(self, path: str) -> list[dict[str, Any]]:
        """Versions oldest first, as JupyterLab expects (it offers the last as newest)."""
        platform = self._platform()
        space, rel = platform.locate(path)
        resp = await platform.client.send(
            "GET", "files/versions", params={"space": space, "path": rel}
        )
        if resp.status_code == 404:
            return []
        if not resp.is_success:
            raise web.HTTPError(resp.status_code, resp.json().get("message"))
        items = [self._model(v) for v in resp.json()["items"] if v["action"] != "delete"]
        return items[::-1]

    async def create_checkpoint(self, contents_mgr: Any, path: str) -> dict[str, Any]:
        """Every save is already a version: the checkpoint is the newest one."""
        found = await self.list_checkpoints(path)
        if found:
            return found[-1]
        model = await contents_mgr.get(path, content=True)
        fmt = "notebook" if model["type"] == "notebook" else model["format"]
        return self._model(await self._platform(contents_mgr).record(path, model["content"], fmt))

    async def restore_checkpoint(self, contents_mgr: Any, checkpoint_id: str, path: str) -> None:
        platform = self._platform(contents_mgr)
        space, rel = platform.locate(path)
        if not checkpoint_id.isdigit():
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
        await contents_mgr.save(model, path)  # a new version, and the file on disk

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
            return await super().save(model, path)

    return SessionContentsManager


SessionContentsManager = _with_jupytext(SubmarineContentsManager)
