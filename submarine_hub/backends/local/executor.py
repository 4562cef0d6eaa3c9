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

A kernel serves one run and is discarded; the pool refills in the background. A
kernel is started before its run is known, so the run's settings reach it just before
its first cell, from a silent set-up cell: its environment variables (token, run id,
credentials), working folder, memory limit (``RLIMIT_AS``, unless the executor moved
the kernel into a cgroup v2 of the run's own: see limits.py), CPU-time limit
(``RLIMIT_CPU``, counted from then on) and CPU affinity (every thread). See
docs/notebook-jobs.md for what differs from a cold start.

Protocol: newline-delimited JSON over the UNIX socket :func:`socket_path`.
``{"op": "hello", "owner_pid", "pool_size", "preload"}`` (re)configures it; ``{"op":
"run", "run_dir"}`` is answered ``{"ok": true}`` once the run is taken (lock held,
status written) or ``{"ok": false, "error"}``, then ``{"op": "done"}`` on the same
connection when the run ends. With no owner left and nothing running it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import queue
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from queue import Empty
from typing import Any

from .isolation import scrubbed_env
from .limits import RLIMIT, MemoryLimit
from .supervisor import Supervisor, scrub_secrets, write_json

log = logging.getLogger("submarine_hub.executor")

STATE_DIR = ".executor"
REPLICA = "main-0"
WATCH_INTERVAL_S = 0.05
OWNER_CHECK_S = 1.0
KERNEL_READY_TIMEOUT_S = 60.0
IDLE_ENV_S = 600.0  # a non-default environment's pool is dropped after this long unused
FAILURE_BACKOFF_S = 30.0
KERNEL_KILL_WAIT_S = 5.0
# Variables ipykernel sets for itself at start-up: kept when a run's environment arrives.
KERNEL_OWN_VARS = frozenset(
    {"MPLBACKEND", "JPY_PARENT_PID", "TERM", "CLICOLOR", "FORCE_COLOR", "CLICOLOR_FORCE"}
    | {"PAGER", "GIT_PAGER", "PYDEVD_USE_FRAME_EVAL", "JPY_SESSION_NAME"}
)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def code_version() -> str:
    """What a service and an executor compare: an executor of other code retires."""
    digest = hashlib.sha256()
    for name in ("executor.py", "supervisor.py", "limits.py"):
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


# --- kernels ------------------------------------------------------------------------------


def _fast_client_class() -> type:
    from jupyter_client.asynchronous import AsyncKernelClient

    class FastKernelClient(AsyncKernelClient):
        """``wait_for_ready`` without jupyter_client's fixed 0.2 s IOPub drain.

        The kernel is known to be up (the pool waited for it): one ``kernel_info``
        round trip, and one IOPub message proving the subscription is live, suffice."""

        async def wait_for_ready(self, timeout: float | None = None) -> None:  # type: ignore[override]
            deadline = time.monotonic() + (timeout or KERNEL_READY_TIMEOUT_S)
            while True:
                self.kernel_info()
                try:
                    msg = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=0.5)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
            while True:  # what is left of the start-up's IOPub chatter
                try:
                    await self.iopub_channel.get_msg(timeout=0.005)
                except Empty:
                    break

    return FastKernelClient


class WarmKernel:
    """A pre-started, never-used kernel, owned by a thread (and event loop) of its own.

    The thread starts the kernel, waits until it answers, then waits for one job; the
    job runs on this thread (the kernel's ZMQ sockets belong to its loop), and the
    kernel is killed afterwards. ``discard()`` ends an unused one."""

    _counter = 0
    _counter_lock = threading.Lock()

    def __init__(self, python: str, base_env: dict[str, str], sock_dir: str, preload: list[str]):
        with WarmKernel._counter_lock:
            WarmKernel._counter += 1
            self.number = WarmKernel._counter
        self.python = python
        self.base_env = base_env
        self.sock_dir = sock_dir
        self.preload = preload
        self.ready = threading.Event()
        self.failed: str | None = None
        self.pid: int | None = None
        self.started_at = time.time()
        self._jobs: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._taken = False
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._main, name=f"kernel-{self.number}", daemon=True)
        self.thread.start()

    def take(self) -> bool:
        with self._lock:
            if self._taken:
                return False
            self._taken = True
            return True

    def alive(self) -> bool:
        if self.pid is None:
            return not self.ready.is_set()
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def give(self, job: NotebookRun | None) -> None:
        self._jobs.put(job)

    def discard(self) -> None:
        if self.take():
            self.give(None)

    def kill(self) -> None:
        """Kill the kernel and whatever it started (its own process group)."""
        if self.pid is None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _main(self) -> None:
        from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager

        python = self.python

        class Specs(KernelSpecManager):
            def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
                argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
                return KernelSpec(argv=argv, display_name="Python 3", language="python")

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        km = AsyncKernelManager(
            kernel_name="python3",
            kernel_spec_manager=Specs(),
            transport="ipc",
            ip=os.path.join(self.sock_dir, f"k{self.number}"),
            connection_file=os.path.join(self.sock_dir, f"k{self.number}.json"),
        )
        km.client_factory = _fast_client_class()
        job: NotebookRun | None = None
        try:
            try:
                loop.run_until_complete(km.start_kernel(env=dict(self.base_env), cwd=self.sock_dir))
                self.pid = km.provisioner.pid if km.provisioner else None  # type: ignore[attr-defined]
                kc = km.client()
                kc.start_channels()
                try:
                    loop.run_until_complete(kc.wait_for_ready(timeout=KERNEL_READY_TIMEOUT_S))
                    if self.preload:
                        code = "\n".join(f"import {m}" for m in self.preload)
                        loop.run_until_complete(
                            kc.execute_interactive(code, silent=True, timeout=120)
                        )
                finally:
                    kc.stop_channels()
            except Exception as e:
                self.failed = f"{type(e).__name__}: {e}"
                log.warning("a kernel for %s did not start: %s", python, self.failed)
                self.ready.set()
                return
            self.ready.set()
            job = self._jobs.get()
            if job is not None:
                job.execute(self, loop, km)
        finally:
            self.kill()
            with contextlib.suppress(Exception):
                loop.run_until_complete(km.shutdown_kernel(now=True))
            with contextlib.suppress(Exception):
                km.cleanup_resources()
            with contextlib.suppress(Exception):
                km.context.destroy(linger=0)
            loop.close()
            if job is not None:
                job.over.set()


class KernelPool:
    """Up to ``size`` warm kernels per Python (environment); refilled in the background."""

    def __init__(self, size: int, preload: list[str], sock_dir: str, default_python: str):
        self.size = size
        self.preload = preload
        self.sock_dir = sock_dir
        self.default_python = default_python
        self._slots: dict[str, list[WarmKernel]] = {}
        self._used: dict[str, float] = {}
        self._failed: dict[str, float] = {}  # when a kernel of an environment last failed
        self._lock = threading.Lock()

    def _start(self, python: str) -> WarmKernel:
        return WarmKernel(python, self.base_env(python), self.sock_dir, self.preload)

    def configure(self, size: int, preload: list[str]) -> None:
        with self._lock:
            changed = preload != self.preload
            self.size, self.preload = size, preload
            if changed:  # kernels with the old imports go
                for slots in self._slots.values():
                    for k in slots:
                        k.discard()
                    slots.clear()
        self.maintain()

    def base_env(self, python: str) -> dict[str, str]:
        return scrubbed_env({"PYTHONUNBUFFERED": "1"}, path_prefix=[str(Path(python).parent)])

    def take(self, python: str) -> tuple[WarmKernel, bool]:
        """A kernel for ``python``: a ready one (warm), or one started now (cold)."""
        with self._lock:
            self._used[python] = time.monotonic()
            slots = self._slots.setdefault(python, [])
            slots[:] = [k for k in slots if not k.failed and k.alive()]
            ready = [k for k in slots if k.ready.is_set()]
            chosen = None
            for k in ready + [k for k in slots if k not in ready]:
                if k.take():
                    chosen = k
                    break
            if chosen is not None:
                slots.remove(chosen)
                warm = chosen.ready.is_set()
        if chosen is None:
            chosen = self._start(python)
            chosen.take()
            warm = False
        self.maintain()
        return chosen, warm

    def maintain(self) -> None:
        """Drop dead kernels, refill every pool in use, retire pools unused for long."""
        now = time.monotonic()
        with self._lock:
            self._used.setdefault(self.default_python, now)
            for python in list(self._used):
                slots = self._slots.setdefault(python, [])
                if any(k.failed for k in slots):
                    self._failed[python] = now
                slots[:] = [k for k in slots if not k.failed and k.alive()]
                idle = now - self._used[python] > IDLE_ENV_S
                if python != self.default_python and idle:
                    for k in slots:
                        k.discard()
                    del self._slots[python], self._used[python]
                    continue
                while len(slots) > self.size:
                    slots.pop().discard()
                if now - self._failed.get(python, -FAILURE_BACKOFF_S) < FAILURE_BACKOFF_S:
                    continue  # kernels of this environment fail to start: not in a loop
                while len(slots) < self.size:
                    slots.append(self._start(python))

    def warm_count(self) -> int:
        with self._lock:
            return sum(1 for s in self._slots.values() for k in s if k.ready.is_set())

    def close(self) -> None:
        with self._lock:
            for slots in self._slots.values():
                for k in slots:
                    k.discard()
            self._slots.clear()


# --- runs ---------------------------------------------------------------------------------

SETUP_CODE = """\
def __submarine_setup(env, drop, workdir, memory, cpu_seconds, cores):
    import os, resource
    for key in drop:
        os.environ.pop(key, None)
    os.environ.update(env)
    os.chdir(workdir)
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if cpu_seconds:
        used = resource.getrusage(resource.RUSAGE_SELF)
        limit = int(used.ru_utime + used.ru_stime) + cpu_seconds
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 5))
    if cores:
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), cores)
            except OSError:
                pass
__submarine_setup(**__import__("json").loads({payload!r}))
del __submarine_setup
"""

# Points logged with submarine_hub.log_metric are sent before the run is declared over.
FLUSH_CODE = """\
import sys as __s
__t = __s.modules.get("submarine_hub.tracking")
if __t is not None and getattr(__t, "_tracker", None) is not None:
    __t._tracker.flush()
del __s, __t
"""


class NotebookRun:
    """One notebook run taken by the executor: its folder, plan and outcome."""

    def __init__(self, run_dir: Path, lock_fd: int) -> None:
        self.dir = run_dir
        self.lock_fd = lock_fd
        self.plan = json.loads((run_dir / "run.json").read_text())
        self.status: dict[str, Any] = {"status": "pending", "executor_pid": os.getpid()}
        self.kernel: WarmKernel | None = None
        self.memory: MemoryLimit | None = None  # the run's memory limit, once applied
        self.killing: str | None = None
        self.deadline: float | None = None
        self.over = threading.Event()  # the outcome is written, or the kernel is gone

    @property
    def replica(self) -> dict[str, Any]:
        return self.plan["replicas"][0]

    def save(self, *, durable: bool = False, **changes: Any) -> None:
        self.status.update(changes)
        write_json(self.dir / "status.json", self.status, durable=durable)

    def finish(self, status: str, reason: str, exit_code: int | None) -> None:
        scrub_secrets(self.dir)  # first: once the state is final, no secret is left
        for r in self.status.get("replicas", []):
            r.update(status="succeeded" if status == "succeeded" else "failed", exit_code=exit_code)
        self.save(
            status=status,
            reason=reason,
            exit_code=exit_code,
            finished_at=time.time(),
            durable=True,
        )
        if self.memory is not None:
            self.memory.release()  # the kernel is discarded after its run anyway
        self.over.set()

    def log(self, text: str) -> None:
        with open(self.dir / "logs" / f"{REPLICA}.log", "a") as f:
            f.write(text)

    def python(self) -> str:
        prefix = self.plan.get("python_prefix") or ""
        return f"{prefix}/bin/python" if prefix else sys.executable

    # -- on the executor's connection thread ---------------------------------------------------

    def run(self, pool: KernelPool) -> None:
        """Prepare, take a kernel and hand the run to it; returns when the run has ended."""
        try:
            (self.dir / "logs").mkdir(exist_ok=True)
            problem = Supervisor(self.dir).prepare_code()
            if problem:
                return self.finish("failed", problem, None)
            if (self.dir / "kill").exists():
                return self.finish("killed", "killed before it started", None)
            if self.plan.get("timeout"):
                self.deadline = time.monotonic() + float(self.plan["timeout"])
            kernel, warm = pool.take(self.python())
            self.status["warm"] = warm
            self.kernel = kernel
            started = kernel.ready.wait(KERNEL_READY_TIMEOUT_S) and not kernel.failed
            if self.killing:  # a kill (or timeout) while its kernel was starting
                kernel.discard()
                why = self.killing
                return self.finish("killed" if why == "killed" else "failed", why, None)
            if not started:
                kernel.discard()
                return self.finish("failed", f"the kernel did not start: {kernel.failed}", None)
            kernel.give(self)
            self.over.wait()
            if self.status["status"] not in ("succeeded", "failed", "killed"):
                self.finish("failed", self.killing or "the kernel ended unexpectedly", None)
        except Exception as e:  # never leave a run without an outcome
            log.exception("run %s failed in the executor", self.dir.name)
            if self.status["status"] not in ("succeeded", "failed", "killed"):
                self.finish("failed", f"the executor failed: {e}", None)
        finally:
            os.close(self.lock_fd)  # the run is over: its lock goes

    # -- on the kernel's thread ------------------------------------------------------------------

    def execute(self, kernel: WarmKernel, loop: asyncio.AbstractEventLoop, km: Any) -> None:
        import papermill
        from papermill.exceptions import PapermillExecutionError

        replica = self.replica
        nb_plan = self.plan["notebook"]
        self.save(
            status="running",
            started_at=time.time(),
            replicas=[{"name": REPLICA, "pid": kernel.pid, "status": "running"}],
        )
        if self.killing:
            return self.finish("killed", "killed", None)
        memory = self._memory_limit(kernel)
        kc = km.client()
        kc.start_channels()
        try:
            payload = json.dumps(
                {
                    "env": replica["env"],
                    "drop": sorted(set(kernel.base_env) - set(replica["env"]) - KERNEL_OWN_VARS),
                    "workdir": self.plan["workdir"],
                    # the address-space limit, unless the kernel is in a cgroup now
                    "memory": memory.memory if memory and memory.via == RLIMIT else None,
                    "cpu_seconds": replica.get("cpu_seconds"),
                    "cores": replica.get("cores"),
                }
            )
            reply = loop.run_until_complete(
                kc.execute_interactive(
                    SETUP_CODE.format(payload=payload), silent=True, store_history=False, timeout=30
                )
            )
            if reply["content"]["status"] != "ok":
                error = reply["content"].get("evalue", "")
                return self.finish("failed", f"setting up the kernel failed: {error}", None)
        finally:
            kc.stop_channels()
        source = Path(self.plan["workdir"], nb_plan["input"])
        output = nb_plan["output"]
        log_file = open(self.dir / "logs" / f"{REPLICA}.log", "a", buffering=1)
        status, reason, code = "succeeded", "", 0
        try:
            log_file.write(f"Executing {nb_plan['input']} on a warm kernel\n")
            papermill.execute_notebook(
                str(source),
                output,
                parameters=nb_plan.get("parameters") or {},
                kernel_name=nb_plan.get("kernel_name") or "python3",
                language="python",
                km=km,
                progress_bar=False,
                log_output=False,
                stdout_file=log_file,
                stderr_file=log_file,
            )
        except PapermillExecutionError as e:
            status, code = "failed", 1
            reason = f"cell {e.exec_count} raised {e.ename}: {e.evalue}"
            if memory is not None and e.ename == "MemoryError":
                reason = f"{memory.reason()}: {reason}"
            log_file.write(ANSI.sub("", "\n".join(e.traceback)) + "\n")
        except Exception as e:
            status, code = "failed", 1
            reason = self.killing or f"{type(e).__name__}: {e}"
            if not self.killing and memory is not None and memory.out_of_memory():
                reason = f"{memory.reason()}: the kernel was killed"
            if not self.killing:
                log_file.write(f"{reason}\n")
        finally:
            log_file.close()
        if self.killing:
            return self.finish(
                "killed" if self.killing == "killed" else "failed", self.killing, None
            )
        self._flush_tracking(loop, km)
        self.finish(status, reason, code)

    def _memory_limit(self, kernel: WarmKernel) -> MemoryLimit | None:
        """The run's memory limit: its kernel moved into a cgroup of the run's own (see
        limits.py), else ``RLIMIT_AS`` from the set-up cell; recorded in its status."""
        memory = self.replica.get("memory")
        if not memory:
            return None
        tag = f"{os.stat(self.dir).st_ino:x}"
        name = f"run-{self.plan.get('run_id', self.dir.name)}-{REPLICA}-{tag}"
        limit = MemoryLimit(memory, self.plan.get("memory_cgroup"), name)
        if limit.leaf is not None and kernel.pid is not None:
            limit.place(kernel.pid)
        elif limit.leaf is not None:
            limit.release()
            limit.leaf, limit.via = None, RLIMIT
        self.memory = limit
        for r in self.status.get("replicas", []):
            r["memory_limit"] = limit.describe()
        self.save()
        return limit

    def _flush_tracking(self, loop: asyncio.AbstractEventLoop, km: Any) -> None:
        kc = km.client()
        kc.start_channels()
        try:
            loop.run_until_complete(
                kc.execute_interactive(FLUSH_CODE, silent=True, store_history=False, timeout=15)
            )
        except Exception as e:
            log.warning("run %s: flushing its metrics failed: %s", self.dir.name, e)
        finally:
            kc.stop_channels()

    def stop(self, why: str) -> None:
        if self.killing is None:
            self.killing = why
            if self.kernel is not None and self.kernel.pid is not None:
                self.kernel.kill()


# --- the executor process -------------------------------------------------------------------


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
