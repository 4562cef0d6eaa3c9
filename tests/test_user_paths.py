"""The documented paths, walked by a user of two teams (issue 13): ``bob`` (data-science
and ml-platform) in a real session started for data-science with an environment
profile, through the CLI, the SDK, the magics, tracking and a JupyterLab terminal; and
outside a session, with a default team of his choosing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from .helpers.cli import submarine
from .helpers.hub import DEMO_ADMIN_PASSWORD, DEMO_PASSWORD, Hub
from .helpers.notebooks import code_cell, notebook

pytestmark = pytest.mark.hub

ENV = "data-science/paths-lab"
TEAM = "data-science"
PIPELINE = "name: paths-pipe\nsteps:\n  - name: only\n    spec:\n      task: {command: 'true'}\n"


def as_bob(hub: Hub) -> dict[str, str]:
    """bob's token outside any session: no team of a session to default to."""
    return {"SUBMARINE_API_URL": hub.api_url().rstrip("/"), "SUBMARINE_TOKEN": hub.token_for("bob")}


def kill(hub: Hub, *run_ids: int) -> None:
    """Runs these tests only needed submitted: their CPU goes to other tests."""
    for run_id in run_ids:
        hub.api("POST", f"experiments/{run_id}/kill", user="bob")


@pytest.fixture(scope="module")
def session(hub: Hub) -> Iterator[dict[str, Any]]:
    """bob's session for data-science with its environment profile (built first)."""
    r = hub.api(
        "POST",
        "environments",
        user="admin",
        json={"name": "paths-lab", "team": TEAM, "packages": ["packaging"]},
    )
    assert r.status_code in (201, 409), r.text
    hub.stop_server("bob")  # whatever another module started him with
    hub.spawn("bob", {"team": TEAM, "environment": ENV})
    build = hub.api("GET", f"environments/{ENV}/build", user="bob").json()
    assert build["state"] == "ready", build
    try:
        yield build
    finally:
        hub.stop_server("bob")


def kernel(hub: Hub, code: str, timeout: float = 120, rich: bool = False) -> str:
    return hub.run_in_kernel("bob", code, timeout=timeout, rich=rich)


CLI_IN_SESSION = r"""
import json, os, shutil, subprocess
def sub(*args, stdin=""):
    p = subprocess.run([shutil.which("submarine"), *args], capture_output=True, text=True,
                       input=stdin)
    return {"rc": p.returncode, "out": p.stdout, "err": p.stderr}
open("paths-pipe.yaml", "w").write(PIPELINE)
out = {
    "whoami": sub("whoami"),
    "submit": sub("experiment", "submit", "--template", "sklearn-classifier",
                  "-p", "n_estimators=2", "--json"),
    "template": sub("template", "run", "sklearn-classifier", "-p", "n_estimators=2"),
    "pipeline": sub("pipeline", "submit", "-f", "paths-pipe.yaml"),
    "endpoint": sub("endpoint", "get", "no-such-endpoint"),
    "predict": sub("endpoint", "predict", "no-such-endpoint", "[[1]]"),
    "sweep": sub("template", "run", "sklearn-sweep", "-p", "search=random", "-p", "trials=6",
                 "-p", 'space={"n_estimators": [5, 200], "max_depth": [1, 10]}'),
}
print("RESULT " + json.dumps(out))
"""


def results(out: str) -> dict[str, Any]:
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    assert line, out
    return json.loads(line[len("RESULT ") :])


def run_ids(text: str) -> list[int]:
    import re

    return [int(m) for m in re.findall(r"(?:Submitted run|\"id\":) (\d+)", text)]


def test_in_a_session_the_cli_works_in_the_sessions_team(hub: Hub, session: Any) -> None:
    code = f"PIPELINE = {PIPELINE!r}\n" + CLI_IN_SESSION
    r = results(kernel(hub, code))
    started = [i for k in ("submit", "template", "sweep") for i in run_ids(r[k]["out"])]
    kill(hub, *started)
    who = r["whoami"]["out"]
    assert r["whoami"]["rc"] == 0 and who.startswith("bob\nteams: data-science, ml-platform\n")
    assert "default team: data-science (this session's)" in who, who
    assert f"default environment: {ENV} (this session's)" in who, who
    assert "\nhub:" not in who and f"api: {hub.service_url}" in who, who
    submitted = json.loads(r["submit"]["out"])
    assert r["submit"]["rc"] == 0 and submitted["team"] == TEAM, r["submit"]
    assert submitted["spec"]["environment"]["profile"] == ENV  # the session's environment
    assert r["template"]["rc"] == 0 and f"team {TEAM})" in r["template"]["out"], r["template"]
    assert r["pipeline"]["rc"] == 0 and f"team {TEAM})" in r["pipeline"]["out"], r["pipeline"]
    for key in ("endpoint", "predict"):  # a bare name is an endpoint of the session's team
        assert r[key]["rc"] == 1 and "several teams" not in r[key]["err"], r[key]
        assert "Say which team" not in r[key]["err"] and "Traceback" not in r[key]["err"]
        assert f"{TEAM}/no-such-endpoint" in r[key]["err"], r[key]
    # the sweep of docs/experiments.md, as written there
    assert r["sweep"]["rc"] == 0 and f"team {TEAM})" in r["sweep"]["out"], r["sweep"]
    sweep = hub.api("GET", f"experiments/{run_ids(r['sweep']['out'])[0]}", user="bob").json()
    assert json.loads(sweep["parameters"]["space"]) == {
        "n_estimators": [5, 200],
        "max_depth": [1, 10],
    }


def test_in_a_session_the_magics_and_tracking_work_in_the_sessions_team(
    hub: Hub, session: Any
) -> None:
    out = kernel(
        hub,
        "%load_ext submarine_hub\n"
        "r = %submarine submit --template sklearn-classifier -p n_estimators 2\n"
        "print('MAGIC', r[0]['id'], r[0]['team'])\n"
        "import submarine_hub\n"
        "submarine_hub.log_metric('paths', 0.5)\n"
        "print('FLUSHED', submarine_hub.flush(), submarine_hub.tracking._tracker.run_id)\n",
    )
    assert "several teams" not in out and "NOT TRACKED" not in out, out
    magic = next(ln.split() for ln in out.splitlines() if ln.startswith("MAGIC"))
    kill(hub, int(magic[1]))
    assert magic[2] == TEAM, out
    flushed = next(ln.split() for ln in out.splitlines() if ln.startswith("FLUSHED"))
    assert flushed[1] == "True", out
    run = hub.api("GET", f"experiments/{flushed[2]}", user="bob").json()
    assert run["team"] == TEAM and run["kind"] == "interactive"
    assert run["metrics"] == {"paths": 0.5}


def test_magics_print_their_listings_once(hub: Hub, session: Any) -> None:
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "outputs": [],
             "execution_count": None, "source": "paths_alpha = 0.5"},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    r = hub.api(
        "POST",
        "files/versions",
        user="bob",
        json={
            "space": "user:bob",
            "path": "paths/params.ipynb",
            "content": nb,
            "format": "notebook",
        },
    )
    assert r.status_code == 201, r.text
    out = kernel(hub, "%load_ext submarine_hub\n%submarine params paths/params.ipynb\n", rich=True)
    assert out.count("paths_alpha") == 1, out

    r = hub.api(
        "POST",
        "notebook-schedules",
        user="bob",
        json={"cron": "0 6 * * *", "paused": True, "name": "paths-once",
              "job": {"notebook": "paths/params.ipynb", "team": TEAM}},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    try:
        out = kernel(hub, "%load_ext submarine_hub\n%submarine schedules\n", rich=True)
        assert out.count("paths-once") == 1, out
    finally:
        hub.api("DELETE", f"notebook-schedules/{r.json()['id']}", user="bob")

    spec = {"meta": {"name": "paths-watch", "team": TEAM}, "task": {"command": "true"}}
    r = hub.api("POST", "experiments", user="bob", json=spec)
    assert r.status_code in (201, 202), r.text
    run = r.json()
    out = kernel(hub, f"%load_ext submarine_hub\n%submarine watch {run['id']}\n", rich=True)
    assert "[display_data]" in out and "[execute_result]" not in out, out  # shown once, live


def test_the_refusal_outside_a_session_says_how_to_choose_and_the_setting_is_kept(
    hub: Hub, tmp_path: Any
) -> None:
    env = as_bob(hub)
    (tmp_path / "p.yaml").write_text(PIPELINE)
    p = submarine("pipeline", "submit", "-f", str(tmp_path / "p.yaml"), env=env)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "bob is in several teams (data-science, ml-platform)" in p.stderr, p.stderr
    assert "--team data-science" in p.stderr and "submarine config set team" in p.stderr
    assert "default team: (none" in submarine("whoami", env=env).stdout

    p = submarine("pipeline", "submit", "-f", str(tmp_path / "p.yaml"), "--team", "ml-platform",
                  env=env)  # fmt: skip
    assert p.returncode == 0 and "team ml-platform)" in p.stdout, p.stderr

    p = submarine("config", "set", "team", "ml-platform", env=env)
    assert p.returncode == 0, p.stderr
    assert (
        "default team: ml-platform (submarine config set team)"
        in submarine("whoami", env=env).stdout
    )
    p = submarine("template", "run", "sklearn-classifier", "-p", "n_estimators=2", env=env)
    kill(hub, *run_ids(p.stdout))
    assert p.returncode == 0 and "team ml-platform)" in p.stdout, p.stderr
    # a team named on the command line still wins; a team not one's own is refused
    p = submarine("pipeline", "submit", "-f", str(tmp_path / "p.yaml"), "--team", "data-science",
                  env=env)  # fmt: skip
    assert p.returncode == 0 and "team data-science)" in p.stdout, p.stderr
    p = submarine("config", "set", "team", "not-bobs", env=env)
    p = submarine("pipeline", "submit", "-f", str(tmp_path / "p.yaml"), env=env)
    assert p.returncode == 1 and "several teams" in p.stderr, p.stderr
    assert submarine("config", "unset", "team", env=env).returncode == 0
    alice = {**env, "SUBMARINE_TOKEN": hub.token_for("alice")}
    p = submarine("pipeline", "submit", "-f", str(tmp_path / "p.yaml"), "--team", "ml-platform",
                  env=alice)  # fmt: skip
    assert p.returncode == 1 and "not a member of team 'ml-platform'" in p.stderr


TRACK_REFUSED = """
import submarine_hub
submarine_hub.log_metric("kept", 1.0, step=0)
submarine_hub.log_metric("kept", 2.0, step=1)
try:
    submarine_hub.flush()
except submarine_hub.tracking.TrackingError as e:
    print("RAISED", e)
run_id = submarine_hub.start_run(team="data-science")
print("FLUSHED", submarine_hub.flush(), run_id)
"""


def test_tracking_keeps_points_until_a_run_can_start(hub: Hub) -> None:
    p = subprocess.run(
        [sys.executable, "-c", TRACK_REFUSED],
        capture_output=True,
        text=True,
        env={**os.environ, **as_bob(hub)},
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert "NOT TRACKED YET" in p.stderr and "several teams" in p.stderr, p.stderr
    assert p.stderr.count("NOT TRACKED YET") == 1  # loudly, once
    assert "RAISED 2 tracked points" in p.stdout, p.stdout
    flushed = next(ln.split() for ln in p.stdout.splitlines() if ln.startswith("FLUSHED"))
    assert flushed[1] == "True"
    history = hub.api("GET", f"experiments/{flushed[2]}/metrics?key=kept", user="bob").json()
    assert [pt["value"] for pt in history["points"]] == [1.0, 2.0]


TRACK_AND_DIE = """
import os, signal, sys, time, submarine_hub
submarine_hub.log_metric("alive", 1.0)
submarine_hub.flush()
print(submarine_hub.tracking._tracker.run_id, flush=True)
if sys.argv[1] == "die":
    os.kill(os.getpid(), signal.SIGKILL)
time.sleep(120)
"""


def test_a_tracked_run_whose_process_died_ends_and_a_kill_says_who(hub: Hub) -> None:
    env = {**os.environ, **as_bob(hub), "SUBMARINE_TEAM": TEAM}
    procs = {
        how: subprocess.Popen(
            [sys.executable, "-c", TRACK_AND_DIE, how], stdout=subprocess.PIPE, text=True, env=env
        )
        for how in ("die", "live")
    }
    try:
        ids = {how: int(p.stdout.readline()) for how, p in procs.items()}  # type: ignore[union-attr]
        beat = float(os.environ.get("SUBMARINE_TRACKING_HEARTBEAT", "3"))
        deadline = time.monotonic() + 8 * beat + 60
        while True:
            dead = hub.api("GET", f"experiments/{ids['die']}", user="bob").json()
            if dead["status"] != "running":
                break
            assert time.monotonic() < deadline, dead
            time.sleep(0.5)
        assert dead["status"] == "failed", dead
        assert "stopped reporting" in dead["reason"] and "before it started" not in dead["reason"]
        alive = hub.api("GET", f"experiments/{ids['live']}", user="bob").json()
        assert alive["status"] == "running", alive  # its heartbeats keep it
        r = hub.api("POST", f"experiments/{ids['live']}/kill", user="admin")
        assert r.status_code == 202, r.text
        killed = hub.api("GET", f"experiments/{ids['live']}", user="bob").json()
        assert killed["status"] == "killed" and killed["reason"] == "killed by admin", killed
    finally:
        for p in procs.values():
            p.kill()
            p.wait()


def test_a_jupyterlab_terminal_has_the_sessions_commands_on_its_path(
    hub: Hub, session: Any
) -> None:
    import websocket

    headers = {"Authorization": f"token {hub.token_for('bob')}"}
    r = requests.post(hub.user_url("bob", "api/terminals"), headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    name = r.json()["name"]
    url = hub.user_url("bob", f"terminals/websocket/{name}").replace("http", "ws", 1)
    ws = websocket.create_connection(url, header=headers, timeout=60)
    mark = uuid.uuid4().hex[:8]
    try:
        ws.send(
            json.dumps(
                ["stdin", f"which submarine python; submarine whoami; echo E{mark}$((1+1))\r"]
            )
        )
        out = ""
        deadline = time.monotonic() + 60
        while f"E{mark}2" not in out:
            assert time.monotonic() < deadline, out
            msg = json.loads(ws.recv())
            if msg[0] == "stdout":
                out += msg[1]
    finally:
        ws.close()
        requests.delete(hub.user_url("bob", f"api/terminals/{name}"), headers=headers, timeout=30)
    assert f"{session['prefix']}/bin/python" in out, out  # the environment's python first
    assert "/submarine\r\n" in out and "not found" not in out, out
    assert "default team: data-science (this session's)" in out, out


def notebook_with_result(value: str) -> dict[str, Any]:
    output = {
        "output_type": "execute_result",
        "execution_count": 1,
        "metadata": {},
        "data": {"text/plain": value},
    }
    return notebook(code_cell("x", id="c1", outputs=[output], execution_count=1), kernel=False)


def test_diffs_of_versions_whose_outputs_differ_and_a_checkpoint_revert(
    hub: Hub, session: Any
) -> None:
    headers = {"Authorization": f"token {hub.token_for('bob')}"}
    path = f"paths/diff-{uuid.uuid4().hex[:6]}.ipynb"
    r = requests.put(
        hub.user_url("bob", "api/contents/paths"),
        headers=headers,
        json={"type": "directory"},
        timeout=30,
    )
    assert r.status_code in (200, 201), r.text
    for value in ("1", "2"):  # two saves in the session: two versions
        r = requests.put(
            hub.user_url("bob", f"api/contents/{path}"),
            headers=headers,
            json={"type": "notebook", "content": notebook_with_result(value)},
            timeout=30,
        )
        assert r.status_code in (200, 201), r.text
    history = requests.get(
        hub.user_url("bob", f"api/contents/{path}/checkpoints"), headers=headers, timeout=30
    ).json()
    assert len(history) == 2, history
    # the service's diff, as the CLI asks it in the session
    out = results(
        kernel(
            hub,
            "import json, shutil, subprocess\n"
            f"p = subprocess.run([shutil.which('submarine'), 'notebook', 'diff', {path!r}, '1', "
            "'2'], capture_output=True, text=True)\n"
            "print('RESULT ' + json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr}))",
        )
    )
    assert out["rc"] == 0, out
    assert "modified 1" in out["out"] and "/cells/0/outputs/0/data/text/plain" in out["out"], out
    # JupyterLab's own "diff against checkpoint" (nbdime) reads our versions
    r = requests.post(
        hub.user_url("bob", "nbdime/api/diff"),
        headers=headers,
        json={"base": f"checkpoint:{path}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert r.json()["base"]["cells"][0]["outputs"][0]["data"]["text/plain"] == "1"
    assert r.json()["diff"], r.json()
    # File > Revert to checkpoint: recorded as a restore of that version
    r = requests.post(
        hub.user_url("bob", f"api/contents/{path}/checkpoints/1"), headers=headers, timeout=30
    )
    assert r.status_code == 204, r.text
    deadline = time.monotonic() + 30
    while True:
        items = hub.api(
            "GET", "files/versions", user="bob", params={"space": "user:bob", "path": path}
        ).json()["items"]
        if len(items) == 3:
            break
        assert time.monotonic() < deadline, items
        time.sleep(0.3)
    assert items[0]["action"] == "restore" and items[0]["message"] == "restored version 1"


def test_a_job_from_the_session_runs_in_its_environment_and_names_its_own_cell(
    hub: Hub, session: Any
) -> None:
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
             "source": "import sys\nprint('PREFIX', sys.prefix)"},
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
             "source": "1 / 0"},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }  # fmt: skip
    r = hub.api(
        "POST",
        "files/versions",
        user="bob",
        json={
            "space": "user:bob",
            "path": "paths/two-cells.ipynb",
            "content": nb,
            "format": "notebook",
        },
    )
    assert r.status_code == 201, r.text
    out = results(
        kernel(
            hub,
            "import json, shutil, subprocess\n"
            "p = subprocess.run([shutil.which('submarine'), 'notebook', 'run', "
            "'paths/two-cells.ipynb', '--wait', '--json'], capture_output=True, text=True)\n"
            "print('RESULT ' + json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr}))",
            timeout=300,
        )
    )
    assert out["rc"] == 1, out
    job = json.loads(out["out"][out["out"].index("{") :])
    assert job["team"] == TEAM and job["spec"]["environment"]["profile"] == ENV, job
    assert job["reason"] == "cell 2 (In [2]) raised ZeroDivisionError: division by zero", job
    log = hub.api("GET", f"experiments/{job['id']}/logs", user="bob").text
    assert f"PREFIX {session['prefix']}" in log, log


def test_an_admin_in_no_team_lands_on_the_admin_page_which_shows_everything(hub: Hub) -> None:
    s = requests.Session()
    s.get(f"{hub.url}/hub/login", timeout=30)
    r = s.post(
        f"{hub.url}/hub/login",
        data={"username": "admin", "password": DEMO_ADMIN_PASSWORD, "_xsrf": s.cookies["_xsrf"]},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.url == f"{hub.url}/services/submarine/admin/", r.url
    assert "no team yet" not in r.text and "Teams, quotas and usage" in r.text
    for heading in ("Serving endpoints", "Notebook schedules"):
        assert heading in r.text
    assert "setInterval(refresh" in r.text and 'data-live="runs"' in r.text
    # a user of a team lands in their session, as before
    alice = requests.Session()
    alice.get(f"{hub.url}/hub/login", timeout=30)
    r = alice.post(
        f"{hub.url}/hub/login",
        data={"username": "alice", "password": DEMO_PASSWORD, "_xsrf": alice.cookies["_xsrf"]},
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 302 and "/services/submarine/admin" not in r.headers["Location"]


def test_the_admin_page_lists_schedules(hub: Hub) -> None:
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    body = {"space": "user:bob", "path": "paths/sched.ipynb", "content": nb, "format": "notebook"}
    assert hub.api("POST", "files/versions", user="bob", json=body).status_code == 201
    r = hub.api(
        "POST",
        "notebook-schedules",
        user="bob",
        json={"cron": "0 6 * * *", "paused": True, "name": "paths-sched",
              "job": {"notebook": "paths/sched.ipynb", "team": TEAM}},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    try:
        page = hub.login("admin", DEMO_ADMIN_PASSWORD).get(
            f"{hub.url}/services/submarine/admin/", timeout=30
        )
        assert f'data-schedule="{r.json()["id"]}"' in page.text and "paths-sched" in page.text
    finally:
        hub.api("DELETE", f"notebook-schedules/{r.json()['id']}", user="bob")


def test_an_environment_of_another_team_is_refused_with_a_clean_message(hub: Hub) -> None:
    r = hub.api("POST", "environments", user="admin", json={"name": "paths-lab", "team": TEAM})
    assert r.status_code in (201, 409), r.text
    r = hub.platform(
        "POST",
        "sessions",
        hub.spawner_token,
        json={"user": "bob", "server_name": "x", "team": "ml-platform", "environment": ENV},
    )
    assert r.status_code == 403, r.text
    assert r.json()["message"] == (
        f"Environment {ENV} belongs to team data-science, not to ml-platform; choose an "
        "environment of team ml-platform, or a global one."
    )
