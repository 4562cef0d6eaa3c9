"""The session's relay for the lab's Models tab: a model file PUT as raw bytes through
``<session>/submarine/api/v1/...`` arrives intact and is checked against the SHA-256 the
browser sends; ``<session>/submarine/predict/TEAM/NAME`` answers the platform's refusal
for an endpoint the user cannot see."""

from __future__ import annotations

import hashlib

import pytest
import requests

from .helpers.hub import Hub

pytestmark = pytest.mark.hub

MODEL = "relay-bytes"


def session(hub: Hub, user: str, path: str, method: str = "GET", **kw):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"token {hub.token_for(user)}", **kw.pop("headers", {})}
    return requests.request(method, hub.user_url(user, path), headers=headers, timeout=60, **kw)


def test_a_binary_model_file_goes_through_the_session_intact(hub: Hub) -> None:
    hub.spawn("alice")
    r = hub.api("POST", "models", user="alice", json={"name": MODEL, "team": "data-science"})
    assert r.status_code in (201, 409), r.text
    r = hub.api("POST", f"models/data-science/{MODEL}/versions", user="alice", json={})
    assert r.status_code == 201, r.text
    number = r.json()["version"]
    base = f"submarine/api/v1/models/data-science/{MODEL}/versions/{number}"
    data = bytes(range(256)) * 64 + b"\x00\xff\r\n"  # every byte value, no text
    digest = hashlib.sha256(data).hexdigest()

    # a wrong checksum is refused with the service's message: the header is relayed
    r = session(
        hub,
        "alice",
        f"{base}/files?path=model.bin",
        "PUT",
        data=data,
        headers={"Content-Type": "application/octet-stream", "X-Content-SHA256": "0" * 64},
    )
    assert r.status_code == 400, r.text
    assert digest in r.json()["message"]

    r = session(
        hub,
        "alice",
        f"{base}/files?path=model.bin",
        "PUT",
        data=data,
        headers={"Content-Type": "application/octet-stream", "X-Content-SHA256": digest},
    )
    assert r.status_code == 201, r.text
    assert r.json() == {"path": "model.bin", "size": len(data), "sha256": digest}
    r = session(hub, "alice", f"{base}/ready", "POST")
    assert r.status_code == 200 and r.json()["status"] == "ready", r.text
    # what the platform keeps is what was sent
    r = hub.api(
        "GET", f"models/data-science/{MODEL}/versions/{number}/files?path=model.bin", user="alice"
    )
    assert r.status_code == 200 and r.content == data


def test_the_predict_relay_answers_the_platforms_refusal(hub: Hub) -> None:
    hub.spawn("alice")
    r = session(hub, "alice", "submarine/predict/data-science/no-such-endpoint", "POST", json={})
    assert r.status_code == 404, r.text
    assert r.json()["message"] == "No endpoint data-science/no-such-endpoint that you can see."
