"""The local backend's own defences, below the spec checks: git never takes a ref or URL
as an option, and a run's plan (credential values, its token) is private and scrubbed
when the run ends, also when its supervisor died."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from submarine_hub.backends.local.experiments import LocalExperimentBackend

from .helpers.runs import plan, wait_final

pytestmark = pytest.mark.local  # runs on the local backend


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@x"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "which.txt").write_text("main\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    subprocess.run([*git, "tag", "v1"], check=True)
    subprocess.run([*git, "checkout", "-q", "-b", "feature"], check=True)
    (repo / "which.txt").write_text("feature\n")
    subprocess.run([*git, "commit", "-q", "-am", "two"], check=True)
    subprocess.run([*git, "checkout", "-q", "main"], check=True)
    return repo


async def test_git_takes_no_ref_or_url_as_an_option(tmp_path: Path) -> None:
    backend = LocalExperimentBackend(tmp_path / "runs")
    repo = _repo(tmp_path)
    cat = ["cat", "which.txt"]
    for run_id, ref, expected in ((1, "feature", b"feature\n"), (2, "v1", b"main\n")):
        await backend.launch(plan(run_id, cat, code={"git": {"url": f"file://{repo}", "ref": ref}}))
        assert (await wait_final(backend, run_id)).status == "succeeded"
        assert await backend.read_log(run_id, "main-0", 0, 100) == expected
    secret = tmp_path / "secret.txt"
    secret.write_text("the-secret-line\n")
    await backend.launch(
        plan(
            3, cat, code={"git": {"url": f"file://{repo}", "ref": f"--pathspec-from-file={secret}"}}
        )
    )
    state = await wait_final(backend, 3)
    assert state.status == "failed" and "checkout" in state.reason
    assert b"the-secret-line" not in await backend.read_log(3, "prepare", 0, 10**6)
    await backend.launch(plan(4, cat, code={"git": {"url": f"--upload-pack=touch {tmp_path}/p"}}))
    assert (await wait_final(backend, 4)).status == "failed"
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("ending", ["normal", "supervisor killed"])
async def test_a_runs_plan_is_0600_and_keeps_no_secret_once_ended(
    tmp_path: Path, ending: str
) -> None:
    backend = LocalExperimentBackend(tmp_path / "runs")
    argv = ["sleep", "30"] if ending != "normal" else ["true"]
    creds = [{"path": "key.json", "content_base64": base64.b64encode(b"file-secret").decode()}]
    await backend.launch(
        replace(plan(1, argv, credential_files=creds), env={"SUBMARINE_TOKEN": "run-token-secret"})
    )
    run_dir = tmp_path / "runs" / "1"
    assert stat.S_IMODE((run_dir / "run.json").stat().st_mode) == 0o600
    assert "run-token-secret" in (run_dir / "run.json").read_text()
    if ending != "normal":
        for _ in range(200):
            state = await backend.state(1)
            if state and state.status == "running":
                break
            await asyncio.sleep(0.05)
        status = json.loads((run_dir / "status.json").read_text())
        os.kill(status["supervisor_pid"], signal.SIGKILL)
        os.killpg(status["replicas"][0]["pid"], signal.SIGKILL)
    await wait_final(backend, 1)
    text = (run_dir / "run.json").read_text()
    assert "run-token-secret" not in text and json.loads(text)["scrubbed"] is True
    assert stat.S_IMODE((run_dir / "run.json").stat().st_mode) == 0o600
    assert not (run_dir / "credentials").exists()
