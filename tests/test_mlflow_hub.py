"""Existing MLflow code, unchanged, against a real hub (issue 18): in alice's session
``MLFLOW_TRACKING_URI``/``MLFLOW_TRACKING_TOKEN`` are set, so ``mlflow.autolog()`` and a
scikit-learn fit, explicit logging, ``search_runs``, ``log_model`` + ``register_model`` +
an alias + ``pyfunc.load_model("models:/NAME@ALIAS")`` all work with no setup; the same
run and model are then the platform's (its API); another team's token gets nothing;
inside a platform run ``mlflow.start_run()`` attaches to that run; and the registered
MLflow model is deployed as an endpoint answering ``/invocations`` with
``dataframe_split``."""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from .helpers.api import command, submit, wait, wait_serving
from .helpers.hub import Hub

pytestmark = pytest.mark.hub
mlflow = pytest.importorskip("mlflow")

MODEL = "mlflow-churn"

SESSION_CODE = r"""
import os, json, tempfile
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mlflow
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

print("URI", os.environ["MLFLOW_TRACKING_URI"])
mlflow.autolog()
mlflow.set_experiment("e2e-autolog")
X = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 0.0], [3.0, 0.0]] * 5)
y = np.array([0, 0, 1, 1] * 5)
with mlflow.start_run(run_name="session-fit") as run:
    clf = LogisticRegression().fit(X, y)
    mlflow.log_param("team_note", "from-session")
    for step in range(3):
        mlflow.log_metric("val_loss", 1.0 / (step + 1), step=step)
    mlflow.set_tag("origin", "notebook")
    work = tempfile.mkdtemp()  # the session user's own (another hub's may own /tmp names)
    with open(os.path.join(work, "mlflow-e2e-notes.txt"), "w") as f:
        f.write("notes")
    mlflow.log_artifact(os.path.join(work, "mlflow-e2e-notes.txt"))
    os.makedirs(os.path.join(work, "dir"))
    with open(os.path.join(work, "dir", "a.txt"), "w") as f:
        f.write("a")
    mlflow.log_artifacts(os.path.join(work, "dir"), artifact_path="extra")
    mlflow.log_dict({"threshold": 0.5}, "config.json")
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    mlflow.log_figure(fig, "curve.png")
    info = mlflow.sklearn.log_model(clf, name="model", input_example=X[:1])
print("RUN", run.info.run_id)
found = mlflow.search_runs(
    filter_string="metrics.val_loss < 0.5 and params.team_note = 'from-session'",
    order_by=["metrics.training_accuracy_score DESC"],
)
print("FOUND", json.dumps(list(found["run_id"])))
version = mlflow.register_model(info.model_uri, "MODEL_NAME")
client = MlflowClient()
client.set_registered_model_alias("MODEL_NAME", "champion", version.version)
client.update_registered_model("MODEL_NAME", description="churn, from MLflow")
loaded = mlflow.pyfunc.load_model("models:/MODEL_NAME@champion")
print("PRED", json.dumps([loaded.predict(X[:4]).tolist(), clf.predict(X[:4]).tolist()]))
print("VERSION", version.version, [m.name for m in client.search_registered_models()])
""".replace("MODEL_NAME", MODEL)


@pytest.fixture(scope="module")
def session_run(hub: Hub) -> dict[str, Any]:
    out = hub.run_in_kernel("alice", SESSION_CODE, timeout=240)
    lines = dict(
        [*line.split(" ", 1), ""][:2] for line in out.splitlines() if re.match(r"^[A-Z]+ ", line)
    )
    assert "RUN" in lines and "PRED" in lines, out
    return {"out": out, **lines}


def test_mlflow_code_in_a_session_logs_to_the_platform_with_no_setup(
    hub: Hub, session_run: dict[str, Any]
) -> None:
    assert session_run["URI"] == f"{hub.url}/services/submarine/mlflow/data-science" or (
        session_run["URI"].endswith("/services/submarine/mlflow/data-science")
    ), session_run["URI"]
    run_id = int(session_run["RUN"])
    assert json.loads(session_run["FOUND"])[0] == str(run_id)
    predicted, expected = json.loads(session_run["PRED"])
    assert predicted == expected

    # the same run through the platform's API (what the panel and CLI show)
    run = hub.api("GET", f"experiments/{run_id}", user="alice").json()
    assert (run["team"], run["owner"], run["status"]) == ("data-science", "alice", "succeeded")
    assert run["name"] == "session-fit"
    metrics = hub.api("GET", f"experiments/{run_id}/metrics", user="alice").json()["metrics"]
    assert metrics["val_loss"] == pytest.approx(1 / 3)
    assert "training_accuracy_score" in metrics  # autolog's
    history = hub.api("GET", f"experiments/{run_id}/metrics?key=val_loss", user="alice").json()[
        "points"
    ]
    assert [p["step"] for p in history] == [0, 1, 2]
    files = hub.api("GET", f"experiments/{run_id}/artifacts", user="alice").json()["items"]
    paths = {f["path"] for f in files}
    assert {"mlflow-e2e-notes.txt", "extra/a.txt", "config.json", "curve.png"} <= paths

    # the registered model is a registry model of the team, with the alias
    model = hub.api("GET", f"models/data-science/{MODEL}", user="alice").json()
    assert model["aliases"] == {"champion": 1}
    assert model["description"] == "churn, from MLflow"
    v1 = hub.api("GET", f"models/data-science/{MODEL}/versions/1", user="alice").json()
    assert (v1["framework"], v1["status"], v1["source_run_id"]) == ("mlflow", "ready", run_id)


def test_another_teams_token_gets_nothing(hub: Hub, session_run: dict[str, Any]) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import RestException

    run_id = session_run["RUN"]
    uri = f"{hub.url}/services/submarine/mlflow/data-science"
    old = os.environ.get("MLFLOW_TRACKING_TOKEN")
    os.environ["MLFLOW_TRACKING_TOKEN"] = hub.token_for("carol")  # ml-platform only
    try:
        client = MlflowClient(uri, registry_uri=uri)
        for call in (
            lambda: client.get_run(run_id),
            lambda: client.get_registered_model(MODEL),
            lambda: client.search_runs(["0"]),
        ):
            with pytest.raises(RestException) as e:
                call()
            assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
        own = f"{hub.url}/services/submarine/mlflow/ml-platform"
        with pytest.raises(RestException, match="not found"):
            MlflowClient(own, registry_uri=own).get_run(run_id)
    finally:
        if old is None:
            os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
        else:
            os.environ["MLFLOW_TRACKING_TOKEN"] = old
    assert hub.api("GET", f"experiments/{run_id}", user="carol").status_code == 404


def test_mlflow_start_run_inside_a_platform_run_attaches_to_it(hub: Hub) -> None:
    code = (
        "import os, mlflow; r = mlflow.start_run(); mlflow.log_metric('inner', 2.5, step=4); "
        "mlflow.log_param('p', 'x'); mlflow.end_run(); "
        "print('ATTACHED', r.info.run_id == os.environ['SUBMARINE_RUN_ID'])"
    )
    spec = command("mlflow-attach", "")
    spec["task"] = {"command": ["python", "-c", code]}
    run = submit(hub, "alice", spec)
    done = wait(hub, "alice", run["id"], timeout=180)
    logs = hub.api("GET", f"experiments/{run['id']}/logs", user="alice").text
    assert done["status"] == "succeeded", logs
    assert "ATTACHED True" in logs
    metrics = hub.api("GET", f"experiments/{run['id']}/metrics", user="alice").json()["metrics"]
    assert metrics == {"inner": 2.5}
    # still one run: the platform ended it, MLflow's end_run did not
    runs = hub.api("GET", "experiments?team=data-science&limit=5", user="alice").json()["items"]
    assert sum(1 for r in runs if r["name"] == "mlflow-attach" and r["id"] == run["id"]) == 1


def test_a_notebook_job_logs_with_mlflow_to_its_own_run(hub: Hub) -> None:
    from .helpers.notebooks import code_cell, notebook

    path = "mlflow-jobs/train.ipynb"
    content = notebook(
        code_cell("alpha = 0.5", tags=["parameters"]),
        code_cell(
            "import mlflow\n"
            "with mlflow.start_run() as r:\n"
            "    mlflow.log_metric('score', alpha * 10, step=1)\n"
            "print('RUN', r.info.run_id)"
        ),
    )
    r = hub.api(
        "POST", "files/versions", user="alice",
        json={"space": "user:alice", "path": path, "content": content, "format": "notebook"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    r = hub.api("POST", "notebook-jobs", user="alice", json={"notebook": path})
    assert r.status_code == 201, r.text
    job = wait(hub, "alice", r.json()["id"], timeout=240, resource="notebook-jobs")
    assert job["status"] == "succeeded", job
    metrics = hub.api("GET", f"experiments/{job['id']}/metrics", user="alice").json()["metrics"]
    assert metrics == {"score": 5.0}


@pytest.fixture
def mlflow_endpoint(hub: Hub, session_run: dict[str, Any]) -> Iterator[dict[str, Any]]:
    body = {"name": "churn-mlflow", "team": "data-science", "model": MODEL, "version": "champion"}
    r = hub.api("POST", "endpoints", user="alice", json=body)
    assert r.status_code == 201, r.text
    try:
        yield wait_serving(hub, "data-science/churn-mlflow", timeout=240)
    finally:
        hub.api("DELETE", "endpoints/data-science/churn-mlflow?purge=1", user="alice")
        for status in (hub.data_dir / "endpoints").glob("*churn-mlflow*/status.json"):
            pid = json.loads(status.read_text()).get("pid")
            if pid:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass


def test_a_registered_mlflow_model_is_served_on_invocations(
    hub: Hub, mlflow_endpoint: dict[str, Any], session_run: dict[str, Any]
) -> None:
    url = mlflow_endpoint["url"] + "invocations"
    headers = {"Authorization": f"token {hub.token_for('alice')}"}
    rows = [[0.0, 1.0], [1.0, 1.0], [2.0, 0.0], [3.0, 0.0]]
    split = {"dataframe_split": {"columns": [0, 1], "data": rows}}
    r = requests.post(url, json=split, headers=headers, timeout=60)
    assert r.status_code == 200, r.text
    predicted, _ = json.loads(session_run["PRED"])
    assert r.json()["predictions"] == predicted
    r = requests.post(url, json={"instances": rows}, headers=headers, timeout=60)
    assert r.status_code == 200 and r.json()["predictions"] == predicted, r.text
    r = requests.post(url, json={"rows": rows}, headers=headers, timeout=60)
    assert r.status_code == 400 and "dataframe_split" in r.json()["message"], r.text
    other = {"Authorization": f"token {hub.token_for('carol')}"}
    assert requests.post(url, json=split, headers=other, timeout=60).status_code in (403, 404)
