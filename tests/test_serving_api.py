"""Serving endpoints through a real hub (issue 7, item 3): a model version aliased
``production`` is served and predicts through the hub's URL with a token; the endpoint
rolls to a newer version while a client keeps sending requests (none fails); traffic
splits 90/10 (measured on 1,000 requests); a user of another team is refused every one
of these; a request without a token is refused; the CLI does the same; endpoints
survive a kill -9 of the service, and a killed endpoint process is restarted."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import pytest
import requests
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from submarine_hub.client import SubmarineClient

from .helpers.api import as_user, wait_for, wait_serving
from .helpers.cli import submarine
from .helpers.hub import Hub, service_pid

pytestmark = pytest.mark.hub

X, Y = load_iris(return_X_y=True)
MODEL = "iris-served"
REF = "data-science/iris"


def client(hub: Hub, user: str) -> SubmarineClient:
    return SubmarineClient(hub.api_url().rstrip("/"), hub.token_for(user))


def auth(hub: Hub, user: str) -> dict[str, str]:
    return {"Authorization": f"token {hub.token_for(user)}"}


@pytest.fixture(scope="module", autouse=True)
def no_leftover_servers(hub: Hub) -> Iterator[None]:
    """Endpoint processes outlive the hub: stop whatever these tests left running."""
    yield
    for ep in hub.api("GET", "endpoints", user="admin").json().get("items", []):
        hub.api("DELETE", f"endpoints/{ep['ref']}", user="admin")
    for status in (hub.data_dir / "endpoints").glob("*/status.json"):
        pid = json.loads(status.read_text()).get("pid")
        lock = status.with_name("server.lock")
        if pid and lock.exists():
            try:
                with open(lock) as f:
                    fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)  # free: the process is gone
            except BlockingIOError:
                os.kill(pid, signal.SIGTERM)


@pytest.fixture(scope="module")
def trained(hub: Hub, tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """Two versions of a model of data-science; ``production`` is version 1."""
    folder = tmp_path_factory.mktemp("models")
    models = [LogisticRegression(max_iter=500).fit(X, Y), DecisionTreeClassifier().fit(X, Y)]
    with client(hub, "alice") as c:
        for i, model in enumerate(models, 1):
            path = folder / str(i) / "model.joblib"
            path.parent.mkdir()
            joblib.dump(model, path)
            version = c.register_model(f"data-science/{MODEL}", [path], framework="sklearn")
            assert version["version"] == i and version["status"] == "ready", version
        c.set_alias(f"data-science/{MODEL}", "production", 1)
    return models


@pytest.fixture(scope="module")
def endpoint(hub: Hub, trained: list[Any]) -> Iterator[dict[str, Any]]:
    r = hub.api(
        "POST",
        "endpoints",
        user="alice",
        json={"name": "iris", "team": "data-science", "model": MODEL, "version": "production"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "starting"
    try:
        yield wait_serving(hub)
    finally:
        hub.api("DELETE", f"endpoints/{REF}?purge=1", user="alice")


def test_production_alias_is_served_through_the_hub_with_a_token(
    hub: Hub, endpoint: dict[str, Any], trained: list[Any]
) -> None:
    assert endpoint["url"] == f"{hub.url}/services/endpoint-data-science-iris/"
    assert endpoint["routes"] == [
        {
            "model": f"data-science/{MODEL}",
            "version": 1,
            "ref": "production",
            "weight": 100.0,
            "framework": "sklearn",
            "loader": "auto",
        }
    ]
    r = requests.post(
        endpoint["predict_url"], json={"inputs": X[:4].tolist()}, headers=auth(hub, "alice")
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "predictions": trained[0].predict(X[:4]).tolist(),
        "model": f"data-science/{MODEL}",
        "version": 1,
    }
    # a teammate's token, and a session's (which may only use the platform) work too
    session_like = hub.token_for("bob", scopes=["access:services!service=submarine"])
    for headers in (auth(hub, "bob"), {"Authorization": f"token {session_like}"}):
        r = requests.post(endpoint["predict_url"], json={"inputs": X[:1].tolist()}, headers=headers)
        assert r.status_code == 200, r.text
    # the SDK goes the same way
    with client(hub, "alice") as c:
        assert c.predict("data-science/iris", X[:2].tolist())["version"] == 1
    # no token, or a token that may not use the platform: refused by the endpoint
    r = requests.post(endpoint["predict_url"], json={"inputs": X[:1].tolist()})
    assert r.status_code == 401 and "token" in r.json()["message"]
    narrow = hub.token_for("alice", scopes=["read:users:name!user"])
    r = requests.post(
        endpoint["predict_url"],
        json={"inputs": X[:1].tolist()},
        headers={"Authorization": f"token {narrow}"},
    )
    assert r.status_code == 403, r.text
    assert requests.get(endpoint["url"] + "health").json()["status"] == "ready"


def test_the_endpoint_server_runs_as_its_owner_without_the_stores_credentials(
    hub: Hub, endpoint: dict[str, Any]
) -> None:
    if not hub.isolated:
        pytest.skip("users are not isolated on this machine")
    import pwd

    from submarine_hub.backends.local.isolation import system_name

    folder = hub.data_dir / "endpoints" / str(endpoint["id"])
    pid = json.loads((folder / "status.json").read_text())["pid"]
    uid = pwd.getpwnam(system_name(hub.user_prefix, "alice")).pw_uid
    status = Path(f"/proc/{pid}/status").read_text()
    assert f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}" in status, status
    assert folder.stat().st_uid == uid
    config = json.loads((folder / "config.json").read_text())
    assert config["store"]["options"] == {} and str(folder.parent) in config["store"]["url"]
    environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    assert "JUPYTERHUB_API_TOKEN" not in environ and "SUBMARINE_SPAWNER_TOKEN" not in environ


def test_a_served_version_is_not_archived_while_served(hub: Hub, endpoint: dict[str, Any]) -> None:
    served = endpoint["routes"][0]["version"]
    url = f"models/data-science/{MODEL}/versions/{served}"
    r = hub.api("PATCH", url, user="alice", json={"archived": True})
    assert r.status_code == 409, r.text
    assert f"Endpoint {REF} serves version {served}" in r.json()["message"]
    assert hub.api("GET", url, user="alice").json()["status"] == "ready"
    p = submarine(
        "model", "archive", f"data-science/{MODEL}", str(served), env=as_user(hub, "alice")
    )
    assert p.returncode == 1 and "stop or update it first" in p.stderr, p.stderr
    assert requests.get(endpoint["url"] + "health").json()["status"] == "ready"


def test_a_user_of_another_team_is_refused_everything(hub: Hub, endpoint: dict[str, Any]) -> None:
    r = requests.post(
        endpoint["predict_url"], json={"inputs": X[:1].tolist()}, headers=auth(hub, "carol")
    )
    assert r.status_code == 403 and "carol is not a member" in r.json()["message"]
    r = requests.get(endpoint["url"] + "stats", headers=auth(hub, "carol"))
    assert r.status_code == 403
    for method, path, body in [
        ("GET", REF, None),
        ("PATCH", REF, {"version": 2}),
        ("DELETE", REF, None),
        ("GET", f"{REF}/logs", None),
    ]:
        r = hub.api(method, f"endpoints/{path}", user="carol", json=body)
        assert r.status_code == 404, (method, path, r.text)
    assert hub.api("GET", "endpoints?team=data-science", user="carol").status_code == 403
    assert REF not in [e["ref"] for e in hub.api("GET", "endpoints", user="carol").json()["items"]]
    r = hub.api(
        "POST",
        "endpoints",
        user="carol",
        json={"name": "mine", "team": "data-science", "model": MODEL},
    )
    assert r.status_code == 403
    r = hub.api("POST", "endpoints", user="carol", json={"name": "mine", "model": MODEL})
    assert r.status_code == 404 and "no model" in r.json()["message"]  # not in her team
    assert wait_serving(hub)["status"] == "ready"  # nothing changed


def test_rolling_update_under_load_drops_no_request(hub: Hub, endpoint: dict[str, Any]) -> None:
    r = hub.api("PATCH", f"endpoints/{REF}", user="alice", json={"version": 1})
    assert r.status_code == 202
    wait_serving(hub)
    failures: list[str] = []
    answers: list[int] = []
    stop = threading.Event()

    def send() -> None:
        with requests.Session() as s:
            s.headers.update(auth(hub, "alice"))
            while not stop.is_set():
                try:
                    r = s.post(endpoint["predict_url"], json={"inputs": X[:2].tolist()}, timeout=30)
                except requests.RequestException as e:
                    failures.append(repr(e))
                    continue
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text}")
                else:
                    answers.append(r.json()["version"])

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        r = hub.api("PATCH", f"endpoints/{REF}", user="alice", json={"version": 2})
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "updating"
        ep = wait_serving(hub)
        assert [x["version"] for x in ep["routes"]] == [2]
        switched = len(answers)
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert answers[0] == 1 and answers[-1] == 2
    assert set(answers[switched + 20 :]) == {2}  # after the switch, only the new version
    assert len(answers) > 100


def test_traffic_splits_90_10(hub: Hub, endpoint: dict[str, Any]) -> None:
    routes = [
        {"model": MODEL, "version": 1, "weight": 90},
        {"model": MODEL, "version": 2, "weight": 10},
    ]
    r = hub.api("PATCH", f"endpoints/{REF}", user="alice", json={"routes": routes})
    assert r.status_code == 202, r.text
    before = wait_serving(hub)["stats"]["versions"]
    counts: Counter[int] = Counter()
    with requests.Session() as s:
        s.headers.update(auth(hub, "alice"))
        for _ in range(1000):
            r = s.post(endpoint["predict_url"], json={"inputs": X[:1].tolist()})
            assert r.status_code == 200, r.text
            counts[r.json()["version"]] += 1
    share = counts[2] / 1000
    # binomial(1000, 0.1): sd 0.0095; 3.5 sd either side
    assert 0.067 <= share <= 0.133, counts
    after = hub.api("GET", f"endpoints/{REF}", user="alice").json()["stats"]["versions"]
    key2 = f"{MODEL}:2"
    assert after[key2]["requests"] - before[key2]["requests"] == counts[2]
    assert after[key2]["p99_ms"] is not None


def test_logs_and_cli(hub: Hub, endpoint: dict[str, Any], tmp_path: Path) -> None:
    alice, carol = as_user(hub, "alice"), as_user(hub, "carol")
    p = submarine(
        "endpoint", "update", "iris", "-m", MODEL, "--version", "production", "--wait", env=alice
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "ready" in p.stdout and "version 1 (production)" in p.stdout
    p = submarine("endpoint", "list", env=alice)
    assert p.returncode == 0 and REF in p.stdout
    p = submarine("endpoint", "predict", REF, json.dumps(X[:2].tolist()), env=alice)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["version"] == 1
    p = submarine(
        "endpoint", "update", REF, "--route", "1=50", "--route", "2=50", "--wait", env=alice
    )
    assert p.returncode == 0, p.stdout + p.stderr
    p = submarine("endpoint", "predict", REF, "[[5.1, 3.5, 1.4, 0.2]]", "--version", "2", env=alice)
    assert json.loads(p.stdout)["version"] == 2, p.stdout + p.stderr
    p = submarine("endpoint", "get", REF, "--json", env=alice)
    assert [r["weight"] for r in json.loads(p.stdout)["routes"]] == [50, 50]
    logs = submarine("endpoint", "logs", REF, env=alice)
    assert "serving generation" in logs.stdout and "listening on" in logs.stdout
    for args in (["get", REF], ["predict", REF, "[[1,2,3,4]]"], ["stop", REF], ["logs", REF]):
        p = submarine("endpoint", *args, env=carol)
        assert p.returncode == 1, (args, p.stdout)
    assert "No endpoint data-science/iris" in submarine("endpoint", "get", REF, env=carol).stderr
    # a bad request names the problem
    p = submarine("endpoint", "create", "x", "-m", "no-such-model", env=alice)
    assert p.returncode == 1 and "no model 'no-such-model'" in p.stderr


def test_endpoints_outlive_the_service_and_dead_servers_restart(
    hub: Hub, endpoint: dict[str, Any]
) -> None:
    ep = wait_serving(hub)
    status = json.loads((hub.data_dir / "endpoints" / str(ep["id"]) / "status.json").read_text())
    pid = status["pid"]
    os.kill(service_pid(hub), signal.SIGKILL)
    # while the platform service is down, the endpoint keeps answering through the proxy
    r = requests.post(ep["predict_url"], json={"inputs": X[:1].tolist()}, headers=auth(hub, "bob"))
    assert r.status_code == 200, r.text
    wait_for(lambda: hub.api("GET", "health").status_code == 200, 120, "the service to return")
    ep = wait_serving(hub)
    again = json.loads((hub.data_dir / "endpoints" / str(ep["id"]) / "status.json").read_text())
    assert again["pid"] == pid  # adopted, not restarted
    # the server process dies: the manager starts it again on the same port
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        r = requests.post(
            ep["predict_url"], json={"inputs": X[:1].tolist()}, headers=auth(hub, "alice")
        )
        if r.status_code == 200:
            break
        assert time.monotonic() < deadline, r.text
        time.sleep(0.3)
    new = json.loads((hub.data_dir / "endpoints" / str(ep["id"]) / "status.json").read_text())
    assert new["pid"] != pid and new["port"] == again["port"]


def test_stop_removes_the_route(hub: Hub, trained: list[Any]) -> None:
    r = hub.api(
        "POST", "endpoints", user="bob", json={"name": "short", "team": "data-science",
                                               "model": MODEL, "version": 2},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    ep = wait_serving(hub, "data-science/short")
    headers = auth(hub, "bob")
    assert requests.post(ep["predict_url"], json={"inputs": [[1, 2, 3, 4]]}, headers=headers).ok
    r = hub.api("DELETE", "endpoints/data-science/short", user="alice")  # a teammate may
    assert r.status_code == 200 and r.json()["status"] == "stopped"
    r = requests.post(ep["predict_url"], json={"inputs": [[1, 2, 3, 4]]}, headers=headers)
    assert r.status_code in (403, 404, 503), r.text  # the hub answers: no such service
    assert "predictions" not in r.text
    listed = hub.api("GET", "endpoints?stopped=1", user="bob").json()["items"]
    assert "stopped" in [e["status"] for e in listed if e["name"] == "short"]
    assert hub.api("DELETE", "endpoints/data-science/short?purge=1", user="bob").status_code == 204
    assert hub.api("GET", "endpoints/data-science/short", user="bob").status_code == 404
