"""The runs table: a page of :func:`run_search.search_runs` with each run's columns
(params, latest metrics, tags), its children's count and best value (sweeps, grids,
studies, pipelines), as the API and the JupyterLab run explorer show it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Experiment, LatestMetric, Param
from . import run_search
from .errors import InvalidInput
from .experiments import runs
from .identity import Identity

MAX_COLUMNS = 200


def parse_columns(raw: str | None) -> tuple[set[str] | None, set[str] | None]:
    """``"params.model,metrics.acc"`` -> (param keys, metric keys); None: every one."""
    if raw is None or not raw.strip():
        return None, None
    params: set[str] = set()
    metrics: set[str] = set()
    names = [c.strip() for c in raw.split(",") if c.strip()]
    if len(names) > MAX_COLUMNS:
        raise InvalidInput(f"At most {MAX_COLUMNS} columns.")
    for name in names:
        kind, _, key = name.partition(".")
        if kind in ("params", "param") and key:
            params.add(key)
        elif kind in ("metrics", "metric") and key:
            metrics.add(key)
        else:
            raise InvalidInput(
                f"Column {name!r}: name params.KEY or metrics.KEY (run fields always come)."
            )
    return params, metrics


async def columns_of(
    session: AsyncSession,
    run_ids: Sequence[int],
    params: set[str] | None = None,
    metrics: set[str] | None = None,
) -> tuple[dict[int, dict[str, str]], dict[int, dict[str, float]]]:
    """Params and latest metrics of ``run_ids`` (only the named keys, when given)."""
    p: dict[int, dict[str, str]] = {i: {} for i in run_ids}
    m: dict[int, dict[str, float]] = {i: {} for i in run_ids}
    if not run_ids:
        return p, m
    pq = select(Param.experiment_id, Param.key, Param.value).where(
        Param.experiment_id.in_(list(run_ids))
    )
    if params is not None:
        pq = pq.where(Param.key.in_(sorted(params)))
    for rid, key, value in (await session.execute(pq)).all():
        p[rid][key] = value
    mq = select(LatestMetric.experiment_id, LatestMetric.key, LatestMetric.value).where(
        LatestMetric.experiment_id.in_(list(run_ids))
    )
    if metrics is not None:
        mq = mq.where(LatestMetric.key.in_(sorted(metrics)))
    for mid, mkey, mvalue in (await session.execute(mq)).all():
        m[mid][mkey] = mvalue
    return p, m


async def best_of_children(
    session: AsyncSession, parent_ids: Sequence[int], key: str, *, highest: bool
) -> dict[int, dict[str, Any]]:
    """Per parent: the child with the highest (or lowest) latest ``key``, and that value."""
    if not parent_ids:
        return {}
    agg = func.max(LatestMetric.value) if highest else func.min(LatestMetric.value)
    best = (
        select(Experiment.parent_id, agg.label("value"))
        .join(LatestMetric, LatestMetric.experiment_id == Experiment.id)
        # ``key || ''``: found from the parents' children (index on parent_id), never by
        # walking every run's ``key`` (SQLite without statistics might choose that)
        .where(Experiment.parent_id.in_(list(parent_ids)), LatestMetric.key + "" == key)
        .group_by(Experiment.parent_id)
    )
    out: dict[int, dict[str, Any]] = {}
    for parent, value in (await session.execute(best)).all():
        if parent is not None and value is not None:
            out[int(parent)] = {"key": key, "value": value}
    return out


async def table_page(
    session: AsyncSession,
    identity: Identity,
    *,
    filter: str | None = None,
    order_by: Sequence[str] | str | None = None,
    team: str | None = None,
    max_results: int = 50,
    page_token: str | None = None,
    columns: str | None = None,
) -> dict[str, Any]:
    """One page of the runs table, JSON-ready: ``items`` (each run with ``params``,
    ``metrics``, ``tags``, ``children`` and, for a parent, ``best``: its best child by the
    first metric of ``order_by``, else none), ``keys`` (the param and metric names on the
    page) and ``next_page_token``."""
    param_keys, metric_keys = parse_columns(columns)
    order = run_search.parse_order_by(order_by)
    page = await run_search.search_runs(
        session,
        identity,
        filter=filter,
        order_by=order_by,
        team=team,
        max_results=max_results,
        page_token=page_token,
    )
    ids = [r.id for r in page.runs]
    params, metrics = await columns_of(session, ids, param_keys, metric_keys)
    children = await run_search.child_counts(session, ids)
    first_metric = next((o for o in order if o.kind == run_search.METRIC), None)
    best = (
        await best_of_children(
            session, list(children), first_metric.key, highest=not first_metric.ascending
        )
        if first_metric
        else {}
    )
    items = []
    for row in page.runs:
        item = runs.to_json(row, full=False)
        item["params"] = params[row.id]
        item["metrics"] = metrics[row.id]
        item["children"] = children.get(row.id, 0)
        if row.id in best:
            item["best"] = best[row.id]
        items.append(item)
    keys = {
        "params": sorted({k for v in params.values() for k in v}),
        "metrics": sorted({k for v in metrics.values() for k in v}),
    }
    return {"items": items, "keys": keys, "next_page_token": page.next_page_token}
