"""``SubmarineClient``: the one HTTP client of the platform's REST API.

    >>> from submarine_hub import SubmarineClient
    >>> client = SubmarineClient()        # inside a session: no arguments needed
    >>> client.me()["teams"]

The CLI, the notebook magics and the JupyterLab panels (through the server
extension) all use it.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from .config import Endpoint, resolve

DEFAULT_TIMEOUT = 30.0


class SubmarineAPIError(Exception):
    """The service refused a request; ``message`` says why, ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status
        self.message = message


def _raise_for_status(resp: httpx.Response) -> None:
    if resp.is_success:
        return
    try:
        message = resp.json().get("message") or resp.reason_phrase
    except ValueError:
        message = resp.text[:200] or resp.reason_phrase
    raise SubmarineAPIError(resp.status_code, message)


def _decode(resp: httpx.Response) -> Any:
    _raise_for_status(resp)
    if not resp.content:
        return None
    return resp.json()


def env_path(ref: str) -> str:
    """``team/name`` -> ``team/name``; a bare ``name`` is a global environment."""
    return ref if "/" in ref else f"_global/{ref}"


class _Base:
    def __init__(
        self,
        api_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.endpoint: Endpoint = resolve(api_url, token)
        self._kwargs: dict[str, Any] = {
            "base_url": self.endpoint.api_url + "/",
            "headers": {
                "Authorization": f"token {self.endpoint.token}",
                "User-Agent": "submarine-hub-client",
            },
            "timeout": timeout,
        }

    @property
    def api_url(self) -> str:
        return self.endpoint.api_url


class SubmarineClient(_Base):
    """Synchronous client (SDK, CLI, magics)."""

    def __init__(self, api_url: str | None = None, token: str | None = None, **kw: Any) -> None:
        super().__init__(api_url, token, **kw)
        self._http = httpx.Client(**self._kwargs)

    def request(self, method: str, path: str, **kw: Any) -> Any:
        try:
            resp = self._http.request(method, path.lstrip("/"), **kw)
        except httpx.HTTPError as e:
            raise SubmarineAPIError(
                503, f"Could not reach the Submarine service at {self.api_url}: {e}"
            ) from e
        return _decode(resp)

    def health(self) -> dict[str, Any]:
        return self.request("GET", "health")

    def me(self) -> dict[str, Any]:
        """Who you are: name, teams, admin flag and scopes."""
        return self.request("GET", "me")

    def teams(self) -> list[dict[str, Any]]:
        return self.request("GET", "teams")["items"]

    def team(self, name: str) -> dict[str, Any]:
        """A team with its members, effective quota and current usage."""
        return self.request("GET", f"teams/{name}")

    def update_team(self, name: str, **changes: Any) -> dict[str, Any]:
        """Admins: ``update_team("ml", quota={"max_sessions": 3}, description="...")``."""
        return self.request("PATCH", f"teams/{name}", json=changes)

    # --- environments ----------------------------------------------------------------
    def environments(self, team: str | None = None) -> list[dict[str, Any]]:
        params = {"team": team} if team else None
        return self.request("GET", "environments", params=params)["items"]

    def environment(self, ref: str) -> dict[str, Any]:
        """``ref`` is ``team/name``, ``_global/name`` or a bare global name."""
        return self.request("GET", f"environments/{env_path(ref)}")

    def create_environment(self, name: str, team: str | None = None, **fields: Any) -> dict:
        return self.request("POST", "environments", json={"name": name, "team": team, **fields})

    def update_environment(self, ref: str, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", f"environments/{env_path(ref)}", json=fields)

    def delete_environment(self, ref: str) -> None:
        self.request("DELETE", f"environments/{env_path(ref)}")

    def environment_build(self, ref: str, log: bool = False) -> dict[str, Any]:
        params = {"log": "1"} if log else None
        return self.request("GET", f"environments/{env_path(ref)}/build", params=params)

    def build_environment(
        self, ref: str, wait: bool = True, on_progress: Any = None, poll: float = 1.0
    ) -> dict[str, Any]:
        """Build ``ref`` (once); with ``wait``, until ready or failed."""
        import time

        status = self.request("POST", f"environments/{env_path(ref)}/build")
        while wait and status["state"] in ("pending", "building"):
            if on_progress:
                on_progress(status)
            time.sleep(poll)
            status = self.environment_build(ref)
        if on_progress:
            on_progress(status)
        return status

    # --- credentials -------------------------------------------------------------------
    def credentials(self) -> list[dict[str, Any]]:
        """Names and metadata only; values never come back."""
        return self.request("GET", "credentials")["items"]

    def add_credential(
        self,
        name: str,
        value: str | bytes,
        *,
        kind: str = "env",
        target: str | None = None,
        owner_kind: str = "user",
        owner: str | None = None,
    ) -> dict[str, Any]:
        import base64

        body: dict[str, Any] = {"name": name, "kind": kind, "owner_kind": owner_kind}
        if target:
            body["target"] = target
        if owner:
            body["owner"] = owner
        if isinstance(value, bytes):
            body["value_base64"] = base64.b64encode(value).decode()
        else:
            body["value"] = value
        return self.request("POST", "credentials", json=body)

    def delete_credential(self, name: str, *, owner_kind: str = "user", owner: str = "") -> None:
        owner = owner or (self.me()["name"] if owner_kind == "user" else "")
        self.request("DELETE", f"credentials/{owner_kind}/{owner}/{name}")

    def sessions(self) -> list[dict[str, Any]]:
        return self.request("GET", "sessions")["items"]

    # --- versioned files ---------------------------------------------------------------
    def whoami(self) -> str:
        if not getattr(self, "_name", None):
            self._name = os.environ.get("JUPYTERHUB_USER") or self.me()["name"]
        return self._name

    def locate(self, path: str, space: str | None = None) -> tuple[str, str]:
        """``(space, path)`` of a file: ``teams/TEAM/x`` is in team TEAM's space, anything
        else in yours; relative to your home (the session's root) when it is a local path."""
        if space:
            return space, path.strip("/")
        if os.path.isabs(path) or os.path.exists(path):
            root = os.path.realpath(
                os.environ.get("SUBMARINE_SERVER_ROOT") or os.path.expanduser("~")
            )
            full = os.path.realpath(path)
            if full.startswith(root + os.sep):
                path = os.path.relpath(full, root)
        parts = path.strip("/").split("/")
        if len(parts) > 2 and parts[0] == "teams":
            return f"team:{parts[1]}", "/".join(parts[2:])
        return f"user:{self.whoami()}", "/".join(parts)

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

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SubmarineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncSubmarineClient(_Base):
    """Asynchronous client (the jupyter-server extension)."""

    def __init__(self, api_url: str | None = None, token: str | None = None, **kw: Any) -> None:
        super().__init__(api_url, token, **kw)
        self._http = httpx.AsyncClient(**self._kwargs)

    async def send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """The raw response, errors included, for callers that relay it as it is."""
        try:
            return await self._http.request(method, path.lstrip("/"), **kw)
        except httpx.HTTPError as e:
            raise SubmarineAPIError(
                503, f"Could not reach the Submarine service at {self.api_url}: {e}"
            ) from e

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        return _decode(await self.send(method, path, **kw))

    async def me(self) -> dict[str, Any]:
        return await self.request("GET", "me")

    async def close(self) -> None:
        await self._http.aclose()
