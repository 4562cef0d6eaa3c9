"""The MLflow-compatible API, in-process, driven by the real ``mlflow`` client: tracking,
search, artifacts, logged models and the registry land in the platform's own runs,
metrics and models; another team's token gets nothing; unsupported calls answer MLflow's
error shape. (The same client against a real hub, in a session: test_mlflow_hub.py.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from submarine_hub.core.mlflow_compat import tracking as mlflow_tracking
from submarine_hub.store.models import Experiment

from .helpers.service import PREFIX, InProcessService

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import DatasetInput, LoggedModelInput  # noqa: E402
from mlflow.exceptions import MlflowException, RestException  # noqa: E402


@pytest.fixture
def world(service: InProcessService) -> dict[str, str]:
    team = service.new_team("mlf")
    other = service.new_team("mlfo")
    user = service.new_user("ana", teams=[team])
    stranger = service.new_user("eve", teams=[other])
    return {"team": team, "other": other, "user": user, "stranger": stranger}


def tracking_uri(service: InProcessService, team: str) -> str:
    return f"{service.url}{PREFIX}mlflow/{team}"


@pytest.fixture
def as_user(
    service: InProcessService, world: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[MlflowClient]:
    uri = tracking_uri(service, world["team"])
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", service.token_for(world["user"]))
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment("Default")  # the team's experiment "0" (not an earlier test's)
    yield MlflowClient(uri, registry_uri=uri)
    if mlflow.active_run():
        mlflow.end_run()


def test_explicit_logging_lands_in_the_platform_run(
    service: InProcessService, world: dict[str, str], as_user: MlflowClient, tmp_path: Path
) -> None:
    mlflow.set_experiment("churn")
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("alpha", 0.5)
        for step in range(3):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.set_tag("stage", "dev")
        (tmp_path / "notes.txt").write_text("hello")
        mlflow.log_artifact(str(tmp_path / "notes.txt"))
        (tmp_path / "dir").mkdir()
        (tmp_path / "dir" / "a.csv").write_text("x,y\n1,2\n")
        mlflow.log_artifacts(str(tmp_path / "dir"), artifact_path="data")
        mlflow.log_dict({"k": [1, 2]}, "config.json")
    run_id = run.info.run_id

    got = as_user.get_run(run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params == {"alpha": "0.5"}
    assert got.data.metrics == {"loss": pytest.approx(1 / 3)}
    assert got.data.tags["stage"] == "dev"
    history = as_user.get_metric_history(run_id, "loss")
    assert [(m.step, round(m.value, 3)) for m in history] == [(0, 1.0), (1, 0.5), (2, 0.333)]
    names = sorted(f.path for f in as_user.list_artifacts(run_id))
    assert names == ["config.json", "data", "notes.txt"]
    assert [f.path for f in as_user.list_artifacts(run_id, "data")] == ["data/a.csv"]
    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="config.json")
    assert json.loads(Path(local).read_text()) == {"k": [1, 2]}

    # the same run through the platform's own API
    ours = service.api("GET", f"/experiments/{run_id}", world["user"]).json()
    assert (ours["team"], ours["status"], ours["name"]) == (world["team"], "succeeded", "first")
    metrics = service.api("GET", f"/experiments/{run_id}/metrics", world["user"]).json()
    assert metrics["metrics"] == {"loss": pytest.approx(1 / 3)}
    files = service.api("GET", f"/experiments/{run_id}/artifacts", world["user"]).json()
    assert {f["path"] for f in files["items"]} == {"notes.txt", "data/a.csv", "config.json"}


def test_search_runs_filters_and_orders_with_mlflows_syntax(
    world: dict[str, str], as_user: MlflowClient
) -> None:
    exp = mlflow.set_experiment("sweep")
    for i, model in enumerate(["rf", "rf", "lr", "rf"]):
        with mlflow.start_run(run_name=f"r{i}"):
            mlflow.log_param("model", model)
            mlflow.log_metric("acc", 0.5 + i / 10)
    found = mlflow.search_runs(
        [exp.experiment_id],
        filter_string="metrics.acc > 0.55 and params.model = 'rf'",
        order_by=["metrics.acc DESC"],
    )
    assert list(found["tags.mlflow.runName"]) == ["r3", "r1"]
    runs = as_user.search_runs(
        [exp.experiment_id], "attributes.run_name LIKE 'r%'", order_by=["params.model ASC"],
        max_results=2,
    )  # fmt: skip
    assert [r.data.params["model"] for r in runs] == ["lr", "rf"]
    assert runs.token  # a next page
    with pytest.raises(MlflowException, match="compares with a number"):
        as_user.search_runs([exp.experiment_id], "metrics.acc > 'high'")


@pytest.mark.local
def test_logged_model_registered_with_an_alias_loads_and_predicts(
    service: InProcessService, world: dict[str, str], as_user: MlflowClient
) -> None:
    sklearn = pytest.importorskip("sklearn.linear_model")
    import numpy as np

    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1])
    mlflow.set_experiment("models")
    with mlflow.start_run() as run:
        clf = sklearn.LogisticRegression().fit(X, y)
        info = mlflow.sklearn.log_model(clf, name="model", input_example=X[:1])
    version = mlflow.register_model(info.model_uri, "churn-model")
    assert version.version == "1"
    as_user.set_registered_model_alias("churn-model", "champion", version.version)
    loaded = mlflow.pyfunc.load_model("models:/churn-model@champion")
    assert list(loaded.predict(X)) == list(clf.predict(X))

    # a run's model URI (MLflow 3 finds the run's logged model) makes version 2
    again = mlflow.register_model(f"runs:/{run.info.run_id}/model", "churn-model")
    assert (again.version, again.run_id) == ("2", run.info.run_id)
    got = as_user.get_model_version_by_alias("churn-model", "champion")
    assert (got.version, got.run_id) == ("1", run.info.run_id)
    as_user.update_model_version("churn-model", "1", description="first")
    as_user.set_model_version_tag("churn-model", "1", "validated", "yes")
    model = as_user.get_registered_model("churn-model")
    assert model.aliases == {"champion": "1"}
    found = as_user.search_model_versions("name = 'churn-model'")
    assert sorted(v.version for v in found) == ["1", "2"]

    # the platform's registry has the same model, version, alias and files
    ours = service.api("GET", f"/models/{world['team']}/churn-model", world["user"]).json()
    assert ours["aliases"] == {"champion": 1}
    v1 = service.api("GET", f"/models/{world['team']}/churn-model/versions/1", world["user"]).json()
    assert v1["framework"] == "mlflow" and v1["status"] == "ready"
    assert v1["source_run_id"] == int(run.info.run_id)
    assert "MLmodel" in {f["path"] for f in v1["files"]}


def test_another_teams_token_sees_nothing(
    service: InProcessService, world: dict[str, str], as_user: MlflowClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    with mlflow.start_run() as run:
        mlflow.log_metric("x", 1.0)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", service.token_for(world["stranger"]))
    theirs = MlflowClient(tracking_uri(service, world["team"]))
    with pytest.raises(RestException) as e:
        theirs.get_run(run.info.run_id)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(RestException, match="RESOURCE_DOES_NOT_EXIST"):
        theirs.search_runs(["0"])
    # in their own team's URI, the run is not there either
    own = MlflowClient(tracking_uri(service, world["other"]))
    with pytest.raises(RestException, match="not found"):
        own.get_run(run.info.run_id)
    assert own.search_runs(["0"]) == []


def test_unsupported_and_malformed_calls_answer_mlflows_error_shape(
    service: InProcessService, world: dict[str, str]
) -> None:
    base = f"{tracking_uri(service, world['team'])}/api/2.0/mlflow"
    auth = {"Authorization": f"Bearer {service.token_for(world['user'])}"}
    cases: list[tuple[str, str, Any, int, str]] = [
        ("GET", "/traces", None, 501, "NOT_IMPLEMENTED"),
        ("POST", "/no-such-call", {}, 404, "ENDPOINT_NOT_FOUND"),
        ("POST", "/model-versions/transition-stage", {"name": "x", "version": "1"}, 404,
         "RESOURCE_DOES_NOT_EXIST"),
        ("POST", "/runs/create", {"experiment_id": "99999999"}, 404, "RESOURCE_DOES_NOT_EXIST"),
        ("GET", "/runs/get?run_id=99999999999999999999999", None, 404, "RESOURCE_DOES_NOT_EXIST"),
        # a body the OpenAPI document's schema refuses: 400 before any run is looked up
        # (as MLflow's server parses its request message first)
        ("POST", "/runs/log-batch", {"run_id": "1", "metrics": "x"}, 400,
         "INVALID_PARAMETER_VALUE"),
        ("POST", "/runs/log-batch", {"run_id": "99999999", "metrics": []}, 404,
         "RESOURCE_DOES_NOT_EXIST"),
        ("POST", "/runs/update", {"run_id": "1", "status": "DONE"}, 400,
         "INVALID_PARAMETER_VALUE"),
        ("POST", "/runs/log-inputs", {"run_id": "1", "models": [{"model_id": 5}]}, 400,
         "INVALID_PARAMETER_VALUE"),
        ("POST", "/registered-models/create", [], 400, "INVALID_PARAMETER_VALUE"),
        ("POST", "/experiments/create", {}, 400, "INVALID_PARAMETER_VALUE"),
        ("POST", "/runs/search", {"experiment_ids": ["0"], "filter": "metrics.a ~ 1"}, 400,
         "INVALID_PARAMETER_VALUE"),
    ]  # fmt: skip
    for method, path, body, status, code in cases:
        r = service.http.request(method, base + path, json=body, headers=auth, timeout=30)
        assert (r.status_code, r.json()["error_code"]) == (status, code), (path, r.text)
        assert r.json()["message"]
    anonymous = service.http.get(base + "/experiments/search", timeout=30)
    assert (anonymous.status_code, anonymous.json()["error_code"]) == (401, "UNAUTHENTICATED")
    nowhere = service.http.get(f"{service.url}{PREFIX}mlflow/x/elsewhere", timeout=30)
    assert nowhere.json()["error_code"] == "ENDPOINT_NOT_FOUND"


@pytest.mark.local
def test_an_mlflow_model_answers_mlflows_four_request_shapes(tmp_path: Path) -> None:
    """The endpoint loader of a version registered through MLflow (``framework: mlflow``):
    ``dataframe_split``, ``dataframe_records``, ``instances`` and ``inputs`` all predict;
    a body of none of them is refused with MLflow's reason."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from submarine_hub.serving import loaders

    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 1.0, 0.0, 0.0]})
    clf = LogisticRegression().fit(frame, np.array([0, 0, 1, 1]))
    mlflow.sklearn.save_model(clf, tmp_path / "m", input_example=frame.head(1))
    model = loaders.load(tmp_path / "m", {"framework": "mlflow", "loader": "auto"})
    want = clf.predict(frame).tolist()
    bodies = [
        {"dataframe_split": frame.to_dict(orient="split")},
        {"dataframe_records": frame.to_dict(orient="records")},
        {"instances": frame.to_dict(orient="records")},
        {"inputs": {"a": frame["a"].tolist(), "b": frame["b"].tolist()}},
    ]
    for body in bodies:
        assert model.predict(body) == want, body
    with pytest.raises(ValueError, match="dataframe_split"):
        model.predict({"rows": [[1, 2]]})


def test_a_platform_runs_env_attaches_mlflow_to_that_run_and_its_end_is_the_platforms(
    service: InProcessService, world: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from .helpers.api import command, submit, wait, wait_for

    service.backend.hold = True
    try:
        run = submit(service, world["user"], command("attach", "x", team=world["team"]))
        service.wake()
        launched = wait_for(lambda: service.backend.runs.get(run["id"]), 30, "the run")
    finally:
        service.backend.hold = False
    env = launched.plan.env
    assert env["MLFLOW_TRACKING_URI"].endswith(f"/mlflow/{world['team']}")
    assert env["MLFLOW_RUN_ID"] == str(run["id"])
    assert env["MLFLOW_TRACKING_TOKEN"] == env["SUBMARINE_TOKEN"]
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "MLFLOW_RUN_ID"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    with mlflow.start_run() as active:  # attaches: no second run
        assert active.info.run_id == str(run["id"])
        mlflow.log_metric("inner", 2.0, step=3)
    # MLflow's end_run did not end the platform's run; its token cannot reach another run
    ours = service.api("GET", f"experiments/{run['id']}", world["user"]).json()
    assert ours["status"] == "running"
    assert service.api("GET", f"experiments/{run['id']}/metrics", world["user"]).json() == {
        "metrics": {"inner": 2.0}
    }
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", service.token_for(world["user"]))
    uri = env["MLFLOW_TRACKING_URI"]
    sibling = MlflowClient(uri).create_run("0").info.run_id  # another run of the same owner
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", env["MLFLOW_TRACKING_TOKEN"])
    with pytest.raises(RestException) as e:
        MlflowClient(uri).log_metric(sibling, "x", 1.0)
    assert e.value.error_code == "PERMISSION_DENIED"
    service.api("POST", f"experiments/{run['id']}/kill", world["user"])
    wait(service, world["user"], run["id"])


def test_a_point_sent_again_by_a_retry_is_stored_once(
    service: InProcessService, world: dict[str, str], as_user: MlflowClient
) -> None:
    run_id = as_user.create_run("0").info.run_id
    base = f"{tracking_uri(service, world['team'])}/api/2.0/mlflow/runs/log-metric"
    auth = {"Authorization": f"Bearer {service.token_for(world['user'])}"}
    point = {"run_id": run_id, "key": "loss", "value": 0.5, "timestamp": 1700000000000, "step": 2}
    for _ in range(2):
        r = service.http.post(base, json=point, headers=auth, timeout=30)
        assert r.status_code == 200, r.text
    as_user.log_metric(run_id, "loss", 0.5, timestamp=1700000000001, step=2)  # another point
    assert len(as_user.get_metric_history(run_id, "loss")) == 2
    # a batch's items are checked by the core as it stores them (the document's schema
    # checks the body's shape only: a thousand items each through it cost more than storing)
    batch = base.replace("log-metric", "log-batch")
    for body, says in [
        ({"metrics": [5]}, "metrics[0] must be an object"),
        ({"metrics": [{"value": 1}]}, "'key'"),
        ({"metrics": [{"key": "k", "value": 1}] * 1001}, "at most 1000 metrics"),
        ({"params": {"a": 1}}, "'params' must be a list"),
    ]:
        r = service.http.post(batch, json={"run_id": run_id, **body}, headers=auth, timeout=30)
        assert (r.status_code, r.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), r.text
        assert says in r.json()["message"], r.text
    assert len(as_user.get_metric_history(run_id, "loss")) == 2


def test_the_artifacts_proxy_refuses_bad_paths_other_teams_and_registered_files(
    service: InProcessService, world: dict[str, str], as_user: MlflowClient
) -> None:
    run_id = as_user.create_run("0").info.run_id
    base = f"{tracking_uri(service, world['team'])}/api/2.0/mlflow-artifacts/artifacts"
    mine = {"Authorization": f"Bearer {service.token_for(world['user'])}"}
    theirs = {"Authorization": f"Bearer {service.token_for(world['stranger'])}"}
    r = service.http.put(f"{base}/runs/{run_id}/ok.txt", data=b"fine", headers=mine, timeout=30)
    assert r.status_code == 200, r.text
    got = service.http.get(f"{base}/runs/{run_id}/ok.txt", headers=mine, timeout=30)
    assert got.content == b"fine"
    cases = [
        ("PUT", f"{base}/runs/{run_id}/%2E%2E/%2E%2E/escape.txt", mine, 400),
        ("PUT", f"{base}/runs/{run_id}/ok.txt", theirs, 404),
        ("GET", f"{base}/runs/{run_id}/ok.txt", theirs, 404),
        ("GET", f"{base}?path=runs/{run_id}", theirs, 404),
        ("GET", f"{base}/elsewhere/x", mine, 404),
        ("DELETE", f"{base}/runs/{run_id}/ok.txt", mine, 501),
    ]
    for method, url, headers, status in cases:
        r = service.http.request(method, url, data=b"x", headers=headers, timeout=30)
        assert r.status_code == status, (method, url, r.text)
        assert r.json()["error_code"] and r.json()["message"]
    listing = service.http.get(f"{base}?path=runs/{run_id}", headers=mine, timeout=30).json()
    assert listing == {"files": [{"path": "ok.txt", "is_dir": False, "file_size": 4}]}


def test_without_a_team_in_the_uri_only_a_one_team_user_is_served(
    service: InProcessService, world: dict[str, str]
) -> None:
    url = f"{service.url}{PREFIX}mlflow/api/2.0/mlflow/experiments/get?experiment_id=0"
    one = service.http.get(
        url, headers={"Authorization": f"Bearer {service.token_for(world['user'])}"}
    )
    assert one.status_code == 200 and one.json()["experiment"]["name"] == "Default", one.text
    both = service.new_user("two", teams=[world["team"], world["other"]])
    r = service.http.get(url, headers={"Authorization": f"Bearer {service.token_for(both)}"})
    assert (r.status_code, r.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert f"mlflow/{sorted([world['team'], world['other']])[0]}" in r.json()["message"]


def test_a_logged_dataset_input_comes_back_on_the_run_and_in_the_lineage(
    service: InProcessService, world: dict[str, str], as_user: MlflowClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    pd = pytest.importorskip("pandas")
    team, user = world["team"], world["user"]
    made = service.api(
        "POST", "/datasets", user, json={"name": "iris-mlf", "team": team, "uri": "/data/iris.csv"}
    )
    assert made.status_code in (200, 201), made.text
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    ds = mlflow.data.from_pandas(df, name="iris-mlf", targets="y")
    with mlflow.start_run(run_name="with-data") as run:
        mlflow.log_input(ds, context="training")
        mlflow.log_input(ds, context="training")  # the same dataset again: kept once
    got = as_user.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(got) == 1
    assert (got[0].dataset.name, got[0].dataset.digest) == ("iris-mlf", ds.digest)
    assert got[0].dataset.source_type == ds._to_mlflow_entity().source_type
    assert json.loads(got[0].dataset.schema) == json.loads(ds._to_mlflow_entity().schema)
    assert json.loads(got[0].dataset.profile)["num_rows"] == 3
    assert {t.key: t.value for t in got[0].tags}["mlflow.data.context"] == "training"
    found = as_user.search_runs(["0"], filter_string="attributes.run_name = 'with-data'")
    assert found[0].inputs.dataset_inputs[0].dataset.name == "iris-mlf"
    # our API: the run keeps them, and the catalog dataset of that name is its input
    ours = service.api("GET", f"/experiments/{run.info.run_id}", user).json()
    assert ours["spec"]["mlflow_inputs"][0]["dataset"]["digest"] == ds.digest
    graph = service.api("GET", f"/lineage?dataset={team}/iris-mlf", user).json()
    assert f"run:{run.info.run_id}" in {n["id"] for n in graph["nodes"]}
    # bad input: MLflow's error shape
    base = f"{tracking_uri(service, team)}/api/2.0/mlflow/runs/log-inputs"
    auth = {"Authorization": f"Bearer {service.token_for(user)}"}
    good = {"name": "d", "digest": "abc", "source_type": "local", "source": "{}"}
    bad_bodies = [
        {"datasets": "x"},
        {"datasets": [{"dataset": {**good, "name": "n" * 501}}]},
        {"datasets": [{"dataset": {**good, "digest": 5}}]},
        {"datasets": [{"dataset": {**good, "profile": "p" * 20000}}]},
        {"datasets": [{"dataset": good, "tags": [{"key": "k", "value": "v" * 501}]}]},
        {"datasets": [{"dataset": {"name": "d"}}]},
    ]
    for body in bad_bodies:
        r = service.http.post(base, json={"run_id": run.info.run_id, **body}, headers=auth)
        assert (r.status_code, r.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE"), r.text
    # another team's user: the run is not there for them
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", service.token_for(world["stranger"]))
    with pytest.raises(RestException, match="RESOURCE_DOES_NOT_EXIST"):
        MlflowClient(tracking_uri(service, team)).log_inputs(
            run.info.run_id, [DatasetInput(ds._to_mlflow_entity())]
        )
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", service.token_for(user))
    assert len(as_user.get_run(run.info.run_id).inputs.dataset_inputs) == 1


def test_a_logged_model_input_comes_back_on_the_run_like_mlflows(
    service: InProcessService, world: dict[str, str], as_user: MlflowClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    team, user = world["team"], world["user"]
    source = as_user.create_run("0").info.run_id
    model = as_user.create_logged_model("0", name="base", source_run_id=source)
    rid = as_user.create_run("0", run_name="fine-tune").info.run_id
    as_user.log_inputs(rid, models=[LoggedModelInput(model.model_id)])
    as_user.log_inputs(rid, models=[LoggedModelInput(model.model_id)])  # again: kept once
    assert as_user.get_run(rid).inputs.model_inputs == [LoggedModelInput(model.model_id)]
    found = as_user.search_runs(["0"], filter_string="attributes.run_name = 'fine-tune'")
    assert found[0].inputs.model_inputs == [LoggedModelInput(model.model_id)]
    ours = service.api("GET", f"/experiments/{rid}", user).json()
    assert ours["spec"]["mlflow_model_inputs"] == [model.model_id]
    # bad input: MLflow's error shape; an unknown model keeps nothing of the call
    base = f"{tracking_uri(service, team)}/api/2.0/mlflow/runs/log-inputs"
    auth = {"Authorization": f"Bearer {service.token_for(user)}"}
    good = {"name": "d", "digest": "abc", "source_type": "local", "source": "{}"}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"models": "x"}, 400, "INVALID_PARAMETER_VALUE"),
        ({"models": [{"model_id": 5}]}, 400, "INVALID_PARAMETER_VALUE"),
        ({"models": ["m-1"]}, 400, "INVALID_PARAMETER_VALUE"),
        ({"models": [{}]}, 400, "INVALID_PARAMETER_VALUE"),
        ({"models": [{"model_id": "m" * 300}]}, 400, "INVALID_PARAMETER_VALUE"),
        ({"models": [{"model_id": "m-nope"}], "datasets": [{"dataset": good}]}, 404,
         "RESOURCE_DOES_NOT_EXIST"),
    ]  # fmt: skip
    for body, status, code in cases:
        r = service.http.post(base, json={"run_id": rid, **body}, headers=auth, timeout=30)
        assert (r.status_code, r.json()["error_code"]) == (status, code), (body, r.text)
    again = as_user.get_run(rid).inputs
    assert again.dataset_inputs == [] and len(again.model_inputs) == 1
    # another team's logged model is not found for this team's run
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", service.token_for(world["stranger"]))
    other = MlflowClient(tracking_uri(service, world["other"]))
    theirs = other.create_logged_model("0", name="theirs")
    # and another team's user cannot add inputs to this team's run
    with pytest.raises(RestException, match="RESOURCE_DOES_NOT_EXIST"):
        MlflowClient(tracking_uri(service, team)).log_inputs(
            rid, models=[LoggedModelInput(model.model_id)]
        )
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", service.token_for(user))
    with pytest.raises(RestException, match="RESOURCE_DOES_NOT_EXIST"):
        as_user.log_inputs(rid, models=[LoggedModelInput(theirs.model_id)])
    assert as_user.get_run(rid).inputs.model_inputs == [LoggedModelInput(model.model_id)]


def _age(service: InProcessService, run_id: str, seconds: float) -> None:
    """Make the run's last MLflow call ``seconds`` ago."""

    async def go(context: Any) -> None:
        async with context.db.session() as s:
            row = await s.get(Experiment, int(run_id))
            when = datetime.now(timezone.utc) - timedelta(seconds=seconds)
            row.placement = {**row.placement, "heartbeat_at": when.isoformat()}

    service.call(go)


def _reap(service: InProcessService, idle_timeout: float) -> list[int]:
    async def go(context: Any) -> list[int]:
        async with context.db.session() as s:
            return [r.id for r in await mlflow_tracking.reap(s, idle_timeout)]

    return service.call(go)


def test_an_interactive_mlflow_run_whose_client_went_quiet_fails_after_the_idle_timeout(
    service: InProcessService, world: dict[str, str], as_user: MlflowClient
) -> None:
    idle = as_user.create_run("0", run_name="crashed").info.run_id
    busy = as_user.create_run("0", run_name="training").info.run_id
    done = as_user.create_run("0", run_name="done").info.run_id
    as_user.set_terminated(done, "FINISHED")
    for run_id in (idle, busy, done):
        _age(service, run_id, 7200)
    as_user.log_metric(busy, "loss", 0.5)  # a call: the run is alive again
    assert _reap(service, 0) == []  # 0: never
    ended = _reap(service, 3600)
    assert int(idle) in ended and int(busy) not in ended and int(done) not in ended
    got = as_user.get_run(idle)
    assert got.info.status == "FAILED" and got.info.end_time
    reason = got.data.tags["submarine.end_reason"]
    assert "no MLflow call since" in reason and "idle for more than 3600 s" in reason
    ours = service.api("GET", f"/experiments/{idle}", world["user"]).json()
    assert (ours["status"], ours["reason"]) == ("failed", reason)
    assert as_user.get_run(busy).info.status == "RUNNING"
    assert as_user.get_run(done).info.status == "FINISHED"
    assert "submarine.end_reason" not in as_user.get_run(done).data.tags
    assert _reap(service, 3600) == []  # ended once
    # the service's setting reaches its scheduler; a negative one is refused
    assert service.context is not None
    assert service.context.experiments.mlflow_idle_timeout == 86400
    from traitlets import TraitError

    from submarine_hub.service.app import SubmarineService

    assert SubmarineService(mlflow_run_idle_timeout=60).mlflow_run_idle_timeout == 60
    with pytest.raises(TraitError, match="0 \\(never\\) or more seconds"):
        SubmarineService(mlflow_run_idle_timeout=-1)


def test_an_mlflow_run_made_inside_a_platform_run_ends_with_it(
    service: InProcessService, world: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from .helpers.api import command, submit, wait, wait_for

    service.backend.hold = True
    try:
        run = submit(service, world["user"], command("nested", "x", team=world["team"]))
        service.wake()
        launched = wait_for(lambda: service.backend.runs.get(run["id"]), 30, "the run")
    finally:
        service.backend.hold = False
    env = launched.plan.env
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "MLFLOW_RUN_ID"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(env["MLFLOW_TRACKING_URI"])
    with mlflow.start_run():  # attaches to the platform run
        with mlflow.start_run(nested=True, run_name="fold-1") as child:
            mlflow.log_metric("acc", 0.9)  # its token writes to the run it made
        # a nested run the process never ended (it crashed before)
        crashed = MlflowClient().create_run("0", run_name="fold-2").info.run_id
        MlflowClient().log_param(crashed, "fold", "2")
    client = MlflowClient()
    assert client.get_run(child.info.run_id).info.status == "FINISHED"
    _age(service, crashed, 7 * 86400)
    assert int(crashed) not in _reap(service, 60)  # not idle-reaped: its platform run lives
    assert client.get_run(crashed).info.status == "RUNNING"
    # another team's user cannot touch it
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", service.token_for(world["stranger"]))
    with pytest.raises(RestException, match="RESOURCE_DOES_NOT_EXIST"):
        MlflowClient().log_metric(crashed, "x", 1.0)
    service.api("POST", f"experiments/{run['id']}/kill", world["user"])
    wait(service, world["user"], run["id"])
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", service.token_for(world["user"]))  # run ended
    assert _reap(service, 0) == [int(crashed)]
    got = client.get_run(crashed)
    assert got.info.status == "KILLED"
    assert f"its platform run {run['id']} ended (killed)" in got.data.tags["submarine.end_reason"]
    assert client.get_run(child.info.run_id).info.status == "FINISHED"  # ended: untouched


def test_calls_not_served_answer_501_only_to_who_may_see_the_object(
    service: InProcessService, world: dict[str, str], as_user: MlflowClient
) -> None:
    base = f"{tracking_uri(service, world['team'])}/api/2.0/mlflow"
    mine = {"Authorization": f"Bearer {service.token_for(world['user'])}"}
    theirs = {"Authorization": f"Bearer {service.token_for(world['stranger'])}"}
    as_user.create_registered_model("kept-name")
    run_id = as_user.create_run("0").info.run_id
    model_id = as_user.create_logged_model("0", name="lm", source_run_id=run_id).model_id
    cases: list[tuple[str, str, Any]] = [
        ("POST", "/registered-models/rename", {"name": "kept-name", "new_name": "other"}),
        ("POST", "/model-versions/transition-stage",
         {"name": "kept-name", "version": "1", "stage": "Production"}),
        ("DELETE", f"/logged-models/{model_id}", None),
    ]  # fmt: skip
    for method, path, body in cases:
        r = service.http.request(method, base + path, json=body, headers=mine, timeout=30)
        assert r.status_code in (501, 404), (path, r.text)
        if path != "/model-versions/transition-stage":  # no version 1: not found first
            assert (r.status_code, r.json()["error_code"]) == (501, "NOT_IMPLEMENTED"), r.text
        other = service.http.request(method, base + path, json=body, headers=theirs, timeout=30)
        assert (other.status_code, other.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    # the model and the logged model are still there
    assert as_user.get_registered_model("kept-name").name == "kept-name"
    assert as_user.get_logged_model(model_id).model_id == model_id
