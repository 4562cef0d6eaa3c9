"""The folders of a session that live in platform spaces, not on its disk: ``teams/``
(a folder per team you belong to) and ``shared/`` (the files others shared with you).

Contracts:

- ``teams/<team>/`` is read and written by the team's members only, everyone else is
  refused (403); the platform is its only copy, so a save there is recorded at once.
- ``shared/users/<owner>/`` and ``shared/teams/<team>/`` hold the files shared with you,
  read-only or writable as the shares say (a user's and a team's grant: the wider one);
  a save of a writable one is a version in its owner's space.
- A file's ``last_modified`` is its newest version's, so JupyterLab's "File Changed"
  dialog catches a save based on a stale version.

:class:`SpaceFolders` is the layer of the sessions' contents manager that reaches the
platform (whose space, through which client); :mod:`.contents` builds on it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import posixpath
from datetime import datetime
from typing import Any

import nbformat
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web
from traitlets import Unicode, default

from ..client.client import AsyncSubmarineClient
from ..client.config import NotConfigured
from ..client.errors import SubmarineAPIError
from ..core import contentaddr
from ..core.spaces import SHARED, TEAMS, folder_of, shared_path, space_of
from .platform_files import PlatformFiles, parse_time, platform_error


class SpaceFolders(AsyncLargeFileManager):
    """Large-file contents manager with the virtual folders ``teams/`` and ``shared/``
    (without a platform, no ``SUBMARINE_API_URL``: the plain manager)."""

    user = Unicode(help="Whose space saves go to. Default: $JUPYTERHUB_USER.").tag(config=True)

    @default("user")
    def _default_user(self) -> str:
        return os.environ.get("JUPYTERHUB_USER", "")

    _platform: PlatformFiles | bool | None = False

    @property
    def platform(self) -> PlatformFiles | None:
        """The platform's file API for ``user`` (None without a platform or a user)."""
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
        when = parse_time(f.get("updated_at") or f["created_at"])
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

    @staticmethod
    def _shared_dir_in(parts: list[str], shared: dict[str, Any]) -> bool:
        """Whether ``parts`` (under ``shared/``) is a folder of the files shared with you."""
        prefix = "/".join(parts) + "/"
        return len(parts) == 1 or any(p.startswith(prefix) for p in shared)
