"""Run search (core/run_search.py): MLflow's filter and order-by syntax over stored runs,
on SQLite and PostgreSQL; bad expressions refused with their position; another team's
runs never found; values never reach the SQL text."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.dialects import sqlite

from submarine_hub.core import run_search
from submarine_hub.core.errors import Forbidden, InvalidInput
from submarine_hub.core.experiments import metrics as run_metrics
from submarine_hub.core.experiments import runs
from submarine_hub.core.identity import Identity
from submarine_hub.core.run_search import SearchSyntaxError, parse_filter, search_runs
from submarine_hub.store import Database, upgrade
from submarine_hub.store.models import Experiment

ALICE = Identity(name="alice", teams=frozenset({"data-science"}))
CAROL = Identity(name="carol", teams=frozenset({"ml-platform"}))


async def _run(
    s: Any,
    who: Identity,
    name: str,
    *,
    team: str = "data-science",
    tags: list[str] | None = None,
    metrics: dict[str, list[float]] | None = None,
    params: dict[str, Any] | None = None,
    parent_id: int | None = None,
) -> int:
    spec = {"meta": {"name": name, "team": team, "tags": tags or []}, "task": {"command": "true"}}
    row = await runs.create(s, who, await runs.prepare(s, who, spec), quota_defaults={})
    if parent_id is not None:
        row.parent_id = parent_id
    points = [
        {"key": k, "value": v, "step": i}
        for k, vs in (metrics or {}).items()
        for i, v in enumerate(vs)
    ]
    await run_metrics.log_batch(s, who, row.id, {"metrics": points, "params": params or {}})
    return row.id


@pytest.fixture
async def db(db_url: str) -> Any:
    upgrade(db_url)
    database = Database(db_url)
    async with database.session() as s:
        ids = {}
        ids["rf1"] = await _run(
            s, ALICE, "rf-1", tags=["stage=prod", "baseline"],
            metrics={"accuracy": [0.5, 0.95]}, params={"model": "rf", "lr": "0.1"},
        )  # fmt: skip
        ids["rf2"] = await _run(
            s, ALICE, "rf-2", tags=["stage=dev"],
            metrics={"accuracy": [0.99, 0.7]}, params={"model": "rf", "lr": "0.01"},
        )  # fmt: skip
        ids["svm"] = await _run(
            s, ALICE, "svm-1", metrics={"accuracy": [0.92], "loss": [0.3]}, params={"model": "svm"}
        )
        ids["bare"] = await _run(s, ALICE, "no-metrics")
        ids["carol"] = await _run(
            s, CAROL, "rf-secret", team="ml-platform",
            metrics={"accuracy": [0.999]}, params={"model": "rf"},
        )  # fmt: skip
    try:
        yield database, ids
    finally:
        await database.dispose()


async def _names(database: Database, who: Identity = ALICE, **kw: Any) -> list[str]:
    async with database.session() as s:
        page = await search_runs(s, who, **kw)
        return [r.name for r in page.runs]


async def test_the_latest_metric_value_filters_and_sorts_with_params(db: Any) -> None:
    database, _ = db
    # rf-2's latest accuracy is 0.7 (its 0.99 came first): it is not found
    got = await _names(
        database,
        filter="metrics.accuracy > 0.9 and params.model = 'rf'",
        order_by=["metrics.accuracy DESC"],
    )
    assert got == ["rf-1"]
    got = await _names(database, filter="metrics.accuracy >= 0.7", order_by="metrics.accuracy ASC")
    assert got == ["rf-2", "svm-1", "rf-1"]


async def test_runs_without_the_sorted_metric_come_last_either_way(db: Any) -> None:
    database, _ = db
    assert (await _names(database, order_by=["metrics.loss DESC"]))[0] == "svm-1"
    asc = await _names(database, order_by=["metrics.accuracy"])
    assert asc[:3] == ["rf-2", "svm-1", "rf-1"] and asc[-1] == "no-metrics"
    desc = await _names(database, order_by=["metrics.accuracy DESC"])
    assert desc[:3] == ["rf-1", "svm-1", "rf-2"] and desc[-1] == "no-metrics"


async def test_tags_are_labels_key_equals_value_or_bare(db: Any) -> None:
    database, _ = db
    assert await _names(database, filter="tags.stage = 'prod'") == ["rf-1"]
    assert await _names(database, filter="tags.stage != 'prod'") == ["rf-2"]
    assert await _names(database, filter="tags.stage LIKE 'p%'") == ["rf-1"]
    assert await _names(database, filter="tags.stage ILIKE 'DE_'") == ["rf-2"]
    assert await _names(database, filter="tags.baseline = 'true'") == ["rf-1"]
    assert await _names(database, filter="tags.stage IN ('dev', 'qa')") == ["rf-2"]


async def test_attributes_in_mlflow_and_our_spelling(db: Any) -> None:
    database, ids = db
    assert await _names(database, filter="attributes.run_name LIKE 'rf-%'", order_by="name") == [
        "rf-1",
        "rf-2",
    ]
    assert await _names(database, filter="name ILIKE 'SVM%'") == ["svm-1"]
    assert len(await _names(database, filter="attributes.status = 'SCHEDULED'")) == 4
    assert await _names(database, filter="status = 'FINISHED'") == []
    assert await _names(database, filter=f"attributes.run_id IN ('{ids['rf1']}', '{ids['svm']}')")
    assert await _names(database, filter=f"id = {ids['bare']}") == ["no-metrics"]
    assert len(await _names(database, filter="attributes.parent_id IS NULL")) == 4
    assert await _names(database, filter="params.lr = '0.1' and params.model != 'svm'") == ["rf-1"]


async def test_long_param_values_are_stored_indexed_filtered_and_sorted_whole(db: Any) -> None:
    """Params are indexed by their first 200 characters (a PostgreSQL index entry holds
    ~2,700 bytes, a value has no limit): values of 3,200 characters are stored; two
    sharing their first 200 are told apart by the filter and sorted by the whole value;
    the query names the index's expression (literal numbers) so the planners use it."""
    database, _ = db
    head = "x" * 200
    values = {"long-b": head + "b" * 3000, "long-a": head + "a" * 3000, "long-c": head + "c"}
    async with database.session() as s:
        for name, value in values.items():
            await _run(s, ALICE, name, params={"prompt": value, "mark": "long"})
    assert await _names(database, filter=f"params.prompt = '{values['long-a']}'") == ["long-a"]
    both = f"params.prompt IN ('{values['long-a']}', '{values['long-c']}')"
    assert sorted(await _names(database, filter=both)) == ["long-a", "long-c"]
    assert await _names(database, filter=f"params.prompt = '{head}'") == []
    assert await _names(database, filter="params.prompt LIKE '%c'") == ["long-c"]
    got = await _names(database, filter="params.mark = 'long'", order_by=["params.prompt"])
    assert got == ["long-a", "long-b", "long-c"]
    got = await _names(database, order_by=["params.prompt DESC"], max_results=3)
    assert got == ["long-c", "long-b", "long-a"]
    query = run_search.apply(select(Experiment), "params.mark = 'long'", ["params.prompt"])
    sql = str(query.compile(dialect=sqlite.dialect()))
    assert "substr(params_1.value, 1, 200)" in sql and "substr(params_2.value, 1, 200)" in sql


async def test_a_search_is_planned_for_its_own_values_on_postgresql(db: Any) -> None:
    """asyncpg prepares statements; a generic plan (made without the values) walks every
    run of a param instead of the metric's index: a search's transaction plans each query
    for its values, without parallel workers; the next transaction is as before."""
    database, _ = db
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL's plan cache and parallel workers")

    async def setting(s: Any, name: str) -> str:
        return str((await s.execute(text(f"SHOW {name}"))).scalar_one())

    async with database.session() as s:
        for _ in range(8):  # more than the five runs after which a generic plan may stay
            got = await search_runs(
                s, ALICE, filter="params.model = 'rf'", order_by=["metrics.accuracy DESC"]
            )
            assert [r.name for r in got.runs] == ["rf-1", "rf-2"]
        assert await setting(s, "plan_cache_mode") == "force_custom_plan"
        assert await setting(s, "max_parallel_workers_per_gather") == "0"
    async with database.session() as s:
        assert await setting(s, "plan_cache_mode") == "auto"


async def test_a_sweeps_children_by_parent_and_the_count_of_children(db: Any) -> None:
    database, ids = db
    async with database.session() as s:
        for i, acc in enumerate([0.8, 0.95, 0.91]):
            await _run(s, ALICE, f"child-{i}", metrics={"acc": [acc]}, parent_id=ids["svm"])
    got = await _names(
        database,
        filter=f"attributes.parent_id = {ids['svm']} and metrics.acc > 0.9",
        order_by=["metrics.acc DESC"],
    )
    assert got == ["child-1", "child-2"]
    async with database.session() as s:
        counts = await run_search.child_counts(s, [ids["svm"], ids["rf1"]])
    assert counts == {ids["svm"]: 3}


async def test_pages_follow_each_other_without_gaps_or_repeats(db: Any) -> None:
    database, _ = db
    seen: list[str] = []
    token = None
    async with database.session() as s:
        for _ in range(5):
            page = await search_runs(s, ALICE, order_by=["name"], max_results=2, page_token=token)
            seen += [r.name for r in page.runs]
            token = page.next_page_token
            if token is None:
                break
    assert seen == ["no-metrics", "rf-1", "rf-2", "svm-1"]
    with pytest.raises(InvalidInput, match="page_token"):
        async with database.session() as s:
            await search_runs(s, ALICE, page_token="not-a-token")
    with pytest.raises(InvalidInput, match="max_results"):
        async with database.session() as s:
            await search_runs(s, ALICE, max_results=10_000)


@pytest.mark.parametrize("order", [["metrics.accuracy DESC"], ["params.lr"], ["metrics.loss"]])
async def test_pages_sorted_by_a_metric_or_param_cross_from_runs_having_it_to_the_others(
    db: Any, order: list[str]
) -> None:
    """Runs with the sort key come first (one query, its index), then those without it
    (another): paged one or two at a time, the same list as in one page."""
    database, _ = db
    whole = await _names(database, order_by=order)
    assert len(whole) == 4
    for size in (1, 2, 3):
        seen: list[str] = []
        token = None
        async with database.session() as s:
            for _ in range(10):
                page = await search_runs(
                    s, ALICE, order_by=order, max_results=size, page_token=token
                )
                seen += [r.name for r in page.runs]
                token = page.next_page_token
                if token is None:
                    break
        assert seen == whole, size


async def test_another_teams_runs_are_never_found_and_its_team_is_refused(db: Any) -> None:
    database, _ = db
    assert "rf-secret" not in await _names(database, filter="params.model = 'rf'")
    assert await _names(database, CAROL, filter="params.model = 'rf'") == ["rf-secret"]
    with pytest.raises(Forbidden, match="not a member of team 'ml-platform'"):
        await _names(database, team="ml-platform")


async def test_values_are_bound_never_part_of_the_sql_text(db: Any) -> None:
    database, _ = db
    evil = "x' OR '1'='1"
    text = "params.model = 'x'' OR ''1''=''1' and tags.`a' --` = 'b'"
    query = run_search.apply(select(Experiment), text, ["metrics.`acc; drop table runs` DESC"])
    sql = str(query.compile(dialect=sqlite.dialect()))
    assert "OR '1'" not in sql and "drop table" not in sql and "--" not in sql
    assert parse_filter(text)[0].value == evil
    assert await _names(database, filter=text) == []


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("metrics.accuracy > 0.9 or params.model = 'rf'", "joined by AND only", 23),
        ("metrics.accuracy > 'high'", "compares with a number", 19),
        ("params.model > 1", "does not apply to param 'model'", 15),
        ("params.lr = 0.1", "quoted string", 12),
        ("metrics.accuracy >", "ends too early", 18),
        ("foo.bar = 1", "Unknown entity 'foo'", 0),
        ("colour = 'red'", "Unknown attribute 'colour'", 0),
        ("metrics.a > 1; DROP TABLE experiments", "Unexpected ';'", 13),
        ("params.a = 'open", "Unexpected", 11),
        ("attributes.parent_id = 1.5", "whole number", 23),
        ("attributes.run_id = 99999999999999999999999", "whole number", 20),
        ("attributes.start_time > 'yesterday'", "is a time", 24),
        ("metrics.a = nan", "Unexpected", 12),
        ("params.a IS NULL", "IS NULL applies to attributes", 0),
    ],
)
def test_bad_expressions_are_refused_with_where_the_problem_is(
    text: str, message: str, position: int
) -> None:
    with pytest.raises(SearchSyntaxError, match=message) as caught:
        parse_filter(text)
    assert caught.value.position == position
    assert caught.value.status == 400
    assert f"at character {position + 1}" in caught.value.message


@pytest.mark.parametrize(
    "order", [["metrics.a DESC DESC"], ["tags.x"], ["colour"], ["metrics.a SIDEWAYS"], [""]]
)
def test_bad_order_by_is_refused(order: list[str]) -> None:
    with pytest.raises(InvalidInput):
        run_search.apply(select(Experiment), None, order)


def test_mlflow_spellings_parse_the_same() -> None:
    a = parse_filter("metric.acc > 1 AND param.m = 'x' AND tag.t = 'y' AND attr.status = 'RUNNING'")
    b = parse_filter(
        'metrics."acc" > 1 and parameters.`m` = "x" and tags.t = \'y\' and run.status = "running"'
    )
    assert [(c.kind, c.key, c.op, c.value) for c in a] == [
        (c.kind, c.key, c.op, c.value) for c in b
    ]
    assert a[-1].value == "running"
