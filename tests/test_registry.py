"""Model registry, datasets, lineage, interactive tracking and run comparison through the
real hub; the artifact store on a local folder and on a real S3-compatible server (moto)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from submarine_hub.store.artifacts import ArtifactStore

from .helpers.api import submit, wait
from .helpers.hub import Hub, free_port, service_pid

pytestmark = pytest.mark.hub


def api(hub: Hub, method: str, path: str, user: str, **kw):  # type: ignore[no-untyped-def]
    return hub.api(method, path, user=user, **kw)


def test_template_run_to_registered_model_with_alias_and_lineage(hub: Hub) -> None:
    ds = api(hub, "POST", "datasets", "alice", json={
        "name": "wine", "team": "data-science", "uri": "sklearn://wine", "format": "table",
        "tags": ["tabular"], "schema": {"alcohol": "float"}, "size": 10_000,
    })  # fmt: skip
    assert ds.status_code == 201, ds.text
    run = api(hub, "POST", "templates/_global/sklearn-classifier/runs", "alice", json={
        "meta": {"team": "data-science", "name": "wine-rf"},
        "parameters": {"dataset": "wine", "n_estimators": 10},
        "inputs": [{"name": "training", "dataset": "data-science/wine"}],
    })  # fmt: skip
    assert run.status_code == 201, run.text
    done = wait(hub, "alice", run.json()["id"], timeout=180)
    assert done["status"] == "succeeded", done
    assert done["spec"]["inputs"][0]["uri"] == "sklearn://wine"

    r = api(hub, "POST", "models", "alice", json={"name": "wine-clf", "team": "data-science"})
    assert r.status_code == 201, r.text
    v = api(hub, "POST", "models/data-science/wine-clf/versions", "alice", json={
        "framework": "sklearn", "from_run": {"run_id": done["id"], "paths": ["model.joblib"]},
    })  # fmt: skip
    assert v.status_code == 201, v.text
    version = v.json()
    assert version["status"] == "ready" and version["version"] == 1
    assert version["source_run_id"] == done["id"]
    assert version["metrics"]["accuracy"] == done["metrics"]["accuracy"]
    assert [f["path"] for f in version["files"]] == ["model.joblib"]
    r = api(
        hub, "PUT", "models/data-science/wine-clf/aliases/production", "bob", json={"version": 1}
    )
    assert r.status_code == 200, r.text
    got = api(hub, "GET", "models/data-science/wine-clf/versions/production", "bob").json()
    assert got["version"] == 1 and got["aliases"] == ["production"]
    body = api(
        hub,
        "GET",
        "models/data-science/wine-clf/versions/production/files?path=model.joblib",
        "alice",
    )
    assert hashlib.sha256(body.content).hexdigest() == version["files"][0]["sha256"]
    assert body.headers["X-Content-SHA256"] == version["files"][0]["sha256"]

    graph = api(hub, "GET", "lineage?dataset=data-science/wine", "alice").json()
    edges = {(e["from"], e["to"]) for e in graph["edges"]}
    assert ("dataset:data-science/wine", f"run:{done['id']}") in edges
    assert (f"run:{done['id']}", "model_version:data-science/wine-clf/1") in edges
    graph = api(hub, "GET", "lineage?model=data-science/wine-clf&version=production", "bob").json()
    assert "dataset:data-science/wine" in {n["id"] for n in graph["nodes"]}

    # another team: nothing of it, in any form
    for method, path in (
        ("GET", "models/data-science/wine-clf"),
        ("GET", "models/data-science/wine-clf/versions/1"),
        ("GET", "models/data-science/wine-clf/versions/1/files?path=model.joblib"),
        ("PUT", "models/data-science/wine-clf/aliases/staging"),
        ("DELETE", "models/data-science/wine-clf"),
        ("GET", "datasets/data-science/wine"),
        ("GET", "lineage?dataset=data-science/wine"),
        ("GET", "lineage?model=data-science/wine-clf"),
    ):
        r = api(hub, method, path, "carol", json={"version": 1} if method == "PUT" else None)
        assert r.status_code == 404, (method, path, r.text)
    assert api(hub, "GET", "models", "carol").json()["items"] == [] or all(
        m["team"] != "data-science" for m in api(hub, "GET", "models", "carol").json()["items"]
    )
    r = api(hub, "POST", "experiments", "carol", json={
        "meta": {"name": "steal", "team": "ml-platform"}, "task": {"command": "true"},
        "inputs": [{"name": "d", "dataset": "data-science/wine"}],
    })  # fmt: skip
    assert r.status_code == 400 and "no dataset" in r.json()["message"]
    # shared datasets are readable by everyone
    api(
        hub, "PATCH", "datasets/data-science/wine", "alice", json={"shared": True}
    ).raise_for_status()
    assert api(hub, "GET", "datasets/data-science/wine", "carol").status_code == 200
    assert (
        api(hub, "PATCH", "datasets/data-science/wine", "carol", json={"size": 1}).status_code
        == 403
    )


def test_registry_bad_input(hub: Hub) -> None:
    api(hub, "POST", "models", "alice", json={"name": "bad-input", "team": "data-science"})
    cases = [
        ("POST", "models", {"name": "bad name"}, 400, "'name'"),
        ("POST", "models", {"name": "x", "team": "data-science", "color": 1}, 400, "Unknown"),
        ("POST", "models", {"name": "bad-input", "team": "data-science"}, 409, "already exists"),
        ("POST", "models", {"name": "x", "team": "ml-platform"}, 403, "not a member"),
        (
            "POST",
            "models/data-science/bad-input/versions",
            {"framework": "cobol"},
            400,
            "framework",
        ),
        (
            "POST",
            "models/data-science/bad-input/versions",
            {"metrics": {"a": "high"}},
            400,
            "metrics",
        ),
        (
            "POST",
            "models/data-science/bad-input/versions",
            {"from_run": {"run_id": 99999, "paths": ["m"]}},
            404,
            "No experiment",
        ),
        (
            "POST",
            "models/data-science/bad-input/versions",
            {"from_run": {"run_id": 1}},
            400,
            "paths",
        ),
        ("PUT", "models/data-science/bad-input/aliases/Prod!", {"version": 1}, 400, "alias"),
        (
            "PUT",
            "models/data-science/bad-input/aliases/prod",
            {"version": 42},
            404,
            "no version 42",
        ),
        (
            "POST",
            "datasets",
            {"name": "d", "team": "data-science", "uri": "not a uri"},
            400,
            "'uri'",
        ),
        ("POST", "datasets", {"name": "d", "team": "data-science"}, 400, "'uri' is required"),
        ("GET", "lineage", None, 400, "Name a"),
        ("GET", "experiments/compare?ids=a,b", None, 400, "'ids'"),
    ]
    for method, path, body, status, expected in cases:
        r = api(hub, method, path, "alice", json=body)
        assert r.status_code == status, (path, body, r.text)
        assert expected in r.json()["message"], (expected, r.json())
    v = api(hub, "POST", "models/data-science/bad-input/versions", "alice", json={}).json()
    base = f"models/data-science/bad-input/versions/{v['version']}"
    r = api(hub, "POST", f"{base}/ready", "alice")
    assert r.status_code == 400 and "no files" in r.json()["message"]
    r = api(hub, "PUT", f"{base}/files?path=../escape", "alice", data=b"x")
    assert r.status_code == 400 and "plain relative path" in r.json()["message"]
    r = api(hub, "PUT", f"{base}/files?path=a.bin", "alice", data=b"abc",
            headers={"X-Content-SHA256": "0" * 64})  # fmt: skip
    assert r.status_code == 400 and "SHA-256" in r.json()["message"]
    r = api(hub, "PUT", f"{base}/files?path=a.bin", "carol", data=b"abc")
    assert r.status_code == 404
    assert api(hub, "PUT", f"{base}/files?path=a.bin", "alice", data=b"abc").status_code == 201
    assert api(hub, "POST", f"{base}/ready", "alice").status_code == 200
    r = api(hub, "PUT", f"{base}/files?path=b.bin", "alice", data=b"late")
    assert r.status_code == 409 and "cannot change" in r.json()["message"]
    r = hub.api("PUT", f"{base}/files?path=a.bin", data=b"x")
    assert r.status_code == 401


def test_large_files_stream_in_bounded_memory(hub: Hub, tmp_path: Path) -> None:
    from submarine_hub.client.client import SubmarineClient

    size = 256 * 1024 * 1024
    big = tmp_path / "weights.bin"
    with open(big, "wb") as f:
        block = os.urandom(4 * 1024 * 1024)
        for _ in range(size // len(block)):
            f.write(block)
    service = psutil.Process(service_pid(hub))
    before = service.memory_info().rss
    client = SubmarineClient(hub.api_url().rstrip("/"), hub.token_for("alice"))
    peak = [before]
    stop = [False]

    import threading

    def watch() -> None:
        while not stop[0]:
            peak[0] = max(peak[0], service.memory_info().rss)
            time.sleep(0.05)

    t = threading.Thread(target=watch)
    t.start()
    try:
        v = client.register_model("data-science/big-model", [big], framework="custom")
        out = client.download_model("data-science/big-model", v["version"], tmp_path / "back")
    finally:
        stop[0] = True
        t.join()
    assert v["size"] == size
    assert (out / "weights.bin").stat().st_size == size  # and its hash was checked
    growth = peak[0] - before
    assert growth < 64 * 1024 * 1024, f"the service grew by {growth / 2**20:.0f} MiB"


def test_interactive_tracking_and_compare(hub: Hub) -> None:
    env = {
        **os.environ,
        "SUBMARINE_API_URL": hub.api_url().rstrip("/"),
        "SUBMARINE_TOKEN": hub.token_for("alice"),
        "JPY_SESSION_NAME": "/home/alice/explore data.ipynb",
    }
    env.pop("SUBMARINE_RUN_ID", None)
    code = (
        "import submarine_hub as s\n"
        "for i in range(2500): s.log_metric('loss', 1 / (i + 1), step=i)\n"
        "s.log_params({'lr': 0.1, 'layers': 3})\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    runs = api(hub, "GET", "experiments?owner=alice&limit=5", "alice").json()["items"]
    mine = next(r for r in runs if r["kind"] == "interactive")
    assert mine["name"] == "explore-data" and mine["status"] == "succeeded"
    full = api(hub, "GET", f"experiments/{mine['id']}", "alice").json()
    assert full["params"] == {"lr": "0.1", "layers": "3"}
    assert full["metrics"]["loss"] == pytest.approx(1 / 2500)
    points = api(
        hub, "GET", f"experiments/{mine['id']}/metrics?key=loss&max_points=100", "alice"
    ).json()
    assert 90 <= len(points["points"]) <= 101
    other = submit(
        hub, "alice", {"meta": {"name": "cmp", "team": "data-science"}, "task": {"command": "true"}}
    )
    wait(hub, "alice", other["id"])
    cmp = api(hub, "GET", f"experiments/compare?ids={mine['id']},{other['id']}", "alice").json()
    assert cmp["keys"] == {"params": ["layers", "lr"], "metrics": ["loss"]}
    assert api(hub, "GET", f"experiments/compare?ids={mine['id']}", "carol").status_code == 404
    r = api(hub, "POST", f"tracking/runs/{other['id']}/end", "alice", json={"status": "failed"})
    assert r.status_code == 400 and "not an interactive run" in r.json()["message"]


def test_a_notebook_keeps_a_file_in_its_interactive_run_and_registers_it(
    hub: Hub, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "SUBMARINE_API_URL": hub.api_url().rstrip("/"),
        "SUBMARINE_TOKEN": hub.token_for("alice"),
        "JPY_SESSION_NAME": "/home/alice/keep.ipynb",
    }
    env.pop("SUBMARINE_RUN_ID", None)
    env.pop("SUBMARINE_ARTIFACTS_DIR", None)
    model_file = tmp_path / "clf.joblib"
    model_file.write_bytes(b"not really a model, but bytes" * 1000)
    code = (
        "import submarine_hub as s\n"
        "s.log_metric('acc', 0.9)\n"
        f"print(s.log_artifact({str(model_file)!r}, 'model.joblib'))\n"
        "print(s.tracking._interactive)\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    name, run_id = p.stdout.split()
    assert name == "model.joblib"
    listed = api(hub, "GET", f"experiments/{run_id}/artifacts", "alice").json()["items"]
    assert listed == [{"path": "model.joblib", "size": model_file.stat().st_size}]
    api(hub, "POST", "models", "alice", json={"name": "kept", "team": "data-science"})
    r = api(
        hub, "POST", "models/data-science/kept/versions", "alice",
        json={"from_run": {"run_id": int(run_id), "paths": ["model.joblib"]}},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["source_run_id"] == int(run_id) and r.json()["metrics"] == {"acc": 0.9}
    # the run has ended: its artifacts no longer change
    r = api(hub, "PUT", f"experiments/{run_id}/artifacts?path=late.txt", "alice", data=b"x")
    assert r.status_code == 409 and "has ended" in r.json()["message"]

    # a live run: bad paths, a damaged upload, other people
    live = api(hub, "POST", "tracking/runs", "alice", json={"name": "live"}).json()["id"]
    url = f"experiments/{live}/artifacts"
    for bad in ("../escape.txt", "/abs.txt", ""):
        r = api(hub, "PUT", f"{url}?path={bad}", "alice", data=b"x")
        assert r.status_code == 400, (bad, r.text)
    r = api(
        hub, "PUT", f"{url}?path=damaged.bin", "alice", data=b"abc",
        headers={"X-Content-SHA256": "0" * 64},
    )  # fmt: skip
    assert r.status_code == 400 and "SHA-256" in r.json()["message"]
    assert api(hub, "GET", url, "alice").json()["items"] == []  # nothing half-kept
    assert api(hub, "PUT", f"{url}?path=b.txt", "bob", data=b"x").status_code == 403
    assert api(hub, "PUT", f"{url}?path=c.txt", "carol", data=b"x").status_code == 404
    r = api(hub, "PUT", f"{url}?path=sub/ok.txt", "alice", data=b"fine")
    assert r.status_code == 201 and r.json()["size"] == 4
    api(hub, "POST", f"tracking/runs/{live}/end", "alice", json={"status": "succeeded"})


def test_tracking_never_breaks_the_training_loop_when_the_service_is_down() -> None:
    env = {
        **os.environ,
        "SUBMARINE_API_URL": f"http://127.0.0.1:{free_port()}/services/submarine/api/v1",
        "SUBMARINE_TOKEN": "x",
        "SUBMARINE_RUN_ID": "1",
    }
    code = (
        "import time, submarine_hub as s, submarine_hub.tracking as t\n"
        "t.EXIT_FLUSH_S = 1\n"
        "start = time.perf_counter()\n"
        "for i in range(20000): s.log_metric('loss', i, step=i)\n"
        "print(round(time.perf_counter() - start, 3))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    assert float(p.stdout.strip()) < 5  # the loop never waited on the network
    assert "service unreachable" in p.stderr


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, str]]:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url, timeout=1)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "moto_server did not start"
            time.sleep(0.2)
    import boto3

    boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id="k",
        aws_secret_access_key="s",
        region_name="us-east-1",
    ).create_bucket(Bucket="models")
    try:
        yield {"endpoint_url": url, "key": "k", "secret": "s"}
    finally:
        proc.terminate()
        proc.wait(10)


def test_artifact_store_on_s3(s3: dict[str, str], tmp_path: Path) -> None:
    options = {
        "key": s3["key"],
        "secret": s3["secret"],
        "client_kwargs": {"endpoint_url": s3["endpoint_url"]},
    }
    store = ArtifactStore("s3://models/prefix", options)
    data = os.urandom(12 * 1024 * 1024)  # several multipart blocks
    written = store.write_stream(
        "m/1/model.bin", iter([data[i : i + 1_000_000] for i in range(0, len(data), 1_000_000)])
    )
    assert written.size == len(data) and written.sha256 == hashlib.sha256(data).hexdigest()
    assert b"".join(store.read_chunks("m/1/model.bin")) == data
    local = store.local_copy("m/1", tmp_path / "cache")
    assert (local / "model.bin").read_bytes() == data
    for outside in ("../outside", "m/1/a\n/../../../../x", "m/./1", "/x"):
        with pytest.raises(ValueError, match="plain relative path"):
            store.open_write(outside)  # an S3 key never leaves its prefix either
    store.write_stream(".partial/up", iter([b"late"]))
    store.move(".partial/up", "m/1/late.bin")
    assert b"".join(store.read_chunks("m/1/late.bin")) == b"late"
    assert not store.exists(".partial/up")
    store.delete_prefix("m")
    assert not store.exists("m/1/model.bin")


def test_registry_through_a_hub_on_s3(s3: dict[str, str], tmp_path: Path) -> None:
    options = {
        "key": s3["key"],
        "secret": s3["secret"],
        "client_kwargs": {"endpoint_url": s3["endpoint_url"]},
    }
    hub = Hub(tmp_path / "s3hub", extra_env={
        "SUBMARINE_ARTIFACT_STORE_URL": "s3://models/hub",
        "SUBMARINE_ARTIFACT_STORE_OPTIONS": json.dumps(options),
    })  # fmt: skip
    hub.start()
    try:
        from submarine_hub.client.client import SubmarineClient

        model = tmp_path / "m.joblib"
        model.write_bytes(os.urandom(3 * 1024 * 1024))
        client = SubmarineClient(hub.api_url().rstrip("/"), hub.token_for("alice"))
        v = client.register_model("data-science/on-s3", [model], framework="sklearn")
        assert v["storage_uri"].startswith("s3://models/hub/models/data-science/on-s3/1")
        back = client.download_model("data-science/on-s3", 1, tmp_path / "back")
        assert (back / "m.joblib").read_bytes() == model.read_bytes()
        keys = ArtifactStore("s3://models", options).fs.find("models/hub")
        assert any(k.endswith("on-s3/1/m.joblib") for k in keys)
    finally:
        hub.stop()
        hub.cleanup()
