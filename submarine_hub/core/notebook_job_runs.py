"""The runs of notebook jobs: which notebook a run ran, where its executed notebook is
kept, which cell failed; a job's view and the jobs of one notebook.

Contracts:

- When a job's run ends, its executed notebook (injected-parameters cell, outputs, the
  failing cell marked) is kept as a version of ``jobs/<notebook stem>/<run id>.ipynb``
  in the run's team space (:func:`output_location`), and a failed run's reason names
  the cell that raised, counted among the user's own cells (papermill's are not).
- The jobs of a notebook count runs of every origin (the lab, the CLI, the magics,
  schedules): each records its notebook in ``task.source``; the caller sees those of
  its teams (an admin: all).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Experiment
from . import spaces, versions
from .errors import InvalidInput, NotFound
from .experiments import metrics as run_metrics
from .experiments import runs
from .experiments.plans import EXECUTED_NOTEBOOK
from .identity import Identity
from .notebook_fanout import is_fanout, summarize
from .notebook_jobs import JOBS_FOLDER, locate, stem_of
from .notebook_parameters import cell_source


def source_of(row: Experiment) -> dict[str, Any] | None:
    """The notebook version a notebook job's run ran (None for any other run)."""
    task = row.spec.get("task") or {}
    return task.get("source") if "notebook" in task else None


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
                "source": cell_source(cell)[:2000],
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
    out["metrics"] = (await run_metrics.metrics_summary(session, [row.id])).get(row.id, {})
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
        metrics = await run_metrics.metrics_summary(session, [k.id for k in kids])
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
    metrics = await run_metrics.metrics_summary(session, [r.id for r in rows])
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
