"""SQL runs (``task: {sql: ...}``): a query against a team's named connection, or Spark SQL.

::

    task:
      sql:
        query: "SELECT city, count(*) AS n FROM trips WHERE day = :day GROUP BY city"
        parameters: {day: "2026-11-30"}     # bound by the driver, never formatted in
        connection: warehouse              # a credential of the run's team: a SQLAlchemy URL
        # engine: spark                    # instead: Spark SQL on the Spark backend
        max_rows: 100000                   # more rows fail the run (default 1,000,000)
        formats: [parquet, csv]            # parquet always
        dataset: trips-by-city             # register the result as a dataset (lineage)

The query runs in the run's process (``submarine_hub.backends.sql_run``); the result lands
in the run's artifacts as ``result.parquet`` (and ``result.csv``), with ``result.json``
holding its row count, schema and first rows. When the run ends the service records the
row count and schema as the run's params and metrics, the database's error as the run's
reason, and registers the dataset (its ``source_run_id`` is the run: lineage
run -> dataset).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import Credential, Dataset, Experiment
from ..crypto import Crypt
from ..datasets import NAME as DATASET_NAME
from ..errors import InvalidInput
from ..paths import safe_relpath
from . import spark

log = logging.getLogger("submarine_hub.sql")

KIND = "sql"
RUNNER_MODULE = "submarine_hub.backends.sql_run"
SPARK_APP_MODULE = "submarine_hub.backends.spark_sql_app"
RESULT = "result.parquet"
RESULT_CSV = "result.csv"
SUMMARY = "result.json"
MAX_ROWS_DEFAULT = 1_000_000
MAX_ROWS_CAP = 100_000_000
PREVIEW_ROWS = 20
#: the run's variables: the task (JSON) and the connection's URL
TASK_ENV = "SUBMARINE_SQL_TASK"
URL_ENV = "SUBMARINE_SQL_URL"

_SCALAR = {"type": ["string", "number", "boolean", "null"]}

SQL_TASK: dict[str, Any] = {
    "additionalProperties": False,
    "required": ["sql"],
    "properties": {
        "sql": {
            "type": "object",
            "description": "A query with bound parameters (:name) against a team's connection, "
            "or Spark SQL.",
            "additionalProperties": False,
            "properties": {
                "query": {"type": "string", "minLength": 1, "maxLength": 1_000_000},
                "file": {"type": "string", "minLength": 1},
                "parameters": {
                    "type": "object",
                    "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"},
                    "additionalProperties": _SCALAR,
                },
                "connection": {"type": "string", "minLength": 1},
                "engine": {"enum": ["sqlalchemy", "spark"]},
                "max_rows": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS_CAP},
                "formats": {
                    "type": "array",
                    "items": {"enum": ["parquet", "csv"]},
                    "uniqueItems": True,
                },
                "dataset": {"type": "string", "pattern": DATASET_NAME.pattern},
                # Spark SQL (engine: spark): the driver and executors, as for task.spark
                "driver": spark.SPARK_TASK["properties"]["spark"]["properties"]["driver"],
                "executor": spark.SPARK_TASK["properties"]["spark"]["properties"]["executor"],
            },
            "oneOf": [{"required": ["query"]}, {"required": ["file"]}],
        }
    },
}


def normalize(spec: dict[str, Any], given_roles: Any) -> None:
    """Fill a SQL task's defaults (in place); a Spark SQL task becomes a Spark run."""
    task = spec["task"]["sql"]
    engine = task.setdefault("engine", "sqlalchemy")
    if engine == "sqlalchemy" and not task.get("connection"):
        raise InvalidInput(
            "Invalid experiment spec: task.sql.connection names the team credential holding "
            "the database's SQLAlchemy URL (or give engine: spark for Spark SQL)."
        )
    if engine == "spark" and task.get("connection"):
        raise InvalidInput(
            "Invalid experiment spec: Spark SQL (engine: spark) takes no connection."
        )
    if given_roles:
        raise InvalidInput("Invalid experiment spec: a SQL run has no 'spec' roles.")
    if "file" in task:
        safe_relpath(task["file"], what="task.sql.file")
    task.setdefault("parameters", {})
    task.setdefault("max_rows", MAX_ROWS_DEFAULT)
    task["formats"] = sorted({"parquet", *(task.get("formats") or [])}, key="parquet csv".index)
    if engine == "spark":
        probe: dict[str, Any] = {"meta": spec["meta"], "task": {"spark": _spark_app(task)}}
        spark.normalize(probe, None)
        task["driver"] = probe["task"]["spark"]["driver"]
        task["executor"] = probe["task"]["spark"]["executor"]
        spec["spec"], spec["resources"] = probe["spec"], probe["resources"]
    elif "driver" in task or "executor" in task:
        raise InvalidInput("Invalid experiment spec: driver and executor go with engine: spark.")


def _spark_app(task: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"module": SPARK_APP_MODULE, "args": [], "conf": {}}
    for key in ("driver", "executor"):
        if key in task:
            out[key] = dict(task[key])
    return out


def spark_task(spec: dict[str, Any]) -> dict[str, Any] | None:
    """The Spark application a run starts: its ``task.spark``, or Spark SQL's own app."""
    task = spec["task"]
    if "spark" in task:
        return dict(task["spark"])
    if "sql" in task and task["sql"].get("engine") == "spark":
        return _spark_app(task["sql"])
    return None


def runner_argv() -> list[str]:
    return ["python", "-m", RUNNER_MODULE]


def task_json(spec: dict[str, Any]) -> str:
    """The task as the run's process reads it (with the run's timeout)."""
    task = {**spec["task"]["sql"], "timeout": spec.get("timeout")}
    return json.dumps(task, separators=(",", ":"))


async def connection_credential(session: AsyncSession, team: str, name: str) -> Credential | None:
    """The team's credential ``name`` (only a team's credential is a connection)."""
    return await session.scalar(
        select(Credential).where(
            Credential.owner_kind == "team", Credential.owner == team, Credential.name == name
        )
    )


async def check_connection(session: AsyncSession, team: str, spec: dict[str, Any]) -> None:
    """A SQL task's connection is a credential of the run's own team."""
    task = spec["task"].get("sql")
    if not task or not task.get("connection"):
        return
    if await connection_credential(session, team, task["connection"]) is None:
        raise InvalidInput(
            f"Team {team!r} has no connection {task['connection']!r}: a connection is a "
            "credential of the run's team holding a SQLAlchemy URL (see 'submarine "
            "credential list'); another team's cannot be used."
        )


async def connection_url(session: AsyncSession, crypt: Crypt, row: Experiment) -> dict[str, str]:
    """The run's variable holding its connection's URL ({} when it has none)."""
    task = row.spec["task"].get("sql") or {}
    if not task.get("connection"):
        return {}
    cred = await connection_credential(session, row.team, task["connection"])
    if cred is None:
        raise KeyError(f"connection {task['connection']!r}")
    return {URL_ENV: crypt.decrypt(cred.ciphertext).decode("utf-8", errors="replace")}


def read_summary(location: str) -> dict[str, Any] | None:
    """``result.json`` of a run's artifacts (a folder or an fsspec URL), or None."""
    import fsspec

    try:
        with fsspec.open(f"{location.rstrip('/')}/{SUMMARY}", "r") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


async def record_result(
    session: AsyncSession, row: Experiment, location: str
) -> dict[str, Any] | None:
    """After a SQL run ended: its row count and schema as params and a metric, the
    database's error as its reason, and its dataset registered (lineage run -> dataset)."""
    from . import metrics, runs

    if "sql" not in row.spec["task"]:
        return None
    summary = read_summary(location)
    if summary is None:
        return None
    if summary.get("error") and row.status == "failed":
        first = (str(summary["error"]).strip().splitlines() or [""])[0]  # the rest: its log
        row.reason = f"the query failed: {first}"[:4000]
        return summary
    if row.status != "succeeded" or "rows" not in summary:
        return summary
    schema = summary.get("schema") or {}
    await metrics.log_batch(
        session,
        runs.run_identity(row),
        row.id,
        {
            "metrics": [{"key": "sql.rows", "value": summary["rows"]}],
            "params": {
                "sql.rows": summary["rows"],
                "sql.schema": json.dumps(schema, separators=(",", ":")),
                "sql.result": f"{location.rstrip('/')}/{RESULT}",
            },
        },
    )
    name = row.spec["task"]["sql"].get("dataset")
    if name:
        await register_dataset(session, row, name, location, summary)
    return summary


async def register_dataset(
    session: AsyncSession, row: Experiment, name: str, location: str, summary: dict[str, Any]
) -> Dataset | None:
    """The run's result as dataset ``team/name``: a new one, or a new result of one that
    earlier runs produced (a dataset registered by hand is never overwritten)."""
    uri = f"{location.rstrip('/')}/{RESULT}"
    values = {
        "uri": uri,
        "format": "parquet",
        "schema": summary.get("schema"),
        "size": summary.get("bytes"),
        "source_run_id": row.id,
    }
    found = await session.scalar(
        select(Dataset).where(Dataset.team == row.team, Dataset.name == name)
    )
    if found is not None and found.source_run_id is None:
        row.reason = f"dataset {row.team}/{name} exists and was not made by a run: not registered"
        return None
    if found is None:
        found = Dataset(
            team=row.team,
            name=name,
            owner=row.owner,
            description=f"result of SQL run {row.id} ({row.name})",
            tags=["sql"],
            **values,
        )
        session.add(found)
    else:
        for key, value in values.items():
            setattr(found, key, value)
    await session.flush()
    return found
