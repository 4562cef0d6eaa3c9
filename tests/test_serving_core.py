"""Serving without a hub: the endpoint domain rules on SQLite and PostgreSQL, the model
loaders, and the endpoint server process (run by the local backend) against a small
fake of the hub's token API: auth, routing by weight, a live update under load, a
failed update, stop and crash."""

# ruff: noqa: ASYNC210  (blocking HTTP to the server process, on purpose: a client)

from __future__ import annotations

import io
import json
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import requests
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from tornado import httpserver, ioloop, web

from submarine_hub.backends.local.endpoints import LocalEndpointBackend
from submarine_hub.core import endpoints
from submarine_hub.core import models as registry
from submarine_hub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from submarine_hub.core.identity import Identity
from submarine_hub.serving import loaders
from submarine_hub.serving.routing import Router, Stats
from submarine_hub.store import Database, upgrade
from submarine_hub.store.artifacts import ArtifactStore

from .helpers.hub import free_port

X, Y = load_iris(return_X_y=True)
ALICE = Identity("alice", teams=frozenset({"data-science"}))
CAROL = Identity("carol", teams=frozenset({"ml-platform"}))
SCRIPT = """
import json, pathlib

def load(path):
    return json.loads((pathlib.Path(path) / "table.json").read_text())

def predict(model, inputs):
    return [model.get(str(x), "?") for x in inputs]
"""


# --- the domain ---------------------------------------------------------------------------


async def _version(s: Any, model: Any, files: list[str], framework: str = "sklearn") -> Any:
    v = await registry.create_version(s, ALICE, model, {"framework": framework}, "file:///x")
    for path in files:
        registry.add_file(v, path, 1, "0" * 64)
    registry.finalize(v)
    return v


async def test_endpoint_rules(db_url: str) -> None:
    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.session() as s:
            model = await registry.create_model(s, ALICE, {"name": "iris", "team": "data-science"})
            await _version(s, model, ["model.joblib"])
            await _version(s, model, ["model.joblib", "serve.py"])
            await registry.set_alias(s, model, "production", 1)
            ep = await endpoints.create(s, ALICE, {"name": "iris", "model": "iris"})
            assert ep.team == "data-science" and ep.status == "starting"
            assert ep.config["generation"] == 1 and ep.config["service"] == (
                "endpoint-data-science-iris"
            )
            assert [(r["version"], r["weight"], r["ref"]) for r in ep.resolved] == [
                (1, 100.0, "production")
            ]
            assert ep.url == "/services/endpoint-data-science-iris/"
            with pytest.raises(Conflict):
                await endpoints.create(s, ALICE, {"name": "iris", "model": "iris"})
            # the alias moves; an empty update resolves it again
            await registry.set_alias(s, model, "production", 2)
            ep = await endpoints.update(s, ALICE, ep, {})
            assert ep.config["generation"] == 2 and ep.resolved[0]["version"] == 2
            ep = await endpoints.update(
                s,
                ALICE,
                ep,
                {"routes": [{"model": "iris", "version": 1, "weight": 90}, {"model": "iris",
                 "version": "production", "weight": 10}]},
            )  # fmt: skip
            assert [(r["version"], r["weight"]) for r in ep.resolved] == [(1, 90.0), (2, 10.0)]
            with pytest.raises(InvalidInput, match="splits traffic"):
                await endpoints.update(s, ALICE, ep, {"version": 2})
            ep = await endpoints.update(
                s, ALICE, ep, {"routes": [{"model": "iris", "version": 2}], "script": "serve.py"}
            )
            assert ep.resolved[0]["loader"] == "script" and ep.config["generation"] == 4
            # a version's script must be among its files (the option stays until changed)
            with pytest.raises(InvalidInput, match=r"no file 'serve\.py'"):
                await endpoints.update(s, ALICE, ep, {"routes": [{"model": "iris", "version": 1}]})
            # visibility: another team sees nothing; members see it
            with pytest.raises(NotFound):
                await endpoints.get(s, CAROL, "data-science", "iris")
            with pytest.raises(Forbidden):
                await endpoints.list_endpoints(s, CAROL, "data-science")
            assert [e.name for e in await endpoints.list_endpoints(s, ALICE)] == ["iris"]
            with pytest.raises(Forbidden):
                await endpoints.create(
                    s, CAROL, {"name": "x", "team": "data-science", "model": "iris"}
                )
            endpoints.stop(ep, ALICE)
            assert await endpoints.list_endpoints(s, ALICE) == []
            # a stopped endpoint's name is reused, with the next generation
            again = await endpoints.create(s, ALICE, {"name": "iris", "model": "iris"})
            assert again.id == ep.id and again.config["generation"] == ep.config["generation"]
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    ("body", "error", "pattern"),
    [
        ({"name": "Bad_Name", "model": "iris"}, InvalidInput, "lowercase"),
        ({"name": "x"}, InvalidInput, "Say what to serve"),
        ({"name": "x", "model": "nope"}, NotFound, "no model 'nope'"),
        ({"name": "x", "model": "iris", "version": 9}, NotFound, "no version 9"),
        ({"name": "x", "model": "iris", "version": "staging"}, NotFound, "alias 'staging'"),
        ({"name": "x", "model": "other-team/iris"}, InvalidInput, "its own team's"),
        (
            {"name": "x", "routes": [{"model": "iris", "version": 1}, {"model": "iris"}]},
            InvalidInput,
            "'weight' is required",
        ),
        (
            {"name": "x", "routes": [{"model": "iris", "version": 1, "weight": 5}] * 2},
            InvalidInput,
            "both serve version 1",
        ),
        (
            {"name": "x", "routes": [{"model": "iris", "version": 1, "weight": 0}]},
            InvalidInput,
            "weight above 0",
        ),
        ({"name": "x", "model": "iris", "version": 1, "loader": "pt"}, InvalidInput, "loader"),
        ({"name": "x", "model": "iris", "version": 2}, InvalidInput, "uploading"),
        ({"name": "x", "model": "iris", "version": 1, "gpus": 1}, InvalidInput, "Unknown"),
    ],
)
async def test_bad_endpoints_are_refused_with_a_reason(
    tmp_path: Path, body: dict[str, Any], error: type[Exception], pattern: str
) -> None:
    db_url = f"sqlite:///{tmp_path / 'meta.sqlite'}"
    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.session() as s:
            model = await registry.create_model(s, ALICE, {"name": "iris", "team": "data-science"})
            await _version(s, model, ["model.joblib"])
            await registry.create_version(s, ALICE, model, {}, "file:///x")  # uploading
        async with db.session() as s:
            with pytest.raises(error, match=pattern):
                await endpoints.create(s, ALICE, body)
    finally:
        await db.dispose()


# --- loaders --------------------------------------------------------------------------------


def _dump(model: Any, folder: Path, name: str = "model.joblib") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / name)
    return folder


def test_sklearn_loader_predicts_and_picks_its_file(tmp_path: Path) -> None:
    model = LogisticRegression(max_iter=500).fit(X, Y)
    folder = _dump(model, tmp_path / "v1", "model.pkl")
    (folder / "README.md").write_text("notes")
    loaded = loaders.load(folder, {"framework": "sklearn"})
    assert loaded.predict(X[:5].tolist()) == model.predict(X[:5]).tolist()
    proba = loaders.load(folder, {"framework": "", "method": "predict_proba"})
    assert np.allclose(proba.predict(X[:2].tolist()), model.predict_proba(X[:2]))
    two = _dump(model, _dump(model, tmp_path / "two", "a.joblib"), "b.pkl")
    with pytest.raises(loaders.LoadError, match="several pickle files"):
        loaders.load(two, {"framework": "sklearn"})
    with pytest.raises(loaders.LoadError, match="no built-in loader for framework 'pytorch'"):
        loaders.load(folder, {"framework": "pytorch"})
    with pytest.raises(loaders.LoadError, match=r"no \.joblib"):
        loaders.load(_empty(tmp_path), {"framework": "sklearn"})


def _empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.txt").write_text("nothing to serve")
    return folder


def test_script_loader(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    folder.mkdir()
    (folder / "serve.py").write_text(SCRIPT)
    (folder / "table.json").write_text(json.dumps({"1": "one", "2": "two"}))
    loaded = loaders.load(folder, {"script": "serve.py", "key": "t:1"})
    assert loaded.predict([1, 2, 3]) == ["one", "two", "?"]
    (folder / "bad.py").write_text("def load(path): raise RuntimeError('no GPU here')\n"
                                   "def predict(m, x): return x\n")  # fmt: skip
    with pytest.raises(loaders.LoadError, match=r"bad\.py failed: RuntimeError: no GPU here"):
        loaders.load(folder, {"script": "bad.py", "key": "t:2"})
    (folder / "half.py").write_text("def load(path): return 1\n")
    with pytest.raises(loaders.LoadError, match="must define load"):
        loaders.load(folder, {"script": "half.py", "key": "t:3"})


def test_onnx_loader(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType

    model = DecisionTreeClassifier(random_state=0).fit(X, Y)
    onx = skl2onnx.convert_sklearn(model, initial_types=[("x", FloatTensorType([None, 4]))])
    folder = tmp_path / "onnx"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(onx.SerializeToString())
    loaded = loaders.load(folder, {"framework": "onnx"})
    out = loaded.predict(X[:5].tolist())
    labels = out if isinstance(out, list) else out[next(iter(out))]
    assert labels == model.predict(X[:5]).tolist()


def test_router_draws_by_weight_and_stats_give_percentiles() -> None:
    def route(version: int, weight: float) -> Any:
        from submarine_hub.serving.routing import Route

        return Route(f"m:{version}", "t/m", version, weight, None, Stats())  # type: ignore[arg-type]

    router = Router([route(1, 90), route(2, 10), route(3, 0)])
    counts = Counter(router.pick().version for _ in range(20000))  # type: ignore[union-attr]
    assert counts[3] == 0 and 0.085 < counts[2] / 20000 < 0.115
    assert router.pick("3").version == 3  # type: ignore[union-attr]
    assert router.pick("9") is None
    stats = Stats()
    for ms in range(1, 101):
        stats.observe(ms / 1000)
    stats.observe(2.0, error=True)
    summary = stats.to_json()
    assert summary["requests"] == 101 and summary["errors"] == 1
    assert 45 <= summary["p50_ms"] <= 55 and 95 <= summary["p99_ms"] <= 106


def test_series_counts_requests_per_step_for_the_last_hour() -> None:
    from submarine_hub.serving.routing import Series

    series = Series(step=10, keep=3600)
    t0 = 999_960.0  # a multiple of 60
    for i in range(30):  # 3 per step over 100 s, every 10th an error
        series.observe(0.001 * (i + 1), error=i % 10 == 9, now=t0 + i * 10 / 3)
    out = series.to_json(120, 10, now=t0 + 115)
    assert out["step_s"] == 10 and out["window_s"] == 120
    points = out["points"]
    assert [p["t"] for p in points] == [t0 + 10 * k for k in range(12)]
    assert [p["requests"] for p in points[:10]] == [3] * 10 and points[10]["requests"] == 0
    assert sum(p["errors"] for p in points) == 3
    assert points[0]["rate"] == 0.3 and points[11]["p50_ms"] is None
    assert 2.5 <= points[0]["p99_ms"] <= 3.5  # 1, 2 and 3 ms
    # coarser steps merge the kept ones
    wide = series.to_json(120, 60, now=t0 + 115)["points"]
    assert [p["requests"] for p in wide] == [18, 12] and wide[0]["rate"] == 0.3
    # an hour later the old steps are dropped as new ones come
    series.observe(0.002, now=t0 + 3700)
    assert min(series.buckets) > t0 + 90
    late = series.to_json(3600, 10, now=t0 + 3700)["points"]
    assert len(late) == 360 and sum(p["requests"] for p in late) == 1
    for window, step in ((0, 10), (7200, 10), (600, 15), (600, 5)):
        with pytest.raises(ValueError):
            series.to_json(window, step)


async def test_batcher_joins_waiting_requests_and_isolates_errors() -> None:
    import asyncio

    from submarine_hub.serving.routing import Batcher

    class Doubler(loaders.Model):
        batchable = True
        calls: list[int] = []

        def predict_rows(self, rows: Any) -> Any:
            self.calls.append(len(rows))
            if rows.shape[1] != 2:
                raise ValueError(f"expected 2 columns, got {rows.shape[1]}")
            return rows.sum(axis=1) * 2

    model = Doubler()
    batcher = Batcher(model)

    async def request(rows: list[list[float]]) -> Any:
        await asyncio.sleep(0)  # arrive a little apart, as requests do
        return await batcher.submit(np.asarray(rows))

    good = [request([[i, 1], [i, 2]]) for i in range(10)]
    results = await asyncio.gather(*good, request([[1, 2, 3]]), return_exceptions=True)
    assert [r.tolist() for r in results[:10]] == [[2 * i + 2, 2 * i + 4] for i in range(10)]
    assert isinstance(results[10], ValueError) and "3" in str(results[10])
    # one call for the 20 rows of two columns, one for the odd request
    assert model.calls == [20, 1]
    model.calls.clear()
    results = await asyncio.gather(*(request([[i, i]]) for i in range(8)))
    assert model.calls == [8] and batcher.batches == 3 and batcher.requests == 19
    assert (await request([[3, 4]])).tolist() == [14]  # alone: no waiting for company


# --- the server process ----------------------------------------------------------------------


class FakeHub:
    """``GET /hub/api/user`` of JupyterHub: a token's owner and scopes."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, Any]] = {}
        self.calls = 0
        self.port = free_port()
        self.loop: ioloop.IOLoop | None = None
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hub/api"

    def _run(self, ready: threading.Event) -> None:
        import asyncio

        asyncio.set_event_loop(asyncio.new_event_loop())
        hub = self

        class User(web.RequestHandler):
            def get(self) -> None:
                hub.calls += 1
                token = self.request.headers.get("Authorization", "").partition(" ")[2]
                if token not in hub.tokens:
                    self.set_status(403)
                    self.finish("{}")
                    return
                self.finish(json.dumps(hub.tokens[token]))

        server = httpserver.HTTPServer(web.Application([(r"/hub/api/user", User)]))
        server.listen(self.port, "127.0.0.1")
        self.loop = ioloop.IOLoop.current()
        ready.set()
        self.loop.start()

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.add_callback(self.loop.stop)


@pytest.fixture
def fake_hub() -> Iterator[FakeHub]:
    hub = FakeHub()
    hub.tokens["alice-token"] = {
        "kind": "user",
        "name": "alice",
        "scopes": ["access:services!service=submarine", "self"],
    }
    hub.tokens["carol-token"] = {
        "kind": "user",
        "name": "carol",
        "scopes": ["access:services!service=submarine"],
    }
    hub.tokens["narrow-token"] = {"kind": "user", "name": "alice", "scopes": ["read:users:name"]}
    hub.tokens["only-this-endpoint"] = {
        "kind": "user",
        "name": "bob",
        "scopes": ["access:services!service=endpoint-ds-iris"],
    }
    yield hub
    hub.stop()


def _store_versions(store: ArtifactStore, tmp_path: Path) -> list[Any]:
    trained = []
    for i, model in enumerate(
        [LogisticRegression(max_iter=500).fit(X, Y), DecisionTreeClassifier().fit(X, Y)], 1
    ):
        buf = io.BytesIO()
        joblib.dump(model, buf)
        store.write_stream(f"models/ds/iris/{i}/model.joblib", iter([buf.getvalue()]))
        trained.append(model)
    store.write_stream("models/ds/iris/3/broken.joblib", iter([b"not a pickle"]))
    return trained


def _route(version: int, weight: float, **extra: Any) -> dict[str, Any]:
    return {
        "key": f"iris:{version}",
        "model": "ds/iris",
        "version": version,
        "weight": weight,
        "framework": "sklearn",
        "loader": "auto",
        "script": None,
        "method": "predict",
        "storage_prefix": f"models/ds/iris/{version}",
        **extra,
    }


def _config(store: ArtifactStore, hub: FakeHub, generation: int, routes: list[dict]) -> dict:
    return {
        "id": 1,
        "endpoint": "ds/iris",
        "team": "ds",
        "service": "endpoint-ds-iris",
        "prefix": "/services/endpoint-ds-iris/",
        "generation": generation,
        "routes": routes,
        "store": {"url": store.base_url, "options": {}},
        "hub_api_url": hub.api_url,
        "access_scopes": [
            "access:services!service=submarine",
            "access:services!service=endpoint-ds-iris",
        ],
        "auth_cache_seconds": 30,
        "control_token": "control-secret",
    }


async def _until(backend: LocalEndpointBackend, check: Any, timeout: float = 60) -> Any:
    import asyncio

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = await backend.state(1)
        if check(state):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out; last state {state}; log:\n{_log(backend)}")


def _log(backend: LocalEndpointBackend) -> str:
    path = backend.dir(1) / "server.log"
    return path.read_text() if path.exists() else ""


@pytest.mark.local
async def test_server_process_auth_routing_live_update_and_stop(
    tmp_path: Path, fake_hub: FakeHub
) -> None:
    import asyncio

    store = ArtifactStore(str(tmp_path / "artifacts"))
    trained = _store_versions(store, tmp_path)
    backend = LocalEndpointBackend(tmp_path / "endpoints")
    await backend.write_access(1, {"team": "ds", "members": ["alice", "bob"], "admins": []})
    await backend.apply(1, _config(store, fake_hub, 1, [_route(1, 100)]))
    try:
        state = await _until(backend, lambda s: s and s.alive and s.state == "ready")
        assert state.generation == 1 and state.serving == [
            {"model": "ds/iris", "version": 1, "weight": 100.0}
        ]
        base = f"{state.url}/services/endpoint-ds-iris/"

        def predict(token: str | None, **kw: Any) -> requests.Response:
            headers = {"Authorization": f"token {token}"} if token else {}
            return requests.post(
                base + "predict", json={"inputs": X[:3].tolist()}, headers=headers, **kw
            )

        r = predict("alice-token")
        assert r.status_code == 200, r.text
        assert r.json() == {
            "predictions": trained[0].predict(X[:3]).tolist(),
            "model": "ds/iris",
            "version": 1,
        }
        assert r.headers["X-Submarine-Model-Version"] == "1"
        calls = fake_hub.calls
        for _ in range(5):
            assert predict("alice-token").status_code == 200
        assert fake_hub.calls == calls  # the token's decision is cached
        for token, status, pattern in [
            (None, 401, "Authentication required"),
            ("forged", 401, "not valid"),
            ("carol-token", 403, "carol is not a member of team ds"),
            ("narrow-token", 403, "access:services!service=submarine"),
        ]:
            r = predict(token)
            assert r.status_code == status, (token, r.text)
            assert pattern in r.json()["message"]
        assert predict("only-this-endpoint").status_code == 200  # a token for this endpoint
        r = requests.post(
            base + "predict", json={"rows": []}, headers={"Authorization": "token alice-token"}
        )
        assert r.status_code == 400 and "inputs" in r.json()["message"]
        r = requests.post(
            base + "predict",
            json={"inputs": [[1, 2]]},
            headers={"Authorization": "token alice-token"},
        )
        assert r.status_code == 400 and "refused these inputs" in r.json()["message"]
        assert requests.get(base + "health").json() == {"status": "ready", "generation": 1}
        assert requests.get(base + "stats").status_code == 401

        # membership changes reach the process through the access file
        await backend.write_access(1, {"team": "ds", "members": ["alice", "bob", "carol"]})
        deadline = time.monotonic() + 10
        while predict("carol-token").status_code != 200:
            assert time.monotonic() < deadline, "the access list was not reread"
            await asyncio.sleep(0.2)

        # a live update under load: a 50/50 split, then version 2 alone
        failures: list[str] = []
        answered: Counter[int] = Counter()
        stop = threading.Event()

        def client() -> None:
            with requests.Session() as session:
                session.headers["Authorization"] = "token alice-token"
                while not stop.is_set():
                    try:
                        r = session.post(base + "predict", json={"inputs": X[:2].tolist()})
                    except requests.RequestException as e:
                        failures.append(str(e))
                        continue
                    if r.status_code != 200:
                        failures.append(r.text)
                    else:
                        answered[r.json()["version"]] += 1

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            await asyncio.sleep(0.5)
            await backend.apply(1, _config(store, fake_hub, 2, [_route(1, 50), _route(2, 50)]))
            await _until(backend, lambda s: s.generation == 2)
            await asyncio.sleep(0.5)
            await backend.apply(1, _config(store, fake_hub, 3, [_route(2, 100)]))
            await _until(backend, lambda s: s.generation == 3)
            seen_v1 = answered[1]
            await asyncio.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert failures == []
        assert answered[1] > 0 and answered[2] > 0
        assert answered[1] == seen_v1  # none after the switch

        # a generation that cannot load leaves the current one serving
        await backend.apply(1, _config(store, fake_hub, 4, [_route(3, 100)]))
        state = await _until(backend, lambda s: s.failed == 4)
        assert state.generation == 3 and state.state == "ready"
        assert "cannot load broken.joblib" in state.reason
        assert predict("alice-token").json()["version"] == 2

        stats = requests.get(
            base + "stats", headers={"Authorization": "token control-secret"}
        ).json()
        assert stats["generation"] == 3
        assert stats["versions"]["iris:1"]["requests"] >= seen_v1
        assert stats["total"]["errors"] == 1 and stats["total"]["p99_ms"] > 0
        # ... and over time (the endpoint's traffic charts): every request of this process
        # in the last 10 minutes, in points of 10 s
        control = {"Authorization": "token control-secret"}
        over = requests.get(base + "stats?series=600&step=10", headers=control).json()
        series = over["series"]
        assert series["step_s"] == 10 and len(series["points"]) == 60
        assert sum(p["requests"] for p in series["points"]) == over["total"]["requests"]
        assert sum(p["errors"] for p in series["points"]) == 1
        busy = [p for p in series["points"] if p["requests"]]
        assert busy and all(p["p99_ms"] > 0 and p["rate"] > 0 for p in busy)
        for bad in ("series=0", "series=7200", "series=60&step=15", "series=abc"):
            r = requests.get(base + "stats?" + bad, headers=control)
            assert r.status_code == 400 and "series" in r.json()["message"], bad
        # pinning a version
        r = requests.post(
            base + "predict?version=2",
            json={"inputs": X[:1].tolist()},
            headers={"Authorization": "token alice-token"},
        )
        assert r.json()["version"] == 2

        # kill -9: the lock is released, the backend sees it gone and starts it again
        os.kill(state.pid, signal.SIGKILL)  # type: ignore[arg-type]
        await _until(backend, lambda s: not s.alive and s.state == "gone")
        port = state.port
        # ... and with the endpoint's resources as its limits this time
        limited = dict(
            _config(store, fake_hub, 5, [_route(1, 100)]), resources={"memory": "3G", "cpu": 1}
        )
        await backend.apply(1, limited)
        state = await _until(backend, lambda s: s.alive and s.generation == 5)
        assert state.port == port  # the same port: the hub's route stays right
        assert predict("alice-token").json()["version"] == 1
        limits = await asyncio.to_thread(Path(f"/proc/{state.pid}/limits").read_text)
        assert re.search(rf"Max address space\s+{3 * 10**9}\s", limits), limits
        if len(os.sched_getaffinity(0)) > 1:
            assert len(os.sched_getaffinity(state.pid)) == 1  # type: ignore[arg-type]
    finally:
        await backend.stop(1)
        await backend.close()
    state = await backend.state(1)
    assert state is not None and not state.alive
    assert "stopped" in _log(backend)
