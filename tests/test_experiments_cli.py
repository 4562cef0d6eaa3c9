"""The issue's path through a real hub, from the command line: a script run, a template
run, a two-replica distributed run and a three-step pipeline; a user of another team sees
none of them; the service is killed mid-run and loses nothing."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
import yaml

from .helpers.api import as_user, wait_for
from .helpers.cli import submarine
from .helpers.hub import Hub, service_pid

pytestmark = pytest.mark.hub


DOUBLE = "echo $(( $(cat $SUBMARINE_INPUT_NUMBER) * 2 )) > $SUBMARINE_OUTPUT_RESULT"


def status_of(hub: Hub, run_id: int) -> str:
    return hub.api("GET", f"experiments/{run_id}", user="alice").json()["status"]


def run_id_of(stdout: str) -> int:
    return int(stdout.split("Submitted run ", 1)[1].split()[0])


def test_script_template_distributed_and_pipeline_from_the_cli(hub: Hub, tmp_path: Path) -> None:
    alice = as_user(hub, "alice")
    carol = as_user(hub, "carol")
    code = tmp_path / "project"
    code.mkdir()
    (code / "train.py").write_text(
        "import os, sys\n"
        "print('epochs', sys.argv[1])\n"
        "open(os.path.join(os.environ['SUBMARINE_ARTIFACTS_DIR'], 'out.txt'), 'w').write('done')\n"
    )
    spec = tmp_path / "script.yaml"
    spec.write_text(yaml.safe_dump({
        "meta": {"name": "script-run", "team": "data-science", "tags": ["cli"]},
        "task": {"script": "train.py", "args": ["3"]},
    }))  # fmt: skip
    p = submarine(
        "experiment", "submit", "-f", str(spec), "--code", str(code), "--follow", env=alice
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "epochs 3" in p.stdout and "succeeded" in p.stdout
    script_run = run_id_of(p.stdout)
    p = submarine("experiment", "artifacts", str(script_run), env=alice)
    assert "out.txt" in p.stdout

    p = submarine(
        "experiment", "submit", "--template", "sklearn-classifier", "-p", "dataset=wine",
        "-p", "n_estimators=20", "--team", "data-science", "--wait", env=alice,
    )  # fmt: skip
    assert p.returncode == 0, p.stdout + p.stderr
    template_run = run_id_of(p.stdout)
    got = json.loads(submarine("experiment", "get", str(template_run), "--json", env=alice).stdout)
    assert got["template"] == "sklearn-classifier" and got["parameters"]["dataset"] == "wine"
    assert got["metrics"]["accuracy"] > 0.8 and got["params"]["n_estimators"] == "20"
    assert (
        "model.joblib" in submarine("experiment", "artifacts", str(template_run), env=alice).stdout
    )

    dist = tmp_path / "dist.yaml"
    dist.write_text(yaml.safe_dump({
        "meta": {"name": "two-replicas", "team": "data-science", "framework": "pytorch"},
        "task": {"command": "echo rank $RANK of $WORLD_SIZE"},
        "spec": {"worker": {"replicas": 2}},
    }))  # fmt: skip
    p = submarine("experiment", "submit", "-f", str(dist), "--wait", env=alice)
    assert p.returncode == 0, p.stdout + p.stderr
    dist_run = run_id_of(p.stdout)
    logs = [
        submarine("experiment", "logs", str(dist_run), "--name", f"worker-{i}", env=alice).stdout
        for i in range(2)
    ]
    assert logs == ["rank 0 of 2\n", "rank 1 of 2\n"]

    pipe = tmp_path / "pipeline.yaml"
    pipe.write_text(yaml.safe_dump({
        "name": "three-steps",
        "team": "data-science",
        "steps": [
            {"name": "prepare", "spec": {
                "task": {"command": "echo 21 > $SUBMARINE_OUTPUT_NUMBER"},
                "outputs": [{"name": "number", "path": "number.txt"}]}},
            {"name": "double", "depends_on": ["prepare"], "spec": {
                "task": {"command": DOUBLE},
                "inputs": [{"name": "number", "from": "prepare.number"}],
                "outputs": [{"name": "result", "path": "result.txt"}]}},
            {"name": "report", "depends_on": ["double"], "spec": {
                "task": {"command": "echo result $(cat $SUBMARINE_INPUT_RESULT)"},
                "inputs": [{"name": "result", "from": "double.result"}]}},
        ],
    }))  # fmt: skip
    p = submarine("pipeline", "submit", "-f", str(pipe), "--wait", env=alice)
    assert p.returncode == 0, p.stdout + p.stderr
    pipeline_id = int(p.stdout.split("Submitted pipeline ", 1)[1].split()[0])
    got = json.loads(submarine("pipeline", "get", str(pipeline_id), "--json", env=alice).stdout)
    assert [s["status"] for s in got["steps"]] == ["succeeded"] * 3
    report = got["steps"][2]["run_id"]
    assert submarine("experiment", "logs", str(report), env=alice).stdout == "result 42\n"

    # another team sees none of it
    for run in (script_run, template_run, dist_run, report):
        p = submarine("experiment", "get", str(run), env=carol)
        assert p.returncode == 1 and "No experiment" in p.stderr
        assert submarine("experiment", "kill", str(run), env=carol).returncode == 1
        assert submarine("experiment", "logs", str(run), env=carol).returncode == 1
    assert submarine("pipeline", "get", str(pipeline_id), env=carol).returncode == 1
    listed = json.loads(
        submarine("experiment", "list", "--json", "--limit", "500", env=carol).stdout
    )
    assert not {script_run, template_run, dist_run, report} & {r["id"] for r in listed["items"]}
    text = submarine("experiment", "list", "--tag", "cli", env=alice).stdout
    assert "script-run" in text and "succeeded" in text


def test_killing_the_service_mid_run_loses_nothing(hub: Hub) -> None:
    folder = hub.scratch("survivor")  # the run runs as alice: a folder she can write
    hub.give_to("alice", folder)
    marker = folder / "executions.txt"
    spec = {
        "meta": {"name": "survivor", "team": "data-science"},
        "task": {"command": f"echo started >> {marker}; sleep 4; echo finished"},
    }
    first = hub.api("POST", "experiments", user="alice", json=spec).json()
    wait_for(lambda: status_of(hub, first["id"]) == "running", 60, "the run to start")
    quick = hub.api(
        "POST", "experiments", user="alice", json={**spec, "task": {"command": "exit 5"}}
    ).json()
    os.kill(service_pid(hub), signal.SIGKILL)
    queued_while_down = None
    deadline = time.monotonic() + 120
    while queued_while_down is None:  # the service comes back (JupyterHub restarts it)
        assert time.monotonic() < deadline, "the service did not come back"
        r = hub.api("POST", "experiments", user="alice", json={**spec, "task": {"command": "true"}})
        if r.status_code == 201:
            queued_while_down = r.json()
        time.sleep(0.5)
    for run, status in ((first, "succeeded"), (quick, "failed"), (queued_while_down, "succeeded")):
        wait_for(
            lambda run=run: status_of(hub, run["id"]) in ("succeeded", "failed", "killed"),
            120,
            f"run {run['id']} to end",
        )
        got = hub.api("GET", f"experiments/{run['id']}", user="alice").json()
        assert got["status"] == status, got
    assert marker.read_text() == "started\n"  # ran once, not twice
    log = hub.api("GET", f"experiments/{first['id']}/logs", user="alice").text
    assert log == "finished\n"


def test_quiet_commands_print_only_the_new_id_and_the_rest_on_stderr(
    hub: Hub, tmp_path: Path
) -> None:
    alice = as_user(hub, "alice")
    spec = tmp_path / "quiet.yaml"
    spec.write_text(yaml.safe_dump({"meta": {"name": "quiet"}, "task": {"command": "echo hi-q"}}))
    p = submarine("experiment", "submit", "-f", str(spec), "--follow", "-q", env=alice)
    assert p.returncode == 0, p.stdout + p.stderr
    run_id = int(p.stdout)  # the id alone: RUN=$(submarine ... -q) works
    assert "hi-q" in p.stderr and "succeeded" in p.stderr and "Submitted" not in p.stderr
    assert status_of(hub, run_id) == "succeeded"
    p = submarine("experiment", "rerun", str(run_id), "-q", env=alice)
    assert p.returncode == 0 and int(p.stdout) > run_id, p.stdout + p.stderr

    steps = {"name": "quiet-pipe", "steps": [{"name": "a", "spec": {"task": {"command": "true"}}}]}
    pipe = tmp_path / "pipe.yaml"
    pipe.write_text(yaml.safe_dump(steps))
    p = submarine("pipeline", "submit", "-f", str(pipe), "--wait", "-q", env=alice)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.strip().isdigit() and "succeeded" in p.stderr

    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    p = submarine("model", "register", "data-science/quiet-model", str(model), "-q", env=alice)
    assert p.returncode == 0 and p.stdout == "1\n", p.stdout + p.stderr
