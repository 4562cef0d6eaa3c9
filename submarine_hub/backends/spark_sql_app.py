"""The Spark application of a Spark SQL run (``task: {sql: {engine: spark, ...}}``).

Runs the query on the cluster with its parameters bound by Spark (``spark.sql(query,
args=...)``, ``:name`` markers), brings at most ``max_rows`` + 1 rows to the driver as
Arrow, and writes the same ``result.parquet`` / ``result.csv`` / ``result.json`` as a
query against a connection (:mod:`submarine_hub.backends.sql_run`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from . import sql_run


def main() -> int:
    out = Path(os.environ["SUBMARINE_ARTIFACTS_DIR"])
    task = json.loads(os.environ["SUBMARINE_SQL_TASK"])
    try:
        query = sql_run.read_query(task, Path.cwd())
    except (OSError, ValueError) as e:
        return sql_run.fail(out, f"cannot read the query: {e}")
    max_rows = int(task["max_rows"])
    spark = SparkSession.builder.getOrCreate()
    try:
        frame = spark.sql(query, args=task.get("parameters") or {})
        table = frame.limit(max_rows + 1).toArrow()
        if table.num_rows > max_rows:
            return sql_run.fail(out, sql_run.too_many(max_rows))
        summary = sql_run.write_result(table, out, task)
    except PySparkException as e:
        return sql_run.fail(out, str(e).strip().splitlines()[0])
    finally:
        spark.stop()
    print(f"{summary['rows']} rows, columns {summary['columns']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
