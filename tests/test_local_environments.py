"""Environment profiles on the local backend: real virtual environments, real pip, real kernels.

The built environments live in one module-scoped folder and are reused across tests.
"""

# The tests inspect small local files straight from async tests, and poll for files that
# other processes create.
# ruff: noqa: ASYNC110, ASYNC240

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from submarine_hub.backends.local.env_spec import EnvironmentSpec
from submarine_hub.backends.local.env_status import BuildState, BuildStatus, EnvironmentBuildError
from submarine_hub.backends.local.environments import EnvironmentBuilder

pytestmark = pytest.mark.slow

BAD_PACKAGE = "this-package-does-not-exist-submarine"
CREATE_STEP = "==> creating virtual environment"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("environments")


@pytest.fixture
def builder(root: Path) -> EnvironmentBuilder:
    return EnvironmentBuilder(root)


@pytest.fixture(scope="module")
async def empty_env(root: Path) -> tuple[BuildStatus, list[BuildStatus]]:
    """The empty spec, built once; with the progress reports of that build."""
    events: list[BuildStatus] = []
    status = await EnvironmentBuilder(root).ensure(EnvironmentSpec(), events.append)
    return status, events


@pytest.fixture(scope="module")
async def six_env(root: Path) -> BuildStatus:
    return await EnvironmentBuilder(root).ensure(
        EnvironmentSpec(packages=("six==1.16.0",)), display_name="six 1.16"
    )


def builds_in_log(status: BuildStatus) -> int:
    return Path(status.log_path).read_text().count(CREATE_STEP)


def run_python(python: str, code: str) -> str:
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()


# --------------------------------------------------------------------------- building


async def test_empty_spec_builds_a_venv_with_a_kernel(
    empty_env: tuple[BuildStatus, list[BuildStatus]], builder: EnvironmentBuilder
) -> None:
    status, _ = empty_env
    spec = EnvironmentSpec()
    assert status.state is BuildState.ready
    assert status.spec_hash == spec.spec_hash()
    assert status.kernel_name == f"submarine-{status.spec_hash}"
    assert Path(status.prefix) == builder.root / status.spec_hash
    assert status.python == str(Path(status.prefix) / "bin" / "python")
    assert status.error is None and status.finished_at >= status.started_at

    jupyter = Path(builder.jupyter_path(status))
    assert jupyter == Path(status.prefix) / "share" / "jupyter"
    kernel = json.loads((jupyter / "kernels" / status.kernel_name / "kernel.json").read_text())
    assert kernel["argv"][0] == status.python
    assert kernel["display_name"] == f"Python ({status.spec_hash})"
    # ipykernel and the platform's SDK come from the base environment.
    assert run_python(status.python, "import ipykernel, submarine_hub, sys; print(sys.prefix)") == (
        status.prefix
    )

    assert builder.status(spec).to_json() == status.to_json()
    on_disk = json.loads((builder.root / f"{status.spec_hash}.json").read_text())
    assert on_disk["state"] == "ready"
    assert builds_in_log(status) == 1


async def test_ready_environment_is_reused(
    empty_env: tuple[BuildStatus, list[BuildStatus]], builder: EnvironmentBuilder
) -> None:
    status, _ = empty_env
    prefix, log = Path(status.prefix), Path(status.log_path)
    before = (prefix.stat().st_ino, prefix.stat().st_mtime_ns, log.stat().st_size)
    events: list[BuildStatus] = []

    again = await builder.ensure(EnvironmentSpec(), events.append)

    assert again.to_json() == status.to_json()
    assert (prefix.stat().st_ino, prefix.stat().st_mtime_ns, log.stat().st_size) == before
    assert events == []
    assert builds_in_log(status) == 1


async def test_progress_increases_to_ready(
    empty_env: tuple[BuildStatus, list[BuildStatus]],
) -> None:
    _, events = empty_env
    progress = [e.progress for e in events]
    assert len(events) >= 3
    assert progress == sorted(set(progress)), progress  # strictly increasing
    assert progress[0] == 0.0 and progress[-1] == 1.0
    assert [e.step for e in events[:-1]] == ["creating virtual environment", "registering kernel"]
    assert all(e.state is BuildState.building for e in events[:-1])
    assert events[-1].state is BuildState.ready


async def test_profile_packages_take_precedence(six_env: BuildStatus) -> None:
    import six

    assert six.__version__ != "1.16.0"  # the base environment has another six
    assert run_python(six_env.python, "import six; print(six.__version__)") == "1.16.0"
    assert builds_in_log(six_env) == 1
    assert "installing 1 package" in Path(six_env.log_path).read_text()


async def test_kernel_runs_from_jupyter_path(
    six_env: BuildStatus, builder: EnvironmentBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel

    monkeypatch.setenv("JUPYTER_PATH", builder.jupyter_path(six_env))
    spec = KernelSpecManager().get_kernel_spec(six_env.kernel_name)
    assert spec.display_name == "Python (six 1.16)"

    def run_in_kernel() -> str:
        km, kc = start_new_kernel(kernel_name=six_env.kernel_name, startup_timeout=60)
        try:
            out: list[str] = []
            kc.execute_interactive(
                "import six, sys; print(six.__version__, sys.executable)",
                output_hook=lambda m: out.append(m["content"].get("text", "")),
                timeout=60,
            )
            return "".join(out).strip()
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    assert await asyncio.to_thread(run_in_kernel) == f"1.16.0 {six_env.python}"


# --------------------------------------------------------------------------- one build


async def test_concurrent_ensures_in_one_process_build_once(builder: EnvironmentBuilder) -> None:
    spec = EnvironmentSpec(packages=("six>=1",))  # satisfied by the base environment
    events: list[list[BuildStatus]] = [[] for _ in range(5)]

    results = await asyncio.gather(*(builder.ensure(spec, e.append) for e in events))

    assert {r.state for r in results} == {BuildState.ready}
    assert len({json.dumps(r.to_json()) for r in results}) == 1
    assert builds_in_log(results[0]) == 1
    for e in events:  # every caller saw the shared build's progress
        assert e and e[-1].progress == 1.0 and e[-1].state is BuildState.ready


RACER = """
import asyncio, json, os, sys, time
from pathlib import Path
from submarine_hub.backends.local.env_spec import EnvironmentSpec
from submarine_hub.backends.local.environments import EnvironmentBuilder

root, go = Path(sys.argv[1]), Path(sys.argv[2])
(root / f"racer-{os.getpid()}.waiting").touch()
while not go.exists():
    time.sleep(0.005)
spec = EnvironmentSpec(packages=("packaging",))
status = asyncio.run(EnvironmentBuilder(root).ensure(spec))
print(json.dumps(status.to_json()))
"""


async def test_two_processes_build_once(root: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    racers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RACER,
            str(root),
            str(go),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        await asyncio.wait_for(_both_waiting(root), 60)
        go.touch()
        outputs = [await asyncio.wait_for(r.communicate(), 120) for r in racers]
    finally:
        for r in racers:
            if r.returncode is None:
                r.kill()
        for marker in root.glob("racer-*.waiting"):
            marker.unlink()

    for r, (_, err) in zip(racers, outputs, strict=True):
        assert r.returncode == 0, err.decode()
    statuses = [json.loads(out) for out, _ in outputs]
    spec_hash = EnvironmentSpec(packages=("packaging",)).spec_hash()
    assert [s["spec_hash"] for s in statuses] == [spec_hash, spec_hash]
    assert [s["state"] for s in statuses] == ["ready", "ready"]
    assert statuses[0]["started_at"] == statuses[1]["started_at"]  # the same build
    assert Path(statuses[0]["log_path"]).read_text().count(CREATE_STEP) == 1


async def _both_waiting(root: Path) -> None:
    while len(list(root.glob("racer-*.waiting"))) < 2:
        await asyncio.sleep(0.01)


# --------------------------------------------------------------------------- failures


async def test_failed_build_is_reported_and_retried(builder: EnvironmentBuilder) -> None:
    spec = EnvironmentSpec(packages=(f"{BAD_PACKAGE}==0.0.1",))
    events: list[BuildStatus] = []

    with pytest.raises(EnvironmentBuildError) as failure:
        await builder.ensure(spec, events.append)

    err = failure.value
    assert BAD_PACKAGE in err.log_tail
    assert BAD_PACKAGE in str(err) and "Installing the packages failed" in str(err)
    assert len(err.log_tail.splitlines()) <= 40
    status = builder.status(spec)
    assert status.state is BuildState.failed
    assert status.error == str(err)
    assert status.log_path == str(builder.root / f"{spec.spec_hash()}.log")
    assert status.log_path in str(err)
    assert events[-1].state is BuildState.failed
    assert Path(status.prefix).is_dir()  # half-built, kept for inspection until a retry

    # Calling again retries: the half-built folder is removed and the build runs again.
    (Path(status.prefix) / "garbage").touch()
    with pytest.raises(EnvironmentBuildError):
        await builder.ensure(spec)
    assert builds_in_log(status) == 2
    assert not (Path(status.prefix) / "garbage").exists()

    # Once fixed (a new spec), it builds.
    fixed = await builder.ensure(EnvironmentSpec(packages=("six",)))
    assert fixed.state is BuildState.ready
    assert run_python(fixed.python, "import six; print('ok')") == "ok"

    assert await builder.remove(spec) is True
    assert not Path(status.prefix).exists() and not Path(status.log_path).exists()
    assert builder.status(spec).state is BuildState.pending
    assert await builder.remove(spec) is False


async def test_interrupted_build_is_garbage(builder: EnvironmentBuilder) -> None:
    spec = EnvironmentSpec(packages=("pip",))  # satisfied by the base environment
    spec_hash = spec.spec_hash()
    prefix = builder.root / spec_hash
    assert builder.status(spec).state is BuildState.pending
    # A process died while building: a folder, a "building" status, nobody holding the lock.
    prefix.mkdir()
    (prefix / "half-written").touch()
    stale = builder.status(spec)
    stale.state = BuildState.building
    (builder.root / f"{spec_hash}.json").write_text(json.dumps(stale.to_json()))

    reported = builder.status(spec)
    assert reported.state is BuildState.failed and "interrupted" in (reported.error or "")

    status = await builder.ensure(spec)
    assert status.state is BuildState.ready
    assert not (prefix / "half-written").exists()


async def test_conda_spec_needs_a_conda_tool(
    builder: EnvironmentBuilder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no conda, mamba or micromamba here
    spec = EnvironmentSpec(conda="name: demo\ndependencies:\n  - python=3.11\n  - numpy\n")
    spec.validate()

    with pytest.raises(EnvironmentBuildError, match="conda specs need conda, mamba or micromamba"):
        await builder.ensure(spec)
    status = builder.status(spec)
    assert status.state is BuildState.failed
    assert "use packages instead" in (status.error or "")


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("-e .", "is a pip option; only requirement lines"),
        ("--index-url http://x", "is a pip option; only requirement lines"),
        ("http://example.com/x.whl", "is a URL or a path; only requirement lines"),
        ("./src/mypkg", "is a URL or a path"),
        ("six @ https://example.com/six.whl", "is a URL or a path"),
        ("not a requirement!!", "is not a valid requirement"),
        ("", "empty package line"),
    ],
)
async def test_bad_package_lines_are_refused(
    line: str, message: str, builder: EnvironmentBuilder
) -> None:
    spec = EnvironmentSpec(packages=("six", line))
    with pytest.raises(ValueError, match=message):
        spec.validate()
    with pytest.raises(ValueError, match=message):
        await builder.ensure(spec)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dependencies: [numpy", "not valid YAML"),
        ("- numpy\n- pandas\n", "must be a YAML mapping with a 'dependencies' list"),
        ("name: demo\n", "needs a non-empty 'dependencies' list"),
        ("dependencies: []\n", "needs a non-empty 'dependencies' list"),
        ("dependencies:\n  - pip:\n      - -e .\n", "pip option"),
        ("dependencies:\n  - 42\n", "neither a package spec"),
    ],
)
def test_bad_conda_text_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EnvironmentSpec(conda=text).validate()


def test_valid_specs_and_hashes() -> None:
    EnvironmentSpec().validate()
    EnvironmentSpec(packages=("six==1.16.0", "requests>=2", "numpy; python_version>'3'")).validate()
    with pytest.raises(ValueError, match="does not exist"):
        EnvironmentSpec(python="/nonexistent/python").validate()

    a = EnvironmentSpec(packages=("six==1.16.0", "requests >= 2"))
    b = EnvironmentSpec(packages=["requests>=2", "six==1.16.0"])  # type: ignore[arg-type]
    assert a.spec_hash() == b.spec_hash()
    assert len(a.spec_hash()) == 16
    assert a.spec_hash() != EnvironmentSpec(packages=("six==1.16.0",)).spec_hash()
    assert EnvironmentSpec().spec_hash() != EnvironmentSpec(system_site_packages=False).spec_hash()
