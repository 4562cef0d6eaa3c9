"""Serving throughput and latency: our endpoint (through the hub's proxy, with a token, as
users reach it) against ``mlflow models serve``, for one scikit-learn model.

    pip install -e '.[bench]'          # mlflow, for this benchmark only
    python bench/serving.py [--seconds 10] [--clients 16] [--rounds 3]

The model is a scikit-learn pipeline (StandardScaler + LogisticRegression) trained on the
breast-cancer data set (30 features). It is registered in a real hub's model registry and
served by an endpoint (``http://hub/services/endpoint-.../predict``: the proxy, the
endpoint's token check, the model), and saved as an MLflow model served by
``mlflow models serve --env-manager local`` (one uvicorn worker, mlflow's default, as our
endpoint is one process) on 127.0.0.1, reached directly.

A load generator process (asyncio + aiohttp, keep-alive connections) runs ``--clients``
concurrent clients, each sending one-row predictions back to back, for ``--seconds``
after a warm-up; the servers take turns, ``--rounds`` times. Printed: requests per
second and latency percentiles of each round, the median round of each, and the ratios.
Targets (issue 7): throughput ours / mlflow >= 1.5, p99 ours / mlflow <= 1.0.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import joblib
import requests
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from submarine_hub.client import SubmarineClient
from tests.helpers.hub import Hub, free_port

LOADGEN = textwrap.dedent(
    """
    import asyncio, json, sys, time
    import aiohttp

    url, token, body, clients, warmup, seconds = sys.argv[1:7]
    clients, warmup, seconds = int(clients), float(warmup), float(seconds)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "token " + token

    async def client(session, start, stop, latencies, errors):
        while True:
            t0 = time.perf_counter()
            if t0 >= stop:
                return
            try:
                async with session.post(url, data=body, headers=headers) as r:
                    await r.read()
                    ok = r.status == 200
            except aiohttp.ClientError:
                ok = False
            t1 = time.perf_counter()
            if t0 >= start:
                if ok:
                    latencies.append(t1 - t0)
                else:
                    errors.append(1)

    async def main():
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(connector=connector) as session:
            start = time.perf_counter() + warmup
            stop = start + seconds
            latencies, errors = [], []
            await asyncio.gather(
                *(client(session, start, stop, latencies, errors) for _ in range(clients))
            )
        latencies.sort()
        def pct(q):
            return 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))]
        print(json.dumps({
            "rps": len(latencies) / seconds, "requests": len(latencies), "errors": len(errors),
            "p50_ms": pct(0.5), "p90_ms": pct(0.9), "p99_ms": pct(0.99),
        }))

    asyncio.run(main())
    """
)


def load(url: str, token: str, body: str, clients: int, warmup: float, seconds: float) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", LOADGEN, url, token, body, str(clients), str(warmup), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
        timeout=warmup + seconds + 120,
    )
    return json.loads(out.stdout)


def train() -> Any:
    X, y = load_breast_cancer(return_X_y=True)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y), X


def start_mlflow(model: Any, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    import mlflow.sklearn

    path = folder / "mlflow-model"
    mlflow.sklearn.save_model(model, str(path))
    port = free_port()
    mlflow_cli = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
    log = open(folder / "mlflow-serve.log", "wb")
    proc = subprocess.Popen(
        [mlflow_cli, "models", "serve", "-m", str(path), "--env-manager", "local",
         "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "MLFLOW_TRACKING_URI": f"file://{folder / 'mlruns'}",
        },
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((folder / "mlflow-serve.log").read_text()[-3000:])
        try:
            if requests.get(base + "/ping", timeout=2).status_code == 200:
                return proc, base + "/invocations"
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise RuntimeError("mlflow models serve did not come up")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--no-batching", action="store_true", help="Serve without joining concurrent requests."
    )
    args = ap.parse_args()

    model, X = train()
    body = json.dumps({"inputs": [X[0].tolist()]})
    work = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    hub = Hub(data_dir=work / "hub")
    mlflow_proc = None
    client: Any = None
    try:
        hub.start()
        token = hub.token_for("alice")
        client = SubmarineClient(hub.api_url().rstrip("/"), token)
        joblib.dump(model, work / "model.joblib")
        client.register_model("data-science/cancer", [work / "model.joblib"], framework="sklearn")
        client.set_alias("data-science/cancer", "production", 1)
        client.create_endpoint(
            "cancer", "cancer", "production", team="data-science", batching=not args.no_batching
        )
        ep = client.wait_endpoint("data-science/cancer")
        assert ep["status"] == "ready", ep
        ours_url = ep["predict_url"]
        ours = requests.post(ours_url, data=body, headers={"Authorization": f"token {token}"})
        assert ours.status_code == 200, ours.text
        mlflow_proc, mlflow_url = start_mlflow(model, work)
        check = requests.post(mlflow_url, data=body, headers={"Content-Type": "application/json"})
        assert check.status_code == 200, check.text
        print(f"ours:   {ours_url} -> {ours.text}")
        print(f"mlflow: {mlflow_url} -> {check.text}")
        print(
            f"{args.clients} clients, {args.seconds:g} s per round after {args.warmup:g} s "
            f"warm-up, {args.rounds} rounds, {os.cpu_count()} CPU(s), batching "
            f"{'off' if args.no_batching else 'on'}\n"
        )
        results: dict[str, list[dict]] = {"ours": [], "mlflow": []}
        print(f"{'round':<7}{'server':<8}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
              f"{'errors':>8}")  # fmt: skip
        for i in range(args.rounds):
            for name, url, tok in (("ours", ours_url, token), ("mlflow", mlflow_url, "")):
                r = load(url, tok, body, args.clients, args.warmup, args.seconds)
                results[name].append(r)
                print(
                    f"{i + 1:<7}{name:<8}{r['rps']:>9.0f}{r['p50_ms']:>9.2f}{r['p90_ms']:>9.2f}"
                    f"{r['p99_ms']:>9.2f}{r['errors']:>8}"
                )
        med = {
            name: {
                k: statistics.median(r[k] for r in rounds)
                for k in ("rps", "p50_ms", "p90_ms", "p99_ms")
            }
            for name, rounds in results.items()
        }
        print("\nmedian of rounds")
        for name, m in med.items():
            print(
                f"  {name:<7} {m['rps']:>7.0f} req/s   p50 {m['p50_ms']:.2f} ms   "
                f"p99 {m['p99_ms']:.2f} ms"
            )
        rps_ratio = med["ours"]["rps"] / med["mlflow"]["rps"]
        p99_ratio = med["ours"]["p99_ms"] / med["mlflow"]["p99_ms"]
        print(
            f"\nthroughput ours/mlflow: {rps_ratio:.2f}x (target >= 1.5)   "
            f"p99 ours/mlflow: {p99_ratio:.2f} (target <= 1.0)"
        )
        errors = sum(r["errors"] for rounds in results.values() for r in rounds)
        if errors:
            print(f"errors: {errors}")
        stats = client.get_endpoint("data-science/cancer").get("stats") or {}
        total = stats.get("total") or {}
        print(
            f"endpoint's own view: {total.get('requests')} requests, p50 "
            f"{total.get('p50_ms')} ms, p99 {total.get('p99_ms')} ms (in-process, no proxy)"
        )
    finally:
        try:  # endpoint processes outlive the hub: stop ours
            client.stop_endpoint("data-science/cancer")
        except Exception:
            pass
        if mlflow_proc is not None and mlflow_proc.poll() is None:
            os.killpg(mlflow_proc.pid, signal.SIGTERM)
            mlflow_proc.wait(30)
        hub.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
