"""Tuning studies: sampler efficiency, pruning savings, and dispatch cost.

    python bench/studies.py [--seeds 5] [--trials 200] [--skip-platform | --only-platform]

(a) TPE vs the full grid. Gradient boosting on scikit-learn's bundled breast-cancer data
over a grid of learning rate x depth x subsample; each point's objective is the mean
3-fold CV accuracy after 8 stages of 10 trees (computed once per point, every stage
from one fit with ``staged_predict``). For each seed, the study's own TPE sampler
(``core/studies/engine.py``, ask/tell as the service runs it) walks the same discrete
space; printed: the trials it needs to come within 0.5% of the grid's best, over the grid
size. Target: <= 1/3 (the mean over seeds, and each seed).

(b) Pruner vs none. The same TPE studies, with trials reporting each stage's accuracy; a
pruned trial costs the stages it ran (trial-seconds: each point's fit time in CPU
seconds, steady on a shared machine, times the share of stages run). At an equal best:
the study without a pruner runs ``--budget`` trials (the shipped example's 30) and ends
with best B; the study with the pruner runs the same budget and, if its best is not
within 0.5% of B, goes on until it is (at most 3x the budget), paying for every extra
trial. Printed: trial-seconds with the pruner over without, per seed, their median and
the ratio of the totals over all seeds. The median pruner runs with the shipped
example's settings (``builtin/studies/gb-breast-cancer.yaml``); Hyperband for reference.
Also printed, as before: both studies run until they come within 0.5% of the grid's best
(a race to a fixed target: when TPE hits it during the pruner's start-up trials the two
studies are the same trials, a ratio of 1.00, whatever the pruner would save later).
Target: <= 0.6.

(c) Dispatch. 200 trivial trials (``-(x-1)^2``, TPE, seed 0) through a real hub: a
function study (the fast path: ``--parallelism`` worker runs that take ``--batch``
trials per call from the service, each trial its own run, created and ended by the
service), wall time from creation to the end of its last trial (polled every 0.1 s);
against the same 200 in one process with ``optuna.study.optimize``.
Also the time of one plain ``true`` run through the platform (the slow path) for
reference. Target: ratio <= 10.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from submarine_hub.core.studies import engine
from submarine_hub.core.studies import spec as specs

LEARNING_RATES = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
DEPTHS = [1, 2, 3, 4, 5]
SUBSAMPLES = [0.5, 0.75, 1.0]
STAGES, TREES = 8, 10
WITHIN = 0.005


def space() -> dict[str, Any]:
    return {
        "learning_rate": {"type": "categorical", "choices": LEARNING_RATES},
        "max_depth": {"type": "int", "low": 1, "high": 5},
        "subsample": {"type": "float", "low": 0.5, "high": 1.0, "step": 0.25},
    }


def grid_table() -> dict[tuple[float, int, float], tuple[list[float], float]]:
    """Per grid point: CV accuracy after each stage, and the seconds of the full fit."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    x, y = load_breast_cancer(return_X_y=True)
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(x, y))
    table = {}
    for lr, depth, sub in itertools.product(LEARNING_RATES, DEPTHS, SUBSAMPLES):
        per_stage = [0.0] * STAGES
        spent = 0.0
        for train, test in folds:
            model = GradientBoostingClassifier(
                learning_rate=lr, max_depth=depth, subsample=sub,
                n_estimators=STAGES * TREES, random_state=0,
            )  # fmt: skip
            t = time.process_time()  # CPU seconds: one fit uses one core
            model.fit(x[train], y[train])
            spent += time.process_time() - t
            for i, pred in enumerate(model.staged_predict(x[test])):
                if (i + 1) % TREES == 0:
                    per_stage[(i + 1) // TREES - 1] += float((pred == y[test]).mean()) / 3
        table[(lr, depth, sub)] = (per_stage, spent)
    return table


EXAMPLE = (
    Path(__file__).resolve().parents[1] / "submarine_hub/builtin/studies/gb-breast-cancer.yaml"
)


def example_pruner() -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load(EXAMPLE.read_text())["pruner"])


PRUNERS = {
    "median": example_pruner(),
    "hyperband": {"name": "hyperband", "min_resource": 1, "max_resource": STAGES,
                  "reduction_factor": 3},
}  # fmt: skip


def run_study(
    table: Any, seed: int, pruner: str, cap: int, until: float | None = None
) -> dict[str, Any]:
    """TPE (and ``pruner``) ask/tell for ``cap`` trials, or until a result >= ``until``."""
    spec = specs.normalize({
        "name": "bench", "objective": {"metric": "accuracy", "direction": "maximize"},
        "space": space(), "sampler": {"name": "tpe", "seed": seed},
        "pruner": PRUNERS.get(pruner, {"name": "none"}),
        "trials": cap, "trial": {"function": "x.y:z"},
    })  # fmt: skip
    study = engine.new_study(spec)
    seconds, found, n = 0.0, 0.0, 0
    while n < cap:
        number, p = engine.ask(study, spec)
        n += 1
        stages, spent = table[(p["learning_rate"], p["max_depth"], p["subsample"])]
        ran = STAGES
        for step, value in enumerate(stages, 1):
            if pruner != "none" and engine.report(study, number, {step: value}):
                ran = step
                break
        seconds += spent * ran / STAGES
        if ran < STAGES:
            engine.tell(study, number, "pruned")
            continue
        engine.tell(study, number, "complete", stages[-1])
        found = max(found, stages[-1])
        if until is not None and found >= until:
            break
    return {
        "trials": n,
        "seconds": seconds,
        "best": found,
        "reached": until is None or found >= until,
    }


def sampler_and_pruner(seeds: int, budget: int) -> None:
    t = time.perf_counter()
    table = grid_table()
    size = len(table)
    best = max(v[0][-1] for v in table.values())
    target = best * (1 - WITHIN)
    near = sum(1 for v in table.values() if v[0][-1] >= target)
    grid_seconds = sum(v[1] for v in table.values())
    print(
        f"grid: {size} points ({near} within 0.5% of the best), best CV accuracy {best:.4f}, "
        f"built in {time.perf_counter() - t:.1f}s ({grid_seconds:.1f} trial-seconds)"
    )
    ratios = []
    for seed in range(seeds):
        plain = run_study(table, seed, "none", size, target)
        ratios.append(plain["trials"] / size if plain["reached"] else float("inf"))
        print(f"  seed {seed}: TPE within 0.5% of the grid's best after {plain['trials']} trials "
              f"({ratios[-1]:.2f} of the grid)")  # fmt: skip
    print(
        f"(a) TPE trials to within 0.5% of the grid's best / grid size over {seeds} seeds: "
        f"mean {statistics.mean(ratios):.3f}, worst {max(ratios):.3f} (target <= 0.333)"
    )
    print(f"(b) pruners: {PRUNERS}")
    for name in PRUNERS:
        equal_b = []
        for seed in range(seeds):
            plain = run_study(table, seed, "none", budget)
            pruned = run_study(table, seed, name, budget)
            goal = plain["best"] * (1 - WITHIN)
            more = ""
            if pruned["best"] < goal:
                pruned = run_study(table, seed, name, 3 * budget, goal)
                more = f", {pruned['trials']} trials to reach it" + (
                    "" if pruned["reached"] else " (NOT reached)"
                )
            equal_b.append((pruned["seconds"], plain["seconds"], pruned["best"] >= goal))
            print(
                f"  seed {seed}, {name}: {budget} trials without: best {plain['best']:.4f}, "
                f"{plain['seconds']:.2f} trial-seconds; with: best {pruned['best']:.4f}{more}, "
                f"{pruned['seconds']:.2f} trial-seconds: {pruned['seconds'] / plain['seconds']:.2f}"
            )
        ratios = [a / b if ok else float("inf") for a, b, ok in equal_b]
        print(
            f"(b) {name} pruner, at an equal best (the best without it in {budget} trials, within "
            f"0.5%): trial-seconds with / without over {seeds} seeds: median "
            f"{statistics.median(ratios):.2f}, totals {sum(a for a, _, _ in equal_b):.1f} / "
            f"{sum(b for _, b, _ in equal_b):.1f} = "
            f"{sum(a for a, _, _ in equal_b) / sum(b for _, b, _ in equal_b):.2f}, worst "
            f"{max(ratios):.2f}; equal best reached in {sum(ok for *_, ok in equal_b)} of {seeds} "
            f"(target <= 0.6)"
        )
    for name in PRUNERS:
        equal, fixed = [], []
        for seed in range(seeds):
            plain = run_study(table, seed, "none", 2 * size, target)
            pruned = run_study(table, seed, name, 2 * size, target)
            equal.append(
                pruned["seconds"] / plain["seconds"] if pruned["reached"] else float("inf")
            )
            p_fixed = run_study(table, seed, "none", budget)
            q_fixed = run_study(table, seed, name, budget)
            fixed.append(
                (q_fixed["seconds"] / p_fixed["seconds"], p_fixed["best"], q_fixed["best"])
            )
            missed = "" if pruned["reached"] else f", NOT reached in {2 * size}"
            print(
                f"  seed {seed}, {name}: to an equal best (within 0.5% of the grid's) "
                f"{pruned['seconds']:.2f} vs {plain['seconds']:.2f} trial-seconds "
                f"({pruned['trials']} vs {plain['trials']} trials{missed}); "
                f"in {budget} trials {fixed[-1][0]:.2f} of the seconds, best {q_fixed['best']:.4f} "
                f"vs {p_fixed['best']:.4f}"
            )  # fmt: skip
        finite = sorted(equal)
        print(f"(b, race) {name} pruner: trial-seconds with / without to the grid's best: median "
              f"{statistics.median(finite):.2f}, mean {statistics.mean(finite):.2f}, worst "
              f"{max(finite):.2f}; in a fixed {budget} trials: mean "
              f"{statistics.mean(f[0] for f in fixed):.2f}, equal best (within 0.5%) in "
              f"{sum(1 for f in fixed if f[2] >= f[1] * (1 - WITHIN))} of {seeds} seeds"
              )  # fmt: skip


def in_process(trials: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=0, constant_liar=True)
    )
    t = time.perf_counter()
    study.optimize(lambda tr: -((tr.suggest_float("x", -2.0, 2.0) - 1.0) ** 2), n_trials=trials)
    return time.perf_counter() - t


def through_platform(trials: int, parallelism: int, batch: int) -> tuple[float, float]:
    from tests.helpers.hub import Hub

    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp, "hub"))
        hub.start()
        try:
            one = {"meta": {"name": "one", "team": "data-science"}, "task": {"command": "true"}}
            r = hub.api("POST", "experiments", user="alice", json=one)
            t = time.perf_counter()
            run_id = r.json()["id"]
            while hub.api("GET", f"experiments/{run_id}", user="alice").json()["status"] in (
                "pending",
                "running",
            ):
                time.sleep(0.02)
            one_run = time.perf_counter() - t
            spec = {
                "name": "dispatch", "team": "data-science",
                "objective": {"metric": "y", "direction": "maximize"},
                "space": {"x": {"type": "float", "low": -2.0, "high": 2.0}},
                "sampler": {"name": "tpe", "seed": 0}, "trials": trials,
                "parallelism": parallelism,
                "trial": {
                    "function": "submarine_hub.builtin.study_examples:quadratic",
                    "batch": batch,
                    # runs start with a scrubbed environment: the package measured here
                    "env": {"PYTHONPATH": str(Path(__file__).resolve().parents[1])},
                },
            }  # fmt: skip
            t = time.perf_counter()
            sid = hub.api("POST", "studies", user="alice", json=spec).json()["id"]
            while True:
                s = hub.api("GET", f"studies/{sid}", user="alice").json()
                if s["counts"]["complete"] + s["counts"]["failed"] >= trials:
                    break
                time.sleep(0.1)
            took = time.perf_counter() - t
            assert s["counts"]["complete"] == trials, s["counts"]
            return took, one_run
        finally:
            hub.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--parallelism", type=int, default=2, help="(c): worker runs")
    parser.add_argument("--batch", type=int, default=8, help="(c): trials per worker call")
    parser.add_argument("--budget", type=int, default=30, help="(b): the fixed trial budget")
    parser.add_argument("--skip-platform", action="store_true", help="only (a) and (b)")
    parser.add_argument("--only-platform", action="store_true", help="only (c)")
    args = parser.parse_args()
    if not args.only_platform:
        sampler_and_pruner(args.seeds, args.budget)
    if args.skip_platform:
        return
    alone = in_process(args.trials)
    ours, one_run = through_platform(args.trials, args.parallelism, args.batch)
    print(f"(c) {args.trials} trivial trials: through the platform {ours:.2f}s "
          f"({ours / args.trials * 1000:.1f} ms a trial, {args.parallelism} worker runs taking "
          f"{args.batch} trials a call), "
          f"optuna.study.optimize in one process {alone:.2f}s: ratio {ours / alone:.1f} "
          f"(target <= 10); one plain 'true' run through the platform (the slow path): "
          f"{one_run:.2f}s")  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
