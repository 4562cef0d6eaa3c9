"""SQL runs through the real hub against the machine's PostgreSQL (SUBMARINE_TEST_DB_URL):
a query with bound parameters over a team's connection, its result as Parquet and a
dataset with lineage; the database's own error; the row limit; another team refused."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .conftest import PG_URL
from .helpers.api import as_user, submit, wait
from .helpers.cli import submarine
from .helpers.hub import Hub

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL not configured: set SUBMARINE_TEST_DB_URL to test SQL runs"
)
TEAM = "data-science"


@pytest.fixture(scope="module")
def warehouse(hub: Hub) -> Iterator[tuple[str, str]]:
    """A table of trips in the test database, and a connection of team data-science to it
    (a team credential, made by an admin); both removed afterwards."""
    assert PG_URL
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    table = f"trips_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (city text, day date, n integer)"))
        conn.execute(
            text(f"INSERT INTO {table} VALUES (:c, :d, :n)"),
            [
                {"c": "Oslo", "d": "2026-11-30", "n": 3},
                {"c": "Oslo", "d": "2026-11-30", "n": 4},
                {"c": "Lima", "d": "2026-11-30", "n": 5},
                {"c": "Lima", "d": "2026-11-29", "n": 9},
            ],
        )
    name = f"warehouse-{table[-8:]}"
    r = hub.api("POST", "credentials", user="admin", json={
        "name": name, "owner_kind": "team", "owner": TEAM, "kind": "env",
        "target": "WAREHOUSE_URL", "value": url.render_as_string(hide_password=False),
    })  # fmt: skip
    assert r.status_code == 201, r.text
    try:
        yield name, table
    finally:
        hub.api("DELETE", f"credentials/team/{TEAM}/{name}", user="admin")
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()


def sql_spec(name: str, connection: str, query: str, **task: object) -> dict[str, object]:
    return {
        "meta": {"name": name, "team": TEAM},
        "task": {"sql": {"query": query, "connection": connection, **task}},
        "timeout": 120,
    }


def test_a_query_lands_as_parquet_and_a_dataset_with_lineage(
    hub: Hub, warehouse: tuple[str, str]
) -> None:
    import pyarrow.parquet as pq

    connection, table = warehouse
    dataset = f"trips-by-city-{table[-8:]}"
    query = (
        f"SELECT city, sum(n) AS total FROM {table} WHERE day = :day AND city <> :skip "
        "GROUP BY city ORDER BY city"
    )
    spec = sql_spec(
        "trips-by-city", connection, query,
        parameters={"day": "2026-11-30", "skip": "x' OR '1'='1"},
        formats=["parquet", "csv"], dataset=dataset,
    )  # fmt: skip
    done = wait(hub, "alice", submit(hub, "alice", spec)["id"], timeout=120)
    rid = done["id"]
    assert done["status"] == "succeeded" and done["kind"] == "sql", done["reason"]
    assert done["params"]["sql.rows"] == "2" and done["metrics"]["sql.rows"] == 2
    assert json.loads(done["params"]["sql.schema"]) == {"city": "string", "total": "int64"}
    data = hub.api("GET", f"experiments/{rid}/artifacts?path=result.parquet", user="bob").content
    assert pq.read_table(io.BytesIO(data)).to_pydict() == {
        "city": ["Lima", "Oslo"],
        "total": [5, 7],
    }
    csv = hub.api("GET", f"experiments/{rid}/artifacts?path=result.csv", user="alice").text
    assert csv.splitlines()[1:] == ['"Lima",5', '"Oslo",7']
    summary = hub.api("GET", f"experiments/{rid}/artifacts?path=result.json", user="alice").json()
    assert summary["preview"] == [{"city": "Lima", "total": 5}, {"city": "Oslo", "total": 7}]
    # registered as a dataset of the team, made by the run
    ds = hub.api("GET", f"datasets/{TEAM}/{dataset}", user="bob").json()
    assert ds["source_run_id"] == rid and ds["format"] == "parquet"
    assert ds["uri"].endswith(f"/{rid}/artifacts/result.parquet")
    assert ds["schema"] == {"city": "string", "total": "int64"}
    graph = hub.api("GET", f"lineage?dataset={TEAM}/{dataset}", user="alice").json()
    assert {"from": f"run:{rid}", "to": f"dataset:{TEAM}/{dataset}"} in graph["edges"]
    assert hub.api("GET", f"datasets/{TEAM}/{dataset}", user="carol").status_code == 404
    hub.api("DELETE", f"datasets/{TEAM}/{dataset}", user="alice")


def test_a_bad_query_fails_with_the_databases_error(hub: Hub, warehouse: tuple[str, str]) -> None:
    connection, _ = warehouse
    spec = sql_spec("bad-query", connection, "SELECT * FROM no_such_table_here")
    done = wait(hub, "alice", submit(hub, "alice", spec)["id"], timeout=120)
    assert done["status"] == "failed"
    assert 'relation "no_such_table_here" does not exist' in done["reason"], done["reason"]


def test_the_row_limit_is_enforced(hub: Hub, warehouse: tuple[str, str]) -> None:
    connection, _ = warehouse
    query = "SELECT g FROM generate_series(1, :n) AS g"
    spec = sql_spec("too-many", connection, query, parameters={"n": 50}, max_rows=10)
    done = wait(hub, "alice", submit(hub, "alice", spec)["id"], timeout=120)
    assert done["status"] == "failed" and "more than 10 rows" in done["reason"], done["reason"]


def test_a_query_past_the_timeout_is_stopped(hub: Hub, warehouse: tuple[str, str]) -> None:
    connection, _ = warehouse
    spec = sql_spec("slow", connection, "SELECT pg_sleep(30)")
    spec["timeout"] = 2
    done = wait(hub, "alice", submit(hub, "alice", spec)["id"], timeout=60)
    assert done["status"] == "failed", done
    # the database's statement_timeout, or the run's own timeout, whichever comes first
    assert re.search("statement timeout|timed out after 2 s", done["reason"]), done["reason"]


def test_another_team_cannot_use_the_connection(hub: Hub, warehouse: tuple[str, str]) -> None:
    connection, _ = warehouse
    mine = sql_spec("steal", connection, "SELECT 1")
    mine["meta"] = {"name": "steal", "team": "ml-platform"}
    r = hub.api("POST", "experiments", user="carol", json=mine)
    assert r.status_code == 400 and "has no connection" in r.json()["message"], r.text
    r = hub.api("POST", "experiments", user="carol", json=sql_spec("steal", connection, "SELECT 1"))
    assert r.status_code in (403, 404), r.text  # not a member of the connection's team


def test_the_cli_sdk_and_magic_run_a_query(hub: Hub, warehouse: tuple[str, str]) -> None:
    from submarine_hub.client import SubmarineClient
    from submarine_hub.client.magics import MagicError
    from submarine_hub.client.magics_sql import run_cell

    connection, table = warehouse
    env = as_user(hub, "alice")
    done = submarine(
        "experiment", "sql", f"SELECT city, n FROM {table} WHERE n > :least ORDER BY n",
        "--connection", connection, "-p", "least=4", "--team", TEAM, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == ["city\tn", "Lima\t5", "Lima\t9"], done.stdout
    assert "(2 rows; run " in done.stdout
    bad = submarine("experiment", "sql", "SELECT 1", "--team", TEAM, env=env)
    assert bad.returncode != 0 and "--connection NAME or --spark" in bad.stderr
    client = SubmarineClient(env["SUBMARINE_API_URL"], env["SUBMARINE_TOKEN"])
    try:
        run = client.sql("SELECT count(*) AS n FROM " + table, connection=connection, team=TEAM)
        assert run["status"] == "succeeded" and run["result"]["preview"] == [{"n": 4}]
        shown = run_cell(client, f"--connection {connection} -p city Oslo --team {TEAM}",
                         f"SELECT sum(n) AS total FROM {table} WHERE city = :city")  # fmt: skip
        assert shown.preview == [{"total": 7}] and "<td>7</td>" in shown._repr_html_()
        with pytest.raises(MagicError, match="does not exist"):
            run_cell(client, f"--connection {connection} --team {TEAM}", "SELECT * FROM nope")
    finally:
        client.close()
