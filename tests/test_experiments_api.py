"""Experiments through the real hub: submit, watch, logs, artifacts, kill, rerun, search,
templates and pipelines, on the local backend; another team is refused everything. (A
team quota queueing runs: in-process, on the fake backend, which holds a run as asked.)"""

from __future__ import annotations

import time

from .helpers.api import command, submit, wait, wait_for
from .helpers.hub import Hub
from .helpers.service import InProcessService


def test_a_command_run_succeeds_with_logs_and_artifacts(hub: Hub) -> None:
    spec = command(
        "hello",
        'echo "hello from $SUBMARINE_RUN_NAME" && echo 42 > "$SUBMARINE_ARTIFACTS_DIR/answer.txt"',
        meta={"tags": ["smoke", "hello"]},
        env={"GREETING": "hi"},
    )
    run = submit(hub, "alice", spec)
    assert run["status"] == "pending" and run["owner"] == "alice" and run["team"] == "data-science"
    done = wait(hub, "alice", run["id"])
    assert done["status"] == "succeeded", done
    assert done["exit_code"] == 0 and done["started_at"] and done["finished_at"]
    assert done["logs"] == ["main-0"]
    log = hub.api("GET", f"experiments/{run['id']}/logs", user="alice")
    assert log.text == "hello from hello\n"
    arts = hub.api("GET", f"experiments/{run['id']}/artifacts", user="alice").json()["items"]
    assert arts == [{"path": "answer.txt", "size": 3}]
    body = hub.api(
        "GET", f"experiments/{run['id']}/artifacts?path=answer.txt", user="alice"
    ).content
    assert body == b"42\n"
    # a teammate reads it; another team sees nothing of it
    assert hub.api("GET", f"experiments/{run['id']}", user="bob").status_code == 200
    for path in ("", "/logs", "/artifacts", "/artifacts?path=answer.txt", "/metrics"):
        r = hub.api("GET", f"experiments/{run['id']}{path}", user="carol")
        assert r.status_code == 404, (path, r.text)
    assert hub.api("POST", f"experiments/{run['id']}/kill", user="carol").status_code == 404
    assert hub.api("POST", f"experiments/{run['id']}/rerun", user="carol").status_code == 404
    listed = hub.api("GET", "experiments?team=ml-platform", user="carol").json()["items"]
    assert run["id"] not in [r["id"] for r in listed]
    assert hub.api("GET", "experiments?team=data-science", user="carol").status_code == 403


def test_a_failing_run_reports_its_exit_code(hub: Hub) -> None:
    run = submit(hub, "alice", command("fails", "echo oops >&2; exit 3"))
    done = wait(hub, "alice", run["id"])
    assert done["status"] == "failed"
    assert done["exit_code"] == 3
    assert "exited with code 3" in done["reason"]
    assert "oops" in hub.api("GET", f"experiments/{run['id']}/logs", user="alice").text


def test_kill_a_running_run_and_rerun_it(hub: Hub) -> None:
    run = submit(hub, "alice", command("sleeper", "echo started; sleep 60"))
    deadline = time.monotonic() + 60
    while hub.api("GET", f"experiments/{run['id']}", user="alice").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    r = hub.api("POST", f"experiments/{run['id']}/kill", user="bob")  # a teammate may not
    assert r.status_code == 403 and "alice" in r.json()["message"]
    r = hub.api("POST", f"experiments/{run['id']}/kill", user="alice")
    assert r.status_code == 202
    done = wait(hub, "alice", run["id"], timeout=30)
    assert done["status"] == "killed"
    assert hub.api("POST", f"experiments/{run['id']}/kill", user="alice").status_code == 400
    again = hub.api("POST", f"experiments/{run['id']}/rerun", user="bob")
    assert again.status_code == 201
    assert again.json()["rerun_of"] == run["id"] and again.json()["owner"] == "bob"
    hub.api("POST", f"experiments/{again.json()['id']}/kill", user="bob").raise_for_status()
    assert wait(hub, "bob", again.json()["id"], timeout=30)["status"] == "killed"


def test_follow_logs_streams_until_the_end(hub: Hub) -> None:
    run = submit(
        hub, "alice", command("ticker", "for i in 1 2 3; do echo tick $i; sleep 0.3; done")
    )
    r = hub.api("GET", f"experiments/{run['id']}/logs?follow=1", user="alice", stream=True)
    assert r.status_code == 200
    text = b"".join(r.iter_content(chunk_size=None)).decode()
    assert text == "tick 1\ntick 2\ntick 3\n"
    assert wait(hub, "alice", run["id"])["status"] == "succeeded"


def test_two_replica_pytorch_run_gets_rendezvous_variables(hub: Hub) -> None:
    spec = command(
        "ddp",
        'echo "$SUBMARINE_ROLE $RANK/$WORLD_SIZE $MASTER_ADDR:$MASTER_PORT $PET_NNODES"',
        meta={"framework": "pytorch"},
        spec={"master": {"replicas": 1}, "worker": {"replicas": 1}},
    )
    run = submit(hub, "alice", spec)
    done = wait(hub, "alice", run["id"])
    assert done["status"] == "succeeded", done
    assert done["logs"] == ["master-0", "worker-0"]
    master = hub.api("GET", f"experiments/{run['id']}/logs?name=master-0", user="alice").text
    worker = hub.api("GET", f"experiments/{run['id']}/logs?name=worker-0", user="alice").text
    assert master.startswith("master 0/2 127.0.0.1:") and master.endswith(" 2\n")
    assert worker.startswith("worker 1/2 127.0.0.1:")
    assert master.split()[2] == worker.split()[2]  # one rendezvous address


def test_tensorflow_run_gets_tf_config(hub: Hub) -> None:
    spec = command(
        "tf",
        "python -c \"import json,os; c=json.loads(os.environ['TF_CONFIG']); "
        "print(sorted(c['cluster']), c['task'])\"",
        meta={"framework": "tensorflow"},
        spec={"chief": {"replicas": 1}, "worker": {"replicas": 2}},
    )
    done = wait(hub, "alice", submit(hub, "alice", spec)["id"])
    assert done["status"] == "succeeded", done
    log = hub.api("GET", f"experiments/{done['id']}/logs?name=worker-1", user="alice").text
    assert log == "['chief', 'worker'] {'type': 'worker', 'index': 1}\n"


def test_bad_specs_are_refused_with_a_message(hub: Hub) -> None:
    cases = [
        ({"meta": {"name": "x"}}, "task"),
        ({"meta": {"name": "bad name!"}, "task": {"command": "true"}}, "not a valid name"),
        (
            {
                "meta": {"name": "x", "team": "data-science"},
                "task": {"command": "true", "script": "a"},
            },
            "exactly one of",
        ),
        (command("x", "true", resources={"cpu": "lots"}), "cpu"),
        (command("x", "true", meta={"framework": "pytorch"}, spec={"chief": {}}), "roles"),
        (command("x", "true", team="ml-platform"), "not a member"),
        (command("x", "true", credentials=["nope"]), "No credential"),
        (command("x", "true", code={"upload": "0" * 32}), "No upload"),
    ]
    for spec, expected in cases:
        r = hub.api("POST", "experiments", user="alice", json=spec)
        assert r.status_code in (400, 403, 404), (spec, r.text)
        assert expected in r.json()["message"], (expected, r.json())
    r = hub.api(
        "POST",
        "experiments",
        user="alice",
        data="meta: [",
        headers={"Content-Type": "application/yaml"},
    )
    assert r.status_code == 400 and "YAML" in r.json()["message"]
    assert hub.api("GET", "experiments?status=bogus", user="alice").status_code == 400
    assert hub.api("GET", "experiments?limit=0", user="alice").status_code == 400
    assert hub.api("GET", "experiments/abc", user="alice").status_code == 404
    assert hub.api("POST", "experiments", json=command("x", "true")).status_code == 401


def test_yaml_specs_and_search(hub: Hub) -> None:
    yaml_spec = (
        "meta: {name: yaml-run, team: data-science, tags: [yaml-tag]}\ntask: {command: 'true'}\n"
    )
    r = hub.api(
        "POST",
        "experiments",
        user="bob",
        data=yaml_spec,
        headers={"Content-Type": "application/yaml"},
    )
    assert r.status_code == 201, r.text
    wait(hub, "bob", r.json()["id"])
    found = hub.api("GET", "experiments?tag=yaml-tag", user="alice").json()["items"]
    assert [x["id"] for x in found] == [r.json()["id"]]
    mine = hub.api("GET", "experiments?owner=bob&status=succeeded&limit=1", user="bob").json()
    assert len(mine["items"]) == 1 and mine["items"][0]["owner"] == "bob"
    if mine["next"]:
        page2 = hub.api(
            "GET", f"experiments?owner=bob&limit=1&before={mine['next']}", user="bob"
        ).json()
        assert page2["items"][0]["id"] < mine["items"][0]["id"]
    schema = hub.api("GET", "experiment-schema").json()
    assert schema["title"] == "ExperimentSpec"


def test_code_from_git_and_from_an_upload(hub: Hub, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    repo = hub.scratch("repo")  # the run's owner clones it
    (repo / "train.py").write_text("print('trained from git')\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@x"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    hub.give_to("alice", repo)
    spec = {
        "meta": {"name": "from-git", "team": "data-science"},
        "task": {"script": "train.py"},
        "code": {"git": {"url": f"file://{repo}", "ref": "HEAD"}},
    }
    done = wait(hub, "alice", submit(hub, "alice", spec)["id"])
    assert done["status"] == "succeeded", done
    assert (
        hub.api("GET", f"experiments/{done['id']}/logs", user="alice").text == "trained from git\n"
    )

    from submarine_hub.client.uploads import pack_folder

    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "job.py").write_text("import sys; print('uploaded', sys.argv[1])\n")
    up = hub.api("POST", "uploads", user="alice", data=pack_folder(folder))
    assert up.status_code == 201, up.text
    spec = {
        "meta": {"name": "from-upload", "team": "data-science"},
        "task": {"script": "job.py", "args": ["ok"]},
        "code": {"upload": up.json()["id"]},
    }
    done = wait(hub, "alice", submit(hub, "alice", spec)["id"])
    assert hub.api("GET", f"experiments/{done['id']}/logs", user="alice").text == "uploaded ok\n"
    # somebody else's upload cannot be used; junk is not an upload
    spec["meta"]["team"] = "ml-platform"
    r = hub.api("POST", "experiments", user="carol", json=spec)
    assert r.status_code == 404
    assert hub.api("POST", "uploads", user="alice", data=b"not a tarball").status_code == 400
    bad = hub.api("GET", "experiments/999999/logs", user="alice")
    assert bad.status_code == 404


def test_team_quota_queues_runs(service: InProcessService) -> None:
    team = service.new_team("quota")  # a quota and runs of its own
    user = service.new_user("quota", [team])
    service.api(
        "PATCH", f"teams/{team}", user="admin", json={"quota": {"max_running_experiments": 1}}
    ).raise_for_status()
    service.backend.hold = True  # the first run runs until the test ends it
    try:
        first = submit(service, user, command("q1", "sleep 2", team=team))
        second = submit(service, user, command("q2", "true", team=team))
        wait_for(
            lambda: (
                service.api("GET", f"experiments/{first['id']}", user=user).json()["status"]
                == "running"
            ),
            30,
            "the first run to start",
        )
        b = service.api("GET", f"experiments/{second['id']}", user=user).json()
        assert b["status"] == "pending" and "quota" in b["reason"], b
    finally:
        service.backend.hold = False
    service.backend.finish(first["id"])
    service.wake()
    b = wait(service, user, second["id"], 30)
    a = wait(service, user, first["id"], 30)
    assert b["status"] == "succeeded" and b["started_at"] >= a["finished_at"]


def test_credentials_reach_the_run(hub: Hub) -> None:
    r = hub.api(
        "POST", "credentials", user="alice",
        json={"name": "exp-secret", "kind": "env", "target": "EXP_SECRET", "value": "s3cr3t"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    spec = command("creds", 'test "$EXP_SECRET" = s3cr3t && echo ok', credentials=["exp-secret"])
    try:
        done = wait(hub, "alice", submit(hub, "alice", spec)["id"])
    finally:  # other tests count alice's credentials
        hub.api("DELETE", "credentials/user/alice/exp-secret", user="alice").raise_for_status()
    assert done["status"] == "succeeded", hub.api(
        "GET", f"experiments/{done['id']}/logs", user="alice"
    ).text


def test_a_run_logs_metrics_with_its_own_token(hub: Hub) -> None:
    code = (
        "import submarine_hub as s\n"
        "for i in range(5): s.log_metric('loss', 1.0 / (i + 1), step=i)\n"
        "s.log_param('lr', 0.1)\n"
        "s.flush()\n"
    )
    spec = {
        "meta": {"name": "metrics", "team": "data-science"},
        "task": {"command": ["python", "-c", code]},
    }
    done = wait(hub, "alice", submit(hub, "alice", spec)["id"])
    assert done["status"] == "succeeded", hub.api(
        "GET", f"experiments/{done['id']}/logs", user="alice"
    ).text
    assert done["metrics"] == {"loss": 0.2} and done["params"] == {"lr": "0.1"}
    history = hub.api("GET", f"experiments/{done['id']}/metrics?key=loss", user="alice").json()
    assert [p["step"] for p in history["points"]] == [0, 1, 2, 3, 4]
    # the token died with the run; another user cannot log to it
    bad = hub.api(
        "POST",
        f"experiments/{done['id']}/metrics",
        user="bob",
        json={"metrics": [{"key": "x", "value": 1}]},
    )
    assert bad.status_code == 403
    bad = hub.api(
        "POST",
        f"experiments/{done['id']}/metrics",
        user="alice",
        json={"metrics": [{"key": "x", "value": "NaN"}]},
    )
    assert bad.status_code == 400
