"""The local notebook executor: warm kernels for notebook runs.

``python -m submarine_hub.backends.local.executor RUNS_DIR``, started by the local
backend in a session of its own (like a supervisor, it outlives the service). It keeps
a small pool of pre-started, never-used Python kernels per environment and executes
notebook runs on them with papermill (nbclient underneath), so a notebook run starts
executing at once instead of paying for a new process, papermill's imports and a
kernel start-up (about 2 s, most of a short run's latency).

It is a drop-in for the per-run supervisor (``supervisor.py``) and keeps its contract,
so the service's reconcile path is unchanged:

- it takes the run's ``supervisor.lock`` (exclusively) for the run's whole execution,
  and refuses a run whose ``status.json`` exists: a run never executes twice, and a
  lock nobody holds beside a status that has not ended means the executor died;
- it writes ``status.json`` (atomically; final states fsync'd), ``logs/main-0.log``
  (the cells' output) and ``<artifacts>/executed.ipynb``, like papermill does under
  a supervisor;
- a ``kill`` file stops the run (its kernel's process group is killed); the run's
  ``timeout`` is a wall-clock limit.

A kernel serves one run and is discarded; the pool refills in the background
(:mod:`.kernel_pool`). A kernel is started before its run is known, so the run's
settings reach it just before its first cell, from a silent set-up cell
(:mod:`.notebook_run`). See docs/notebook-jobs.md for what differs from a cold start.

This module is the process: its socket, the runs it takes and watches, and its life.

Protocol: newline-delimited JSON over the UNIX socket :func:`socket_path`.
``{"op": "hello", "owner_pid", "pool_size", "preload"}`` (re)configures it; ``{"op":
"run", "run_dir"}`` is answered ``{"ok": true}`` once the run is taken (lock held,
status written) or ``{"ok": false, "error"}``, then ``{"op": "done"}`` on the same
connection when the run ends. With no owner left and nothing running it exits.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .kernel_pool import KernelPool
from .notebook_run import NotebookRun

log = logging.getLogger("submarine_hub.executor")

STATE_DIR = ".executor"
WATCH_INTERVAL_S = 0.05
OWNER_CHECK_S = 1.0


def code_version() -> str:
    """What a service and an executor compare: an executor of other code retires."""
    digest = hashlib.sha256()
    for name in (
        "executor.py",
        "kernel_pool.py",
        "notebook_run.py",
        "supervisor.py",
        "limits.py",
    ):
        digest.update(Path(__file__).with_name(name).read_bytes())
    return digest.hexdigest()[:16]


def state_dir(runs_dir: Path) -> Path:
    return runs_dir / STATE_DIR


def socket_path(runs_dir: Path) -> str:
    """Where the executor listens (a short path: UNIX sockets have a ~100-byte limit)."""
    preferred = state_dir(runs_dir) / "executor.sock"
    if len(str(preferred)) < 100:
        return str(preferred)
    digest = hashlib.sha256(str(runs_dir.resolve()).encode()).hexdigest()[:16]
    return str(Path(tempfile.gettempdir(), f"submarine-executor-{digest}.sock"))


class Executor:
    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        self.dir = state_dir(runs_dir)
        self.owner_pid: int | None = None
        self.sock_dir = tempfile.mkdtemp(prefix="smr-k-")
        self.pool = KernelPool(0, [], self.sock_dir, sys.executable)
        self.runs: dict[str, NotebookRun] = {}
        self.runs_lock = threading.Lock()
        self.stopping = threading.Event()
        self.retiring = False
        self.version = code_version()
        self.last_activity = time.monotonic()

    # -- requests ------------------------------------------------------------------------------

    def handle(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb", buffering=0) as stream:
            for line in stream:
                try:
                    request = json.loads(line)
                except ValueError:
                    return
                if request.get("op") == "hello":
                    if request.get("version") not in (None, self.version):
                        self.retiring = True  # another version of the code: make way
                        self._reply(stream, {"ok": False, "error": "retiring", "pid": os.getpid()})
                        continue
                    self.owner_pid = int(request.get("owner_pid") or 0) or None
                    self.pool.configure(
                        max(0, int(request.get("pool_size", 0))), list(request.get("preload", []))
                    )
                    self._reply(stream, {"ok": True, "pid": os.getpid()})
                elif request.get("op") == "run":
                    run = self.accept(Path(request["run_dir"]))
                    if isinstance(run, str):
                        self._reply(stream, {"ok": False, "error": run})
                        continue
                    self._reply(stream, {"ok": True, "warm": self.pool.warm_count() > 0})
                    try:
                        run.run(self.pool)
                    finally:
                        with self.runs_lock:
                            self.runs.pop(str(run.dir), None)
                            self.last_activity = time.monotonic()
                    with contextlib.suppress(OSError):
                        self._reply(stream, {"op": "done", "run_id": run.plan.get("run_id")})
                    return
                elif request.get("op") == "status":
                    with self.runs_lock:
                        active = len(self.runs)
                    warm = self.pool.warm_count()
                    status = {"ok": True, "pid": os.getpid(), "runs": active, "warm": warm}
                    self._reply(stream, status)
                else:
                    self._reply(stream, {"ok": False, "error": "unknown op"})

    @staticmethod
    def _reply(stream: Any, data: dict[str, Any]) -> None:
        stream.write(json.dumps(data).encode() + b"\n")

    def accept(self, run_dir: Path) -> NotebookRun | str:
        """Take a run (its lock held, ``status.json`` written), or say why not."""
        if self.stopping.is_set() or self.retiring:
            return "the executor is stopping"
        if self.pool.size <= 0:
            return "the kernel pool is off"
        try:
            plan = json.loads((run_dir / "run.json").read_text())
        except (OSError, ValueError) as e:
            return f"cannot read run.json: {e}"
        if not plan.get("notebook") or len(plan.get("replicas", [])) != 1:
            return "not a single-replica notebook run"
        fd = os.open(run_dir / "supervisor.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return "the run is taken"
        if (run_dir / "status.json").exists():
            os.close(fd)
            return "the run ran already"
        try:
            run = NotebookRun(run_dir, fd)
            run.save()
        except Exception as e:
            os.close(fd)
            return f"cannot take the run: {e}"
        with self.runs_lock:
            self.runs[str(run_dir)] = run
            self.last_activity = time.monotonic()
        return run

    # -- background ----------------------------------------------------------------------------

    def watch(self) -> None:
        """Kills asked for, timeouts, pool upkeep, and leaving once nobody needs us."""
        last_upkeep = 0.0
        while not self.stopping.is_set():
            time.sleep(WATCH_INTERVAL_S)
            now = time.monotonic()
            with self.runs_lock:
                runs = list(self.runs.values())
            for run in runs:
                if run.killing is None and (run.dir / "kill").exists():
                    run.stop("killed")
                elif run.killing is None and run.deadline is not None and now > run.deadline:
                    run.stop(f"timed out after {float(run.plan['timeout']):g} s")
            if now - last_upkeep < OWNER_CHECK_S:
                continue
            last_upkeep = now
            self.pool.maintain()
            if not runs and self.retiring:
                log.info("a service of another version came: the executor stops")
                self.stopping.set()
            if not runs and not self._owner_alive() and now - self.last_activity > OWNER_CHECK_S:
                log.info("no service and nothing running: the executor stops")
                self.stopping.set()

    def _owner_alive(self) -> bool:
        if self.owner_pid is None:
            return time.monotonic() - self.last_activity < 60  # not said hello yet
        try:
            os.kill(self.owner_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def serve(self) -> None:
        path = socket_path(self.runs_dir)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            server.bind(path)
        finally:
            os.umask(old)
        server.listen(64)
        server.settimeout(0.5)
        threading.Thread(target=self.watch, name="watch", daemon=True).start()
        log.info("executor %s listening on %s", os.getpid(), path)
        try:
            while not self.stopping.is_set():
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                conn.settimeout(None)
                threading.Thread(target=self.handle, args=(conn,), daemon=True).start()
        finally:
            server.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            self.pool.close()
            time.sleep(0.2)
            shutil.rmtree(self.sock_dir, ignore_errors=True)


def main() -> int:
    runs_dir = Path(sys.argv[1])
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("papermill").setLevel(logging.WARNING)
    logging.getLogger("traitlets").setLevel(logging.ERROR)  # kernel clients' teardown chatter
    d = state_dir(runs_dir)
    d.mkdir(parents=True, exist_ok=True)
    lock = open(d / "executor.lock", "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # one executor per runs folder: another one is serving
    signal.signal(signal.SIGTERM, lambda *_: executor.stopping.set())
    executor = Executor(runs_dir)
    import papermill  # noqa: F401  (imported once, here, instead of in every run)

    executor.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
