"""``python -m submarine_hub.client.fanout``: the parent run of a notebook fan-out.

The platform created the child runs (one per parameter set) with this run as their
parent; this process waits for them, prints their progress, writes ``summary.json``
(each child's parameters, status and metrics; min/max/mean of every metric) to the
run's artifacts, prints each child's parameters and metrics, logs
``children_succeeded`` and ``children_failed``, and fails unless every child succeeded.
Killing it kills the children still running.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from .client import SubmarineClient
from .errors import SubmarineAPIError
from .sdk_experiments import FINAL_STATES

POLL_S = 1.0


def _stop_children(client: SubmarineClient, run_id: int) -> None:
    items = client.experiments(parent=run_id, limit=500)["items"]
    for child in items:
        if child["status"] not in FINAL_STATES:
            try:
                client.kill(child["id"])
            except SubmarineAPIError:
                pass


def _assignments(params: dict[str, Any] | None) -> str:
    return " ".join(f"{k}={json.dumps(v)}" for k, v in (params or {}).items()) or "no parameters"


def main() -> int:
    run_id = int(os.environ["SUBMARINE_RUN_ID"])
    client = SubmarineClient()

    def on_term(*_: Any) -> None:
        print("stopping: killing the child runs still running", flush=True)
        _stop_children(client, run_id)
        sys.exit(143)

    signal.signal(signal.SIGTERM, on_term)
    seen: dict[int, str] = {}
    while True:
        children = client.experiments(parent=run_id, limit=500)["items"]
        for child in sorted(children, key=lambda c: c["id"]):
            if seen.get(child["id"]) != child["status"]:
                seen[child["id"]] = child["status"]
                print(f"run {child['id']} ({child['name']}): {child['status']}", flush=True)
        if children and all(c["status"] in FINAL_STATES for c in children):
            break
        time.sleep(POLL_S)
    job = client.notebook_job(run_id)
    summary = {"children": job["children"], **job["summary"]}
    artifacts = os.environ.get("SUBMARINE_ARTIFACTS_DIR")
    if artifacts:
        Path(artifacts, "summary.json").write_text(json.dumps(summary, indent=2))
    counts = summary["by_status"]
    ok = counts.get("succeeded", 0)
    failed = summary["total"] - ok
    client.log_metrics(
        run_id,
        [
            {"key": "children_succeeded", "value": ok},
            {"key": "children_failed", "value": failed},
        ],
    )
    for child in job["children"]:
        metrics = " ".join(f"{k}={v:g}" for k, v in sorted(child["metrics"].items()))
        print(
            f"run {child['id']} {child['status']}: {_assignments(child['parameters'])}"
            + (f" -> {metrics}" if metrics else ""),
            flush=True,
        )
    for key, stats in summary["metrics"].items():
        print(
            f"{key}: min {stats['min']:g} (run {stats['min_run']}, "
            f"{_assignments(stats.get('min_parameters'))}), max {stats['max']:g} "
            f"(run {stats['max_run']}, {_assignments(stats.get('max_parameters'))}), "
            f"mean {stats['mean']:g}",
            flush=True,
        )
    print(f"{ok} of {summary['total']} child runs succeeded", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
