"""Quota slots never leak: an admission whose server is gone is released even when its
spawner could not release it (the service was down when the server stopped; the hub
stopped the service before its user servers at shutdown). Through a real hub."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .helpers.api import wait_for
from .helpers.hub import Hub, service_pid, service_up

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


def active_ids(hub: Hub) -> set[int]:
    r = hub.api("GET", "sessions", user="admin")
    r.raise_for_status()
    return {s["id"] for s in r.json()["items"]}


def alices_admission(hub: Hub) -> int:
    hub.spawn("alice")
    (mine,) = [s["id"] for s in hub.api("GET", "sessions", user="alice").json()["items"]]
    return mine


def test_a_session_stopped_while_the_service_is_down_gives_its_slot_back(own_hub: Hub) -> None:
    hub = own_hub
    sid = alices_admission(hub)
    old = service_pid(hub, required=False)
    assert old is not None, "the hub's submarine service is not running"
    os.kill(old, signal.SIGKILL)
    hub.stop_server("alice")  # the spawner cannot reach the service to release it
    wait_for(lambda: service_pid(hub, required=False) not in (None, old), 120, "its restart")
    wait_for(lambda: service_up(hub), 120, "the service answering")
    wait_for(
        lambda: sid not in active_ids(hub),
        60,
        "the release of the stopped session",
        tolerate=(requests.RequestException,),
    )


def test_a_hub_restart_leaves_no_admission_behind(own_hub: Hub) -> None:
    hub = own_hub
    sid = alices_admission(hub)
    # JupyterHub stops its services before the user servers: no spawner can release
    hub.stop()
    hub.start(timeout=180)
    wait_for(
        lambda: sid not in active_ids(hub),
        60,
        "the release after the restart",
        tolerate=(requests.RequestException,),
    )
    assert active_ids(hub) == set()
