"""Versioned files in-process: the REST API, and ``submarine notebook`` against it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest

from .helpers.api import assert_json_error
from .helpers.cli import SUBMARINE
from .helpers.service import InProcessService

SPACE = "team:data-science"
PATH = "history/analysis.ipynb"


def notebook(i: int) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Analysis", id="title"),
        nbformat.v4.new_code_cell(f"alpha = {i}", id="params"),
        nbformat.v4.new_code_cell(
            "print(alpha)", id="run", outputs=[nbformat.v4.new_output("stream", text=f"{i}\n")]
        ),
    ]
    return nbformat.from_dict(nb)


@pytest.fixture(scope="module")
def five_versions(service: InProcessService) -> str:
    for i in range(1, 6):
        r = service.api(
            "POST",
            "files/versions",
            user="alice",
            json={
                "space": SPACE,
                "path": PATH,
                "format": "notebook",
                "content": notebook(i),
                "message": f"alpha {i}",
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["number"] == i
    return PATH


def q(path: str = PATH, **extra: object) -> str:
    from urllib.parse import urlencode

    return urlencode({"space": SPACE, "path": path, **extra})


def test_five_saves_five_versions_diff_restore(
    five_versions: str, service: InProcessService
) -> None:
    items = service.api("GET", f"files/versions?{q()}", user="bob").json()["items"]
    assert [v["number"] for v in items] == [5, 4, 3, 2, 1]
    assert items[0]["author"] == "alice" and items[0]["message"] == "alpha 5"

    diff = service.api("GET", f"files/diff?{q(a=2, b=5)}", user="bob").json()
    assert diff["summary"]["modified"] == 2  # the parameter cell and the output
    assert "alpha = 5" in diff["text"]
    sources_only = service.api("GET", f"files/diff?{q(a=2, b=5, ignore_outputs=1)}", user="bob")
    assert sources_only.json()["summary"]["modified"] == 1

    r = service.api(
        "POST", "files/restore", user="bob", json={"space": SPACE, "path": PATH, "version": 2}
    )
    assert r.status_code == 201, r.text
    assert r.json()["number"] == 6
    content = service.api("GET", f"files/content?{q()}", user="alice").json()["content"]
    assert content == notebook(2)


def test_delete_and_recover(five_versions: str, service: InProcessService) -> None:
    path = "history/to-delete.ipynb"
    service.api(
        "POST",
        "files/versions",
        user="alice",
        json={"space": SPACE, "path": path, "format": "notebook", "content": notebook(7)},
    )
    assert (
        service.api("DELETE", f"files/content?{q(path)}", user="alice").json()["action"] == "delete"
    )
    assert_json_error(service.api("GET", f"files/content?{q(path)}", user="alice"), 404, "deleted")
    gone = service.api("GET", f"files?space={SPACE}&deleted=1", user="alice").json()["items"]
    assert path in [f["path"] for f in gone]
    service.api(
        "POST", "files/restore", user="alice", json={"space": SPACE, "path": path, "version": 1}
    ).raise_for_status()
    assert service.api("GET", f"files/content?{q(path)}", user="alice").json()[
        "content"
    ] == notebook(7)


def test_export_as_text(five_versions: str, service: InProcessService) -> None:
    out = service.api(
        "GET", f"files/export?{q(version=3, format='py:percent')}", user="alice"
    ).json()
    assert "# %%" in out["text"] and "alpha = 3" in out["text"]
    assert out["extension"] == ".py"
    assert_json_error(
        service.api("GET", f"files/export?{q(format='docx')}", user="alice"),
        400,
        "Unknown export format",
    )


def test_a_user_of_another_team_is_refused_everything(
    five_versions: str, service: InProcessService
) -> None:
    for method, path, body in [
        ("GET", f"files/versions?{q()}", None),
        ("GET", f"files/content?{q()}", None),
        ("GET", f"files/diff?{q(a=1, b=2)}", None),
        ("GET", f"files/export?{q()}", None),
        ("DELETE", f"files/content?{q()}", None),
        ("POST", "files/restore", {"space": SPACE, "path": PATH, "version": 1}),
        (
            "POST",
            "files/versions",
            {"space": SPACE, "path": PATH, "format": "text", "content": "overwrite"},
        ),
    ]:
        assert_json_error(service.api(method, path, user="carol", json=body), 403)
    assert_json_error(service.api("GET", f"files?space={SPACE}", user="carol"), 403)


def test_sharing_with_another_team(service: InProcessService) -> None:
    path = "shared/report.ipynb"
    service.api(
        "POST",
        "files/versions",
        user="alice",
        json={"space": SPACE, "path": path, "format": "notebook", "content": notebook(1)},
    )
    assert_json_error(service.api("GET", f"files/content?{q(path)}", user="carol"), 403)
    r = service.api(
        "POST",
        f"files/shares?{q(path)}",
        user="alice",
        json={"kind": "team", "with": "ml-platform", "mode": "r"},
    )
    assert r.status_code == 201, r.text
    assert service.api("GET", f"files/content?{q(path)}", user="carol").status_code == 200
    assert_json_error(
        service.api(
            "POST",
            "files/versions",
            user="carol",
            json={"space": SPACE, "path": path, "format": "notebook", "content": notebook(2)},
        ),
        403,
        "read-only",
    )
    mine = service.api("GET", "files/shared-with-me", user="carol").json()["items"]
    assert (SPACE, path, "r") in [(s["space"], s["path"], s["mode"]) for s in mine]
    assert_json_error(
        service.api("POST", f"files/shares?{q(path)}", user="alice", json={"with": "nobody-xyz"}),
        404,
        "No hub user",
    )


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"space": "everyone", "path": "a", "format": "text", "content": "x"}, 400, "'space'"),
        ({"space": SPACE, "path": "../a", "format": "text", "content": "x"}, 400, "relative"),
        ({"space": SPACE, "path": "a", "format": "text", "content": 1}, 400, "must be a string"),
        (
            {"space": SPACE, "path": "a", "format": "exe", "content": "x"},
            400,
            "'format' must be one of",
        ),
        (
            {"space": SPACE, "path": "a", "format": "text", "content": "x", "base_version": "1"},
            400,
            "base_version",
        ),
        ({"space": SPACE, "path": "a", "parts": "x", "manifest": {}}, 400, "'parts'"),
    ],
)
def test_bad_saves_are_400(
    service: InProcessService, body: dict, status: int, message: str
) -> None:
    assert_json_error(
        service.api("POST", "files/versions", user="alice", json=body), status, message
    )


def test_a_stale_save_is_409(five_versions: str, service: InProcessService) -> None:
    latest = service.api("GET", f"files/versions?{q()}", user="alice").json()["items"][0]["number"]
    r = service.api(
        "POST",
        "files/versions",
        user="alice",
        json={
            "space": SPACE,
            "path": PATH,
            "format": "notebook",
            "content": notebook(9),
            "base_version": latest - 1,
        },
    )
    assert_json_error(r, 409, f"since version {latest - 1}")


@pytest.mark.local  # the CLI in subprocesses
def test_the_notebook_cli(five_versions: str, service: InProcessService, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SUBMARINE_API_URL": service.api_url(),
        "SUBMARINE_TOKEN": service.token_for("bob"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SUBMARINE, "notebook", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )

    p = run("history", f"teams/data-science/{PATH}")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1].split()[0] == "1"
    p = run("diff", f"teams/data-science/{PATH}", "1", "2", "--ignore-outputs")
    assert p.returncode == 0, p.stderr
    assert "modified 1" in p.stdout
    p = run("show", f"teams/data-science/{PATH}", "-v", "3", "--format", "py:percent")
    assert "alpha = 3" in p.stdout
    p = run("show", f"teams/data-science/{PATH}", "-v", "3")
    assert json.loads(p.stdout) == notebook(3)
    p = run("restore", f"teams/data-science/{PATH}", "4")
    assert p.returncode == 0 and "as version" in p.stdout
    env["SUBMARINE_TOKEN"] = service.token_for("carol")
    p = run("history", f"teams/data-science/{PATH}")
    assert p.returncode == 1
    assert "not shared with you" in p.stderr
