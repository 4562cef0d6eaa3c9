"""A study's trials as ordinary runs: of a template, a command, a parameterized notebook
(a notebook job: the warm kernel pool runs it), or, on the fast path, of a Python
function that the study's worker runs call in-process (each call still its own run).

Each trial run is tagged ``study-<id>`` and gets ``SUBMARINE_STUDY_ID`` and
``SUBMARINE_TRIAL_NUMBER`` in its environment; its parameters are its run's parameters.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import Experiment, ExperimentTag, Study
from .. import notebook_jobs
from ..experiments import runs
from ..experiments.backend import RUNNING
from ..identity import Identity
from .spec import substitute

WORKER_MODULE = "submarine_hub.builtin.study_worker"
WORKER_KIND = "study-worker"
INLINE_KIND = "trial"
INLINE_BACKEND = "inline"


def study_tag(study_id: int) -> str:
    return f"study-{study_id}"


def _env(study: Study, number: int | None, values: dict[str, Any]) -> dict[str, str]:
    env = {**study.spec["trial"].get("env", {}), "SUBMARINE_STUDY_ID": str(study.id)}
    if number is not None:
        env["SUBMARINE_TRIAL_NUMBER"] = str(number)
        env["SUBMARINE_TRIAL_PARAMS"] = json.dumps(values)
    return env


def _meta(study: Study, name: str) -> dict[str, Any]:
    return {"name": name[:120], "team": study.team, "tags": ["trial", study_tag(study.id)]}


def _extras(study: Study) -> dict[str, Any]:
    trial = study.spec["trial"]
    return {k: trial[k] for k in ("resources", "environment") if k in trial}


async def start_run(
    session: AsyncSession,
    owner: Identity,
    study: Study,
    number: int,
    values: dict[str, Any],
    *,
    quota_defaults: dict[str, Any],
    uploads: Any,
) -> Experiment:
    """Queue the run of trial ``number`` (template, command or notebook kinds)."""
    trial = study.spec["trial"]
    given = {**trial.get("parameters", {}), **values}
    name = f"{study.name}-trial-{number}"
    env = _env(study, number, values)
    if trial["kind"] == "notebook":
        body = {
            "notebook": trial["notebook"],
            "parameters": given,
            "name": name[:120],
            "team": study.team,
            "tags": ["trial", study_tag(study.id)],
            "env": env,
            **_extras(study),
        }
        for key in ("space", "version"):
            if key in trial:
                body[key] = trial[key]
        row, _ = await notebook_jobs.submit(
            session, owner, body, uploads=uploads, quota_defaults=quota_defaults
        )
        return row
    if trial["kind"] == "template":
        data: dict[str, Any] = {
            "meta": _meta(study, name),
            "task": {"template": trial["template"], "parameters": given},
            **_extras(study),
        }
    else:
        data = {
            "meta": _meta(study, name),
            "task": {"command": substitute(trial["command"], given)},
            **_extras(study),
        }
    sub = await runs.prepare(session, owner, data)
    sub.spec["env"] = {**sub.spec.get("env", {}), **env}
    if sub.parameters is None:
        sub.parameters = given
    return await runs.create(
        session, owner, sub, quota_defaults=quota_defaults, parent_id=study.spec.get("parent_run")
    )


async def start_worker(
    session: AsyncSession,
    owner: Identity,
    study: Study,
    index: int,
    *,
    quota_defaults: dict[str, Any],
) -> Experiment:
    """A worker run of a function study: it asks the service for trials until none is left."""
    trial = study.spec["trial"]
    data = {
        "meta": {
            **_meta(study, f"{study.name}-worker-{index}"),
            "tags": ["study-worker", study_tag(study.id)],
        },
        "task": {
            "command": [
                "python",
                "-m",
                WORKER_MODULE,
                "--study",
                str(study.id),
                "--function",
                trial["function"],
                "--batch",
                str(trial.get("batch", 1)),
            ],
        },
        **_extras(study),
    }
    sub = await runs.prepare(session, owner, data)
    sub.spec["env"] = {**sub.spec.get("env", {}), **_env(study, None, {})}
    sub.kind = WORKER_KIND
    return await runs.create(session, owner, sub, quota_defaults=quota_defaults)


def inline_run(
    study: Study, worker: Experiment, number: int, values: dict[str, Any]
) -> tuple[Experiment, str]:
    """A trial run that worker ``worker`` evaluates in its own process: running at once,
    never launched by the scheduler (like a notebook-tracked run); with its own token."""
    now = datetime.now(timezone.utc)
    spec = dict(worker.spec)
    spec["meta"] = {
        **worker.spec["meta"],
        "name": f"{study.name}-trial-{number}"[:120],
        "tags": ["trial", study_tag(study.id)],
    }
    spec["env"] = {**worker.spec.get("env", {}), **_env(study, number, values)}
    row = Experiment(
        name=spec["meta"]["name"],
        team=study.team,
        owner=worker.owner,
        kind=INLINE_KIND,
        status=RUNNING,
        reason="",
        spec=spec,
        parameters=values,
        parent_id=worker.id,
        backend=INLINE_BACKEND,
        started_at=now,
    )
    return row, ""


async def add_inline(
    session: AsyncSession,
    study: Study,
    worker: Experiment,
    trials: list[tuple[int, dict[str, Any]]],
) -> list[tuple[Experiment, str]]:
    """The runs (and tokens) of trials ``[(number, values)]`` that ``worker`` evaluates
    itself; one flush for the lot."""
    rows = [inline_run(study, worker, number, values)[0] for number, values in trials]
    session.add_all(rows)
    await session.flush()
    out = []
    for row in rows:
        token = runs.new_token(row.id)
        row.token_hash = runs.token_hash(token)
        session.add(ExperimentTag(experiment_id=row.id, tag="trial"))
        session.add(ExperimentTag(experiment_id=row.id, tag=study_tag(study.id)))
        out.append((row, token))
    return out
