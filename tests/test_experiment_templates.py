"""Templates (typed parameters, sharing, built-ins, a sweep that fans out child runs) and
pipelines (DAG checks, terminate, retry) through the real hub."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from .helpers.api import wait
from .helpers.hub import Hub

pytestmark = pytest.mark.hub

TEMPLATE = {
    "name": "echo-params",
    "team": "data-science",
    "description": "Prints its parameters.",
    "parameters": {
        "greeting": {"type": "string", "choices": ["hi", "hello"], "default": "hi"},
        "times": {"type": "integer", "minimum": 1, "maximum": 3, "required": True},
        "ratio": {"type": "number", "default": 0.5},
    },
    "spec": {
        "meta": {"name": "echo"},
        "task": {"command": "echo ${greeting} x${times} ratio=${ratio}"},
    },
}


def test_team_template_lifecycle_and_parameter_errors(hub: Hub) -> None:
    r = hub.api("POST", "templates", user="alice", json=TEMPLATE)
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["ref"] == "data-science/echo-params"
    assert t["parameters_schema"]["required"] == ["times"]
    assert t["parameters_schema"]["properties"]["greeting"]["enum"] == ["hi", "hello"]
    assert hub.api("POST", "templates", user="alice", json=TEMPLATE).status_code == 409

    run = hub.api(
        "POST", "templates/data-science/echo-params/runs", user="bob",
        json={"parameters": {"times": 2, "greeting": "hello"}, "meta": {"tags": ["tpl"]}},
    )  # fmt: skip
    assert run.status_code == 201, run.text
    done = wait(hub, "bob", run.json()["id"])
    assert done["status"] == "succeeded" and done["template"] == "data-science/echo-params"
    log = hub.api("GET", f"experiments/{done['id']}/logs", user="bob").text
    assert log == "hello x2 ratio=0.5\n"

    bad = hub.api(
        "POST", "templates/data-science/echo-params/runs", user="alice",
        json={"parameters": {"times": 9, "greeting": "yo", "colour": "red"}},
    )  # fmt: skip
    assert bad.status_code == 400
    message = bad.json()["message"]
    for expected in (
        "'times' must be at most 3",
        "'greeting' must be one of hi, hello",
        "'colour'",
    ):
        assert expected in message, message
    missing = hub.api(
        "POST", "templates/data-science/echo-params/runs", user="alice", json={"parameters": {}}
    )
    assert "'times' is required" in missing.json()["message"]

    # another team can neither see, run, change nor delete it
    assert hub.api("GET", "templates/data-science/echo-params", user="carol").status_code == 404
    r = hub.api(
        "POST", "templates/data-science/echo-params/runs", user="carol",
        json={"parameters": {"times": 1}, "meta": {"team": "ml-platform"}},
    )  # fmt: skip
    assert r.status_code == 404
    assert hub.api("DELETE", "templates/data-science/echo-params", user="carol").status_code == 404
    names = [x["ref"] for x in hub.api("GET", "templates", user="carol").json()["items"]]
    assert "data-science/echo-params" not in names and "sklearn-classifier" in names

    r = hub.api(
        "PATCH", "templates/data-science/echo-params", user="alice", json={"description": "new"}
    )
    assert r.status_code == 200 and r.json()["description"] == "new"
    assert hub.api("DELETE", "templates/data-science/echo-params", user="alice").status_code == 204


def test_bad_templates_are_refused(hub: Hub) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({**TEMPLATE, "name": "Bad Name"}, "'name'"),
        ({**TEMPLATE, "parameters": {"x": {"type": "float"}}}, "type must be one of"),
        ({**TEMPLATE, "parameters": {"x": {"type": "integer", "default": "a"}}}, "the default"),
        ({**TEMPLATE, "parameters": {}}, "undeclared parameter"),
        ({**TEMPLATE, "spec": {"task": {"nothing": 1}}}, "Invalid experiment spec"),
        ({**TEMPLATE, "team": None}, "Only hub admins"),
        ({**TEMPLATE, "team": "ml-platform"}, "not a member"),
    ]
    for body, expected in cases:
        r = hub.api("POST", "templates", user="alice", json=body)
        assert r.status_code in (400, 403), (body, r.text)
        assert expected in r.json()["message"], (expected, r.json())


def test_builtin_templates_are_read_only_and_the_sweep_finds_the_best(hub: Hub) -> None:
    builtin = hub.api("GET", "templates/_global/sklearn-classifier", user="alice").json()
    assert builtin["builtin"] is True
    r = hub.api("DELETE", "templates/_global/sklearn-classifier", user="admin")
    assert r.status_code == 403 and "ships with Submarine Hub" in r.json()["message"]

    run = hub.api(
        "POST", "templates/_global/sklearn-sweep/runs", user="alice",
        json={"meta": {"team": "data-science"}, "parameters": {
            "space": json.dumps({"n_estimators": [2, 30], "max_depth": [1, 0]}),
            "dataset": "wine"}},
    )  # fmt: skip
    assert run.status_code == 201, run.text
    sweep = wait(hub, "alice", run.json()["id"], timeout=300)
    log = hub.api("GET", f"experiments/{sweep['id']}/logs", user="alice").text
    assert sweep["status"] == "succeeded", log
    children = hub.api("GET", f"experiments?parent={sweep['id']}", user="alice").json()["items"]
    assert len(children) == 4 and {c["status"] for c in children} == {"succeeded"}
    best = json.loads(
        hub.api("GET", f"experiments/{sweep['id']}/artifacts?path=best.json", user="alice").content
    )
    accuracies = [t["accuracy"] for t in best["trials"]]
    assert best["best"]["accuracy"] == max(accuracies)
    assert sweep["metrics"]["best_accuracy"] == max(accuracies)
    assert int(sweep["metrics"]["best_run"]) in {c["id"] for c in children}
    # the trials belong to the sweep's team and owner; carol sees none of them
    assert {(c["team"], c["owner"]) for c in children} == {("data-science", "alice")}
    for c in children:
        assert hub.api("GET", f"experiments/{c['id']}", user="carol").status_code == 404


def pipeline(steps: list[dict[str, Any]], name: str = "p") -> dict[str, Any]:
    return {"name": name, "team": "data-science", "steps": steps}


def step(name: str, command: str, *deps: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "depends_on": list(deps), "spec": {"task": {"command": command}, **extra}}


def test_bad_pipelines_are_refused(hub: Hub) -> None:
    cases = [
        (pipeline([step("a", "true", "b"), step("b", "true", "a")]), "cycle"),
        (pipeline([step("a", "true", "ghost")]), "missing step(s) ghost"),
        (pipeline([step("a", "true"), step("a", "true")]), "Two steps are named 'a'"),
        (pipeline([]), "non-empty list"),
        (pipeline([{"name": "a"}]), "exactly one of 'spec' or 'template'"),
        (
            pipeline(
                [
                    step("a", "true"),
                    step("b", "true", "a", inputs=[{"name": "x", "from": "a.nope"}]),
                ]
            ),
            "declares no output 'nope'",
        ),
        (pipeline([step("a", "true", meta={"name": "x y"})]), "Step 'a'"),
        ({**pipeline([step("a", "true")]), "team": "ml-platform"}, "not a member"),
    ]
    for body, expected in cases:
        r = hub.api("POST", "pipelines", user="alice", json=body)
        assert r.status_code in (400, 403), (body, r.text)
        assert expected in r.json()["message"], (expected, r.json())


def pipeline_state(hub: Hub, pid: int, user: str = "alice") -> dict[str, Any]:
    return hub.api("GET", f"pipelines/{pid}", user=user).json()


def wait_pipeline(hub: Hub, pid: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (p := pipeline_state(hub, pid))["status"] == "running":
        assert time.monotonic() < deadline, p
        time.sleep(0.3)
    return p


def test_a_failed_step_stops_its_dependents_and_retry_runs_it_again(hub: Hub) -> None:
    folder = hub.scratch("retry")  # the steps run as alice: a folder she can write
    hub.give_to("alice", folder)
    flag = folder / "second-try"
    body = pipeline(
        [
            step("first", "true"),
            step("flaky", f"test -e {flag} || {{ touch {flag}; exit 1; }}", "first"),
            step("last", "echo last", "flaky"),
            step("side", "true", "first"),
        ],
        name="retry-me",
    )
    created = hub.api("POST", "pipelines", user="alice", json=body)
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    p = wait_pipeline(hub, pid)
    states = {s["name"]: s["status"] for s in p["steps"]}
    assert p["status"] == "failed" and "flaky" in p["reason"]
    assert states == {
        "first": "succeeded",
        "flaky": "failed",
        "last": "upstream_failed",
        "side": "succeeded",
    }
    assert hub.api("POST", f"pipelines/{pid}/retry", user="carol").status_code == 404
    assert hub.api("GET", f"pipelines/{pid}", user="carol").status_code == 404
    r = hub.api("POST", f"pipelines/{pid}/retry", user="alice")
    assert r.status_code == 202, r.text
    p = wait_pipeline(hub, pid)
    assert p["status"] == "succeeded", p
    assert all(s["status"] == "succeeded" for s in p["steps"])
    runs = hub.api("GET", f"experiments?pipeline={pid}", user="alice").json()["items"]
    assert sorted(r["pipeline_step"] for r in runs) == ["first", "flaky", "flaky", "last", "side"]
    assert hub.api("POST", f"pipelines/{pid}/retry", user="alice").status_code == 400


def test_terminate_kills_the_running_step(hub: Hub) -> None:
    body = pipeline([step("slow", "sleep 60"), step("after", "true", "slow")], name="stop-me")
    pid = hub.api("POST", "pipelines", user="alice", json=body).json()["id"]
    deadline = time.monotonic() + 60
    while pipeline_state(hub, pid)["steps"][0]["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert hub.api("POST", f"pipelines/{pid}/terminate", user="bob").status_code == 403
    r = hub.api("POST", f"pipelines/{pid}/terminate", user="alice")
    assert r.status_code == 202 and r.json()["status"] == "killed"
    run_id = r.json()["steps"][0]["run_id"]
    assert wait(hub, "alice", run_id, timeout=30)["status"] == "killed"
    p = pipeline_state(hub, pid)
    assert [s["status"] for s in p["steps"]] == ["killed", "upstream_failed"]
    assert hub.api("POST", f"pipelines/{pid}/terminate", user="alice").status_code == 400
