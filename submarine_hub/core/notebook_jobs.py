"""Notebook jobs: a versioned notebook, run with parameters as an experiment run.

- **Parameters** come from the cell tagged ``parameters`` (papermill's convention):
  each top-level assignment is a parameter with a type (its annotation, else the type
  of its literal default), a default and a help text (the line's comment). Values are
  checked against those types, each bad one named.
- **A job** is an experiment run of kind ``notebook``: the notebook (a path in the
  caller's or a team's space, at its newest or a pinned version) is packed as the run's
  code and executed by papermill; ``task.source`` records which version ran.
- **Outputs**: when the run ends the executed notebook (injected-parameters cell,
  outputs, the failing cell marked) is kept as a version of
  ``jobs/<notebook stem>/<run id>.ipynb`` in the run's team space, which JupyterLab
  shows under ``teams/<team>/jobs/``.
- **Fan-out**: a list (``parameter_sets``) or grid (``grid``) of parameter sets makes a
  parent run with one child run per set; the parent waits for them and summarizes.
"""

from __future__ import annotations

import ast
import asyncio
import copy
import io
import itertools
import json
import math
import re
import tarfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Experiment
from . import spaces, versions
from .errors import InvalidInput, NotFound
from .experiments import runs
from .experiments import spec as specs
from .experiments.plans import EXECUTED_NOTEBOOK
from .experiments.spec import NAME_PATTERN, SPEC_SCHEMA
from .identity import Identity
from .sessions import choose_team

PARAMETERS_TAG = "parameters"
JOBS_FOLDER = "jobs"
MAX_FANOUT = 100
FANOUT_MODULE = "submarine_hub.client.fanout"
TYPES = ("int", "float", "str", "bool", "list", "dict", "any")

# --- parameters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NotebookParameter:
    name: str
    type: str  # one of TYPES
    default: Any  # the default as a JSON value (None when it is not a literal)
    source: str  # the default as written in the notebook
    help: str = ""
    nullable: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parameters_cell(nb: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    for i, cell in enumerate(nb.get("cells") or []):
        tags = (cell.get("metadata") or {}).get("tags") or []
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in tags:
            return i, cell
    return None


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source") or ""
    return "".join(src) if isinstance(src, list) else str(src)


_SIMPLE = {"int": "int", "float": "float", "str": "str", "bool": "bool"}
_SIMPLE.update({"list": "list", "List": "list", "tuple": "list", "Tuple": "list"})
_SIMPLE.update({"dict": "dict", "Dict": "dict", "Any": "any", "object": "any"})


def _annotation_type(node: ast.expr) -> tuple[str, bool]:
    """``(type, nullable)`` of an annotation such as ``float``, ``list[int]``,
    ``Optional[str]`` or ``int | None``."""
    if isinstance(node, ast.Constant) and node.value is None:
        return "any", True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "float"
        try:
            return _annotation_type(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return "any", False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _annotation_type(node.left), _annotation_type(node.right)
        nullable = left[1] or right[1]
        kinds = {k for k, n in (left, right) if not (k == "any" and n)}
        return (kinds.pop() if len(kinds) == 1 else "any"), nullable
    if isinstance(node, ast.Subscript):
        base = ast.unparse(node.value).rsplit(".", 1)[-1]
        if base == "Optional":
            return _annotation_type(node.slice)[0], True
        if base == "Union" and isinstance(node.slice, ast.Tuple):
            parts = [_annotation_type(e) for e in node.slice.elts]
            nullable = any(n for _, n in parts)
            kinds = {k for k, n in parts if not (k == "any" and n)}
            return (kinds.pop() if len(kinds) == 1 else "any"), nullable
        return _SIMPLE.get(base, "any"), False
    name = ast.unparse(node).rsplit(".", 1)[-1]
    return _SIMPLE.get(name, "any"), False


def _value_type(value: Any) -> tuple[str, bool]:
    if value is None:
        return "any", True
    if isinstance(value, bool):
        return "bool", False
    for kind, py in (("int", int), ("float", float), ("str", str), ("dict", dict)):
        if isinstance(value, py):
            return kind, False
    if isinstance(value, list | tuple):
        return "list", False
    return "any", False


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value


def _comment(line: str, after: int) -> str:
    rest = line[after:]
    return rest.split("#", 1)[1].strip() if "#" in rest else ""


def parameters_of(nb: dict[str, Any]) -> list[NotebookParameter]:
    """The parameters the ``parameters`` cell defines, in order ([] without one)."""
    found = parameters_cell(nb)
    if found is None:
        return []
    text = _source(found[1])
    lines = text.splitlines()
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError):  # magics or the like: read what can, line by line
        body = []
        for number, line in enumerate(lines, 1):
            try:
                for node in ast.parse(line).body:
                    ast.increment_lineno(node, number - 1)
                    body.append(node)
            except (SyntaxError, ValueError):  # ValueError: a NUL character
                continue
    out: dict[str, NotebookParameter] = {}
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, annotation, value = node.targets[0], None, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, annotation, value = node.target, node.annotation, node.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        written = ast.get_source_segment(text, value) or ast.unparse(value)
        try:
            default = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            default, literal = None, False
        else:
            literal = True
        if annotation is not None:
            kind, nullable = _annotation_type(annotation)
        elif literal:
            kind, nullable = _value_type(default)
        else:
            kind, nullable = "any", False
        if isinstance(default, tuple):
            default = list(default)
        end_line = lines[node.end_lineno - 1] if node.end_lineno else ""
        out[target.id] = NotebookParameter(
            name=target.id,
            type=kind,
            default=_jsonable(default) if literal else None,
            source=written,
            help=_comment(end_line, node.end_col_offset or 0),
            nullable=nullable or (literal and default is None),
        )
    return list(out.values())


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_ARTICLE = {"int": "an int (a whole number)", "float": "a float (a number)"}
_ARTICLE.update({"str": "a str (text)", "bool": "a bool (true or false)"})
_ARTICLE.update({"list": "a list", "dict": "a dict (an object)"})


def _coerce(p: NotebookParameter, value: Any) -> Any:
    """``value`` as ``p``'s type, or ValueError."""
    if value is None:
        if p.nullable or p.type == "any":
            return None
        raise ValueError
    kind = p.type
    if kind == "any":
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return int(value)
        raise ValueError
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            number = float(value)  # ValueError if not a number
            if math.isfinite(number):
                return number
        raise ValueError
    if kind == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise ValueError
    py = list if kind == "list" else dict
    if isinstance(value, py):
        return value
    if isinstance(value, str):
        parsed = json.loads(value)
        if isinstance(parsed, py):
            return parsed
    raise ValueError


def check_values(
    params: list[NotebookParameter], values: Any, *, where: str = ""
) -> dict[str, Any]:
    """``values`` checked and converted to the parameters' types; every problem is named."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise InvalidInput(f"{where}'parameters' must be an object of name: value.")
    known = {p.name: p for p in params}
    problems, out = [], {}
    for name, value in values.items():
        p = known.get(name)
        if p is None:
            problems.append(f"unknown parameter {name!r}")
            continue
        try:
            out[name] = _coerce(p, value)
        except (ValueError, TypeError):
            problems.append(f"{name!r} must be {_ARTICLE.get(p.type, p.type)}, not {value!r}")
    if problems:
        hint = (
            f"The notebook's parameters: {', '.join(f'{p.name} ({p.type})' for p in params)}."
            if params
            else "The notebook has no cell tagged 'parameters'; tag one (papermill's "
            "convention) to give it parameters."
        )
        raise InvalidInput(f"Bad notebook parameters: {where}{'; '.join(problems)}. {hint}")
    return out


# --- locating and reading notebooks --------------------------------------------------------


def locate(identity: Identity, notebook: Any, space: Any = None) -> tuple[str, str]:
    """``(space, path)`` of a notebook path as a session shows it (the rule of
    :mod:`.spaces`: ``teams/<team>/x.ipynb`` in the team's space, ``shared/users/<owner>/
    x.ipynb`` in the owner's, anything else in the caller's own); ``space`` names one
    explicitly, and ``notebook`` is then the path in it."""
    if not isinstance(notebook, str) or not notebook.strip("/"):
        raise InvalidInput("'notebook' must be the path of a notebook, like 'analysis.ipynb'.")
    if space is not None and space != "":
        versions.parse_space(space)
        return space, versions.normalize_path(notebook)
    return spaces.space_of(versions.normalize_path(notebook), identity.name)


def _check_notebook(content: Any, where: str) -> dict[str, Any]:
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        raise InvalidInput(f"{where} is not a Jupyter notebook.")
    metadata = content.get("metadata") or {}
    spec = metadata.get("kernelspec") or {} if isinstance(metadata, dict) else None
    info = metadata.get("language_info") or {} if isinstance(metadata, dict) else None
    if not isinstance(spec, dict) or not isinstance(info, dict):
        raise InvalidInput(
            f"{where} is not a Jupyter notebook: its metadata, kernelspec and language_info "
            "must be objects."
        )
    for i, cell in enumerate(content["cells"]):
        source = cell.get("source", "") if isinstance(cell, dict) else None
        cell_meta = cell.get("metadata") or {} if isinstance(cell, dict) else None
        if (
            not isinstance(cell_meta, dict)
            or not isinstance(cell_meta.get("tags") or [], list)
            or not (
                isinstance(source, str)
                or (isinstance(source, list) and all(isinstance(s, str) for s in source))
            )
        ):
            raise InvalidInput(
                f"{where} is not a Jupyter notebook: cell {i} must be an object whose "
                "'source' is text and whose 'metadata' is an object."
            )
    language = spec.get("language") or info.get("name", "python")
    if language != "python":
        raise InvalidInput(
            f"{where} runs on a {language!r} kernel; notebook jobs run Python notebooks."
        )
    return content


async def load(
    session: AsyncSession,
    identity: Identity,
    notebook: Any,
    space: Any = None,
    version: Any = None,
) -> tuple[versions.VersionInfo, dict[str, Any]]:
    """A notebook version (the newest when ``version`` is None) the caller may read."""
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise InvalidInput("'version' must be a version number.")
    where, path = locate(identity, notebook, space)
    if not path.endswith(".ipynb"):
        raise InvalidInput(f"{path} is not a notebook (.ipynb).")
    try:
        info, content = await versions.get(session, identity, where, path, version)
    except NotFound as e:
        raise NotFound(
            f"{e.message} Save the notebook in a Submarine Hub session (every save is a "
            "version), or send its content."
        ) from None
    if info.format != "notebook":
        raise InvalidInput(f"{path} is not stored as a notebook.")
    return info, _check_notebook(content, path)


def describe(info: versions.VersionInfo, content: dict[str, Any]) -> dict[str, Any]:
    """What ``GET /notebook-jobs/parameters`` answers."""
    return {
        "notebook": {"space": info.space, "path": info.path, "version": info.number},
        "parameters": [p.to_json() for p in parameters_of(content)],
        "has_parameters_cell": parameters_cell(content) is not None,
    }


# --- job requests ---------------------------------------------------------------------------

JOB_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "NotebookJob",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "notebook": {
            "type": "string",
            "minLength": 1,
            "description": "Path of the notebook: in your space, or teams/<team>/... in a "
            "team's. Required unless 'content' is given.",
        },
        "space": {"type": "string", "description": "user:NAME or team:NAME (default: from path)"},
        "version": {"type": "integer", "minimum": 1, "description": "Pinned version."},
        "content": {
            "type": "object",
            "description": "An inline notebook (nbformat 4) instead of a path: kept as "
            "jobs/<name>/<name>.ipynb in the team's space (a new version each time), then run.",
        },
        "parameters": {"type": "object", "description": "name: value"},
        "files": {
            "type": "string",
            "pattern": "^[0-9a-f]{32}$",
            "description": "An upload (POST /uploads: a .tar.gz of the notebook's folder) "
            "whose files are beside the notebook when it runs; the notebook itself is the "
            "stored version. A schedule keeps this snapshot.",
        },
        "parameter_sets": {
            "type": "array",
            "items": {"type": "object"},
            "minItems": 1,
            "maxItems": MAX_FANOUT,
            "description": "Fan-out: one child run per set (each merged over 'parameters').",
        },
        "grid": {
            "type": "object",
            "additionalProperties": {"type": "array", "minItems": 1},
            "minProperties": 1,
            "description": "Fan-out: one child run per combination of these values.",
        },
        "name": {"type": "string", "pattern": NAME_PATTERN},
        "team": {"type": "string", "minLength": 1},
        "tags": SPEC_SCHEMA["properties"]["meta"]["properties"]["tags"],
        "description": {"type": "string", "maxLength": 4000},
        "environment": SPEC_SCHEMA["properties"]["environment"],
        "resources": SPEC_SCHEMA["properties"]["resources"],
        "timeout": SPEC_SCHEMA["properties"]["timeout"],
        "env": SPEC_SCHEMA["properties"]["env"],
        "credentials": SPEC_SCHEMA["properties"]["credentials"],
    },
}
_JOB_VALIDATOR = Draft202012Validator(JOB_SCHEMA)


def check_request(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput("A notebook job must be a JSON object, like {'notebook': 'x.ipynb'}.")
    errors = []
    for error in sorted(_JOB_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in error.absolute_path) or "job"
        errors.append(f"{where}: {error.message}")
    if errors:
        raise InvalidInput("Invalid notebook job: " + "; ".join(errors[:10]) + ".")
    if ("notebook" in data) == ("content" in data):
        raise InvalidInput("Give either 'notebook' (a path) or 'content' (a notebook), not both.")
    if "content" in data and not data.get("name"):
        raise InvalidInput("An inline notebook ('content') needs a 'name'.")
    if "parameter_sets" in data and "grid" in data:
        raise InvalidInput("Give 'parameter_sets' or 'grid', not both.")
    return data


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


def job_name(data: dict[str, Any], path: str) -> str:
    if data.get("name"):
        return str(data["name"])
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", PurePosixPath(path).stem).strip("-._")
    return stem[:100] or "notebook"


def stem_of(path: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", PurePosixPath(path).stem).strip("-.")
    return stem[:100] or "notebook"


def for_execution(content: dict[str, Any]) -> dict[str, Any]:
    """The notebook as it is sent to a run: outputs cleared, a Python kernel named."""
    nb = copy.deepcopy(content)
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    meta = nb.setdefault("metadata", {})
    meta.setdefault(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}
    )
    meta.setdefault("language_info", {"name": "python"})
    nb.setdefault("nbformat", 4)
    nb.setdefault("nbformat_minor", 5)
    return nb


def pack(filename: str, nb: dict[str, Any], files: Path | None = None) -> bytes:
    """A .tar.gz holding the notebook: the run's code (``code: {upload: ID}``); with
    ``files`` (an uploaded .tar.gz of its folder), their members beside it."""
    data = json.dumps(nb, indent=1).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        if files is not None:
            with tarfile.open(files, mode="r:gz") as folder:
                for member in folder:
                    name = member.name.removeprefix("./")
                    if name == filename or ".ipynb_checkpoints" in name.split("/"):
                        continue  # the stored version runs, not the folder's copy
                    extracted = folder.extractfile(member) if member.isfile() else None
                    tar.addfile(member, extracted)
        info = tarfile.TarInfo(filename)
        info.size = len(data)
        info.mtime = int(time.time())
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class Prepared:
    """A checked request: where its notebook is, which version, its parameter sets."""

    data: dict[str, Any]
    team: str
    info: versions.VersionInfo
    content: dict[str, Any]
    parameters: list[NotebookParameter]
    values: dict[str, Any]  # of a single run
    sets: list[dict[str, Any]] | None  # of a fan-out


async def prepare(session: AsyncSession, identity: Identity, data: Any) -> Prepared:
    """Check a job request: its notebook exists and is readable, its parameters fit."""
    data = check_request(data)
    wanted = data.get("team")
    if wanted is None and "notebook" in data:
        where, _ = locate(identity, data["notebook"], data.get("space"))
        if where.startswith("team:") and identity.is_member(where[5:]):
            wanted = where[5:]  # a team's notebook runs in that team by default
    team = choose_team(identity.name, sorted(identity.teams), wanted, identity.default_team)
    if "content" in data:
        content = _check_notebook(data["content"], "'content'")
        # kept beside its executed versions: jobs/<name>/<name>.ipynb
        space, path = f"team:{team}", f"{JOBS_FOLDER}/{data['name']}/{data['name']}.ipynb"
        info = await versions.save(
            session,
            identity,
            space,
            path,
            content=content,
            format="notebook",
            message="run as a notebook job",
        )
    else:
        info, content = await load(
            session, identity, data["notebook"], data.get("space"), data.get("version")
        )
    params = parameters_of(content)
    sets = parameter_sets(data)
    values: dict[str, Any] = {}
    if sets is None:
        values = check_values(params, data.get("parameters"))
    else:
        sets = [check_values(params, s, where=f"set {i + 1}: ") for i, s in enumerate(sets)]
    return Prepared(data, team, info, content, params, values, sets)


def _spec(p: Prepared, name: str, values: dict[str, Any], upload: str) -> dict[str, Any]:
    data = p.data
    spec: dict[str, Any] = {
        "meta": {"name": name, "team": p.team, "tags": list(data.get("tags") or [])},
        "task": {
            "notebook": f"{stem_of(p.info.path)}.ipynb",
            "parameters": values,
            "source": {"space": p.info.space, "path": p.info.path, "version": p.info.number},
        },
        "code": {"upload": upload},
    }
    if data.get("description"):
        spec["meta"]["description"] = data["description"]
    for key in ("environment", "resources", "timeout", "env", "credentials"):
        if key in data:
            spec[key] = data[key]
    return spec


async def check_limits(session: AsyncSession, p: Prepared, quota_defaults: dict[str, Any]) -> None:
    """Refuse a job whose resources are over its team's per-session limits (a schedule is
    checked when it is made; every run again when it is created)."""
    spec = specs.normalize(_spec(p, "limits-check", p.values, "0" * 32))
    await runs.check_team_limits(session, p.team, spec, quota_defaults)


async def submit(
    session: AsyncSession,
    identity: Identity,
    data: Any,
    *,
    uploads: Any,
    quota_defaults: dict[str, Any],
) -> tuple[Experiment, list[Experiment]]:
    """Queue a notebook job: one run, or a fan-out parent and its children."""
    p = await prepare(session, identity, data)
    await check_limits(session, p, quota_defaults)
    name = job_name(p.data, p.info.path)
    nb = for_execution(p.content)
    files = None
    if "files" in p.data:
        uploads.check(identity, p.data["files"])
        files = uploads.path(p.data["files"])
    code = await asyncio.to_thread(pack, f"{stem_of(p.info.path)}.ipynb", nb, files)
    upload = (await asyncio.to_thread(uploads.save, identity, code))["id"]
    if p.sets is None:
        sub = await runs.prepare(session, identity, _spec(p, name, p.values, upload))
        sub.parameters = p.values
        return await runs.create(session, identity, sub, quota_defaults=quota_defaults), []
    parent_spec = {
        "meta": {
            "name": name,
            "team": p.team,
            "tags": list(p.data.get("tags") or []),
            "description": f"{len(p.sets)} runs of {p.info.path} (version {p.info.number})",
        },
        "task": {"command": ["python", "-m", FANOUT_MODULE]},
    }
    parent_sub = await runs.prepare(session, identity, parent_spec)
    parent_sub.kind = "notebook"
    parent_sub.parameters = {"parameter_sets": p.sets}
    parent = await runs.create(session, identity, parent_sub, quota_defaults=quota_defaults)
    children = []
    for i, values in enumerate(p.sets):
        child_name = f"{name[:94]}-{i + 1}"
        sub = await runs.prepare(session, identity, _spec(p, child_name, values, upload))
        sub.parameters = values
        children.append(
            await runs.create(
                session, identity, sub, quota_defaults=quota_defaults, parent_id=parent.id
            )
        )
    return parent, children


# --- runs of notebook jobs -------------------------------------------------------------------


def source_of(row: Experiment) -> dict[str, Any] | None:
    task = row.spec.get("task") or {}
    return task.get("source") if "notebook" in task else None


def is_fanout(row: Experiment) -> bool:
    task = row.spec.get("task") or {}
    return (
        row.kind == "notebook"
        and "command" in task
        and FANOUT_MODULE in task["command"]
        and isinstance(row.parameters, dict)
        and "parameter_sets" in row.parameters
    )


def output_location(row: Experiment) -> tuple[str, str] | None:
    """Where a notebook job's executed notebook is kept: ``(space, path)``."""
    source = source_of(row)
    if source is None:
        return None
    return f"team:{row.team}", f"{JOBS_FOLDER}/{stem_of(source['path'])}/{row.id}.ipynb"


#: Cells papermill adds to an executed notebook: not the user's, not counted.
ADDED_CELL_TAGS = frozenset({"papermill-error-cell-tag", "injected-parameters"})


def error_cell(nb: dict[str, Any]) -> dict[str, Any] | None:
    """The cell that raised, as papermill marked it: its index among the user's own
    cells (papermill's error banners and injected parameters are not counted), its
    execution count in the executed notebook, the error."""
    i = -1
    for executed_index, cell in enumerate(nb.get("cells") or []):
        if ADDED_CELL_TAGS & set((cell.get("metadata") or {}).get("tags") or ()):
            continue
        i += 1
        if cell.get("cell_type") != "code":
            continue
        errors = [o for o in cell.get("outputs") or [] if o.get("output_type") == "error"]
        marked = ((cell.get("metadata") or {}).get("papermill") or {}).get("exception")
        if errors or marked:
            first = errors[0] if errors else {}
            return {
                "index": i,
                "executed_index": executed_index,
                "execution_count": cell.get("execution_count"),
                "ename": first.get("ename", ""),
                "evalue": first.get("evalue", ""),
                "source": _source(cell)[:2000],
            }
    return None


def error_reason(err: dict[str, Any]) -> str:
    count = err.get("execution_count")
    where = f"cell {err['index'] + 1}" + (f" (In [{count}])" if count else "")
    what = f"{err['ename']}: {err['evalue']}" if err.get("ename") else "an error"
    return f"{where} raised {what}"[:1000]


async def keep_executed(
    session: AsyncSession, row: Experiment, artifacts_dir: str | None
) -> dict[str, Any] | None:
    """After a notebook job ended: keep its executed notebook as a version in the jobs
    folder, and name the failing cell in the run's reason."""
    where = output_location(row)
    if where is None or not artifacts_dir:
        return None
    path = Path(artifacts_dir, EXECUTED_NOTEBOOK)

    def read() -> dict[str, Any] | None:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    nb = await asyncio.to_thread(read)
    if nb is None:
        return None
    owner = Identity(name=row.owner, teams=frozenset({row.team}))
    message = f"run {row.id} {row.status}"
    info = await versions.save(
        session, owner, where[0], where[1], content=nb, format="notebook", message=message
    )
    if row.status == "failed":
        err = error_cell(nb)
        if err is not None:
            row.reason = error_reason(err)
    return info.to_json()


async def view(session: AsyncSession, identity: Identity, run_id: int) -> dict[str, Any]:
    """A notebook job: its run, notebook, executed output, error cell, and a fan-out's
    children with their parameters, status and metrics."""
    row = await runs.get(session, identity, run_id)
    source = source_of(row)
    fanout = is_fanout(row)
    if source is None and not fanout:
        raise NotFound(f"Run {run_id} is not a notebook job.")
    out = runs.to_json(row)
    out["metrics"] = (await runs.metrics_summary(session, [row.id])).get(row.id, {})
    if source is not None:
        out["notebook"] = source
        space, path = output_location(row) or ("", "")
        output: dict[str, Any] = {
            "space": space,
            "path": path,
            "lab_path": spaces.lab_path(space, path),
        }
        try:
            info, nb = await versions.get(session, identity, space, path)
        except NotFound:
            output["version"] = None
        else:
            output["version"] = info.number
            if row.status == "failed":
                out["error"] = error_cell(nb)
        out["output"] = output
    if fanout:
        kids, _ = await runs.search(
            session, identity, runs.Filters(parent=row.id, limit=runs.MAX_PAGE)
        )
        kids.sort(key=lambda r: r.id)
        metrics = await runs.metrics_summary(session, [k.id for k in kids])
        out["children"] = [
            {
                "id": k.id,
                "name": k.name,
                "status": k.status,
                "reason": k.reason,
                "parameters": k.parameters,
                "metrics": metrics.get(k.id, {}),
                "output": dict(zip(("space", "path"), output_location(k) or ("", ""), strict=True)),
            }
            for k in kids
        ]
        out["summary"] = summarize(out["children"])
    return out


async def list_for_notebook(
    session: AsyncSession,
    identity: Identity,
    notebook: Any,
    space: Any = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """The jobs of one notebook the caller may see, newest first: its single runs and its
    fan-outs (the parent run, with its children's count by status). Runs of every origin
    count (the lab, the CLI, the magics, schedules): each records its notebook in
    ``task.source``."""
    if not 1 <= limit <= runs.MAX_PAGE:
        raise InvalidInput(f"'limit' must be between 1 and {runs.MAX_PAGE}.")
    where, path = locate(identity, notebook, space)
    source = Experiment.spec["task"]["source"]
    q = select(Experiment).where(
        Experiment.kind == "notebook",
        source["space"].as_string() == where,
        source["path"].as_string() == path,
    )
    if not identity.admin:
        q = q.where(Experiment.team.in_(sorted(identity.teams)))
    singles = list(
        (
            await session.scalars(
                q.where(Experiment.parent_id.is_(None)).order_by(Experiment.id.desc()).limit(limit)
            )
        ).all()
    )
    fanout_q = (
        q.where(Experiment.parent_id.is_not(None))
        .with_only_columns(Experiment.parent_id)
        .distinct()
        .order_by(Experiment.parent_id.desc())
        .limit(limit)
    )
    parent_ids = set((await session.scalars(fanout_q)).all())
    parents = []
    if parent_ids:
        parents = list(
            (await session.scalars(select(Experiment).where(Experiment.id.in_(parent_ids)))).all()
        )
    rows = sorted(singles + parents, key=lambda r: r.id, reverse=True)[:limit]
    counts: dict[int, dict[str, int]] = {}
    fanouts = [r.id for r in rows if r.id in parent_ids]
    if fanouts:
        kids = await session.execute(
            select(Experiment.parent_id, Experiment.status).where(Experiment.parent_id.in_(fanouts))
        )
        for parent_id, status in kids.all():
            if parent_id is None:
                continue
            by = counts.setdefault(parent_id, {})
            by[status] = by.get(status, 0) + 1
    metrics = await runs.metrics_summary(session, [r.id for r in rows])
    out = []
    for row in rows:
        item = runs.to_json(row, full=False)
        item["parameters"] = row.parameters
        item["metrics"] = metrics.get(row.id, {})
        item["notebook"] = source_of(row)
        where_out = output_location(row)
        if where_out:
            item["output"] = {
                "space": where_out[0],
                "path": where_out[1],
                "lab_path": spaces.lab_path(*where_out),
            }
        if row.id in counts:
            item["children"] = {"total": sum(counts[row.id].values()), "by_status": counts[row.id]}
        out.append(item)
    return out


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
