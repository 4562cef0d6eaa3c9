"""The session relay reaches only the platform's own API: no path a user sends (absolute
URLs, ``//host``, ``..``, control characters, any of them percent-encoded) turns into a
request to another host or outside the API; through a real session, a recorder listening
on a free port never sees the session's token."""

from __future__ import annotations

import http.client
import http.server
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from submarine_hub.server.handlers import predict_url
from submarine_hub.server.relay import RelayRefused, api_target

from .helpers.hub import Hub, free_port

API = "http://127.0.0.1:10101/services/submarine/api/v1"

BAD_PATHS = [
    "http://evil:8000/x",
    "https://evil/x",
    "//evil/x",
    "/evil/x",
    "../../hub/api/users",
    "me/../../../hub/api",
    "%2e%2e/%2e%2e/hub",
    "%2E%2E",
    "me/%252e%252e/x",
    "%2f%2fevil/x",
    "http:%2f%2fevil/x",
    "files/..%5c..%5cx",
    "me\r\nHost: evil",
    "me%0d%0aX: y",
    "me\x00",
    ".",
    "",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_a_path_that_could_leave_the_api_is_refused(path: str) -> None:
    with pytest.raises(RelayRefused):
        api_target(API, path)


@pytest.mark.parametrize(
    "path, url",
    [
        ("me", f"{API}/me"),
        ("experiments/", f"{API}/experiments/"),
        ("models/data-science/m/versions/1/files", f"{API}/models/data-science/m/versions/1/files"),
        ("credentials/user/a@b.c/x", f"{API}/credentials/user/a@b.c/x"),
        # a first segment that looks like a scheme stays a path: ':' is encoded
        ("http:evil/x", f"{API}/http%3Aevil/x"),
        ("a b/%25", f"{API}/a%20b/%2525"),
        ("x?y#z", f"{API}/x%3Fy%23z"),
    ],
)
def test_a_plain_path_is_appended_below_the_api(path: str, url: str) -> None:
    assert api_target(API, path) == url
    parts = urlsplit(api_target(API, path))
    assert (parts.scheme, parts.netloc) == ("http", "127.0.0.1:10101")


@pytest.mark.parametrize(
    "url, ok",
    [
        ("/services/ep-1/", "http://127.0.0.1:10101/services/ep-1/predict"),
        ("http://hub:8000/services/ep-1/", "http://hub:8000/services/ep-1/predict"),
        ("https://hub/jupyter/services/ep-1/", "https://hub/jupyter/services/ep-1/predict"),
        ("http://evil/x/", None),
        ("file:///services/x/", None),
        ("http://u:p@hub/services/x/", None),
        ("/services/../../hub/api/", None),
        ("/services/%2e%2e/x/", None),
        ("", None),
    ],
)
def test_the_predict_relay_only_posts_to_a_hub_service(url: str, ok: str | None) -> None:
    if ok is None:
        with pytest.raises(RelayRefused):
            predict_url(API, {"url": url})
    else:
        assert predict_url(API, {"url": url}) == ok


# --- through a real session ---------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def _record(self) -> None:
        self.seen.append(f"{self.command} {self.path} {self.headers.get('Authorization')}")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"url": "http://127.0.0.1/x"}')

    do_GET = do_POST = do_PUT = do_DELETE = _record

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[int, list[str]]]:
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Recorder)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield port, _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


def raw(hub: Hub, method: str, path: str, token: str) -> tuple[int, str]:
    """Send ``path`` exactly as written (no client normalises its dots or slashes)."""
    url = urlsplit(hub.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.putheader("Authorization", f"token {token}")
        conn.putheader("Content-Length", "0")
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


@pytest.mark.hub
def test_the_relay_never_sends_the_token_to_another_host(
    hub: Hub, recorder: tuple[int, list[str]]
) -> None:
    port, seen = recorder
    hub.spawn("alice")
    token = hub.token_for("alice")
    evil = f"127.0.0.1:{port}"
    relay = "/user/alice/submarine/api/v1/"
    for path in [
        f"http://{evil}/steal",
        f"https://{evil}/steal",
        f"http:%2F%2F{evil}/steal",
        f"%2F%2F{evil}/steal",
        f"http:{evil}/steal",
        "..%2F..%2F..%2Fhub%2Fapi%2Fuser",
        "%2e%2e/%2e%2e/steal",
        "me%0d%0aHost:%20evil",
    ]:
        for method in ("GET", "POST"):
            status, body = raw(hub, method, relay + path, token)
            assert status in (400, 404), (path, status, body)
    for path in [f"..%2F..%2Fhttp:%2F%2F{evil}/x", "..%2Fx"]:
        status, body = raw(hub, "POST", f"/user/alice/submarine/predict/{path}", token)
        assert status in (400, 404), (path, status, body)
    assert seen == []
    # the relay still works for plain paths
    status, body = raw(hub, "GET", relay + "me", token)
    assert status == 200 and '"alice"' in body
