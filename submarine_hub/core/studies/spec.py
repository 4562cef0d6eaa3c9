"""A study's spec, checked and normalised (no Optuna here: :mod:`.engine` builds from it).

    name: gb-digits
    objective: {metric: accuracy, direction: maximize}
    space:
      learning_rate: {type: float, low: 0.01, high: 0.5, log: true}
      max_depth: {type: int, low: 1, high: 6}
      loss: {type: categorical, choices: [log_loss, exponential]}
      subsample: {type: float, low: 0.5, high: 1.0, when: {loss: log_loss}}
    sampler: {name: tpe, seed: 0}         # random | grid | tpe | cmaes | gp
    pruner: {name: median, warmup_steps: 2}  # none | median | successive_halving | hyperband
    trials: 30
    parallelism: 2
    timeout: 3600                          # seconds of study time; then no new trial
    trial: {template: sklearn-gb-trial, parameters: {dataset: digits}}
    #  or {command: [python, train.py, --lr, "${learning_rate}"]}
    #  or {notebook: tune.ipynb, space: team, version: 3}
    #  or {function: "package.module:objective", batch: 1}   (the fast path: workers
    #     that call the function in-process, taking ``batch`` trials per call)

A parameter with ``when`` is conditional: it is asked for only in trials whose earlier
parameters have the given values (Optuna's define-by-run space).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from ..errors import InvalidInput
from ..validation import is_finite_number, reject_unknown

SAMPLERS = ("random", "grid", "tpe", "cmaes", "gp")
PRUNERS = ("none", "median", "successive_halving", "hyperband")
DIRECTIONS = ("maximize", "minimize")
TRIAL_KINDS = ("template", "command", "notebook", "function")
MAX_TRIALS = 10_000
MAX_PARALLELISM = 64
MAX_PARAMS = 64
MAX_BATCH = 16  # trials a function study's worker takes per call to the service
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_FUNCTION = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")

PRUNER_OPTIONS = {
    "none": (),
    "median": ("startup_trials", "warmup_steps", "interval_steps"),
    "successive_halving": ("min_resource", "reduction_factor"),
    "hyperband": ("min_resource", "max_resource", "reduction_factor"),
}


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"Invalid study: '{where}' must be a whole number from {low} to {high}.")
    return value


def _param(name: str, body: Any, earlier: dict[str, dict[str, Any]]) -> dict[str, Any]:
    where = f"space.{name}"
    if not _NAME.fullmatch(name):
        raise InvalidInput(f"Invalid study: parameter name {name[:80]!r} (letters, digits, _ . -).")
    if not isinstance(body, dict):
        raise InvalidInput(f"Invalid study: '{where}' must be an object with a 'type'.")
    kind = body.get("type")
    common = {"type", "when"}
    out: dict[str, Any] = {"type": kind}
    if kind in ("float", "int"):
        reject_unknown(body, common | {"low", "high", "log", "step"}, f"parameter {name!r}")
        low, high = body.get("low"), body.get("high")
        for label, v in (("low", low), ("high", high)):
            if not is_finite_number(v) or (kind == "int" and not isinstance(v, int)):
                raise InvalidInput(
                    f"Invalid study: '{where}.{label}' must be a "
                    f"{'whole' if kind == 'int' else 'finite'} number."
                )
        assert low is not None and high is not None
        if low > high:
            raise InvalidInput(f"Invalid study: '{where}': low ({low}) is above high ({high}).")
        log = body.get("log", False)
        if not isinstance(log, bool):
            raise InvalidInput(f"Invalid study: '{where}.log' must be true or false.")
        if log and low <= 0:
            raise InvalidInput(f"Invalid study: '{where}': a log scale needs low > 0.")
        out.update(low=low, high=high, log=log)
        if "step" in body:
            step = body["step"]
            if (
                not is_finite_number(step)
                or step <= 0
                or (kind == "int" and not isinstance(step, int))
            ):
                raise InvalidInput(f"Invalid study: '{where}.step' must be a positive number.")
            if log:
                raise InvalidInput(f"Invalid study: '{where}': give 'log' or 'step', not both.")
            out["step"] = step
    elif kind == "categorical":
        reject_unknown(body, common | {"choices"}, f"parameter {name!r}")
        choices = body.get("choices")
        if not isinstance(choices, list) or not choices or len(choices) > 1000:
            raise InvalidInput(
                f"Invalid study: '{where}.choices' must be a list of 1 to 1000 values."
            )
        for c in choices:
            if not (c is None or isinstance(c, str | bool) or is_finite_number(c)):
                raise InvalidInput(
                    f"Invalid study: '{where}.choices' may hold strings, numbers, true/false "
                    "or null only."
                )
        out["choices"] = list(choices)
    else:
        raise InvalidInput(
            f"Invalid study: '{where}.type' must be float, int or categorical, not {kind!r}."
        )
    if "when" in body:
        when = body["when"]
        if not isinstance(when, dict) or not when:
            raise InvalidInput(
                f"Invalid study: '{where}.when' must map earlier parameters to values."
            )
        for other, value in when.items():
            if other not in earlier:
                raise InvalidInput(
                    f"Invalid study: '{where}.when' names {other!r}, which is not a parameter "
                    "listed before it."
                )
            if earlier[other]["type"] != "categorical" or value not in earlier[other]["choices"]:
                raise InvalidInput(
                    f"Invalid study: '{where}.when': {other!r} must be a categorical parameter "
                    f"with {value!r} among its choices."
                )
        out["when"] = dict(when)
    return out


def _trial(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(
            "Invalid study: 'trial' must be an object (template, command, notebook or function)."
        )
    kinds = [k for k in TRIAL_KINDS if k in body]
    if len(kinds) != 1:
        raise InvalidInput(
            "Invalid study: 'trial' needs exactly one of 'template', 'command', 'notebook' or "
            "'function'."
        )
    kind = kinds[0]
    shared = {"parameters", "resources", "environment", "env"}
    extra = {
        "template": set(),
        "command": set(),
        "notebook": {"space", "version"},
        "function": {"batch"},
    }
    reject_unknown(body, {kind} | shared | extra[kind], "study trial")
    out = copy.deepcopy(body)
    out["kind"] = kind
    value = body[kind]
    if kind == "command":
        if not isinstance(value, list) or not value or not all(isinstance(a, str) for a in value):
            raise InvalidInput(
                "Invalid study: 'trial.command' must be a non-empty list of strings."
            )
    elif kind == "function":
        if not isinstance(value, str) or not _FUNCTION.fullmatch(value):
            raise InvalidInput("Invalid study: 'trial.function' must be 'package.module:function'.")
        out["batch"] = _int(body.get("batch", 1), "trial.batch", 1, MAX_BATCH)
    elif not isinstance(value, str) or not value or len(value) > 1024:
        raise InvalidInput(f"Invalid study: 'trial.{kind}' must name a {kind}.")
    params = body.get("parameters", {})
    if not isinstance(params, dict):
        raise InvalidInput(
            "Invalid study: 'trial.parameters' (fixed for every trial) must be an object."
        )
    out["parameters"] = params
    env = body.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise InvalidInput("Invalid study: 'trial.env' must map names to strings.")
    return out


def normalize(data: Any) -> dict[str, Any]:
    """The canonical study spec, or :class:`InvalidInput` saying what is wrong."""
    reject_unknown(
        data,
        {
            "name",
            "team",
            "description",
            "objective",
            "space",
            "sampler",
            "pruner",
            "trials",
            "parallelism",
            "timeout",
            "trial",
        },
        "study",
    )
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput("Invalid study: 'name' (letters, digits, _ . -; up to 64) is required.")
    objective = data.get("objective")
    if not isinstance(objective, dict):
        raise InvalidInput(
            "Invalid study: 'objective' must be {metric: NAME, direction: maximize|minimize}."
        )
    reject_unknown(objective, {"metric", "direction"}, "study objective")
    metric = objective.get("metric")
    if not isinstance(metric, str) or not metric or len(metric) > 255:
        raise InvalidInput("Invalid study: 'objective.metric' must name a metric the trials log.")
    direction = objective.get("direction", "maximize")
    if direction not in DIRECTIONS:
        raise InvalidInput("Invalid study: 'objective.direction' must be maximize or minimize.")
    space = data.get("space")
    if not isinstance(space, dict) or not space or len(space) > MAX_PARAMS:
        raise InvalidInput(
            f"Invalid study: 'space' must map 1 to {MAX_PARAMS} parameters to their ranges."
        )
    params: dict[str, dict[str, Any]] = {}
    for pname, body in space.items():
        params[pname] = _param(pname, body, params)
    sampler = data.get("sampler", {"name": "tpe"})
    if isinstance(sampler, str):
        sampler = {"name": sampler}
    if not isinstance(sampler, dict) or sampler.get("name") not in SAMPLERS:
        raise InvalidInput(f"Invalid study: 'sampler.name' must be one of {', '.join(SAMPLERS)}.")
    reject_unknown(sampler, {"name", "seed", "startup_trials"}, "study sampler")
    seed = sampler.get("seed")
    if seed is not None:
        _int(seed, "sampler.seed", 0, 2**32 - 1)
    if "startup_trials" in sampler:
        _int(sampler["startup_trials"], "sampler.startup_trials", 0, MAX_TRIALS)
    if sampler["name"] == "grid":
        for pname, p in params.items():
            if p["type"] == "float" and "step" not in p:
                raise InvalidInput(
                    f"Invalid study: the grid sampler needs a 'step' for float parameter {pname!r} "
                    "(or make it categorical)."
                )
            if "when" in p:
                raise InvalidInput(
                    "Invalid study: the grid sampler takes no conditional parameters."
                )
    if sampler["name"] == "cmaes" and any("when" in p for p in params.values()):
        raise InvalidInput("Invalid study: CMA-ES takes no conditional parameters.")
    pruner = data.get("pruner", {"name": "none"})
    if isinstance(pruner, str):
        pruner = {"name": pruner}
    if not isinstance(pruner, dict) or pruner.get("name") not in PRUNERS:
        raise InvalidInput(f"Invalid study: 'pruner.name' must be one of {', '.join(PRUNERS)}.")
    reject_unknown(pruner, {"name", *PRUNER_OPTIONS[pruner["name"]]}, f"{pruner['name']} pruner")
    for key in PRUNER_OPTIONS[pruner["name"]]:
        if key in pruner:
            _int(
                pruner[key],
                f"pruner.{key}",
                1 if key != "warmup_steps" and key != "startup_trials" else 0,
                10**9,
            )
    trials = _int(data.get("trials", 20), "trials", 1, MAX_TRIALS)
    parallelism = _int(data.get("parallelism", 1), "parallelism", 1, MAX_PARALLELISM)
    timeout = data.get("timeout")
    if timeout is not None and (not is_finite_number(timeout) or timeout <= 0):
        raise InvalidInput("Invalid study: 'timeout' must be a positive number of seconds.")
    description = data.get("description", "")
    if not isinstance(description, str) or len(description) > 4000:
        raise InvalidInput("Invalid study: 'description' must be text (up to 4000 characters).")
    team = data.get("team")
    if team is not None and not isinstance(team, str):
        raise InvalidInput("Invalid study: 'team' must name a team.")
    return {
        "name": name,
        "team": team,
        "description": description,
        "objective": {"metric": metric, "direction": direction},
        "space": params,
        "sampler": dict(sampler),
        "pruner": dict(pruner),
        "trials": trials,
        "parallelism": parallelism,
        "timeout": timeout,
        "trial": _trial(data.get("trial")),
    }


def substitute(argv: list[str], values: dict[str, Any]) -> list[str]:
    """``${name}`` in a trial's command replaced by the trial's value of ``name``."""

    def one(arg: str) -> str:
        return re.sub(
            r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}",
            lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0),
            arg,
        )

    return [one(a) for a in argv]
