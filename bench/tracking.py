"""Metric logging throughput: our SDK against MLflow's tracking server, in one run.

    python bench/tracking.py [--points 100000]

Ours: one process logs ``--points`` points with ``submarine_hub.log_metric`` (buffered,
sent in batches by a background thread) to a real hub's platform service (SQLite
metastore), through the hub's proxy; timed until every point is stored (the final flush
returned). MLflow: ``mlflow server`` with a SQLite backend store, the same points sent by
``MlflowClient.log_batch`` (1,000 metrics per call, MLflow's limit), and a sample of
single ``log_metric`` calls. Target (issue 7): ours >= 10x MLflow's batch rate.
Needs the ``bench`` extra (``pip install -e '.[bench]'``) for mlflow.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from tests.helpers.hub import Hub, free_port

OURS = """
import sys, time, submarine_hub as s
n = int(sys.argv[1])
s.start_run("bench-tracking", team="data-science")
start = time.perf_counter()
for i in range(n):
    s.log_metric("loss", 1.0 / (i + 1), step=i)
assert s.flush()
print(time.perf_counter() - start)
"""


def ours(points: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp, "hub"))
        hub.start()
        try:
            env = {
                **os.environ,
                "SUBMARINE_API_URL": hub.api_url().rstrip("/"),
                "SUBMARINE_TOKEN": hub.token_for("alice"),
            }
            env.pop("SUBMARINE_RUN_ID", None)
            out = subprocess.run(
                [sys.executable, "-c", OURS, str(points)],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            seconds = float(out.stdout.strip().splitlines()[-1])
            runs = hub.api("GET", "experiments?owner=alice&limit=1", user="alice").json()["items"]
            stored = hub.api(
                "GET", f"experiments/{runs[0]['id']}/metrics?key=loss&max_points=1", user="alice"
            ).json()["points"]
            assert stored[-1]["step"] == points - 1, "not every point was stored"
            return seconds
        finally:
            hub.stop()


def mlflow_rates(points: int, singles: int) -> tuple[float, float]:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1",
                "--port", str(port), "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db",
                "--default-artifact-root", f"{tmp}/artifacts", "--workers", "1",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if requests.get(f"{url}/health", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    pass
                assert time.monotonic() < deadline, "mlflow server did not start"
                time.sleep(0.5)
            client = MlflowClient(url)
            exp = client.create_experiment("bench")
            run = client.create_run(exp).info.run_id
            now = int(time.time() * 1000)
            start = time.perf_counter()
            for first in range(0, points, 1000):
                batch = [
                    Metric("loss", 1.0 / (i + 1), now, i)
                    for i in range(first, min(points, first + 1000))
                ]
                client.log_batch(run, metrics=batch)
            batch_seconds = time.perf_counter() - start
            start = time.perf_counter()
            for i in range(singles):
                client.log_metric(run, "single", float(i), step=i)
            single_seconds = time.perf_counter() - start
            return points / batch_seconds, singles / single_seconds
        finally:
            os.killpg(server.pid, 15)
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=200)
    args = parser.parse_args()
    seconds = ours(args.points)
    ours_rate = args.points / seconds
    batch_rate, single_rate = mlflow_rates(args.points, args.singles)
    print(f"{args.points} metric points from one process:")
    print(f"  submarine_hub.log_metric (SDK, batched): {seconds:.2f} s, {ours_rate:,.0f} points/s")
    mlflow_seconds = args.points / batch_rate
    print(f"  MLflow, MlflowClient.log_batch: {mlflow_seconds:.2f} s, {batch_rate:,.0f} points/s")
    print(f"  MLflow, single log_metric calls: {single_rate:,.1f} points/s ({args.singles} calls)")
    print(f"  ratio vs MLflow batch: {ours_rate / batch_rate:.1f}x (target >= 10x)")
    print(f"  ratio vs MLflow single calls: {ours_rate / single_rate:,.0f}x")


if __name__ == "__main__":
    main()
