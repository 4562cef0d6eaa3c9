"""Quota slots never leak: an admission whose server is gone is released even when its
spawner could not release it (the service was down when the server stopped; the hub
stopped the service before its user servers at shutdown). Through a real hub."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .hub import Hub

pytestmark = pytest.mark.hub


@pytest.fixture
def own_hub(tmp_path: Path) -> Iterator[Hub]:
    """A hub of this test's own (it is stopped and killed in parts), reconciling often."""
    data = tmp_path / "hub"
    data.mkdir()
    # the service reads submarine_config.py from its working folder: the hub's
    (data / "submarine_config.py").write_text(
        "c.SubmarineService.session_reconcile_interval = 1\n"
        "c.SubmarineService.session_reconcile_grace = 3\n"
    )
    h = Hub(data_dir=data)
    h.start(timeout=180)  # a loaded machine
    try:
        yield h
    finally:
        h.stop()


def service_pid(hub: Hub) -> int | None:
    """The pid of this hub's submarine service (found by its own data folder), if any."""
    mine = f"--SubmarineService.data_dir={hub.data_dir.resolve()}"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv]
        if "submarine_hub.service" in args and mine in args:
            return int(entry.name)
    return None


def active_ids(hub: Hub) -> set[int]:
    r = hub.api("GET", "sessions", user="admin")
    r.raise_for_status()
    return {s["id"] for s in r.json()["items"]}


def wait_for(what: str, check, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen in {timeout} s")


def alices_admission(hub: Hub) -> int:
    hub.spawn("alice")
    (mine,) = [s["id"] for s in hub.api("GET", "sessions", user="alice").json()["items"]]
    return mine


def test_a_session_stopped_while_the_service_is_down_gives_its_slot_back(own_hub: Hub) -> None:
    hub = own_hub
    sid = alices_admission(hub)
    old = service_pid(hub)
    assert old is not None, "the hub's submarine service is not running"
    os.kill(old, signal.SIGKILL)
    hub.stop_server("alice")  # the spawner cannot reach the service to release it
    wait_for("the service's restart", lambda: service_pid(hub) not in (None, old), timeout=120)
    wait_for(
        "the service answering",
        lambda: requests.get(hub.api_url("health"), timeout=5).status_code == 200,
    )
    wait_for("the release of the stopped session", lambda: sid not in active_ids(hub), 60)


def test_a_hub_restart_leaves_no_admission_behind(own_hub: Hub) -> None:
    hub = own_hub
    sid = alices_admission(hub)
    # JupyterHub stops its services before the user servers: no spawner can release
    hub.stop()
    hub.start(timeout=180)
    wait_for("the release after the restart", lambda: sid not in active_ids(hub), 60)
    assert active_ids(hub) == set()
