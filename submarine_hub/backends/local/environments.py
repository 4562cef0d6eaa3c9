"""Environment profiles on the local backend: cached virtual environments with a kernel.

An environment profile (:class:`EnvironmentSpec`) lists pip requirement lines and/or the
text of a conda ``environment.yml`` on top of a base Python. :class:`EnvironmentBuilder`
materializes it once under ``root/<hash>/`` (the hash covers the spec and the base
Python's version), registers an IPython kernel in it and reuses it afterwards.

Layout under ``root``::

    <hash>/        the virtual environment (or conda prefix); the kernelspec lies in
                   <hash>/share/jupyter/kernels/submarine-<hash>/
    <hash>.log     the build log (every attempt appends to it)
    <hash>.json    the build status, replaced atomically, readable by any process
    <hash>.lock    a file lock: one build per spec across processes

A folder without a ``ready`` status is half-built garbage and is removed before a
rebuild: virtual environments are not relocatable, so they are built in place and only
marked ready at the very end.

With ``system_site_packages`` (the default) the base environment's packages (ipykernel,
the platform's SDK) stay importable and the profile's packages install on top of them
and take precedence. When the base Python is itself a virtual environment (the usual
case: the platform runs from one), ``python -m venv --system-site-packages`` would only
expose the *underlying* interpreter's packages, so a ``.pth`` file adds the base virtual
environment's site-packages after the profile's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import functools
import hashlib
import json
import logging
import os
import secrets
import shutil
import signal
import site
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock
import yaml

from ...core.envspec import check_requirement as _check_requirement
from ...core.envspec import parse_conda as _parse_conda
from .isolation import BUILD_ENV, scrubbed_env

log = logging.getLogger(__name__)

#: Bumped when the layout or the build recipe changes, so older builds are not reused.
BUILD_FORMAT = 1

#: Conda front-ends tried in this order when a spec has conda text.
CONDA_TOOLS = ("micromamba", "mamba", "conda")

#: How many lines of the build log an :class:`EnvironmentBuildError` carries.
LOG_TAIL_LINES = 40

_HASH_LENGTH = 16
_PTH_NAME = "_submarine_base_env.pth"

ProgressCallback = Callable[["BuildStatus"], None]


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class _Interpreter:
    """What the builder needs to know about a base Python."""

    version: tuple[int, int, int]
    prefix: str
    base_prefix: str
    site_packages: tuple[str, ...]

    @property
    def is_venv(self) -> bool:
        return os.path.realpath(self.prefix) != os.path.realpath(self.base_prefix)

    def own_site_packages(self) -> list[str]:
        """The site-packages folders that belong to this (virtual) environment itself."""
        root = os.path.realpath(self.prefix) + os.sep
        return [d for d in self.site_packages if os.path.realpath(d).startswith(root)]


_INTERPRETER_PROBE = (
    "import json, site, sys\n"
    "print(json.dumps({'version': list(sys.version_info[:3]), 'prefix': sys.prefix,\n"
    "  'base_prefix': getattr(sys, 'base_prefix', sys.prefix),\n"
    "  'site_packages': site.getsitepackages() if hasattr(site, 'getsitepackages') else []}))\n"
)


@functools.lru_cache(maxsize=32)
def _interpreter(python: str) -> _Interpreter:
    """Describe ``python``: the running interpreter directly, another one by asking it once."""
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        return _Interpreter(
            version=(sys.version_info[0], sys.version_info[1], sys.version_info[2]),
            prefix=sys.prefix,
            base_prefix=sys.base_prefix,
            site_packages=tuple(site.getsitepackages()),
        )
    try:
        out = subprocess.run(
            [python, "-c", _INTERPRETER_PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            stdin=subprocess.DEVNULL,
        ).stdout
        data = json.loads(out.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as e:
        raise ValueError(f"Cannot run the base Python {python!r}: {e}") from e
    major, minor, micro = (int(v) for v in data["version"])
    return _Interpreter(
        version=(major, minor, micro),
        prefix=data["prefix"],
        base_prefix=data["base_prefix"],
        site_packages=tuple(data["site_packages"]),
    )


@dataclass(frozen=True)
class EnvironmentSpec:
    """What an environment profile asks for; its :meth:`spec_hash` names the built env.

    ``packages`` are pip requirement lines; ``conda`` is the text of an
    ``environment.yml`` (needs conda, mamba or micromamba on the local backend);
    ``python`` is the base interpreter for a virtual environment;
    ``system_site_packages`` keeps the base environment's packages (ipykernel, the
    platform's SDK) visible under the profile's own. An empty spec is allowed: it means
    "the base environment with a kernel".
    """

    packages: tuple[str, ...] = ()
    conda: str = ""
    python: str = sys.executable
    system_site_packages: bool = True

    def __post_init__(self) -> None:
        # Accept lists (from JSON) but keep the dataclass hashable.
        if not isinstance(self.packages, tuple):
            object.__setattr__(self, "packages", tuple(self.packages))

    def validate(self) -> None:
        """Raise ``ValueError`` with a message a person can act on if the spec is unusable."""
        for line in self.packages:
            _check_requirement(line)
        if not isinstance(self.conda, str):
            raise ValueError("The conda environment must be given as the text of a YAML file.")
        if self.conda.strip():
            _parse_conda(self.conda)
        if not self.python or not (os.path.isfile(self.python) and os.access(self.python, os.X_OK)):
            raise ValueError(
                f"The base Python {self.python!r} does not exist or is not executable."
            )

    def canonical(self) -> dict[str, Any]:
        """The fields in a canonical form (what :meth:`spec_hash` hashes), without version."""
        packages = []
        for line in self.packages:
            try:
                packages.append(_check_requirement(line))
            except ValueError:
                packages.append(str(line).strip())
        conda: Any = self.conda.strip()
        if conda:
            with contextlib.suppress(yaml.YAMLError):
                conda = yaml.safe_load(conda)
        return {
            "format": BUILD_FORMAT,
            "packages": sorted(set(packages)),
            "conda": conda,
            "python": os.path.abspath(self.python),
            "system_site_packages": bool(self.system_site_packages),
        }

    def spec_hash(self) -> str:
        """The first 16 hex digits of the sha256 of the canonical spec and Python version.

        May run the base Python once (cached) when it is not the running interpreter.
        """
        doc = self.canonical()
        doc["python_version"] = list(_interpreter(doc["python"]).version)
        blob = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:_HASH_LENGTH]


# --------------------------------------------------------------------------- the status


class BuildState(str, enum.Enum):
    """Where a build stands."""

    pending = "pending"
    building = "building"
    ready = "ready"
    failed = "failed"


@dataclass
class BuildStatus:
    """The state of one environment build, as written to ``root/<hash>.json``."""

    state: BuildState
    spec_hash: str
    prefix: str
    kernel_name: str
    python: str
    started_at: float | None = None  # seconds since the epoch
    finished_at: float | None = None
    error: str | None = None
    log_path: str = ""
    progress: float = 0.0
    step: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "spec_hash": self.spec_hash,
            "prefix": self.prefix,
            "kernel_name": self.kernel_name,
            "python": self.python,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error,
            "log_path": self.log_path,
            "progress": self.progress,
            "step": self.step,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildStatus:
        return cls(
            state=BuildState(data["state"]),
            spec_hash=data["spec_hash"],
            prefix=data["prefix"],
            kernel_name=data["kernel_name"],
            python=data["python"],
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
            error=data.get("error"),
            log_path=data.get("log_path") or "",
            progress=float(data.get("progress") or 0.0),
            step=data.get("step") or "",
        )


class EnvironmentBuildError(RuntimeError):
    """A build failed; ``log_tail`` holds the last lines of its log."""

    def __init__(self, message: str, log_tail: str = "", status: BuildStatus | None = None):
        super().__init__(message)
        self.message = message
        self.log_tail = log_tail
        self.status = status


class _StepFailed(Exception):
    """Internal: a build step failed with a message for people."""


# --------------------------------------------------------------------------- the builder


class EnvironmentBuilder:
    """Builds and caches environment profiles under ``root``; see the module docstring.

    ``pip_args`` are passed to every ``pip install`` (e.g. an index URL the platform
    uses); ``timeout`` bounds one build in seconds.
    """

    def __init__(
        self, root: Path, *, pip_args: tuple[str, ...] = (), timeout: float = 1800
    ) -> None:
        self.root = Path(root).absolute()
        self.pip_args = tuple(pip_args)
        self.timeout = timeout
        self._tasks: dict[str, asyncio.Future[BuildStatus]] = {}
        self._listeners: dict[str, list[ProgressCallback]] = {}

    # ----------------------------------------------------------------- paths

    def prefix(self, spec_hash: str) -> Path:
        return self.root / spec_hash

    def log_path(self, spec_hash: str) -> Path:
        return self.root / f"{spec_hash}.log"

    def _status_path(self, spec_hash: str) -> Path:
        return self.root / f"{spec_hash}.json"

    def _lock(self, spec_hash: str) -> filelock.FileLock:
        # Not thread-local: acquired in a worker thread, released in the event loop's.
        return filelock.FileLock(str(self.root / f"{spec_hash}.lock"), thread_local=False)

    @staticmethod
    def kernel_name(spec_hash: str) -> str:
        return f"submarine-{spec_hash}"

    @staticmethod
    def jupyter_path(status: BuildStatus) -> str:
        """The folder to add to ``JUPYTER_PATH`` so Jupyter finds the env's kernelspec."""
        return str(Path(status.prefix) / "share" / "jupyter")

    def _kernel_json(self, spec_hash: str) -> Path:
        return (
            self.prefix(spec_hash)
            / "share"
            / "jupyter"
            / "kernels"
            / self.kernel_name(spec_hash)
            / "kernel.json"
        )

    def _blank_status(self, spec_hash: str) -> BuildStatus:
        prefix = self.prefix(spec_hash)
        return BuildStatus(
            state=BuildState.pending,
            spec_hash=spec_hash,
            prefix=str(prefix),
            kernel_name=self.kernel_name(spec_hash),
            python=str(prefix / "bin" / "python"),
            log_path=str(self.log_path(spec_hash)),
        )

    # ----------------------------------------------------------------- status

    def _read_status(self, spec_hash: str) -> BuildStatus:
        try:
            data = json.loads(self._status_path(spec_hash).read_text())
            return BuildStatus.from_json(data)
        except FileNotFoundError:
            return self._blank_status(spec_hash)
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("Ignoring unreadable build status for %s: %s", spec_hash, e)
            return self._blank_status(spec_hash)

    def _write_status(self, status: BuildStatus, spec: EnvironmentSpec | None = None) -> None:
        data = status.to_json()
        if spec is not None:
            data["spec"] = spec.canonical()
        path = self._status_path(status.spec_hash)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        tmp.write_text(json.dumps(data, indent=1, default=str))
        os.replace(tmp, path)

    def _is_intact(self, status: BuildStatus) -> bool:
        return (
            status.state is BuildState.ready
            and Path(status.python).exists()
            and self._kernel_json(status.spec_hash).is_file()
        )

    def status(self, spec: EnvironmentSpec) -> BuildStatus:
        """The recorded status of ``spec``'s build; ``pending`` if there is none.

        A ``building`` status whose builder has gone (nobody holds the lock) is reported
        as ``failed``; a ``ready`` one whose folder has gone as ``pending``.
        """
        spec_hash = spec.spec_hash()
        status = self._read_status(spec_hash)
        if status.state is BuildState.ready and not self._is_intact(status):
            return self._blank_status(spec_hash)
        if status.state is BuildState.building and spec_hash not in self._tasks:
            lock = self._lock(spec_hash)
            try:
                lock.acquire(timeout=0)
            except filelock.Timeout:
                return status  # somebody is building it
            try:
                status = self._read_status(spec_hash)
            finally:
                lock.release()
            if status.state is BuildState.building:
                status.state = BuildState.failed
                status.error = "The build was interrupted: the process building it stopped."
        return status

    # ----------------------------------------------------------------- ensure

    async def ensure(
        self,
        spec: EnvironmentSpec,
        on_progress: ProgressCallback | None = None,
        *,
        display_name: str | None = None,
    ) -> BuildStatus:
        """Return the ready status of ``spec``'s environment, building it if needed.

        Concurrent calls for one spec share one build in this process and wait on a file
        lock across processes. ``on_progress`` receives status snapshots while building
        (also of a build another process runs). ``display_name`` names the kernel
        ("Python (<display_name>)"; default: the hash). Raises ``ValueError`` for an
        invalid spec and :class:`EnvironmentBuildError` if the build fails; calling again
        retries it.
        """
        spec.validate()
        spec_hash = await asyncio.to_thread(spec.spec_hash)
        status = self._read_status(spec_hash)
        if self._is_intact(status):
            return status
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # sessions and runs of every user use the environments
        listeners = self._listeners.setdefault(spec_hash, [])
        if on_progress is not None:
            listeners.append(on_progress)
        try:
            task = self._tasks.get(spec_hash)
            if task is None:
                task = asyncio.ensure_future(
                    self._locked_build(spec, spec_hash, display_name or spec_hash)
                )
                self._tasks[spec_hash] = task
                task.add_done_callback(functools.partial(self._forget, spec_hash))
            # One caller giving up must not cancel the build the others wait for.
            return await asyncio.shield(task)
        finally:
            if on_progress is not None:
                with contextlib.suppress(ValueError):
                    listeners.remove(on_progress)
            if not listeners and self._listeners.get(spec_hash) is listeners:
                del self._listeners[spec_hash]

    def _forget(self, spec_hash: str, task: asyncio.Future[BuildStatus]) -> None:
        if self._tasks.get(spec_hash) is task:
            del self._tasks[spec_hash]
        if not task.cancelled():
            task.exception()  # mark retrieved: every waiter got it already

    def _emit(self, status: BuildStatus) -> None:
        for callback in list(self._listeners.get(status.spec_hash, ())):
            try:
                callback(dataclasses.replace(status))
            except Exception:
                log.exception("Environment progress callback failed")

    async def _acquire(self, lock: filelock.FileLock, seconds: float) -> None:
        """Acquire ``lock`` in a worker thread within ``seconds`` (``filelock.Timeout``)."""
        attempt = asyncio.ensure_future(asyncio.to_thread(lock.acquire, timeout=seconds))
        try:
            await asyncio.shield(attempt)
        except asyncio.CancelledError:
            # The thread cannot be stopped: release the lock if it gets it after all.
            def release_if_acquired(f: asyncio.Future[Any]) -> None:
                if not f.cancelled() and f.exception() is None:
                    lock.release()

            attempt.add_done_callback(release_if_acquired)
            raise

    async def _wait_for_lock(self, lock: filelock.FileLock, spec_hash: str) -> None:
        """Wait for the lock, relaying the progress of another process's build meanwhile."""
        deadline = time.monotonic() + self.timeout + 60
        seen: tuple[Any, ...] | None = None
        while True:
            try:
                await self._acquire(lock, 0.5)
                return
            except filelock.Timeout:
                pass
            other = self._read_status(spec_hash)
            key = (other.state, other.progress, other.step, other.started_at)
            if other.state is BuildState.building and key != seen:
                seen = key
                self._emit(other)
            if time.monotonic() > deadline:
                raise EnvironmentBuildError(
                    f"Timed out waiting for another process building environment {spec_hash}.",
                    _tail(self.log_path(spec_hash)),
                    other,
                )

    async def _locked_build(
        self, spec: EnvironmentSpec, spec_hash: str, display_name: str
    ) -> BuildStatus:
        lock = self._lock(spec_hash)
        waiting_since = time.time()
        await self._wait_for_lock(lock, spec_hash)
        try:
            # Another process may have built it while we waited...
            status = self._read_status(spec_hash)
            if self._is_intact(status):
                return status
            # ... or failed to: share its failure rather than repeat it at once.
            if (
                status.state is BuildState.failed
                and status.finished_at is not None
                and status.finished_at >= waiting_since
            ):
                raise EnvironmentBuildError(
                    status.error or "The build failed.",
                    _tail(self.log_path(spec_hash)),
                    status,
                )
            return await self._build(spec, spec_hash, display_name)
        finally:
            lock.release()

    # ----------------------------------------------------------------- the build

    async def _build(self, spec: EnvironmentSpec, spec_hash: str, display_name: str) -> BuildStatus:
        prefix = self.prefix(spec_hash)
        log_path = self.log_path(spec_hash)
        if await asyncio.to_thread(_rmtree, prefix):
            log.info("Removed the half-built environment %s", prefix)

        status = self._blank_status(spec_hash)
        status.state = BuildState.building
        status.started_at = time.time()
        steps = [
            "creating virtual environment"
            if not spec.conda.strip()
            else "creating conda environment"
        ]
        if spec.packages:
            n = len(spec.packages)
            steps.append(f"installing {n} package{'s' if n != 1 else ''}")
        steps.append("registering kernel")
        deadline = time.monotonic() + self.timeout
        log.info("Building environment %s in %s", spec_hash, prefix)

        log_file = await asyncio.to_thread(open, log_path, "a", encoding="utf-8", errors="replace")
        with log_file:
            run = _Runner(log_file, deadline, self.timeout)
            run.note(
                f"=== build of environment {spec_hash} started "
                f"{time.strftime('%Y-%m-%d %H:%M:%S %z')} (pid {os.getpid()})"
            )
            run.note("spec: " + json.dumps(spec.canonical(), sort_keys=True, default=str))

            def begin(index: int) -> None:
                status.progress = round(index / len(steps), 4)
                status.step = steps[index]
                run.note(f"==> {steps[index]}")
                self._write_status(status, spec)
                self._emit(status)

            try:
                begin(0)
                if spec.conda.strip():
                    env_python = await self._create_conda(spec, spec_hash, run)
                else:
                    env_python = await self._create_venv(spec, spec_hash, run)
                pip: list[str] | None = None
                if spec.packages:
                    begin(1)
                    pip = await self._pip(spec, env_python, run)
                    install = [*pip, "install", "--disable-pip-version-check", *self.pip_args]
                    await run.check([*install, *spec.packages], "Installing the packages failed")
                begin(len(steps) - 1)
                await self._register_kernel(spec, spec_hash, env_python, display_name, pip, run)
                await asyncio.to_thread(_readable_by_all, prefix)
            except BaseException as e:
                if isinstance(e, _StepFailed):
                    message = str(e)
                elif isinstance(e, asyncio.CancelledError):
                    message = "The build was cancelled."
                else:
                    log.exception("Building environment %s failed", spec_hash)
                    message = f"The build failed unexpectedly: {e!r}"
                run.note(f"=== build failed: {message}")
                status.state = BuildState.failed
                status.error = message
                status.finished_at = time.time()
                self._write_status(status, spec)
                self._emit(status)
                if not isinstance(e, Exception):
                    raise
                log_file.flush()
                log.warning("Building environment %s failed: %s", spec_hash, message)
                raise EnvironmentBuildError(
                    message, _tail(log_path), dataclasses.replace(status)
                ) from (None if isinstance(e, _StepFailed) else e)

            status.state = BuildState.ready
            status.progress = 1.0
            status.step = "ready"
            status.finished_at = time.time()
            status.error = None
            run.note(
                f"=== build finished in {status.finished_at - status.started_at:.1f}s: "
                f"kernel {status.kernel_name}"
            )
        self._write_status(status, spec)
        self._emit(status)
        log.info(
            "Environment %s ready in %.1fs",
            spec_hash,
            status.finished_at - status.started_at,
        )
        return dataclasses.replace(status)

    async def _create_venv(self, spec: EnvironmentSpec, spec_hash: str, run: _Runner) -> str:
        """``python -m venv``; returns the env's python."""
        prefix = self.prefix(spec_hash)
        base = await asyncio.to_thread(_interpreter, _abspath(spec.python))
        cmd = [spec.python, "-m", "venv"]
        if spec.system_site_packages:
            # pip comes from the base environment; ensurepip would take seconds.
            cmd += ["--system-site-packages", "--without-pip"]
        await run.check([*cmd, str(prefix)], "Creating the virtual environment failed")
        env_python = str(prefix / "bin" / "python")
        if not await asyncio.to_thread(os.path.exists, env_python):
            raise _StepFailed(f"Creating the virtual environment did not produce {env_python}.")
        if spec.system_site_packages and base.is_venv and base.own_site_packages():
            # venv only exposes the underlying interpreter's packages: add the base venv's,
            # after the profile's own site-packages so the profile's packages win.
            purelib = await run.capture(
                [env_python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
            )
            pth = Path(purelib.strip()) / _PTH_NAME
            pth.write_text(
                "".join(f"import site; site.addsitedir({d!r})\n" for d in base.own_site_packages())
            )
            run.note(f"base environment {base.prefix} made visible through {pth}")
        return env_python

    async def _create_conda(self, spec: EnvironmentSpec, spec_hash: str, run: _Runner) -> str:
        """``<tool> env create -p <prefix> -f <file>``; returns the env's python."""
        tool = next((path for t in CONDA_TOOLS if (path := shutil.which(t))), None)
        if tool is None:
            raise _StepFailed(
                "conda specs need conda, mamba or micromamba on PATH on the local backend; "
                "use packages instead"
            )
        prefix = self.prefix(spec_hash)
        env_file = self.root / f"{spec_hash}.environment.yml"
        env_file.write_text(spec.conda)
        await run.check(
            [tool, "env", "create", "-p", str(prefix), "-f", str(env_file)],
            "Creating the conda environment failed",
        )
        env_python = str(prefix / "bin" / "python")
        if not await asyncio.to_thread(os.path.exists, env_python):
            raise _StepFailed(
                "The conda environment has no Python; add 'python' to its dependencies."
            )
        return env_python

    async def _pip(self, spec: EnvironmentSpec, env_python: str, run: _Runner) -> list[str]:
        """The command that runs pip for ``env_python``, installing pip only if needed."""
        if await run.succeeds([env_python, "-c", "import pip"]):
            return [env_python, "-m", "pip"]
        base = _abspath(spec.python)
        probe = (
            "import pip, sys; sys.exit(tuple(map(int, pip.__version__.split('.')[:2])) < (22, 3))"
        )
        if await run.succeeds([base, "-c", probe]):
            return [base, "-m", "pip", "--python", env_python]
        await run.check(
            [env_python, "-m", "ensurepip", "--default-pip"], "Installing pip into the env failed"
        )
        return [env_python, "-m", "pip"]

    async def _register_kernel(
        self,
        spec: EnvironmentSpec,
        spec_hash: str,
        env_python: str,
        display_name: str,
        pip: list[str] | None,
        run: _Runner,
    ) -> None:
        if not await run.succeeds([env_python, "-c", "import ipykernel"]):
            run.note("ipykernel is not importable in the environment: installing it")
            pip = pip or await self._pip(spec, env_python, run)
            await run.check(
                [*pip, "install", "--disable-pip-version-check", *self.pip_args, "ipykernel"],
                "Installing ipykernel failed",
            )
        kernel_name = self.kernel_name(spec_hash)
        await run.check(
            [
                env_python,
                "-m",
                "ipykernel",
                "install",
                "--prefix",
                str(self.prefix(spec_hash)),
                "--name",
                kernel_name,
                "--display-name",
                f"Python ({display_name})",
            ],
            "Registering the kernel failed",
        )
        kernel_json = self._kernel_json(spec_hash)
        try:
            data = json.loads(kernel_json.read_text())
        except (OSError, ValueError) as e:
            raise _StepFailed(
                f"Registering the kernel failed: cannot read {kernel_json}: {e}"
            ) from e
        argv = list(data.get("argv") or [])
        if not argv or argv[0] != env_python:
            data["argv"] = [env_python, *argv[1:]] if argv else [
                env_python, "-m", "ipykernel_launcher", "-f", "{connection_file}"
            ]  # fmt: skip
        data.setdefault("metadata", {})["submarine"] = {"spec_hash": spec_hash}
        kernel_json.write_text(json.dumps(data, indent=1))
        run.note(f"kernel {kernel_name}: {kernel_json}")

    # ----------------------------------------------------------------- remove

    async def remove(self, spec: EnvironmentSpec) -> bool:
        """Delete ``spec``'s environment, status and log (under the lock); False if none."""
        spec_hash = await asyncio.to_thread(spec.spec_hash)
        task = self._tasks.get(spec_hash)
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(task)
        if not self.root.is_dir():
            return False
        lock = self._lock(spec_hash)
        await self._wait_for_lock(lock, spec_hash)
        try:
            prefix = self.prefix(spec_hash)
            status_path = self._status_path(spec_hash)
            existed = prefix.exists() or status_path.exists()
            await asyncio.to_thread(_rmtree, prefix)
            for path in (
                status_path,
                self.log_path(spec_hash),
                self.root / f"{spec_hash}.environment.yml",
            ):
                path.unlink(missing_ok=True)
        finally:
            lock.release()
        if existed:
            log.info("Removed environment %s", spec_hash)
        return existed


# --------------------------------------------------------------------------- helpers


class _Runner:
    """Runs build commands as async subprocesses, their output appended to the log."""

    def __init__(self, log_file: Any, deadline: float, timeout: float) -> None:
        self.log_file = log_file
        self.deadline = deadline
        self.timeout = timeout

    def note(self, text: str) -> None:
        self.log_file.write(text.rstrip("\n") + "\n")
        self.log_file.flush()

    async def _start(self, cmd: Sequence[str], stdout: Any) -> asyncio.subprocess.Process:
        if time.monotonic() >= self.deadline:
            raise _StepFailed(f"The build timed out after {self.timeout:g}s.")
        return await asyncio.create_subprocess_exec(
            *cmd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout is self.log_file else subprocess.DEVNULL,
            env=_build_env(),
            start_new_session=True,  # so a timeout can kill pip's own subprocesses too
        )

    async def _wait(self, proc: asyncio.subprocess.Process, cmd: Sequence[str]) -> bytes:
        try:
            out, _ = await asyncio.wait_for(
                proc.communicate(), max(0.0, self.deadline - time.monotonic())
            )
            return out or b""
        except asyncio.TimeoutError:
            _kill(proc)
            await proc.wait()
            self.note(f"=== timed out after {self.timeout:g}s: killed {cmd[0]}")
            raise _StepFailed(
                f"The build timed out after {self.timeout:g}s (running {_short(cmd)})."
            ) from None
        except asyncio.CancelledError:
            _kill(proc)
            raise

    async def check(self, cmd: Sequence[str], what: str) -> None:
        """Run ``cmd`` with its output in the log; raise ``_StepFailed`` if it fails."""
        self.note("$ " + _short(cmd, 10_000))
        proc = await self._start(cmd, self.log_file)
        await self._wait(proc, cmd)
        if proc.returncode:
            self.log_file.flush()
            detail = _last_error_line(_tail(Path(self.log_file.name)))
            raise _StepFailed(
                f"{what} (exit status {proc.returncode})"
                + (f": {detail}" if detail else "")
                + f". See the build log {self.log_file.name}."
            )

    async def succeeds(self, cmd: Sequence[str]) -> bool:
        """Run a probe; its output is discarded, its outcome noted in the log."""
        proc = await self._start(cmd, subprocess.DEVNULL)
        await self._wait(proc, cmd)
        self.note(f"$ {_short(cmd)}  # {'ok' if proc.returncode == 0 else 'no'}")
        return proc.returncode == 0

    async def capture(self, cmd: Sequence[str]) -> str:
        """Run ``cmd`` and return its standard output; raise ``_StepFailed`` if it fails."""
        proc = await self._start(cmd, subprocess.PIPE)
        out = await self._wait(proc, cmd)
        if proc.returncode:
            raise _StepFailed(f"{_short(cmd)} failed (exit status {proc.returncode}).")
        return out.decode(errors="replace")


def _build_env() -> dict[str, str]:
    """What a build's commands see: the scrubbed environment plus installers' settings
    (indexes, proxies, certificates), never the service's secrets."""
    return scrubbed_env(
        dict(
            PIP_NO_INPUT="1",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PYTHONUNBUFFERED="1",
            CONDA_ALWAYS_YES="true",
            MAMBA_ALWAYS_YES="true",
        ),
        keep=BUILD_ENV,
    )


def _readable_by_all(prefix: Path) -> None:
    """Let every user read (and run what the owner may run of) a built environment, which
    the service may have written with a private umask (users isolated: docs/sessions.md)."""
    for folder, _dirs, files in os.walk(prefix):
        os.chmod(folder, os.stat(folder).st_mode | 0o555)
        for name in files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            if not stat.S_ISLNK(st.st_mode):
                os.chmod(path, st.st_mode | 0o444 | (0o111 if st.st_mode & 0o100 else 0))


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _short(cmd: Sequence[str], limit: int = 200) -> str:
    import shlex

    text = shlex.join(cmd)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a (possibly large) log file; empty if there is none."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            data = f.read()
    except OSError:
        return ""
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])


def _last_error_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.startswith(("ERROR:", "error:", "CondaError", "critical libmamba")):
            return line.strip()
    return ""


def _abspath(path: str) -> str:
    return os.path.abspath(path)


def _rmtree(path: Path) -> bool:
    """Remove a folder (or a stray file) if it exists; True if something was removed."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
    else:
        return False
    return True
