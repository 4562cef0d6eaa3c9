"""Issue 12's path and store attacks, reproduced against a real hub: none reaches another
team's files, a ready model version never changes, the content-addressed store is no
existence oracle, git options never pass as refs, a run's plan keeps its secrets private.

alice is in team data-science, carol in ml-platform (jupyterhub_config.DEMO_TEAMS)."""

from __future__ import annotations

import hashlib
import json
import stat
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from .helpers.api import command, submit, wait
from .helpers.archives import tar_gz
from .helpers.hub import Hub

pytestmark = pytest.mark.hub


def _ready_model(hub: Hub, user: str, team: str, name: str, files: dict[str, bytes]) -> str:
    r = hub.api("POST", "models", user=user, json={"name": name, "team": team})
    assert r.status_code == 201, r.text
    base = f"models/{team}/{name}/versions"
    assert hub.api("POST", base, user=user, json={}).json()["version"] == 1
    for path, data in files.items():
        r = hub.api("PUT", f"{base}/1/files?path={path}", user=user, data=data)
        assert r.status_code == 201, r.text
    return f"{base}/1"


def _file(hub: Hub, user: str, version_url: str, path: str) -> bytes:
    r = hub.api("GET", f"{version_url}/files?path={path}", user=user)
    assert r.status_code == 200, r.text
    return r.content


def test_another_team_cannot_overwrite_a_model_file_through_a_newline_and_dots(
    hub: Hub,
) -> None:
    name = f"victim-{uuid.uuid4().hex[:6]}"
    victim = _ready_model(hub, "alice", "data-science", name, {"model.joblib": b"original"})
    assert hub.api("POST", f"{victim}/ready", user="alice").status_code == 200
    hub.api("POST", "models", user="carol", json={"name": name, "team": "ml-platform"})
    assert hub.api("POST", f"models/ml-platform/{name}/versions", user="carol", json={}).ok
    own = f"models/ml-platform/{name}/versions/1"
    attacks = [  # the exact request first
        f"a%0A%2F..%2F..%2F..%2F..%2Fdata-science%2F{name}%2F1%2Fmodel.joblib",
        f"a%0D/../../../../data-science/{name}/1/model.joblib",
        f"../../../data-science/{name}/1/model.joblib",
        f"%2e%2e/%2e%2e/%2e%2e/data-science/{name}/1/model.joblib",
        "%2Fetc%2Fpasswd",
        "C:%5Cx",
    ]
    for path in attacks:
        r = hub.api("PUT", f"{own}/files?path={path}", user="carol", data=b"planted pickle")
        assert r.status_code == 400, (path, r.status_code, r.text)
        assert "plain relative path" in r.json()["message"]
    assert _file(hub, "alice", victim, "model.joblib") == b"original"
    # the read side refuses the same paths
    r = hub.api("GET", f"{own}/files?path={attacks[0]}", user="carol")
    assert r.status_code == 400


def test_a_ready_model_version_refuses_every_upload(hub: Hub) -> None:
    name = f"frozen-{uuid.uuid4().hex[:6]}"
    version = _ready_model(hub, "alice", "data-science", name, {"model.joblib": b"v1"})
    assert hub.api("POST", f"{version}/ready", user="alice").status_code == 200
    for path, data in (("model.joblib", b"replaced"), ("extra.py", b"import os")):
        r = hub.api("PUT", f"{version}/files?path={path}", user="alice", data=data)
        assert r.status_code == 409, r.text
        assert "cannot change" in r.json()["message"]
    assert _file(hub, "alice", version, "model.joblib") == b"v1"
    files = hub.api("GET", version, user="alice").json()["files"]
    assert [f["path"] for f in files] == ["model.joblib"]
    assert files[0]["sha256"] == hashlib.sha256(b"v1").hexdigest()
    r = hub.api("POST", f"{version}/ready", user="alice")
    assert r.status_code == 409 and "cannot change" in r.json()["message"]


def test_a_run_artifact_upload_cannot_reach_another_run(hub: Hub) -> None:
    theirs = hub.api("POST", "tracking/runs", user="alice", json={"name": "theirs"}).json()["id"]
    mine = hub.api(
        "POST", "tracking/runs", user="carol", json={"name": "mine", "team": "ml-platform"}
    ).json()["id"]
    url = f"experiments/{mine}/artifacts"
    for path in (
        f"a%0A/../../../{theirs}/artifacts/x",  # the exact request
        f"a%0A%2F..%2F..%2F..%2F{theirs}%2Fartifacts%2Fx",
        f"../../{theirs}/artifacts/x",
        "a/../../../../../escape.txt",
        "/tmp/x",
        "a%09b",
    ):
        r = hub.api("PUT", f"{url}?path={path}", user="carol", data=b"planted")
        assert r.status_code == 400, (path, r.status_code, r.text)
    assert hub.api("GET", f"experiments/{theirs}/artifacts", user="alice").json()["items"] == []
    assert hub.api("GET", url, user="carol").json()["items"] == []
    r = hub.api("GET", f"{url}?path=../../{theirs}/artifacts/x", user="carol")
    assert r.status_code == 400
    for rid, user in ((mine, "carol"), (theirs, "alice")):
        hub.api("POST", f"tracking/runs/{rid}/end", user=user, json={"status": "succeeded"})


def _post_manifest(hub: Hub, user: str, space: str, path: str, digest: str) -> tuple[int, dict]:
    r = hub.api(
        "POST",
        "files/versions",
        user=user,
        json={"space": space, "path": path, "size": 6, "parts": {},
              "manifest": {"format": "text", "content": digest}},
    )  # fmt: skip
    return r.status_code, r.json()


def test_a_manifest_cannot_tell_whether_another_team_stored_some_content(hub: Hub) -> None:
    secret = f"the launch code is {uuid.uuid4().hex}"
    r = hub.api(
        "POST",
        "files/versions",
        user="alice",
        json={"space": "team:data-science", "path": "secret.txt", "content": secret,
              "format": "text"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    right = hashlib.sha256(secret.encode()).hexdigest()
    wrong = hashlib.sha256(b"a wrong guess").hexdigest()
    answers = {}
    for guess in (right, wrong):
        status, body = _post_manifest(hub, "carol", "user:carol", f"{guess[:8]}.txt", guess)
        assert body.pop("missing") == [guess]
        answers[guess] = (status, body)
    assert answers[right] == answers[wrong] and answers[right][0] == 409, answers
    r = hub.api(
        "GET",
        "files/content",
        user="carol",
        params={"space": "user:carol", "path": f"{right[:8]}.txt"},
    )
    assert r.status_code == 404
    # in its own space, a team's saves still send only what the space does not have
    status, _ = _post_manifest(hub, "bob", "team:data-science", "copy.txt", right)
    assert status == 201


@pytest.mark.parametrize(
    "git",
    [
        {"url": "https://example.com/r.git", "ref": "--pathspec-from-file=/etc/passwd"},
        {"url": "--upload-pack=touch /tmp/pwned", "ref": "main"},
        {"url": "https://example.com/r.git", "ref": "main\n--orphan"},
        {"url": "ext::sh -c touch% /tmp/pwned"},
    ],
)
def test_a_git_option_is_refused_as_a_ref_or_url(hub: Hub, git: dict[str, str]) -> None:
    r = hub.api("POST", "experiments", user="alice", json=command("git", "true", code={"git": git}))
    assert r.status_code == 400, r.text
    assert "code.git" in r.json()["message"]


def test_a_runs_plan_is_private_and_forgets_its_secrets_when_it_ends(hub: Hub) -> None:
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    run = submit(hub, "alice", command("plan", "sleep 1", env={"MY_SECRET": secret}))
    plan = hub.data_dir / "runs" / str(run["id"]) / "run.json"
    deadline = time.monotonic() + 60
    while not plan.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stat.S_IMODE(plan.stat().st_mode) == 0o600
    assert wait(hub, "alice", run["id"])["status"] == "succeeded"
    assert stat.S_IMODE(plan.stat().st_mode) == 0o600
    kept = json.loads(plan.read_text())
    assert kept["scrubbed"] is True and secret not in plan.read_text()
    assert kept["replicas"][0]["env"]["MY_SECRET"] == ""
    assert kept["replicas"][0]["env"]["SUBMARINE_TOKEN"] == ""


def test_a_file_still_arriving_when_its_version_becomes_ready_changes_nothing(
    hub: Hub,
) -> None:
    name = f"racing-{uuid.uuid4().hex[:6]}"
    version = _ready_model(hub, "alice", "data-science", name, {"model.joblib": b"v1"})
    go_on = threading.Event()

    def body() -> Iterator[bytes]:
        yield b"replaced, first half; "
        go_on.wait(60)
        yield b"second half"

    answer: dict[str, requests.Response] = {}
    sender = threading.Thread(
        target=lambda: answer.update(
            put=hub.api("PUT", f"{version}/files?path=model.joblib", user="alice", data=body())
        )
    )
    sender.start()
    time.sleep(1.0)  # the upload is accepted and streaming
    assert hub.api("POST", f"{version}/ready", user="alice").status_code == 200
    go_on.set()
    sender.join(60)
    assert answer["put"].status_code == 409, answer["put"].text
    assert _file(hub, "alice", version, "model.joblib") == b"v1"


def test_an_upload_with_an_unsafe_member_name_is_refused(hub: Hub) -> None:
    ok = hub.api("POST", "uploads", user="alice", data=tar_gz({"./train.py": b"print(1)"}))
    assert ok.status_code == 201, ok.text
    for bad in ("a\n/../../x.py", "../x.py", "/etc/x.py", "a\\..\\x.py", "a//b.py"):
        r = hub.api("POST", "uploads", user="alice", data=tar_gz({bad: b"x"}))
        assert r.status_code == 400, (bad, r.text)
    # an upload id is exactly 32 hex digits: with a newline it names no upload
    spec = command("up", "true", code={"upload": ok.json()["id"] + "\n"})
    assert hub.api("POST", "experiments", user="alice", json=spec).status_code in (400, 404)
