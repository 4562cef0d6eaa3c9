"""Calls of the platform API that tests share, against the real hub (:class:`~.hub.Hub`)
or the in-process service (:class:`~.service.InProcessService`): both have ``api``,
``api_url`` and ``token_for``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, Protocol

import requests

FINAL = ("succeeded", "failed", "killed")


class Platform(Protocol):
    def api(self, method: str, path: str, user: str | None = None, **kw: Any) -> Any: ...

    def api_url(self, path: str = "") -> str: ...

    def token_for(self, user: str, scopes: list[str] | None = None) -> str: ...


def assert_json_error(r: requests.Response, status: int, pattern: str = "") -> None:
    """``r`` is the service's JSON error ``status`` whose message matches ``pattern``."""
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["status"] == status
    assert body["message"]
    assert "Traceback" not in body["message"]
    if pattern:
        assert re.search(pattern, body["message"]), body["message"]


def as_user(platform: Platform, user: str) -> dict[str, str]:
    """The environment the CLI and SDK need to call the platform as ``user``."""
    return {
        "SUBMARINE_API_URL": platform.api_url().rstrip("/"),
        "SUBMARINE_TOKEN": platform.token_for(user),
    }


def command(name: str, cmd: str, team: str = "data-science", **extra: Any) -> dict[str, Any]:
    """The spec of a run of one shell command."""
    return {
        "meta": {"name": name, "team": team, **extra.pop("meta", {})},
        "task": {"command": cmd},
        **extra,
    }


def submit(platform: Platform, user: str, spec: dict[str, Any], **kw: Any) -> dict[str, Any]:
    r = platform.api("POST", "experiments", user=user, json=spec, **kw)
    assert r.status_code == 201, r.text
    return r.json()


def wait(
    platform: Platform,
    user: str,
    run_id: int,
    timeout: float = 120,
    *,
    resource: str = "experiments",
) -> dict[str, Any]:
    """The run (``resource``: ``notebook-jobs`` for a notebook job) once it has ended."""
    deadline = time.monotonic() + timeout
    while True:
        run = platform.api("GET", f"{resource}/{run_id}", user=user).json()
        if run["status"] in FINAL:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} did not end: {run}")
        time.sleep(0.1)


def wait_serving(
    platform: Platform, ref: str = "data-science/iris", user: str = "alice", timeout: float = 120
) -> dict[str, Any]:
    """Until the endpoint is ready and its server serves its current generation."""
    deadline = time.monotonic() + timeout
    while True:
        ep = platform.api("GET", f"endpoints/{ref}", user=user).json()
        serving = (ep.get("serving") or {}).get("generation")
        if ep.get("status") == "ready" and serving == ep["generation"] and not ep["reason"]:
            return ep
        assert ep.get("status") != "failed", ep
        assert time.monotonic() < deadline, f"endpoint not serving: {ep}"
        time.sleep(0.2)


def wait_for(
    predicate: Callable[[], Any],
    timeout: float,
    what: str,
    *,
    tolerate: tuple[type[BaseException], ...] = (),
) -> Any:
    """``predicate()``'s first true value, polled every 0.2 s for up to ``timeout`` s
    (an exception of the ``tolerate`` kinds counts as not yet)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except tolerate:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
