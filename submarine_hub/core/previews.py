"""Previews of data files for the run explorer: the head of a Parquet file as JSON.

    head = parquet_head(Path("out/predictions.parquet"), rows=20)
    head["columns"]  # [{"name": "id", "type": "int64"}, ...]
    head["rows"]     # [[1, "cat", 0.91], ...] (JSON-ready values)
    head["num_rows"] # rows in the whole file

Only the first record batches are read (``iter_batches``), never the whole file. pyarrow
is optional (the ``parquet`` extra); without it a preview is refused with how to get it.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
from pathlib import Path
from typing import Any

from .errors import InvalidInput

MAX_PREVIEW_ROWS = 200
MAX_PREVIEW_COLUMNS = 100
MAX_CELL_CHARS = 1000


def _cell(value: Any) -> Any:
    """A JSON-ready cell: numbers and strings as they are, NaN/inf as None, times as ISO
    8601, bytes as base64, decimals as strings, nested values recursively; long text cut."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value if len(value) <= MAX_CELL_CHARS else value[:MAX_CELL_CHARS] + "…"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return _cell(base64.b64encode(value).decode())
    if isinstance(value, dict):
        return {str(k): _cell(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cell(v) for v in value]
    return _cell(str(value))


def parquet_head(path: Path, rows: int = 20) -> dict[str, Any]:
    """The first ``rows`` rows of the Parquet file at ``path`` (at most 100 columns)."""
    if isinstance(rows, bool) or not 1 <= rows <= MAX_PREVIEW_ROWS:
        raise InvalidInput(f"'rows' must be between 1 and {MAX_PREVIEW_ROWS}.")
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InvalidInput(
            "Parquet previews need pyarrow on the service: pip install 'submarine-hub[parquet]'."
        ) from None
    try:
        f = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise InvalidInput(
            f"{path.name} is not a Parquet file this preview can read: {e}"
        ) from None
    with f:
        schema = f.schema_arrow
        fields = list(schema)[:MAX_PREVIEW_COLUMNS]
        names = [field.name for field in fields]
        out_rows: list[list[Any]] = []
        try:
            for batch in f.iter_batches(batch_size=rows, columns=names):
                for record in batch.to_pylist():
                    out_rows.append([_cell(record.get(n)) for n in names])
                    if len(out_rows) >= rows:
                        break
                if len(out_rows) >= rows:
                    break
        except (pa.ArrowException, OSError) as e:
            raise InvalidInput(f"Cannot read {path.name}: {e}") from None
        return {
            "format": "parquet",
            "columns": [{"name": field.name, "type": str(field.type)} for field in fields],
            "rows": out_rows,
            "num_rows": f.metadata.num_rows,
            "num_columns": len(schema.names),
        }


__all__ = ["MAX_PREVIEW_ROWS", "parquet_head"]
