"""The OpenAPI document is true: schemathesis calls every operation of a real hub's
service with generated requests (a bounded number per operation) and finds no server
error and no answer that disagrees with the document.

Run as a team member (bob) on objects seeded first, then as a hub admin on the admin
routes; environment builds and opening a team room are left out (they would install
packages, start a server). The counts are printed:
``pytest -s tests/test_openapi_conformance.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from submarine_hub.service.openapi import openapi_document

from .helpers.hub import Hub
from .helpers.notebooks import parameters_notebook

pytestmark = pytest.mark.hub

TEAM = "data-science"
SPACE = f"team:{TEAM}"
#: generated cases per operation and phase: enough to reach every branch of input
#: checking, few enough to finish in minutes on two cores
MAX_EXAMPLES = int(os.environ.get("SUBMARINE_ST_MAX_EXAMPLES", "10"))
CHECKS = "not_a_server_error,response_schema_conformance"
EXCLUDED = "buildEnvironment"  # POST .../build installs packages


def not_served() -> list[str]:
    """MLflow calls the document says the platform answers 501 ``NOT_IMPLEMENTED`` only
    (deleting a logged model or an artifact, renaming, stages): by design, not a server
    error; tests/test_mlflow_api.py checks their answers."""
    doc = openapi_document()
    return sorted(
        op["operationId"]
        for item in doc["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
        and "responses" in op
        and set(op["responses"]) & {"200", "201", "204"} == set()
        and "501" in op["responses"]
    )


def _ok(r: Any, *codes: int) -> dict[str, Any]:
    assert r.status_code in (codes or (200, 201)), (r.request.url, r.status_code, r.text)
    return r.json() if r.content else {}


def _notebook() -> dict[str, Any]:
    return parameters_notebook("alpha = 0.5\nepochs: int = 3", "print(alpha)")


def seed(hub: Hub, user: str = "bob") -> dict[str, Any]:
    """One object of every kind in ``TEAM`` (owned by ``user``): what the generated
    requests get as their path and query parameters two times in three."""

    def api(method: str, path: str, *codes: int, **kw: Any) -> dict[str, Any]:
        return _ok(hub.api(method, path, user=user, **kw), *codes)

    files = "st/notes.txt", "st/train.ipynb"
    for text in ("first\n", "second\n"):
        api(
            "POST",
            "files/versions",
            json={"space": SPACE, "path": files[0], "content": text, "format": "text"},
        )
    api(
        "POST",
        "files/versions",
        json={"space": SPACE, "path": files[1], "content": _notebook(), "format": "notebook"},
    )
    run = api(
        "POST",
        "experiments",
        json={
            "meta": {"name": "st-run", "team": TEAM},
            "task": {"command": 'echo hi && echo 1 > "$SUBMARINE_ARTIFACTS_DIR/out.txt"'},
        },
    )
    deadline = time.monotonic() + 120
    while api("GET", f"experiments/{run['id']}")["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, "the seed run did not end"
        time.sleep(0.3)
    tracking = api("POST", "tracking/runs", json={"name": "st-tracking", "team": TEAM})
    api(
        "POST",
        f"experiments/{tracking['id']}/metrics",
        json={"metrics": [{"key": "loss", "value": 0.5, "step": 1}], "params": {"lr": 0.1}},
    )
    api("POST", "models", json={"name": "st-model", "team": TEAM})
    version = api("POST", f"models/{TEAM}/st-model/versions", json={})["version"]
    base = f"models/{TEAM}/st-model/versions/{version}"
    api("PUT", f"{base}/files?path=model.txt", data=b"weights")
    api("POST", f"{base}/ready")
    api("PUT", f"models/{TEAM}/st-model/aliases/prod", json={"version": version})
    api("POST", "datasets", json={"name": "st-data", "team": TEAM, "uri": "s3://bucket/st"})
    pipeline = api(
        "POST",
        "pipelines",
        json={
            "name": "st-pipe",
            "team": TEAM,
            "steps": [{"name": "one", "spec": {"task": {"command": "true"}}}],
        },
    )
    schedule = api(
        "POST",
        "notebook-schedules",
        json={
            "name": "st-schedule",
            "cron": "0 6 * * *",
            "job": {"notebook": files[1], "space": SPACE, "team": TEAM},
        },
    )
    api("POST", "environments", json={"name": "st-env", "team": TEAM, "packages": ["six"]})
    api("POST", "credentials", json={"name": "ST_TOKEN", "value": "secret"})
    # MLflow's API (tag mlflow): a logged model of the tracking run, a file of that run
    mlflow = hub.api_url("").removesuffix("api/v1/") + f"mlflow/{TEAM}/api/2.0/"
    auth = {"Authorization": f"Bearer {hub.token_for(user)}"}
    logged = _ok(
        requests.post(
            mlflow + "mlflow/logged-models",
            json={"experiment_id": "0", "name": "st-lm", "source_run_id": str(tracking["id"])},
            headers=auth,
            timeout=60,
        )
    )["model"]["info"]["model_id"]
    _ok(
        requests.put(
            mlflow + f"mlflow-artifacts/artifacts/runs/{tracking['id']}/st.txt",
            data=b"st",
            headers=auth,
            timeout=60,
        )
    )
    return {
        "path": {
            "teams": {"team": TEAM},
            "experiments": {"run_id": run["id"]},
            "notebook-jobs": {"run_id": run["id"]},
            "tracking": {"run_id": tracking["id"]},
            "pipelines": {"pipeline_id": pipeline["id"]},
            "notebook-schedules": {"schedule_id": schedule["id"]},
            "models": {
                "team": TEAM,
                "name": "st-model",
                "version": str(version),
                "alias": "prod",
            },
            "datasets": {"team": TEAM, "name": "st-data"},
            "environments": {"scope": TEAM, "name": "st-env"},
            "credentials": {"owner_kind": "user", "owner": user, "name": "ST_TOKEN"},
            "templates": {"scope": "_global", "name": "sklearn-classifier"},
            "spawn-options": {"user": user},
            "{team}": {  # MLflow's API: /{team}/api/2.0/mlflow/...
                "team": TEAM,
                "model_id": logged,
                "tag_key": "k",
                "path": f"runs/{tracking['id']}/st.txt",
            },
        },
        "query": {
            "files": {"space": SPACE, "path": files[1], "a": 1, "b": 1},
            "notebook-jobs": {"space": SPACE, "notebook": files[1]},
            "lineage": {"run": run["id"], "dataset": f"{TEAM}/st-data"},
            "experiments": {"ids": str(run["id"])},
            "{team}": {
                "run_id": str(tracking["id"]),
                "experiment_id": "0",
                "experiment_name": "Default",
                "metric_key": "loss",
                "name": "st-model",
                "version": str(version),
                "alias": "prod",
                "path": f"runs/{tracking['id']}",
            },
        },
    }


def run_schemathesis(
    hub: Hub, user: str, seed_file: Path, report_dir: Path, *extra: str
) -> dict[str, Any]:
    """``st run`` against the hub's service as ``user``; its JSON report."""
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        "SUBMARINE_ST_SEED": str(seed_file),
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
        ),
    }
    cmd = [
        st,
        "run",
        hub.api_url("openapi.json"),
        "--header",
        f"Authorization: token {hub.token_for(user)}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        "--exclude-operation-id",
        EXCLUDED,
        "--exclude-operation-id",
        "openTeamRoom",  # starts a team's room: a server of its own
        *[arg for op in not_served() for arg in ("--exclude-operation-id", op)],
        "--suppress-health-check",
        "too_slow,filter_too_much",  # a loaded machine generates slowly; not a failure
        "--seed",
        "20261203",
        "--workers",
        "2",
        "--request-timeout",
        "60",
        "--report",
        "json",
        "--report-json-path",
        str(report_dir / f"{user}.json"),
        "--no-color",
        *extra,
    ]
    done = subprocess.run(
        cmd, env=env, cwd=report_dir, capture_output=True, text=True, timeout=1500
    )
    (report_dir / f"{user}.txt").write_text(done.stdout + done.stderr)
    print(done.stdout[-6000:])
    report_file = report_dir / f"{user}.json"
    assert report_file.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_file.read_text())
    report["output"] = done.stdout
    return report


@pytest.mark.timeout(1800)
def test_every_operation_answers_as_the_openapi_document_says(hub: Hub, tmp_path: Path) -> None:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed(hub)))
    reports = [
        run_schemathesis(hub, "bob", seed_file, tmp_path),
        run_schemathesis(
            hub,
            "admin",
            seed_file,
            tmp_path,
            "--include-tag",
            "teams",
            "--include-tag",
            "environments",
            "--include-tag",
            "credentials",
            "--include-tag",
            "service",
        ),
    ]
    operations = sum(r["operations"]["tested"] for r in reports)
    requests = sum(r["test_cases"]["generated"] for r in reports)
    failures = [f for r in reports for f in r["failures"]]
    server_errors = sum(f["count"] for f in failures if f["code"] == "ST101")
    print(
        f"schemathesis: {operations} operations covered, {requests} requests made, "
        f"{server_errors} 5xx found, {len(failures)} kinds of failure"
    )
    assert reports[0]["operations"]["tested"] >= 90, reports[0]["operations"]
    assert not failures, "\n\n".join(r["output"][-20000:] for r in reports)
    assert not [e for r in reports for e in r["errors"] if "Serialization" not in e["title"]]
