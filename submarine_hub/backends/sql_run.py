"""The process of a SQL run: ``python -m submarine_hub.backends.sql_run``.

Reads the task (``SUBMARINE_SQL_TASK``, see :mod:`submarine_hub.core.experiments.sql`)
and the connection's SQLAlchemy URL (``SUBMARINE_SQL_URL``), runs the query with its
parameters bound by the database driver (``sqlalchemy.text`` and ``:name`` markers, never
formatted into the text), and writes into ``$SUBMARINE_ARTIFACTS_DIR``:

- ``result.parquet`` (pyarrow), and ``result.csv`` when asked for;
- ``result.json``: ``{rows, columns, schema, bytes, preview}``, or ``{error}`` when the
  database refused the query (its own message), the result was over ``max_rows``, or the
  query ran past the run's timeout (PostgreSQL's ``statement_timeout``).

The exit code is 0 on success, 1 otherwise; Spark SQL (``spark_sql_app``) writes the same.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..core.errors import InvalidInput
from ..core.experiments import sql as sql_task
from ..core.paths import safe_relpath

BATCH_ROWS = 10_000


class ResultTooLarge(Exception):
    pass


def read_query(task: dict[str, Any], workdir: Path) -> str:
    """The task's query: inline, or a ``.sql`` file of the run's code (contained)."""
    if "query" in task:
        return str(task["query"])
    rel = safe_relpath(task["file"], what="task.sql.file")
    path = (workdir / rel).resolve()
    if not path.is_relative_to(workdir.resolve()):
        raise ValueError(f"task.sql.file {task['file']!r} is outside the run's code")
    return path.read_text()


def arrow_schema(table: pa.Table) -> dict[str, str]:
    return {f.name: str(f.type) for f in table.schema}


def write_result(table: pa.Table, out: Path, task: dict[str, Any]) -> dict[str, Any]:
    """Write the result's files and summary; the summary (also ``result.json``)."""
    pq.write_table(table, out / sql_task.RESULT)
    if "csv" in task.get("formats", []):
        pacsv.write_csv(table, out / sql_task.RESULT_CSV)
    preview = table.slice(0, sql_task.PREVIEW_ROWS).to_pylist()
    summary = {
        "rows": table.num_rows,
        "columns": table.column_names,
        "schema": arrow_schema(table),
        "bytes": (out / sql_task.RESULT).stat().st_size,
        "preview": json.loads(json.dumps(preview, default=str)),
    }
    write_summary(out, summary)
    return summary


def write_summary(out: Path, summary: dict[str, Any]) -> None:
    tmp = out / (sql_task.SUMMARY + ".tmp")
    tmp.write_text(json.dumps(summary, default=str))
    tmp.replace(out / sql_task.SUMMARY)


def fail(out: Path, message: str) -> int:
    print(f"SQL run failed: {message}", file=sys.stderr, flush=True)
    write_summary(out, {"error": message})
    return 1


def too_many(max_rows: int) -> str:
    return (
        f"the result has more than {max_rows} rows (task.sql.max_rows); narrow the query "
        "(WHERE, LIMIT, aggregate) or raise max_rows"
    )


def run_query(url: str, query: str, task: dict[str, Any], timeout: float | None) -> pa.Table:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    parsed = make_url(url)
    if parsed.drivername == "postgresql" and importlib.util.find_spec("psycopg2") is None:
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver the platform has
    connect_args: dict[str, Any] = {}
    if timeout and parsed.get_backend_name() == "postgresql":
        # the database stops the statement itself at the run's timeout
        connect_args["options"] = f"-c statement_timeout={int(timeout * 1000)}"
    engine = create_engine(parsed, connect_args=connect_args, poolclass=NullPool)
    max_rows = int(task["max_rows"])
    try:
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(
                text(query), task.get("parameters") or {}
            )
            if not result.returns_rows:
                return pa.table({})
            columns = list(result.keys())
            rows: list[tuple[Any, ...]] = []
            for part in result.partitions(BATCH_ROWS):
                rows.extend(tuple(r) for r in part)
                if len(rows) > max_rows:
                    raise ResultTooLarge(too_many(max_rows))
    finally:
        engine.dispose()
    return pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})


def main() -> int:
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    out = Path(os.environ["SUBMARINE_ARTIFACTS_DIR"])
    task = json.loads(os.environ[sql_task.TASK_ENV])
    url = os.environ.get(sql_task.URL_ENV, "")
    timeout = task.get("timeout")
    try:
        query = read_query(task, Path.cwd())
    except InvalidInput as e:
        return fail(out, e.message)
    except (OSError, ValueError) as e:
        return fail(out, f"cannot read the query: {e}")
    try:
        table = run_query(url, query, task, timeout)
    except ResultTooLarge as e:
        return fail(out, str(e))
    except DBAPIError as e:
        # the database's own message (e.orig), without SQLAlchemy's statement echo
        return fail(out, str(e.orig).strip() if e.orig is not None else str(e))
    except SQLAlchemyError as e:
        return fail(out, str(e).split("\n(Background")[0])
    except (pa.ArrowException, TypeError, ValueError) as e:
        return fail(out, f"the result cannot be written as Parquet: {e}")
    summary = write_result(table, out, task)
    print(f"{summary['rows']} rows, columns {summary['columns']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
