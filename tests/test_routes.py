# Over 600 lines: its last test checks every route's cases across the module; splitting breaks that.
"""Every route of the service, in-process: for each operation a success, a bad input
refused with a 4xx, and a user of another team refused (403 or 404).

The service runs in this process (``service`` fixture: real handlers and metastore, a fake
hub directory and fake backends). Every request of this module says which of the three
cases it is (``case=``); the last test checks, from what the application recorded, that
each handler method answered every case it has with a fitting status, so a new route
fails it until it is exercised here.

The objects live in a team of this module's own (``world``), with users of its own:
nothing here depends on what other tests left, or leaves anything they see.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from submarine_hub.service.handlers import API_ROUTES
from submarine_hub.service.handlers.base import allowed_methods

from .helpers.api import assert_json_error, command, wait, wait_for
from .helpers.archives import tar_gz
from .helpers.notebooks import parameters_notebook
from .helpers.service import ROUTE_SUMMARY, SERVICE_SCOPE, InProcessService
from .helpers.spark import spark_ui_stub
from .test_tensorboard import write_tfevents

SESSIONS_SCOPE = "custom:submarine:sessions"

#: Cases a handler method does not have, and why (checked by the last test).
NO_BAD_INPUT = {
    ("/health", "GET"): "public; takes no input",
    ("/openapi.json", "GET"): "public; takes no input",
    ("/experiment-schema", "GET"): "takes no input",
    ("/me", "GET"): "takes no input",
    ("/teams", "GET"): "takes no input",
    ("/metrics", "GET"): "takes no input",
    ("/credentials", "GET"): "takes no input",
    ("/sessions", "GET"): "takes no input",
    ("/files/shared-with-me", "GET"): "takes no input",
    ("/datasets", "GET"): "takes free-text filters only",
    ("HomeHandler", "GET"): "takes no input",
    ("AdminHandler", "GET"): "takes no input",
    ("/usage/prices", "GET"): "takes no input",
    ("/usage/prices/versions", "GET"): "takes no input",
    ("/usage/budgets", "GET"): "takes no input",
}
NO_OTHER_TEAM = {
    ("/health", "GET"): "public",
    ("/openapi.json", "GET"): "public",
    ("/experiment-schema", "GET"): "public to every user",
    ("/me", "GET"): "about the caller only",
    ("/teams", "GET"): "lists the caller's teams only (checked below)",
    ("/credentials", "GET"): "lists what the caller may see only (checked below)",
    ("/sessions", "GET"): "lists the caller's sessions only (checked below)",
    ("/files/shared-with-me", "GET"): "about the caller only",
    ("/uploads", "POST"): "the caller's own upload; no team involved",
    ("/notebook-jobs", "GET"): "a listing: shows another team's user nothing (checked below)",
    ("/datasets", "GET"): "a listing: shows another team's user nothing of it (checked below)",
    ("HomeHandler", "GET"): "about the caller only",
    ("OAuthCallbackHandler", "GET"): "the hub's OAuth: tested against the real hub",
    ("/usage/prices", "GET"): "the prices are the same for every user",
    ("/usage/prices/versions", "GET"): "the prices are the same for every user",
    ("/usage/budgets", "GET"): "lists the caller's teams' budgets only (checked below)",
}
NO_SUCCESS = {
    ("OAuthCallbackHandler", "GET"): "the hub's OAuth: tested against the real hub",
}


@dataclass
class World:
    """A team of the module's own and its objects, owned by ``owner``."""

    team: str
    owner: str
    mate: str  # another member
    other: str  # a user of another team
    other_team: str
    run: int = 0
    live: int = 0  # an interactive (tracking) run, still running
    run_token: str = ""  # the token of a run of the team
    pipeline: int = 0
    schedule: int = 0
    job: int = 0
    session: int = 0
    spawner: str = ""  # the spawner's token
    model: str = "routes-model"
    dataset: str = "routes-data"
    env: str = "routes-env"
    template: str = "routes-tpl"
    endpoint: str = "routes-ep"
    notebook: str = "routes/train.ipynb"
    text: str = "routes/notes.txt"

    @property
    def space(self) -> str:
        return f"team:{self.team}"


def q(**params: Any) -> str:
    return "?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())


class Calls:
    """The module's calls, each labelled with its case and checked."""

    def __init__(self, service: InProcessService, world: World) -> None:
        self.s, self.w = service, world

    def _call(self, case: str, method: str, path: str, user: str | None, kw: dict) -> Any:
        """As ``user`` (default: the team's owner), or with ``token=`` (a service's)."""
        token = kw.pop("token", None)
        if token is not None:
            kw["headers"] = {"Authorization": f"token {token}"}
            return self.s.api(method, path, case=case, **kw)
        return self.s.api(method, path, user=user or self.w.owner, case=case, **kw)

    def ok(
        self, method: str, path: str, user: str | None = None, status: int | None = None, **kw: Any
    ) -> Any:
        r = self._call("ok", method, path, user, kw)
        assert r.status_code < 400 and (status is None or r.status_code == status), (
            method,
            path,
            r.status_code,
            r.text[:500],
        )
        if "json" in r.headers.get("Content-Type", "") and r.content:
            return r.json()
        return r

    def bad(
        self,
        method: str,
        path: str,
        status: int = 400,
        pattern: str = "",
        user: str | None = None,
        **kw: Any,
    ) -> None:
        r = self._call("bad", method, path, user, kw)
        assert_json_error(r, status, pattern)

    def other(self, method: str, path: str, user: str | None = None, **kw: Any) -> None:
        r = self._call("other", method, path, user or self.w.other, kw)
        assert r.status_code in (403, 404), (method, path, r.status_code, r.text[:300])
        assert r.json()["status"] == r.status_code


@pytest.fixture(scope="module")
def world(service: InProcessService) -> World:
    """Objects of one of each kind in a new team (users of its own)."""
    team = service.new_team("routes")
    other_team = service.new_team("routes-other")
    w = World(
        team=team,
        owner=service.new_user("owner", [team]),
        mate=service.new_user("mate", [team]),
        other=service.new_user("other", [other_team]),
        other_team=other_team,
    )
    w.spawner = service.service_token("submarine-spawner", [SESSIONS_SCOPE, SERVICE_SCOPE])

    def api(method: str, path: str, **kw: Any) -> Any:
        r = service.api(method, path, user=w.owner, **kw)
        assert r.status_code in (200, 201, 202), (method, path, r.text)
        return r.json() if r.content else None

    for text in ("first\n", "second\n"):
        api(
            "POST",
            "files/versions",
            json={"space": w.space, "path": w.text, "content": text, "format": "text"},
        )
    for alpha in ("0.5", "0.7"):
        api(
            "POST",
            "files/versions",
            json={
                "space": w.space,
                "path": w.notebook,
                "format": "notebook",
                "content": parameters_notebook(f"alpha = {alpha}", "print(alpha)"),
            },
        )
    run = api("POST", "experiments", json=command("routes-run", "true", team=team))
    w.run = wait(service, w.owner, run["id"], timeout=30)["id"]
    (service.backend.artifacts_dir(w.run) / "out.txt").write_text("42\n")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": [1, 2]}), service.backend.artifacts_dir(w.run) / "t.parquet")
    service.backend.hold = True
    try:
        held = api("POST", "experiments", json=command("routes-held", "sleep 600", team=team))
        service.wake()
        fake = wait_for(lambda: service.backend.runs.get(held["id"]), 10, "the held run")
        w.run_token = fake.plan.env["SUBMARINE_TOKEN"]
    finally:
        service.backend.hold = False
    w.live = api("POST", "tracking/runs", json={"name": "routes-live", "team": team})["id"]
    api(
        "POST",
        f"experiments/{w.live}/metrics",
        json={"metrics": [{"key": "loss", "value": 0.5, "step": 1}], "params": {"lr": 0.1}},
    )
    api("POST", "models", json={"name": w.model, "team": team})
    api("POST", f"models/{team}/{w.model}/versions", json={"framework": "sklearn"})
    api("PUT", f"models/{team}/{w.model}/versions/1/files?path=model.joblib", data=b"weights")
    api("POST", f"models/{team}/{w.model}/versions/1/ready")
    api("PUT", f"models/{team}/{w.model}/aliases/production", json={"version": 1})
    api("POST", "datasets", json={"name": w.dataset, "team": team, "uri": "s3://bucket/routes"})
    api("POST", "environments", json={"name": w.env, "team": team, "packages": ["six"]})
    api(
        "POST",
        "templates",
        json={
            "name": w.template,
            "team": team,
            "spec": {"meta": {"name": "t"}, "task": {"command": "true"}},
        },
    )
    w.pipeline = api(
        "POST",
        "pipelines",
        json={
            "name": "routes-pipe",
            "team": team,
            "steps": [{"name": "one", "spec": {"task": {"command": "true"}}}],
        },
    )["id"]
    job = {"notebook": w.notebook, "space": w.space, "team": team}
    w.job = api("POST", "notebook-jobs", json=job)["id"]
    w.schedule = api(
        "POST",
        "notebook-schedules",
        json={
            "name": "routes-schedule",
            "cron": "0 6 * * *",
            "paused": True,
            "job": job,
        },
    )["id"]
    api(
        "POST",
        "endpoints",
        json={
            "name": w.endpoint,
            "team": team,
            "model": w.model,
            "version": "production",
        },
    )
    r = service.platform("POST", "sessions", w.spawner, json={"user": w.owner, "team": team})
    assert r.status_code == 201, r.text
    w.session = r.json()["id"]
    return w


@pytest.fixture
def c(service: InProcessService, world: World) -> Calls:
    return Calls(service, world)


# --- the service itself ---------------------------------------------------------------


def test_service_routes(c: Calls, service: InProcessService, world: World) -> None:
    assert c.ok("GET", "health")["status"] == "ok"
    assert "paths" in c.ok("GET", "openapi.json")
    assert c.ok("GET", "experiment-schema")["type"] == "object"
    me = c.ok("GET", "me")
    assert me["name"] == world.owner and [t["name"] for t in me["teams"]] == [world.team]
    metrics = c.ok("GET", "metrics", user="admin")
    assert "submarine" in metrics.text
    c.other("GET", "metrics")  # a member is no admin
    r = service.api("GET", "metrics", user=None, case="bad")
    assert_json_error(r, 401, "Authentication required")


def test_team_routes(c: Calls, world: World) -> None:
    T = world.team
    teams = c.ok("GET", "teams")["items"]
    assert [t["name"] for t in teams] == [T]
    assert T not in [t["name"] for t in c.ok("GET", "teams", user=world.other)["items"]]
    assert c.ok("GET", f"teams/{T}")["name"] == T
    c.bad("GET", "teams/no-such-team", 404, "No team named", user="admin")
    c.other("GET", f"teams/{T}")
    c.ok("PATCH", f"teams/{T}", user="admin", json={"description": "Routes"})
    c.bad("PATCH", f"teams/{T}", user="admin", json={"colour": "red"}, pattern="Unknown team field")
    c.other("PATCH", f"teams/{T}", json={"description": "mine"})


def test_team_room_routes(c: Calls, service: InProcessService, world: World) -> None:
    M = service.new_user("rooms")  # a team of its own: the room's account joins it
    T = service.new_team("rooms", [M])
    assert c.ok("GET", f"teams/{T}/room", user=M)["state"] == "stopped"
    c.bad("GET", "teams/no-such-team/room", 404, "No team named", user=M)
    c.other("GET", f"teams/{T}/room")
    room = c.ok("POST", f"teams/{T}/room", user=M, status=202)
    assert (room["account"], room["state"], room["runs_as"]) == (f"collab-{T}", "ready", "team")
    c.bad("POST", "teams/no-such-team/room", 404, "No team named", user=M)
    c.other("POST", f"teams/{T}/room")
    c.other("DELETE", f"teams/{T}/room")
    c.bad("DELETE", "teams/no-such-team/room", 404, "No team named", user=M)
    assert c.ok("DELETE", f"teams/{T}/room", user=M, status=202)["state"] == "stopped"


# --- environments, credentials, sessions ------------------------------------------------


def test_environment_routes(c: Calls, world: World) -> None:
    T, E = world.team, world.env
    assert f"{T}/{E}" in [e["ref"] for e in c.ok("GET", "environments")["items"]]
    c.bad("GET", f"environments{q(team=T, extra='x')}".replace("&extra=x", "&team="), 403)
    c.other("GET", f"environments{q(team=T)}")
    c.ok("POST", "environments", status=201, json={"name": "routes-env2", "team": T})
    c.bad("POST", "environments", json={"name": "Bad Name", "team": T}, pattern="'name' must be")
    c.other("POST", "environments", json={"name": "x", "team": T})
    assert c.ok("GET", f"environments/{T}/{E}")["name"] == E
    c.bad("GET", f"environments/{T}/no-such-env", 404)
    c.other("GET", f"environments/{T}/{E}")
    c.ok("PATCH", f"environments/{T}/{E}", json={"description": "for the routes"})
    c.bad("PATCH", f"environments/{T}/{E}", json={"packages": "six"}, pattern="must be a list")
    c.other("PATCH", f"environments/{T}/{E}", json={"description": "x"})
    assert c.ok("GET", f"environments/{T}/{E}/build{q(log=1)}")["state"] == "ready"
    c.bad("GET", f"environments/{T}/{E}/build{q(log='maybe')}", pattern="'log' must be")
    c.other("GET", f"environments/{T}/{E}/build")
    c.ok("POST", f"environments/{T}/{E}/build", status=202)
    c.bad("POST", f"environments/{T}/no-such-env/build", 404)
    c.other("POST", f"environments/{T}/{E}/build")
    c.other("DELETE", f"environments/{T}/routes-env2")
    c.ok("DELETE", f"environments/{T}/routes-env2", status=204)
    c.bad("DELETE", f"environments/{T}/routes-env2", 404)


def test_credential_routes(c: Calls, world: World) -> None:
    T = world.team
    c.ok("POST", "credentials", status=201, json={"name": "ROUTES_MINE", "value": "secret"})
    c.ok(
        "POST",
        "credentials",
        user="admin",
        status=201,
        json={
            "owner_kind": "team",
            "owner": T,
            "name": "ROUTES_TEAM",
            "value": "secret",
        },
    )
    c.bad("POST", "credentials", json={"name": "ROUTES_X"}, pattern="value")
    c.other(
        "POST", "credentials", json={"owner_kind": "team", "owner": T, "name": "X", "value": "x"}
    )
    names = [x["name"] for x in c.ok("GET", "credentials")["items"]]
    assert {"ROUTES_MINE", "ROUTES_TEAM"} <= set(names)
    assert "secret" not in json.dumps(c.ok("GET", "credentials")["items"])
    assert "ROUTES_TEAM" not in [
        x["name"] for x in c.ok("GET", "credentials", user=world.other)["items"]
    ]
    c.other("DELETE", f"credentials/user/{world.owner}/ROUTES_MINE")
    c.other("DELETE", f"credentials/team/{T}/ROUTES_TEAM")
    c.ok("DELETE", f"credentials/user/{world.owner}/ROUTES_MINE", status=204)
    c.bad("DELETE", f"credentials/robot/{world.owner}/ROUTES_MINE", 404, "owner kind")


def test_session_routes(c: Calls, service: InProcessService, world: World) -> None:
    sid = world.session
    listed = c.ok("GET", "sessions", user="admin")["items"]
    assert sid in [x["id"] for x in listed]
    assert sid not in [x["id"] for x in c.ok("GET", "sessions", user=world.other)["items"]]
    grant = c.ok(
        "POST",
        "sessions",
        token=world.spawner,
        status=201,
        json={"user": world.mate, "team": world.team},
    )
    assert grant["env"]["SUBMARINE_TEAM"] == world.team
    c.bad(
        "POST",
        "sessions",
        token=world.spawner,
        json={"user": world.mate, "team": "nope"},
        status=403,
    )
    c.other("POST", "sessions", json={"user": world.owner, "team": world.team})
    assert c.ok("GET", f"sessions/{sid}", token=world.spawner)["id"] == sid
    c.bad("GET", "sessions/0", token=world.spawner, status=404)
    c.other("GET", f"sessions/{sid}")
    assert c.ok("GET", f"spawn-options/{world.owner}", token=world.spawner)["teams"] == [world.team]
    c.bad("GET", "spawn-options/no-such-user", token=world.spawner, status=404)
    c.other("GET", f"spawn-options/{world.owner}")
    c.ok("POST", f"sessions/{sid}/stop", user="admin", status=202)
    assert (world.owner, "") in service.directory.stopped
    c.bad("POST", "sessions/abc/stop", user="admin", status=404)
    c.other("POST", f"sessions/{sid}/stop")
    c.other("DELETE", f"sessions/{grant['id']}")
    c.ok("DELETE", f"sessions/{grant['id']}", token=world.spawner, status=204)
    c.bad("DELETE", "sessions/99999999", token=world.spawner, status=404)


# --- versioned files ----------------------------------------------------------------------


def test_file_routes(c: Calls, world: World) -> None:
    S, NB, TXT = world.space, world.notebook, world.text
    assert TXT in [f["path"] for f in c.ok("GET", f"files{q(space=S)}")["items"]]
    c.bad("GET", f"files{q(space='planet:x')}", pattern="space")
    c.other("GET", f"files{q(space=S)}")
    assert [v["number"] for v in c.ok("GET", f"files/versions{q(space=S, path=TXT)}")["items"]] == [
        2,
        1,
    ]
    c.bad("GET", f"files/versions{q(space=S, path='../up')}")
    c.other("GET", f"files/versions{q(space=S, path=TXT)}")
    c.ok(
        "POST",
        "files/versions",
        status=201,
        json={"space": S, "path": "routes/new.txt", "content": "x", "format": "text"},
    )
    c.bad(
        "POST",
        "files/versions",
        json={"space": S, "path": "../up.txt", "content": "x", "format": "text"},
    )
    c.other(
        "POST",
        "files/versions",
        json={"space": S, "path": "routes/x.txt", "content": "x", "format": "text"},
    )
    assert c.ok("GET", f"files/content{q(space=S, path=TXT, version=1)}")["content"] == "first\n"
    c.bad("GET", f"files/content{q(space=S, path=TXT, version=0)}")
    c.other("GET", f"files/content{q(space=S, path=TXT)}")
    c.ok("POST", "files/restore", status=201, json={"space": S, "path": TXT, "version": 1})
    c.bad(
        "POST",
        "files/restore",
        json={"space": S, "path": TXT, "version": "one"},
        pattern="'version'",
    )
    c.other("POST", "files/restore", json={"space": S, "path": TXT, "version": 1})
    diff = c.ok("GET", f"files/diff{q(space=S, path=NB, a=1, b=2)}")
    assert (diff["a"]["number"], diff["b"]["number"]) == (1, 2)
    c.bad("GET", f"files/diff{q(space=S, path=NB, a=1)}", pattern="'a' and 'b'")
    c.other("GET", f"files/diff{q(space=S, path=NB, a=1, b=2)}")
    assert "alpha" in c.ok("GET", f"files/export{q(space=S, path=NB)}")["text"]
    c.bad(
        "GET", f"files/export{q(space=S, path=NB, format='docx')}", pattern="Unknown export format"
    )
    c.other("GET", f"files/export{q(space=S, path=NB)}")
    c.ok(
        "POST",
        f"files/shares{q(space=S, path=TXT)}",
        status=201,
        json={"kind": "user", "with": world.other, "mode": "r"},
    )
    c.bad("POST", f"files/shares{q(space=S, path=TXT)}", json={"kind": "planet", "with": "x"})
    c.other(
        "POST",
        f"files/shares{q(space=S, path=NB)}",
        json={"kind": "team", "with": world.other_team, "mode": "rw"},
    )
    assert [x["with"] for x in c.ok("GET", f"files/shares{q(space=S, path=TXT)}")["items"]] == [
        world.other
    ]
    c.bad("GET", f"files/shares{q(space=S)}")
    c.other("GET", f"files/shares{q(space=S, path=NB)}")
    shared = c.ok("GET", "files/shared-with-me", user=world.other)["items"]
    assert [(x["space"], x["path"]) for x in shared] == [(S, TXT)]
    c.other("DELETE", f"files/shares{q(space=S, path=TXT, kind='user')}&with={world.other}")
    c.ok(
        "DELETE", f"files/shares{q(space=S, path=TXT, kind='user')}&with={world.other}", status=204
    )
    c.bad("DELETE", f"files/shares{q(space=S, path=TXT, kind='planet')}&with=x", pattern="'kind'")
    c.other("DELETE", f"files/content{q(space=S, path='routes/new.txt')}")
    c.ok("DELETE", f"files/content{q(space=S, path='routes/new.txt')}")
    c.bad("DELETE", f"files/content{q(space=S, path='routes/never.txt')}", 404)


# --- experiments, uploads, templates, pipelines, tracking ---------------------------------


def test_experiment_routes(c: Calls, service: InProcessService, world: World) -> None:
    T, R = world.team, world.run
    assert R in [x["id"] for x in c.ok("GET", f"experiments{q(team=T)}")["items"]]
    c.bad("GET", f"experiments{q(status='sleeping')}", pattern="Unknown status")
    c.other("GET", f"experiments{q(team=T)}")
    new = c.ok("POST", "experiments", status=201, json=command("routes-new", "true", team=T))
    c.bad("POST", "experiments", json={"meta": {"name": "x", "team": T}}, pattern="task")
    c.other("POST", "experiments", json=command("x", "true", team=T))
    assert c.ok("GET", f"experiments/{R}")["status"] == "succeeded"
    c.bad("GET", "experiments/not-a-number", 404, "positive")
    c.other("GET", f"experiments/{R}")
    c.other("POST", f"experiments/{world.live}/kill")
    c.ok("POST", f"experiments/{world.live}/kill", status=202)
    c.bad("POST", "experiments/0/kill", 404)
    rerun = c.ok("POST", f"experiments/{new['id']}/rerun", status=201)
    assert rerun["id"] != new["id"]
    c.bad("POST", "experiments/-1/rerun", 404)
    c.other("POST", f"experiments/{R}/rerun")
    assert "started" in c.ok("GET", f"experiments/{R}/logs").text
    c.bad("GET", f"experiments/{R}/logs{q(name='worker-9')}", 404, "has no log")
    c.other("GET", f"experiments/{R}/logs")
    assert {"path": "out.txt", "size": 3} in c.ok("GET", f"experiments/{R}/artifacts")["items"]
    head = c.ok("GET", f"experiments/{R}/artifacts/preview{q(path='t.parquet')}")
    assert head["rows"] == [[1], [2]] and head["columns"] == [{"name": "x", "type": "int64"}]
    c.bad("GET", f"experiments/{R}/artifacts/preview{q(path='out.txt')}", pattern="Parquet")
    c.other("GET", f"experiments/{R}/artifacts/preview{q(path='t.parquet')}")
    assert c.ok("GET", f"experiments/{R}/artifacts{q(path='out.txt')}").content == b"42\n"
    c.bad("GET", f"experiments/{R}/artifacts{q(path='../etc/passwd')}")
    c.other("GET", f"experiments/{R}/artifacts")
    held = _held_run(c, service, world)
    c.ok("PUT", f"experiments/{held}/artifacts{q(path='kept.txt')}", status=201, data=b"kept")
    c.bad("PUT", f"experiments/{held}/artifacts{q(path='/abs.txt')}", data=b"x")
    c.other("PUT", f"experiments/{held}/artifacts{q(path='planted.txt')}", data=b"x")
    c.ok(
        "POST",
        f"experiments/{held}/metrics",
        status=201,
        json={"metrics": [{"key": "acc", "value": 0.9, "step": 1}]},
    )
    c.bad(
        "POST", f"experiments/{held}/metrics", json={"metrics": [{"key": "acc", "value": "high"}]}
    )
    c.other("POST", f"experiments/{held}/metrics", json={"metrics": [{"key": "acc", "value": 1}]})
    assert c.ok("GET", f"experiments/{held}/metrics{q(key='acc')}")["points"][0]["value"] == 0.9
    c.bad("GET", f"experiments/{held}/metrics{q(max_points=0)}", pattern="'max_points'")
    c.other("GET", f"experiments/{held}/metrics")
    compared = c.ok("GET", f"experiments/compare{q(ids=f'{R},{held}')}")
    assert {r["id"] for r in compared["items"]} == {R, held}
    c.bad("GET", f"experiments/compare{q(ids='one,two')}")
    c.other("GET", f"experiments/compare{q(ids=R)}")
    found = c.ok("GET", f"experiments/search{q(filter='metrics.acc > 0.5', team=world.team)}")
    assert [r["id"] for r in found["items"]] == [held]
    c.bad("GET", f"experiments/search{q(filter='metrics.acc > high')}", pattern="character 15")
    c.other("GET", f"experiments/search{q(team=world.team)}")
    with tempfile.TemporaryDirectory() as tmp:  # TensorBoard over the run's tfevents
        events = write_tfevents(Path(tmp))
        path = q(path=f"tb/{events.name}")
        c.ok("PUT", f"experiments/{held}/artifacts{path}", status=201, data=events.read_bytes())
    board = c.ok("POST", "tensorboards", status=201, json={"runs": [held]})
    assert board["runs"] == [held]
    c.bad("POST", "tensorboards", json={"runs": ["one"]})
    c.other("POST", "tensorboards", json={"runs": [held]})
    service.backend.finish(held)
    service.wake()
    wait(service, world.owner, held, timeout=30)


def _held_run(c: Calls, service: InProcessService, world: World) -> int:
    """A run of the team that stays running until finished (the fake backend holds it)."""
    service.backend.hold = True
    try:
        run = c.ok(
            "POST",
            "experiments",
            status=201,
            json=command("routes-held2", "sleep 60", team=world.team),
        )
        service.wake()
        wait_for(lambda: run["id"] in service.backend.runs, 10, "the held run to launch")
        return run["id"]
    finally:
        service.backend.hold = False


def test_spark_routes(c: Calls, service: InProcessService, world: World) -> None:
    """A Spark run's application and its UI, relayed from a stand-in driver UI."""
    with spark_ui_stub() as ui:
        service.backend.spark_ui = ui
        service.backend.hold = True
        try:
            spark_spec = {"meta": {"name": "routes-spark", "team": world.team},
                          "task": {"spark": {"script": "wc.py"}}}  # fmt: skip
            R = c.ok("POST", "experiments", status=201, json=spark_spec)["id"]
            service.wake()
            wait_for(lambda: R in service.backend.runs, 10, "the Spark run to launch")
        finally:
            service.backend.hold = False
        app = c.ok("GET", f"experiments/{R}/spark")
        assert (app["executors"], app["ui"]) == (2, f"experiments/{R}/spark/ui/")
        c.bad("GET", f"experiments/{world.run}/spark", 404, "no Spark application")
        c.other("GET", f"experiments/{R}/spark")
        page = c.ok("GET", f"experiments/{R}/spark/ui/jobs/?id=1")
        assert page.content == b"<html>Spark Jobs /jobs/?id=1</html>"
        c.bad("GET", f"experiments/{world.run}/spark/ui/jobs/", 404, "no Spark application")
        c.other("GET", f"experiments/{R}/spark/ui/jobs/")
        service.backend.finish(R)
        service.wake()
        wait(service, world.owner, R, timeout=30)
        c.bad("GET", f"experiments/{R}/spark/ui/jobs/", 409, "has ended")
        assert c.ok("GET", f"experiments/{R}/spark")["ui"] is None


def test_run_tokens_act_for_their_run_only(
    c: Calls, service: InProcessService, world: World
) -> None:
    """A run's token speaks for its owner in the run's team, never on personal things."""
    token = {"Authorization": f"token {world.run_token}"}
    assert c.ok("GET", "me", token=world.run_token)["name"] == world.owner
    r = service.api("GET", f"experiments{q(team=world.team)}", headers=token)
    assert r.status_code == 200, r.text
    r = service.api("GET", f"files{q(space=f'user:{world.owner}')}", headers=token)
    assert r.status_code == 403, r.text


def test_upload_routes(c: Calls, world: World) -> None:
    up = c.ok("POST", "uploads", status=201, data=tar_gz({"train.py": b"print(1)"}))
    assert up["id"]
    c.bad("POST", "uploads", data=b"not a tar")


def test_template_routes(c: Calls, world: World) -> None:
    T, N = world.team, world.template
    names = [t["name"] for t in c.ok("GET", f"templates{q(team=T)}")["items"]]
    assert N in names and "sklearn-classifier" in names
    c.bad("GET", f"templates{q(team='no-such-team')}", 403)
    c.other("GET", f"templates{q(team=T)}")
    spec = {"meta": {"name": "t"}, "task": {"command": "true"}}
    c.ok("POST", "templates", status=201, json={"name": "routes-tpl2", "team": T, "spec": spec})
    c.bad("POST", "templates", json={"name": "routes-tpl3", "team": T}, pattern="spec")
    c.other("POST", "templates", json={"name": "x", "team": T, "spec": spec})
    assert c.ok("GET", f"templates/{T}/{N}")["name"] == N
    c.bad("GET", f"templates/{T}/no-such-template", 404)
    c.other("GET", f"templates/{T}/{N}")
    c.ok("PATCH", f"templates/{T}/{N}", json={"description": "for the routes"})
    c.bad("PATCH", f"templates/{T}/{N}", json={"colour": "red"})
    c.other("PATCH", f"templates/{T}/{N}", json={"description": "x"})
    run = c.ok("POST", f"templates/{T}/{N}/runs", status=201, json={"meta": {"team": T}})
    assert run["team"] == T
    c.bad("POST", f"templates/{T}/{N}/runs", json={"parameters": {"nope": 1}, "meta": {"team": T}})
    c.other("POST", f"templates/{T}/{N}/runs", json={"meta": {"team": T}})
    c.other("DELETE", f"templates/{T}/routes-tpl2")
    c.ok("DELETE", f"templates/{T}/routes-tpl2", status=204)
    c.bad("DELETE", f"templates/{T}/routes-tpl2", 404)


def test_pipeline_routes(c: Calls, service: InProcessService, world: World) -> None:
    T, P = world.team, world.pipeline
    assert P in [p["id"] for p in c.ok("GET", f"pipelines{q(team=T)}")["items"]]
    c.bad("GET", f"pipelines{q(team='no-such-team')}", 403)
    c.other("GET", f"pipelines{q(team=T)}")
    steps = [{"name": "a", "spec": {"task": {"command": "true"}}}]
    pipeline = {"name": "routes-p2", "team": T, "steps": steps}
    service.backend.hold = True  # its step runs until the pipeline is terminated
    try:
        new = c.ok("POST", "pipelines", status=201, json=pipeline)
        c.bad("POST", "pipelines", json={**pipeline, "steps": []})
        c.other("POST", "pipelines", json=pipeline)
        assert c.ok("GET", f"pipelines/{new['id']}")["status"] == "running"
        c.bad("GET", "pipelines/0", 404)
        c.other("GET", f"pipelines/{new['id']}")
        c.other("POST", f"pipelines/{new['id']}/terminate")
        c.ok("POST", f"pipelines/{new['id']}/terminate", status=202)
    finally:
        service.backend.hold = False
    c.bad("POST", "pipelines/x/terminate", 404)
    c.bad("POST", f"pipelines/{P}/retry", pattern="nothing to retry")  # it succeeded
    failed = _failed_pipeline(c, service, world)
    c.other("POST", f"pipelines/{failed}/retry")
    c.ok("POST", f"pipelines/{failed}/retry", status=202)


def _failed_pipeline(c: Calls, service: InProcessService, world: World) -> int:
    """A pipeline of the team whose one step failed."""
    steps = [{"name": "a", "spec": {"task": {"command": "false"}}}]
    service.backend.hold = True
    try:
        pid = c.ok(
            "POST",
            "pipelines",
            status=201,
            json={"name": "routes-p4", "team": world.team, "steps": steps},
        )["id"]
        service.wake()
        run_id = wait_for(
            lambda: c.s.api("GET", f"pipelines/{pid}", user=world.owner).json()["steps"][0][
                "run_id"
            ],
            10,
            "the pipeline's step to be submitted",
        )
        wait_for(lambda: run_id in service.backend.runs, 10, "the step's run to launch")
    finally:
        service.backend.hold = False
    service.backend.finish(run_id, "failed")
    service.wake()
    wait_for(
        lambda: c.s.api("GET", f"pipelines/{pid}", user=world.owner).json()["status"] == "failed",
        10,
        "the pipeline to fail",
    )
    return pid


def test_tracking_routes(c: Calls, world: World) -> None:
    T = world.team
    run = c.ok("POST", "tracking/runs", status=201, json={"name": "routes-track", "team": T})
    assert run["heartbeat_interval"] > 0
    c.bad("POST", "tracking/runs", json={"name": "x", "team": T, "colour": "red"})
    c.other("POST", "tracking/runs", json={"name": "x", "team": T})
    c.ok("POST", f"tracking/runs/{run['id']}/heartbeat")
    c.bad("POST", "tracking/runs/0/heartbeat", 404)
    c.other("POST", f"tracking/runs/{run['id']}/heartbeat")
    c.other("POST", f"tracking/runs/{run['id']}/end", json={"status": "failed"})
    c.bad("POST", f"tracking/runs/{run['id']}/end", json={"status": "sleeping"})
    assert (
        c.ok("POST", f"tracking/runs/{run['id']}/end", json={"status": "succeeded"})["status"]
        == "succeeded"
    )


# --- models, datasets, lineage, endpoints ----------------------------------------------


def test_model_routes(c: Calls, world: World) -> None:
    T, M = world.team, f"{world.team}/{world.model}"
    assert world.model in [m["name"] for m in c.ok("GET", f"models{q(team=T)}")["items"]]
    c.bad("GET", f"models{q(archived='maybe')}", pattern="'archived'")
    c.other("GET", f"models{q(team=T)}")
    c.ok("POST", "models", status=201, json={"name": "routes-m2", "team": T})
    c.bad("POST", "models", json={"name": "Bad Name", "team": T})
    c.other("POST", "models", json={"name": "x", "team": T})
    assert c.ok("GET", f"models/{M}")["name"] == world.model
    c.bad("GET", f"models/{T}/no-such-model", 404)
    c.other("GET", f"models/{M}")
    c.ok("PATCH", f"models/{M}", json={"description": "routes"})
    c.bad("PATCH", f"models/{M}", json={"colour": "red"})
    c.other("PATCH", f"models/{M}", json={"description": "x"})
    assert [v["version"] for v in c.ok("GET", f"models/{M}/versions")["items"]] == [1]
    c.bad("GET", f"models/{T}/no-such-model/versions", 404)
    c.other("GET", f"models/{M}/versions")
    draft = c.ok("POST", f"models/{M}/versions", status=201, json={"framework": "sklearn"})[
        "version"
    ]
    c.bad("POST", f"models/{M}/versions", json={"framework": 7})
    c.other("POST", f"models/{M}/versions", json={"framework": "sklearn"})
    assert c.ok("GET", f"models/{M}/versions/production")["version"] == 1
    c.bad("GET", f"models/{M}/versions/99", 404)
    c.other("GET", f"models/{M}/versions/1")
    c.ok("PATCH", f"models/{M}/versions/1", json={"description": "first"})
    c.bad("PATCH", f"models/{M}/versions/1", json={"colour": "red"})
    c.other("PATCH", f"models/{M}/versions/1", json={"description": "x"})
    c.ok(
        "PUT", f"models/{M}/versions/{draft}/files{q(path='model.joblib')}", status=201, data=b"w2"
    )
    c.bad("PUT", f"models/{M}/versions/{draft}/files{q(path='../up')}", data=b"x")
    c.other("PUT", f"models/{M}/versions/{draft}/files{q(path='x.bin')}", data=b"x")
    assert c.ok("GET", f"models/{M}/versions/1/files{q(path='model.joblib')}").content == b"weights"
    c.bad("GET", f"models/{M}/versions/1/files{q(path='nope.bin')}", 404)
    c.other("GET", f"models/{M}/versions/1/files{q(path='model.joblib')}")
    c.other("POST", f"models/{M}/versions/{draft}/ready")
    c.ok("POST", f"models/{M}/versions/{draft}/ready")
    c.bad("POST", f"models/{M}/versions/{draft}/ready", 409)
    c.ok("PUT", f"models/{M}/aliases/staging", json={"version": draft})
    c.bad("PUT", f"models/{M}/aliases/staging", json={"version": 99}, status=404)
    c.other("PUT", f"models/{M}/aliases/staging", json={"version": 1})
    c.other("DELETE", f"models/{M}/aliases/staging")
    c.ok("DELETE", f"models/{M}/aliases/staging", status=204)
    c.bad("DELETE", f"models/{M}/aliases/staging", 404)
    c.other("DELETE", f"models/{M}/versions/{draft}")
    c.ok("DELETE", f"models/{M}/versions/{draft}", status=204)
    c.bad("DELETE", f"models/{M}/versions/{draft}", 404)
    c.other("DELETE", f"models/{T}/routes-m2")
    c.ok("DELETE", f"models/{T}/routes-m2", status=204)
    c.bad("DELETE", f"models/{T}/routes-m2", 404)


def test_dataset_and_lineage_routes(c: Calls, world: World) -> None:
    T, D = world.team, world.dataset
    assert D in [d["name"] for d in c.ok("GET", f"datasets{q(team=T)}")["items"]]
    # a listing of what the caller may see (datasets can be shared with every team)
    assert D not in [
        d["name"] for d in c.ok("GET", f"datasets{q(team=T)}", user=world.other)["items"]
    ]
    c.ok("POST", "datasets", status=201, json={"name": "routes-d2", "team": T, "uri": "s3://b/d2"})
    c.bad("POST", "datasets", json={"name": "routes-d3", "team": T})
    c.other("POST", "datasets", json={"name": "x", "team": T, "uri": "s3://b/x"})
    assert c.ok("GET", f"datasets/{T}/{D}")["name"] == D
    c.bad("GET", f"datasets/{T}/no-such-data", 404)
    c.other("GET", f"datasets/{T}/{D}")
    c.ok("PATCH", f"datasets/{T}/{D}", json={"description": "routes"})
    c.bad("PATCH", f"datasets/{T}/{D}", json={"colour": "red"})
    c.other("PATCH", f"datasets/{T}/{D}", json={"description": "x"})
    c.other("DELETE", f"datasets/{T}/routes-d2")
    c.ok("DELETE", f"datasets/{T}/routes-d2", status=204)
    c.bad("DELETE", f"datasets/{T}/routes-d2", 404)
    c.ok("GET", f"lineage{q(dataset=f'{T}/{D}')}")
    c.ok("GET", f"lineage{q(run=world.run)}")
    c.bad("GET", f"lineage{q(run='abc')}", pattern="'run' must be")
    c.other("GET", f"lineage{q(dataset=f'{T}/{D}')}")


def test_endpoint_routes(c: Calls, world: World) -> None:
    T, E = world.team, world.endpoint
    assert E in [e["name"] for e in c.ok("GET", f"endpoints{q(team=T)}")["items"]]
    c.bad("GET", f"endpoints{q(stopped='maybe')}", pattern="'stopped'")
    c.other("GET", f"endpoints{q(team=T)}")
    c.ok(
        "POST",
        "endpoints",
        status=201,
        json={"name": "routes-ep2", "team": T, "model": world.model, "version": 1},
    )
    c.bad(
        "POST",
        "endpoints",
        json={"name": "routes-ep3", "team": T, "model": "no-such-model", "version": 1},
        status=404,
    )
    c.other("POST", "endpoints", json={"name": "x", "team": T, "model": world.model, "version": 1})
    assert c.ok("GET", f"endpoints/{T}/{E}")["name"] == E
    c.bad("GET", f"endpoints/{T}/no-such-endpoint", 404)
    c.other("GET", f"endpoints/{T}/{E}")
    c.ok("PATCH", f"endpoints/{T}/{E}", status=202, json={"description": "routes"})
    c.bad("PATCH", f"endpoints/{T}/{E}", json={"colour": "red"})
    c.other("PATCH", f"endpoints/{T}/{E}", json={"description": "x"})
    assert c.ok("GET", f"endpoints/{T}/{E}/logs").text == "fake endpoint log\n"
    c.bad("GET", f"endpoints/{T}/{E}/logs{q(offset=-1)}", pattern="'offset'")
    c.other("GET", f"endpoints/{T}/{E}/logs")
    # the fake backend's endpoints never answer: no points, and why
    traffic = c.ok("GET", f"endpoints/{T}/{E}/metrics{q(window=300, step=10)}")
    assert traffic["points"] == [] and "does not answer" in traffic["message"]
    c.bad("GET", f"endpoints/{T}/{E}/metrics{q(step=15)}", pattern="'step'")
    c.other("GET", f"endpoints/{T}/{E}/metrics")
    c.other("DELETE", f"endpoints/{T}/routes-ep2")
    c.ok("DELETE", f"endpoints/{T}/routes-ep2")
    c.bad("DELETE", f"endpoints/{T}/routes-ep2", pattern="already stopped")


# --- notebook jobs and schedules --------------------------------------------------------


def test_notebook_job_routes(c: Calls, world: World) -> None:
    S, NB, T = world.space, world.notebook, world.team
    params = c.ok("GET", f"notebook-jobs/parameters{q(notebook=NB, space=S)}")
    assert [p["name"] for p in params["parameters"]] == ["alpha"]
    c.bad("GET", "notebook-jobs/parameters", pattern="notebook")
    c.other("GET", f"notebook-jobs/parameters{q(notebook=NB, space=S)}")
    assert world.job in [
        j["id"] for j in c.ok("GET", f"notebook-jobs{q(notebook=NB, space=S)}")["items"]
    ]
    c.bad("GET", f"notebook-jobs{q(limit=0)}", pattern="'limit'")
    # a listing: another team's user sees none of the team's jobs
    assert c.ok("GET", f"notebook-jobs{q(notebook=NB, space=S)}", user=world.other)["items"] == []
    job = {"notebook": NB, "space": S, "team": T, "parameters": {"alpha": 0.9}}
    c.ok("POST", "notebook-jobs", status=201, json=job)
    c.bad("POST", "notebook-jobs", json={**job, "parameters": {"beta": 1}}, pattern="beta")
    c.other("POST", "notebook-jobs", json=job)
    assert c.ok("GET", f"notebook-jobs/{world.job}")["id"] == world.job
    c.bad("GET", "notebook-jobs/0", 404)
    c.other("GET", f"notebook-jobs/{world.job}")


def test_notebook_schedule_routes(c: Calls, world: World) -> None:
    T, SID = world.team, world.schedule
    job = {"notebook": world.notebook, "space": world.space, "team": T}
    assert SID in [x["id"] for x in c.ok("GET", f"notebook-schedules{q(team=T)}")["items"]]
    c.bad("GET", f"notebook-schedules{q(team='no-such-team')}", 403)
    c.other("GET", f"notebook-schedules{q(team=T)}")
    new = c.ok(
        "POST",
        "notebook-schedules",
        status=201,
        json={"name": "routes-s2", "cron": "0 7 * * *", "paused": True, "job": job},
    )
    c.bad(
        "POST",
        "notebook-schedules",
        json={"name": "routes-s3", "cron": "every day", "job": job},
        pattern="cron",
    )
    c.other(
        "POST",
        "notebook-schedules",
        json={"name": "x", "cron": "0 7 * * *", "paused": True, "job": job},
    )
    assert c.ok("GET", f"notebook-schedules/{SID}")["id"] == SID
    c.bad("GET", "notebook-schedules/0", 404)
    c.other("GET", f"notebook-schedules/{SID}")
    c.ok("PATCH", f"notebook-schedules/{SID}", json={"cron": "0 8 * * *"})
    c.bad("PATCH", f"notebook-schedules/{SID}", json={"cron": "whenever"}, pattern="cron")
    c.other("PATCH", f"notebook-schedules/{SID}", json={"paused": False})
    assert c.ok("GET", f"notebook-schedules/{SID}/runs")["items"] == []
    c.bad("GET", f"notebook-schedules/{SID}/runs{q(limit=0)}", pattern="'limit'")
    c.other("GET", f"notebook-schedules/{SID}/runs")
    c.other("DELETE", f"notebook-schedules/{new['id']}")
    c.ok("DELETE", f"notebook-schedules/{new['id']}", status=204)
    c.bad("DELETE", f"notebook-schedules/{new['id']}", 404)


def test_study_routes(c: Calls, service: InProcessService, world: World) -> None:
    pytest.importorskip("optuna")
    T = world.team
    spec = {
        "name": "routes-study",
        "team": T,
        "objective": {"metric": "score"},
        "space": {"x": {"type": "float", "low": 0, "high": 1}},
        "trials": 2,
        "trial": {"function": "submarine_hub.builtin.study_examples:quadratic"},
    }
    service.backend.hold = True  # its worker run stays running: the test speaks for it
    try:
        study = c.ok("POST", "studies", status=201, json=spec)
        sid = study["id"]
        worker = wait_for(
            lambda: next(
                (r for r in list(service.backend.runs.values())
                 if r.plan.env.get("SUBMARINE_STUDY_ID") == str(sid)),
                None,
            ),
            10,
            "the study's worker run",
        )  # fmt: skip
    finally:
        service.backend.hold = False
    c.bad("POST", "studies", json={**spec, "space": {"x": {"type": "float"}}}, pattern="low")
    c.other("POST", "studies", json=spec)
    assert sid in [x["id"] for x in c.ok("GET", f"studies{q(team=T)}")["items"]]
    c.bad("GET", f"studies{q(status='sleeping')}", pattern="'status'")
    c.other("GET", f"studies{q(team=T)}")
    assert c.ok("GET", f"studies/{sid}")["name"] == "routes-study"
    c.bad("GET", "studies/0", 404)
    c.other("GET", f"studies/{sid}")
    assert c.ok("GET", f"studies/{sid}/importances")["importances"] == {}
    c.bad("GET", "studies/0/importances", 404)
    c.other("GET", f"studies/{sid}/importances")
    token = worker.plan.env["SUBMARINE_TOKEN"]
    trial = c.ok("POST", f"studies/{sid}/trials/next", token=token, json={})
    assert trial["done"] is False and 0 <= trial["params"]["x"] <= 1
    c.bad(
        "POST", f"studies/{sid}/trials/next", token=token,
        json={"previous": {"run_id": world.run, "value": 1}}, pattern="no trial of this worker",
    )  # fmt: skip
    c.other("POST", f"studies/{sid}/trials/next", json={})
    report = f"study-trials/{trial['run_id']}/report"
    assert (
        c.ok("POST", report, token=trial["token"], json={"value": 0.5, "step": 1})["prune"] is False
    )
    c.bad(
        "POST", report, token=trial["token"], json={"value": "high", "step": 1}, pattern="'value'"
    )
    c.other("POST", report, json={"value": 0.5, "step": 2})
    c.other("POST", f"studies/{sid}/stop")
    assert c.ok("POST", f"studies/{sid}/stop", status=202)["status"] == "stopped"
    c.bad("POST", f"studies/{sid}/stop", 409)
    c.other("POST", f"studies/{sid}/resume", json={})
    c.bad("POST", f"studies/{sid}/resume", json={"trials": -1}, pattern="'trials'")
    assert c.ok("POST", f"studies/{sid}/resume", status=202, json={})["status"] == "running"
    c.ok("POST", f"studies/{sid}/stop", status=202)
    service.backend.finish(worker.plan.run_id)
    service.wake()


# --- pages ------------------------------------------------------------------------------


def test_pages(service: InProcessService, world: World) -> None:
    page = service.page("", user=world.owner, headers={"X-Test-Case": "ok"})
    assert page.status_code == 200 and world.owner in page.text
    admin = service.page("admin/", user="admin", headers={"X-Test-Case": "ok"})
    assert admin.status_code == 200 and world.team in admin.text
    r = service.page("admin/", user=world.owner, headers={"X-Test-Case": "other"})
    assert r.status_code == 403
    r = service.page("oauth_callback", headers={"X-Test-Case": "bad"})
    assert 400 <= r.status_code < 500
    r = service.api("GET", "no/such/route", user=world.owner, case="bad")
    assert_json_error(r, 404, "No such endpoint")


# --- usage, prices and budgets ----------------------------------------------------------


def test_usage_routes(c: Calls, world: World) -> None:
    T = world.team
    report = c.ok("GET", f"usage{q(team=T, group_by='team,kind,day')}")
    assert report["group_by"] == ["team", "kind", "day"] and "total" in report
    assert {i["team"] for i in report["items"]} <= {T}
    csv = c.ok("GET", f"usage{q(team=T, format='csv')}")
    assert csv.text.startswith("team,kind,seconds,")
    c.bad("GET", f"usage{q(group_by='colour')}", pattern="'group_by' must be")
    c.bad("GET", f"usage{q(since='yesterday')}", pattern="'since' must be an ISO 8601")
    c.other("GET", f"usage{q(team=T)}")
    (mine,) = c.ok("GET", "usage/teams")["items"]
    assert mine["team"] == T and "quota" in mine and "free_gpus" in mine
    c.bad("GET", f"usage/teams{q(team='no-such-team')}", 404, "No team named")
    c.other("GET", f"usage/teams{q(team=T)}")
    assert c.ok("GET", "usage/prices")["currency"]
    prices = {"currency": "EUR", "cpu_hour": 0.25, "gpu_types": {"a100": 3}}
    assert c.ok("PUT", "usage/prices", user="admin", json=prices)["cpu_hour"] == 0.25
    c.bad("PUT", "usage/prices", user="admin", json={"cpu_hour": -1}, pattern="'cpu_hour'")
    c.other("PUT", "usage/prices", json=prices)
    assert c.ok("GET", "usage/prices/versions")["items"][-1]["in_effect"] is True
    later = (datetime.now(timezone.utc) + timedelta(days=365)).isoformat()
    version = c.ok("POST", "usage/prices/versions", user="admin", status=201,
                   json={"effective_at": later, "prices": prices})  # fmt: skip
    assert version["in_effect"] is False
    c.bad("POST", "usage/prices/versions", user="admin", pattern="'effective_at' must be",
          json={"effective_at": "soon", "prices": prices})  # fmt: skip
    c.other("POST", "usage/prices/versions", json={"effective_at": later, "prices": prices})
    c.other("DELETE", f"usage/prices/versions/{version['id']}")
    c.ok("DELETE", f"usage/prices/versions/{version['id']}", user="admin", status=204)
    c.bad("DELETE", f"usage/prices/versions/{version['id']}", 404, "No price version",
          user="admin")  # fmt: skip
    budget = {"amount": 100, "unit": "money", "policy": "queue"}
    assert c.ok("PUT", f"usage/budgets/{T}", user="admin", json=budget)["policy"] == "queue"
    c.bad("PUT", f"usage/budgets/{T}", user="admin", json={"amount": 1, "policy": "kill"},
          pattern="'policy' must be one of")  # fmt: skip
    c.other("PUT", f"usage/budgets/{T}", json=budget)
    got = c.ok("GET", f"usage/budgets/{T}")
    assert got["amount"] == 100 and got["status"]["state"] == "ok"
    c.bad("GET", "usage/budgets/no-such-team", 404, "No team named", user="admin")
    c.other("GET", f"usage/budgets/{T}")
    assert [b["team"] for b in c.ok("GET", "usage/budgets")["items"]] == [T]
    assert c.ok("GET", "usage/budgets", user=world.other)["items"] == []
    c.other("DELETE", f"usage/budgets/{T}")
    c.ok("DELETE", f"usage/budgets/{T}", user="admin", status=204)
    c.bad("DELETE", f"usage/budgets/{T}", 404, "has no budget", user="admin")


# --- coverage: last ----------------------------------------------------------------------


def test_every_handler_method_answered_each_of_its_cases(
    service: InProcessService, request: pytest.FixtureRequest
) -> None:
    """Run last: every (route, method) of the application had its success, its bad input
    and its other team's user refused in this module, unless listed as not having it."""
    if not _whole_module(request):
        pytest.skip("only part of this module ran")
    handlers = [(h.path, h) for h in API_ROUTES]
    handlers += [(name, None) for name in ("HomeHandler", "AdminHandler", "OAuthCallbackHandler")]
    seen = service.recorder.cases()
    missing: list[str] = []
    for key, cls in handlers:
        methods = allowed_methods(cls) if cls is not None else ["GET"]
        for method in methods:
            if method in ("HEAD", "OPTIONS"):
                continue
            got = seen.get((key, method), set())
            for case, exempt in (
                ("ok", NO_SUCCESS),
                ("bad", NO_BAD_INPUT),
                ("other", NO_OTHER_TEAM),
            ):
                if case not in got and (key, method) not in exempt:
                    missing.append(f"{method} {key}: no {case} case")
    operations = sum(
        1
        for key, cls in handlers
        for m in (allowed_methods(cls) if cls else ["GET"])
        if m not in ("HEAD", "OPTIONS")
    )
    covered = operations - len({m.split(":")[0] for m in missing})
    request.config.stash[ROUTE_SUMMARY] = (
        f"service routes: {covered} of {operations} handler methods answered a success, a bad "
        "input and another team's user (or are listed as not having the case)"
    )
    assert not missing, "\n".join(missing)


def _whole_module(request: pytest.FixtureRequest) -> bool:
    """Whether every test of this module was selected in this session."""
    import inspect

    selected = {i.originalname for i in request.session.items if i.module is request.module}
    defined = {
        name
        for name, obj in inspect.getmembers(request.module, inspect.isfunction)
        if name.startswith("test_") and obj.__module__ == request.module.__name__
    }
    return defined <= selected
