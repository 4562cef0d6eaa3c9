"""Studies in-process (real handlers and metastore, Optuna, a fake backend that holds each
run until the test ends it as its trial would): trials asked, reported, pruned and told;
every trial counted once through a restart of the service; the fast path's worker
protocol; bad input refused; another team sees nothing."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers.api import as_user, assert_json_error, wait_for
from .helpers.cli import submarine
from .helpers.service import InProcessService

pytest.importorskip("optuna")


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessService]:
    s = InProcessService(tmp_path_factory.mktemp("studies"))
    s.backend.hold = True  # each run stays running until the test finishes it
    s.start()
    try:
        yield s
    finally:
        s.stop()


def study_spec(name: str, **over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": name,
        "team": "data-science",
        "objective": {"metric": "score", "direction": "maximize"},
        "space": {
            "x": {"type": "float", "low": 0.0, "high": 1.0},
            "kind": {"type": "categorical", "choices": ["a", "b"]},
        },
        "sampler": {"name": "tpe", "seed": 0, "startup_trials": 3},
        "pruner": {"name": "median", "startup_trials": 2},
        "trials": 8,
        "parallelism": 2,
        "trial": {"command": ["python", "train.py", "--x", "${x}", "--kind", "${kind}"]},
    }
    spec.update(over)
    return spec


def score(params: dict[str, Any], step: int) -> float:
    return -((params["x"] - 0.3) ** 2) * 10 + step * 0.01 + (0.05 if params["kind"] == "a" else 0)


def held(s: InProcessService, study_id: int) -> list[tuple[int, str]]:
    """(run id, its token) of the held runs of a study's trials still running."""
    out = []
    for run_id, run in list(s.backend.runs.items()):
        tags = run.plan.labels or {}
        env = run.plan.env
        if env.get("SUBMARINE_STUDY_ID") == str(study_id) and run.state.status == "running":
            out.append((run_id, env["SUBMARINE_TOKEN"]))
        del tags
    return out


def play_trials(s: InProcessService, study_id: int, *, until: int | None = None) -> dict[int, str]:
    """Be every trial: report 3 steps (stopping when told to), log the score, end the run.
    Stops after ``until`` runs were ended (None: when the study ends)."""
    ended: dict[int, str] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        study = s.api("GET", f"studies/{study_id}", user="alice").json()
        if study["status"] != "running" or (until is not None and len(ended) >= until):
            return ended
        for run_id, token in held(s, study_id):
            if run_id in ended:
                continue
            got = s.platform("GET", f"experiments/{run_id}", token)
            if got.status_code == 401:  # relaunched after a restart: its token not yet stored
                continue
            run = got.json()
            params = {k: run["parameters"][k] for k in ("x", "kind")}
            told = "complete"
            for step in (1, 2, 3):
                r = s.platform(
                    "POST",
                    f"study-trials/{run_id}/report",
                    token,
                    json={"value": score(params, step), "step": step},
                )
                assert r.status_code == 200, r.text
                if r.json()["prune"]:
                    assert "median pruner" in r.json()["reason"]
                    told = "pruned"
                    break
            if told == "complete":
                r = s.platform(
                    "POST",
                    f"experiments/{run_id}/metrics",
                    token,
                    json={"metrics": [{"key": "score", "value": score(params, 3), "step": 3}]},
                )
                assert r.status_code < 300, r.text
            s.backend.finish(run_id)
            ended[run_id] = told
            s.wake()
        time.sleep(0.05)
    stuck = {
        run_id: s.platform("GET", f"experiments/{run_id}", token).status_code
        for run_id, token in held(s, study_id)
    }
    raise AssertionError(f"the study did not end in time: {study}; held runs {stuck}")


def check_counted_once(study: dict[str, Any], total: int) -> None:
    items = study["items"]
    assert [t["number"] for t in items] == list(range(total))
    assert len({t["run_id"] for t in items}) == total
    assert sum(study["counts"].values()) == total
    assert all(t["state"] in ("complete", "pruned") for t in items), items


@pytest.mark.local
def test_a_tpe_study_with_a_median_pruner_prunes_and_finds_its_best(svc: InProcessService) -> None:
    r = svc.api("POST", "studies", user="alice", json=study_spec("tpe-median"))
    assert r.status_code == 201, r.text
    study_id = r.json()["id"]
    ended = play_trials(svc, study_id)
    study = svc.api("GET", f"studies/{study_id}", user="alice").json()
    assert study["status"] == "finished", study
    check_counted_once(study, 8)
    assert len(ended) == 8
    pruned = [t for t in study["items"] if t["state"] == "pruned"]
    assert pruned and all("median pruner at step" in t["reason"] for t in pruned)
    complete = [t for t in study["items"] if t["state"] == "complete"]
    assert study["best"]["value"] == max(t["value"] for t in complete)
    for t in complete:
        assert math.isclose(t["value"], score(t["params"], 3))
    # each trial is an ordinary run with its parameters
    run = svc.api("GET", f"experiments/{study['best']['run_id']}", user="alice").json()
    assert run["parameters"]["x"] == study["best"]["params"]["x"]
    assert f"study-{study_id}" in run["tags"]
    imp = svc.api("GET", f"studies/{study_id}/importances", user="alice").json()["importances"]
    assert set(imp) == {"x", "kind"}
    # "register its model": the best trial's run's model.joblib, from the command line
    (svc.backend.artifacts_dir(study["best"]["run_id"]) / "model.joblib").write_bytes(b"model")
    p = submarine(
        "study", "register", str(study_id), "data-science/tpe-best", env=as_user(svc, "alice")
    )
    assert p.returncode == 0 and "version 1 from the best trial" in p.stdout, p.stderr
    model = svc.api("GET", "models/data-science/tpe-best", user="alice").json()
    assert model["versions"][0]["source_run_id"] == study["best"]["run_id"], model


@pytest.mark.local
def test_a_gaussian_process_study_asks_optunas_gp_sampler(svc: InProcessService) -> None:
    """``algorithm: gp``: Optuna's GPSampler (PyTorch on the CPU, the ``gp`` extra)
    proposes every trial after its start-up ones; the median pruner still prunes."""
    pytest.importorskip("torch")
    spec = study_spec("gp-median", sampler={"name": "gp", "seed": 0, "startup_trials": 3})
    r = svc.api("POST", "studies", user="alice", json=spec)
    assert r.status_code == 201, r.text
    assert r.json()["sampler"] == "gp"
    study_id = r.json()["id"]
    play_trials(svc, study_id)
    study = svc.api("GET", f"studies/{study_id}", user="alice").json()
    assert study["status"] == "finished", study
    check_counted_once(study, 8)
    complete = [t for t in study["items"] if t["state"] == "complete"]
    assert study["best"]["value"] == max(t["value"] for t in complete)
    # the GP's proposals close in on the optimum (x = 0.3, kind a) after the random start
    assert abs(study["best"]["params"]["x"] - 0.3) < 0.2, study["best"]


@pytest.mark.local
def test_a_restart_of_the_service_mid_study_loses_and_repeats_no_trial(
    tmp_path: Path,
) -> None:
    s = InProcessService(tmp_path / "svc")
    s.backend.hold = True
    s.start()
    try:
        study_id = s.api("POST", "studies", user="alice", json=study_spec("restart")).json()["id"]
        play_trials(s, study_id, until=3)
    finally:
        s.stop()
    again = InProcessService(tmp_path / "svc", s.db_url)  # the same metastore
    again.backend.hold = True
    again.start()
    try:
        play_trials(again, study_id)
        study = again.api("GET", f"studies/{study_id}", user="alice").json()
        assert study["status"] == "finished", study
        check_counted_once(study, 8)
    finally:
        again.stop()


def test_a_function_study_gives_its_workers_each_trial_once(svc: InProcessService) -> None:
    spec = study_spec(
        "fast", trial={"function": "submarine_hub.builtin.study_examples:quadratic"}, trials=6
    )
    spec["space"] = {"x": {"type": "float", "low": -2.0, "high": 2.0}}
    spec["pruner"] = "none"
    study_id = svc.api("POST", "studies", user="alice", json=spec).json()["id"]
    deadline = time.monotonic() + 30
    while len(held(svc, study_id)) < 2:  # parallelism 2: two worker runs
        assert time.monotonic() < deadline
        time.sleep(0.05)
    (w1, t1), (w2, t2) = held(svc, study_id)
    a = svc.platform("POST", f"studies/{study_id}/trials/next", t1, json={}).json()
    again = svc.platform("POST", f"studies/{study_id}/trials/next", t1, json={}).json()
    assert again["run_id"] == a["run_id"] and again["number"] == a["number"]  # answer lost: same
    a = again  # with a new token (the lost answer's is no longer valid)
    b = svc.platform("POST", f"studies/{study_id}/trials/next", t2, json={}).json()
    assert b["number"] != a["number"]
    # a trial's own token logs to its own run
    r = svc.platform(
        "POST", f"experiments/{a['run_id']}/metrics", a["token"],
        json={"metrics": [{"key": "loss_seen", "value": 1.0}]},
    )  # fmt: skip
    assert r.status_code < 300, r.text
    bad = svc.platform(
        "POST", f"studies/{study_id}/trials/next", t1,
        json={"previous": {"run_id": b["run_id"], "value": 1.0}},
    )  # fmt: skip
    assert_json_error(bad, 400, "no trial of this worker")
    seen = {a["number"], b["number"]}
    cur = {t1: a, t2: b}
    done = set()
    while len(done) < 2:
        for token in (t1, t2):
            if token in done:
                continue
            prev = cur[token]
            nxt = svc.platform(
                "POST", f"studies/{study_id}/trials/next", token,
                json={"previous": {"run_id": prev["run_id"], "value": -(prev["params"]["x"] ** 2)}},
            ).json()  # fmt: skip
            if not nxt["done"] and nxt["number"] == 2:  # its answer lost: the worker asks again
                again = svc.platform(
                    "POST", f"studies/{study_id}/trials/next", token,
                    json={"previous": {"run_id": prev["run_id"], "value": 0.0}},
                ).json()  # fmt: skip
                assert (again["number"], again["run_id"]) == (nxt["number"], nxt["run_id"])
                nxt = again
            if nxt["done"]:
                done.add(token)
            else:
                assert nxt["number"] not in seen
                seen.add(nxt["number"])
                cur[token] = nxt
    assert seen == set(range(6))
    for run_id in (w1, w2):
        svc.backend.finish(run_id)
    svc.wake()
    deadline = time.monotonic() + 30
    while (study := svc.api("GET", f"studies/{study_id}", user="alice").json())[
        "status"
    ] == "running":
        assert time.monotonic() < deadline, study
        time.sleep(0.1)
    assert study["status"] == "finished"
    assert study["counts"]["complete"] == 6
    trial_run = svc.api("GET", f"experiments/{study['best']['run_id']}", user="alice").json()
    assert trial_run["status"] == "succeeded" and trial_run["parent_id"] in (w1, w2)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"space": {}}, "'space' must map"),
        ({"space": {"x": {"type": "float", "low": 1, "high": 0}}}, "low (1) is above high"),
        ({"space": {"x": {"type": "float", "low": 0, "high": 1, "log": True}}}, "needs low > 0"),
        (
            {"space": {"x": {"type": "int", "low": 0, "high": 1, "when": {"y": "a"}}}},
            "not a parameter listed before",
        ),
        ({"sampler": {"name": "annealing"}}, "'sampler.name' must be one of"),
        ({"sampler": {"name": "grid"}}, "needs a 'step' for float"),
        ({"pruner": {"name": "median", "patience": 2}}, "the fields are"),
        ({"trials": 0}, "'trials' must be a whole number"),
        ({"parallelism": 10**30}, "beyond 64 bits"),
        ({"parallelism": 65}, "'parallelism' must be a whole number"),
        ({"timeout": -1}, "'timeout' must be a positive number"),
        ({"objective": {"metric": "", "direction": "maximize"}}, "objective.metric"),
        ({"objective": {"metric": "m", "direction": "up"}}, "maximize or minimize"),
        ({"trial": {"command": "python x.py"}}, "list of strings"),
        ({"trial": {"command": ["a"], "notebook": "x.ipynb"}}, "exactly one of"),
        ({"trial": {"function": "os.system"}}, "'package.module:function'"),
        ({"trial": {"template": "no-such-template"}}, "template"),
        ({"team": "ml-platform"}, "ml-platform"),
    ],
)
def test_a_bad_study_is_refused_with_a_reason(
    svc: InProcessService, change: dict[str, Any], message: str
) -> None:
    r = svc.api("POST", "studies", user="alice", json=study_spec("bad", **change))
    assert 400 <= r.status_code < 500 and r.status_code != 401, r.text
    assert message in r.json()["message"], r.json()["message"]


def test_another_team_sees_nothing_of_a_study_and_a_teammate_cannot_stop_it(
    svc: InProcessService,
) -> None:
    study_id = svc.api("POST", "studies", user="alice", json=study_spec("private")).json()["id"]
    for path in ("", "/importances"):
        assert_json_error(svc.api("GET", f"studies/{study_id}{path}", user="carol"), 404)
    listed = svc.api("GET", "studies", user="carol").json()["items"]
    assert study_id not in [s["id"] for s in listed]
    assert svc.api("GET", "studies?team=data-science", user="carol").status_code == 403
    for action in ("stop", "resume"):
        assert_json_error(svc.api("POST", f"studies/{study_id}/{action}", user="carol"), 404)
    assert_json_error(svc.api("POST", f"studies/{study_id}/stop", user="bob"), 403, "alice")
    runs = [r for r, _ in wait_for(lambda: held(svc, study_id), 30, "the trials' runs")]
    r = svc.api(
        "POST", f"study-trials/{runs[0]}/report", user="carol", json={"value": 1, "step": 1}
    )
    assert r.status_code == 404
    r = svc.api("POST", f"studies/{study_id}/trials/next", user="alice", json={})
    assert_json_error(r, 403, "worker runs")
    # stop, then resume with more trials
    stopped = svc.api("POST", f"studies/{study_id}/stop", user="alice").json()
    assert stopped["status"] == "stopped" and stopped["counts"]["failed"] == len(runs)
    assert_json_error(svc.api("POST", f"studies/{study_id}/stop", user="alice"), 409)
    resumed = svc.api("POST", f"studies/{study_id}/resume", user="alice", json={"trials": 2})
    assert resumed.status_code == 202 and resumed.json()["trials"] == 10
    svc.api("POST", f"studies/{study_id}/stop", user="alice").raise_for_status()


def warm_kernels(runs: Path) -> int:
    """How many warm kernels the local backend's notebook executor holds now."""
    import socket

    from submarine_hub.backends.local.executor import socket_path

    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(socket_path(runs))
            sock.sendall(b'{"op": "status"}\n')
            return int(json.loads(sock.makefile().readline())["warm"])
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.local
def test_a_notebook_study_runs_its_trials_as_notebook_jobs_on_warm_kernels(tmp_path: Path) -> None:
    """The service with the real local backend and one warm kernel: 10 trials of a
    parameterized notebook, each a notebook job run by a warm kernel, reporting steps."""
    from submarine_hub.backends.local.experiments import LocalExperimentBackend

    from .helpers.notebooks import parameters_notebook

    s = InProcessService(tmp_path / "svc")
    backend = LocalExperimentBackend(tmp_path / "svc" / "runs", notebook_pool_size=3)
    s.backend = backend  # type: ignore[assignment]
    s.start()
    try:
        wait_for(lambda: warm_kernels(tmp_path / "svc" / "runs") >= 3, 120, "three warm kernels")
        # kernels start with a scrubbed environment: have this tree's package imported (as
        # installed in CI's checkout, where these lines change nothing)
        repo = str(Path(__file__).resolve().parents[1])
        body = (
            f"import sys\nsys.path.insert(0, {repo!r})\n"
            "for m in [m for m in sys.modules if m.split('.')[0] == 'submarine_hub']:\n"
            "    del sys.modules[m]\n"
            "import submarine_hub\n"
            "for step in (1, 2, 3):\n"
            "    value = -(x - 0.3) ** 2 + step * 0.01\n"
            "    if submarine_hub.report(value, step):\n"
            "        break\n"
            "else:\n"
            "    submarine_hub.log_metric('score', value, step=3)\n"
            "submarine_hub.flush()"
        )
        r = s.api("POST", "files/versions", user="alice", json={
            "space": "team:data-science", "path": "tune/trial.ipynb", "format": "notebook",
            "content": parameters_notebook("x = 0.5", body),
        })  # fmt: skip
        assert r.status_code < 300, r.text
        spec = study_spec(
            "notebooks",
            trials=10,
            space={"x": {"type": "float", "low": 0.0, "high": 1.0}},
            trial={"notebook": "teams/data-science/tune/trial.ipynb"},
            parallelism=1,
        )
        study_id = s.api("POST", "studies", user="alice", json=spec).json()["id"]
        deadline = time.monotonic() + 300
        while (study := s.api("GET", f"studies/{study_id}", user="alice").json())["status"] == (
            "running"
        ):
            assert time.monotonic() < deadline, study
            time.sleep(0.5)
        assert study["status"] == "finished", study
        states = [t["state"] for t in study["items"]]
        assert len(states) == 10 and set(states) <= {"complete", "pruned"}, [
            (t["reason"], s.api("GET", f"experiments/{t['run_id']}/logs", user="alice").text[-800:])
            for t in study["items"]
        ][:2]
        warm = 0
        for t in study["items"]:
            run = s.api("GET", f"experiments/{t['run_id']}", user="alice").json()
            assert run["kind"] == "notebook" and run["parameters"]["x"] == t["params"]["x"]
            status = json.loads(
                (tmp_path / "svc/runs" / str(t["run_id"]) / "status.json").read_text()
            )
            assert "executor_pid" in status, status  # run by the kernel pool's executor
            warm += status["warm"] is True
        # a kernel of the pool was warm for (nearly) every trial; one may have come while
        # the pool refilled, on a loaded machine
        assert warm >= 9, warm
    finally:
        s.stop()


def test_a_sweep_is_a_thin_front_of_a_study_whose_trials_are_its_child_runs(
    svc: InProcessService,
) -> None:
    from submarine_hub.builtin.sweep import study_space

    assert study_space({"n": [2, 30], "kind": ["a", "b"]}, "grid") == {
        "n": {"type": "categorical", "choices": [2, 30]},
        "kind": {"type": "categorical", "choices": ["a", "b"]},
    }
    assert study_space({"n": [2, 30], "lr": [0.01, 1]}, "random") == {
        "n": {"type": "int", "low": 2, "high": 30},
        "lr": {"type": "float", "low": 0.01, "high": 1},
    }
    # what the sweep does, with its run's token: a study whose trials are its children
    body = {"meta": {"name": "sweep", "team": "data-science"}, "task": {"command": "sleep 60"}}
    sweep = svc.api("POST", "experiments", user="alice", json=body)
    token = wait_for(lambda: svc.backend.runs.get(sweep.json()["id"]), 30, "the sweep's run")
    token = token.plan.env["SUBMARINE_TOKEN"]
    spec = study_spec(
        "sweep-study", sampler={"name": "grid"}, pruner="none", trials=4,
        space=study_space({"n_estimators": [2, 30], "max_depth": [1, 0]}, "grid"),
        trial={"template": "sklearn-classifier", "parameters": {"dataset": "wine"}},
    )  # fmt: skip
    r = svc.platform("POST", "studies", token, json=spec)
    assert r.status_code == 201, r.text
    study_id = r.json()["id"]
    held_runs = wait_for(
        lambda: len(held(svc, study_id)) == 2 and held(svc, study_id), 30, "trials"
    )
    for run_id, _ in held_runs:
        run = svc.api("GET", f"experiments/{run_id}", user="alice").json()
        assert run["parent_id"] == sweep.json()["id"] and run["template"] == "sklearn-classifier"
        assert run["parameters"]["dataset"] == "wine"
    svc.api("POST", f"studies/{study_id}/stop", user="alice").raise_for_status()
    svc.api("POST", f"experiments/{sweep.json()['id']}/kill", user="alice").raise_for_status()


def test_a_worker_takes_trials_in_batches_and_gets_the_same_batch_when_it_asks_again(
    svc: InProcessService,
) -> None:
    spec = study_spec(
        "batches", pruner="none", trials=5, parallelism=1,
        space={"x": {"type": "float", "low": -2.0, "high": 2.0}},
        trial={"function": "submarine_hub.builtin.study_examples:quadratic", "batch": 3},
    )  # fmt: skip
    study_id = svc.api("POST", "studies", user="alice", json=spec).json()["id"]
    ((worker, token),) = wait_for(lambda: held(svc, study_id), 30, "the worker run")
    assert "--batch" in svc.backend.runs[worker].plan.replicas[0].argv
    url = f"studies/{study_id}/trials/next"
    first = svc.platform("POST", url, token, json={"count": 3}).json()["trials"]
    again = svc.platform("POST", url, token, json={"count": 3}).json()["trials"]
    assert [t["number"] for t in first] == [0, 1, 2]
    assert [t["run_id"] for t in again] == [t["run_id"] for t in first]
    done = [{"run_id": t["run_id"], "value": -(t["params"]["x"] ** 2)} for t in again]
    rest = svc.platform("POST", url, token, json={"count": 3, "previous": done}).json()["trials"]
    assert [t["number"] for t in rest] == [3, 4]  # at most the study's 5
    done = [{"run_id": t["run_id"], "value": 1.0} for t in rest]
    assert svc.platform("POST", url, token, json={"previous": done}).json()["done"] is True
    bad = svc.platform("POST", url, token, json={"count": 17})
    assert_json_error(bad, 400, "'count'")
    svc.backend.finish(worker)
    svc.wake()
    study = wait_for(
        lambda: (s := svc.api("GET", f"studies/{study_id}", user="alice").json())["status"]
        == "finished" and s, 30, "the study to end",
    )  # fmt: skip
    assert study["counts"]["complete"] == 5 and study["best"]["value"] == 1.0


def test_a_study_keeps_to_its_time_budget_and_its_teams_quota(svc: InProcessService) -> None:
    study_id = svc.api(
        "POST", "studies", user="alice", json=study_spec("budget", timeout=1e-6)
    ).json()["id"]
    study = wait_for(
        lambda: (s := svc.api("GET", f"studies/{study_id}", user="alice").json())["status"]
        != "running" and s, 30, "the study to end",
    )  # fmt: skip
    assert study["status"] == "finished" and study["reason"] == "its time budget ran out"
    assert study["items"] == []  # no trial started past its budget
    team = svc.new_team("tuners", ["alice"])
    r = svc.api(
        "PATCH", f"teams/{team}", user="admin", json={"quota": {"max_running_experiments": 1}}
    )
    assert r.status_code == 200, r.text
    r = svc.api("POST", "studies", user="alice", json=study_spec("wide", team=team, parallelism=2))
    assert_json_error(r, 403, "max_running_experiments")
