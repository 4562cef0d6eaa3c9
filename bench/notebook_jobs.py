"""Notebook job latency through a real hub, against papermill's command (issue 6).

    python bench/notebook_jobs.py [--runs 20] [--papermill-runs 10] [--pool 2]

A trivial two-cell parameterized notebook (a ``parameters`` cell, then ``print``):

(a) through the platform: ``POST /notebook-jobs`` with a new ``alpha`` each time, then
``GET /experiments/{id}`` every 10 ms until it says ``succeeded`` (the executed notebook
is kept in the jobs folder by then). The local backend's warm kernel pool is on
(``--pool``); runs are a second apart, so the pool has refilled (a burst beyond the pool
size starts kernels on demand).
(b) ``papermill in.ipynb out.ipynb -p alpha X``, the same notebook, as a command.

Prints the median of each and their ratio (platform / papermill). Target: <= 0.25.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from tests.helpers.hub import Hub

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "metadata": {"tags": ["parameters"]},
            "source": "alpha = 0.5",
            "outputs": [],
            "execution_count": None,
        },
        {
            "cell_type": "code",
            "metadata": {},
            "source": "print(alpha * 2)",
            "outputs": [],
            "execution_count": None,
        },
    ],
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def platform_run(s: requests.Session, api: str, alpha: float) -> float:
    t0 = time.perf_counter()
    r = s.post(f"{api}/notebook-jobs", json={"notebook": "bench/trivial.ipynb",
                                             "parameters": {"alpha": alpha}})  # fmt: skip
    r.raise_for_status()
    run_id = r.json()["id"]
    while True:
        run = s.get(f"{api}/experiments/{run_id}").json()
        if run["status"] == "succeeded":
            return time.perf_counter() - t0
        if run["status"] in ("failed", "killed"):
            raise RuntimeError(f"run {run_id} {run['status']}: {run['reason']}")
        time.sleep(0.01)


def papermill_run(folder: Path, alpha: float) -> float:
    papermill = Path(sys.executable).with_name("papermill")
    t0 = time.perf_counter()
    subprocess.run(
        [str(papermill), str(folder / "in.ipynb"), str(folder / "out.ipynb"),
         "-p", "alpha", str(alpha), "--no-progress-bar"],
        check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--papermill-runs", type=int, default=10)
    ap.add_argument("--pool", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-nbjobs-") as tmp:
        folder = Path(tmp)
        (folder / "in.ipynb").write_text(json.dumps(NOTEBOOK))
        hub = Hub(data_dir=folder / "hub")
        hub.data_dir.mkdir()
        # the service reads submarine_config.py from its working folder (the data dir)
        (hub.data_dir / "submarine_config.py").write_text(
            f"c.LocalExperimentBackend.notebook_pool_size = {args.pool}\n"
        )
        hub.start()
        try:
            api = hub.api_url().rstrip("/")
            s = requests.Session()
            s.headers["Authorization"] = f"token {hub.token_for('alice')}"
            body = {"space": "user:alice", "path": "bench/trivial.ipynb"}
            r = s.post(f"{api}/files/versions", json={**body, "content": NOTEBOOK,
                                                      "format": "notebook"})  # fmt: skip
            r.raise_for_status()
            for i in range(3):  # warm up: the executor starts, its kernels warm
                platform_run(s, api, i)
                time.sleep(1.5)
            ours = []
            for i in range(args.runs):
                ours.append(platform_run(s, api, i / 10))
                time.sleep(1.0)
        finally:
            hub.stop()
        theirs = [papermill_run(folder, i / 10) for i in range(args.papermill_runs)]
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"cores: {os.cpu_count()}, warm kernels per environment: {args.pool}")
    print(
        f"platform, submission -> succeeded: median {a * 1000:.0f} ms "
        f"(min {min(ours) * 1000:.0f}, max {max(ours) * 1000:.0f}; {len(ours)} runs)"
    )
    print(
        f"papermill command: median {b * 1000:.0f} ms "
        f"(min {min(theirs) * 1000:.0f}, max {max(theirs) * 1000:.0f}; {len(theirs)} runs)"
    )
    verdict = "met" if a / b <= 0.25 else "NOT met"
    print(f"ratio platform / papermill: {a / b:.3f} (target <= 0.25: {verdict})")


if __name__ == "__main__":
    main()
