"""The MLflow-compatible API against MLflow's own tracking server, in one run.

    python bench/mlflow_api.py [--points 100000] [--runs 10000] [--repeats 21]

Both sides are driven by the same ``MlflowClient``. Ours: a real hub (the platform
service on its SQLite metastore), reached through the hub's proxy at
``/services/submarine/mlflow/data-science`` with alice's token. MLflow: ``mlflow server``
with a SQLite backend store, on the same machine.

(a) ``--points`` metric points sent by ``MlflowClient.log_batch``, 1,000 per call, to one
run of each side, the calls alternating between the sides (both meet the same load of a
shared machine); points/s of each and the ratio ours / MLflow (target >= 2x). Every
point is checked stored on our side.

(b) ``search_runs`` over ``--runs`` runs of one experiment (each with metric ``acc`` and
param ``model``) with the filter ``metrics.acc > 0.9`` (10% of the runs match, all
returned in one page) ordered by ``metrics.acc DESC``; the runs are written straight
into each side's database (seeding 10,000 runs through either API would take minutes),
then each side answers ``--repeats`` searches, alternating; median latencies and the
ratio ours / MLflow (target <= 0.5).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from tests.helpers.hub import Hub, free_port

FILTER = "metrics.acc > 0.9"
ORDER = ["metrics.acc DESC"]


def start_mlflow(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1",
            "--port", str(port), "--backend-store-uri", f"sqlite:///{folder}/mlflow.db",
            "--default-artifact-root", f"{folder}/artifacts", "--workers", "1",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if requests.get(f"{url}/health", timeout=5).ok:
                return server, url
        except requests.RequestException:  # not up yet, or slow on a busy machine
            pass
        assert time.monotonic() < deadline, "mlflow server did not start"
        time.sleep(0.5)


def log_batch_seconds(clients: list[object], points: int) -> tuple[list[float], list[str]]:
    """Seconds each client took to send ``points`` by ``log_batch`` (1,000 per call), the
    calls alternating between the clients so that both meet the same machine load."""
    from mlflow.entities import Metric

    runs = []
    for client in clients:
        exp = client.create_experiment(f"bench-log-{uuid.uuid4().hex[:6]}")  # type: ignore[attr-defined]
        runs.append(client.create_run(exp).info.run_id)  # type: ignore[attr-defined]
    now = int(time.time() * 1000)
    seconds = [0.0 for _ in clients]
    for first in range(0, points, 1000):
        batch = [
            Metric("loss", 1.0 / (i + 1), now, i) for i in range(first, min(points, first + 1000))
        ]
        for n, (client, run) in enumerate(zip(clients, runs, strict=True)):
            start = time.perf_counter()
            client.log_batch(run, metrics=batch)  # type: ignore[attr-defined]
            seconds[n] += time.perf_counter() - start
    return seconds, runs


def seed_ours(db: Path, experiment_id: int, runs: int, team: str, owner: str) -> None:
    """``runs`` finished runs in MLflow experiment ``experiment_id`` of ``team``, straight
    into the platform's metastore (what runs/create + log-batch would have written)."""
    from datetime import datetime, timezone

    from sqlalchemy import create_engine, insert, select

    from submarine_hub.store.mlflow_tables import MlflowRun
    from submarine_hub.store.models import Experiment, LatestMetric, Metric, Param

    engine = create_engine(f"sqlite:///{db}", connect_args={"timeout": 60})
    now = datetime.now(timezone.utc)
    tag = uuid.uuid4().hex[:8]
    spec = {"meta": {"name": "bench", "team": team, "tags": []}, "task": {"command": ["x"]}}
    with engine.begin() as conn:
        conn.execute(
            insert(Experiment),
            [
                {"name": f"s{tag}-{i}", "team": team, "owner": owner, "kind": "interactive",
                 "status": "succeeded", "reason": "", "spec": spec, "backend": "session",
                 "kill_requested": False, "created_at": now, "started_at": now,
                 "finished_at": now, "placement": {"client": "mlflow"}}
                for i in range(runs)
            ],
        )  # fmt: skip
        ids = list(conn.scalars(select(Experiment.id).where(Experiment.name.like(f"s{tag}-%"))))
        ts = time.time()
        conn.execute(
            insert(MlflowRun),
            [{"run_id": r, "mlflow_experiment_id": experiment_id, "lifecycle_stage": "active"}
             for r in ids],
        )  # fmt: skip
        values = {r: (i % 1000) / 1000 for i, r in enumerate(ids)}
        points = [{"experiment_id": r, "key": "acc", "value": v, "step": 0, "timestamp": ts}
                  for r, v in values.items()]  # fmt: skip
        conn.execute(insert(Metric), points)
        conn.execute(insert(LatestMetric), points)
        conn.execute(
            insert(Param),
            [{"experiment_id": r, "key": "model", "value": "rf" if r % 2 else "lr"} for r in ids],
        )
    engine.dispose()


def seed_mlflow(db: Path, experiment_id: str, runs: int) -> None:
    """The same runs, straight into MLflow's SQLite store."""
    now = int(time.time() * 1000)
    rows, metrics, params, tags = [], [], [], []
    for i in range(runs):
        rid = uuid.uuid4().hex
        rows.append((rid, f"s-{i}", "UNKNOWN", "", "", "alice", "FINISHED", now, now, "",
                     "active", f"mlflow-artifacts:/{experiment_id}/{rid}/artifacts",
                     int(experiment_id)))  # fmt: skip
        metrics.append(("acc", (i % 1000) / 1000, now, 0, 0, rid))
        params.append(("model", "rf" if i % 2 else "lr", rid))
        tags.append(("mlflow.runName", f"s-{i}", rid))
    conn = sqlite3.connect(db, timeout=60)
    with conn:
        conn.executemany(
            "insert into runs (run_uuid, name, source_type, source_name, entry_point_name, "
            "user_id, status, start_time, end_time, source_version, lifecycle_stage, "
            "artifact_uri, experiment_id) values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.executemany(
            "insert into latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "values (?,?,?,?,?,?)",
            metrics,
        )
        conn.executemany(
            "insert into metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "values (?,?,?,?,?,?)",
            metrics,
        )
        conn.executemany("insert into params (key, value, run_uuid) values (?,?,?)", params)
        conn.executemany("insert into tags (key, value, run_uuid) values (?,?,?)", tags)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    from mlflow import MlflowClient

    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp, "hub"))
        hub.start()
        server, mlflow_url = start_mlflow(Path(tmp))
        try:
            os.environ["MLFLOW_TRACKING_TOKEN"] = hub.token_for("alice")
            ours_url = f"{hub.url}/services/submarine/mlflow/data-science"
            ours, theirs = MlflowClient(ours_url), MlflowClient(mlflow_url)

            # (a) log_batch throughput
            (ours_s, theirs_s), (run, _) = log_batch_seconds([ours, theirs], args.points)
            stored = hub.api(
                "GET", f"experiments/{run}/metrics?key=loss&max_points=1", user="alice"
            ).json()["points"]
            assert stored[-1]["step"] == args.points - 1, "not every point was stored"
            ours_rate, theirs_rate = args.points / ours_s, args.points / theirs_s
            print(f"(a) {args.points:,} metric points by MlflowClient.log_batch (1,000 per call):")
            print(f"  ours (through the hub):  {ours_s:6.2f} s  {ours_rate:>10,.0f} points/s")
            print(f"  mlflow server (SQLite):  {theirs_s:6.2f} s  {theirs_rate:>10,.0f} points/s")
            print(f"  ratio ours / mlflow: {ours_rate / theirs_rate:.2f}x (target >= 2x)")

            # (b) search_runs with a metric filter over --runs runs
            ours_exp = ours.create_experiment("bench-search")
            theirs_exp = theirs.create_experiment("bench-search")
            seed_ours(hub.data_dir / "submarine.sqlite", int(ours_exp), args.runs,
                      "data-science", "alice")  # fmt: skip
            seed_mlflow(Path(tmp, "mlflow.db"), theirs_exp, args.runs)
            expect = sum(1 for i in range(args.runs) if (i % 1000) / 1000 > 0.9)
            times: dict[str, list[float]] = {"ours": [], "mlflow": []}
            for n in range(args.repeats + 1):
                for name, client, exp in (("ours", ours, ours_exp), ("mlflow", theirs, theirs_exp)):
                    start = time.perf_counter()
                    found = client.search_runs([exp], FILTER, order_by=ORDER, max_results=expect)
                    took = time.perf_counter() - start
                    assert len(found) == expect, (name, len(found), expect)
                    assert found[0].data.metrics["acc"] == 0.999, name
                    if n:  # the first of each warms caches
                        times[name].append(took)
            ours_ms = statistics.median(times["ours"]) * 1000
            theirs_ms = statistics.median(times["mlflow"]) * 1000
            print(f"(b) search_runs over {args.runs:,} runs, filter {FILTER!r}, order {ORDER},"
                  f" {expect:,} runs returned, median of {args.repeats}:")  # fmt: skip
            print(f"  ours (through the hub):  {ours_ms:8.1f} ms")
            print(f"  mlflow server (SQLite):  {theirs_ms:8.1f} ms")
            print(f"  ratio ours / mlflow: {ours_ms / theirs_ms:.2f} (target <= 0.5)")
        finally:
            os.killpg(server.pid, 15)
            server.wait(30)
            hub.stop()


if __name__ == "__main__":
    main()
