"""A hyper-parameter sweep, a thin front of a study: each trial is a child run of a
template (the study's grid or random sampler picks them); report the best.

    python -m submarine_hub.builtin.sweep --template sklearn-classifier --search grid \\
        --space '{"n_estimators": [10, 50], "max_depth": [2, 0]}' --metric accuracy

Grid search tries every combination of the listed values; random search draws
``--trials`` combinations: from a list, one of its values; from ``[low, high]`` of
numbers, a uniform value (whole if both ends are whole). Runs inside an experiment,
whose token creates a study in its team (see docs/tuning.md) whose trial runs are its
child runs; the best trial goes to ``best.json`` in the artifacts and to the metrics
``best_<metric>`` and ``best_run``. (``draw`` is the former in-process random draw.)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import sys
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


def study_space(space: dict[str, list[Any]], search: str) -> dict[str, dict[str, Any]]:
    """The sweep's ``--space`` as a study's: a list is a categorical parameter; for a
    random search, ``[low, high]`` of numbers is a range (whole if both ends are)."""
    out: dict[str, dict[str, Any]] = {}
    for name, values in space.items():
        numeric = len(values) == 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        )
        if search == "random" and numeric:
            kind = "int" if all(isinstance(v, int) for v in values) else "float"
            out[name] = {"type": kind, "low": min(values), "high": max(values)}
        else:
            out[name] = {"type": "categorical", "choices": list(values)}
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
    p.add_argument("--parallelism", type=int, default=4)
    args = p.parse_args(argv)

    from ..client.client import SubmarineClient
    from ..client.errors import SubmarineAPIError

    space = json.loads(args.space)
    if not isinstance(space, dict) or not all(isinstance(v, list) and v for v in space.values()):
        print("--space must be a JSON object of parameter: non-empty list", file=sys.stderr)
        return 2
    trials = len(grid(space)) if args.search == "grid" else args.trials
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", os.environ.get("SUBMARINE_RUN_NAME") or "sweep")
    name = name if name[:1].isalpha() else f"sweep-{name}"
    client = SubmarineClient()
    spec: dict[str, Any] = {
        "name": name[:64],
        "objective": {"metric": args.metric, "direction": args.goal},
        "space": study_space(space, args.search),
        "sampler": {"name": args.search, "seed": args.seed},
        "trials": trials,
        "parallelism": max(1, min(args.parallelism, trials)),
        "timeout": args.timeout,
        "trial": {"template": args.template, "parameters": json.loads(args.fixed)},
    }
    try:
        study = client.create_study(spec)
    except SubmarineAPIError as e:
        if e.status != 403:
            raise
        study = client.create_study({**spec, "parallelism": 1})  # the team's quota allows 1
    print(f"study {study['id']}: {trials} trial(s), {args.search} search", flush=True)
    done = client.wait_study(study["id"], timeout=args.timeout + 60)
    results = [
        {"run_id": t["run_id"], "parameters": t["params"], args.metric: t["value"]}
        for t in done["items"]
        if t["state"] == "complete"
    ]
    for t in done["items"]:
        print(f"trial {t['number']}: run {t['run_id']} {t['state']} {args.metric}={t['value']} "
              f"{json.dumps(t['params'])} {t['reason']}".rstrip(), flush=True)  # fmt: skip
    if not results:
        print(f"no trial succeeded with a {args.metric!r} metric", file=sys.stderr)
        return 1
    pick = max if args.goal == "maximize" else min
    best = pick(results, key=lambda r: r[args.metric])
    tracking.log_metrics({f"best_{args.metric}": best[args.metric], "best_run": best["run_id"]})
    tracking.log_params({"search": args.search, "trials": trials, "metric": args.metric,
                         "study": study["id"]})  # fmt: skip
    out = Path(os.environ.get("SUBMARINE_ARTIFACTS_DIR", "."))
    (out / "best.json").write_text(json.dumps({"best": best, "trials": results}, indent=2))
    print(f"best: run {best['run_id']} {args.metric}={best[args.metric]} {best['parameters']}")
    tracking.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
