"""Nothing is lost: kill -9 the platform service, then the session's server, while a client
saves in a loop; every acknowledged save is in history and nothing is corrupt.

Saves go on being acknowledged while the service is down (they wait in the session's
journal); the server is killed with saves still queued, and replays them when it is back.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import nbformat
import psutil
import pytest
import requests

from .hub import Hub

pytestmark = [pytest.mark.hub, pytest.mark.slow]
PATH = "durable.ipynb"


def book(i: int) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"save = {i}", id="c")]
    return nbformat.from_dict(nb)


def service_pid(hub: Hub) -> int:
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or ())
        if (
            "submarine_hub.service" in cmd
            and "supervisor" not in cmd  # the process that restarts it
            and str(hub.data_dir) in cmd
        ):
            return proc.pid
    raise AssertionError("the submarine service is not running")


def service_up(hub: Hub) -> bool:
    try:
        return hub.api("GET", "health").status_code == 200
    except requests.RequestException:
        return False


def wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_while_saving_loses_no_acknowledged_save(hub: Hub) -> None:
    hub.spawn("alice")
    headers = {"Authorization": f"token {hub.token_for('alice')}"}
    acked: list[int] = []
    stop = threading.Event()

    def saver() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            try:
                r = requests.put(
                    hub.user_url("alice", f"api/contents/{PATH}"),
                    headers=headers,
                    json={"type": "notebook", "format": "json", "content": book(i)},
                    timeout=10,
                )
                if r.status_code in (200, 201):
                    acked.append(i)
            except requests.RequestException:
                pass
            time.sleep(0.02)

    thread = threading.Thread(target=saver, daemon=True)
    thread.start()
    try:
        wait_for(lambda: len(acked) >= 5, 60, "first saves")
        os.kill(service_pid(hub), signal.SIGKILL)  # the platform service
        before = len(acked)
        wait_for(lambda: len(acked) >= before + 5, 120, "saves after the service was killed")

        pid = hub.hub_api("GET", "users/alice").json()["servers"][""]["state"]["pid"]
        os.kill(pid, signal.SIGKILL)  # the session's server, likely with saves queued
        wait_for(lambda: service_up(hub), 120, "the hub to restart the service")
        hub.stop_server("alice")
        hub.spawn("alice")
        before = len(acked)
        wait_for(lambda: len(acked) >= before + 5, 60, "saves after the server restarted")
    finally:
        stop.set()
        thread.join(15)

    # through the session: the versions API there waits for its queued saves first
    history = requests.get(
        hub.user_url("alice", f"submarine/api/v1/files/versions?space=user:alice&path={PATH}"),
        headers=headers,
        timeout=60,
    )
    assert history.status_code == 200, history.text
    versions = history.json()["items"]
    kept = set()
    for v in versions:
        r = hub.api(
            "GET", f"files/content?space=user:alice&path={PATH}&version={v['number']}", user="alice"
        )
        assert r.status_code == 200, r.text
        content = nbformat.from_dict(r.json()["content"])
        nbformat.validate(content)  # no version is corrupt
        kept.add(int(content.cells[0].source.split("=")[1]))
    assert set(acked) <= kept, f"acknowledged but lost: {sorted(set(acked) - kept)}"
    on_disk = requests.get(
        hub.user_url("alice", f"api/contents/{PATH}"), headers=headers, timeout=30
    ).json()["content"]
    nbformat.validate(nbformat.from_dict(on_disk))  # the file is whole
    assert len(acked) >= 15


def test_a_killed_service_is_started_again_at_once_by_its_supervisor(hub: Hub) -> None:
    """kill -9 of the service: its supervisor starts it again at once; the hub would only
    have noticed at its next 30 s poll."""
    old = service_pid(hub)
    supervisor = psutil.Process(old).parent()
    assert supervisor is not None and "submarine_hub.service.supervisor" in " ".join(
        supervisor.cmdline()
    )
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: service_up(hub), 60, "the service to come back")
    new = service_pid(hub)
    assert new != old and psutil.Process(new).parent().pid == supervisor.pid
    assert "exited with status -9; starting it again in 0.0 s" in hub.log_tail(400)


def test_a_bad_database_url_is_one_clear_line_and_leaves_no_proxy(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data = tmp_path_factory.mktemp("bad-db")
    bad = Hub(data_dir=data, extra_env={"SUBMARINE_DB_URL": "postgresql://nobody@127.0.0.1:1/x"})
    with pytest.raises(RuntimeError, match="exited early"):
        bad.start(timeout=120)
    try:
        assert bad.proc is not None and bad.proc.wait(30) != 0
        text = bad.log_path.read_text() if bad.log_path else ""
        service_lines = [line for line in text.splitlines() if "SubmarineService" in line]
        fatal = [line for line in service_lines if "cannot start" in line]
        assert len(fatal) == 1 and "metastore postgresql://nobody@127.0.0.1:1/x" in fatal[0]
        assert "Connection refused" in fatal[0] or "connection failed" in fatal[0]
        assert (
            "Traceback"
            not in text.split("Starting managed service submarine")[-1].split(
                "Service submarine exited"
            )[0]
        ), "the service printed a traceback"
        assert "not restarting it" in text  # the supervisor does not try again
        # the hub's proxy went with it
        assert not (data / "proxy.pid").exists()
        for proc in psutil.process_iter(["cmdline"]):
            cmd = " ".join(proc.info["cmdline"] or ())
            assert not ("configurable-http-proxy" in cmd and bad.url.split(":")[-1] in cmd), cmd
    finally:
        bad.stop()
