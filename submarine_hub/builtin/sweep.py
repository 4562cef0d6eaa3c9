"""A hyper-parameter sweep: each trial is a child run of a template; report the best.

    python -m submarine_hub.builtin.sweep --template sklearn-classifier --search grid \\
        --space '{"n_estimators": [10, 50], "max_depth": [2, 0]}' --metric accuracy

Grid search tries every combination of the listed values; random search draws
``--trials`` combinations: from a list, one of its values; from ``[low, high]`` of
numbers, a uniform value (whole if both ends are whole). Runs inside an experiment,
whose token lets it submit child runs in its team; the best trial goes to
``best.json`` in the artifacts and to the metrics ``best_<metric>`` and ``best_run``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from .. import tracking


def grid(space: dict[str, list[Any]]) -> list[dict[str, Any]]:
    names = list(space)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*space.values())]


def draw(space: dict[str, list[Any]], trials: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(trials):
        point: dict[str, Any] = {}
        for name, values in space.items():
            numeric = len(values) == 2 and all(isinstance(v, int | float) for v in values)
            if numeric and all(isinstance(v, int) for v in values):
                point[name] = rng.randint(values[0], values[1])
            elif numeric:
                point[name] = rng.uniform(values[0], values[1])
            else:
                point[name] = rng.choice(values)
        out.append(point)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--template", required=True)
    p.add_argument("--search", choices=("grid", "random"), default="grid")
    p.add_argument("--space", required=True, help="JSON: parameter -> values or [low, high].")
    p.add_argument("--trials", type=int, default=4)
    p.add_argument("--metric", default="accuracy")
    p.add_argument("--goal", choices=("maximize", "minimize"), default="maximize")
    p.add_argument("--fixed", default="{}", help="JSON: parameters every trial gets.")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=3600)
    args = p.parse_args(argv)

    from ..client.client import SubmarineClient

    space = json.loads(args.space)
    if not isinstance(space, dict) or not all(isinstance(v, list) and v for v in space.values()):
        print("--space must be a JSON object of parameter: non-empty list", file=sys.stderr)
        return 2
    points = grid(space) if args.search == "grid" else draw(space, args.trials, args.seed)
    fixed = json.loads(args.fixed)
    me = int(os.environ["SUBMARINE_RUN_ID"])
    name = os.environ.get("SUBMARINE_RUN_NAME", "sweep")
    client = SubmarineClient()
    children = []
    for i, point in enumerate(points):
        run = client.run_template(
            args.template,
            {**fixed, **point},
            parent=me,
            meta={"name": f"{name}-trial-{i}", "tags": ["trial"]},
        )
        children.append((run["id"], point))
        print(f"trial {i}: run {run['id']} {json.dumps(point)}", flush=True)
    results = []
    deadline = time.monotonic() + args.timeout
    for run_id, point in children:
        run = client.wait(run_id, timeout=max(1.0, deadline - time.monotonic()))
        value = run["metrics"].get(args.metric)
        print(f"run {run_id}: {run['status']} {args.metric}={value}", flush=True)
        if run["status"] == "succeeded" and value is not None:
            results.append({"run_id": run_id, "parameters": point, args.metric: value})
    if not results:
        print(f"no trial succeeded with a {args.metric!r} metric", file=sys.stderr)
        return 1
    pick = max if args.goal == "maximize" else min
    best = pick(results, key=lambda r: r[args.metric])
    tracking.log_metrics({f"best_{args.metric}": best[args.metric], "best_run": best["run_id"]})
    tracking.log_params({"search": args.search, "trials": len(points), "metric": args.metric})
    out = Path(os.environ.get("SUBMARINE_ARTIFACTS_DIR", "."))
    (out / "best.json").write_text(json.dumps({"best": best, "trials": results}, indent=2))
    print(f"best: run {best['run_id']} {args.metric}={best[args.metric]} {best['parameters']}")
    tracking.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
