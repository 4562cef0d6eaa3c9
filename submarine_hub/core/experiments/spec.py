"""The experiment spec: its JSON Schema (published in the OpenAPI document) and its checks.

A spec is shaped after Apache Submarine's::

    meta:        {name, team, tags, framework: none | pytorch | tensorflow, description}
    environment: {profile: "team/name" | "name", image: "python:3.11"}
    task:        {command: "python train.py"} | {script: train.py, args: [...]}
                 | {notebook: nb.ipynb, parameters: {...}} | {template: NAME, parameters: {...}}
                 | {spark: {script | module | notebook, ...}}      (see spark.py)
                 | {sql: {query | file, connection | engine, ...}}  (see sql.py)
    spec:        {worker: {replicas: 2, resources: {...}, command: ...}, ...}   # roles
    resources:   {cpu: 1, memory: 2G, gpus: 0}          # per replica, unless a role says
    code:        {git: {url, ref}} | {upload: ID}
    env:         {NAME: value}
    credentials: [name, ...]
    inputs:      [{name, dataset | uri | from: "step.output"}]
    outputs:     [{name, path}]
    timeout:     seconds

:func:`normalize` validates a spec against :data:`SPEC_SCHEMA`, then checks what a
schema cannot say (roles that fit the framework, resource amounts), and returns the
canonical form every backend reads.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from typing import Any

from jsonschema import Draft202012Validator

from ..errors import InvalidInput
from ..paths import safe_relpath
from ..resources import Resources
from . import spark, sql

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
ROLE_PATTERN = r"^[a-z][a-z0-9-]{0,30}$"
FRAMEWORKS = ("none", "pytorch", "tensorflow")
_REMOTE_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
# Roles each framework knows, in the order their ranks are given.
FRAMEWORK_ROLES = {
    "pytorch": ("master", "worker"),
    "tensorflow": ("chief", "ps", "worker", "evaluator"),
}
DEFAULT_ROLE = "main"

_RESOURCES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "cpu": {"type": ["number", "string", "null"], "description": "Cores, like 0.5 or 2."},
        "memory": {
            "type": ["integer", "string", "null"],
            "description": "Bytes, or 512M, 2G, 1Gi (null: no limit).",
        },
        "gpus": {"type": "integer", "minimum": 0},
    },
}
_COMMAND = {
    "description": "A shell command line, or an argv list.",
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": "string"}, "minItems": 1},
    ],
}

SPEC_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ExperimentSpec",
    "type": "object",
    "additionalProperties": False,
    "required": ["meta", "task"],
    "properties": {
        "meta": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": NAME_PATTERN},
                "team": {"type": "string", "minLength": 1},
                "tags": {
                    "type": "array",
                    "items": {"type": "string", "pattern": r"^[^\s,]{1,64}$"},
                    "maxItems": 32,
                    "uniqueItems": True,
                },
                "framework": {"enum": list(FRAMEWORKS)},
                "description": {"type": "string", "maxLength": 4000},
            },
        },
        "environment": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "profile": {"type": "string", "minLength": 1},
                "image": {"type": "string", "minLength": 1},
                # the profile's id, recorded by the service when it resolves ``profile``
                # (a run's stored spec shows it); one given by a client is dropped
                "profile_id": {"type": "integer", "readOnly": True},
            },
        },
        "task": {
            "type": "object",
            "oneOf": [
                {
                    "additionalProperties": False,
                    "required": ["command"],
                    "properties": {"command": _COMMAND},
                },
                {
                    "additionalProperties": False,
                    "required": ["script"],
                    "properties": {
                        "script": {"type": "string", "minLength": 1},
                        "args": {"type": "array", "items": {"type": "string"}},
                    },
                },
                {
                    "additionalProperties": False,
                    "required": ["notebook"],
                    "properties": {
                        "notebook": {"type": "string", "minLength": 1},
                        "parameters": {"type": "object"},
                        "source": {
                            "type": "object",
                            "description": "The versioned notebook a notebook job runs "
                            "(set by the platform).",
                            "properties": {
                                "space": {"type": "string"},
                                "path": {"type": "string"},
                                "version": {"type": "integer"},
                            },
                        },
                    },
                },
                {
                    "additionalProperties": False,
                    "required": ["template"],
                    "properties": {
                        "template": {"type": "string", "minLength": 1},
                        "parameters": {"type": "object"},
                    },
                },
                spark.SPARK_TASK,
                sql.SQL_TASK,
            ],
        },
        "spec": {
            "type": "object",
            "description": "Roles and their replicas; one role 'main' with 1 replica if absent.",
            "propertyNames": {"pattern": ROLE_PATTERN},
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "replicas": {"type": "integer", "minimum": 1, "maximum": 64},
                    "resources": _RESOURCES,
                    "command": _COMMAND,
                },
            },
        },
        "resources": _RESOURCES,
        "code": {
            "type": "object",
            "oneOf": [
                {
                    "additionalProperties": False,
                    "required": ["git"],
                    "properties": {
                        "git": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["url"],
                            "properties": {
                                "url": {"type": "string", "minLength": 1},
                                "ref": {"type": "string", "minLength": 1},
                            },
                        }
                    },
                },
                {
                    "additionalProperties": False,
                    "required": ["upload"],
                    "properties": {"upload": {"type": "string", "pattern": r"^[a-f0-9]{32}$"}},
                },
            ],
        },
        "env": {
            "type": "object",
            "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
        "credentials": {
            "type": ["array", "null"],
            "items": {"type": "string"},
            "uniqueItems": True,
            "description": "Credentials the run gets, by name; null: all it may use.",
        },
        "inputs": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
                    "dataset": {"type": "string"},
                    "uri": {"type": "string"},
                    "from": {"type": "string", "pattern": r"^[^.]+\.[^.]+$"},
                },
            },
        },
        "outputs": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "path"],
                "properties": {
                    "name": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
                    "path": {"type": "string", "minLength": 1},
                },
            },
        },
        "timeout": {"type": "number", "exclusiveMinimum": 0},
    },
}

_VALIDATOR = Draft202012Validator(SPEC_SCHEMA)


def schema_errors(data: Any) -> list[str]:
    """Each schema violation as ``where: what``, most specific first."""
    out = []
    for error in sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "spec" + "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
        )
        inner = _task_branch_errors(error)
        if inner:
            out.extend(inner)
            continue
        if (
            error.validator == "oneOf"
            and error.absolute_path
            and error.absolute_path[-1]
            in (
                "task",
                "code",
            )
        ):
            what = _one_of_message(error.absolute_path[-1])
        elif error.validator == "pattern" and "name" in str(error.absolute_path):
            what = f"{error.instance!r} is not a valid name (letters, digits, '_', '.', '-')"
        else:
            what = error.message
        out.append(f"{where}: {what}")
    return out


#: task branches named by their one key, whose own errors say more than "exactly one of"
_TASK_BRANCHES = {"spark": 4, "sql": 5}


def _task_branch_errors(error: Any) -> list[str]:
    """A ``task: {spark: ...}`` or ``{sql: ...}`` that fails: what is wrong inside it."""
    instance = error.instance
    if error.validator != "oneOf" or list(error.absolute_path) != ["task"]:
        return []
    if not isinstance(instance, dict) or len(instance) != 1:
        return []
    branch = _TASK_BRANCHES.get(next(iter(instance)))
    if branch is None:
        return []
    out = []
    for sub in error.context or []:
        if sub.relative_schema_path and sub.relative_schema_path[0] == branch:
            where = "spec.task" + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in sub.relative_path
            )
            if sub.validator == "oneOf":
                what = "give exactly one of " + (
                    "script, module or notebook" if branch == 4 else "query or file"
                )
            else:
                what = sub.message
            out.append(f"{where}: {what}")
    return out


def _one_of_message(field: str) -> str:
    if field == "task":
        return (
            "give exactly one of {command}, {script, args}, {notebook, parameters}, "
            "{template, parameters}, {spark: {script | module | notebook, ...}} "
            "or {sql: {query | file, connection | engine: spark, ...}}"
        )
    return "give exactly one of {git: {url, ref}} or {upload: ID}"


def normalize(data: Any) -> dict[str, Any]:
    """The canonical spec, or :class:`InvalidInput` naming every problem."""
    if not isinstance(data, dict):
        raise InvalidInput("An experiment spec must be an object (JSON or YAML mapping).")
    errors = schema_errors(data)
    if errors:
        raise InvalidInput("Invalid experiment spec: " + "; ".join(errors[:10]) + ".")
    spec = copy.deepcopy(data)
    meta = spec["meta"]
    meta.setdefault("tags", [])
    framework = meta.setdefault("framework", "none")
    if "spark" in spec["task"]:  # its driver becomes the run's one role
        spark.normalize(spec, data.get("spec"))
    elif "sql" in spec["task"]:
        sql.normalize(spec, data.get("spec"))
    try:
        spec["resources"] = Resources.parse(spec.get("resources")).to_json()
        roles = spec.get("spec") or {DEFAULT_ROLE: {"replicas": 1}}
        for body in roles.values():
            body.setdefault("replicas", 1)
            if "resources" in body:
                body["resources"] = Resources.parse(body["resources"]).to_json()
            if "command" in body:
                body["command"] = command_argv(body["command"])
    except InvalidInput as e:
        raise InvalidInput(f"Invalid experiment spec: {e.message}") from None
    if framework != "none":
        known = FRAMEWORK_ROLES[framework]
        unknown = [r for r in roles if r not in known]
        if unknown:
            raise InvalidInput(
                f"Invalid experiment spec: framework {framework!r} knows the roles "
                f"{', '.join(known)}; not {', '.join(unknown)}."
            )
        if framework == "pytorch" and roles.get("master", {}).get("replicas", 0) > 1:
            raise InvalidInput("Invalid experiment spec: a PyTorch run has at most one master.")
        if framework == "tensorflow" and roles.get("chief", {}).get("replicas", 0) > 1:
            raise InvalidInput("Invalid experiment spec: a TensorFlow run has at most one chief.")
        roles = {r: roles[r] for r in known if r in roles}  # rank order
    spec["spec"] = roles
    if "git" in (spec.get("code") or {}):
        check_git(spec["code"]["git"])
    for i, item in enumerate(spec.get("outputs") or []):
        safe_relpath(item["path"], what=f"outputs[{i}].path")
    if "command" in spec["task"]:
        spec["task"]["command"] = command_argv(spec["task"]["command"])
    spec["env"] = {k: _env_value(v) for k, v in (spec.get("env") or {}).items()}
    spec.setdefault("environment", {})
    spec["environment"].pop("profile_id", None)  # the service's own record, never a client's
    spec.setdefault("credentials", None)
    spec.setdefault("inputs", [])
    spec.setdefault("outputs", [])
    names = [i["name"] for i in spec["inputs"]]
    if len(names) != len(set(names)):
        raise InvalidInput("Invalid experiment spec: two inputs have the same name.")
    for item in spec["inputs"]:
        sources = [k for k in ("dataset", "uri", "from") if k in item]
        if len(sources) != 1:
            raise InvalidInput(
                f"Invalid experiment spec: input {item['name']!r} needs exactly one of "
                "'dataset', 'uri' or 'from'."
            )
    return spec


def check_git(git: dict[str, Any]) -> tuple[str, str]:
    """``(url, ref)`` of ``code.git`` unless one could be read as a git option or holds
    control characters (or the URL names a remote helper, ``ext::...``): what every
    backend passes to git."""
    url, ref = git.get("url"), git.get("ref") or ""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("Invalid experiment spec: code.git.url is missing.")
    for what, value in (("url", url), ("ref", ref)):
        if not isinstance(value, str) or value.startswith("-") or _control(value):
            raise InvalidInput(
                f"Invalid experiment spec: code.git.{what} {value!r} must not start with '-' "
                "or hold control characters."
            )
    if _REMOTE_HELPER.match(url):
        raise InvalidInput(
            f"Invalid experiment spec: code.git.url {url!r} names a git remote helper; "
            "give an https://, ssh://, git:// or file:// URL (or user@host:path)."
        )
    return url, ref


def _control(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in value)


def command_argv(command: str | list[str]) -> list[str]:
    """A command line runs in ``sh -c`` (variables, pipes, ``&&``); a list runs as is."""
    if isinstance(command, list):
        return command
    if not command.strip():
        raise InvalidInput("The command is empty.")
    return ["sh", "-c", command]


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def replica_count(spec: dict[str, Any]) -> int:
    return sum(role["replicas"] for role in spec["spec"].values())


def task_kind(spec: dict[str, Any]) -> str:
    kinds = ("command", "script", "notebook", "template", "spark", "sql")
    return next(k for k in kinds if k in spec["task"])
