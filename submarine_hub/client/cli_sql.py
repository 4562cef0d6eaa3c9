"""``submarine experiment sql`` and ``submarine experiment spark``: a query as a run, and
a Spark run's application."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .cli import _call, _client, _emit
from .cli_experiments import _params, experiment
from .sdk_sql import sql_spec


@experiment.command("sql")
@click.argument("query")
@click.option("-c", "--connection", help="A connection: a credential of the team (its URL).")
@click.option("--spark", "on_spark", is_flag=True, help="Run it as Spark SQL on the cluster.")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A bound parameter (:KEY in the query).")  # fmt: skip
@click.option("--name", default="sql", show_default=True, help="The run's name.")
@click.option("--team", help="The team to run in.")
@click.option("--dataset", help="Register the result as this dataset of the team.")
@click.option("--max-rows", type=int, help="Fail past this many rows (default 1,000,000).")
@click.option("--csv", is_flag=True, help="Also write result.csv.")
@click.option("--timeout", type=float, help="Seconds before the run is stopped.")
@click.option("--no-wait", is_flag=True, help="Submit and return.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def exp_sql(
    query: str,
    connection: str | None,
    on_spark: bool,
    params: tuple[str, ...],
    name: str,
    team: str | None,
    dataset: str | None,
    max_rows: int | None,
    csv: bool,
    timeout: float | None,
    no_wait: bool,
    as_json: bool,
) -> None:
    """Run QUERY (or @FILE.sql) as a SQL run; print its first rows."""
    if query.startswith("@"):
        query = Path(query[1:]).read_text()
    if bool(connection) == on_spark:
        raise click.UsageError("Give either --connection NAME or --spark.")
    spec = sql_spec(
        query, connection=connection, engine="spark" if on_spark else None,
        parameters=_params(params), name=name, team=team, dataset=dataset,
        max_rows=max_rows, csv=csv, timeout=timeout,
    )  # fmt: skip
    with _client() as client:
        run = _call(client.submit, spec)
        if no_wait:
            _emit(run, as_json, f"Submitted SQL run {run['id']} (team {run['team']}).")
            return
        run = _call(client.wait, run["id"])
        if run["status"] != "succeeded":
            click.echo(f"run {run['id']} {run['status']}: {run['reason']}", err=True)
            sys.exit(1)
        result = _call(client.sql_result, run["id"])
        if as_json:
            click.echo(json.dumps({"run": run, "result": result}, indent=2))
            return
        columns = result["columns"]
        click.echo("\t".join(columns))
        for row in result["preview"]:
            click.echo("\t".join(str(row.get(c)) for c in columns))
        more = result["rows"] - len(result["preview"])
        click.echo(
            f"({result['rows']} rows; run {run['id']}, artifact result.parquet"
            + (f"; {more} more rows there" if more > 0 else "")
            + (f"; dataset {run['team']}/{dataset}" if dataset else "")
            + ")"
        )


@experiment.command("spark")
@click.argument("run_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def exp_spark(run_id: int, as_json: bool) -> None:
    """A Spark run's application: its executors and live UI (through the hub)."""
    with _client() as client:
        app = _call(client.spark_application, run_id)
        ui = f"{client.api_url.rstrip('/')}/{app['ui']}" if app.get("ui") else "(ended)"
        text = (
            f"{app.get('name')} {app.get('app_id') or ''} on {app.get('master')}: "
            f"{'running' if app['running'] else 'not running'}, {app['executors']} executor(s), "
            f"{app.get('cores', 0)} core(s)\nUI: {ui}\nevent log: artifacts {app['event_log']}"
        )
        _emit(app, as_json, text)
