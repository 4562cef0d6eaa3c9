"""How an environment build runs its commands (:class:`CommandRunner`), and the file
helpers of a build.

Contracts:

- Every command's output is appended to the build's log; a probe's is discarded and
  only its outcome noted.
- A command runs in its own session, with the scrubbed environment plus the installers'
  settings (indexes, proxies, certificates), never the service's secrets; past the
  build's deadline it is killed with its children, and the step fails.
- A failed step raises :class:`StepFailed` with a message for people that names the log
  (and its last error line, when it has one).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .isolation import BUILD_ENV, scrubbed_env

#: How many lines of the build log an :class:`EnvironmentBuildError` carries.
LOG_TAIL_LINES = 40


class StepFailed(Exception):
    """A build step failed with a message for people."""


class CommandRunner:
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
            raise StepFailed(f"The build timed out after {self.timeout:g}s.")
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
            raise StepFailed(
                f"The build timed out after {self.timeout:g}s (running {_short(cmd)})."
            ) from None
        except asyncio.CancelledError:
            _kill(proc)
            raise

    async def check(self, cmd: Sequence[str], what: str) -> None:
        """Run ``cmd`` with its output in the log; raise ``StepFailed`` if it fails."""
        self.note("$ " + _short(cmd, 10_000))
        proc = await self._start(cmd, self.log_file)
        await self._wait(proc, cmd)
        if proc.returncode:
            self.log_file.flush()
            detail = _last_error_line(tail(Path(self.log_file.name)))
            raise StepFailed(
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
        """Run ``cmd`` and return its standard output; raise ``StepFailed`` if it fails."""
        proc = await self._start(cmd, subprocess.PIPE)
        out = await self._wait(proc, cmd)
        if proc.returncode:
            raise StepFailed(f"{_short(cmd)} failed (exit status {proc.returncode}).")
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


def readable_by_all(prefix: Path) -> None:
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


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
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


def rmtree(path: Path) -> bool:
    """Remove a folder (or a stray file) if it exists; True if something was removed."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
    else:
        return False
    return True
