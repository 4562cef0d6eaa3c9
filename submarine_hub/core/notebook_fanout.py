"""Fan-out of notebook jobs: a list (``parameter_sets``) or a grid (``grid``) of parameter
sets makes a parent run with one child run per set; the parent waits for its children
(:mod:`submarine_hub.client.fanout` is its command) and summarizes them.

Contracts: at most :data:`MAX_FANOUT` children per fan-out; each set is merged over the
request's common ``parameters``; a parent is recognised by its command and its
``parameter_sets`` (:func:`is_fanout`).
"""

from __future__ import annotations

import itertools
from typing import Any

from ..store.models import Experiment
from .errors import InvalidInput

#: The most children one fan-out may have.
MAX_FANOUT = 100
#: The command (``python -m``) of a fan-out's parent run.
FANOUT_MODULE = "submarine_hub.client.fanout"


def parameter_sets(data: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The fan-out's sets (each over the common ``parameters``), or None for one run."""
    base = data.get("parameters") or {}
    if "parameter_sets" in data:
        sets = [{**base, **s} for s in data["parameter_sets"]]
    elif "grid" in data:
        names = list(data["grid"])
        combos = list(itertools.product(*(data["grid"][n] for n in names)))
        if len(combos) > MAX_FANOUT:
            raise InvalidInput(
                f"The grid makes {len(combos)} runs; at most {MAX_FANOUT} per fan-out."
            )
        sets = [{**base, **dict(zip(names, combo, strict=True))} for combo in combos]
    else:
        return None
    return sets


def is_fanout(row: Experiment) -> bool:
    """Whether ``row`` is the parent run of a fan-out."""
    task = row.spec.get("task") or {}
    return (
        row.kind == "notebook"
        and "command" in task
        and FANOUT_MODULE in task["command"]
        and isinstance(row.parameters, dict)
        and "parameter_sets" in row.parameters
    )


def summarize(children: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by status, min/max/mean of every metric the children logged with the run
    (and its parameters) that reached the min and the max, and each child's parameters."""
    counts: dict[str, int] = {}
    for c in children:
        counts[c["status"]] = counts.get(c["status"], 0) + 1
    params_of = {c["id"]: c.get("parameters") or {} for c in children}
    stats: dict[str, dict[str, Any]] = {}
    for c in children:
        for key, value in (c.get("metrics") or {}).items():
            s = stats.setdefault(key, {"values": []})
            s["values"].append((value, c["id"]))
    metrics = {}
    for key, s in sorted(stats.items()):
        vals = s["values"]
        low, high = min(vals), max(vals)
        metrics[key] = {
            "min": low[0],
            "min_run": low[1],
            "min_parameters": params_of[low[1]],
            "max": high[0],
            "max_run": high[1],
            "max_parameters": params_of[high[1]],
            "mean": sum(v for v, _ in vals) / len(vals),
            "count": len(vals),
        }
    runs_ = [
        {"id": c["id"], "status": c["status"], "parameters": params_of[c["id"]]} for c in children
    ]
    return {"total": len(children), "by_status": counts, "metrics": metrics, "runs": runs_}
