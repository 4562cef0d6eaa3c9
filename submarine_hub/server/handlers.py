"""Handlers of the single-user server extension."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from jupyter_server.auth.decorator import authorized
from tornado import web

from ..client.client import AsyncSubmarineClient
from ..client.config import NotConfigured
from ..client.errors import SubmarineAPIError
from .base import SubmarineHandler
from .relay import RelayRefused, api_target, check_below, check_segment

# X-Content-SHA256: a model file is checked end to end (browser -> artifact store)
_RELAYED_HEADERS = ("Content-Type", "X-Content-SHA256")


class _Relay(SubmarineHandler):
    """What the relays share: the session's platform client (one per server), and
    answering with what the other side said, or a JSON error a person can act on."""

    _client: AsyncSubmarineClient | None = None

    @classmethod
    def client(cls) -> AsyncSubmarineClient:
        if _Relay._client is None:
            _Relay._client = AsyncSubmarineClient()
        return _Relay._client

    async def _answer(
        self, call: Callable[[AsyncSubmarineClient], Awaitable[httpx.Response]]
    ) -> None:
        try:
            resp = await call(self.client())
        except NotConfigured as e:
            return self._error(503, f"This session is not connected to a Submarine Hub: {e}")
        except SubmarineAPIError as e:
            return self._error(e.status, e.message)
        except RelayRefused as e:
            return self._error(400, f"Not a path of the platform's API: {e}.")
        self.set_status(resp.status_code)
        kind = resp.headers.get("Content-Type", "application/json")
        # no body at all for a 204 or 304 (tornado refuses even an empty one)
        self.finish(resp.content or None, set_content_type=kind)

    def _error(self, status: int, message: str) -> None:
        self.set_status(status)
        self.finish(json.dumps({"status": status, "message": message}))


class ForwardHandler(_Relay):
    """Relay ``submarine/api/v1/<path>`` to the platform service as the session's user."""

    async def _saves_recorded(self, path: str) -> bool:
        """Before a request about versioned files or a notebook job: this session's queued
        saves (of the file in question, or all of them) are with the platform, so history
        is complete and a job runs what was just saved."""
        flush = getattr(self.contents_manager, "flush_saves", None)
        if flush is None:
            return True
        if path.startswith(("notebook-jobs", "notebook-schedules")):
            # a job (or a notebook's parameters) reads a notebook's newest version:
            # the one just saved in this session
            reads_notebook = self.request.method != "GET" or self.get_query_argument("notebook", "")
            return await flush() if reads_notebook else True
        if not path.startswith("files"):
            return True
        space, rel = self.get_query_argument("space", ""), self.get_query_argument("path", "")
        return await flush(space, rel) if space and rel else await flush()

    async def _relay(self, path: str) -> None:
        try:
            target = api_target(self.client().api_url, path)
        except NotConfigured as e:
            return self._error(503, f"This session is not connected to a Submarine Hub: {e}")
        except RelayRefused as e:
            return self._error(400, f"Not a path of the platform's API: {e}.")
        if not await self._saves_recorded(path):
            return self._error(
                503,
                "Your latest saves are safe in this session's journal, but the platform "
                "cannot record them right now; try again once it is back.",
            )
        await self._answer(
            lambda client: client.send(
                self.request.method or "GET",
                target,
                params={k: self.get_arguments(k) for k in self.request.query_arguments},
                content=self.request.body or None,
                headers={k: v for k in _RELAYED_HEADERS if (v := self.request.headers.get(k))},
            )
        )

    @web.authenticated
    @authorized
    async def get(self, path: str) -> None:
        await self._relay(path)

    @web.authenticated
    @authorized
    async def post(self, path: str) -> None:
        await self._relay(path)

    @web.authenticated
    @authorized
    async def put(self, path: str) -> None:
        await self._relay(path)

    @web.authenticated
    @authorized
    async def patch(self, path: str) -> None:
        await self._relay(path)

    @web.authenticated
    @authorized
    async def delete(self, path: str) -> None:
        await self._relay(path)


class PredictHandler(_Relay):
    """``POST submarine/predict/TEAM/NAME``: the body to the endpoint's predict URL, sent
    with the session's token (the browser has no token the endpoint would take), and the
    endpoint's answer back unchanged: the lab's *test request* box."""

    @web.authenticated
    @authorized
    async def post(self, team: str, name: str) -> None:
        await self._answer(lambda client: self._predict(client, team, name))

    async def _predict(self, client: AsyncSubmarineClient, team: str, name: str) -> httpx.Response:
        check_segment(team)
        check_segment(name)
        where = api_target(client.api_url, f"endpoints/{team}/{name}")
        endpoint = await client.request("GET", where)
        return await client.send(
            "POST",
            predict_url(client.api_url, endpoint),
            content=self.request.body,
            headers={"Content-Type": self.request.headers.get("Content-Type", "application/json")},
        )


def predict_url(api_url: str, endpoint: dict[str, Any]) -> str:
    """Where an endpoint the platform described answers predictions: its ``url`` (a path of
    the hub, or the absolute URL the platform computed from its configured public URL)
    plus ``predict``. Only a hub service's path is accepted (``.../services/NAME/``):
    the session's token is never sent elsewhere."""
    url = endpoint.get("url")
    if not isinstance(url, str) or not url:
        raise RelayRefused("the platform described the endpoint without a URL")
    if "://" not in url:  # a path of the hub: from the service's address
        url = (api_url[: api_url.index("/services/")] if "/services/" in api_url else api_url) + url
    parts = urlsplit(url)
    segments = parts.path.strip("/").split("/")
    if parts.scheme not in ("http", "https") or "services" not in segments[:-1]:
        raise RelayRefused(f"{url} is not a hub service's URL")
    for segment in segments:
        check_segment(segment)
    base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    target = base + "/predict"
    check_below(base, target)
    return target
