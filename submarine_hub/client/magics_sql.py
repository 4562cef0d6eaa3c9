"""``%%submarine_sql``: the cell's query as a SQL run; its first rows shown as a table.

::

    %%submarine_sql --connection warehouse -p day 2026-11-30 [--dataset trips-by-day]
    SELECT city, count(*) AS trips FROM trips WHERE day = :day GROUP BY city

``--spark`` runs it as Spark SQL on the cluster instead; ``--csv``, ``--max-rows N``,
``--team T``, ``--name N``, ``--timeout S`` as for ``submarine experiment sql``.
Parameters (``-p NAME VALUE``) are bound by the database, never formatted into the text.
"""

from __future__ import annotations

import html
import shlex
from typing import Any

from .client import SubmarineClient


class SqlResult:
    """A SQL run's result: its first rows, row count and run (rich in a notebook)."""

    def __init__(self, run: dict[str, Any], result: dict[str, Any]) -> None:
        self.run, self.result = run, result
        self.rows: int = result["rows"]
        self.columns: list[str] = result["columns"]
        self.preview: list[dict[str, Any]] = result["preview"]

    def _footer(self) -> str:
        return (
            f"{self.rows} rows (first {len(self.preview)} shown); run {self.run['id']}, "
            "artifact result.parquet"
        )

    def __repr__(self) -> str:
        lines = ["\t".join(self.columns)]
        lines += ["\t".join(str(r.get(c)) for c in self.columns) for r in self.preview]
        return "\n".join([*lines, self._footer()])

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(r.get(c)))}</td>" for c in self.columns)
            + "</tr>"
            for r in self.preview
        )  # fmt: skip
        return (
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>{html.escape(self._footer())}</p>"
        )


def parse_line(line: str) -> dict[str, Any]:
    """The options of ``%%submarine_sql``'s line, as :func:`sdk_sql.sql_spec` takes them."""
    from .magics import MagicError, _Parser, _split_params, _value

    parser = _Parser(prog="%%submarine_sql")
    parser.add_argument("-c", "--connection")
    parser.add_argument("--spark", action="store_true")
    parser.add_argument("-p", "--param", nargs=2, action="append", default=[])
    parser.add_argument("--name", default="sql")
    parser.add_argument("--team")
    parser.add_argument("--dataset")
    parser.add_argument("--max-rows", type=int)
    parser.add_argument("--csv", action="store_true")
    parser.add_argument("--timeout", type=float)
    args = parser.parse_args(_split_params(shlex.split(line)))
    if bool(args.connection) == args.spark:
        raise MagicError("%%submarine_sql: give either --connection NAME or --spark.")
    return {
        "connection": args.connection,
        "engine": "spark" if args.spark else None,
        "parameters": {k: _value(v) for k, v in args.param},
        "name": args.name,
        "team": args.team,
        "dataset": args.dataset,
        "max_rows": args.max_rows,
        "csv": args.csv,
        "timeout": args.timeout,
    }


def run_cell(client: SubmarineClient, line: str, cell: str) -> SqlResult:
    from .magics import MagicError

    if not cell.strip():
        raise MagicError("%%submarine_sql: the cell holds no query.")
    run = client.sql(cell, **parse_line(line))
    if run["status"] != "succeeded":
        raise MagicError(f"SQL run {run['id']} {run['status']}: {run['reason']}")
    return SqlResult(run, run["result"])
