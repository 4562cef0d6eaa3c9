"""The Binder build, the way Binder's plain Python path runs it, then JupyterLab on it.

repo2docker works in the root of a fresh clone: a fresh Python environment, ``pip
install -r binder/requirements.txt``, then ``binder/postBuild``. The image then serves
JupyterLab, whose Submarine panels must answer in standalone mode.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .helpers.jupyter import start_jupyter, stop_jupyter
from .helpers.repo import source_tree

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"


def run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float) -> None:
    """Run a build step in the repository's root, as repo2docker does."""
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"


def test_binder_files_are_what_repo2docker_looks_for() -> None:
    requirements = [
        line.strip()
        for line in (BINDER / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # the project's two distributions, from the repository's root
    assert requirements == ["./client", ".[sklearn]"]
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK), "repo2docker runs postBuild only if executable"
    assert post_build.read_text().startswith("#!/usr/bin/env bash\n")
    # no other environment file that would make repo2docker take another build path
    assert {p.name for p in BINDER.iterdir()} == {"requirements.txt", "postBuild"}


@pytest.mark.slow
def test_binder_build_serves_jupyterlab_in_standalone_mode(tmp_path: Path) -> None:
    started = time.monotonic()
    # what Binder clones: the source files, without this checkout's build output and
    # environments; the lab extension this checkout built is reused when there is one
    # (Binder builds it with Node.js, as pip does here without it, only slower)
    repo = source_tree(tmp_path / "repo")
    built = REPO / "submarine_hub" / "labextension"
    if (built / "static" / "style.js").exists():
        shutil.copytree(built, repo / "submarine_hub" / "labextension")
    venv, home = tmp_path / "env", tmp_path / "home"
    home.mkdir()
    python = str(venv / "bin" / "python")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "SUBMARINE"))},
        "HOME": str(home),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    run([sys.executable, "-m", "venv", str(venv)], cwd=repo, env=env, timeout=120)
    pip_install = [python, "-m", "pip", "install", "-q", "-r", "binder/requirements.txt"]
    run(pip_install, cwd=repo, env=env, timeout=600)
    run([str(repo / "binder" / "postBuild")], cwd=repo, env=env, timeout=300)
    build_seconds = time.monotonic() - started

    # Binder starts the server under its own hub; postBuild's config must win over that
    proc, root, token = start_jupyter(
        home, app="lab", python=python, env={"JUPYTERHUB_API_TOKEN": "binder's hub token"}
    )
    try:
        log = (home / "jupyter.log").read_text()
        assert "Submarine Hub standalone mode" in log, log
        assert str(venv) in log, "JupyterLab runs from the Binder environment"

        page = requests.get(f"{root}lab", params={"token": token}, timeout=30)
        assert page.status_code == 200
        found = re.search(r'<script id="jupyter-config-data"[^>]*>(.*?)</script>', page.text, re.S)
        assert found, "no page config in the JupyterLab page"
        extensions = json.loads(found.group(1))["federated_extensions"]
        assert "submarine-hub" in [e["name"] for e in extensions]

        api = f"{root}submarine/api/v1"
        auth = {"Authorization": f"token {token}"}
        r = requests.get(f"{api}/health", headers=auth, timeout=30)
        assert r.status_code == 200 and r.json()["status"] == "ok", r.text
        r = requests.get(f"{api}/me", headers=auth, timeout=30)
        assert r.status_code == 200, r.text
        me = r.json()
        assert me["admin"] is True
        assert [t["name"] for t in me["teams"]] == [me["name"]]
        r = requests.get(f"{api}/me", timeout=30)
        assert r.status_code == 401, r.text
        assert "token" in r.json()["message"]
        assert (home / ".submarine" / "submarine.sqlite").is_file()
    finally:
        stop_jupyter(proc)
    total = time.monotonic() - started
    print(f"binder build {build_seconds:.0f} s, build and JupyterLab checks {total:.0f} s")
