"""Every operation of the OpenAPI document, called on a first team's objects by someone who
must not reach them: a user of another team, an anonymous caller, and a run token of
another team's run whose owner *is* a member of the first team (a run token acts for its
run's team only). None of those calls may read or change the first team's objects.
Against the service in-process (fake hub directory and backends) and the real hub.

The operations come from the served OpenAPI document, so a new route without an entry in
``CALLS`` below fails the test until someone says how to attack it.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import nbformat
import pytest
import requests

from .helpers.api import command, submit, wait, wait_for, wait_serving
from .helpers.hub import Hub
from .helpers.service import InProcessService

TEAM = "data-science"  # the first team: alice, bob
OTHER = "ml-platform"  # the other team: bob, carol
MARK = f"xtv{uuid.uuid4().hex[:8]}"  # every victim object's name carries it
RUN = "bob's ml-platform run"
# answers that are neither a read nor a change
REFUSED = {400, 401, 403, 404, 405, 409, 413, 422}


@dataclass
class Victim:
    """The first team's objects (and bob's personal ones, for bob's foreign run token)."""

    run: int = 0
    live_run: int = 0
    pipeline: int = 0
    schedule: int = 0
    job_run: int = 0
    study: int = 0
    study_run: int = 0  # the run of its first trial
    session: str = ""
    files: dict[str, str] = field(default_factory=dict)

    env = f"{MARK}-env"
    template = f"{MARK}-tpl"
    model = f"{MARK}-model"
    dataset = f"{MARK}-ds"
    endpoint = f"{MARK}-ep"
    credential = f"{MARK}-cred"
    team_file = f"{MARK}/team.ipynb"
    job_notebook = f"{MARK}/job.ipynb"
    alice_file = f"{MARK}/alice.ipynb"
    bob_file = f"{MARK}/bob.ipynb"
    logged_model = ""  # an MLflow logged model of the first team (alice's live run's)


def notebook(text: str, parameters: bool = False) -> dict[str, Any]:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(f"value = {text!r}", id="p")
    if parameters:
        cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell("print(value)", id="q")]
    return json.loads(nbformat.writes(nb))


def ok(r: requests.Response) -> dict[str, Any]:
    assert r.status_code in (200, 201), (r.request.method, r.request.url, r.text)
    return r.json() if r.content else {}


def model_file() -> bytes:
    import joblib
    from sklearn.dummy import DummyClassifier

    buf = io.BytesIO()
    joblib.dump(DummyClassifier(strategy="most_frequent").fit([[0], [1]], [0, 0]), buf)
    return buf.getvalue()


@pytest.fixture(scope="module", params=["service", pytest.param("hub", marks=pytest.mark.hub)])
def platform(request: pytest.FixtureRequest) -> Any:
    """Where the attacks go: the service in-process (the fast tier), and the real hub."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def victim(platform: Any) -> Iterator[Victim]:
    v = Victim()
    A = lambda method, path, **kw: platform.api(method, path, user="alice", **kw)  # noqa: E731
    ok(A("POST", "environments", json={"name": v.env, "team": TEAM, "description": MARK}))
    ok(A("POST", "credentials", json={
        "name": v.credential, "kind": "env", "target": "XT_SECRET", "value": MARK,
    }))  # fmt: skip
    ok(platform.api("POST", "credentials", user="admin", json={
        "owner_kind": "team", "owner": TEAM, "name": v.credential, "kind": "env",
        "target": "XT_TEAM_SECRET", "value": MARK,
    }))  # fmt: skip
    ok(platform.api("POST", "credentials", user="bob", json={
        "name": v.credential, "kind": "env", "target": "XT_BOB", "value": MARK,
    }))  # fmt: skip
    for space, path, user in (
        (f"team:{TEAM}", v.team_file, "alice"),
        (f"team:{TEAM}", v.job_notebook, "alice"),
        ("user:alice", v.alice_file, "alice"),
        ("user:bob", v.bob_file, "bob"),
    ):
        body = {
            "space": space,
            "path": path,
            "format": "notebook",
            "content": notebook(MARK, parameters=path == v.job_notebook),
        }
        ok(platform.api("POST", "files/versions", user=user, json=body))
        second = {**body, "content": notebook(f"{MARK}-2", parameters=path == v.job_notebook)}
        ok(platform.api("POST", "files/versions", user=user, json={**second, "message": "second"}))
    ok(A("POST", f"files/shares?space=team:{TEAM}&path={quote(v.team_file)}", json={
        "kind": "user", "with": "bob", "mode": "r",
    }))  # fmt: skip
    run = submit(
        platform,
        "alice",
        command(f"{MARK}-run", f'echo {MARK} | tee "$SUBMARINE_ARTIFACTS_DIR/a.txt"'),
    )
    v.run = wait(platform, "alice", run["id"])["id"]
    if isinstance(platform, InProcessService):  # nothing runs there: the run's file, as written
        (platform.backend.artifacts_dir(v.run) / "a.txt").write_text(f"{MARK}\n")
    ok(A("POST", f"experiments/{v.run}/metrics", json={
        "metrics": [{"key": "loss", "value": 0.5, "step": 1}], "params": {"lr": "0.1"},
    }))  # fmt: skip
    v.live_run = ok(A("POST", "tracking/runs", json={"name": f"{MARK}-live", "team": TEAM}))["id"]
    made = requests.post(
        url_of(platform, f"{MLFLOW}{TEAM}/api/2.0/mlflow/logged-models"),
        json={"experiment_id": "0", "name": f"{MARK}-lm", "source_run_id": str(v.live_run)},
        headers={"Authorization": f"Bearer {platform.token_for('alice')}"},
        timeout=60,
    )
    v.logged_model = ok(made)["model"]["info"]["model_id"]
    ok(A("POST", "templates", json={
        "name": v.template, "team": TEAM, "description": MARK,
        "spec": {"meta": {"name": "t"}, "task": {"command": "true"}},
    }))  # fmt: skip
    v.pipeline = ok(A("POST", "pipelines", json={
        "name": f"{MARK}-pipe", "team": TEAM,
        "steps": [{"name": "a", "depends_on": [], "spec": {"task": {"command": "true"}}}],
    }))["id"]  # fmt: skip
    ok(A("POST", "datasets", json={
        "name": v.dataset, "team": TEAM, "uri": f"file:///data/{MARK}", "format": "table",
    }))  # fmt: skip
    ok(A("POST", "models", json={"name": v.model, "team": TEAM, "description": MARK}))
    ok(A("POST", f"models/{TEAM}/{v.model}/versions", json={"framework": "sklearn"}))
    ok(A("PUT", f"models/{TEAM}/{v.model}/versions/1/files?path=model.joblib", data=model_file()))
    ok(A("POST", f"models/{TEAM}/{v.model}/versions/1/ready"))
    ok(A("PUT", f"models/{TEAM}/{v.model}/aliases/production", json={"version": 1}))
    ok(A("POST", f"models/{TEAM}/{v.model}/versions", json={"framework": "sklearn"}))  # a draft
    ok(A("POST", "endpoints", json={
        "name": v.endpoint, "team": TEAM, "model": v.model, "version": "production",
    }))  # fmt: skip
    if isinstance(platform, Hub):  # in-process, endpoints are records only
        wait_serving(platform, f"{TEAM}/{v.endpoint}")
    job = {"notebook": v.job_notebook, "space": f"team:{TEAM}", "team": TEAM}
    v.job_run = ok(A("POST", "notebook-jobs", json=job))["id"]
    v.schedule = ok(A("POST", "notebook-schedules", json={
        "name": f"{MARK}-sched", "cron": "0 6 * * *", "timezone": "UTC", "paused": True,
        "job": job,
    }))["id"]  # fmt: skip
    if isinstance(platform, Hub):
        platform.spawn("alice")
        sessions = ok(platform.api("GET", "sessions", user="admin"))["items"]
        v.session = next(str(s["id"]) for s in sessions if s["user"] == "alice")
    else:  # admitted as the hub's spawner would
        grant = platform.platform("POST", "sessions", platform.spawner_token, json={
            "user": "alice", "team": TEAM, "server_name": MARK,
        })  # fmt: skip
        v.session = str(ok(grant)["id"])
    wait(platform, "alice", v.job_run, timeout=180)
    v.study = ok(A("POST", "studies", json=study_spec(v)))["id"]
    study = wait_for(
        lambda: (got := ok(A("GET", f"studies/{v.study}")))["status"] != "running" and got,
        180,
        "the victim study to end",
    )
    v.study_run = study["items"][0]["run_id"]
    yield v
    A("POST", f"tracking/runs/{v.live_run}/end", json={"status": "succeeded"})
    A("DELETE", f"endpoints/{TEAM}/{v.endpoint}?purge=1")
    A("DELETE", f"notebook-schedules/{v.schedule}")
    A("DELETE", f"credentials/user/alice/{v.credential}")
    platform.api("DELETE", f"credentials/user/bob/{v.credential}", user="bob")
    platform.api("DELETE", f"credentials/team/{TEAM}/{v.credential}", user="admin")


@pytest.fixture(scope="module")
def foreign_run_token(platform: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The run token of bob's run in the other team (bob is in both teams)."""
    if isinstance(platform, InProcessService):  # the token the fake backend was given
        platform.backend.hold = True
        try:
            run = submit(platform, "bob", command("spy", "sleep 600", team=OTHER))
            platform.wake()
            launched = wait_for(lambda: platform.backend.runs.get(run["id"]), 30, "bob's run")
        finally:
            platform.backend.hold = False
        yield launched.plan.env["SUBMARINE_TOKEN"]
        platform.api("POST", f"experiments/{run['id']}/kill", user="bob")
        wait(platform, "bob", run["id"])
        return
    out = Path("/tmp") / f"{MARK}-token"
    run = submit(platform, "bob", command(
        "spy", f'echo "$SUBMARINE_TOKEN" > {out}.part && mv {out}.part {out} && sleep 600',
        team=OTHER,
    ))  # fmt: skip
    try:
        wait_for(out.exists, 120, "bob's run to write its token")
        token = out.read_text().strip()
        assert token.startswith("smr_"), token
        yield token
    finally:
        platform.api("POST", f"experiments/{run['id']}/kill", user="bob")
        out.unlink(missing_ok=True)
        wait(platform, "bob", run["id"])


def q(**params: Any) -> str:
    return "?" + "&".join(f"{k}={quote(str(val), safe='')}" for k, val in params.items())


def study_spec(v: Victim) -> dict[str, Any]:
    return {
        "name": f"{MARK}-study", "team": TEAM, "objective": {"metric": "m"},
        "space": {"x": {"type": "float", "low": 0, "high": 1}}, "trials": 1,
        "trial": {"command": ["true"]},
    }  # fmt: skip


def calls(v: Victim) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    """For each documented operation: (path with query, JSON body or bytes) aimed at the
    first team's objects, each call valid had alice made it."""
    T, M = TEAM, f"{TEAM}/{v.model}"
    team_nb = dict(space=f"team:{T}", path=v.team_file)
    alice_nb = dict(space="user:alice", path=v.alice_file)
    bob_nb = dict(space="user:bob", path=v.bob_file)
    spec = {"meta": {"name": "x", "team": T}, "task": {"command": "true"}}
    job = {"notebook": v.job_notebook, "space": f"team:{T}", "team": T}
    return {
        ("get", "/health"): [("health", None)],
        ("get", "/openapi.json"): [("openapi.json", None)],
        ("get", "/experiment-schema"): [("experiment-schema", None)],
        ("get", "/metrics"): [("metrics", None)],
        ("get", "/me"): [("me", None)],
        ("get", "/teams"): [("teams", None)],
        ("get", "/teams/{team}"): [(f"teams/{T}", None)],
        ("patch", "/teams/{team}"): [
            (f"teams/{T}", {"description": "x"}),
            (f"teams/{T}", {"quota": {"max_sessions": 99}}),
        ],
        ("get", "/teams/{team}/room"): [(f"teams/{T}/room", None)],
        ("post", "/teams/{team}/room"): [(f"teams/{T}/room", None)],
        ("delete", "/teams/{team}/room"): [(f"teams/{T}/room", None)],
        ("get", "/environments"): [("environments", None), (f"environments{q(team=T)}", None)],
        ("post", "/environments"): [("environments", {"name": "x", "team": T})],
        ("get", "/environments/{scope}/{name}"): [(f"environments/{T}/{v.env}", None)],
        ("patch", "/environments/{scope}/{name}"): [
            (f"environments/{T}/{v.env}", {"description": "x"})
        ],
        ("delete", "/environments/{scope}/{name}"): [(f"environments/{T}/{v.env}", None)],
        ("get", "/environments/{scope}/{name}/build"): [
            (f"environments/{T}/{v.env}/build{q(log=1)}", None)
        ],
        ("post", "/environments/{scope}/{name}/build"): [(f"environments/{T}/{v.env}/build", None)],
        ("get", "/credentials"): [("credentials", None)],
        ("post", "/credentials"): [
            ("credentials", {"owner_kind": "team", "owner": T, "name": "x", "value": "x"}),
            ("credentials", {"owner_kind": "user", "owner": "alice", "name": "x", "value": "x"}),
            # the owner's personal credential, planted by a run of another team
            ("credentials", {"name": "x", "kind": "env", "target": "XT_X", "value": "x"}, RUN),
        ],
        ("delete", "/credentials/{owner_kind}/{owner}/{name}"): [
            (f"credentials/team/{T}/{v.credential}", None),
            (f"credentials/user/alice/{v.credential}", None),
            (f"credentials/user/bob/{v.credential}", None),
        ],
        ("get", "/sessions"): [("sessions", None)],
        ("post", "/sessions"): [("sessions", {"user": "alice", "team": T})],
        ("get", "/sessions/{session_id}"): [(f"sessions/{v.session}", None)],
        ("delete", "/sessions/{session_id}"): [(f"sessions/{v.session}", None)],
        ("post", "/sessions/{session_id}/stop"): [(f"sessions/{v.session}/stop", None)],
        ("get", "/spawn-options/{user}"): [("spawn-options/alice", None)],
        ("get", "/files"): [
            (f"files{q(space=f'team:{T}')}", None),
            (f"files{q(space='user:alice')}", None),
            (f"files{q(space='user:bob')}", None),
        ],
        ("get", "/files/versions"): [
            (f"files/versions{q(**nb)}", None) for nb in (team_nb, alice_nb, bob_nb)
        ],
        ("post", "/files/versions"): [
            ("files/versions", {**nb, "format": "notebook", "content": notebook("pwned")})
            for nb in (team_nb, alice_nb, bob_nb)
        ],
        ("get", "/files/content"): [
            (f"files/content{q(**nb)}", None) for nb in (team_nb, alice_nb, bob_nb)
        ]
        + [(f"files/content{q(**team_nb, version=1)}", None)],
        ("delete", "/files/content"): [
            (f"files/content{q(**nb)}", None) for nb in (team_nb, alice_nb, bob_nb)
        ],
        ("post", "/files/restore"): [
            ("files/restore", {**nb, "version": 1}) for nb in (team_nb, alice_nb, bob_nb)
        ],
        ("get", "/files/diff"): [
            (f"files/diff{q(**nb, a=1, b=2)}", None) for nb in (team_nb, alice_nb, bob_nb)
        ],
        ("get", "/files/export"): [
            (f"files/export{q(**nb, version=1, format='py:percent')}", None)
            for nb in (team_nb, alice_nb, bob_nb)
        ],
        ("get", "/files/shares"): [(f"files/shares{q(**team_nb)}", None)],
        ("post", "/files/shares"): [
            (f"files/shares{q(**nb)}", {"kind": "team", "with": OTHER, "mode": "rw"})
            for nb in (team_nb, alice_nb, bob_nb)
        ],
        ("delete", "/files/shares"): [(f"files/shares{q(**team_nb, kind='user')}&with=bob", None)],
        ("get", "/files/shared-with-me"): [("files/shared-with-me", None)],
        ("get", "/experiments"): [("experiments", None), (f"experiments{q(team=T)}", None)],
        ("post", "/experiments"): [
            ("experiments", spec),
            (f"experiments{q(parent=v.run)}", {**spec, "meta": {"name": "y"}}),
        ],
        ("get", "/experiments/{run_id}"): [(f"experiments/{v.run}", None)],
        ("post", "/experiments/{run_id}/kill"): [(f"experiments/{v.live_run}/kill", None)],
        ("post", "/experiments/{run_id}/rerun"): [(f"experiments/{v.run}/rerun", None)],
        ("get", "/experiments/{run_id}/logs"): [(f"experiments/{v.run}/logs", None)],
        ("get", "/experiments/{run_id}/spark"): [(f"experiments/{v.run}/spark", None)],
        ("get", "/experiments/{run_id}/spark/ui/{subpath}"): [
            (f"experiments/{v.run}/spark/ui/jobs/", None)
        ],
        ("get", "/experiments/{run_id}/artifacts"): [
            (f"experiments/{v.run}/artifacts", None),
            (f"experiments/{v.run}/artifacts{q(path='a.txt')}", None),
        ],
        ("get", "/experiments/{run_id}/artifacts/preview"): [
            (f"experiments/{v.run}/artifacts/preview{q(path='a.txt')}", None)
        ],
        ("put", "/experiments/{run_id}/artifacts"): [
            (f"experiments/{v.live_run}/artifacts{q(path='planted.txt')}", b"pwned")
        ],
        ("get", "/experiments/{run_id}/metrics"): [(f"experiments/{v.run}/metrics", None)],
        ("post", "/experiments/{run_id}/metrics"): [
            (f"experiments/{v.live_run}/metrics", {"metrics": [{"key": "loss", "value": 9}]})
        ],
        ("post", "/uploads"): [],  # the caller's own upload: no first-team object involved
        ("get", "/templates"): [("templates", None), (f"templates{q(team=T)}", None)],
        ("post", "/templates"): [("templates", {"name": "x", "team": T, "spec": spec})],
        ("get", "/templates/{scope}/{name}"): [(f"templates/{T}/{v.template}", None)],
        ("patch", "/templates/{scope}/{name}"): [
            (f"templates/{T}/{v.template}", {"description": "x"})
        ],
        ("delete", "/templates/{scope}/{name}"): [(f"templates/{T}/{v.template}", None)],
        ("post", "/templates/{scope}/{name}/runs"): [
            (f"templates/{T}/{v.template}/runs", {"meta": {"team": T}})
        ],
        ("get", "/pipelines"): [("pipelines", None), (f"pipelines{q(team=T)}", None)],
        ("post", "/pipelines"): [
            ("pipelines", {"name": "x", "team": T, "steps": [{"name": "a", "spec": spec}]})
        ],
        ("get", "/pipelines/{pipeline_id}"): [(f"pipelines/{v.pipeline}", None)],
        ("post", "/pipelines/{pipeline_id}/terminate"): [
            (f"pipelines/{v.pipeline}/terminate", None)
        ],
        ("post", "/pipelines/{pipeline_id}/retry"): [(f"pipelines/{v.pipeline}/retry", None)],
        ("get", "/experiments/compare"): [(f"experiments/compare{q(ids=v.run)}", None)],
        ("post", "/tensorboards"): [("tensorboards", {"runs": [v.run]})],
        ("get", "/experiments/search"): [
            ("experiments/search", None),
            (f"experiments/search{q(filter=f'attributes.run_id = {v.run}')}", None),
            (f"experiments/search{q(team=T)}", None),
        ],
        ("post", "/tracking/runs"): [("tracking/runs", {"name": "x", "team": T})],
        ("post", "/tracking/runs/{run_id}/heartbeat"): [
            (f"tracking/runs/{v.live_run}/heartbeat", None)
        ],
        ("post", "/tracking/runs/{run_id}/end"): [
            (f"tracking/runs/{v.live_run}/end", {"status": "failed"})
        ],
        ("get", "/models"): [("models", None), (f"models{q(team=T)}", None)],
        ("post", "/models"): [("models", {"name": "x", "team": T})],
        ("get", "/models/{team}/{name}"): [(f"models/{M}", None)],
        ("patch", "/models/{team}/{name}"): [(f"models/{M}", {"description": "x"})],
        ("delete", "/models/{team}/{name}"): [(f"models/{M}", None)],
        ("get", "/models/{team}/{name}/versions"): [(f"models/{M}/versions", None)],
        ("post", "/models/{team}/{name}/versions"): [
            (f"models/{M}/versions", {"framework": "sklearn"})
        ],
        ("get", "/models/{team}/{name}/versions/{version}"): [
            (f"models/{M}/versions/1", None),
            (f"models/{M}/versions/production", None),
        ],
        ("patch", "/models/{team}/{name}/versions/{version}"): [
            (f"models/{M}/versions/1", {"description": "x"})
        ],
        ("delete", "/models/{team}/{name}/versions/{version}"): [(f"models/{M}/versions/2", None)],
        ("post", "/models/{team}/{name}/versions/{version}/ready"): [
            (f"models/{M}/versions/2/ready", None)
        ],
        ("get", "/models/{team}/{name}/versions/{version}/files"): [
            (f"models/{M}/versions/1/files", None),
            (f"models/{M}/versions/1/files{q(path='model.joblib')}", None),
        ],
        ("put", "/models/{team}/{name}/versions/{version}/files"): [
            (f"models/{M}/versions/2/files{q(path='model.joblib')}", b"pwned"),
            (f"models/{M}/versions/1/files{q(path='model.joblib')}", b"pwned"),
        ],
        ("put", "/models/{team}/{name}/aliases/{alias}"): [
            (f"models/{M}/aliases/production", {"version": 2}),
            (f"models/{M}/aliases/staging", {"version": 1}),
        ],
        ("delete", "/models/{team}/{name}/aliases/{alias}"): [
            (f"models/{M}/aliases/production", None)
        ],
        ("get", "/datasets"): [("datasets", None), (f"datasets{q(team=T)}", None)],
        ("post", "/datasets"): [("datasets", {"name": "x", "team": T, "uri": "file:///x"})],
        ("get", "/datasets/{team}/{name}"): [(f"datasets/{T}/{v.dataset}", None)],
        ("patch", "/datasets/{team}/{name}"): [(f"datasets/{T}/{v.dataset}", {"description": "x"})],
        ("delete", "/datasets/{team}/{name}"): [(f"datasets/{T}/{v.dataset}", None)],
        ("get", "/lineage"): [
            (f"lineage{q(dataset=f'{T}/{v.dataset}')}", None),
            (f"lineage{q(run=v.run)}", None),
            (f"lineage{q(model=M, version=1)}", None),
            (f"lineage{q(endpoint=f'{T}/{v.endpoint}')}", None),
        ],
        ("get", "/endpoints"): [("endpoints", None), (f"endpoints{q(team=T)}", None)],
        ("post", "/endpoints"): [
            ("endpoints", {"name": "x", "team": T, "model": v.model, "version": 1})
        ],
        ("get", "/endpoints/{team}/{name}"): [(f"endpoints/{T}/{v.endpoint}", None)],
        ("patch", "/endpoints/{team}/{name}"): [
            (f"endpoints/{T}/{v.endpoint}", {"description": "x"})
        ],
        ("delete", "/endpoints/{team}/{name}"): [(f"endpoints/{T}/{v.endpoint}", None)],
        ("get", "/endpoints/{team}/{name}/logs"): [(f"endpoints/{T}/{v.endpoint}/logs", None)],
        ("get", "/endpoints/{team}/{name}/metrics"): [
            (f"endpoints/{T}/{v.endpoint}/metrics", None)
        ],
        ("get", "/notebook-jobs/parameters"): [
            (f"notebook-jobs/parameters{q(notebook=v.job_notebook, space=f'team:{T}')}", None),
            (f"notebook-jobs/parameters{q(notebook=v.alice_file, space='user:alice')}", None),
            (f"notebook-jobs/parameters{q(notebook=v.bob_file, space='user:bob')}", None),
        ],
        ("get", "/notebook-jobs"): [
            (f"notebook-jobs{q(notebook=v.job_notebook, space=f'team:{T}')}", None)
        ],
        ("post", "/notebook-jobs"): [
            ("notebook-jobs", job),
            ("notebook-jobs", {"notebook": v.bob_file, "space": "user:bob", "team": T}),
        ],
        ("get", "/notebook-jobs/{run_id}"): [(f"notebook-jobs/{v.job_run}", None)],
        ("get", "/notebook-schedules"): [
            ("notebook-schedules", None),
            (f"notebook-schedules{q(team=T)}", None),
        ],
        ("post", "/notebook-schedules"): [
            ("notebook-schedules", {"cron": "0 6 * * *", "job": job, "paused": True})
        ],
        ("get", "/notebook-schedules/{schedule_id}"): [(f"notebook-schedules/{v.schedule}", None)],
        ("patch", "/notebook-schedules/{schedule_id}"): [
            (f"notebook-schedules/{v.schedule}", {"paused": False})
        ],
        ("delete", "/notebook-schedules/{schedule_id}"): [
            (f"notebook-schedules/{v.schedule}", None)
        ],
        ("get", "/notebook-schedules/{schedule_id}/runs"): [
            (f"notebook-schedules/{v.schedule}/runs", None)
        ],
        ("get", "/studies"): [("studies", None), (f"studies{q(team=T)}", None)],
        ("post", "/studies"): [("studies", study_spec(v))],
        ("get", "/studies/{study_id}"): [(f"studies/{v.study}", None)],
        ("post", "/studies/{study_id}/stop"): [(f"studies/{v.study}/stop", None)],
        ("post", "/studies/{study_id}/resume"): [(f"studies/{v.study}/resume", {"trials": 1})],
        ("get", "/studies/{study_id}/importances"): [(f"studies/{v.study}/importances", None)],
        ("post", "/studies/{study_id}/trials/next"): [(f"studies/{v.study}/trials/next", {})],
        ("post", "/study-trials/{run_id}/report"): [
            (f"study-trials/{v.study_run}/report", {"value": 1.0, "step": 1})
        ],
        ("get", "/usage"): [
            (f"usage{q(team=T, group_by='item')}", None),
            (f"usage{q(team=T, format='csv')}", None),
        ],
        ("get", "/usage/teams"): [(f"usage/teams{q(team=T)}", None)],
        ("get", "/usage/prices"): [("usage/prices", None)],
        ("put", "/usage/prices"): [("usage/prices", {"cpu_hour": 99})],
        ("get", "/usage/prices/versions"): [("usage/prices/versions", None)],
        ("post", "/usage/prices/versions"): [
            ("usage/prices/versions", {"prices": {"cpu_hour": 99}}),
            ("usage/prices/versions", {"effective_at": "2100-01-01T00:00Z", "prices": {}}),
        ],
        ("delete", "/usage/prices/versions/{version_id}"): [("usage/prices/versions/1", None)],
        ("get", "/usage/budgets"): [("usage/budgets", None)],
        ("get", "/usage/budgets/{team}"): [(f"usage/budgets/{T}", None)],
        ("put", "/usage/budgets/{team}"): [(f"usage/budgets/{T}", {"amount": 0})],
        ("delete", "/usage/budgets/{team}"): [(f"usage/budgets/{T}", None)],
        **mlflow_calls(v),
    }


#: MLflow's API (tag mlflow): a path ``mlflow:<rest>`` is under the service's ``mlflow/``
MLFLOW = "mlflow:"


def url_of(platform: Any, path: str) -> str:
    if path.startswith(MLFLOW):
        return platform.api_url("").removesuffix("api/v1/") + "mlflow/" + path[len(MLFLOW) :]
    return platform.api_url(path)


def mlflow_calls(v: Victim) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    """MLflow's operations on the first team's run, model, logged model: each call valid had
    alice made it (GETs: the query; others: the JSON body)."""
    run, name, lm = str(v.run), v.model, v.logged_model
    ver = {"name": name, "version": "1"}
    calls: dict[tuple[str, str], Any] = {
        ("post", "experiments/create"): {"name": f"{MARK}-exp"},
        ("get", "experiments/get"): q(experiment_id="0"),
        ("get", "experiments/get-by-name"): q(experiment_name="Default"),
        ("get", "experiments/search"): q(max_results=10),
        ("post", "experiments/search"): {"max_results": 10},
        ("post", "experiments/update"): {"experiment_id": "0", "new_name": "x"},
        ("post", "experiments/delete"): {"experiment_id": "0"},
        ("post", "experiments/restore"): {"experiment_id": "0"},
        ("post", "experiments/set-experiment-tag"): {
            "experiment_id": "0",
            "key": "k",
            "value": "v",
        },
        ("post", "experiments/delete-experiment-tag"): {"experiment_id": "0", "key": "k"},
        ("post", "runs/create"): {"experiment_id": "0", "run_name": "x"},
        ("get", "runs/get"): q(run_id=run),
        ("post", "runs/update"): {"run_id": run, "status": "KILLED"},
        ("post", "runs/delete"): {"run_id": run},
        ("post", "runs/restore"): {"run_id": run},
        ("post", "runs/log-metric"): {"run_id": run, "key": "x", "value": 1, "timestamp": 1},
        ("post", "runs/log-parameter"): {"run_id": run, "key": "x", "value": "1"},
        ("post", "runs/set-tag"): {"run_id": run, "key": "x", "value": "1"},
        ("post", "runs/delete-tag"): {"run_id": run, "key": "x"},
        ("post", "runs/log-batch"): {"run_id": run, "metrics": [{"key": "x", "value": 1}]},
        ("post", "runs/log-inputs"): {"run_id": run, "models": [{"model_id": lm}]},
        ("post", "runs/outputs"): {"run_id": run, "models": [{"model_id": lm, "step": 0}]},
        ("post", "runs/log-model"): {"run_id": run, "model_json": "{}"},
        ("post", "runs/search"): {"experiment_ids": ["0"]},
        ("get", "metrics/get-history"): q(run_id=run, metric_key="loss"),
        ("get", "artifacts/list"): q(run_id=run),
        ("post", "logged-models"): {"experiment_id": "0", "name": "x"},
        ("get", "logged-models/{model_id}"): "",
        ("patch", "logged-models/{model_id}"): {"status": "LOGGED_MODEL_READY"},
        ("delete", "logged-models/{model_id}"): None,
        ("patch", "logged-models/{model_id}/tags"): {"tags": [{"key": "k", "value": "v"}]},
        ("delete", "logged-models/{model_id}/tags/{tag_key}"): None,
        ("post", "logged-models/{model_id}/params"): {"params": [{"key": "k", "value": "v"}]},
        ("post", "logged-models/search"): {"experiment_ids": ["0"]},
        ("post", "registered-models/create"): {"name": f"{MARK}-new"},
        ("get", "registered-models/get"): q(name=name),
        ("patch", "registered-models/update"): {"name": name, "description": "x"},
        ("post", "registered-models/rename"): {"name": name, "new_name": "x"},
        ("delete", "registered-models/delete"): {"name": name},
        ("post", "registered-models/set-tag"): {"name": name, "key": "k", "value": "v"},
        ("delete", "registered-models/delete-tag"): {"name": name, "key": "k"},
        ("get", "registered-models/search"): q(max_results=10),
        ("get", "registered-models/get-latest-versions"): q(name=name),
        ("post", "registered-models/get-latest-versions"): {"name": name},
        ("post", "registered-models/alias"): {**ver, "alias": "x"},
        ("delete", "registered-models/alias"): {"name": name, "alias": "production"},
        ("get", "registered-models/alias"): q(name=name, alias="production"),
        ("post", "model-versions/create"): {"name": name, "source": f"runs:/{run}/a.txt"},
        ("get", "model-versions/get"): q(**ver),
        ("get", "model-versions/get-download-uri"): q(**ver),
        ("patch", "model-versions/update"): {**ver, "description": "x"},
        ("post", "model-versions/set-tag"): {**ver, "key": "k", "value": "v"},
        ("post", "model-versions/transition-stage"): {**ver, "stage": "Production"},
        ("delete", "model-versions/delete"): ver,
        ("delete", "model-versions/delete-tag"): {**ver, "key": "k"},
        ("get", "model-versions/search"): q(filter=f"name = '{name}'"),
        ("post", "model-versions/search"): {"filter": f"name = '{name}'"},
    }
    out: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for (method, op), arg in calls.items():
        path = op.replace("{model_id}", lm).replace("{tag_key}", "k")
        where = f"{MLFLOW}{TEAM}/api/2.0/mlflow/{path}"
        if method == "get":
            out[(method, f"/{{team}}/api/2.0/mlflow/{op}")] = [(where + (arg or ""), None)]
        else:
            out[(method, f"/{{team}}/api/2.0/mlflow/{op}")] = [(where, arg)]
    art = f"{MLFLOW}{TEAM}/api/2.0/mlflow-artifacts/artifacts"
    doc = "/{team}/api/2.0/mlflow-artifacts/artifacts"
    out[("get", doc)] = [(f"{art}{q(path=f'runs/{run}')}", None)]
    out[("get", doc + "/{path}")] = [(f"{art}/runs/{run}/a.txt", None)]
    out[("put", doc + "/{path}")] = [(f"{art}/runs/{v.live_run}/x.txt", MARK.encode())]
    out[("delete", doc + "/{path}")] = [(f"{art}/runs/{run}/a.txt", None)]
    return out


def snapshot(platform: Any, v: Victim) -> dict[str, Any]:
    """What the first team (and bob, for his personal things) see of their objects."""

    def get(path: str, user: str = "alice") -> Any:
        r = platform.api("GET", path, user=user)
        return r.status_code, (r.json() if "json" in r.headers.get("Content-Type", "") else r.text)

    def versions(space: str, path: str, user: str = "alice") -> Any:
        status, body = get(f"files/versions{q(space=space, path=path)}", user)
        return status, [(x["number"], x["action"], x["author"]) for x in body["items"]]

    def names(path: str, user: str = "alice", key: str = "name") -> list[Any]:
        return sorted(str(x.get(key)) for x in get(path, user)[1]["items"])

    endpoint = get(f"endpoints/{TEAM}/{v.endpoint}")[1]
    return {
        "team": {k: get(f"teams/{TEAM}")[1].get(k) for k in ("description", "quota")},
        "env": get(f"environments/{TEAM}/{v.env}")[1].get("description"),
        "envs": names(f"environments{q(team=TEAM)}"),
        "credentials": names("credentials"),
        "bob-credentials": names("credentials", "bob"),
        "team-file": versions(f"team:{TEAM}", v.team_file),
        "shares": get(f"files/shares{q(space=f'team:{TEAM}', path=v.team_file)}"),
        "alice-file": versions("user:alice", v.alice_file),
        "bob-file": versions("user:bob", v.bob_file, "bob"),
        "runs": names(f"experiments{q(team=TEAM, limit=500)}", key="id"),
        "run": {k: get(f"experiments/{v.run}")[1].get(k) for k in ("status", "spec", "metrics")},
        "artifacts": get(f"experiments/{v.live_run}/artifacts"),
        # killed by someone? (the service itself ends it once its process stops beating)
        "live": get(f"experiments/{v.live_run}")[1]["status"] == "killed",
        "metrics": get(f"experiments/{v.live_run}/metrics"),
        "templates": get(f"templates/{TEAM}/{v.template}"),
        "pipelines": names(f"pipelines{q(team=TEAM)}", key="id"),
        "models": names(f"models{q(team=TEAM)}"),
        "model": get(f"models/{TEAM}/{v.model}"),
        "versions": get(f"models/{TEAM}/{v.model}/versions"),
        "dataset": get(f"datasets/{TEAM}/{v.dataset}"),
        "datasets": names(f"datasets{q(team=TEAM)}"),
        "endpoint": {k: endpoint.get(k) for k in ("status", "routes", "description")},
        "endpoints": names(f"endpoints{q(team=TEAM)}"),
        "schedule": get(f"notebook-schedules/{v.schedule}"),
        "schedules": names(f"notebook-schedules{q(team=TEAM)}", key="id"),
        "session": get(f"sessions/{v.session}", "admin")[0],
        "study": {k: get(f"studies/{v.study}")[1].get(k) for k in ("status", "trials", "items")},
        "studies": names(f"studies{q(team=TEAM)}", key="id"),
        "budget": get(f"usage/budgets/{TEAM}")[0],
        "prices": get("usage/prices")[1],
        "price_versions": get("usage/prices/versions")[1],
    }


# listings: a 200 is fine as long as nothing of the first team is in it
LISTINGS = {
    "/teams",
    "/me",
    "/credentials",
    "/sessions",
    "/files/shared-with-me",
    "/metrics",
    "/notebook-jobs",
    "/studies",
}
RUN_LISTINGS = {"/experiments", "/experiments/compare", "/experiments/search", "/notebook-jobs"}
# operations that name one object in their query rather than their path
QUERY_NAMED = {
    "/files",
    "/files/versions",
    "/files/content",
    "/files/diff",
    "/files/export",
    "/files/shares",
    "/lineage",
    "/notebook-jobs/parameters",
    "/experiments/compare",
    "/usage",
    "/usage/teams",
}
PUBLIC = {"/health", "/openapi.json", "/experiment-schema"}


def test_no_operation_lets_another_team_anonymous_or_a_foreign_run_token_reach_a_team(
    platform: Any, victim: Victim, foreign_run_token: str, request: pytest.FixtureRequest
) -> None:
    document = platform.api("GET", "openapi.json").json()
    documented = {
        (method, path)
        for path, ops in document["paths"].items()
        for method in ops
        if method in {"get", "post", "put", "patch", "delete"}
    }
    table = calls(victim)
    assert documented - table.keys() == set(), "operations with no attack in CALLS"
    assert table.keys() - documented == set(), "attacks on undocumented operations"

    callers = {
        "carol": {"Authorization": f"token {platform.token_for('carol')}"},
        "anonymous": {},
        RUN: {"Authorization": f"token {foreign_run_token}"},
    }
    before = snapshot(platform, victim)
    findings: list[str] = []
    requests_made = server_errors = 0
    for (method, template), attacks in sorted(table.items()):
        for path, body, *only in attacks:
            for who, headers in callers.items():
                if only and who not in only:
                    continue
                kw: dict[str, Any] = {"headers": dict(headers), "timeout": 60}
                if isinstance(body, bytes):
                    kw["data"] = body
                elif body is not None:
                    kw["json"] = body
                r = requests.request(method.upper(), url_of(platform, path), **kw)
                requests_made += 1
                where = f"{who}: {method.upper()} {path} -> {r.status_code}"
                if r.status_code >= 500:
                    server_errors += 1
                    findings.append(f"{where} (server error) {r.text[:200]}")
                elif template in PUBLIC or r.status_code in REFUSED:
                    continue  # a refusal may echo what the request named
                elif MARK in r.text or (
                    template in RUN_LISTINGS
                    and {str(victim.run), str(victim.live_run), str(victim.job_run)} & _ids(r)
                ):
                    at = max(r.text.find(MARK), 200)
                    findings.append(
                        f"{where} reveals the first team's objects: {r.text[at - 200 : at + 100]}"
                    )
                elif not (method == "get" and (template in LISTINGS or not _names_one(template))):
                    findings.append(f"{where} was not refused: {r.text[:200]}")
    after = snapshot(platform, victim)
    changed = [k for k in before if before[k] != after[k]]
    findings += [f"changed: {k}: {before[k]!r} -> {after[k]!r}" for k in changed]
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    summary = (
        f"cross-team access: {len(documented)} operations covered, {requests_made} requests "
        f"made as {len(callers)} callers, {server_errors} 5xx, {len(findings)} findings"
    )
    if reporter:
        reporter.write_line("\n" + summary)
    Path(request.config.rootpath, ".cross-team-findings.txt").write_text("\n".join(findings))
    assert not findings, summary + "\n" + "\n".join(findings)


def _ids(r: requests.Response) -> set[str]:
    """The run ids a JSON answer lists (a listing of runs, a compare table)."""
    try:
        body = r.json()
    except ValueError:
        return set()
    items = body.get("items", body.get("runs", [])) if isinstance(body, dict) else []
    return {str(x.get("id")) for x in items if isinstance(x, dict)}


def _names_one(template: str) -> bool:
    """Whether an operation names one object (else it lists or creates)."""
    return "{" in template or template in QUERY_NAMED
