"""Experiment templates: a spec with typed parameters, shared platform-wide or in a team.

Parameters are declared like::

    parameters:
      dataset: {type: string, choices: [iris, wine], default: iris}
      n_estimators: {type: integer, minimum: 1, maximum: 1000, default: 100}
      learning_rate: {type: number, required: true}

and used in the spec as ``${name}``. A string that is exactly ``${name}`` becomes the
typed value; inside a longer string the value is written as text. ``$$`` is a ``$``.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import GLOBAL_SCOPE, ExperimentTemplate
from .. import scopes
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..identity import Identity
from ..validation import reject_unknown
from . import spec as specs

NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$")
PLACEHOLDER = re.compile(r"\$(\$|\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\})")
TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}
TEXT_FIELDS = {"command", "args", "env"}
PARAM_KEYS = {"type", "default", "required", "choices", "minimum", "maximum", "description"}


def _check_param(name: str, decl: Any) -> dict[str, Any]:
    where = f"parameter {name!r}"
    if not isinstance(decl, dict):
        raise InvalidInput(f"{where} must be an object like {{type: integer, default: 1}}.")
    unknown = set(decl) - PARAM_KEYS
    if unknown:
        raise InvalidInput(f"{where} has unknown key(s): {', '.join(sorted(unknown))}.")
    kind = decl.get("type", "string")
    if kind not in TYPES:
        raise InvalidInput(f"{where}: type must be one of {', '.join(TYPES)}.")
    out = {**decl, "type": kind, "required": bool(decl.get("required", "default" not in decl))}
    if "choices" in decl and (not isinstance(decl["choices"], list) or not decl["choices"]):
        raise InvalidInput(f"{where}: 'choices' must be a non-empty list.")
    if ("minimum" in decl or "maximum" in decl) and kind not in ("integer", "number"):
        raise InvalidInput(f"{where}: minimum/maximum apply to integer and number parameters.")
    if "default" in decl:
        problem = _value_problem(out, decl["default"])
        if problem:
            raise InvalidInput(f"{where}: the default {problem}.")
    return out


def _value_problem(decl: dict[str, Any], value: Any) -> str | None:
    kind = decl["type"]
    ok = isinstance(value, TYPES[kind]) and not (kind != "boolean" and isinstance(value, bool))
    if not ok:
        return f"must be {'an' if kind[0] in 'aeiou' else 'a'} {kind}, not {json.dumps(value)}"
    if "choices" in decl and value not in decl["choices"]:
        return f"must be one of {', '.join(map(str, decl['choices']))}, not {json.dumps(value)}"
    if "minimum" in decl and value < decl["minimum"]:
        return f"must be at least {decl['minimum']}, not {value}"
    if "maximum" in decl and value > decl["maximum"]:
        return f"must be at most {decl['maximum']}, not {value}"
    return None


def coerce(decl: dict[str, Any], value: Any) -> Any:
    """A value given as text (CLI ``-p k=v``) turned into the parameter's type; a string
    parameter given a list, a mapping or a number (what ``-p 'space={"a": [1, 2]}'``
    reads as) takes it as its JSON text."""
    if decl["type"] == "string":
        if isinstance(value, dict | list) or (
            isinstance(value, int | float) and not isinstance(value, bool)
        ):
            return json.dumps(value)
        return value
    if not isinstance(value, str):
        return value
    try:
        if decl["type"] == "integer":
            return int(value)
        if decl["type"] == "number":
            return float(value)
        if value.lower() in ("true", "yes", "1", "false", "no", "0"):
            return value.lower() in ("true", "yes", "1")
    except ValueError:
        pass
    return value  # left as text: the type check names the problem


def resolve_parameters(declared: dict[str, Any], given: Any) -> dict[str, Any]:
    """Given values checked against the declarations; every bad one is named."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise InvalidInput("'parameters' must be an object of name: value.")
    problems = [
        f"{name!r} is not a parameter of this template" for name in given if name not in declared
    ]
    values: dict[str, Any] = {}
    for name, decl in declared.items():
        if name in given:
            value = coerce(decl, given[name])
            problem = _value_problem(decl, value)
            if problem:
                problems.append(f"{name!r} {problem}")
            values[name] = value
        elif "default" in decl:
            values[name] = decl["default"]
        elif decl.get("required", True):
            problems.append(f"{name!r} is required ({decl['type']})")
    if problems:
        known = ", ".join(declared) or "none"
        raise InvalidInput(f"Bad template parameters: {'; '.join(problems)}. Parameters: {known}.")
    return values


def substitute(spec: Any, values: dict[str, Any], *, as_text: bool = False) -> Any:
    """Fill in ``${name}``; inside ``command``, ``args`` and ``env`` values are text."""
    if isinstance(spec, dict):
        return {
            k: substitute(v, values, as_text=as_text or k in TEXT_FIELDS) for k, v in spec.items()
        }
    if isinstance(spec, list):
        return [substitute(v, values, as_text=as_text) for v in spec]
    if isinstance(spec, str):
        whole = PLACEHOLDER.fullmatch(spec.strip())
        if whole and whole.group(2) and not as_text:
            return values[whole.group(2)]
        return PLACEHOLDER.sub(
            lambda m: "$" if m.group(1) == "$" else _text(values[m.group(2)]), spec
        )
    return spec


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def placeholders(spec: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(spec, dict):
        for v in spec.values():
            found |= placeholders(v)
    elif isinstance(spec, list):
        for v in spec:
            found |= placeholders(v)
    elif isinstance(spec, str):
        found |= {m.group(2) for m in PLACEHOLDER.finditer(spec) if m.group(2)}
    return found


def _sample(decl: dict[str, Any]) -> Any:
    if "default" in decl:
        return decl["default"]
    if "choices" in decl:
        return decl["choices"][0]
    return {"string": "x", "integer": decl.get("minimum", 1), "boolean": True}.get(
        decl["type"], decl.get("minimum", 1.0)
    )


def check(data: Any, *, creating: bool) -> dict[str, Any]:
    """A template body (name, team, description, parameters, spec) validated."""
    if not isinstance(data, dict):
        raise InvalidInput("A template must be an object with 'name', 'parameters' and 'spec'.")
    allowed = {"name", "team", "description", "parameters", "spec"}
    reject_unknown(data, allowed if creating else allowed - {"name", "team"}, "template")
    out: dict[str, Any] = {}
    if creating:
        if not isinstance(data.get("name"), str) or not NAME.match(data["name"]):
            raise InvalidInput(
                "'name' must be 1-64 lowercase letters, digits, '.', '_' or '-', "
                "starting and ending with a letter or digit."
            )
        out["name"] = data["name"]
        team = data.get("team")
        if team is not None and not isinstance(team, str):
            raise InvalidInput("'team' must be a team name, or null for a global template.")
        out["scope"] = team or GLOBAL_SCOPE
    if "description" in data:
        if not isinstance(data["description"], str):
            raise InvalidInput("'description' must be a string.")
        out["description"] = data["description"]
    if creating or "parameters" in data:
        params = data.get("parameters") or {}
        if not isinstance(params, dict):
            raise InvalidInput("'parameters' must be an object of name: declaration.")
        out["parameters"] = {name: _check_param(name, decl) for name, decl in params.items()}
    if creating or "spec" in data:
        body = data.get("spec")
        if not isinstance(body, dict):
            raise InvalidInput("'spec' must be an experiment spec (an object).")
        declared = out.get("parameters", {})
        undeclared = placeholders(body) - set(declared)
        if undeclared:
            raise InvalidInput(
                f"The spec uses undeclared parameter(s): {', '.join(sorted(undeclared))}."
            )
        sample = {name: _sample(decl) for name, decl in declared.items()}
        body = copy.deepcopy(body)
        body.setdefault("meta", {"name": "template"})
        if "template" in body.get("task", {}):
            raise InvalidInput("A template's task cannot be another template.")
        specs.normalize(substitute(body, sample))
        out["spec"] = body
    return out


def parameters_schema(parameters: dict[str, Any]) -> dict[str, Any]:
    """The template's parameters as a JSON Schema (forms in the lab panel use it)."""
    props: dict[str, Any] = {}
    for name, decl in parameters.items():
        prop: dict[str, Any] = {"type": decl["type"]}
        for src, dst in (
            ("default", "default"),
            ("choices", "enum"),
            ("minimum", "minimum"),
            ("maximum", "maximum"),
            ("description", "description"),
        ):
            if src in decl:
                prop[dst] = decl[src]
        props[name] = prop
    required = [n for n, d in parameters.items() if d.get("required") and "default" not in d]
    return {"type": "object", "properties": props, "required": required}


def to_json(t: ExperimentTemplate) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "scope": t.scope,
        "team": None if t.scope == GLOBAL_SCOPE else t.scope,
        "ref": t.name if t.scope == GLOBAL_SCOPE else f"{t.scope}/{t.name}",
        "owner": t.owner,
        "description": t.description,
        "parameters": t.parameters,
        "parameters_schema": parameters_schema(t.parameters),
        "spec": t.spec,
        "builtin": t.builtin,
        "created_at": t.created_at.isoformat(),
        "updated_at": t.updated_at.isoformat(),
    }


def parse_ref(ref: str) -> tuple[str, str]:
    scope, _, name = ref.rpartition("/")
    return scope or GLOBAL_SCOPE, name


def _check_write(identity: Identity, t_scope: str) -> None:
    scopes.check_write(identity, t_scope, "templates")


async def create(
    session: AsyncSession, identity: Identity, data: Any, hub_groups: dict[str, list[str]]
) -> ExperimentTemplate:
    values = check(data, creating=True)
    if values["scope"] != GLOBAL_SCOPE and values["scope"] not in hub_groups:
        raise NotFound(f"No team named {values['scope']!r}.")
    _check_write(identity, values["scope"])
    exists = await session.scalar(
        select(ExperimentTemplate.id).where(
            ExperimentTemplate.scope == values["scope"], ExperimentTemplate.name == values["name"]
        )
    )
    if exists:
        raise Conflict(f"Template {values['name']!r} already exists in {values['scope']}.")
    row = ExperimentTemplate(owner=identity.name, **values)
    session.add(row)
    await session.flush()
    return row


async def get(session: AsyncSession, identity: Identity, ref: str) -> ExperimentTemplate:
    t_scope, name = parse_ref(ref)
    row = await session.scalar(
        select(ExperimentTemplate).where(
            ExperimentTemplate.scope == t_scope, ExperimentTemplate.name == name
        )
    )
    if row is None or not scopes.can_read(identity, row.scope):
        raise NotFound(f"No template {ref!r} that you can use.")
    return row


async def list_visible(
    session: AsyncSession, identity: Identity, team: str | None = None
) -> list[ExperimentTemplate]:
    query = select(ExperimentTemplate).order_by(ExperimentTemplate.scope, ExperimentTemplate.name)
    query = scopes.visible(query, ExperimentTemplate.scope, identity, team)
    return list((await session.scalars(query)).all())


async def update(
    session: AsyncSession, identity: Identity, ref: str, data: Any
) -> ExperimentTemplate:
    row = await get(session, identity, ref)
    _check_write(identity, row.scope)
    if row.builtin:
        raise Forbidden(f"Template {ref!r} ships with Submarine Hub; copy it to change it.")
    values = check(data, creating=False)
    if "spec" in values and "parameters" not in values:
        check(
            {"name": row.name, "parameters": row.parameters, "spec": values["spec"]}, creating=True
        )
    if "parameters" in values and "spec" not in values:
        check({"name": row.name, "parameters": data["parameters"], "spec": row.spec}, creating=True)
    for key, value in values.items():
        setattr(row, key, value)
    await session.flush()
    return row


async def delete(session: AsyncSession, identity: Identity, ref: str) -> None:
    row = await get(session, identity, ref)
    _check_write(identity, row.scope)
    if row.builtin:
        raise Forbidden(f"Template {ref!r} ships with Submarine Hub and cannot be deleted.")
    await session.delete(row)


def instantiate(row: ExperimentTemplate, given: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the template's spec with the parameters filled in, the parameter values)."""
    values = resolve_parameters(row.parameters, given)
    return substitute(copy.deepcopy(row.spec), values), values


async def install_builtins(session: AsyncSession, builtins: list[dict[str, Any]]) -> None:
    """Create or refresh the templates that ship with the package (global, read-only)."""
    for data in builtins:
        values = check(data, creating=True)
        row = await session.scalar(
            select(ExperimentTemplate).where(
                ExperimentTemplate.scope == GLOBAL_SCOPE, ExperimentTemplate.name == values["name"]
            )
        )
        if row is None:
            session.add(ExperimentTemplate(owner="submarine-hub", builtin=True, **values))
        elif row.builtin and (row.spec, row.parameters, row.description) != (
            values["spec"],
            values["parameters"],
            values.get("description", ""),
        ):
            row.spec, row.parameters = values["spec"], values["parameters"]
            row.description = values.get("description", "")
