"""An endpoint's traffic over time in-process: ``GET /endpoints/{team}/{name}/metrics``
asks the endpoint's server (the real one's stats handler, with its counters over time)
with the endpoint's control token; steps and windows checked (400 with a message); a user
of another team refused (404); a stopped endpoint has no points and says why."""

from __future__ import annotations

import io
import itertools
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from submarine_hub.backends.base import ProcessState
from submarine_hub.serving.server import EndpointServer

from .helpers.api import assert_json_error
from .helpers.service import InProcessService


def _model_file() -> bytes:
    import joblib
    from sklearn.dummy import DummyClassifier

    buf = io.BytesIO()
    joblib.dump(DummyClassifier(strategy="most_frequent").fit([[0], [1]], [0, 0]), buf)
    return buf.getvalue()


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


@pytest.fixture(scope="module")
def endpoint(service: InProcessService, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An endpoint of a team of its own whose server (the real stats handler of the
    endpoint server process, in the service's loop) has counted some requests."""
    team = service.new_team("traffic")
    user = service.new_user("traffic", [team])
    other = service.new_user("outsider", [service.new_team("outsiders")])

    def A(method: str, path: str, **kw: Any) -> Any:
        return service.api(method, path, user=user, **kw)

    ok(A("POST", "models", json={"name": "m", "team": team}), 201)
    ok(A("POST", f"models/{team}/m/versions", json={"framework": "sklearn"}), 201)
    ok(A("PUT", f"models/{team}/m/versions/1/files?path=model.joblib", data=_model_file()), 201)
    ok(A("POST", f"models/{team}/m/versions/1/ready"))
    body = {"name": "ep", "team": team, "model": "m", "version": 1}
    ep = ok(A("POST", "endpoints", json=body), 201)
    manager = service.context.endpoints  # type: ignore[union-attr]
    server = EndpointServer(
        Path(tmp_path_factory.mktemp("endpoint")),
        {
            "team": team,
            "endpoint": f"{team}/ep",
            "prefix": ep["path"],
            "control_token": manager.control_token(ep["id"]),
        },
        None,
    )
    now = time.time()
    for i in range(12):  # 12 requests over the last minute, 2 of them errors
        server.series.observe(0.004 + i / 1000, error=i in (3, 7), now=now - 60 + i * 5)

    async def start(_: Any) -> tuple[HTTPServer, int]:
        sockets = bind_sockets(0, "127.0.0.1")
        http = HTTPServer(server.make_app())
        http.add_sockets(sockets)
        return http, sockets[0].getsockname()[1]

    http, port = service.call(start)
    service.endpoints.states[ep["id"]] = ProcessState(
        alive=True, state="ready", generation=1, url_override=f"http://127.0.0.1:{port}"
    )

    async def stop(_: Any) -> None:
        http.stop()

    try:
        yield {"team": team, "user": user, "other": other, "ep": ep}
    finally:
        service.call(stop)
        service.endpoints.states.pop(ep["id"], None)
        service.api("DELETE", f"endpoints/{team}/ep?purge=1", user=user)


def _path(e: dict[str, Any], **query: Any) -> str:
    return f"endpoints/{e['team']}/ep/metrics" + (f"?{urlencode(query)}" if query else "")


def test_traffic_over_time_from_the_endpoints_server(
    service: InProcessService, endpoint: dict[str, Any]
) -> None:
    out = ok(service.api("GET", _path(endpoint, window=300, step=10), user=endpoint["user"]))
    assert out["endpoint"] == f"{endpoint['team']}/ep" and out["status"] == "starting"
    assert out["step_s"] == 10 and out["window_s"] == 300 and len(out["points"]) == 30
    points = out["points"]
    assert [b["t"] - a["t"] for a, b in itertools.pairwise(points)] == [10] * 29
    assert sum(p["requests"] for p in points) == 12
    assert sum(p["errors"] for p in points) == 2
    busy = [p for p in points if p["requests"]]
    assert all(p["rate"] == p["requests"] / 10 and p["p50_ms"] >= 3 for p in busy)
    assert all(p["p99_ms"] is None for p in points if not p["requests"])
    # the default: the last hour in 10 s steps; a coarser step sums the same requests
    assert len(ok(service.api("GET", _path(endpoint), user=endpoint["user"]))["points"]) == 360
    wide = ok(service.api("GET", _path(endpoint, window=600, step=60), user=endpoint["user"]))
    assert len(wide["points"]) == 10 and sum(p["requests"] for p in wide["points"]) == 12


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"window": 30}, "'window'"),
        ({"window": 7200}, "'window'"),
        ({"window": "an hour"}, "'window'"),
        ({"step": 5}, "'step'"),
        ({"step": 15}, "multiple of 10"),
        ({"step": 600, "window": 300}, "at most 'window'"),
    ],
)
def test_bad_windows_and_steps_are_refused(
    service: InProcessService, endpoint: dict[str, Any], query: dict[str, Any], words: str
) -> None:
    r = service.api("GET", _path(endpoint, **query), user=endpoint["user"])
    assert_json_error(r, 400, words)


def test_another_team_is_refused(service: InProcessService, endpoint: dict[str, Any]) -> None:
    r = service.api("GET", _path(endpoint), user=endpoint["other"])
    assert_json_error(r, 404, "ep")
    r = service.api("GET", _path(endpoint), user="carol")
    assert r.status_code == 404
    assert service.api("GET", _path(endpoint)).status_code in (401, 403)


def test_a_stopped_endpoint_has_no_traffic(
    service: InProcessService, endpoint: dict[str, Any]
) -> None:
    user, team = endpoint["user"], endpoint["team"]
    ok(service.api("DELETE", f"endpoints/{team}/ep", user=user))
    out = ok(service.api("GET", _path(endpoint), user=user))
    assert out["points"] == [] and out["status"] == "stopped"
    assert out["message"] == f"{team}/ep is stopped: no traffic to show."
