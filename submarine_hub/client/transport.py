"""How the clients reach the service: where and as whom (:class:`ClientBase`), and how the
synchronous client sends a request and retries it through a restart of the service
(:class:`SyncTransport`).

Contracts:

- The service's API URL and the token come from the arguments, else the environment
  (a session's), else ``submarine login``'s settings
  (:func:`~submarine_hub.client.config.resolve`).
- A request is sent again only when that is safe (:func:`can_repeat`): an idempotent
  method, or a POST with an ``Idempotency-Key``, with a body that can be sent again; a
  connection that was refused was never sent, so any request is tried again after one.
  Retries back off at random, for at most ``retry_for`` seconds.
- A service that cannot be reached is a :class:`SubmarineAPIError` with status 503.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from typing import Any

import httpx
import tenacity

from .config import Endpoint, default, default_headers, resolve
from .errors import SubmarineAPIError, decode, raise_for_status

DEFAULT_TIMEOUT = 30.0
RETRY_FOR_S = 20.0  # how long a request is retried through a restart of the service
RETRY_STATUSES = (502, 503, 504)
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class ClientBase:
    """What both clients share: the endpoint, the headers every request carries, and the
    defaults of the session (team, environment)."""

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
                # what a request naming no team (environment) works in: the session's
                **default_headers(),
            },
            "timeout": timeout,
        }

    @property
    def default_team(self) -> str | None:
        """The team requests naming none work in (for a user of several teams): the
        session's ($SUBMARINE_TEAM), else ``submarine config set team``'s."""
        return default("team")

    @property
    def default_environment(self) -> str | None:
        """The environment profile runs naming none use: the session's."""
        return default("environment")

    @property
    def api_url(self) -> str:
        return self.endpoint.api_url


class Unavailable(Exception):
    """502/503/504: the service is restarting (the proxy answers for it meanwhile)."""

    def __init__(self, resp: httpx.Response) -> None:
        self.resp = resp


def can_repeat(method: str, kw: dict[str, Any]) -> bool:
    """Whether sending the request again is safe: an idempotent method, or a POST that
    carries an ``Idempotency-Key``; and a body that can be sent again (not a stream)."""
    content = kw.get("content")
    if "files" in kw or not (content is None or isinstance(content, bytes | str)):
        return False
    headers = {k.lower() for k in (kw.get("headers") or {})}
    return method.upper() in IDEMPOTENT or "idempotency-key" in headers


class SyncTransport(ClientBase):
    """The synchronous connection the SDK's calls go through (see the module for when a
    request is retried), and who its token acts for."""

    def __init__(
        self,
        api_url: str | None = None,
        token: str | None = None,
        *,
        retry_for: float = RETRY_FOR_S,
        **kw: Any,
    ) -> None:
        super().__init__(api_url, token, **kw)
        self._http = httpx.Client(**self._kwargs)
        self.retry_for = retry_for

    def request(self, method: str, path: str, **kw: Any) -> Any:
        """Send a request (``path`` relative to the API's root); its decoded JSON body."""
        repeatable = can_repeat(method, kw)

        def retry(e: BaseException) -> bool:
            if isinstance(e, httpx.ConnectError):  # never reached the service
                return "files" not in kw and isinstance(kw.get("content"), bytes | str | None)
            return repeatable and isinstance(e, Unavailable | httpx.TransportError)

        def send() -> httpx.Response:
            resp = self._http.request(method, path.lstrip("/"), **kw)
            if resp.status_code in RETRY_STATUSES:
                raise Unavailable(resp)
            return resp

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_delay(self.retry_for),
            wait=tenacity.wait_random_exponential(multiplier=0.25, max=4.0),
            retry=tenacity.retry_if_exception(retry),
            reraise=True,
        )
        try:
            resp = retrying(send)
        except Unavailable as e:
            resp = e.resp
        except httpx.HTTPError as e:
            raise SubmarineAPIError(
                503, f"Could not reach the Submarine service at {self.api_url}: {e}"
            ) from e
        return decode(resp)

    def fetch(self, path: str, **kw: Any) -> httpx.Response:
        """A GET sent once, its body read whole (a log, an artifact); refused: raises."""
        resp = self._http.get(path, **kw)
        raise_for_status(resp)
        return resp

    @contextlib.contextmanager
    def stream(self, path: str, **kw: Any) -> Iterator[httpx.Response]:
        """A GET whose body is read as it comes (no timeout); its status is checked before
        the body is read."""
        with self._http.stream("GET", path, timeout=None, **kw) as resp:
            if not resp.is_success:
                resp.read()
                raise_for_status(resp)
            yield resp

    def put_file(self, url: str, source: str | os.PathLike[str], path: str) -> dict[str, Any]:
        """PUT a file's bytes streamed, with its SHA-256 for the service to check."""
        digest = hashlib.sha256()
        with open(source, "rb") as f:
            while chunk := f.read(1024 * 1024):
                digest.update(chunk)

        def chunks() -> Iterator[bytes]:
            with open(source, "rb") as f:
                while chunk := f.read(1024 * 1024):
                    yield chunk

        return self.request(
            "PUT",
            url,
            params={"path": path},
            content=chunks(),
            headers={"X-Content-SHA256": digest.hexdigest()},
            timeout=None,
        )

    def me(self) -> dict[str, Any]:
        """Who you are: name, teams, admin flag and scopes."""
        return self.request("GET", "me")

    def whoami(self) -> str:
        """Your user name (the session's, else asked of the service once)."""
        if not getattr(self, "_name", None):
            self._name = os.environ.get("JUPYTERHUB_USER") or self.me()["name"]
        return self._name

    def close(self) -> None:
        self._http.close()
