"""The run explorer in JupyterLab's main area, in Debian's chromium against the real hub:
200 runs filtered to a sweep's children by a metric expression and sorted; three runs
compared on overlaid charts (hover shows values); a grid's parallel coordinates; a run's
artifact tree previewing a PNG, a CSV and a notebook; another team finding none of it.

The 200 runs are written straight into the hub's metastore (as bench/run_search.py does),
the compared runs and the artifacts go through the API as a run's SDK sends them."""

from __future__ import annotations

import json
import math
import struct
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests
from sqlalchemy import create_engine, func, insert, select

from submarine_hub.store.models import Experiment, ExperimentTag, LatestMetric, Metric, Param

from .helpers.api import assert_json_error, wait_for
from .helpers.browser import IMAGES, open_lab
from .helpers.hub import Hub

pytestmark = [pytest.mark.hub, pytest.mark.browser]

TEAM = "data-science"
CSV = b'id,label,score\n1,cat,0.91\n2,dog,0.87\n3,"bird, small",0.42\n'
ROWS = '[data-testid="explorer-table"] tbody tr'
GRID = [(lr, depth) for lr in (0.3, 0.1, 0.03, 0.01) for depth in (2, 4, 8, 16, 32)]  # 20


def _accuracy(lr: float, depth: int) -> float:
    return round(0.6 + 0.3 * math.exp(-abs(math.log10(lr) + 1.3)) + 0.02 * math.log2(depth), 4)


def _seed(hub: Hub) -> int:
    """A grid sweep of alice's team (a parent and 20 children over lr x depth, each with an
    accuracy and a loss history) among 179 other runs: 200 in all. Returns the parent."""
    engine = create_engine(f"sqlite:///{hub.data_dir / 'submarine.sqlite'}")
    now = datetime.now(timezone.utc) - timedelta(hours=3)

    def run(i: int, name: str, kind: str = "command", parent: int | None = None) -> dict:
        when = now + timedelta(seconds=30 * i)
        return {
            "name": name, "team": TEAM, "owner": "alice", "kind": kind, "status": "succeeded",
            "reason": "", "backend": "local", "kill_requested": False, "parent_id": parent,
            "spec": {"meta": {"name": name, "team": TEAM, "tags": ["explorer"]},
                     "task": {"command": ["true"]}},
            "created_at": when, "launched_at": when, "started_at": when,
            "finished_at": when + timedelta(seconds=20 + i % 40), "exit_code": 0,
        }  # fmt: skip

    with engine.begin() as conn:
        first = conn.execute(select(func.coalesce(func.max(Experiment.id), 0))).scalar_one() + 1
        parent = first + 179  # the baselines first: the sweep is the newest top-level run
        rows = [run(k, f"baseline-{k}") for k in range(179)]
        rows += [run(179, "grid-search", "sweep")]
        rows += [
            run(180 + k, f"grid-lr{lr}-d{depth}", parent=parent)
            for k, (lr, depth) in enumerate(GRID)
        ]
        conn.execute(insert(Experiment), rows)
        ids = list(range(first, first + len(rows)))
        conn.execute(insert(ExperimentTag), [{"experiment_id": i, "tag": "explorer"} for i in ids])
        params, points, latest = [], [], []
        for k, (lr, depth) in enumerate(GRID):
            rid = parent + 1 + k
            params += [{"experiment_id": rid, "key": "lr", "value": str(lr)},
                       {"experiment_id": rid, "key": "depth", "value": str(depth)}]  # fmt: skip
            acc = _accuracy(lr, depth)
            for step in range(10):
                for key, value in (("accuracy", acc * (1 - 0.5 ** (step + 1))),
                                   ("loss", (1 - acc) + 0.5 ** step)):  # fmt: skip
                    points.append({"experiment_id": rid, "key": key, "value": value,
                                   "step": step, "timestamp": now.timestamp() + step})  # fmt: skip
            for key, value in (("accuracy", acc * (1 - 0.5**10)), ("loss", (1 - acc) + 0.5**9)):
                latest.append({"experiment_id": rid, "key": key, "value": value, "step": 9,
                               "timestamp": now.timestamp() + 9})  # fmt: skip
        for k in range(179):  # baselines: an accuracy, some of them above 0.9 too
            rid = first + k
            acc = 0.5 + (k % 50) / 100
            params.append({"experiment_id": rid, "key": "lr", "value": "0.1"})
            points.append({"experiment_id": rid, "key": "accuracy", "value": acc, "step": 0,
                           "timestamp": now.timestamp()})  # fmt: skip
            latest.append({"experiment_id": rid, "key": "accuracy", "value": acc, "step": 0,
                           "timestamp": now.timestamp()})  # fmt: skip
        conn.execute(insert(Param), params)
        conn.execute(insert(Metric), points)
        conn.execute(insert(LatestMetric), latest)
    engine.dispose()
    return parent


def _png(width: int = 160, height: int = 100) -> bytes:
    """A small gradient PNG (what a run's plot would be)."""
    raw = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 160))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _notebook() -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Evaluation\nThe confusion matrix of the **best** trial."),
        nbformat.v4.new_code_cell(
            "print('accuracy', 0.93)",
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="accuracy 0.93\n")],
        ),
    ]
    return nbformat.writes(nb).encode()


def _tracked_runs(hub: Hub) -> list[int]:
    """Three runs as a notebook's SDK tracks them: params, a loss and an accuracy history;
    the first one also with artifacts (a plot, a CSV, a notebook, JSON)."""
    ids = []
    for n, (lr, speed) in enumerate([(0.1, 0.5), (0.03, 0.3), (0.01, 0.15)]):
        r = hub.api(
            "POST", "tracking/runs", user="alice", json={"name": f"cmp-lr{lr}", "team": TEAM}
        )
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        points = []
        for step in range(30):
            points.append(
                {"key": "loss", "value": 2 * math.exp(-speed * step) + 0.05, "step": step}
            )
            points.append(
                {"key": "accuracy", "value": 0.95 - 0.5 * math.exp(-speed * step), "step": step}
            )
        body = {"metrics": points, "params": {"lr": str(lr), "optimizer": "adam"}}
        assert (
            hub.api("POST", f"experiments/{rid}/metrics", user="alice", json=body).status_code
            == 201
        )
        if n == 0:
            files = {
                "plots/loss.png": _png(),
                "data/predictions.csv": CSV,
                "report/evaluation.ipynb": _notebook(),
                "summary.json": json.dumps({"best": {"lr": lr, "accuracy": 0.95}}).encode(),
            }
            for path, data in files.items():
                put = hub.api(
                    "PUT", f"experiments/{rid}/artifacts?path={path}", user="alice", data=data
                )
                assert put.status_code == 201, put.text
        end = hub.api(
            "POST", f"tracking/runs/{rid}/end", user="alice", json={"status": "succeeded"}
        )
        assert end.status_code == 200, end.text
        ids.append(rid)
    return ids


@pytest.fixture(scope="module")
def runs(hub: Hub) -> dict[str, Any]:
    return {"parent": _seed(hub), "tracked": _tracked_runs(hub)}


def _open_explorer(page: Any) -> None:
    """The command palette's "Submarine: Explore runs", as a person would."""
    page.keyboard.press("Control+Shift+C")
    page.fill(".lm-CommandPalette-input", "Explore runs")
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="explorer-table"]')


def _search(page: Any, text: str) -> None:
    page.fill('[data-testid="explorer-filter"]', text)
    page.click('[data-testid="explorer-search"]')


def _rows(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        '[data-testid="explorer-table"] tbody tr', "rows => rows.map(r => r.dataset.run)"
    )


def test_filter_200_runs_to_a_sweeps_children_by_a_metric_and_sort_them(  # type: ignore[no-untyped-def]
    browser, hub: Hub, runs: dict[str, Any]
) -> None:
    parent = runs["parent"]
    expected = sorted(
        ((_accuracy(lr, d) * (1 - 0.5**10), parent + 1 + k) for k, (lr, d) in enumerate(GRID)),
        reverse=True,
    )
    above = [rid for acc, rid in expected if acc > 0.85]
    assert 3 <= len(above) < 20  # the filter keeps some children, not all
    context, page = open_lab(browser, hub, "alice")
    try:
        _open_explorer(page)
        # folded: the sweep is one row, counting its 20 children and showing the best
        page.wait_for_selector(f'[data-testid="explorer-kids-{parent}"]')
        assert "20 runs" in page.inner_text(f'[data-testid="explorer-kids-{parent}"]')
        _search(page, f"attributes.parent_id = {parent} and metrics.accuracy > 0.85")
        page.wait_for_function(
            "([sel, n]) => document.querySelectorAll(sel).length === n", arg=[ROWS, len(above)]
        )
        # sort by accuracy, highest first: a click on its column header (sorted by the
        # service); a second click, lowest first
        header = '[data-testid="explorer-table"] th[data-sort="metrics.accuracy"]'
        page.click(header)
        page.wait_for_selector('th[data-sort="metrics.accuracy"][aria-sort="descending"]')
        page.wait_for_function(
            "first => document.querySelector('[data-testid=\"explorer-table\"] tbody tr')"
            "?.dataset.run === String(first)",
            arg=above[0],
        )
        assert [int(r) for r in _rows(page)] == above
        shown = page.eval_on_selector_all(
            'tbody td[data-column="metrics.accuracy"]', "cells => cells.map(c => +c.textContent)"
        )
        assert shown == sorted(shown, reverse=True) and min(shown) > 0.85
        page.click(header)
        page.wait_for_selector('th[data-sort="metrics.accuracy"][aria-sort="ascending"]')
        page.wait_for_function(
            "first => document.querySelector('[data-testid=\"explorer-table\"] tbody tr')"
            "?.dataset.run === String(first)",
            arg=above[-1],
        )
        page.click(header)
        page.wait_for_selector('th[data-sort="metrics.accuracy"][aria-sort="descending"]')
        page.wait_for_function(
            "first => document.querySelector('[data-testid=\"explorer-table\"] tbody tr')"
            "?.dataset.run === String(first)",
            arg=above[0],
        )
        page.screenshot(path=str(IMAGES / "run-explorer-filter.png"))
        # a bad expression: the service's message, with where the problem is
        _search(page, "metrics.accuracy > 0.9 or params.lr = '0.1'")
        error = page.wait_for_selector('[data-testid="explorer-error"]')
        assert "AND only" in error.inner_text() and "character 24" in error.inner_text()
    finally:
        context.close()


def test_compare_three_runs_on_overlaid_charts_with_values_on_hover(  # type: ignore[no-untyped-def]
    browser, hub: Hub, runs: dict[str, Any]
) -> None:
    tracked = runs["tracked"]
    context, page = open_lab(browser, hub, "alice")
    try:
        _open_explorer(page)
        _search(page, "name LIKE 'cmp-%'")
        for rid in tracked:
            page.check(f'[data-testid="explorer-select-{rid}"]')
        assert page.inner_text('[data-testid="explorer-compare"]') == "Compare 3"
        page.click('[data-testid="explorer-compare"]')
        view = '[data-testid="compare-view"]'
        page.select_option(f'{view} [data-testid="compare-metric"]', "loss")
        lines = page.wait_for_selector(f'{view} [data-testid="compare-chart"] svg .mark-line')
        assert lines
        assert (
            page.locator(f'{view} [data-testid="compare-chart"] svg .mark-line path').count() == 3
        )
        legend = page.text_content(f'{view} [data-testid="compare-chart"] svg .role-legend') or ""
        assert all(f"#{rid}" in legend for rid in tracked)
        # smoothing and a log scale redraw the same three lines
        page.check(f'{view} [data-testid="compare-log"]')
        page.wait_for_selector(f'{view} [data-testid="compare-chart"] svg .mark-line path')
        # hover a point: Vega's tooltip shows the run, the step and the value
        point = page.locator(f'{view} [data-testid="compare-chart"] svg .mark-symbol path').nth(5)
        point.hover(force=True)
        tip = page.wait_for_selector("#vg-tooltip-element.visible")
        text = tip.inner_text()
        assert "step" in text and "loss" in text and "cmp-lr" in text, text
        page.screenshot(path=str(IMAGES / "run-explorer-compare.png"))
        diff = page.inner_text(f'{view} [data-testid="compare-diff"]')
        assert "params.lr" in diff and "0.03" in diff and "metrics.loss" in diff
    finally:
        context.close()


def test_a_grids_parallel_coordinates(browser, hub: Hub, runs: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    parent = runs["parent"]
    context, page = open_lab(browser, hub, "alice")
    try:
        _open_explorer(page)
        page.click(f'[data-testid="explorer-fold-{parent}"]')
        page.wait_for_selector(f'[data-testid="explorer-row-{parent + 20}"]')
        for k in range(1, 21, 2):  # ten of the grid's twenty points
            page.check(f'[data-testid="explorer-select-{parent + k}"]')
        page.click('[data-testid="explorer-compare"]')
        view = '[data-testid="compare-view"]'
        chart = f'{view} [data-testid="compare-parallel"] svg'
        page.wait_for_selector(f"{chart} .mark-line")
        # one polyline per run across lr, depth, accuracy and loss
        assert page.locator(f"{chart} .mark-line path").count() == 10
        axis = " ".join(page.locator(f"{chart} .role-axis").all_text_contents())
        for dim in ("params.depth", "params.lr", "metrics.accuracy", "metrics.loss"):
            assert dim in axis, axis
        page.wait_for_selector(f'{view} [data-testid="compare-scatter"] svg .mark-symbol')
        page.locator(f'{view} [data-testid="compare-parallel"]').scroll_into_view_if_needed()
        page.screenshot(path=str(IMAGES / "run-explorer-parallel.png"))
    finally:
        context.close()


def test_a_runs_artifact_tree_previews_a_png_a_csv_and_a_notebook(  # type: ignore[no-untyped-def]
    browser, hub: Hub, runs: dict[str, Any]
) -> None:
    rid = runs["tracked"][0]
    context, page = open_lab(browser, hub, "alice")
    try:
        _open_explorer(page)
        _search(page, f"attributes.run_id = {rid}")
        page.click(f'[data-testid="explorer-row-{rid}"] .jp-SubmarineExplorer-name a')
        view = '[data-testid="artifacts-view"]'
        page.wait_for_selector(f'{view} [data-testid="artifact-plots/loss.png"]')
        tree = page.inner_text(f'{view} [data-testid="artifacts-tree"]')
        for name in ("plots/", "data/", "report/", "loss.png", "predictions.csv", "summary.json"):
            assert name in tree, tree
        page.click(f'{view} [data-testid="artifact-data/predictions.csv"]')
        csv = page.wait_for_selector(f'{view} [data-testid="artifact-csv"]')
        assert "bird, small" in csv.inner_text() and "score" in csv.inner_text()
        page.click(f'{view} [data-testid="artifact-report/evaluation.ipynb"]')
        nb = page.wait_for_selector(f'{view} [data-testid="artifact-notebook"] h1')
        assert nb.inner_text().startswith("Evaluation")
        page.wait_for_selector(f'{view} [data-testid="artifact-notebook"] :text("accuracy 0.93")')
        page.screenshot(path=str(IMAGES / "run-explorer-notebook.png"))
        page.click(f'{view} [data-testid="artifact-plots/loss.png"]')
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"artifact-image\"]')?.naturalWidth === 160"
        )
        page.screenshot(path=str(IMAGES / "run-explorer-artifacts.png"))
    finally:
        context.close()


def test_a_pipelines_dag_with_a_failed_step_retried_from_the_view(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    scratch = hub.scratch("pipeline-retry")
    scratch.chmod(0o777)  # the step runs as alice's account: it leaves a mark there
    mark = scratch / "trained-once"
    train = f"if [ -e {mark} ]; then echo trained; else touch {mark}; echo diverged; exit 3; fi"
    body = {
        "name": "explorer-pipeline",
        "team": TEAM,
        "steps": [
            {"name": "prepare", "spec": {"task": {"command": "echo prepared"}}},
            {"name": "train", "depends_on": ["prepare"], "spec": {"task": {"command": train}}},
            {"name": "evaluate", "depends_on": ["train"], "spec": {"task": {"command": "true"}}},
        ],
    }
    r = hub.api("POST", "pipelines", user="alice", json=body)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]

    def status() -> str:
        return str(hub.api("GET", f"pipelines/{pid}", user="alice").json()["status"])

    wait_for(lambda: status() == "failed", 180, "the pipeline's train step to fail")
    context, page = open_lab(browser, hub, "alice")
    try:
        _open_explorer(page)
        _search(page, f"attributes.pipeline_id = {pid}")
        page.wait_for_function(  # its two runs: prepare, and train that failed
            "([sel, n]) => document.querySelectorAll(sel).length === n", arg=[ROWS, 2]
        )
        page.click(f'{ROWS} [data-testid^="explorer-pipeline-"] >> nth=0')
        view = '[data-testid="pipeline-view"]'
        page.wait_for_selector(f'{view} [data-testid="pipeline-status"][data-status="failed"]')
        dag = f'{view} [data-testid="pipeline-dag"] svg'
        page.wait_for_selector(f"{dag} .mark-symbol.role-mark path")
        assert page.locator(f"{dag} .mark-symbol.role-mark path").count() == 3
        assert page.locator(f"{dag} .mark-rule.role-mark line").count() == 2
        steps = f'{view} [data-testid="pipeline-steps"]'
        assert (
            page.get_attribute(f'{steps} [data-testid="pipeline-step-train"]', "data-status")
            == "failed"
        )
        assert (
            page.get_attribute(f'{steps} [data-testid="pipeline-step-evaluate"]', "data-status")
            == "upstream_failed"
        )
        page.screenshot(path=str(IMAGES / "run-explorer-pipeline-failed.png"))
        page.click(f'{view} [data-testid="pipeline-retry"]')
        # the view follows the retried steps live, to the end
        page.wait_for_selector(
            f'{view} [data-testid="pipeline-status"][data-status="succeeded"]', timeout=180_000
        )
        page.wait_for_selector(
            f'{steps} [data-testid="pipeline-step-evaluate"][data-status="succeeded"]'
        )
        assert page.locator(f'{view} [data-testid="pipeline-retry"]').is_hidden()
        page.screenshot(path=str(IMAGES / "run-explorer-pipeline.png"))
    finally:
        context.close()
    assert status() == "succeeded"
    # another team: neither the pipeline nor its retry
    assert hub.api("GET", f"pipelines/{pid}", user="carol").status_code in (403, 404)
    assert hub.api("POST", f"pipelines/{pid}/retry", user="carol").status_code in (403, 404)


def test_tensorboard_for_a_run_that_wrote_tfevents_and_another_team_refused_its_url(  # type: ignore[no-untyped-def]
    browser, hub: Hub, tmp_path: Path
) -> None:
    from .test_tensorboard import write_tfevents

    r = hub.api("POST", "tracking/runs", user="alice", json={"name": "tb-demo", "team": TEAM})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    events = write_tfevents(tmp_path, tag="train/loss", steps=20)  # TensorBoard's own writer
    put = hub.api(
        "PUT",
        f"experiments/{rid}/artifacts?path=tensorboard/{events.name}",
        user="alice",
        data=events.read_bytes(),
    )
    assert put.status_code == 201, put.text
    context, page = open_lab(browser, hub, "alice")
    try:
        _open_explorer(page)
        _search(page, f"attributes.run_id = {rid}")
        page.check(f'[data-testid="explorer-select-{rid}"]')
        # TensorBoard's page POSTs its data queries through the relay: they must pass
        with page.expect_response(
            lambda r: "/data/plugin/timeseries/timeSeries" in r.url, timeout=120_000
        ) as series:
            page.click('[data-testid="explorer-tensorboard"]')
        assert series.value.status == 200, series.value.text()
        assert "train/loss" in series.value.text()
        frame = page.frame_locator('[data-testid="tensorboard-frame"] iframe')
        frame.locator("text=train/loss").first.wait_for(timeout=120_000)
        page.wait_for_timeout(1500)  # the chart drawn (a canvas) for the screenshot
        src = page.get_attribute('[data-testid="tensorboard-frame"] iframe', "src")
        assert src and "/services/submarine/tensorboard/" in src
        page.screenshot(path=str(IMAGES / "run-explorer-tensorboard.png"))
    finally:
        context.close()
    # the same URL, for a user of another team: refused
    refused = requests.get(
        hub.url + src + "data/plugin/scalars/tags",
        headers={"Authorization": f"token {hub.token_for('carol')}"},
        timeout=60,
    )
    assert refused.status_code == 404, refused.text
    mine = requests.get(
        hub.url + src + "data/plugin/scalars/tags",
        headers={"Authorization": f"token {hub.token_for('alice')}"},
        timeout=60,
    )
    assert mine.status_code == 200 and "train/loss" in mine.text


def test_another_team_finds_none_of_those_runs(browser, hub: Hub, runs: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    parent = runs["parent"]
    context, page = open_lab(browser, hub, "carol")
    try:
        _open_explorer(page)
        _search(page, f"attributes.run_id = {parent}")
        page.wait_for_selector('[data-testid="explorer-count"]:text-is("0 runs")')
        _search(page, "metrics.accuracy > 0")
        page.wait_for_selector('[data-testid="explorer-count"]')
        assert not set(_rows(page)) & {str(parent), *map(str, runs["tracked"])}
    finally:
        context.close()
    assert_json_error(
        hub.api("GET", f"experiments/search?team={TEAM}", user="carol"), 403, "not a member"
    )
    arts = hub.api("GET", f"experiments/{runs['tracked'][0]}/artifacts", user="carol")
    assert arts.status_code == 404
