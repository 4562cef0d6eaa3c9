"""The SDK/CLI client and the spawner retry through a restart of the service what is safe
to send again (httpx's mock transport plays the service and the proxy in front of it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from submarine_spawner.mixin import SpawnRefused, SubmarineSpawnerMixin

from submarine_hub.client import SubmarineAPIError, SubmarineClient

PAGE = "<html><h1>503: Service Unavailable</h1></html>"


def restarting(failures: int, fail: Callable[[], httpx.Response]) -> tuple[Any, list[str]]:
    """A service that answers ``fail()`` (or raises) ``failures`` times, then 200."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if len(seen) <= failures:
            return fail()
        return httpx.Response(200, json={"ok": True, "n": len(seen)})

    return handler, seen


def client(handler: Any, retry_for: float = 10.0) -> SubmarineClient:
    c = SubmarineClient("http://svc/api", "t", retry_for=retry_for)
    c._http = httpx.Client(base_url="http://svc/api/", transport=httpx.MockTransport(handler))
    return c


def proxy_page() -> httpx.Response:
    return httpx.Response(503, text=PAGE, headers={"Content-Type": "text/html"})


def refused() -> httpx.Response:
    raise httpx.ConnectError("Connection refused")


def reset() -> httpx.Response:
    raise httpx.ReadError("Connection reset by peer")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.local
def test_an_idempotent_request_is_retried_through_a_restart(method: str) -> None:
    for fail in (proxy_page, refused, reset, lambda: httpx.Response(502)):
        handler, seen = restarting(3, fail)
        assert client(handler).request(method, "me") == {"ok": True, "n": 4}
        assert seen == [method] * 4


def test_a_post_is_sent_again_only_when_that_is_safe() -> None:
    # refused: it never left, so any request goes again
    handler, seen = restarting(2, refused)
    assert client(handler).request("POST", "experiments", json={})["n"] == 3
    # answered 503, or cut after it was sent: it may have been done; not again...
    for fail in (proxy_page, reset):
        handler, seen = restarting(1, fail)
        with pytest.raises(SubmarineAPIError) as e:
            client(handler).request("POST", "experiments", json={})
        assert e.value.status == 503 and len(seen) == 1
    # ...unless it carries an idempotency key
    handler, seen = restarting(2, proxy_page)
    keyed = client(handler).request(
        "POST", "files/versions", json={}, headers={"Idempotency-Key": "k1"}
    )
    assert keyed["n"] == 3
    # a streamed body cannot be sent again
    handler, seen = restarting(1, reset)
    with pytest.raises(SubmarineAPIError):
        client(handler).request("PUT", "x", content=iter([b"a", b"b"]))
    assert len(seen) == 1


@pytest.mark.local
def test_retries_are_bounded() -> None:
    handler, seen = restarting(10_000, proxy_page)
    with pytest.raises(SubmarineAPIError) as e:
        client(handler, retry_for=1.0).request("GET", "me")
    assert e.value.status == 503 and "503: Service Unavailable" in e.value.message
    assert 2 <= len(seen) < 20
    handler, seen = restarting(1, proxy_page)
    with pytest.raises(SubmarineAPIError):
        client(handler, retry_for=0).request("GET", "me")
    assert len(seen) == 1
    # a refusal for good (4xx) is never retried
    handler, seen = restarting(5, lambda: httpx.Response(404, json={"message": "no"}))
    with pytest.raises(SubmarineAPIError, match="no"):
        client(handler).request("GET", "me")
    assert len(seen) == 1


class Spawner(SubmarineSpawnerMixin):
    pass


@pytest.mark.local
def test_the_spawner_retries_what_is_safe_through_a_restart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = httpx.AsyncClient

    def spawner(handler: Any) -> Spawner:
        monkeypatch.setattr(
            httpx, "AsyncClient", lambda **kw: real(transport=httpx.MockTransport(handler), **kw)
        )
        return Spawner(submarine_api_url="http://svc/api", submarine_token="t")

    handler, seen = restarting(3, proxy_page)
    assert asyncio.run(spawner(handler)._platform("GET", "spawn-options/alice"))["n"] == 4
    handler, seen = restarting(2, refused)
    assert asyncio.run(spawner(handler)._platform("POST", "sessions", json={}))["n"] == 3
    handler, seen = restarting(1, proxy_page)  # an admission may have been made: not again
    with pytest.raises(SpawnRefused) as e:
        asyncio.run(spawner(handler)._platform("POST", "sessions", json={}))
    assert e.value.status_code == 503 and len(seen) == 1


def test_the_services_hub_cache_forgets_what_is_not_asked_again() -> None:
    """Each request naming another user added an entry to the cache of hub answers that
    was never dropped: the service's memory grew without a plateau."""
    from submarine_hub.service import hub as hub_mod

    async def main() -> None:
        hub = hub_mod.HubClient("http://hub/api", "t", cache_seconds=0.2)
        await hub._http.aclose()
        hub._http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(404)))
        try:
            for i in range(50):
                assert await hub.user(f"nobody-{i}") is None
            await asyncio.sleep(0.3)
            await hub.user("someone")
            assert list(hub._cache) == ["/users/someone"]
        finally:
            await hub._http.aclose()

    asyncio.run(main())
