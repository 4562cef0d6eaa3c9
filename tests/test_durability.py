"""Nothing is lost: kill -9 the platform service, then the session's server, while a client
saves in a loop; every acknowledged save is in history and nothing is corrupt.

Saves go on being acknowledged while the service is down (they wait in the session's
journal); the server is killed with saves still queued, and replays them when it is back.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import nbformat
import psutil
import pytest
import requests

from submarine_hub.client.client import SubmarineClient

from .helpers.api import wait_for
from .helpers.hub import REPO, Hub, service_pid, service_up

pytestmark = [pytest.mark.hub, pytest.mark.slow]
PATH = "durable.ipynb"


def book(i: int) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"save = {i}", id="c")]
    return nbformat.from_dict(nb)


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
    # at once, or after a short backoff when an earlier test killed it just before
    assert re.search(r"exited with status -9; starting it again in [0-9.]+ s", hub.log_tail(400)), (
        hub.log_tail(40)
    )


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


def test_the_service_logs_an_access_line_per_request_by_default(hub: Hub) -> None:
    marker = "/services/submarine/api/v1/me"
    assert hub.api("GET", "me", user="alice").status_code == 200

    def logged() -> bool:
        return any(
            "submarine_hub.access" in line and f"GET {marker} 200" in line
            for line in hub.log_tail(2000).splitlines()
        )

    wait_for(logged, 10, "the access line of GET /me")


def test_metrics_a_run_logs_while_the_service_is_down_reach_it_once_it_is_back(
    hub: Hub,
) -> None:
    """The run logs 5 points, the service goes down (killed, and kept down longer than the
    run's exit flush), the run logs 5 more and ends: they are spooled beside the run and
    taken in when the service is back; every point is there, once."""
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r})  # the SDK under test\n"
        "import os, time, pathlib, submarine_hub as s\n"
        "for i in range(5): s.log_metric('loss', 1.0 / (i + 1), step=i)\n"
        "s.flush()\n"
        "go = pathlib.Path(os.environ['SUBMARINE_ARTIFACTS_DIR'], 'go')\n"
        "while not go.exists(): time.sleep(0.1)\n"
        "for i in range(5, 10): s.log_metric('loss', 1.0 / (i + 1), step=i)\n"
        "s.log_param('late', 'yes')\n"
    )
    spec = {
        "meta": {"name": "spooled", "team": "data-science"},
        "task": {"command": ["python", "-c", code]},
        "env": {"SUBMARINE_EXIT_FLUSH_S": "2"},
    }
    r = hub.api("POST", "experiments", user="alice", json=spec)
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]

    def steps() -> list[int]:
        r = hub.api("GET", f"experiments/{run_id}/metrics?key=loss", user="alice")
        return [p["step"] for p in r.json()["points"]] if r.ok else []

    wait_for(lambda: steps() == [0, 1, 2, 3, 4], 120, "the first 5 points")
    run_dir = hub.data_dir / "runs" / str(run_id)
    pid = service_pid(hub)
    supervisor = psutil.Process(pid).parent()
    assert supervisor is not None
    supervisor.suspend()  # a longer outage: nothing restarts the service for now
    try:
        os.kill(pid, signal.SIGKILL)
        (run_dir / "artifacts" / "go").touch()
        spooled = run_dir / "metrics-spool"
        wait_for(lambda: any(spooled.glob("run-*.json")), 60, "the run to spool its points")
        status = run_dir / "status.json"
        wait_for(lambda: '"succeeded"' in status.read_text(), 60, "the run to end")
    finally:
        supervisor.resume()
    wait_for(lambda: service_up(hub), 60, "the service to come back")

    def ended() -> bool:
        r = hub.api("GET", f"experiments/{run_id}", user="alice")
        return r.ok and r.json()["status"] == "succeeded"

    wait_for(ended, 60, "the run to be recorded as ended")
    assert steps() == list(range(10))
    run = hub.api("GET", f"experiments/{run_id}", user="alice").json()
    assert run["params"] == {"late": "yes"} and run["metrics"] == {"loss": 0.1}
    assert not any(spooled.glob("run-*.json"))  # taken in, then removed


def test_the_sdk_gets_through_a_restart_of_the_service(hub: Hub) -> None:
    client = SubmarineClient(hub.api_url("").rstrip("/"), hub.token_for("alice"), retry_for=120)
    assert client.me()["name"] == "alice"
    os.kill(service_pid(hub), signal.SIGKILL)
    # at once: the proxy's 503 page, or refused connections, until the service is back
    assert client.me()["name"] == "alice"
    assert client.request("GET", "teams")["items"]
