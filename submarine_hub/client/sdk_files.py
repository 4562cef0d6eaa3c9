"""The SDK's calls on versioned files: history, content, saves, diffs, restores, exports,
shares.

Contract: a path names its space by the sessions' one rule
(:func:`submarine_hub.core.spaces.space_of`) unless ``space`` is given; a local path of
the session is read relative to its root (``$SUBMARINE_SERVER_ROOT``, else your home).
"""

from __future__ import annotations

import os
from typing import Any

from ..core.spaces import space_of
from .transport import SyncTransport


class FilesAPI(SyncTransport):
    """Versioned files of a space (personal, team, or shared with you)."""

    def locate(self, path: str, space: str | None = None) -> tuple[str, str]:
        """``(space, path)`` of a file by the sessions' rule (:mod:`submarine_hub.core.spaces`:
        ``teams/TEAM/x`` in team TEAM's space, ``shared/users/NAME/x`` in NAME's, anything
        else in yours); relative to your home (the session's root) when it is a local path."""
        if space:
            return space, path.strip("/")
        if os.path.isabs(path) or os.path.exists(path):
            root = os.path.realpath(
                os.environ.get("SUBMARINE_SERVER_ROOT") or os.path.expanduser("~")
            )
            full = os.path.realpath(path)
            if full.startswith(root + os.sep):
                path = os.path.relpath(full, root)
        return space_of(path, self.whoami())

    def _file_args(self, path: str, space: str | None, **extra: Any) -> dict[str, Any]:
        sp, p = self.locate(path, space)
        return {"space": sp, "path": p, **{k: v for k, v in extra.items() if v is not None}}

    def file_history(self, path: str, space: str | None = None) -> list[dict[str, Any]]:
        """Versions of a file, newest first."""
        return self.request("GET", "files/versions", params=self._file_args(path, space))["items"]

    def file_content(
        self, path: str, version: int | None = None, space: str | None = None
    ) -> dict[str, Any]:
        """A version (the newest by default) with its ``content``."""
        params = self._file_args(path, space, version=version)
        return self.request("GET", "files/content", params=params)

    def save_file(
        self,
        path: str,
        content: Any,
        format: str = "notebook",
        *,
        message: str = "",
        base_version: int | None = None,
        space: str | None = None,
    ) -> dict[str, Any]:
        body = self._file_args(
            path, space, content=content, format=format, message=message, base_version=base_version
        )
        return self.request("POST", "files/versions", json=body)

    def diff(
        self,
        path: str,
        a: int,
        b: int,
        *,
        ignore_outputs: bool = False,
        ignore_metadata: bool = False,
        space: str | None = None,
    ) -> dict[str, Any]:
        params = self._file_args(
            path,
            space,
            a=a,
            b=b,
            ignore_outputs="1" if ignore_outputs else None,
            ignore_metadata="1" if ignore_metadata else None,
        )
        return self.request("GET", "files/diff", params=params)

    def restore(self, path: str, version: int, space: str | None = None) -> dict[str, Any]:
        """Make ``version`` the newest again (a new version; history is kept)."""
        body = self._file_args(path, space, version=version)
        return self.request("POST", "files/restore", json=body)

    def delete_file(self, path: str, space: str | None = None) -> dict[str, Any]:
        return self.request("DELETE", "files/content", params=self._file_args(path, space))

    def files(self, space: str | None = None, prefix: str = "", deleted: bool = False) -> list:
        params = {"space": space or f"user:{self.whoami()}", "prefix": prefix}
        if deleted:
            params["deleted"] = "1"
        return self.request("GET", "files", params=params)["items"]

    def export(
        self,
        path: str,
        fmt: str = "py:percent",
        version: int | None = None,
        space: str | None = None,
    ) -> dict[str, Any]:
        params = self._file_args(path, space, version=version, format=fmt)
        return self.request("GET", "files/export", params=params)

    def share(
        self,
        path: str,
        with_: str,
        *,
        kind: str = "user",
        mode: str = "r",
        space: str | None = None,
    ) -> dict[str, Any]:
        params = self._file_args(path, space)
        return self.request(
            "POST", "files/shares", params=params, json={"kind": kind, "with": with_, "mode": mode}
        )
