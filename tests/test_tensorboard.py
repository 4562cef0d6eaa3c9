"""TensorBoard over runs that wrote tfevents files, in-process: opened with
``POST /tensorboards``, served through the service with the team check on every request,
reused for the same runs, stopped when idle; refused to another team and for bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from submarine_hub.service.tensorboard import TensorBoards, has_tfevents

from .helpers.api import assert_json_error, wait_for
from .helpers.service import PREFIX, InProcessService

pytest.importorskip("tensorboard")


def write_tfevents(folder: Path, tag: str = "loss", steps: int = 5) -> Path:
    """Scalars written with TensorBoard's own event writer (no TensorFlow needed)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder))
    for step in range(steps):
        value = summary_pb2.Summary.Value(tag=tag, simple_value=1.0 / (step + 1))
        writer.add_event(
            event_pb2.Event(
                step=step, wall_time=time.time(), summary=summary_pb2.Summary(value=[value])
            )
        )
    writer.close()
    (found,) = [p for p in folder.iterdir() if "tfevents" in p.name]
    return found


@pytest.fixture(scope="module")
def tb_run(service: InProcessService, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    team = service.new_team("tensorboard")
    user = service.new_user("tb", [team])
    other = service.new_user("tb-outsider", [service.new_team("tb-others")])
    run = service.api("POST", "tracking/runs", user=user, json={"name": "tb", "team": team})
    assert run.status_code == 201, run.text
    rid = run.json()["id"]
    events = write_tfevents(tmp_path_factory.mktemp("tfevents"))
    put = service.api(
        "PUT",
        f"experiments/{rid}/artifacts?path=tb/{events.name}",
        user=user,
        data=events.read_bytes(),
    )
    assert put.status_code == 201, put.text
    plain = service.api("POST", "tracking/runs", user=user, json={"name": "plain", "team": team})
    return {"run": rid, "plain": plain.json()["id"], "user": user, "other": other}


def _get(service: InProcessService, url: str, user: str) -> requests.Response:
    base = service.api_url().split(PREFIX)[0]
    headers = {"Authorization": f"token {service.token_for(user)}"}
    return requests.get(base + url, headers=headers, timeout=60)


@pytest.mark.local
def test_a_runs_tfevents_are_served_through_the_service_to_its_team(
    service: InProcessService, tb_run: dict[str, Any]
) -> None:
    user, rid = tb_run["user"], tb_run["run"]
    r = service.api("POST", "tensorboards", user=user, json={"runs": [rid]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["runs"] == [rid] and body["url"].endswith(f"tensorboard/{body['key']}/")
    url = body["url"] + "data/plugin/scalars/tags"
    # TensorBoard reads the folder in the background: the run's scalars appear shortly
    wait_for(lambda: bool(_get(service, url, user).json()), 60, "TensorBoard to load the events")
    tags = _get(service, url, user)
    assert tags.status_code == 200, tags.text
    assert "loss" in tags.json()[f"run-{rid}/tb"], tags.json()
    page = _get(service, body["url"], user)
    assert (
        page.status_code == 200 and "<tf-tensorboard" in page.text.lower()
    ) or "tensorboard" in page.text.lower()
    # TensorBoard's own page POSTs its data queries (a form): relayed with their body
    query = [{"plugin": "scalars", "tag": "loss", "run": f"run-{rid}/tb"}]
    series = requests.post(
        service.api_url().split(PREFIX)[0] + body["url"] + "data/plugin/timeseries/timeSeries",
        headers={"Authorization": f"token {service.token_for(user)}"},
        data={"requests": json.dumps(query)},
        timeout=60,
    )
    assert series.status_code == 200, series.text
    assert series.json()[0]["tag"] == "loss"
    # the same runs again: the same TensorBoard
    again = service.api("POST", "tensorboards", user=user, json={"runs": [rid]}).json()
    assert again["key"] == body["key"]
    # another team: neither opens it nor reads it through its URL
    other = tb_run["other"]
    assert service.api("POST", "tensorboards", user=other, json={"runs": [rid]}).status_code == 404
    assert _get(service, body["url"] + "data/plugin/scalars/tags", other).status_code == 404
    assert _get(service, body["url"], other).status_code == 404


def test_pytorchs_summary_writer_events_are_served_to_the_team(
    service: InProcessService, tb_run: dict[str, Any], tmp_path: Path
) -> None:
    """A run that logged with PyTorch's ``SummaryWriter`` (scalars, a histogram): its
    tfevents, kept as the run's artifacts, read back through the relay."""
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    user, other = tb_run["user"], tb_run["other"]
    team = service.api("GET", f"experiments/{tb_run['run']}", user=user).json()["team"]
    run = service.api("POST", "tracking/runs", user=user, json={"name": "torch", "team": team})
    rid = run.json()["id"]
    with SummaryWriter(log_dir=str(tmp_path)) as writer:
        for step in range(8):
            writer.add_scalar("train/loss", 2.0 / (step + 1), step)
            writer.add_histogram("weights", torch.randn(100) * (step + 1), step)
    (events,) = [p for p in tmp_path.iterdir() if "tfevents" in p.name]
    put = service.api(
        "PUT",
        f"experiments/{rid}/artifacts?path=runs/{events.name}",
        user=user,
        data=events.read_bytes(),
    )
    assert put.status_code == 201, put.text
    body = service.api("POST", "tensorboards", user=user, json={"runs": [rid]}).json()
    tags_url = body["url"] + "data/plugin/scalars/tags"
    wait_for(lambda: bool(_get(service, tags_url, user).json()), 60, "TensorBoard to load them")
    assert "train/loss" in _get(service, tags_url, user).json()[f"run-{rid}/runs"]
    scalars = _get(
        service,
        body["url"] + f"data/plugin/scalars/scalars?tag=train/loss&run=run-{rid}/runs",
        user,
    )
    assert scalars.status_code == 200, scalars.text
    assert [round(v[2], 3) for v in scalars.json()][:3] == [2.0, 1.0, 0.667]
    histograms = _get(service, body["url"] + "data/plugin/histograms/tags", user).json()
    assert "weights" in histograms[f"run-{rid}/runs"]
    assert _get(service, tags_url, other).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "pattern"),
    [
        ({"runs": []}, 400, "list of 1 to 20"),
        ({"runs": ["one"]}, 400, "list of 1 to 20"),
        ({"runs": [2**70]}, 400, "beyond 64 bits"),
        ({"runs": list(range(1, 30))}, 400, "list of 1 to 20"),
        ({}, 400, "'runs'"),
    ],
)
def test_bad_requests_are_refused(
    service: InProcessService,
    tb_run: dict[str, Any],
    body: dict[str, Any],
    status: int,
    pattern: str,
) -> None:
    assert_json_error(
        service.api("POST", "tensorboards", user=tb_run["user"], json=body), status, pattern
    )


def test_a_run_without_tfevents_or_metrics_is_refused_with_a_reason(
    service: InProcessService, tb_run: dict[str, Any]
) -> None:
    r = service.api("POST", "tensorboards", user=tb_run["user"], json={"runs": [tb_run["plain"]]})
    assert_json_error(r, 404, "no TensorBoard event files .* and logged no metrics")


@pytest.mark.local
def test_metrics_logged_through_the_platform_are_exported_as_tfevents(
    service: InProcessService, tb_run: dict[str, Any]
) -> None:
    user = tb_run["user"]
    run = service.api("POST", "tracking/runs", user=user, json={"name": "sdk-metrics"}).json()
    points = [{"key": "val/acc", "value": 0.5 + i / 100, "step": i} for i in range(10)]
    logged = service.api(
        "POST", f"experiments/{run['id']}/metrics", user=user, json={"metrics": points}
    )
    assert logged.status_code == 201, logged.text
    both = sorted([tb_run["run"], run["id"]])
    board = service.api("POST", "tensorboards", user=user, json={"runs": both})
    assert board.status_code == 201, board.text
    name = f"run-{run['id']}/platform-metrics"  # TensorBoard's run name of the export
    url = board.json()["url"] + f"data/plugin/scalars/scalars?run={name}&tag=val/acc"
    wait_for(lambda: _get(service, url, user).status_code == 200, 60, "the exported scalars")
    values = [p[2] for p in _get(service, url, user).json()]  # [wall_time, step, value]
    assert values == pytest.approx([0.5 + i / 100 for i in range(10)])


def test_an_unknown_or_stopped_tensorboard_is_a_404(
    service: InProcessService, tb_run: dict[str, Any]
) -> None:
    r = _get(service, f"{PREFIX}tensorboard/{'0' * 16}/", tb_run["user"])
    assert r.status_code == 404


@pytest.mark.local
def test_idle_tensorboards_stop(tmp_path: Path) -> None:
    write_tfevents(tmp_path / "run")
    boards = TensorBoards(idle_timeout=30)
    import asyncio

    async def scenario() -> None:
        inst = await boards.open({7: tmp_path / "run"}, "/tb/")
        assert boards.get(inst.key) is inst
        assert boards.stop_idle(now=time.monotonic() + 10) == []
        assert boards.stop_idle(now=time.monotonic() + 31) == [inst.key]
        assert boards.get(inst.key) is None
        assert inst.process.poll() is not None

    try:
        asyncio.run(scenario())
    finally:
        boards.stop_all()
    assert has_tfevents(tmp_path) and not has_tfevents(tmp_path / "nothing")
