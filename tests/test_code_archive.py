"""The session's code packer (``<session>/submarine/code-archive``) in a real server: what
the lab uploads as a run's code or a notebook job's files."""

from __future__ import annotations

import io
import tarfile

import pytest
import requests

from .helpers.hub import Hub

pytestmark = pytest.mark.hub


def archive(hub: Hub, user: str, path: str, as_user: str | None = None) -> requests.Response:
    return requests.get(
        hub.user_url(user, "submarine/code-archive"),
        params={"path": path},
        headers={"Authorization": f"token {hub.token_for(as_user or user)}"},
        timeout=60,
    )


def put(hub: Hub, user: str, path: str, text: str) -> None:
    r = requests.put(
        hub.user_url(user, f"api/contents/{path}"),
        headers={"Authorization": f"token {hub.token_for(user)}"},
        json={"type": "file", "format": "text", "content": text},
        timeout=60,
    )
    assert r.status_code in (200, 201), r.text


def names(data: bytes) -> set[str]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return set(tar.getnames())


def test_a_folder_packs_its_files_and_the_home_leaves_the_platform_folders_out(
    hub: Hub,
) -> None:
    hub.spawn("alice")
    requests.put(
        hub.user_url("alice", "api/contents/packme"),
        headers={"Authorization": f"token {hub.token_for('alice')}"},
        json={"type": "directory"},
        timeout=60,
    ).raise_for_status()
    put(hub, "alice", "packme/data.csv", "x,y\n")
    put(hub, "alice", "packme/helper.py", "VALUE = 1\n")
    r = archive(hub, "alice", "packme")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/gzip"
    assert names(r.content) == {"data.csv", "helper.py"}
    # the home folder: alice's files, not teams/ or shared/ (the platform's), no journal
    home = names(archive(hub, "alice", "").content)
    assert "packme/data.csv" in home
    assert not any(n.split("/")[0] in ("teams", "shared", ".submarine") for n in home), home
    # no such folder; someone else's session
    r = archive(hub, "alice", "nowhere")
    assert r.status_code == 404 and "no folder" in r.json()["message"]
    hub.spawn("carol")
    assert archive(hub, "alice", "packme", as_user="carol").status_code in (403, 404)
