"""Spark and SQL runs without a cluster: their specs (and bad ones), the executors in the
team's quota, the driver's command line, the Kubernetes objects (validated against the
Kubernetes schemas), the SQL runner on SQLite, and another team's connection refused."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from submarine_hub.backends.kube import render
from submarine_hub.backends.kube.names import LABEL_ROLE, LABEL_TEAM
from submarine_hub.core.errors import InvalidInput
from submarine_hub.core.experiments import plans, spark, sql
from submarine_hub.core.experiments import spec as specs
from submarine_hub.core.quotas import Quota, QuotaExceeded
from submarine_hub.store.models import Experiment

from .helpers.api import assert_json_error
from .helpers.kube import validate
from .helpers.kube_runs import make_plan, settings
from .helpers.service import InProcessService

MI = 1024**2


def spark_spec(**task: Any) -> dict[str, Any]:
    return {"meta": {"name": "wc"}, "task": {"spark": {"script": "wc.py", **task}}}


def test_a_spark_task_gets_its_defaults_and_a_driver_role() -> None:
    spec = specs.normalize(spark_spec(executor={"instances": 3, "memory": "1Gi"}))
    task = spec["task"]["spark"]
    assert task["driver"] == {"cores": 1, "memory": 512 * MI}
    assert task["executor"] == {"instances": 3, "cores": 1, "memory": 1024 * MI}
    driver = {"replicas": 1, "resources": {"cpu": None, "memory": None, "gpus": 0}}
    assert spec["spec"] == {"driver": driver}  # its JVM heap: driver.memory
    assert specs.task_kind(spec) == "spark"
    assert spark.usage(task) == (4, 512 * MI + 3 * 1024 * MI)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"task": {"spark": {"args": []}}}, "exactly one of"),
        ({"task": {"spark": {"script": "a.py", "module": "m"}}}, "exactly one of"),
        (spark_spec(conf={"spark.master": "local"}), "the platform's to set"),
        (spark_spec(conf={"spark.eventLog.dir": "/tmp"}), "the platform's to set"),
        (spark_spec(conf={"hadoop.x": "1"}), "does not match"),
        (spark_spec(executor={"instances": 0}), "less than the minimum"),
        (spark_spec(executor={"memory": "lots"}), "size like"),
        (spark_spec(driver={"memory": "1M"}), "below 32M"),
        (spark_spec(parameters={"a": 1}), "go with a notebook"),
        ({**spark_spec(), "spec": {"worker": {"replicas": 2}}}, "no 'spec' roles"),
        ({"task": {"sql": {"query": "SELECT 1"}}}, "task.sql.connection"),
        ({"task": {"sql": {"query": "SELECT 1", "engine": "spark", "connection": "x"}}},
         "takes no connection"),
        ({"task": {"sql": {"query": "x", "connection": "c", "driver": {"cores": 1}}}},
         "go with engine: spark"),
        ({"task": {"sql": {"file": "../q.sql", "connection": "c"}}}, "task.sql.file"),
        ({"task": {"sql": {"query": "x", "connection": "c", "max_rows": 0}}}, "minimum"),
        ({"task": {"sql": {"query": "x", "connection": "c", "parameters": {"a-b": 1}}}},
         "does not match"),
    ],
)  # fmt: skip
def test_bad_spark_and_sql_specs_say_what_is_wrong(bad: dict[str, Any], message: str) -> None:
    bad = {"meta": {"name": "x"}, **bad}
    with pytest.raises(InvalidInput, match=message):
        specs.normalize(bad)


def test_executors_count_against_the_teams_quota() -> None:
    task = specs.normalize(spark_spec(executor={"instances": 4, "cores": 2}))["task"]["spark"]
    spark.check_quota("t", Quota(max_cpu_total=9, max_cpu_per_session=2), task)
    with pytest.raises(QuotaExceeded, match=r"4 executor\(s\) ask for 9"):
        spark.check_quota("t", Quota(max_cpu_total=8), task)
    with pytest.raises(QuotaExceeded, match="executor of team 't' may use at most 1 cores"):
        spark.check_quota("t", Quota(max_cpu_per_session=1), task)
    with pytest.raises(QuotaExceeded, match="max_memory_total"):
        spark.check_quota("t", Quota(max_memory_total=1024 * MI), task)


def _plan(spec_data: dict[str, Any], run_id: int = 12) -> Any:
    spec = specs.normalize(spec_data)
    row = Experiment(id=run_id, name="wc", team="data-science", owner="alice", spec=spec)
    return plans.build_plan(
        row,
        api_url="http://127.0.0.1:8081/services/submarine/api/v1",
        token="smr_x",
        credential_env={},
        credential_files=[],
        inputs_from=lambda ref: "",
        artifacts_dir="/runs/12/artifacts",
    )


def test_the_driver_runs_spark_submit_with_the_platforms_settings() -> None:
    plan = _plan(spark_spec(args=["--n", "2"], conf={"spark.sql.shuffle.partitions": 4}))
    assert plan.spark["name"] == "submarine-run-12"
    assert plan.spark["proxy_base"] == "/services/submarine/api/v1/experiments/12/spark/ui"
    options = spark.submit_options(
        plan.spark["task"], master="spark://127.0.0.1:7077", name=plan.spark["name"],
        event_dir="/runs/12/artifacts/spark-events", python="/py", ui_port=4050,
        proxy_base=plan.spark["proxy_base"],
    )  # fmt: skip
    argv, env = spark.driver_argv(
        plan.spark["task"], options, spark_submit="/spark/bin/spark-submit", module_runner="/m.py"
    )
    assert argv[:3] == ["/spark/bin/spark-submit", "--master", "spark://127.0.0.1:7077"]
    assert argv[-3:] == ["wc.py", "--n", "2"] and env == {}
    confs = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "--conf")
    assert confs["spark.eventLog.enabled"] == "true"
    assert confs["spark.eventLog.dir"] == "file:///runs/12/artifacts/spark-events"
    assert confs["spark.cores.max"] == "1" and confs["spark.executor.memory"] == "512m"
    assert confs["spark.ui.port"] == "4050" and confs["spark.sql.shuffle.partitions"] == "4"
    assert confs["spark.ui.proxyBase"].endswith("/experiments/12/spark/ui")
    notebook = _plan({"meta": {"name": "nb"}, "task": {"spark": {"notebook": "nb.ipynb"}}})
    argv, env = spark.driver_argv(
        notebook.spark["task"], options, spark_submit="x", module_runner="y",
        notebook_argv=notebook.spark["notebook_argv"],
    )  # fmt: skip
    assert argv[:3] == ["python", "-m", "papermill"]
    assert env["PYSPARK_SUBMIT_ARGS"].endswith("pyspark-shell")


def test_a_sql_run_plans_its_runner_with_the_task() -> None:
    plan = _plan({"meta": {"name": "q"}, "task": {"sql": {"query": "SELECT 1", "connection": "c"}},
                  "timeout": 30})  # fmt: skip
    assert plan.replicas[0].argv == ["python", "-m", sql.RUNNER_MODULE]
    task = json.loads(plan.env[sql.TASK_ENV])
    assert task["query"] == "SELECT 1" and task["timeout"] == 30 and plan.spark is None
    on_spark = {"sql": {"query": "SELECT 1", "engine": "spark"}}
    spark_sql = _plan({"meta": {"name": "q"}, "task": on_spark})
    assert spark_sql.spark["task"]["module"] == sql.SPARK_APP_MODULE


def test_spark_runs_on_kubernetes_render_valid_manifests() -> None:
    spec = specs.normalize(spark_spec(executor={"instances": 2, "cores": 1, "memory": "1Gi"}))
    base = make_plan(argv=["spark-submit"])
    plan = base.__class__(**{**base.__dict__, "spark": {
        "task": spec["task"]["spark"], "name": "submarine-run-7", "proxy_base": "/p"}})  # fmt: skip
    manifests = validate(render(plan, settings(namespace_template="submarine-{team}")))
    kinds = [x["kind"] for x in manifests]
    assert kinds[-5:] == ["ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Job"], kinds
    config = next(x for x in manifests if x["kind"] == "ConfigMap")
    executor = yaml.safe_load(config["data"]["executor.yaml"])
    validate([{**executor, "metadata": {**executor["metadata"], "name": "executor"}}])
    assert executor["metadata"]["labels"][LABEL_ROLE] == "executor"
    assert executor["spec"]["containers"][0]["resources"]["limits"]["memory"] == str(
        1024 * MI + 384 * MI
    )
    job = manifests[-1]
    pod = job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "sub-spark-7"
    container = pod["containers"][0]
    assert container["command"][:2] == ["spark-submit", "--master"]
    assert container["command"][2].startswith("k8s://https://")
    names = [e["name"] for e in container["env"]]
    assert names.index("SPARK_DRIVER_POD_NAME") < names.index("SPARK_SUBMIT_OPTS")
    for x in manifests:
        assert x["metadata"]["labels"][LABEL_TEAM] == "data-science"
        assert x["metadata"].get("namespace") in (None, "submarine-data-science")


@pytest.mark.local
def test_the_sql_runner_binds_parameters_and_writes_parquet(tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (name TEXT, n INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [("a", 1), ("b", 2), ("c", 3)])
    out = tmp_path / "artifacts"
    out.mkdir()

    def run(query: str, **task: Any) -> tuple[int, dict[str, Any]]:
        body = {"query": query, "parameters": {}, "max_rows": 100, "formats": ["parquet"], **task}
        env = {
            "SUBMARINE_ARTIFACTS_DIR": str(out),
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            sql.TASK_ENV: json.dumps(body),
            sql.URL_ENV: f"sqlite:///{db}",
        }
        done = subprocess.run(
            [sys.executable, "-m", sql.RUNNER_MODULE], env=env, cwd=tmp_path, capture_output=True
        )
        return done.returncode, json.loads((out / sql.SUMMARY).read_text())

    code, summary = run("SELECT name, n FROM t WHERE name <> :skip ORDER BY n",
                        parameters={"skip": "a' OR '1'='1"})  # fmt: skip
    assert code == 0 and summary["rows"] == 3  # the value was bound, not spliced in
    code, summary = run("SELECT name, n FROM t WHERE n >= :least", parameters={"least": 2})
    assert code == 0 and summary["rows"] == 2 and summary["columns"] == ["name", "n"]
    assert pq.read_table(out / sql.RESULT).to_pydict() == {"name": ["b", "c"], "n": [2, 3]}
    code, summary = run("SELECT * FROM t", max_rows=2)
    assert code == 1 and "more than 2 rows" in summary["error"]
    code, summary = run("SELECT * FROM missing_table")
    assert code == 1 and "no such table: missing_table" in summary["error"]


def test_a_sql_run_may_use_only_its_own_teams_connection(service: InProcessService) -> None:
    mine, theirs = service.new_team("sqlconn"), service.new_team("sqlother")
    owner, other = service.new_user("sqlowner", [mine]), service.new_user("sqlother", [theirs])
    r = service.api("POST", "credentials", "admin", json={
        "name": "warehouse", "owner_kind": "team", "owner": mine, "kind": "env",
        "target": "WAREHOUSE_URL", "value": "sqlite:////tmp/none.sqlite",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    spec = {"meta": {"name": "q", "team": theirs},
            "task": {"sql": {"query": "SELECT 1", "connection": "warehouse"}}}  # fmt: skip
    r = service.api("POST", "experiments", other, json=spec)
    assert_json_error(r, 400, f"Team '{theirs}' has no connection 'warehouse'")
    spec["meta"]["team"] = mine
    r = service.api("POST", "experiments", owner, json=spec)
    assert r.status_code == 201, r.text
    # a personal credential of the same name is not a connection
    r = service.api("POST", "credentials", other, json={"name": "warehouse", "value": "x"})
    assert r.status_code == 201, r.text
    spec["meta"]["team"] = theirs
    assert service.api("POST", "experiments", other, json=spec).status_code == 400
