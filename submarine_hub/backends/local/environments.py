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

The spec and its hash are in :mod:`.env_spec`, the status in :mod:`.env_status`, the
steps of a build (venv, conda, pip, kernel) in :mod:`.env_steps`, how they run in
:mod:`.env_runner`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any

import filelock

from .env_runner import CommandRunner, StepFailed, readable_by_all, rmtree, tail
from .env_spec import EnvironmentSpec
from .env_status import BuildState, BuildStatus, EnvironmentBuildError, ProgressCallback
from .env_steps import (
    create_conda,
    create_venv,
    kernel_json_path,
    pip_command,
    register_kernel,
)

log = logging.getLogger(__name__)


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
        return kernel_json_path(self.prefix(spec_hash), self.kernel_name(spec_hash))

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
                    tail(self.log_path(spec_hash)),
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
                    tail(self.log_path(spec_hash)),
                    status,
                )
            return await self._build(spec, spec_hash, display_name)
        finally:
            lock.release()

    # ----------------------------------------------------------------- the build

    async def _build(self, spec: EnvironmentSpec, spec_hash: str, display_name: str) -> BuildStatus:
        prefix = self.prefix(spec_hash)
        log_path = self.log_path(spec_hash)
        if await asyncio.to_thread(rmtree, prefix):
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
            run = CommandRunner(log_file, deadline, self.timeout)
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
                    env_file = self.root / f"{spec_hash}.environment.yml"
                    env_python = await create_conda(spec, prefix, env_file, run)
                else:
                    env_python = await create_venv(spec, prefix, run)
                pip: list[str] | None = None
                if spec.packages:
                    begin(1)
                    pip = await pip_command(spec, env_python, run)
                    install = [*pip, "install", "--disable-pip-version-check", *self.pip_args]
                    await run.check([*install, *spec.packages], "Installing the packages failed")
                begin(len(steps) - 1)
                await register_kernel(
                    spec,
                    env_python,
                    spec_hash=spec_hash,
                    prefix=prefix,
                    kernel_name=self.kernel_name(spec_hash),
                    display_name=display_name,
                    pip=pip,
                    pip_args=self.pip_args,
                    run=run,
                )
                await asyncio.to_thread(readable_by_all, prefix)
            except BaseException as e:
                if isinstance(e, StepFailed):
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
                    message, tail(log_path), dataclasses.replace(status)
                ) from (None if isinstance(e, StepFailed) else e)

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
            await asyncio.to_thread(rmtree, prefix)
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
