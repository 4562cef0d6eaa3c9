"""The platform service under load: 16 clients for ~60 s against a real hub on SQLite.

    .venv/bin/python bench/service_load.py                        # this checkout
    .venv/bin/python bench/service_load.py --repo /work/main      # another one (before)
    .venv/bin/python bench/service_load.py --db-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/service_load.py --seconds 600          # a soak: does RSS level off?
    .venv/bin/python bench/service_load.py --kills 3              # kill -9 under load

Starts a real hub (``tests/helpers/hub.py`` of the checkout measured, its code first on the
path) and runs ``--clients`` threads for ``--seconds``, each looping over a mix of what a
team does through the proxy: reads (``me``, ``teams``, ``experiments``, a file's history
and content) and writes (a new version of a notebook, one file per client; 1 request in
5). Prints p50/p90/p99 of reads and writes, requests/s, errors, and the service
process's RSS at the start and the end (and its growth per minute over the whole run and
over its second half, which is ~0 once memory has levelled off).

``--db-url`` runs the service on a fresh database made on that server (PostgreSQL: a new
database beside the one named, dropped at the end). ``--kills N`` kills the service with
SIGKILL N times, evenly spread over the run, and prints how long the platform API took to
answer ``health`` again through the proxy after each kill (the supervisor restarts it), and
how many client requests failed in all (the clients do not retry: the CLI and SDK do).
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


def fresh_database(url: str) -> tuple[str, Any]:
    """A new empty database on ``url``'s server; returns its URL and a function to drop it."""
    if not url.startswith("postgresql"):
        return url, lambda: None
    import secrets

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_{secrets.token_hex(4)}"
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def restart_seconds(hub: Any, data_dir: Path) -> float:
    """Kill the service with SIGKILL; seconds until ``health`` answers 200 via the proxy."""
    proc = service_process(data_dir)
    killed = time.perf_counter()
    proc.kill()
    proc.wait(10)
    while True:
        try:
            if requests.get(hub.api_url("health"), timeout=5).status_code == 200:
                return time.perf_counter() - killed
        except requests.RequestException:
            pass
        time.sleep(0.05)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--db-url", default="", help="the service's database (default SQLite)")
    parser.add_argument("--kills", type=int, default=0, help="kill -9 the service N times")
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

    db_url, drop_database = fresh_database(args.db_url) if args.db_url else ("", lambda: None)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        hub = Hub(Path(tmp) / "hub")
        if db_url:
            hub.extra_env["SUBMARINE_DB_URL"] = db_url
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
            rss: list[tuple[float, int]] = []
            restarts: list[float] = []
            kill_at = [args.seconds * (k + 1) / (args.kills + 1) for k in range(args.kills)]
            while time.perf_counter() - started < args.seconds:
                time.sleep(5)
                if kill_at and time.perf_counter() - started >= kill_at[0]:
                    kill_at.pop(0)
                    restarts.append(restart_seconds(hub, hub.data_dir))
                    proc = service_process(hub.data_dir)
                    continue
                if not restarts:
                    rss.append((time.perf_counter() - started, proc.memory_info().rss))
            stop.set()
            for t in threads:
                t.join()
            took = time.perf_counter() - started
            rss_end = proc.memory_info().rss
        finally:
            hub.stop()
            drop_database()
    total = len(out["read"]) + len(out["write"])
    every = out["read"] + out["write"]
    db = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
    print(f"== bench/service_load.py: {repo} ({args.clients} clients, {took:.0f} s, {db}) ==")
    for kind, values in (("all", every), *out.items()):
        print(f"{kind:<6} n={len(values):>6}  p50 {pct(values, 50):7.1f} ms  "
              f"p90 {pct(values, 90):7.1f} ms  p99 {pct(values, 99):7.1f} ms")  # fmt: skip
    print(f"throughput {total / took:.1f} requests/s; errors {len(errors)}")
    for e in errors[:5]:
        print("  ", e)
    mb = 1024 * 1024
    if restarts:
        print(f"restarts after kill -9: {' '.join(f'{r:.1f}' for r in restarts)} s "
              f"(max {max(restarts):.1f} s)")  # fmt: skip
        return  # RSS after a restart says nothing about growth
    half = [(t, r) for t, r in rss if t >= took / 2]
    late = 0.0
    if len(half) > 1:
        late = (half[-1][1] - half[0][1]) / mb / ((half[-1][0] - half[0][0]) / 60)
    samples = " ".join(f"{r / mb:.0f}" for _, r in rss[:: max(1, len(rss) // 24)])
    print(f"service RSS start {rss_start / mb:.1f} MB, end {rss_end / mb:.1f} MB, "
          f"{(rss_end - rss_start) / mb / (took / 60):+.2f} MB/min, "
          f"second half {late:+.2f} MB/min; samples {samples}")  # fmt: skip


if __name__ == "__main__":
    main()
