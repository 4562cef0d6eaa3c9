"""``PlatformFiles``: the platform's versioned-file API as the sessions' contents manager
and its checkpoints use it (platform I/O, nothing of the local disk).

Contracts:

- A version is POSTed with only the content parts the platform does not have yet (a
  cache of at most :data:`KNOWN_PARTS` keys); if the platform says parts are missing, it
  is sent again once with all of them.
- A failed answer of the platform becomes the error a contents request answers
  (:func:`platform_error`): its 4xx as it is, a 5xx as a 503 that says to try again.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import httpx
from anyio.to_thread import run_sync
from tornado import web

from ..client.client import AsyncSubmarineClient
from ..client.errors import SubmarineAPIError, error_message
from ..core import contentaddr
from ..core.errors import InvalidInput
from ..core.spaces import space_of

#: How many keys of parts the platform has are remembered (the oldest are forgotten).
KNOWN_PARTS = 50_000


def parse_time(iso: str) -> datetime:
    """A platform timestamp (ISO 8601) as a datetime."""
    return datetime.fromisoformat(iso)


def platform_error(resp: httpx.Response, what: str) -> web.HTTPError:
    """The error to answer for a platform's failed answer: its 4xx as it is; a 5xx (the
    proxy's page while the service is down or restarting, say) as 503, with a message."""
    if resp.status_code < 500:
        return web.HTTPError(resp.status_code, f"{what}: {error_message(resp)}")
    return web.HTTPError(
        503,
        f"{what}: the platform is not available (HTTP {resp.status_code}); try again in a moment.",
    )


class PlatformFiles:
    """The platform's versioned-file API, as the contents manager uses it."""

    def __init__(self, client: AsyncSubmarineClient, user: str) -> None:
        self.client = client
        self.user = user
        self._known: OrderedDict[str, None] = OrderedDict()  # parts the platform has

    def locate(self, path: str) -> tuple[str, str]:
        """``(space, path in it)`` of a path of this session: :func:`~..core.spaces.space_of`."""
        return space_of(path, self.user)

    def remember(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._known[key] = None
            self._known.move_to_end(key)
        while len(self._known) > KNOWN_PARTS:
            self._known.popitem(last=False)

    async def post(
        self,
        space: str,
        path: str,
        manifest: dict[str, Any],
        parts: dict[str, bytes],
        size: int,
        *,
        base: int | None = None,
        message: str = "",
        moved_from: str | None = None,
        restored_from: int | None = None,
        idempotency_key: str | None = None,
        authors: list[str] | None = None,
    ) -> httpx.Response:
        """POST a version, sending only the parts the platform does not have yet (all of
        them if it says some are missing). The platform's answer, whatever it is. With an
        ``idempotency_key``, a repeat is answered with the version the first one made."""
        body: dict[str, Any] = {
            "space": space,
            "path": path,
            "manifest": manifest,
            "size": size,
            "base_version": base,
        }
        if message:
            body["message"] = message
        if moved_from:
            body["moved_from"] = moved_from
        if restored_from is not None:
            body["restored_from"] = restored_from
        if authors:
            body["authors"] = authors
        fresh = {k: v for k, v in parts.items() if k not in self._known}
        for attempt in range(2):
            body["parts"] = {k: base64.b64encode(v).decode() for k, v in fresh.items()}
            headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
            resp = await self.client.send("POST", "files/versions", json=body, headers=headers)
            if resp.status_code == 409 and "missing" in resp.json() and attempt == 0:
                fresh = parts  # our cache was wrong: send everything
                continue
            break
        if resp.is_success:
            self.remember(parts)
        return resp

    async def record(
        self,
        path: str,
        content: Any,
        fmt: str,
        *,
        base_version: int | None = None,
        space: str | None = None,
        authors: list[str] | None = None,
    ) -> dict:
        """Record a version now (team folders, whose only copy is the platform)."""
        if space is None:
            space, path = self.locate(path)
        # serializing and hashing a large notebook's parts take their time: off the loop
        try:
            (manifest, parts), size = await run_sync(
                lambda: (contentaddr.split(content, fmt), contentaddr.size_of(content, fmt))
            )
        except InvalidInput as e:  # content the platform would refuse: the client's mistake
            raise web.HTTPError(400, e.message) from None
        try:
            resp = await self.post(
                space, path, manifest, parts, size, base=base_version, authors=authors
            )
        except SubmarineAPIError as e:
            raise web.HTTPError(e.status, e.message) from None
        if not resp.is_success:
            raise platform_error(resp, "The platform could not keep this version")
        return resp.json()

    async def call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            return await self.client.request(method, path, **kw)
        except SubmarineAPIError as e:
            if e.status >= 500:
                raise web.HTTPError(
                    503,
                    f"The platform is not available ({e.message[:100]}); try again in a moment.",
                ) from None
            raise web.HTTPError(e.status, e.message) from None
