"""Memory limits of local runs and endpoints: a cgroup v2 each where the machine has one
the service may use, else the address-space limit (``RLIMIT_AS``); see
``submarine_hub/backends/local/limits.py``.

The end-to-end tests run real processes over their limit under whichever mechanism this
machine offers (the test that needs cgroup v2 is skipped, with the reason, where it is
not usable); the rest checks where cgroups go and how a child joins one on fake cgroup
trees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from submarine_hub.backends.local import limits
from submarine_hub.backends.local.experiments import LocalExperimentBackend
from submarine_hub.backends.local.limits import CGROUP, RLIMIT, MemoryLimit, find_base
from submarine_hub.core.experiments.backend import LaunchPlan
from submarine_hub.core.resources import format_memory

from .helpers.runs import plan, wait_final

BASE, WHY = find_base()
LIMIT = 200 * 10**6
GREEDY = ["python", "-c", "b = bytearray(2 * 10**9); b[::4096] = b'x' * len(b[::4096])"]


def limited(run_id: int, argv: list[str]) -> LaunchPlan:
    """A one-replica run of ``argv`` limited to :data:`LIMIT` of memory."""
    return plan(run_id, argv, resources={"memory": LIMIT})


def status(backend: LocalExperimentBackend, run_id: int) -> dict:
    return json.loads((backend.run_dir(run_id) / "status.json").read_text())


# --- real runs -----------------------------------------------------------------------------


async def test_a_run_over_its_memory_limit_fails_out_of_memory_whichever_limit_applies(
    tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    backend = LocalExperimentBackend(tmp_path / "runs")
    via = CGROUP if BASE is not None else RLIMIT
    record_property("memory_limit_mechanism", f"{via}: {WHY}")
    await backend.launch(limited(1, GREEDY))
    state = await wait_final(backend, 1)
    assert state.status == "failed"
    assert state.reason == "main-0 ran out of memory (limit 200M)", state.reason
    assert status(backend, 1)["replicas"][0]["memory_limit"] == f"200M ({via})"
    # within its limit, the same kind of run succeeds
    await backend.launch(limited(2, ["python", "-c", "b = bytearray(10**7)"]))
    assert (await wait_final(backend, 2)).status == "succeeded"
    # a run that fails for another reason says its exit code, not memory
    await backend.launch(limited(3, ["python", "-c", "raise SystemExit(3)"]))
    assert (await wait_final(backend, 3)).reason == "main-0 exited with code 3"


async def test_without_cgroups_a_run_gets_the_address_space_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(limits.SETTING, "rlimit")
    backend = LocalExperimentBackend(tmp_path / "runs")
    assert backend.memory_cgroup is None
    show = "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])"
    await backend.launch(limited(1, ["python", "-c", show]))
    assert (await wait_final(backend, 1)).status == "succeeded"
    assert (await backend.read_log(1, "main-0", 0, 100)).strip() == str(LIMIT).encode()
    await backend.launch(limited(2, GREEDY))
    state = await wait_final(backend, 2)
    assert state.status == "failed" and state.reason == "main-0 ran out of memory (limit 200M)"
    assert b"MemoryError" in await backend.read_log(2, "main-0", 0, 10**6)


@pytest.mark.skipif(BASE is None, reason=f"cgroup v2 memory limits are not usable here: {WHY}")
async def test_with_cgroup_v2_a_run_gets_a_cgroup_of_its_own_killed_past_its_limit(
    tmp_path: Path,
) -> None:
    assert BASE is not None
    backend = LocalExperimentBackend(tmp_path / "runs")
    show = (
        "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0]); "
        "print(open('/proc/self/cgroup').read().strip())"
    )
    await backend.launch(limited(1, ["python", "-c", show]))
    assert (await wait_final(backend, 1)).status == "succeeded"
    out = (await backend.read_log(1, "main-0", 0, 1000)).decode().split()
    assert out[0] == "-1"  # no address-space limit: CUDA and friends may reserve
    assert f"/{BASE.name}/run-1-main-0-" in out[1]
    assert not list(BASE.glob("run-1-main-0-*"))  # removed with the run
    await backend.launch(limited(2, GREEDY))
    state = await wait_final(backend, 2)
    assert state.reason == "main-0 ran out of memory (limit 200M)"
    assert state.exit_code == -9  # the OOM killer, not a MemoryError


# --- where cgroups go ---------------------------------------------------------------------


def _tree(root: Path, controllers: str = "cpu memory pids") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text(controllers + "\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


def _mountinfo(mount: Path) -> str:
    return (
        "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
        f"30 25 0:26 / {mount} rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n"
    )


def test_the_root_cgroup_gets_a_submarine_child_with_the_memory_controller(
    tmp_path: Path,
) -> None:
    mount = _tree(tmp_path / "cg")
    base, why = find_base("", mountinfo=_mountinfo(mount), proc_cgroup="0::/\n")
    assert base == mount / "submarine" and "root" in why
    assert "+memory" in (mount / "cgroup.subtree_control").read_text()
    assert "+memory" in (base / "cgroup.subtree_control").read_text()


def test_a_cgroup_shared_with_the_service_is_not_used(tmp_path: Path) -> None:
    mount = _tree(tmp_path / "cg")
    service = _tree(mount / "system.slice" / "hub.service")
    (service / "cgroup.type").write_text("domain\n")
    base, why = find_base(
        "", mountinfo=_mountinfo(mount), proc_cgroup="0::/system.slice/hub.service\n"
    )
    assert base is None and limits.SETTING in why and "holds processes" in why


def test_a_delegated_parent_gets_the_submarine_child(tmp_path: Path) -> None:
    mount = _tree(tmp_path / "cg")
    unit = _tree(mount / "system.slice" / "hub.service")
    (unit / "cgroup.type").write_text("domain\n")
    leaf = _tree(unit / "main")
    (leaf / "cgroup.type").write_text("domain\n")
    try:
        os.setxattr(unit, "user.delegate", b"1")
    except OSError as e:
        pytest.skip(f"extended attributes cannot be set in {tmp_path}: {e}")
    base, why = find_base(
        "", mountinfo=_mountinfo(mount), proc_cgroup="0::/system.slice/hub.service/main\n"
    )
    assert base == unit / "submarine" and "delegated" in why


def test_the_setting_names_the_cgroup_or_turns_them_off(tmp_path: Path) -> None:
    mount = _tree(tmp_path / "cg")
    mine = _tree(mount / "mine", controllers="memory")
    info = _mountinfo(mount)
    assert find_base("mine", mountinfo=info, proc_cgroup="0::/x\n")[0] == mine
    assert find_base(str(mine), mountinfo=info, proc_cgroup="0::/x\n")[0] == mine
    assert "+memory" in (mine / "cgroup.subtree_control").read_text()
    assert find_base("rlimit", mountinfo=info, proc_cgroup="0::/\n") == (
        None,
        f"{limits.SETTING}=rlimit",
    )
    made, _ = find_base("submarine", mountinfo=info, proc_cgroup="0::/init\n")
    assert made == mount / "submarine" and made.is_dir()  # made, beside the service's
    base, why = find_base("absent/runs", mountinfo=info, proc_cgroup="0::/\n")
    assert base is None and "cannot be used" in why


def test_cgroup_v1_or_a_v2_hierarchy_without_memory_means_the_address_space_limit(
    tmp_path: Path,
) -> None:
    v1_only = (
        "22 1 0:21 / /proc rw - proc proc rw\n"
        "35 25 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    )
    base, why = find_base("", mountinfo=v1_only, proc_cgroup="0::/\n")
    assert base is None and "no cgroup v2" in why
    hybrid = _tree(tmp_path / "unified", controllers="")
    base, why = find_base("", mountinfo=_mountinfo(hybrid), proc_cgroup="0::/\n")
    assert base is None and "no memory controller" in why


# --- joining one --------------------------------------------------------------------------


def _child(limit: MemoryLimit, code: str) -> str:
    with limit.starting() as apply_memory:
        done = subprocess.run(
            [sys.executable, "-c", code], preexec_fn=apply_memory, capture_output=True, text=True
        )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_child_joins_its_cgroup_before_it_runs(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    limit = MemoryLimit(LIMIT, base, "run-1-main-0")
    assert limit.via == CGROUP and (base / "run-1-main-0" / "memory.max").read_text() == str(LIMIT)
    procs = base / "run-1-main-0" / "cgroup.procs"
    out = _child(
        limit,
        "import os, resource\n"
        f"print(open({str(procs)!r}).read() == str(os.getpid()), "
        "resource.getrlimit(resource.RLIMIT_AS)[0])",
    )
    assert out == "True -1" and limit.via == CGROUP and limit.describe() == "200M (cgroup v2)"
    (base / "run-1-main-0" / "memory.events").write_text(
        "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n"
    )
    assert (
        limit.out_of_memory() and limit.reason("main-0") == "main-0 ran out of memory (limit 200M)"
    )
    limit.release(wait=0.1)
    assert (base / "run-1-main-0" / "cgroup.kill").read_text() == "1"


def test_a_child_that_cannot_join_gets_the_address_space_limit(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    limit = MemoryLimit(LIMIT, base, "leaf")
    (base / "leaf" / "cgroup.procs").mkdir()  # a write to it fails
    out = _child(limit, "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])")
    assert out == str(LIMIT) and limit.via == RLIMIT and "could not join" in limit.note
    assert not limit.out_of_memory(b"all good\n")
    assert limit.out_of_memory(b"Traceback ...\nMemoryError\n")


def test_without_a_base_the_limit_is_the_address_space_one(tmp_path: Path) -> None:
    limit = MemoryLimit(3 * 2**30, None, "x")
    out = _child(limit, "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])")
    assert out == str(3 * 2**30) and limit.describe() == "3Gi (RLIMIT_AS)"


@pytest.mark.parametrize(
    "value", [1, 999, 1000, 1024, 200 * 10**6, 3 * 2**30, 1536 * 2**20, 10**12, 5 * 2**40 + 1]
)
def test_limits_are_written_as_the_platform_writes_sizes(value: int) -> None:
    assert limits.format_memory(value) == format_memory(value)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to start a child as another account")
def test_a_child_started_as_another_account_is_placed_by_its_parent(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    limit = MemoryLimit(LIMIT, base, "leaf")
    with limit.starting() as apply_memory:
        done = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid(), os.getuid())"],
            preexec_fn=apply_memory,  # runs after the switch to nobody's account
            user=65534,
            group=65534,
            extra_groups=[],
            capture_output=True,
            text=True,
            cwd="/",
        )
    assert done.returncode == 0, done.stderr
    pid, uid = done.stdout.split()
    assert uid == "65534" and (base / "leaf" / "cgroup.procs").read_text() == pid
    assert limit.via == CGROUP
