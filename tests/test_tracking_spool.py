"""Metric points a process could not send by its exit are spooled, never dropped, and
delivered later (in-process, with a client standing in for the service)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from submarine_hub import tracking
from submarine_hub.client import SubmarineAPIError, spool

pytestmark = pytest.mark.local  # tracking processes


class Down:
    """The service while it is down."""

    def log_metrics(self, *a: Any, **kw: Any) -> None:
        raise SubmarineAPIError(503, "Could not reach the Submarine service")

    def request(self, *a: Any, **kw: Any) -> None:
        raise SubmarineAPIError(503, "Could not reach the Submarine service")


class Up:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def log_metrics(self, run_id: int, points: list, params: dict, *, replay: bool) -> None:
        self.calls.append(("metrics", run_id, [p["step"] for p in points], params, replay))

    def request(self, method: str, path: str, json: Any = None) -> None:
        self.calls.append((method, path, json))


def test_an_interactive_runs_points_and_end_are_spooled_and_sent_by_the_next_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SUBMARINE_RUN_DIR", raising=False)
    monkeypatch.setattr(tracking, "EXIT_FLUSH_S", 0.3)
    down = tracking.Tracker(7, Down(), spool.user_folder())
    for i in range(3):
        down.metric("loss", 1.0 / (i + 1), i, 1_790_000_000.0 + i)
    down.param("lr", 0.1)
    down.close(end="succeeded")  # the notebook's process exits while the service is away
    [(path, body)] = list(spool.pending(spool.user_folder()))
    assert path.parent == tmp_path / ".submarine" / "spool"
    assert [p["step"] for p in body["points"]] == [0, 1, 2] and body["end"] == "succeeded"
    assert body["params"] == {"lr": "0.1"} and oct(path.stat().st_mode)[-3:] == "600"

    up = Up()
    later = tracking.Tracker(8, up, spool.user_folder())  # the next tracked process
    later._deliver()
    assert up.calls == [
        ("metrics", 7, [0, 1, 2], {"lr": "0.1"}, True),
        ("POST", "tracking/runs/7/end", {"status": "succeeded"}),
    ]
    assert list(spool.pending(spool.user_folder())) == []
    later.close()


def test_a_runs_points_are_spooled_in_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUBMARINE_RUN_DIR", str(tmp_path / "runs" / "5"))
    monkeypatch.setattr(tracking, "EXIT_FLUSH_S", 0.3)
    t = tracking.Tracker(5, Down())
    t.metric("acc", 0.9, 1, 1_790_000_000.0)
    t.close()
    [(_path, body)] = list(spool.pending(tmp_path / "runs" / "5" / "metrics-spool"))
    assert body["run_id"] == 5 and body["end"] is None and len(body["points"]) == 1
