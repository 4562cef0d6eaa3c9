"""Experiment throughput and search scaling on the local backend, through a real hub.

    python bench/experiments.py [--runs 1000] [--records 100000]

(a) ``--runs`` trivial runs (``true``) submitted through the REST API by as many client
threads as the backend runs at once (``max_parallel_runs``, by default twice the cores):
submit latency p50/p99 and the time until every run has succeeded, against the same
number of ``true`` commands run with plain ``subprocess`` by a thread pool of the same
size. Prints the overhead ratio (ours / subprocess).

(b) The latency of a filtered page (``team``, two statuses, 20 runs, newest first) with
``--records`` runs stored divided by the same with 100 stored (rows written straight
into the service's SQLite metastore). Target (issue 5): ratio <= 2.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests
from sqlalchemy import create_engine, func, insert, select

from submarine_hub.store.models import Experiment, ExperimentTag
from tests.helpers.hub import Hub

PARALLEL = 2 * (os.cpu_count() or 1)
PAGE = "experiments?team=data-science&status=succeeded,failed&limit=20"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def fill(db_url: str, upto: int) -> None:
    """Add finished runs until ``upto`` are stored."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        have = conn.execute(select(func.count(Experiment.id))).scalar_one()
    rng = random.Random(have)
    start = datetime.now(timezone.utc) - timedelta(days=30)
    batch = 5000
    while have < upto:
        n = min(batch, upto - have)
        rows, tags = [], []
        for i in range(have, have + n):
            status = rng.choices(["succeeded", "failed", "killed"], [80, 15, 5])[0]
            team = rng.choice(["data-science", "ml-platform", "vision", "nlp"])
            when = start + timedelta(seconds=i * 20)
            rows.append(
                {
                    "name": f"bench-{i}", "team": team, "owner": "alice", "kind": "command",
                    "status": status, "reason": "", "backend": "local", "kill_requested": False,
                    "spec": {"meta": {"name": f"bench-{i}", "team": team, "tags": ["bench"]},
                             "task": {"command": ["true"]}},
                    "created_at": when, "launched_at": when, "started_at": when,
                    "finished_at": when + timedelta(seconds=1), "exit_code": 0,
                }
            )  # fmt: skip
        with engine.begin() as conn:
            first = conn.execute(select(func.coalesce(func.max(Experiment.id), 0))).scalar_one()
            conn.execute(insert(Experiment), rows)
            tags = [{"experiment_id": first + 1 + k, "tag": "bench"} for k in range(n)]
            conn.execute(insert(ExperimentTag), tags)
        have += n
    engine.dispose()


def page_latency(hub: Hub, rounds: int = 40) -> float:
    session = requests.Session()
    session.headers["Authorization"] = f"token {hub.token_for('alice')}"
    url = hub.api_url(PAGE)
    for _ in range(5):
        session.get(url).raise_for_status()
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        r = session.get(url)
        times.append(time.perf_counter() - t)
        r.raise_for_status()
    assert len(r.json()["items"]) == 20, "the page is not full: the comparison would be unfair"
    return statistics.median(times)


def submit_all(hub: Hub, n: int) -> tuple[list[float], float]:
    token = hub.token_for("alice")
    spec = {"meta": {"name": "trivial", "team": "data-science"}, "task": {"command": ["true"]}}
    latencies: list[float] = []
    ids: list[int] = []
    lock = threading.Lock()
    local = threading.local()

    def one(_: int) -> None:
        if not hasattr(local, "s"):
            local.s = requests.Session()
            local.s.headers["Authorization"] = f"token {token}"
        t = time.perf_counter()
        r = local.s.post(hub.api_url("experiments"), json=spec)
        took = time.perf_counter() - t
        r.raise_for_status()
        with lock:
            latencies.append(took)
            ids.append(r.json()["id"])

    start = time.perf_counter()
    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(one, range(n)))
    s = requests.Session()
    s.headers["Authorization"] = f"token {token}"
    low = min(ids)
    while True:  # every one of ours has ended?
        page = s.get(
            hub.api_url("experiments?team=data-science&status=pending,running&limit=1")
        ).json()["items"]
        if not [r for r in page if r["id"] >= low]:
            break
        time.sleep(0.05)
    total = time.perf_counter() - start
    bad = s.get(hub.api_url("experiments?status=failed,killed&limit=500")).json()["items"]
    assert not [r for r in bad if r["id"] >= low], "some trivial runs failed"
    return latencies, total


def subprocess_all(n: int) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(lambda _: subprocess.run(["true"], check=True), range(n)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp, "hub"))
        hub.start()
        try:
            db = f"sqlite:///{Path(tmp, 'hub', 'submarine.sqlite')}"
            fill(db, 100)
            small = page_latency(hub)
            fill(db, args.records)
            large = page_latency(hub)
            print(f"(b) filtered page ({PAGE.split('?')[1]}):")
            print(f"    100 runs stored: {small * 1000:.2f} ms (median of 40)")
            print(f"    {args.records} runs stored: {large * 1000:.2f} ms")
            print(f"    ratio {large / small:.2f} (target <= 2)")

            latencies, ours = submit_all(hub, args.runs)
            plain = subprocess_all(args.runs)
            print(f"(a) {args.runs} trivial runs, {PARALLEL} at once:")
            print(
                f"    submit latency p50 {pct(latencies, 50) * 1000:.1f} ms, "
                f"p99 {pct(latencies, 99) * 1000:.1f} ms"
            )
            print(f"    all succeeded after {ours:.1f} s ({args.runs / ours:.1f} runs/s)")
            print(f"    plain subprocess: {plain:.2f} s ({args.runs / plain:.0f} commands/s)")
            print(f"    overhead ratio {ours / plain:.1f}")
        finally:
            hub.stop()


if __name__ == "__main__":
    main()
