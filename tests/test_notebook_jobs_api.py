"""The issue's path through a real hub: a parameterized notebook run with two values from
the CLI and from a notebook magic, scheduled every 2 seconds (a cron with seconds) until
two scheduled runs completed, its executed notebooks opened through the user's own
server, a failing run's error cell, a fan-out; bad input and another team refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from .helpers.api import as_user, wait
from .helpers.cli import SUBMARINE, submarine
from .helpers.hub import Hub
from .helpers.notebooks import code_cell, markdown_cell, notebook

pytestmark = pytest.mark.hub
NOTEBOOK = "nbjobs/train.ipynb"


def train_notebook() -> dict[str, Any]:
    return notebook(
        markdown_cell("# Train"),
        code_cell("alpha = 0.5  # learning rate\nname = 'iris'", tags=["parameters"]),
        code_cell(
            "import submarine_hub\n"
            "submarine_hub.log_metric('score', alpha * 10)\n"
            "print('alpha is', alpha, 'on', name)"
        ),
        code_cell("assert alpha < 1, 'alpha too big'"),
    )


@pytest.fixture(scope="module")
def saved(hub: Hub) -> None:
    """alice's notebook, saved (versioned) in her space."""
    r = hub.api(
        "POST",
        "files/versions",
        user="alice",
        json={"space": "user:alice", "path": NOTEBOOK, "content": train_notebook(),
              "format": "notebook"},
    )  # fmt: skip
    assert r.status_code == 201, r.text


def text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def run_id_of(stdout: str) -> int:
    return int(stdout.split("Submitted run ", 1)[1].split()[0])


def lab_get(hub: Hub, user: str, path: str) -> requests.Response:
    hub.spawn(user)
    return requests.get(
        hub.user_url(user, f"api/contents/{path}"),
        headers={"Authorization": f"token {hub.token_for(user)}"},
        timeout=30,
    )


def test_parameters_and_bad_input(hub: Hub, saved: None) -> None:
    r = hub.api("GET", f"notebook-jobs/parameters?notebook={NOTEBOOK}", user="alice")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["notebook"] == {"space": "user:alice", "path": NOTEBOOK, "version": 1}
    assert [(p["name"], p["type"], p["default"], p["help"]) for p in body["parameters"]] == [
        ("alpha", "float", 0.5, "learning rate"),
        ("name", "str", "iris", ""),
    ]
    p = submarine("notebook", "params", NOTEBOOK, env=as_user(hub, "alice"))
    assert p.returncode == 0 and "alpha" in p.stdout and "float" in p.stdout, p.stderr
    bad: list[tuple[dict[str, Any], int, str]] = [
        ({"notebook": NOTEBOOK, "parameters": {"alpha": "fast", "epochs": 3}}, 400,
         "'alpha' must be a float"),
        ({"notebook": NOTEBOOK, "parameters": {"epochs": 3}}, 400, "unknown parameter 'epochs'"),
        ({"notebook": "nbjobs/missing.ipynb"}, 404, "no history"),
        ({"notebook": NOTEBOOK, "version": 9}, 404, "no version 9"),
        ({"notebook": NOTEBOOK, "content": train_notebook(), "name": "x"}, 400, "not both"),
        ({"notebook": NOTEBOOK, "resources": {"cpu": "lots"}}, 400, "cpu"),
        ({"notebook": NOTEBOOK, "grid": {"alpha": []}}, 400, "grid"),
        ({"parameters": {}}, 400, "either 'notebook'"),
    ]  # fmt: skip
    for job, status, message in bad:
        r = hub.api("POST", "notebook-jobs", user="alice", json=job)
        assert r.status_code == status, (job, r.text)
        assert message in r.json()["message"], (job, r.text)
    both = {"notebook": NOTEBOOK, "parameters": {"alpha": "fast", "epochs": 3}}
    message = hub.api("POST", "notebook-jobs", user="alice", json=both).json()["message"]
    assert "'alpha'" in message and "'epochs'" in message  # every bad value is named
    for sched, message in (
        ({"cron": "every minute", "job": {"notebook": NOTEBOOK}}, "not a valid cron"),
        ({"cron": "* * * * *", "timezone": "Mars/Base", "job": {"notebook": NOTEBOOK}}, "zone"),
        ({"cron": "* * * * *", "catchup": "all", "job": {"notebook": NOTEBOOK}}, "catchup"),
        ({"cron": "* * * * *"}, "'job' is required"),
    ):
        r = hub.api("POST", "notebook-schedules", user="alice", json=sched)
        assert r.status_code == 400 and message in r.json()["message"], r.text
    # another team reads and runs none of alice's notebooks
    r = hub.api(
        "GET", f"notebook-jobs/parameters?notebook={NOTEBOOK}&space=user:alice", user="carol"
    )
    assert r.status_code == 403, r.text
    r = hub.api(
        "POST", "notebook-jobs", user="carol", json={"notebook": NOTEBOOK, "space": "user:alice"}
    )
    assert r.status_code == 403, r.text
    r = hub.api(
        "POST",
        "notebook-jobs",
        user="carol",
        json={"content": train_notebook(), "name": "x", "team": "data-science"},
    )
    assert r.status_code == 403 and "not a member" in r.json()["message"], r.text


def test_two_values_from_the_cli_and_the_executed_notebooks_open_in_lab(
    hub: Hub, saved: None
) -> None:
    alice = as_user(hub, "alice")
    ids = []
    for alpha in ("0.1", "0.7"):
        p = submarine("notebook", "run", NOTEBOOK, "-p", f"alpha={alpha}", "--wait", env=alice)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "succeeded" in p.stdout and "executed: teams/data-science/jobs/train/" in p.stdout
        ids.append(run_id_of(p.stdout))
    for run_id, alpha in zip(ids, (0.1, 0.7), strict=True):
        job = hub.api("GET", f"notebook-jobs/{run_id}", user="alice").json()
        assert job["kind"] == "notebook" and job["parameters"] == {"alpha": alpha}
        assert job["notebook"] == {"space": "user:alice", "path": NOTEBOOK, "version": 1}
        assert job["metrics"] == {"score": pytest.approx(alpha * 10)}  # logged in the notebook
        assert job["output"]["version"] == 1
        log = hub.api("GET", f"experiments/{run_id}/logs", user="alice").text
        assert f"alpha is {alpha} on iris" in log
        # the executed notebook, through alice's own server (the team folder)
        r = lab_get(hub, "alice", job["output"]["lab_path"])
        assert r.status_code == 200, r.text
        cells = r.json()["content"]["cells"]
        injected = [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
        assert injected and f"alpha = {alpha}" in text(injected[0]["source"])
        printed = [o for c in cells for o in c.get("outputs", []) if o.get("name") == "stdout"]
        assert any(f"alpha is {alpha}" in text(o["text"]) for o in printed)
    # another team: not the runs, not their notebooks, not even from her own server
    for run_id in ids:
        assert hub.api("GET", f"notebook-jobs/{run_id}", user="carol").status_code == 404
        assert hub.api("GET", f"experiments/{run_id}", user="carol").status_code == 404
    r = hub.api(
        "GET",
        f"files/content?space=team:data-science&path=jobs/train/{ids[0]}.ipynb",
        user="carol",
    )
    assert r.status_code == 403, r.text
    r = lab_get(hub, "carol", f"teams/data-science/jobs/train/{ids[0]}.ipynb")
    assert r.status_code in (403, 404), r.text


def test_a_failing_run_shows_its_error_cell(hub: Hub, saved: None) -> None:
    r = hub.api(
        "POST",
        "notebook-jobs",
        user="alice",
        json={"notebook": NOTEBOOK, "parameters": {"alpha": 2}},
    )
    assert r.status_code == 201, r.text
    job = wait(hub, "alice", r.json()["id"], resource="notebook-jobs")
    assert job["status"] == "failed"
    assert job["reason"].endswith("raised AssertionError: alpha too big"), job["reason"]
    assert job["error"]["ename"] == "AssertionError" and "assert alpha" in job["error"]["source"]
    content = hub.api(
        "GET",
        f"files/content?space=team:data-science&path={job['output']['path']}",
        user="bob",  # a teammate reads it too
    ).json()["content"]
    failing = content["cells"][job["error"]["executed_index"]]
    assert failing["metadata"]["papermill"]["exception"] is True
    # the notebook's own cell number: papermill's banners and parameters not counted
    own = [
        c
        for c in content["cells"]
        if not {"papermill-error-cell-tag", "injected-parameters"}
        & set(c["metadata"].get("tags", []))
    ]
    assert own[job["error"]["index"]] is failing
    assert "An Exception was encountered" in json.dumps(content)  # papermill's banner
    p = submarine("notebook", "job", str(job["id"]), env=as_user(hub, "alice"))
    assert "AssertionError: alpha too big" in p.stdout and "error:" in p.stdout


def test_a_magic_runs_a_notebook_and_a_cell_as_jobs(hub: Hub, saved: None) -> None:
    out = hub.run_in_kernel(
        "alice",
        "%load_ext submarine_hub\n"
        f"r = %submarine run {NOTEBOOK} -p alpha 0.25 -p name magic --wait\n"
        "print('STATUS', r['status'], r['parameters'])",
        timeout=120,
    )
    assert "alpha is 0.25 on magic" in out, out
    assert "STATUS succeeded {'alpha': 0.25, 'name': 'magic'}" in out, out
    assert "executed notebook: teams/data-science/jobs/train/" in out
    out = hub.run_in_kernel(
        "alice",
        "%load_ext submarine_hub\n"
        "get_ipython().run_cell_magic('submarine_job', '--name cell-job -p x 3 --wait', "
        "'print(\"x is\", x * 2)')\n"
        "%submarine run nbjobs/train.ipynb -p alpha nope\n",
        timeout=120,
    )
    assert "x is 6" in out and "run " in out and "succeeded" in out, out
    assert "'alpha' must be a float" in out, out  # a clear error, no traceback


def test_a_schedule_every_two_seconds_runs_twice_then_pauses(hub: Hub, saved: None) -> None:
    alice = as_user(hub, "alice")
    p = submarine(
        "notebook", "run", NOTEBOOK, "-p", "alpha=0.3", "--schedule", "*/2 * * * * *",
        "--timezone", "Europe/Paris", env=alice,
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    schedule_id = int(p.stdout.split("Schedule ", 1)[1].split()[0])
    deadline = time.monotonic() + 90
    done: list[dict[str, Any]] = []
    while time.monotonic() < deadline and len(done) < 2:
        history = hub.api("GET", f"notebook-schedules/{schedule_id}/runs", user="alice").json()
        done = [h for h in history["items"] if h["run"] and h["run"]["status"] == "succeeded"]
        time.sleep(0.5)
    assert len(done) >= 2, history
    assert all(h["error"] == "" for h in history["items"])
    p = submarine("notebook", "schedule", "pause", str(schedule_id), env=alice)
    assert p.returncode == 0, p.stderr
    fired = len(
        hub.api("GET", f"notebook-schedules/{schedule_id}/runs", user="alice").json()["items"]
    )
    time.sleep(4.5)
    after = hub.api("GET", f"notebook-schedules/{schedule_id}", user="alice").json()
    assert after["paused"] is True
    runs_now = hub.api("GET", f"notebook-schedules/{schedule_id}/runs", user="alice").json()
    assert len(runs_now["items"]) == fired  # nothing fired while paused
    # the firings' runs end (each starts its own kernel when runs run as their owners)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and any(
        h["run"] and h["run"]["status"] in ("pending", "running") for h in runs_now["items"]
    ):
        time.sleep(1)
        runs_now = hub.api("GET", f"notebook-schedules/{schedule_id}/runs", user="alice").json()
    p = submarine("notebook", "schedule", "show", str(schedule_id), env=alice)
    assert "Europe/Paris" in p.stdout and "succeeded" in p.stdout
    run = hub.api("GET", f"notebook-jobs/{done[0]['run']['id']}", user="alice").json()
    assert run["parameters"] == {"alpha": 0.3} and f"schedule-{schedule_id}" in run["tags"]
    # another team: not listed, not readable, not changeable
    listed = hub.api("GET", "notebook-schedules", user="carol").json()["items"]
    assert schedule_id not in [s["id"] for s in listed]
    for method, path in (
        ("GET", ""), ("GET", "/runs"), ("PATCH", ""), ("DELETE", ""),
    ):  # fmt: skip
        kw = {"json": {"paused": False}} if method == "PATCH" else {}
        r = hub.api(method, f"notebook-schedules/{schedule_id}{path}", user="carol", **kw)
        assert r.status_code == 404, (method, path, r.text)
    r = hub.api("PATCH", f"notebook-schedules/{schedule_id}", user="bob", json={"paused": False})
    assert r.status_code == 403 and "Only alice" in r.json()["message"]
    assert hub.api("DELETE", f"notebook-schedules/{schedule_id}", user="alice").status_code == 204


def test_a_fan_out_runs_children_and_summarizes_them(hub: Hub, saved: None) -> None:
    r = hub.api(
        "POST",
        "notebook-jobs",
        user="alice",
        json={"notebook": NOTEBOOK, "name": "sweep", "grid": {"alpha": [0.2, 0.4, 3]}},
    )
    assert r.status_code == 201, r.text
    parent = r.json()
    assert len(parent["children"]) == 3
    job = wait(hub, "alice", parent["id"], 180, resource="notebook-jobs")
    assert job["status"] == "failed"  # one child failed
    summary = job["summary"]
    assert summary["total"] == 3 and summary["by_status"] == {"succeeded": 2, "failed": 1}
    assert summary["metrics"]["score"]["max"] == pytest.approx(30.0)
    assert [c["parameters"] for c in job["children"]] == [
        {"alpha": 0.2}, {"alpha": 0.4}, {"alpha": 3.0}
    ]  # fmt: skip
    children = hub.api("GET", f"experiments?parent={parent['id']}", user="alice").json()["items"]
    assert len(children) == 3
    # the summary says which parameters reached the best and the worst score
    assert summary["metrics"]["score"]["max_parameters"] == {"alpha": 3.0}
    assert summary["metrics"]["score"]["min_parameters"] == {"alpha": 0.2}
    log = hub.api("GET", f"experiments/{parent['id']}/logs", user="alice").text
    assert "alpha=0.4 -> score=4" in log and "(run " in log and "alpha=0.2)" in log, log
    arts = hub.api("GET", f"experiments/{parent['id']}/artifacts", user="alice").json()["items"]
    assert "summary.json" in [a["path"] for a in arts]
    assert hub.api("GET", f"notebook-jobs/{parent['id']}", user="carol").status_code == 404


def test_runs_and_schedules_survive_a_service_kill_9(hub: Hub, saved: None) -> None:
    from .helpers.api import wait_for
    from .helpers.hub import service_pid, service_up

    slow = {
        "content": {
            **train_notebook(),
            "cells": [*train_notebook()["cells"][:3],
                      {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                       "source": "import time; time.sleep(4); print('slept')"}],
        },
        "name": "slow",
    }  # fmt: skip
    run = hub.api("POST", "notebook-jobs", user="alice", json=slow).json()
    sched = hub.api(
        "POST",
        "notebook-schedules",
        user="alice",
        json={"cron": "*/3 * * * * *", "job": {"notebook": NOTEBOOK, "parameters": {"alpha": 0.2}}},
    ).json()
    wait_for(
        lambda: (
            hub.api("GET", f"experiments/{run['id']}", user="alice").json()["status"] == "running"
        ),
        60,
        "the run to start",
    )
    os.kill(service_pid(hub), signal.SIGKILL)
    killed_at = time.time()
    wait_for(lambda: service_up(hub), 120, "the service to come back")
    job = wait(hub, "alice", run["id"], resource="notebook-jobs")
    assert job["status"] == "succeeded" and job["output"]["version"] == 1, job
    log = hub.api("GET", f"experiments/{run['id']}/logs", user="alice").text
    assert log.count("slept") == 1  # ran once, to its end, while the service was away

    def fired_after_restart() -> bool:
        items = hub.api("GET", f"notebook-schedules/{sched['id']}/runs", user="alice").json()
        return any(
            h["run"] and h["run"]["status"] == "succeeded"
            and datetime.fromisoformat(h["scheduled_for"]).timestamp() > killed_at
            for h in items["items"]
        )  # fmt: skip

    wait_for(fired_after_restart, 60, "the schedule to fire after the restart")
    assert hub.api("DELETE", f"notebook-schedules/{sched['id']}", user="alice").status_code == 204


def test_files_beside_the_notebook_go_with_it(hub: Hub, tmp_path: Path) -> None:
    book = train_notebook()
    book["cells"][2]["source"] = (
        "import helper\nprint('read', open('data.csv').read().strip(), helper.VALUE, alpha)"
    )
    book["cells"] = book["cells"][:3]
    folder = tmp_path / "withfiles"
    folder.mkdir()
    (folder / "reader.ipynb").write_text(json.dumps(book))
    (folder / "data.csv").write_text("x,y\n")
    (folder / "helper.py").write_text("VALUE = 42\n")
    r = hub.api(
        "POST", "files/versions", user="alice",
        json={"space": "user:alice", "path": "withfiles/reader.ipynb", "content": book,
              "format": "notebook"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    alice = {**os.environ, **as_user(hub, "alice")}
    p = subprocess.run(
        [SUBMARINE, "notebook", "run", "withfiles/reader.ipynb", "--with-files", "--wait"],
        cwd=tmp_path, env=alice, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    log = hub.api("GET", f"experiments/{run_id_of(p.stdout)}/logs", user="alice").text
    assert "read x,y 42 0.5" in log
    # a notebook that is not on this machine: said, nothing sent
    p = subprocess.run(
        [SUBMARINE, "notebook", "run", "nowhere/x.ipynb", "--with-files"],
        cwd=tmp_path, env=alice, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert p.returncode == 1 and "not a file here" in p.stderr
    # bad 'files': not an upload id; someone else's upload
    body = {"notebook": "withfiles/reader.ipynb"}
    r = hub.api("POST", "notebook-jobs", user="alice", json={**body, "files": "../../x"})
    assert r.status_code == 400 and "files" in r.json()["message"]
    theirs = hub.api(
        "POST",
        "uploads",
        user="carol",
        data=tarball(),
        headers={"Content-Type": "application/gzip"},
    ).json()["id"]
    r = hub.api("POST", "notebook-jobs", user="alice", json={**body, "files": theirs})
    assert r.status_code == 404 and "No upload" in r.json()["message"]


def tarball() -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("a.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"a"))
    return buf.getvalue()
