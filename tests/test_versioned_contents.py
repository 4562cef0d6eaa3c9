"""Versioned saves in real single-user servers: Jupyter's contents and checkpoints APIs."""

from __future__ import annotations

import time

import nbformat
import pytest
import requests

from .helpers.hub import Hub

pytestmark = pytest.mark.hub


def nb(i: int) -> dict:
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell(f"value = {i}", id="c1")]
    return nbformat.from_dict(book)


def contents(
    hub: Hub, user: str, method: str, path: str, as_user: str | None = None, **kw: object
) -> requests.Response:
    token = hub.token_for(as_user or user)
    return requests.request(
        method,
        hub.user_url(user, f"api/contents/{path}"),
        headers={"Authorization": f"token {token}"},
        timeout=60,
        **kw,
    )


def via_session(hub: Hub, user: str, method: str, path: str, **kw: object) -> requests.Response:
    """The platform API through the session's server extension, which first waits for the
    session's queued saves to reach the platform (a direct call may overtake them)."""
    return requests.request(
        method,
        hub.user_url(user, f"submarine/api/v1/{path}"),
        headers={"Authorization": f"token {hub.token_for(user)}"},
        timeout=60,
        **kw,
    )


def put_notebook(hub: Hub, user: str, path: str, content: dict) -> requests.Response:
    return contents(
        hub, user, "PUT", path, json={"type": "notebook", "format": "json", "content": content}
    )


@pytest.fixture(scope="module")
def alice(hub: Hub) -> Hub:
    hub.spawn("alice")
    return hub


def test_every_save_is_a_checkpoint_and_a_version(alice: Hub) -> None:
    hub = alice
    for i in range(1, 6):
        r = put_notebook(hub, "alice", "versioned.ipynb", nb(i))
        assert r.status_code in (200, 201), r.text
    checkpoints = contents(hub, "alice", "GET", "versioned.ipynb/checkpoints").json()
    assert [c["id"] for c in checkpoints] == ["1", "2", "3", "4", "5"]  # oldest first
    history = via_session(
        hub, "alice", "GET", "files/versions?space=user:alice&path=versioned.ipynb"
    ).json()["items"]
    assert len(history) == 5

    r = contents(hub, "alice", "POST", "versioned.ipynb/checkpoints/2")
    assert r.status_code == 204, r.text
    on_disk = contents(hub, "alice", "GET", "versioned.ipynb").json()["content"]
    assert on_disk["cells"][0]["source"] == "value = 2"
    assert contents(hub, "alice", "GET", "versioned.ipynb/checkpoints").json()[-1]["id"] == "6"


def test_a_deleted_notebook_is_recoverable(alice: Hub) -> None:
    hub = alice
    put_notebook(hub, "alice", "doomed.ipynb", nb(42)).raise_for_status()
    assert contents(hub, "alice", "DELETE", "doomed.ipynb").status_code == 204
    assert contents(hub, "alice", "GET", "doomed.ipynb").status_code == 404
    deleted = via_session(hub, "alice", "GET", "files?space=user:alice&deleted=1").json()["items"]
    assert "doomed.ipynb" in [f["path"] for f in deleted]
    out = hub.run_in_kernel(
        "alice",
        "import subprocess, shutil\n"
        "p = subprocess.run([shutil.which('submarine'), 'notebook', 'restore', 'doomed.ipynb',"
        " '1'], capture_output=True, text=True)\n"
        "print(p.returncode, p.stdout, p.stderr)\n",
    )
    assert out.startswith("0 Restored doomed.ipynb version 1"), out
    recovered = contents(hub, "alice", "GET", "doomed.ipynb").json()["content"]
    assert recovered["cells"][0]["source"] == "value = 42"


def test_team_folders_are_shared_by_members_only(alice: Hub) -> None:
    hub = alice
    listing = contents(hub, "alice", "GET", "teams").json()
    assert [c["name"] for c in listing["content"]] == ["data-science"]
    r = put_notebook(hub, "alice", "teams/data-science/together.ipynb", nb(7))
    assert r.status_code in (200, 201), r.text
    saved_at = r.json()["last_modified"]

    hub.spawn("bob", {"team": "data-science"})
    seen = contents(hub, "bob", "GET", "teams/data-science/together.ipynb").json()
    assert "content" in seen, seen
    assert seen["content"]["cells"][0]["source"] == "value = 7"
    folder = contents(hub, "bob", "GET", "teams/data-science").json()
    assert "together.ipynb" in [c["name"] for c in folder["content"]]

    time.sleep(1.1)
    put_notebook(hub, "bob", "teams/data-science/together.ipynb", nb(8)).raise_for_status()
    # what JupyterLab compares before saving: alice's copy is now stale
    fresh = contents(hub, "alice", "GET", "teams/data-science/together.ipynb?content=0").json()
    assert fresh["last_modified"] > saved_at

    hub.spawn("carol")
    r = contents(hub, "carol", "GET", "teams/data-science/together.ipynb")
    assert r.status_code == 403
    assert "not a member of team 'data-science'" in r.json()["message"]
    r = put_notebook(hub, "carol", "teams/data-science/intruder.ipynb", nb(0))
    assert r.status_code == 403


def test_jupytext_pairing_versions_both_files(alice: Hub) -> None:
    hub = alice
    book = nb(3)
    book["metadata"]["jupytext"] = {"formats": "ipynb,py:percent"}
    put_notebook(hub, "alice", "paired.ipynb", book).raise_for_status()
    text = contents(hub, "alice", "GET", "paired.py?type=file&format=text").json()["content"]
    assert "# %%" in text and "value = 3" in text
    for path in ("paired.ipynb", "paired.py"):
        history = via_session(
            hub, "alice", "GET", f"files/versions?space=user:alice&path={path}"
        ).json()["items"]
        assert len(history) == 1, path


def test_files_shared_with_you_are_in_the_shared_folder(alice: Hub) -> None:
    hub = alice
    put_notebook(hub, "alice", "for-bob.ipynb", nb(1)).raise_for_status()
    put_notebook(hub, "alice", "with-bob.ipynb", nb(2)).raise_for_status()
    for path, mode in [("for-bob.ipynb", "r"), ("with-bob.ipynb", "rw")]:
        r = via_session(
            hub, "alice", "POST", f"files/shares?space=user:alice&path={path}",
            json={"with": "bob", "mode": mode},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    hub.spawn("bob", {"team": "data-science"})
    assert "shared" in [c["name"] for c in contents(hub, "bob", "GET", "").json()["content"]]
    assert "users" in [c["name"] for c in contents(hub, "bob", "GET", "shared").json()["content"]]
    listing = contents(hub, "bob", "GET", "shared/users/alice").json()["content"]
    seen = {c["name"]: (c["type"], c["writable"]) for c in listing}
    assert seen == {"for-bob.ipynb": ("notebook", False), "with-bob.ipynb": ("notebook", True)}

    read = contents(hub, "bob", "GET", "shared/users/alice/for-bob.ipynb").json()
    assert read["content"]["cells"][0]["source"] == "value = 1" and read["writable"] is False
    r = put_notebook(hub, "bob", "shared/users/alice/for-bob.ipynb", nb(9))
    assert r.status_code == 403 and "read-only" in r.json()["message"]
    # a writable share: bob's save is a version in alice's history
    put_notebook(hub, "bob", "shared/users/alice/with-bob.ipynb", nb(5)).raise_for_status()
    history = via_session(
        hub, "alice", "GET", "files/versions?space=user:alice&path=with-bob.ipynb"
    ).json()["items"]
    assert history[0]["author"] == "bob" and len(history) == 2
    # ... and JupyterLab's checkpoints of the shared file are that history
    checkpoints = contents(hub, "bob", "GET", "shared/users/alice/with-bob.ipynb/checkpoints")
    assert len(checkpoints.json()) == 2, checkpoints.text

    # nothing else: no new file, no delete, no rename, nothing not shared
    for method, path, kw in [
        ("PUT", "shared/users/alice/new.ipynb", {"json": {"type": "notebook", "content": nb(0)}}),
        ("DELETE", "shared/users/alice/with-bob.ipynb", {}),
        ("PATCH", "shared/users/alice/with-bob.ipynb", {"json": {"path": "mine.ipynb"}}),
    ]:
        r = contents(hub, "bob", method, path, **kw)
        assert r.status_code == 403, (method, path, r.text)
    hub.spawn("carol")
    assert contents(hub, "carol", "GET", "shared/users/alice").status_code == 404
    r = contents(hub, "carol", "GET", "shared/users/alice/for-bob.ipynb")
    assert r.status_code == 404, r.text
    r = put_notebook(hub, "carol", "shared/users/alice/with-bob.ipynb", nb(6))
    assert r.status_code == 403


def test_history_follows_a_renamed_file_or_folder(alice: Hub) -> None:
    hub = alice
    for i in range(3):
        put_notebook(hub, "alice", "Untitled-r.ipynb", nb(i)).raise_for_status()
    r = contents(hub, "alice", "PATCH", "Untitled-r.ipynb", json={"path": "analysis-r.ipynb"})
    assert r.status_code == 200, r.text

    def history(path: str) -> list[dict]:
        r = via_session(hub, "alice", "GET", f"files/versions?space=user:alice&path={path}")
        assert r.status_code == 200, r.text
        return r.json()["items"]

    moved = history("analysis-r.ipynb")
    assert [v["number"] for v in moved] == [4, 3, 2, 1]
    assert moved[0]["message"] == "Renamed from Untitled-r.ipynb."
    assert history("Untitled-r.ipynb")[0]["action"] == "delete"  # and recoverable there
    checkpoints = contents(hub, "alice", "GET", "analysis-r.ipynb/checkpoints").json()
    assert len(checkpoints) == 4
    old = via_session(
        hub, "alice", "GET", "files/content?space=user:alice&path=analysis-r.ipynb&version=1"
    ).json()
    assert old["content"]["cells"][0]["source"] == "value = 0"

    # a folder: each file inside takes its history along
    contents(hub, "alice", "PUT", "proj-r", json={"type": "directory"}).raise_for_status()
    for i in range(2):
        put_notebook(hub, "alice", "proj-r/a.ipynb", nb(i)).raise_for_status()
    r = contents(hub, "alice", "PATCH", "proj-r", json={"path": "proj-r2"})
    assert r.status_code == 200, r.text
    assert [v["number"] for v in history("proj-r2/a.ipynb")] == [3, 2, 1]

    # a bad 'moved_from' is refused; another user cannot take alice's history
    body = {"space": "user:alice", "path": "x.txt", "format": "text", "content": "x"}
    r = hub.api("POST", "files/versions", user="alice", json={**body, "moved_from": 7})
    assert r.status_code == 400 and "moved_from" in r.json()["message"]
    r = hub.api(
        "POST", "files/versions", user="carol",
        json={**body, "space": "user:carol", "moved_from": "../alice/analysis-r.ipynb"},
    )  # fmt: skip
    assert r.status_code == 400, r.text
