"""Notebook runs on the local backend's warm kernels (real processes): parameters, limits,
errors, kill, timeout, a run launched twice, and the executor dying mid-run."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from submarine_hub.backends.local.experiments import LocalExperimentBackend
from submarine_hub.core import notebook_job_runs as njr
from submarine_hub.core.experiments import plans
from submarine_hub.core.experiments.backend import LaunchPlan, ReplicaPlan
from submarine_hub.core.resources import Resources

from .helpers.notebook_jobs import notebook
from .helpers.runs import wait_final


def _plan(
    tmp: Path, run_id: int, *, body: str, params: dict | None = None, **kw: Any
) -> LaunchPlan:
    import tarfile

    nb_file = tmp / f"nb{run_id}.tar.gz"
    data = json.dumps(notebook(body=body)).encode()
    import io

    with tarfile.open(nb_file, "w:gz") as tar:
        info = tarfile.TarInfo("job.ipynb")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    runs_dir = tmp / "runs"
    spec = {"task": {"notebook": "job.ipynb", "parameters": params or {}}}
    argv = [a.replace("$SUBMARINE_ARTIFACTS_DIR", str(runs_dir / str(run_id) / "artifacts"))
            for a in plans.task_argv(spec)]  # fmt: skip
    replica = ReplicaPlan("main", 0, 0, argv, Resources.parse(kw.pop("resources", {})))
    return LaunchPlan(
        run_id, "nb", "data-science", "alice", "none", {"main": 1}, [replica],
        {"SUBMARINE_RUN_ID": str(run_id), "GREETING": "hello"},
        code={"upload": str(nb_file)},
        notebook={
            "input": "job.ipynb",
            "output": str(runs_dir / str(run_id) / "artifacts" / plans.EXECUTED_NOTEBOOK),
            "parameters": params or {},
        },
        **kw,
    )  # fmt: skip


def _status(tmp: Path, run_id: int) -> dict[str, Any]:
    return json.loads((tmp / "runs" / str(run_id) / "status.json").read_text())


@pytest.mark.local
async def test_notebook_runs_on_warm_kernels_with_limits_kill_and_timeout(tmp_path: Path) -> None:
    backend = LocalExperimentBackend(tmp_path / "runs", notebook_pool_size=1)
    ended: list[int] = []
    backend.on_change = lambda: ended.append(1)
    await backend.start()
    executor_pid = None
    try:
        for _ in range(300):  # the executor comes up, its kernel warms
            if backend.executor and backend.executor._ready:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)
        body = (
            "import os, resource\n"
            "print('cwd', os.path.basename(os.getcwd()), os.environ['GREETING'], alpha)\n"
            "print('as', resource.getrlimit(resource.RLIMIT_AS)[0])\n"
            "print('cores', len(os.sched_getaffinity(0)))"
        )
        await backend.launch(
            _plan(tmp_path, 1, body=body, params={"alpha": 7}, resources={"memory": "3G", "cpu": 1})
        )
        state = await wait_final(backend, 1)
        status = _status(tmp_path, 1)
        executor_pid = status["executor_pid"]
        assert state.status == "succeeded", state
        assert status["warm"] is True and "supervisor_pid" not in status
        log = (await backend.read_log(1, "main-0", 0, 10**6)).decode()
        # the memory limit: the kernel's cgroup v2 where there is one, else RLIMIT_AS
        via_rlimit = status["replicas"][0]["memory_limit"] == "3G (RLIMIT_AS)"
        assert status["replicas"][0]["memory_limit"] in ("3G (RLIMIT_AS)", "3G (cgroup v2)")
        assert "cwd code hello 7" in log and f"as {3 * 10**9 if via_rlimit else -1}" in log
        if len(os.sched_getaffinity(0)) > 1:
            assert "cores 1" in log
        executed = json.loads((tmp_path / "runs/1/artifacts/executed.ipynb").read_text())
        assert "injected-parameters" in json.dumps(executed) and "alpha = 7" in json.dumps(executed)
        for _ in range(100):  # the executor says so over its socket, just after status.json
            if ended:
                break
            await asyncio.sleep(0.05)
        assert ended  # the executor said the run ended
        # an error: the failing cell is named, the notebook marked
        await backend.launch(_plan(tmp_path, 2, body="raise ValueError('boom')"))
        state = await wait_final(backend, 2)
        assert state.status == "failed" and "ValueError: boom" in state.reason
        assert state.exit_code == 1
        executed = json.loads((tmp_path / "runs/2/artifacts/executed.ipynb").read_text())
        assert njr.error_cell(executed)["ename"] == "ValueError"
        # more memory than its limit: out of memory, says the reason
        await backend.launch(
            _plan(tmp_path, 7, body="b = bytearray(8 * 10**9)", resources={"memory": "2G"})
        )
        state = await wait_final(backend, 7)
        assert state.status == "failed" and "out of memory (limit 2G)" in state.reason, state
        # a kill, and a timeout, reach the kernel
        await backend.launch(_plan(tmp_path, 3, body="import time; time.sleep(60)"))
        for _ in range(200):
            if (await backend.state(3)).status == "running":
                break
            await asyncio.sleep(0.05)
        await backend.kill(3)
        assert (await wait_final(backend, 3, 20)).status == "killed"
        await backend.launch(_plan(tmp_path, 4, body="import time; time.sleep(60)", timeout=1))
        state = await wait_final(backend, 4, 20)
        assert state.status == "failed" and "timed out after 1 s" in state.reason
        # launched again (a service restart in between): it does not run twice
        await backend.launch(_plan(tmp_path, 1, body="print('twice')"))
        await asyncio.sleep(0.5)
        assert "twice" not in (await backend.read_log(1, "main-0", 0, 10**6)).decode()
        # the executor dies mid-run: the run is reported lost, like a dead supervisor
        await backend.launch(_plan(tmp_path, 5, body="import time; time.sleep(60)"))
        for _ in range(200):
            if (await backend.state(5)).status == "running":
                break
            await asyncio.sleep(0.05)
        os.kill(executor_pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        state = await backend.state(5)
        assert state.status == "failed" and "supervisor is gone" in state.reason
        # ... and the next run is started by a supervisor meanwhile (papermill's command)
        await backend.launch(_plan(tmp_path, 6, body="print('cold', alpha)", params={"alpha": 1}))
        state = await wait_final(backend, 6, 120)
        assert state.status == "succeeded", await backend.read_log(6, "main-0", 0, 10**6)
        assert "supervisor_pid" in _status(tmp_path, 6)
    finally:
        await backend.close()
        for pid in {executor_pid, _executor_pid(tmp_path)} - {None}:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def _executor_pid(tmp: Path) -> int | None:
    """The executor serving ``tmp/runs`` now, if any."""
    import socket

    from submarine_hub.backends.local.executor import socket_path

    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(socket_path(tmp / "runs"))
            sock.sendall(b'{"op": "status"}\n')
            return json.loads(sock.makefile().readline())["pid"]
    except (OSError, ValueError, KeyError):
        return None
