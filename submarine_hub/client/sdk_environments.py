"""The SDK's calls on environments (the images or environments runs and sessions use) and
on credentials (the secrets a run receives).

Contract: an environment's ``ref`` is ``team/name``, ``_global/name`` or a bare name of
a global one (:func:`env_path`); a credential's value is sent once and never read back.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from .transport import SyncTransport


def env_path(ref: str) -> str:
    """``team/name`` -> ``team/name``; a bare ``name`` is a global environment."""
    return ref if "/" in ref else f"_global/{ref}"


class EnvironmentsAPI(SyncTransport):
    """Environments: list, read, create, change, delete, build."""

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
        status = self.request("POST", f"environments/{env_path(ref)}/build")
        while wait and status["state"] in ("pending", "building"):
            if on_progress:
                on_progress(status)
            time.sleep(poll)
            status = self.environment_build(ref)
        if on_progress:
            on_progress(status)
        return status


class CredentialsAPI(SyncTransport):
    """Credentials of a user or a team: names and metadata out, values in only."""

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
