"""Notebook jobs: a versioned notebook, run with parameters as an experiment run.

- **A job** is an experiment run of kind ``notebook``: the notebook (a path in the
  caller's or a team's space, at its newest or a pinned version, or an inline notebook
  kept in the team's jobs folder) is packed as the run's code and executed by papermill;
  ``task.source`` records which version ran. A request is checked against
  :data:`JOB_SCHEMA`, its notebook must be readable by the caller, and its resources
  within the team's limits.
- **Parameters** are those of the cell tagged ``parameters``
  (:mod:`.notebook_parameters`); a **fan-out** makes a parent run with one child per
  parameter set (:mod:`.notebook_fanout`).
- **Outputs**: what a job's runs show, and where the executed notebook is kept
  (``jobs/<notebook stem>/<run id>.ipynb`` in the run's team space, which JupyterLab
  shows under ``teams/<team>/jobs/``), are in :mod:`.notebook_job_runs`.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import re
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Experiment
from . import spaces, versions
from .errors import InvalidInput, NotFound
from .experiments import runs
from .experiments import spec as specs
from .experiments.spec import NAME_PATTERN, SPEC_SCHEMA
from .identity import Identity
from .notebook_fanout import FANOUT_MODULE, MAX_FANOUT, parameter_sets
from .notebook_parameters import NotebookParameter, check_values, parameters_cell, parameters_of
from .sessions import choose_team

JOBS_FOLDER = "jobs"

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
