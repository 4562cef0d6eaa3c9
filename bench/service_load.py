"""The platform service under load: 16 clients for ~60 s against a real hub on SQLite.

    .venv/bin/python bench/service_load.py                        # this checkout
    .venv/bin/python bench/service_load.py --repo /work/main      # another one (before)

Starts a real hub (``tests/helpers/hub.py`` of the checkout measured, its code first on the
path) and runs ``--clients`` threads for ``--seconds``, each looping over a mix of what a
team does through the proxy: reads (``me``, ``teams``, ``experiments``, a file's history
and content) and writes (a new version of a notebook, one file per client; 1 request in
5). Prints p50/p90/p99 of reads and writes, requests/s, errors, and the service
process's RSS at the start and the end (and its growth per minute).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import requests


def service_process(data_dir: Path) -> psutil.Process:
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or ())
        if "submarine_hub.service" in cmd and "supervisor" not in cmd and str(data_dir) in cmd:
            return proc
    raise RuntimeError("the service is not running")


def notebook(i: int) -> dict[str, Any]:
    return {
        "cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "source": f"x = {i}",
                   "outputs": [], "execution_count": None}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip


def client(
    hub: Any, user: str, n: int, stop: threading.Event, out: dict[str, list[float]], errors: list
) -> None:
    http = requests.Session()
    http.headers["Authorization"] = f"token {hub.token_for(user)}"
    base = hub.api_url("")
    path = f"load-{n}.ipynb"
    i = 0
    while not stop.is_set():
        i += 1
        if i % 5 == 4:
            kind, method, url = "write", "POST", "files/versions"
            body = {"space": f"user:{user}", "path": path, "content": notebook(i)}
            kw: dict[str, Any] = {"json": {**body, "format": "notebook"}}
        else:
            kind, method = "read", "GET"
            url = (
                "me",
                "teams",
                "experiments?limit=20",
                f"files/versions?space=user:{user}&path={path}",
                f"files/content?space=user:{user}&path={path}",
            )[i % 5]
            kw = {}
        start = time.perf_counter()
        try:
            r = http.request(method, base + url, timeout=60, **kw)
            ok = r.status_code < 500 and not (kind == "write" and r.status_code != 201)
            if i > 5 and not ok and r.status_code != 404:
                errors.append(f"{method} {url}: {r.status_code} {r.text[:100]}")
        except requests.RequestException as e:
            errors.append(f"{method} {url}: {e}")
        out[kind].append(time.perf_counter() - start)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    repo = Path(args.repo).resolve()
    sys.path.insert(0, str(repo))
    os.environ["PYTHONPATH"] = os.pathsep.join([str(repo), str(repo / "spawner")])
    Hub = importlib.import_module("tests.helpers.hub").Hub
    get = requests.get

    def patient_get(*a: Any, **kw: Any) -> Any:  # older harnesses gave up on a slow answer
        try:
            return get(*a, **kw)
        except requests.Timeout:
            return requests.Response()

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        hub = Hub(Path(tmp) / "hub")
        requests.get = patient_get  # type: ignore[assignment]
        try:
            hub.start(timeout=300)
        finally:
            requests.get = get  # type: ignore[assignment]
        try:
            users = ["alice", "bob"]
            for u in users:
                hub.token_for(u)
            proc = service_process(hub.data_dir)
            out: dict[str, list[float]] = {"read": [], "write": []}
            errors: list[str] = []
            stop = threading.Event()
            threads = [
                threading.Thread(target=client, args=(hub, users[n % 2], n, stop, out, errors))
                for n in range(args.clients)
            ]
            rss_start = proc.memory_info().rss
            started = time.perf_counter()
            for t in threads:
                t.start()
            rss = []
            while time.perf_counter() - started < args.seconds:
                time.sleep(5)
                rss.append(proc.memory_info().rss)
            stop.set()
            for t in threads:
                t.join()
            took = time.perf_counter() - started
            rss_end = proc.memory_info().rss
        finally:
            hub.stop()
    total = len(out["read"]) + len(out["write"])
    every = out["read"] + out["write"]
    print(f"== bench/service_load.py: {repo} ({args.clients} clients, {took:.0f} s, SQLite) ==")
    for kind, values in (("all", every), *out.items()):
        print(f"{kind:<6} n={len(values):>6}  p50 {pct(values, 50):7.1f} ms  "
              f"p90 {pct(values, 90):7.1f} ms  p99 {pct(values, 99):7.1f} ms")  # fmt: skip
    print(f"throughput {total / took:.1f} requests/s; errors {len(errors)}")
    for e in errors[:5]:
        print("  ", e)
    mb = 1024 * 1024
    print(f"service RSS start {rss_start / mb:.1f} MB, end {rss_end / mb:.1f} MB, "
          f"{(rss_end - rss_start) / mb / (took / 60):+.2f} MB/min; "
          f"samples {' '.join(f'{r / mb:.0f}' for r in rss)}")  # fmt: skip


if __name__ == "__main__":
    main()
