"""The SDK's calls on serving endpoints: create, update (rolling), stop, wait, logs, and
predictions through the hub.

Contract: an endpoint's ``ref`` is ``team/name``; a bare ``name`` is an endpoint of your
only team, else of your default team, else a 400 that says how to name it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx

from .errors import SubmarineAPIError, decode
from .transport import SyncTransport


class EndpointsAPI(SyncTransport):
    """Serving endpoints of a team."""

    def _endpoint_ref(self, ref: str) -> str:
        """``team/name``; a bare ``name`` is an endpoint of your only team, else of your
        default team (the session's, or ``submarine config set team``'s)."""
        if "/" in ref:
            return ref
        teams = [t["name"] if isinstance(t, dict) else t for t in self.me()["teams"]]
        if len(teams) == 1:
            return f"{teams[0]}/{ref}"
        if self.default_team in teams:
            return f"{self.default_team}/{ref}"
        example = teams[0] if teams else "TEAM"
        raise SubmarineAPIError(
            400,
            f"Say which team's endpoint: {example}/{ref}, or set a default team once: "
            f"submarine config set team {example}",
        )

    def endpoints(self, team: str | None = None, stopped: bool = False) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"team": team} if team else {}
        if stopped:
            params["stopped"] = "1"
        return self.request("GET", "endpoints", params=params)["items"]

    def get_endpoint(self, ref: str) -> dict[str, Any]:
        """An endpoint with its routes, what its server serves now, and its statistics."""
        return self.request("GET", f"endpoints/{self._endpoint_ref(ref)}")

    def create_endpoint(
        self,
        name: str,
        model: str | None = None,
        version: str | int = "production",
        *,
        team: str | None = None,
        routes: list[dict[str, Any]] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Serve ``model`` at ``version`` (a number or an alias), or ``routes`` (a list of
        ``{model, version, weight}``); ``options``: ``script``, ``loader``, ``method``,
        ``threads``, ``resources``, ``description``, ``access_log``."""
        body: dict[str, Any] = {"name": name, **options}
        if team:
            body["team"] = team
        if routes is not None:
            body["routes"] = routes
        else:
            body.update(model=model, version=version)
        return self.request("POST", "endpoints", json=body)

    def update_endpoint(self, ref: str, **changes: Any) -> dict[str, Any]:
        """A rolling update: ``version=4``, ``routes=[...]`` (new weights or versions),
        options; with no change, aliases are resolved again."""
        return self.request("PATCH", f"endpoints/{self._endpoint_ref(ref)}", json=changes)

    def stop_endpoint(self, ref: str, purge: bool = False) -> dict[str, Any] | None:
        params = {"purge": "1"} if purge else None
        return self.request("DELETE", f"endpoints/{self._endpoint_ref(ref)}", params=params)

    def wait_endpoint(self, ref: str, timeout: float = 300.0) -> dict[str, Any]:
        """Until the endpoint serves its current generation (or failed); the endpoint."""
        ref = self._endpoint_ref(ref)
        deadline = time.monotonic() + timeout
        while True:
            ep = self.get_endpoint(ref)
            serving = (ep.get("serving") or {}).get("generation")
            if ep["status"] == "ready" and serving == ep["generation"]:
                return ep
            if ep["status"] in ("failed", "stopped") or (ep["status"] == "ready" and ep["reason"]):
                return ep
            if time.monotonic() > deadline:
                raise SubmarineAPIError(504, f"Endpoint {ref} is still {ep['status']}.")
            time.sleep(0.3)

    def endpoint_logs(self, ref: str, *, offset: int = 0) -> str:
        return self.fetch(
            f"endpoints/{self._endpoint_ref(ref)}/logs", params={"offset": offset}
        ).text

    def follow_endpoint_logs(self, ref: str) -> Iterator[str]:
        with self.stream(
            f"endpoints/{self._endpoint_ref(ref)}/logs", params={"follow": "1"}
        ) as resp:
            yield from resp.iter_text()

    def endpoint_url(self, ref: str) -> str:
        """Where the endpoint answers, through the hub's proxy."""
        url = self.get_endpoint(ref)["url"]
        if "://" in url:
            return url
        base = self.api_url
        marker = "/services/"
        return (base[: base.index(marker)] if marker in base else base) + url

    def predict(
        self, ref: str, inputs: Any, *, version: int | None = None, url: str | None = None
    ) -> dict[str, Any]:
        """``{"predictions": [...], "model": ..., "version": N}`` from the endpoint, called
        through the hub with your token (``url``: skip looking the endpoint up)."""
        target = (url or self.endpoint_url(ref)).rstrip("/") + "/predict"
        params = {"version": str(version)} if version is not None else None
        try:
            resp = self._http.post(target, json={"inputs": inputs}, params=params)
        except httpx.HTTPError as e:
            raise SubmarineAPIError(503, f"Could not reach the endpoint at {target}: {e}") from e
        return decode(resp)
