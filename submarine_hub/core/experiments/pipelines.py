"""Pipelines: a DAG of experiments.

A pipeline is ``{name, team, steps: [{name, depends_on, spec | template + parameters}]}``.
A step's spec is an experiment spec (its ``meta`` may be left out); an input
``{name, from: "step.output"}`` receives an upstream step's declared output. Each
step runs as an experiment with ``pipeline_id`` and ``pipeline_step`` set; a retry
adds a new run for a failed step, and the step's newest run is the one that counts.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timezone
from graphlib import CycleError, TopologicalSorter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import Experiment, Pipeline
from .. import scopes
from ..errors import Forbidden, InvalidInput, NotFound
from ..identity import Identity
from ..quotas import QuotaExceeded
from ..sessions import choose_team
from ..validation import reject_unknown
from . import runs
from .backend import ACTIVE_STATES, FAILED, KILLED, RUNNING, SUCCEEDED

STEP_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
STEP_FIELDS = {"name", "depends_on", "spec", "template", "parameters"}
UPSTREAM_FAILED = "upstream_failed"
WAITING = "waiting"


def _steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise InvalidInput("A pipeline needs 'steps': a non-empty list.")
    names: list[str] = []
    for i, step in enumerate(steps):
        reject_unknown(step, STEP_FIELDS, f"pipeline step (steps[{i}])")
        name = step.get("name")
        if not isinstance(name, str) or not STEP_NAME.match(name):
            raise InvalidInput(f"steps[{i}]: 'name' must be 1-40 lowercase letters, digits or '-'.")
        if name in names:
            raise InvalidInput(f"Two steps are named {name!r}.")
        names.append(name)
        deps = step.get("depends_on", [])
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            raise InvalidInput(f"Step {name!r}: 'depends_on' must be a list of step names.")
        if ("spec" in step) == ("template" in step):
            raise InvalidInput(f"Step {name!r} needs exactly one of 'spec' or 'template'.")
        spec = step.get("spec", {})
        if not isinstance(spec, dict) or not isinstance(spec.get("meta", {}), dict):
            raise InvalidInput(f"Step {name!r}: 'spec' must be an experiment spec (an object).")
        if not isinstance(step.get("template", ""), str):
            raise InvalidInput(f"Step {name!r}: 'template' must be a template's name.")
        if not isinstance(step.get("parameters", {}), dict):
            raise InvalidInput(f"Step {name!r}: 'parameters' must be an object.")
    for step in steps:
        missing = [d for d in step.get("depends_on", []) if d not in names]
        if missing:
            raise InvalidInput(
                f"Step {step['name']!r} depends on missing step(s) {', '.join(missing)}; "
                f"the steps are {', '.join(names)}."
            )
    graph = {s["name"]: set(s.get("depends_on", [])) for s in steps}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as e:
        cycle = " -> ".join(e.args[1])
        raise InvalidInput(f"The steps' depends_on form a cycle: {cycle}.") from None
    return steps


def _ancestors(graph: dict[str, set[str]], name: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[name])
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(graph[n])
    return seen


async def create(
    session: AsyncSession, identity: Identity, data: Any, quota_defaults: dict[str, Any]
) -> Pipeline:
    """Check every step now (its spec, and its resources against the team's quota)."""
    reject_unknown(data, {"name", "team", "steps", "tags"}, "pipeline")
    name = data.get("name")
    if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$", name):
        raise InvalidInput("'name' must be 1-100 letters, digits, '_', '.' or '-'.")
    team = choose_team(
        identity.name, sorted(identity.teams), data.get("team"), identity.default_team
    )
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise InvalidInput("'tags' must be a list of strings.")
    steps = _steps(data)
    graph = {s["name"]: set(s.get("depends_on", [])) for s in steps}
    resolved = []
    for step in steps:
        body = copy.deepcopy(step.get("spec") or {})
        if "template" in step:
            body["task"] = {"template": step["template"], "parameters": step.get("parameters", {})}
        meta = body.setdefault("meta", {})
        meta.setdefault("name", f"{name}-{step['name']}"[:100])
        meta["team"] = team
        meta.setdefault("tags", list(tags))
        try:
            sub = await runs.prepare(session, identity, body)
        except InvalidInput as e:
            raise InvalidInput(f"Step {step['name']!r}: {e.message}") from None
        try:
            await runs.check_team_limits(session, team, sub.spec, quota_defaults)
        except QuotaExceeded as e:
            raise QuotaExceeded(f"Step {step['name']!r}: {e.message}") from None
        for item in sub.spec["inputs"]:
            if "from" not in item:
                continue
            up, _, output = item["from"].partition(".")
            if up not in _ancestors(graph, step["name"]):
                raise InvalidInput(
                    f"Step {step['name']!r}: input {item['name']!r} comes from {up!r}, "
                    "which is not one of the steps it depends on."
                )
            up_step = next(s for s in steps if s["name"] == up)
            declared = [o["name"] for o in (up_step.get("spec") or {}).get("outputs", [])]
            if output not in declared:
                raise InvalidInput(
                    f"Step {step['name']!r}: step {up!r} declares no output {output!r} "
                    f"(its outputs: {', '.join(declared) or 'none'})."
                )
        resolved.append(
            {
                "name": step["name"],
                "depends_on": step.get("depends_on", []),
                "spec": sub.spec,
                "kind": sub.kind,
                "template": sub.template,
                "parameters": sub.parameters,
            }
        )
    row = Pipeline(
        name=name, team=team, owner=identity.name, status=RUNNING,
        spec={"steps": resolved, "tags": tags},
    )  # fmt: skip
    session.add(row)
    await session.flush()
    return row


async def get(session: AsyncSession, identity: Identity, pipeline_id: int) -> Pipeline:
    row = await session.get(Pipeline, pipeline_id)
    if row is None or not (identity.admin or identity.is_member(row.team)):
        raise NotFound(f"No pipeline {pipeline_id} that you can see.")
    return row


async def latest_runs(session: AsyncSession, pipeline_id: int) -> dict[str, Experiment]:
    newest = (
        select(func.max(Experiment.id))
        .where(Experiment.pipeline_id == pipeline_id)
        .group_by(Experiment.pipeline_step)
    )
    rows = await session.scalars(select(Experiment).where(Experiment.id.in_(newest)))
    return {r.pipeline_step: r for r in rows if r.pipeline_step}


def step_states(row: Pipeline, latest: dict[str, Experiment]) -> dict[str, str]:
    states: dict[str, str] = {}
    for step in row.spec["steps"]:  # stored in topological-safe order? compute iteratively
        states[step["name"]] = latest[step["name"]].status if step["name"] in latest else WAITING
    changed = True
    while changed:  # a waiting step below a failed one will never run
        changed = False
        for step in row.spec["steps"]:
            if states[step["name"]] == WAITING and any(
                states[d] in (FAILED, KILLED, UPSTREAM_FAILED) for d in step["depends_on"]
            ):
                states[step["name"]] = UPSTREAM_FAILED
                changed = True
    return states


async def advance(
    session: AsyncSession, row: Pipeline, *, quota_defaults: dict[str, Any]
) -> list[Experiment]:
    """Start the steps whose dependencies all succeeded; settle the pipeline's status."""
    latest = await latest_runs(session, row.id)
    states = step_states(row, latest)
    started: list[Experiment] = []
    if row.status == RUNNING:
        owner = Identity(name=row.owner, teams=frozenset({row.team}))
        for step in row.spec["steps"]:
            if states[step["name"]] == WAITING and all(
                states[d] == SUCCEEDED for d in step["depends_on"]
            ):
                sub = runs.Submission(
                    step["spec"], row.team, step["kind"], step["template"], step["parameters"]
                )
                try:
                    run = await runs.create(
                        session,
                        owner,
                        sub,
                        quota_defaults=quota_defaults,
                        pipeline=(row.id, step["name"]),
                    )
                except QuotaExceeded as e:  # the quota shrank since the pipeline was made
                    row.status, row.reason = FAILED, f"step {step['name']!r}: {e.message}"
                    row.finished_at = datetime.now(timezone.utc)
                    return started
                started.append(run)
                states[step["name"]] = run.status
    if started:
        return started
    if any(s in ACTIVE_STATES or s == WAITING for s in states.values()):
        return started
    if row.status == RUNNING:
        failed = [n for n, s in states.items() if s != SUCCEEDED]
        row.status = FAILED if failed else SUCCEEDED
        row.reason = f"step(s) {', '.join(failed)} did not succeed" if failed else ""
        row.finished_at = datetime.now(timezone.utc)
    return started


async def terminate(session: AsyncSession, identity: Identity, pipeline_id: int) -> Pipeline:
    row = await get(session, identity, pipeline_id)
    if not (identity.admin or identity.name == row.owner):
        raise Forbidden(f"Only {row.owner} (who submitted it) or a hub admin terminates it.")
    if row.status != RUNNING:
        raise InvalidInput(f"Pipeline {pipeline_id} has already ended ({row.status}).")
    for run in (await latest_runs(session, row.id)).values():
        if run.status in ACTIVE_STATES:
            await runs.request_kill(session, identity, run.id)
    row.status = KILLED
    row.reason = f"terminated by {identity.name}"
    row.finished_at = datetime.now(timezone.utc)
    return row


async def retry(
    session: AsyncSession,
    identity: Identity,
    pipeline_id: int,
    *,
    quota_defaults: dict[str, Any],
) -> Pipeline:
    row = await get(session, identity, pipeline_id)
    if not (identity.admin or identity.name == row.owner):
        raise Forbidden(f"Only {row.owner} (who submitted it) or a hub admin retries it.")
    if row.status == RUNNING:
        raise InvalidInput(f"Pipeline {pipeline_id} is still running; terminate it first.")
    states = step_states(row, await latest_runs(session, row.id))
    failed = [n for n, s in states.items() if s in (FAILED, KILLED)]
    if not failed and row.status == SUCCEEDED:
        raise InvalidInput(f"Pipeline {pipeline_id} succeeded: nothing to retry.")
    owner = Identity(name=row.owner, teams=frozenset({row.team}))
    for step in row.spec["steps"]:
        if step["name"] in failed:
            sub = runs.Submission(
                step["spec"], row.team, step["kind"], step["template"], step["parameters"]
            )
            await runs.create(
                session, owner, sub, quota_defaults=quota_defaults, pipeline=(row.id, step["name"])
            )
    row.status = RUNNING
    row.reason = ""
    row.finished_at = None
    return row


async def list_visible(
    session: AsyncSession, identity: Identity, team: str | None, limit: int = 50
) -> list[Pipeline]:
    q = select(Pipeline).order_by(Pipeline.id.desc()).limit(limit)
    q = scopes.of_teams(q, Pipeline.team, identity, team or None)
    return list((await session.scalars(q)).all())


def to_json(row: Pipeline, latest: dict[str, Experiment] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "team": row.team,
        "owner": row.owner,
        "status": row.status,
        "reason": row.reason,
        "created_at": row.created_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }
    if latest is not None:
        states = step_states(row, latest)
        out["steps"] = [
            {
                "name": s["name"],
                "depends_on": s["depends_on"],
                "status": states[s["name"]],
                "run_id": latest[s["name"]].id if s["name"] in latest else None,
            }
            for s in row.spec["steps"]
        ]
    return out
