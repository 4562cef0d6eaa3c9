"""A study's Optuna side: the sampler and pruner its spec names, and the Optuna study that
holds its trials (the ``tuning`` extra: ``pip install submarine-hub[tuning]``).

The metastore (``studies`` and ``study_trials``) is the study's state; the Optuna study
is a cache built from it (:meth:`StudyCache.get`), kept in the service between calls
and built again after a restart, or dropped when a change could not be committed. Every
trial asked for is stored (with its run) in the transaction that asks, under the
study's lock, so Optuna's trial numbers and the stored ones are the same.
"""

from __future__ import annotations

import asyncio
import importlib.util
import math
import warnings
from collections.abc import Iterable
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

STATES = {
    "running": TrialState.RUNNING,
    "complete": TrialState.COMPLETE,
    "pruned": TrialState.PRUNED,
    "failed": TrialState.FAIL,
}


def distribution(p: dict[str, Any]) -> BaseDistribution:
    if p["type"] == "categorical":
        return CategoricalDistribution(p["choices"])
    if p["type"] == "int":
        return IntDistribution(p["low"], p["high"], log=p.get("log", False), step=p.get("step", 1))
    return FloatDistribution(p["low"], p["high"], log=p.get("log", False), step=p.get("step"))


def grid_points(spec: dict[str, Any]) -> dict[str, list[Any]]:
    """Every value of each parameter, for the grid sampler (ints and stepped floats)."""
    out: dict[str, list[Any]] = {}
    for name, p in spec["space"].items():
        if p["type"] == "categorical":
            out[name] = list(p["choices"])
            continue
        step = p.get("step", 1)
        count = math.floor((p["high"] - p["low"]) / step + 1e-9) + 1
        values = [p["low"] + i * step for i in range(count)]
        out[name] = [int(v) for v in values] if p["type"] == "int" else values
    return out


def grid_size(spec: dict[str, Any]) -> int:
    return math.prod(len(v) for v in grid_points(spec).values())


def sampler(spec: dict[str, Any]) -> optuna.samplers.BaseSampler:
    s = spec["sampler"]
    seed = s.get("seed")
    startup = s.get("startup_trials")
    name = s["name"]
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        return optuna.samplers.GridSampler(grid_points(spec), seed=seed)
    if name == "tpe":
        extra = {"n_startup_trials": startup} if startup is not None else {}
        # constant_liar: running trials count as bad guesses, so parallel trials spread out
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True, **extra)
    if name == "cmaes":
        extra = {"n_startup_trials": startup} if startup is not None else {}
        return optuna.samplers.CmaEsSampler(seed=seed, **extra)
    if name == "gp":
        extra = {"n_startup_trials": startup} if startup is not None else {}
        return optuna.samplers.GPSampler(seed=seed, **extra)
    raise ValueError(name)


def pruner(spec: dict[str, Any]) -> optuna.pruners.BasePruner:
    p = spec["pruner"]
    name = p["name"]
    if name == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=p.get("startup_trials", 5),
            n_warmup_steps=p.get("warmup_steps", 0),
            interval_steps=p.get("interval_steps", 1),
        )
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=p.get("min_resource", "auto"),
            reduction_factor=p.get("reduction_factor", 4),
        )
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=p.get("min_resource", 1),
            max_resource=p.get("max_resource", "auto"),
            reduction_factor=p.get("reduction_factor", 3),
        )
    return optuna.pruners.NopPruner()


def check_available(spec: dict[str, Any]) -> None:
    """Refuse (ValueError, said to the user) a sampler whose own library is missing here."""
    if spec["sampler"]["name"] == "gp" and importlib.util.find_spec("torch") is None:
        raise ValueError(
            "The gp sampler (Optuna's GPSampler) needs PyTorch in the platform service's "
            "environment (pip install torch), which is not installed here; use tpe (also "
            "Bayesian) or ask an admin to install it."
        )
    if spec["sampler"]["name"] == "cmaes" and importlib.util.find_spec("cmaes") is None:
        raise ValueError("The cmaes sampler needs the 'cmaes' package (the tuning extra).")


def new_study(spec: dict[str, Any]) -> optuna.Study:
    return optuna.create_study(
        sampler=sampler(spec),
        pruner=pruner(spec),
        direction=spec["objective"]["direction"],
        study_name=spec["name"],
    )


def _applies(p: dict[str, Any], values: dict[str, Any]) -> bool:
    return all(values.get(k) == v for k, v in (p.get("when") or {}).items())


def frozen(
    spec: dict[str, Any],
    number: int,
    state: str,
    params: dict[str, Any],
    value: float | None,
    intermediate: dict[str, Any] | None,
) -> optuna.trial.FrozenTrial:
    dists = {name: distribution(spec["space"][name]) for name in params}
    return optuna.trial.create_trial(
        state=STATES[state],
        value=value if state == "complete" else None,
        params=params,
        distributions=dists,
        intermediate_values={int(k): float(v) for k, v in (intermediate or {}).items()},
    )


class Rows:
    """What :class:`StudyCache` needs of a stored trial (``StudyTrial`` has these)."""

    number: int
    state: str
    params: dict[str, Any]
    value: float | None
    intermediate: dict[str, Any] | None


class StudyCache:
    """The Optuna study of each study id this service works on, and a lock per study that
    every ask/tell/report takes (with its metastore transaction inside it)."""

    def __init__(self) -> None:
        self._studies: dict[int, optuna.Study] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def lock(self, study_id: int) -> asyncio.Lock:
        return self._locks.setdefault(study_id, asyncio.Lock())

    def drop(self, study_id: int) -> None:
        self._studies.pop(study_id, None)

    def cached(self, study_id: int) -> optuna.Study | None:
        return self._studies.get(study_id)

    def get(self, study_id: int, spec: dict[str, Any], rows: Iterable[Any]) -> optuna.Study:
        """The cached study, or one built from the stored trials (in number order)."""
        study = self._studies.get(study_id)
        if study is None:
            study = new_study(spec)
            for row in sorted(rows, key=lambda r: r.number):
                study.add_trial(
                    frozen(spec, row.number, row.state, row.params, row.value, row.intermediate)
                )
            self._studies[study_id] = study
        return study


def ask(study: optuna.Study, spec: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A new trial's number and parameters (define-by-run: conditional ones when they apply)."""
    trial = study.ask()
    values: dict[str, Any] = {}
    for name, p in spec["space"].items():
        if not _applies(p, values):
            continue
        if p["type"] == "categorical":
            values[name] = trial.suggest_categorical(name, p["choices"])
        elif p["type"] == "int":
            values[name] = trial.suggest_int(
                name, p["low"], p["high"], step=p.get("step", 1), log=p.get("log", False)
            )
        else:
            values[name] = trial.suggest_float(
                name, p["low"], p["high"], step=p.get("step"), log=p.get("log", False)
            )
    return trial.number, values


def tell(study: optuna.Study, number: int, state: str, value: float | None = None) -> None:
    if state == "complete":
        study.tell(number, value, skip_if_finished=True)
    else:
        study.tell(number, state=STATES[state], skip_if_finished=True)


def report(study: optuna.Study, number: int, steps: dict[int, float]) -> bool:
    """Record a running trial's intermediate values; whether its pruner stops it now."""
    storage = study._storage
    trial_id = storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
    have = storage.get_trial(trial_id)
    if have.state != TrialState.RUNNING:
        return False
    for step, value in sorted(steps.items()):
        if have.intermediate_values.get(step) != value:
            storage.set_trial_intermediate_value(trial_id, step, value)
    if not steps:
        return False
    return optuna.trial.Trial(study, trial_id).should_prune()


def importances(spec: dict[str, Any], rows: Iterable[Any]) -> dict[str, float]:
    """Optuna's parameter importances (fANOVA) over the completed trials; {} if too few."""
    study = new_study({**spec, "sampler": {"name": "random"}})
    done = [r for r in rows if r.state == "complete" and r.value is not None]
    if len(done) < 2:
        return {}
    for r in done:
        study.add_trial(frozen(spec, r.number, "complete", r.params, r.value, None))
    try:
        found = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError):  # e.g. a parameter that never varied
        return {}
    return {k: float(v) for k, v in found.items()}
