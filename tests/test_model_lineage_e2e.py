"""Issue 7's path in one piece, through the real hub: a dataset feeds a template run that
logs metrics; its model is registered, aliased ``production`` and served; a prediction
comes back through the hub URL with a token; lineage runs dataset -> run -> model version
-> endpoint; another team sees none of it."""

from __future__ import annotations

import requests

from .helpers.api import wait, wait_serving
from .helpers.hub import Hub

REF = "data-science/wine-e2e"


def test_dataset_to_endpoint(hub: Hub) -> None:
    api = hub.api
    r = api("POST", "datasets", user="alice", json={
        "name": "wine-e2e", "team": "data-science", "uri": "sklearn://wine", "format": "table",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    r = api("POST", "templates/_global/sklearn-classifier/runs", user="alice", json={
        "meta": {"team": "data-science", "name": "wine-e2e"},
        "parameters": {"dataset": "wine", "model": "logistic_regression"},
        "inputs": [{"name": "training", "dataset": "wine-e2e"}],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    run = wait(hub, "alice", r.json()["id"], timeout=180)
    assert run["status"] == "succeeded" and run["metrics"]["accuracy"] > 0.8, run
    api("POST", "models", user="alice", json={"name": "wine-e2e", "team": "data-science"})
    r = api("POST", f"models/{REF}/versions", user="alice", json={
        "framework": "sklearn", "from_run": {"run_id": run["id"], "paths": ["model.joblib"]},
    })  # fmt: skip
    assert r.status_code == 201, r.text
    api("PUT", f"models/{REF}/aliases/production", user="alice", json={"version": 1})
    r = api("POST", "endpoints", user="alice", json={
        "name": "wine-e2e", "team": "data-science", "model": "wine-e2e", "version": "production",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    try:
        endpoint = wait_serving(hub, REF)
        token = {"Authorization": f"token {hub.token_for('bob')}"}
        features = [[13.0, 2.0, 2.4, 19.0, 100.0, 2.5, 2.5, 0.3, 1.6, 5.0, 1.0, 3.0, 1000.0]]
        r = requests.post(endpoint["predict_url"], json={"inputs": features}, headers=token)
        assert r.status_code == 200 and r.json()["version"] == 1, r.text
        assert requests.post(endpoint["predict_url"], json={"inputs": features}).status_code == 401
        carol = {"Authorization": f"token {hub.token_for('carol')}"}
        r = requests.post(endpoint["predict_url"], json={"inputs": features}, headers=carol)
        assert r.status_code == 403

        graph = api("GET", "lineage?dataset=data-science/wine-e2e", user="alice").json()
        edges = {(e["from"], e["to"]) for e in graph["edges"]}
        assert edges >= {
            ("dataset:data-science/wine-e2e", f"run:{run['id']}"),
            (f"run:{run['id']}", f"model_version:{REF}/1"),
            (f"model_version:{REF}/1", f"endpoint:{REF}"),
        }, edges
        graph = api("GET", f"lineage?endpoint={REF}", user="bob").json()
        assert "dataset:data-science/wine-e2e" in {n["id"] for n in graph["nodes"]}
        for path in (f"lineage?endpoint={REF}", "lineage?dataset=data-science/wine-e2e"):
            assert api("GET", path, user="carol").status_code == 404
        assert api("DELETE", f"models/{REF}", user="alice").status_code == 409  # still served
    finally:
        api("DELETE", f"endpoints/{REF}?purge=1", user="alice")
