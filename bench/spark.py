"""A small PySpark job through the platform versus ``spark-submit`` by hand, same cluster.

    python bench/spark.py [--rounds 3]

Starts a real hub; a first Spark run (not timed) brings up the local backend's standalone
cluster (one master, two workers). Then, alternating, each round times:

- ours: from ``POST /experiments`` (task: spark, the job below, driver and two executors
  of 1 core / 512 MiB) until the API says the run succeeded (polled every 0.1 s);
- by hand: ``spark-submit`` of the same file with the same options against the same
  master, until it exits.

Prints each round, the medians and the ratio ours / by hand. Target (issue 16): <= 1.2.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from submarine_hub.backends.local.spark_cluster import SparkCluster, spark_home
from tests.helpers.hub import Hub

JOB = b"""
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
lines = ["the quick brown fox jumps over the lazy dog"] * 20000
counts = (
    spark.sparkContext.parallelize(lines, 4)
    .flatMap(str.split)
    .map(lambda w: (w, 1))
    .reduceByKey(lambda a, b: a + b)
    .collect()
)
print(sorted(counts)[:3])
spark.stop()
"""
SMALL = {"cores": 1, "memory": "512Mi"}


def upload(hub: Hub) -> str:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("job.py")
        info.size = len(JOB)
        tar.addfile(info, io.BytesIO(JOB))
    r = hub.api("POST", "uploads", user="alice", data=buf.getvalue())
    r.raise_for_status()
    return str(r.json()["id"])


def ours(hub: Hub, code: str) -> float:
    spec = {
        "meta": {"name": "bench-spark", "team": "data-science"},
        "task": {"spark": {"script": "job.py", "driver": SMALL,
                           "executor": {"instances": 2, **SMALL}}},
        "code": {"upload": code},
    }  # fmt: skip
    start = time.perf_counter()
    r = hub.api("POST", "experiments", user="alice", json=spec)
    r.raise_for_status()
    run_id = r.json()["id"]
    while True:
        run = hub.api("GET", f"experiments/{run_id}", user="alice").json()
        if run["status"] in ("succeeded", "failed", "killed"):
            elapsed = time.perf_counter() - start
            if run["status"] != "succeeded":
                raise SystemExit(f"run {run_id} {run['status']}: {run['reason']}")
            return elapsed
        time.sleep(0.1)


def by_hand(master: str, job: Path) -> float:
    home = spark_home()
    argv = [
        str(home / "bin" / "spark-submit"), "--master", master, "--deploy-mode", "client",
        "--conf", "spark.driver.memory=512m", "--conf", "spark.executor.instances=2",
        "--conf", "spark.executor.cores=1", "--conf", "spark.executor.memory=512m",
        "--conf", "spark.cores.max=2", "--conf", "spark.driver.host=127.0.0.1",
        "--conf", f"spark.pyspark.python={sys.executable}", str(job),
    ]  # fmt: skip
    env = {"SPARK_HOME": str(home), "PATH": "/usr/bin:/bin", "SPARK_LOCAL_IP": "127.0.0.1"}
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp, "job.py")
        job.write_bytes(JOB)
        hub = Hub(Path(tmp, "hub"))
        hub.start()
        cluster = SparkCluster(hub.data_dir / "runs" / ".spark")
        try:
            code = upload(hub)
            print(f"warm-up run (starts the cluster): {ours(hub, code):.1f} s")
            master = cluster.ensure()
            mine, hand = [], []
            for i in range(args.rounds):
                mine.append(ours(hub, code))
                hand.append(by_hand(master, job))
                print(f"round {i + 1}: platform {mine[-1]:.2f} s, spark-submit {hand[-1]:.2f} s")
            a, b = statistics.median(mine), statistics.median(hand)
            print(f"median: platform {a:.2f} s, spark-submit by hand {b:.2f} s")
            print(f"ratio platform / by hand: {a / b:.2f} (target <= 1.2)")
        finally:
            cluster.stop()
            hub.stop()
            hub.cleanup()


if __name__ == "__main__":
    main()
