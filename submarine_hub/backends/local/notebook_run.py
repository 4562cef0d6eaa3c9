"""One notebook run on a warm kernel (:class:`NotebookRun`): what the executor does with a
run it took, keeping the per-run supervisor's contract (``supervisor.py``).

Contracts:

- It writes ``status.json`` (atomically; final states fsync'd, secrets scrubbed first),
  ``logs/main-0.log`` (the cells' output) and the executed notebook, like papermill does
  under a supervisor; a run always ends with an outcome, whatever fails.
- A kernel is started before its run is known, so the run's settings reach it just
  before its first cell, from a silent set-up cell (:data:`SETUP_CODE`): its environment
  variables (token, run id, credentials; what the kernel's base environment had beyond
  them is dropped, but for :data:`KERNEL_OWN_VARS`), working folder, memory limit
  (``RLIMIT_AS``, unless the kernel was moved into a cgroup v2 of the run's own: see
  limits.py), CPU-time limit (``RLIMIT_CPU``, counted from then on) and CPU affinity
  (every thread).
- A stop (``kill`` file or timeout) kills the kernel's process group; points logged with
  ``submarine_hub.log_metric`` are flushed before the run is declared over.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .kernel_pool import KERNEL_READY_TIMEOUT_S, KernelPool, WarmKernel
from .limits import RLIMIT, MemoryLimit
from .supervisor import Supervisor, scrub_secrets, write_json

log = logging.getLogger("submarine_hub.executor")

REPLICA = "main-0"
# Variables ipykernel sets for itself at start-up: kept when a run's environment arrives.
KERNEL_OWN_VARS = frozenset(
    {"MPLBACKEND", "JPY_PARENT_PID", "TERM", "CLICOLOR", "FORCE_COLOR", "CLICOLOR_FORCE"}
    | {"PAGER", "GIT_PAGER", "PYDEVD_USE_FRAME_EVAL", "JPY_SESSION_NAME"}
)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

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
