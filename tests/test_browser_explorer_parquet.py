"""A run's Parquet artifact previewed in the run explorer, in Debian's chromium against
the real hub: a run tracked as a notebook's SDK does keeps a 5,000-row Parquet file; its
artifact tree previews the head (each column's type under its name, the first 20 rows,
the file's size in rows and columns), read by the service; carol, of another team, is
refused the same preview."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .helpers.api import assert_json_error
from .helpers.browser import IMAGES, open_lab
from .helpers.hub import Hub

pytestmark = [pytest.mark.hub, pytest.mark.browser]

TEAM = "data-science"
ROWS = 5000


def _parquet() -> bytes:
    table = pa.table(
        {
            "id": pa.array(range(ROWS), pa.int64()),
            "label": [("cat", "dog", "bird, small")[i % 3] for i in range(ROWS)],
            "score": [round(0.5 + (i % 50) / 100, 2) for i in range(ROWS)],
            "when": [dt.datetime(2026, 12, 3, 12, 0, i % 60) for i in range(ROWS)],
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=1000)
    return buf.getvalue()


def _run_with_parquet(hub: Hub) -> int:
    r = hub.api("POST", "tracking/runs", user="alice", json={"name": "parquet-out", "team": TEAM})
    assert r.status_code == 201, r.text
    rid: int = r.json()["id"]
    path = "data/predictions.parquet"
    put = hub.api("PUT", f"experiments/{rid}/artifacts?path={path}", user="alice", data=_parquet())
    assert put.status_code == 201, put.text
    end = hub.api("POST", f"tracking/runs/{rid}/end", user="alice", json={"status": "succeeded"})
    assert end.status_code == 200, end.text
    return rid


def test_a_runs_parquet_artifact_previewed_in_the_explorer(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    rid = _run_with_parquet(hub)
    preview = f"experiments/{rid}/artifacts/preview?path=data/predictions.parquet"
    assert_json_error(hub.api("GET", preview, user="carol"), 404)
    context, page = open_lab(browser, hub, "alice")
    try:
        page.keyboard.press("Control+Shift+C")
        page.fill(".lm-CommandPalette-input", "Explore runs")
        page.keyboard.press("Enter")
        page.wait_for_selector('[data-testid="explorer-table"]')
        page.fill('[data-testid="explorer-filter"]', f"attributes.run_id = {rid}")
        page.click('[data-testid="explorer-search"]')
        page.click(f'[data-testid="explorer-row-{rid}"] .jp-SubmarineExplorer-name a')
        view = '[data-testid="artifacts-view"]'
        page.click(f'{view} [data-testid="artifact-data/predictions.parquet"]')
        table = page.wait_for_selector(f'{view} [data-testid="artifact-parquet"]')
        meta = page.inner_text(f'{view} [data-testid="artifact-parquet-meta"]')
        assert meta == f"{ROWS} rows \u00d7 4 columns; the first 20 rows shown", meta
        cells: list[list[Any]] = table.evaluate(
            "t => Array.from(t.querySelectorAll('tr')).map("
            "r => Array.from(r.children).map(c => c.innerText))"
        )
        assert len(cells) == 21
        assert [h.split("\n") for h in cells[0]] == [
            ["id", "int64"],
            ["label", "string"],
            ["score", "double"],
            ["when", "timestamp[us]"],
        ]
        assert cells[1] == ["0", "cat", "0.5", "2026-12-03T12:00:00"]
        assert cells[3][1] == "bird, small"
        assert page.is_visible(f'{view} [data-testid="artifact-download"]')
        page.screenshot(path=str(IMAGES / "run-explorer-parquet.png"))
    finally:
        context.close()
