"""Parquet previews of run artifacts (core/previews.py and
``GET /experiments/{run_id}/artifacts/preview``): the head of a file read without reading
it all, every Arrow type made JSON-ready; files that are not Parquet, paths that leave
the run's folder and bad row counts refused with a message; another team refused."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from submarine_hub.core.errors import InvalidInput
from submarine_hub.core.previews import parquet_head

from .helpers.api import assert_json_error, command, submit, wait
from .helpers.service import InProcessService


def _typed(path: Path, rows: int = 1000) -> Path:
    table = pa.table(
        {
            "id": pa.array(range(rows), pa.int64()),
            "label": [f"item, {i}" for i in range(rows)],
            "score": [0.5 if i % 3 else float("nan") for i in range(rows)],
            "when": [dt.datetime(2026, 12, 3, 12, 0, i % 60) for i in range(rows)],
            "day": [dt.date(2026, 12, 3)] * rows,
            "raw": [b"\x00\x01"] * rows,
            "price": pa.array([decimal.Decimal("1.25")] * rows, pa.decimal128(5, 2)),
            "tags": [["a", "b"]] * rows,
            "extra": [{"k": i} for i in range(rows)],
            "note": [None if i % 2 else "x" * 1500 for i in range(rows)],
        }
    )
    pq.write_table(table, path, row_group_size=100)
    return path


def test_the_head_of_a_parquet_file_json_ready(tmp_path: Path) -> None:
    head = parquet_head(_typed(tmp_path / "t.parquet"), rows=3)
    assert head["format"] == "parquet" and head["num_rows"] == 1000
    assert head["num_columns"] == 10
    assert [c["name"] for c in head["columns"]][:3] == ["id", "label", "score"]
    types = {c["name"]: c["type"] for c in head["columns"]}
    assert types["id"] == "int64" and types["label"] == "string"
    assert types["price"] == "decimal128(5, 2)" and types["tags"] == "list<element: string>"
    first, second = head["rows"][0], head["rows"][1]
    assert first[:3] == [0, "item, 0", None]  # NaN: null
    assert second[2] == 0.5
    assert first[3] == "2026-12-03T12:00:00" and first[4] == "2026-12-03"
    assert first[5] == "AAE=" and first[6] == "1.25"
    assert first[7] == ["a", "b"] and first[8] == {"k": 0}
    assert first[9] == "x" * 1000 + "…" and second[9] is None
    assert len(head["rows"]) == 3
    # more rows than a record batch: still only what was asked
    assert len(parquet_head(tmp_path / "t.parquet", rows=150)["rows"]) == 150


def test_wide_files_show_their_first_100_columns(tmp_path: Path) -> None:
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({f"c{i}": [i] for i in range(150)}), path)
    head = parquet_head(path)
    assert len(head["columns"]) == 100 and head["num_columns"] == 150
    assert head["rows"] == [list(range(100))]


@pytest.mark.parametrize(
    ("content", "rows", "words"),
    [
        (b"id,label\n1,a\n", 20, "not a Parquet file"),
        (b"", 20, "not a Parquet file"),
        (b"PAR1garbagePAR1", 20, "not a Parquet file"),
        (None, 0, "'rows' must be between 1 and 200"),
        (None, 201, "'rows' must be between 1 and 200"),
    ],
)
def test_what_is_not_a_readable_parquet_file_is_refused(
    tmp_path: Path, content: bytes | None, rows: int, words: str
) -> None:
    path = tmp_path / "bad.parquet"
    if content is None:
        pq.write_table(pa.table({"x": [1]}), path)
    else:
        path.write_bytes(content)
    with pytest.raises(InvalidInput, match=words):
        parquet_head(path, rows=rows)


@pytest.fixture(scope="module")
def run(service: InProcessService) -> dict[str, Any]:
    team = service.new_team("preview")
    user = service.new_user("preview", [team])
    other = service.new_user("outsider", [service.new_team("outsiders")])
    rid = wait(service, user, submit(service, user, command("preview", "true", team=team))["id"])[
        "id"
    ]
    folder = service.backend.artifacts_dir(rid)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    _typed(folder / "data" / "predictions.parquet")
    (folder / "log.txt").write_text("not parquet\n")
    (folder / "fake.parquet").write_text("not parquet either\n")
    return {"id": rid, "user": user, "other": other}


def _preview(run: dict[str, Any], **query: Any) -> str:
    return f"experiments/{run['id']}/artifacts/preview?{urlencode(query)}"


def test_a_runs_parquet_artifact_previewed(service: InProcessService, run: dict[str, Any]) -> None:
    r = service.api("GET", _preview(run, path="data/predictions.parquet"), user=run["user"])
    assert r.status_code == 200, r.text
    head = r.json()
    assert head["num_rows"] == 1000 and len(head["rows"]) == 20
    assert head["rows"][0][:2] == [0, "item, 0"]
    r = service.api("GET", _preview(run, path="data/predictions.parquet", rows=5), user=run["user"])
    assert len(r.json()["rows"]) == 5


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ({}, 400, "Name the artifact"),
        ({"path": "log.txt"}, 400, "Parquet files"),
        ({"path": "fake.parquet"}, 400, "not a Parquet file"),
        ({"path": "none.parquet"}, 404, "no artifact 'none.parquet'"),
        ({"path": "../../../etc/passwd.parquet"}, 400, ""),
        ({"path": "/etc/x.parquet"}, 400, ""),
        ({"path": "data/predictions.parquet", "rows": 0}, 400, "'rows'"),
        ({"path": "data/predictions.parquet", "rows": 500}, 400, "'rows'"),
    ],
)
def test_bad_previews_are_refused_with_a_message(
    service: InProcessService, run: dict[str, Any], query: dict[str, Any], status: int, words: str
) -> None:
    assert_json_error(service.api("GET", _preview(run, **query), user=run["user"]), status, words)


def test_another_team_is_refused(service: InProcessService, run: dict[str, Any]) -> None:
    r = service.api("GET", _preview(run, path="data/predictions.parquet"), user=run["other"])
    assert r.status_code == 404 and "item" not in r.text
    r = service.api("GET", _preview(run, path="data/predictions.parquet"), user="carol")
    assert r.status_code == 404
