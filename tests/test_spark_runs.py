"""Spark runs through the real hub, on the standalone cluster the local backend starts
(one master, two workers, from PySpark's own distribution and the system's Java): a word
count with its event log kept, a kill that leaves no executor behind, Spark SQL.

The cluster is started by the first Spark run of the session and stopped when this
module ends (the backend leaves it running, as it leaves runs running, across service
restarts)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from submarine_hub.backends.local.spark_cluster import SparkCluster, spark_home

from .helpers.api import submit, wait, wait_for
from .helpers.archives import tar_gz
from .helpers.hub import Hub

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
SMALL = {"cores": 1, "memory": "512Mi"}

WORDCOUNT = b"""
import json, os, sys
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
lines = ["the quick brown fox", "jumps over the lazy dog", "the end"] * 100
counts = dict(
    spark.sparkContext.parallelize(lines, 4)
    .flatMap(str.split)
    .map(lambda w: (w, 1))
    .reduceByKey(lambda a, b: a + b)
    .collect()
)
out = os.path.join(os.environ["SUBMARINE_ARTIFACTS_DIR"], "counts.json")
with open(out, "w") as f:
    json.dump({"counts": counts, "args": sys.argv[1:]}, f)
print("words:", sum(counts.values()))
spark.stop()
"""

FOREVER = b"""
import time
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
spark.sparkContext.parallelize(range(2), 2).map(lambda x: time.sleep(3600)).collect()
"""


def cluster_of(hub: Hub) -> SparkCluster:
    return SparkCluster(hub.data_dir / "runs" / ".spark")


@pytest.fixture(scope="module")
def spark_hub(hub: Hub) -> Iterator[Hub]:
    """The hub, skipping without Java or PySpark; the cluster stopped afterwards."""
    try:
        spark_home()
    except RuntimeError as e:
        pytest.skip(str(e))
    if not any(Path(p, "java").exists() for p in os.environ.get("PATH", "").split(":")):
        pytest.skip("no java on PATH: scripts/bootstrap installs openjdk-17-jre-headless")
    try:
        yield hub
    finally:
        cluster_of(hub).stop()


def upload(hub: Hub, files: dict[str, bytes]) -> str:
    r = hub.api("POST", "uploads", user="alice", data=tar_gz(files))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def spark_spec(name: str, script: str, upload_id: str, **task: object) -> dict[str, object]:
    return {
        "meta": {"name": name, "team": "data-science"},
        "task": {
            "spark": {
                "script": script,
                "driver": SMALL,
                "executor": {"instances": 2, **SMALL},
                "conf": {"spark.sql.shuffle.partitions": 2},
                **task,
            }
        },
        "code": {"upload": upload_id},
        "timeout": 600,
    }


def log_of(hub: Hub, run_id: int) -> str:
    return str(hub.api("GET", f"experiments/{run_id}/logs", user="alice").text)


def test_a_pyspark_word_count_runs_on_the_platforms_cluster(spark_hub: Hub) -> None:
    hub = spark_hub
    code = upload(hub, {"wc.py": WORDCOUNT})
    run = submit(hub, "alice", spark_spec("wordcount", "wc.py", code, args=["--x", "1"]))
    done = wait(hub, "alice", run["id"], timeout=420)
    assert done["status"] == "succeeded", (done["reason"], log_of(hub, run["id"])[-3000:])
    assert done["kind"] == "spark"
    counts = hub.api(
        "GET", f"experiments/{run['id']}/artifacts?path=counts.json", user="alice"
    ).json()
    assert counts["counts"]["the"] == 300 and counts["counts"]["fox"] == 100
    assert counts["args"] == ["--x", "1"]
    # it ran on the cluster's two workers, not in the driver
    cluster = cluster_of(hub).status()
    assert sum(w["state"] == "ALIVE" for w in cluster["workers"]) == 2
    finished = [a for a in cluster["completedapps"] if a["name"] == f"submarine-run-{run['id']}"]
    assert finished and finished[0]["state"] == "FINISHED", cluster["completedapps"]
    # the event log is one of the run's artifacts, complete (the history server replays it)
    items = hub.api("GET", f"experiments/{run['id']}/artifacts", user="alice").json()["items"]
    events = [i["path"] for i in items if i["path"].startswith("spark-events/")]
    assert events, items
    text = b"".join(
        hub.api("GET", f"experiments/{run['id']}/artifacts?path={p}", user="alice").content
        for p in events
    )
    assert b'"Event":"SparkListenerApplicationEnd"' in text  # (zstd frames, each whole)
    ran_on = [w["id"] for w in cluster["workers"] if finished_executors(w, finished[0]["id"])]
    assert len(ran_on) == 2, cluster["workers"]  # an executor on each worker
    assert "words: 1100" in log_of(hub, run["id"])
    # another team sees none of it
    assert hub.api("GET", f"experiments/{run['id']}/spark", user="carol").status_code == 404
    # once it ended there is no live UI to relay
    app = hub.api("GET", f"experiments/{run['id']}/spark", user="bob").json()
    assert app["running"] is False and app["ui"] is None and app["executors"] == 0


def finished_executors(worker: dict[str, Any], app_id: str) -> list[dict[str, Any]]:
    data = httpx.get(f"{worker['webuiaddress']}/json/", timeout=10).json()
    return [e for e in data.get("finishedexecutors", []) if e.get("appid") == app_id]


def ui_page(hub: Hub, rid: int, user: str) -> Any:
    """The Spark UI's jobs page through the hub, once the UI has started."""
    page = hub.api("GET", f"experiments/{rid}/spark/ui/jobs/", user=user)
    return page if page.status_code == 200 and "Spark Jobs" in page.text else None


def executor_processes(app_id: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "CoarseGrainedExecutorBackend" in cmd and app_id in cmd:
            found.append(proc)
    return found


def test_killing_a_spark_run_stops_its_application_and_executors(spark_hub: Hub) -> None:
    hub = spark_hub
    code = upload(hub, {"forever.py": FOREVER})
    run = submit(hub, "alice", spark_spec("forever", "forever.py", code))
    rid = run["id"]

    def running() -> dict[str, object] | None:
        r = hub.api("GET", f"experiments/{rid}/spark", user="alice")
        app = r.json() if r.status_code == 200 else {}
        return app if app.get("running") and app.get("executors") == 2 else None

    try:
        app = wait_for(running, 300, "the Spark application with its two executors")
        app_id = str(app["app_id"])
        assert app["cores"] == 2 and app["ui"] == f"experiments/{rid}/spark/ui/"
        assert len(executor_processes(app_id)) == 2
        # the live UI, through the hub, for the team only (it says "starting up" at first)
        page = wait_for(lambda: ui_page(hub, rid, "bob"), 60, "the driver's UI via the hub")
        assert "Spark Jobs" in page.text
        ui = hub.api("GET", f"experiments/{rid}/spark/ui/jobs/", user="carol")
        assert ui.status_code == 404
    finally:  # killed even when a check failed: its executors hold the cluster's cores
        assert hub.api("POST", f"experiments/{rid}/kill", user="alice").status_code == 202
    done = wait(hub, "alice", rid, timeout=120)
    assert done["status"] == "killed", done
    cluster = cluster_of(hub)
    wait_for(lambda: not cluster.applications(f"submarine-run-{rid}"), 60, "the app to end")
    wait_for(lambda: not cluster.executors(app_id), 60, "the workers to drop its executors")
    wait_for(lambda: not executor_processes(app_id), 60, "its executor processes to exit")


def test_spark_sql_runs_on_the_cluster_with_bound_parameters(spark_hub: Hub) -> None:
    import pyarrow.parquet as pq

    hub = spark_hub
    spec = {
        "meta": {"name": "spark-sql", "team": "data-science"},
        "task": {
            "sql": {
                "engine": "spark",
                "query": "SELECT id, id * :factor AS scaled FROM range(10) WHERE id < :below",
                "parameters": {"factor": 3, "below": 4},
                "driver": SMALL,
                "executor": {"instances": 1, **SMALL},
            }
        },
        "timeout": 600,
    }
    run = submit(hub, "alice", spec)
    done = wait(hub, "alice", run["id"], timeout=420)
    assert done["status"] == "succeeded", (done["reason"], log_of(hub, run["id"])[-3000:])
    assert done["params"]["sql.rows"] == "4"
    assert json.loads(done["params"]["sql.schema"]) == {"id": "int64", "scaled": "int64"}
    data = hub.api(
        "GET", f"experiments/{run['id']}/artifacts?path=result.parquet", user="alice"
    ).content
    table = pq.read_table(io.BytesIO(data))
    assert table.to_pydict() == {"id": [0, 1, 2, 3], "scaled": [0, 3, 6, 9]}
