"""A request refused before its body is read never costs the next caller a 503: the
service drains a refused body up to its size limit and answers after it; past the limit
it answers at once with ``Connection: close``, so the proxy never reuses a connection
the service is about to close. Through a real hub's proxy."""

from __future__ import annotations

import pytest
import requests

from .helpers.hub import Hub

pytestmark = pytest.mark.hub

SMALL = b"x" * 4096
LARGE = b"x" * (17 * 1024 * 1024)  # over the service's default max_body_size (16 MiB)

TARGETS = [
    ("PUT", "models/data-science/m/versions/1/files?path=a.bin"),
    ("PUT", "experiments/1/artifacts?path=a.txt"),
    ("POST", "experiments"),
    ("POST", "files/versions"),
    ("PATCH", "teams/data-science"),
    ("POST", "uploads"),
    ("DELETE", "credentials/user/alice/x"),
    ("POST", "no/such/endpoint"),
]


@pytest.mark.parametrize("body", [SMALL, LARGE], ids=["small", "over-the-limit"])
def test_an_anonymous_body_never_costs_the_next_caller_a_503(hub: Hub, body: bytes) -> None:
    token = {"Authorization": f"token {hub.token_for('alice')}"}
    for method, path in TARGETS:
        for _ in range(3):
            try:
                r = requests.request(
                    method,
                    hub.api_url(path),
                    data=body,
                    headers={"Content-Type": "application/octet-stream"},
                    timeout=60,
                )
                # past the limit the service answers before reading on and closes the
                # connection: the proxy may then tell this client 503 (it could not
                # send the rest), but never the next caller
                allowed = (401, 404, 413) if body is SMALL else (401, 404, 413, 503)
                assert r.status_code in allowed, (method, path, r.status_code, r.text[:200])
            except requests.ConnectionError:
                assert body is LARGE, (method, path)  # its send cut short: the same
            after = requests.get(hub.api_url("me"), headers=token, timeout=60)
            assert after.status_code == 200, (method, path, after.status_code, after.text[:200])


def test_an_anonymous_upload_announcing_more_than_the_limit_is_answered_at_once(
    hub: Hub,
) -> None:
    """A refused body is drained only up to the limit: a client announcing 10 GB gets its
    answer without sending them, and the next caller is served normally."""
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(hub.api_url("models/data-science/m/versions/1/files?path=a.bin"))
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(
            f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {10**10}\r\n\r\n".encode()
            + SMALL
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)  # a timeout here: the service waited for 10 GB
            if not chunk:
                break
            answer += chunk
    assert answer.split(b"\r\n", 1)[0].split()[1] == b"401", answer[:300]
    token = {"Authorization": f"token {hub.token_for('alice')}"}
    for _ in range(3):
        assert requests.get(hub.api_url("me"), headers=token, timeout=60).status_code == 200
