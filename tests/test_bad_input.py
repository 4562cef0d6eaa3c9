"""Bad input answers a 4xx JSON error with a message, never a 5xx: ids and numbers out of
range or in Unicode digits, deeply nested bodies, NaN and Infinity, malformed notebooks
and manifests, impossible schedules, versions of another format. Nearly every case was a
500 (or an answer that is not JSON) before; the rest guard the same parsers. In-process,
but for what the hub's proxy does with an early answer."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

import pytest
import requests

from .helpers.hub import Hub
from .helpers.notebooks import code_cell, notebook
from .helpers.service import InProcessService

USER, TEAM = "alice", "data-science"
SPACE = f"team:{TEAM}"
BIG = "99999999999999999999999"  # beyond 64 bits
DEEP_JSON = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"meta": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}"


def _notebook(**metadata: Any) -> dict[str, Any]:
    return notebook(code_cell("x = 1", tags=["parameters"]), kernel=False, **metadata)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def objects(service: InProcessService) -> dict[str, Any]:
    """A finished run, an interactive run, a schedule, a model and files to refer to."""

    def api(method: str, path: str, **kw: Any) -> dict[str, Any]:
        r = service.api(method, path, user=USER, **kw)
        assert r.status_code in (200, 201), (path, r.text)
        return r.json()

    run = api(
        "POST",
        "experiments",
        json={"meta": {"name": "bad-input", "team": TEAM}, "task": {"command": "echo hello"}},
    )
    deadline = time.monotonic() + 120
    while api("GET", f"experiments/{run['id']}")["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    tracking = api("POST", "tracking/runs", json={"name": "bad-input", "team": TEAM})
    nb = "bad-input/job.ipynb"
    api(
        "POST",
        "files/versions",
        json={"space": SPACE, "path": nb, "content": _notebook(), "format": "notebook"},
    )
    schedule = api(
        "POST",
        "notebook-schedules",
        json={"name": "bad-input", "cron": "0 6 * * *", "job": {"notebook": nb, "space": SPACE}},
    )
    # a file that was text, then became a notebook
    changed = "bad-input/changed.ipynb"
    api(
        "POST",
        "files/versions",
        json={"space": SPACE, "path": changed, "content": "not json", "format": "text"},
    )
    api(
        "POST",
        "files/versions",
        json={"space": SPACE, "path": changed, "content": _notebook(), "format": "notebook"},
    )
    api("POST", "models", json={"name": "bad-input", "team": TEAM})
    return {
        "run": run["id"],
        "tracking": tracking["id"],
        "schedule": schedule["id"],
        "notebook": nb,
        "changed": changed,
    }


def _manifest_body(path: str, manifest: Any, parts: dict[bytes, bytes] | None = None) -> str:
    encoded = {_sha(p): base64.b64encode(p).decode() for p in (parts or {})}
    return json.dumps(
        {"space": SPACE, "path": path, "manifest": manifest, "parts": encoded, "size": 1}
    )


NOT_A_CELL = b"[1, 2]"

# (method, path with {run}/{tracking}/{schedule}/{notebook}/{changed}, body, status, message)
# body: a str is sent as is (JSON text), a dict as JSON, ("yaml", text) as YAML
CASES: list[tuple[str, str, Any, int, str]] = [
    # ids and whole numbers: 64-bit, ASCII digits, parsed once
    ("GET", f"experiments/{BIG}", None, 404, "ids are positive numbers"),
    ("GET", "experiments/%C2%B2", None, 404, "ids are positive numbers"),  # '²'
    ("GET", "experiments/0", None, 404, "ids are positive numbers"),
    ("GET", f"notebook-jobs/{BIG}", None, 404, "ids are positive numbers"),
    ("DELETE", f"notebook-schedules/{BIG}", None, 404, "ids are positive numbers"),
    ("POST", f"pipelines/{BIG}/retry", None, 404, "ids are positive numbers"),
    ("POST", f"tracking/runs/{BIG}/end", {}, 404, "ids are positive numbers"),
    ("GET", f"sessions/{BIG}", None, 404, "ids are positive numbers"),
    ("GET", f"experiments?parent={BIG}", None, 400, "'parent'"),
    ("GET", "experiments?before=%C2%B2", None, 400, "'before'"),
    ("GET", "experiments?limit=100000", None, 400, "'limit'"),
    ("GET", f"experiments/compare?ids=1,{BIG}", None, 400, "'ids'"),
    ("GET", f"lineage?run={BIG}", None, 400, "'run'"),
    ("GET", f"files/content?space={SPACE}&path={{notebook}}&version={BIG}", None, 400, "'version'"),
    ("GET", f"files/diff?space={SPACE}&path={{notebook}}&a=1&b=%C2%B2", None, 400, "'b'"),
    ("GET", f"models/{TEAM}/bad-input/versions/{BIG}", None, 404, "version"),
    ("GET", f"models/{TEAM}/bad-input/versions/%C2%B2", None, 404, "no version or alias"),
    ("GET", f"notebook-schedules/{{schedule}}/runs?limit={BIG}", None, 400, "'limit'"),
    ("GET", "experiments/{run}/logs?offset=-1", None, 400, "'offset'"),
    ("GET", f"experiments/{{run}}/logs?offset={BIG}", None, 400, "'offset'"),
    ("GET", "experiments/{run}/metrics?max_points=0", None, 400, "'max_points'"),
    ("GET", "experiments?follow=maybe&metrics=yes-please", None, 400, "'metrics'"),
    ("GET", f"files/export?space={SPACE}&path={{notebook}}&format=pdf", None, 400, "Unknown"),
    # bodies: nesting, numbers beyond 64 bits
    ("POST", "experiments", DEEP_JSON, 400, "nests deeper"),
    ("POST", "models", DEEP_JSON, 400, "nests deeper"),
    ("POST", "experiments", DEEP_OBJECT, 400, "nests deeper"),
    ("POST", "experiments", ("yaml", "a: " + "[" * 5000 + "]" * 5000), 400, "nests deeper"),
    ("POST", "files/versions", '{"size": ' + BIG + "}", 400, "64 bits"),
    # NaN and Infinity
    (
        "POST",
        "experiments",
        '{"meta": {"name": "n"}, "task": {"command": "true"}, "resources": {"cpu": NaN}}',
        400,
        "finite",
    ),
    (
        "POST",
        "experiments",
        '{"meta": {"name": "n"}, "task": {"command": "true"}, "timeout": Infinity}',
        400,
        "finite",
    ),
    (
        "POST",
        "experiments",
        '{"meta": {"name": "n"}, "task": {"command": "true"}, "resources": {"memory": 1e999}}',
        400,
        "finite",
    ),
    (
        "POST",
        "experiments",
        {"meta": {"name": "n"}, "task": {"command": "true"}, "resources": {"cpu": "nan"}},
        400,
        "cores",
    ),
    (
        "POST",
        "experiments",
        {"meta": {"name": "n"}, "task": {"command": "true"}, "resources": {"cpu": "inf"}},
        400,
        "cores",
    ),
    (
        "POST",
        "experiments/{tracking}/metrics",
        '{"metrics": [{"key": "loss", "value": -Infinity}]}',
        400,
        "finite",
    ),
    (
        "POST",
        "endpoints",
        '{"name": "e", "team": "' + TEAM + '", "routes": '
        '[{"model": "bad-input", "version": 1, "weight": NaN}]}',
        400,
        "finite",
    ),
    # metrics
    (
        "POST",
        "experiments/{tracking}/metrics",
        {"metrics": [{"key": "loss", "value": 1, "timestamp": "yesterday"}]},
        400,
        "'timestamp'",
    ),
    (
        "POST",
        "experiments/{tracking}/metrics",
        {"metrics": [{"key": "loss", "value": 1, "step": 2**63}]},
        400,
        "64 bits",
    ),
    # manifests and parts of versioned files
    (
        "POST",
        "files/versions",
        _manifest_body("m.ipynb", {"format": "notebook", "cells": "x"}),
        400,
        "manifest",
    ),
    (
        "POST",
        "files/versions",
        _manifest_body("m.txt", {"format": "text", "content": 5}),
        400,
        "manifest",
    ),
    (
        "POST",
        "files/versions",
        _manifest_body(
            "m.ipynb",
            {
                "format": "notebook",
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": _sha(b"{}"),
                "cells": [_sha(NOT_A_CELL)],
            },
            {b"{}": b"{}", NOT_A_CELL: NOT_A_CELL},
        ),
        400,
        "cell part",
    ),
    (
        "POST",
        "files/versions",
        _manifest_body(
            "m.txt", {"format": "text", "content": _sha(b"\xff\xfe")}, {b"\xff\xfe": b"\xff\xfe"}
        ),
        400,
        "UTF-8",
    ),
    (
        "POST",
        "files/versions",
        {
            "space": SPACE,
            "path": "m.ipynb",
            "format": "notebook",
            "content": {"cells": [{"outputs": "x"}]},
        },
        400,
        "outputs",
    ),
    # a version of another format than the file has now
    ("GET", f"files/diff?space={SPACE}&path={{changed}}&a=1&b=2", None, 400, "text"),
    ("GET", f"files/export?space={SPACE}&path={{changed}}&version=1", None, 400, "not a notebook"),
    # notebook jobs: metadata of the wrong type
    (
        "POST",
        "notebook-jobs",
        {"name": "k", "team": TEAM, "content": _notebook(kernelspec="python3")},
        400,
        "kernelspec",
    ),
    (
        "POST",
        "notebook-jobs",
        {"name": "k", "team": TEAM, "content": {**_notebook(), "metadata": 5}},
        400,
        "metadata",
    ),
    (
        "POST",
        "notebook-jobs",
        {"name": "k", "team": TEAM, "content": _notebook(language_info=["python"])},
        400,
        "language_info",
    ),
    (
        "POST",
        "notebook-jobs",
        {
            "name": "k",
            "team": TEAM,
            "content": {
                **_notebook(),
                "cells": [{"cell_type": "code", "source": [1], "metadata": {"tags": "parameters"}}],
            },
        },
        400,
        "cell 0",
    ),
    # pipelines
    (
        "POST",
        "pipelines",
        {
            "name": "p",
            "team": TEAM,
            "tags": 5,
            "steps": [{"name": "a", "spec": {"task": {"command": "true"}}}],
        },
        400,
        "'tags'",
    ),
    (
        "POST",
        "pipelines",
        {"name": "p", "team": TEAM, "steps": [{"name": "a", "spec": "x"}]},
        400,
        "'spec'",
    ),
    (
        "POST",
        "pipelines",
        {"name": "p", "team": TEAM, "steps": [{"name": "a", "spec": {"meta": 1, "task": {}}}]},
        400,
        "'spec'",
    ),
    # schedules
    (
        "POST",
        "notebook-schedules",
        {"name": "s", "cron": "0 0 30 2 *", "job": {"notebook": "{notebook}", "space": SPACE}},
        400,
        "never fires",
    ),
    (
        "POST",
        "notebook-schedules",
        {
            "name": "s",
            "cron": "0 6 * * *",
            "timezone": "A" * 5000,
            "job": {"notebook": "{notebook}", "space": SPACE},
        },
        400,
        "'timezone'",
    ),
    ("PATCH", "notebook-schedules/{schedule}", {"job": 5}, 400, "'job'"),
    ("PATCH", "notebook-schedules/{schedule}", {"cron": "0 0 31 4 *"}, 400, "never fires"),
]


def _send(platform: Any, method: str, path: str, body: Any, user: str = USER) -> requests.Response:
    headers = {"Authorization": f"token {platform.token_for(user)}"}
    if isinstance(body, tuple):
        headers["Content-Type"] = "application/yaml"
        return requests.request(
            method, platform.api_url(path), headers=headers, data=body[1], timeout=60
        )
    if isinstance(body, dict):
        body = json.dumps(body)
    headers["Content-Type"] = "application/json"
    return requests.request(method, platform.api_url(path), headers=headers, data=body, timeout=60)


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    CASES,
    ids=[f"{c[0]} {c[1][:50]} {c[4]}" for c in CASES],
)
def test_bad_input_answers_a_4xx_with_a_message(
    service: InProcessService,
    objects: dict[str, Any],
    method: str,
    path: str,
    body: Any,
    status: int,
    message: str,
) -> None:
    path = path.format(**objects)
    if isinstance(body, dict):
        body = json.loads(json.dumps(body).replace("{notebook}", objects["notebook"]))
    r = _send(service, method, path, body)
    assert r.status_code == status, (r.status_code, r.text[:500])
    error = r.json()
    assert error["status"] == status and message in error["message"], error


def test_a_huge_log_offset_past_the_end_reads_nothing(
    service: InProcessService, objects: dict[str, Any]
) -> None:
    r = service.api("GET", f"experiments/{objects['run']}/logs?offset={2**63 - 1}", user=USER)
    assert r.status_code == 200 and r.text == "", r.text
    assert r.headers["X-Submarine-Log-Offset"] == str(2**63 - 1)


def test_a_quota_refuses_nan_and_infinity(service: InProcessService) -> None:
    for raw in (
        '{"quota": {"max_cpu_total": NaN}}',
        '{"quota": {"max_cpu_per_session": "inf"}}',
        '{"quota": {"max_memory_total": Infinity}}',
    ):
        r = _send(service, "PATCH", f"teams/{TEAM}", raw, user="admin")
        assert r.status_code == 400, r.text
    quota = service.api("GET", f"teams/{TEAM}", user=USER).json()["quota"]
    assert all(v is None or v == v for v in quota.values()), quota  # no NaN stored


def test_answers_are_strict_json_and_times_carry_their_zone(
    service: InProcessService, objects: dict[str, Any]
) -> None:
    r = service.api("GET", f"experiments/{objects['run']}", user=USER)
    run = json.loads(r.text, parse_constant=lambda c: pytest.fail(f"{c} in an answer"))
    for key in ("created_at", "started_at", "finished_at"):
        assert run[key].endswith("+00:00"), (key, run[key])
    versions = service.api(
        "GET", "files/versions", user=USER, params={"space": SPACE, "path": objects["changed"]}
    ).json()["items"]
    assert all(v["created_at"].endswith("+00:00") for v in versions), versions
    assert [v["format"] for v in versions] == ["notebook", "text"], versions  # newest first


def test_a_405_says_which_methods_are_allowed(
    service: InProcessService, objects: dict[str, Any]
) -> None:
    r = service.api("PUT", "me", user=USER, json={})
    assert r.status_code == 405 and r.headers["Allow"] == "GET", r.headers
    assert r.json()["status"] == 405
    r = service.api("DELETE", f"experiments/{objects['run']}/logs", user=USER)
    assert r.status_code == 405 and r.headers["Allow"] == "GET", r.headers
    r = service.api("QUERY", "experiments", user=USER)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, POST", r.headers


def test_an_answer_before_the_body_is_read_says_the_connection_closes(hub: Hub) -> None:
    """tornado closes a connection it answered before reading the body (a 405 for an
    unknown method): the answer must say so, or the proxy reuses the socket and hands
    the next request a 503."""
    url = hub.service_url + "/services/submarine/api/v1/experiments"
    headers = {"Authorization": f"token {hub.token_for(USER)}"}
    r = requests.request("QUERY", url, headers=headers, data=b"x" * 1_000_000, timeout=30)
    assert r.status_code == 405 and r.headers.get("Connection") == "close", r.headers
    with requests.Session() as s:  # and through the proxy, the next request is served
        s.headers.update(headers)
        for _ in range(10):
            r = s.request("QUERY", hub.api_url("experiments"), data=b'{"a": 1}', timeout=30)
            assert r.status_code == 405, r.text
            assert s.get(hub.api_url("me"), timeout=30).status_code == 200
