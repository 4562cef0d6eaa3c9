"""The supervisor of one local run: ``python -I -S supervisor.py RUN_DIR``.

Started by the service in a session of its own, it outlives the service: it
prepares the run's code, starts each replica in its own process group with its
resource limits, streams their output to ``logs/<role>-<index>.log``, and records
the run's state in ``status.json`` (written atomically, fsync'd) until the end.
The service reads that file to learn what happened, also after a restart.

It holds an exclusive lock on ``supervisor.lock`` for its whole life: a second
supervisor for the same run finds it taken and exits, so a run never starts twice,
and a lock nobody holds beside a status that has not ended means the supervisor
died (the machine rebooted).

Only the standard library (and ``limits.py`` beside it) is imported: the supervisor
starts in ~20 ms. A replica's memory limit is a cgroup v2 of its own where the plan
names a base for them (``memory_cgroup``), else ``RLIMIT_AS`` (see limits.py); a
replica that ran out of it fails with the reason "<replica> ran out of memory (limit
200M)", and its status entry says which limit applied (``memory_limit``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__:
    from . import limits
else:  # run as a script (python -I -S supervisor.py RUN_DIR): the module beside it
    import importlib.util

    _spec = importlib.util.spec_from_file_location(
        "submarine_local_limits", Path(__file__).with_name("limits.py")
    )
    assert _spec is not None and _spec.loader is not None
    limits = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = limits
    _spec.loader.exec_module(limits)

GRACE_SECONDS = 10.0
#: How much of a replica's log end is read to tell an address-space limit's failure.
LOG_TAIL = 16384
# Unpacks an uploaded code archive (standard input) into a folder, as the run's owner.
UNTAR = (
    "import sys, tarfile\n"
    "with tarfile.open(fileobj=sys.stdin.buffer, mode='r|*') as t:\n"
    "    t.extractall(sys.argv[1], filter='data')\n"
)


def process_limits(
    memory: int | None,
    cores: list[int] | None,
    cpu_seconds: int | None = None,
    apply_memory: Callable[[], None] | None = None,
) -> Any:
    """A ``preexec_fn`` giving a process its limits: ``memory`` bytes of address space
    (or, instead, ``apply_memory``: a :class:`limits.MemoryLimit`'s part), these
    ``cores`` only, ``cpu_seconds`` of CPU time (the local backends' resources)."""

    def apply() -> None:
        import resource

        if apply_memory is not None:
            apply_memory()
        elif memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if cpu_seconds:
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
        if cores:
            os.sched_setaffinity(0, cores)

    return apply


@contextlib.contextmanager
def _no_memory_limit() -> Any:
    yield None


def lock_held(path: Path) -> bool:
    """Whether a live process holds the lock file ``path`` (a supervisor's, a server's)."""
    try:  # never through a link, never waiting on a FIFO (a server's folder is its owner's)
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return False
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def write_json(path: Path, data: dict[str, Any], *, durable: bool, mode: int = 0o644) -> None:
    """Replace ``path`` atomically, with ``mode``; ``durable`` also fsyncs it (final
    states)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(fd, mode)
    with open(fd, "w") as f:
        json.dump(data, f)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if durable:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class Supervisor:
    def __init__(self, run_dir: Path) -> None:
        self.dir = run_dir
        self.plan = json.loads((run_dir / "run.json").read_text())
        self.status: dict[str, Any] = {"status": "pending", "supervisor_pid": os.getpid()}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.killing: str | None = None  # why we are stopping the replicas
        self.codes: dict[str, int] = {}
        self.memory: dict[str, Any] = {}  # replica -> its limits.MemoryLimit

    def memory_limit(self, replica: dict[str, Any]) -> Any:
        """The replica's :class:`limits.MemoryLimit` (None: no memory limit)."""
        if not replica.get("memory"):
            return None
        # unique on the machine: run ids repeat across services (and tests)
        tag = f"{os.stat(self.dir).st_ino:x}"
        name = f"run-{self.plan.get('run_id', self.dir.name)}-{replica['name']}-{tag}"
        return limits.MemoryLimit(replica["memory"], self.plan.get("memory_cgroup"), name)

    def save(self, *, durable: bool = False, **changes: Any) -> None:
        self.status.update(changes)
        write_json(self.dir / "status.json", self.status, durable=durable)

    def finish(self, status: str, reason: str, exit_code: int | None) -> None:
        scrub_secrets(self.dir)  # first: once the state is final, no secret is left
        for memory in self.memory.values():
            memory.release()  # what is left in a replica's cgroup ends with the run
        self.save(
            status=status, reason=reason, exit_code=exit_code, finished_at=time.time(), durable=True
        )

    # -- code ---------------------------------------------------------------------------

    @property
    def as_user(self) -> dict[str, Any]:
        """``Popen`` arguments making a process the run owner's (none: this process's)."""
        return self.plan.get("as_user") or {}

    def prepare_code(self) -> str | None:
        """Fetch the run's code into its work dir (as the run's owner); a message if that
        failed."""
        code = self.plan.get("code") or {}
        workdir = Path(self.plan["workdir"])
        workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.dir / "logs" / "prepare.log", "ab")
        env = self.plan.get("prepare_env")
        out: dict[str, Any] = dict(stdout=log, stderr=subprocess.STDOUT, env=env, **self.as_user)
        try:
            if "git" in code:
                url, ref = code["git"]["url"], code["git"].get("ref")
                # '--' and --end-of-options: neither the URL nor the ref is ever an option
                cmd = ["git", "clone", "--quiet", "--", url, str(workdir)]
                if subprocess.call(cmd, **out) != 0:
                    return f"git clone of {url} failed (see the 'prepare' log)"
                if ref:
                    commit = _git_commit(workdir, ref, log, self.as_user, env)
                    cmd = ["git", "-C", str(workdir), "checkout", "--quiet", commit or "", "--"]
                    if not commit or subprocess.call(cmd, **out):
                        return f"git checkout of {ref!r} failed (see the 'prepare' log)"
            elif "tar" in code and self.as_user:
                # the supervisor opens the archive; its owner's process unpacks it
                with open(code["tar"], "rb") as tar:
                    cmd = [sys.executable, "-I", "-S", "-c", UNTAR, str(workdir)]
                    if subprocess.call(cmd, stdin=tar, **out) != 0:
                        return "unpacking the uploaded code failed (see the 'prepare' log)"
            elif "tar" in code:
                import tarfile

                with tarfile.open(code["tar"]) as tar:
                    tar.extractall(workdir, filter="data")
        except Exception as e:
            return f"preparing the code failed: {e}"
        finally:
            log.close()
        return None

    # -- replicas -----------------------------------------------------------------------

    def limits(self, replica: dict[str, Any], apply_memory: Any = None) -> Any:
        return process_limits(
            replica.get("memory"), replica.get("cores"), replica.get("cpu_seconds"), apply_memory
        )

    def start_replicas(self) -> None:
        workdir = self.plan["workdir"]
        for replica in self.plan["replicas"]:
            log = open(self.dir / "logs" / f"{replica['name']}.log", "ab")
            memory = self.memory_limit(replica)
            try:
                with memory.starting() if memory else _no_memory_limit() as apply_memory:
                    proc = subprocess.Popen(
                        replica["argv"],
                        cwd=workdir,
                        env=replica["env"],
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its own process group: killed as a whole
                        # (after the switch to the run's owner)
                        preexec_fn=self.limits(replica, apply_memory),
                        **self.as_user,
                    )
            except OSError as e:
                log.write(f"cannot start {replica['argv'][0]!r}: {e}\n".encode())
                log.close()
                if memory is not None:
                    memory.release()
                self.stop(f"{replica['name']} could not start: {e.strerror or e}")
                return
            log.close()
            self.procs[replica["name"]] = proc
            if memory is not None:
                self.memory[replica["name"]] = memory
                print(
                    f"{replica['name']}: memory limit {memory.describe()}"
                    + (f"; {memory.note}" if memory.note else ""),
                    flush=True,
                )
        if self.killing:  # a kill arrived while starting: reach the late ones too
            self.signal_all(signal.SIGTERM)
        self.save(
            status="running",
            started_at=time.time(),
            replicas=[
                {"name": n, "pid": p.pid, "status": "running"}
                | ({"memory_limit": self.memory[n].describe()} if n in self.memory else {})
                for n, p in self.procs.items()
            ],
        )

    def stop(self, why: str) -> None:
        if self.killing is None:
            self.killing = why
            signal.setitimer(signal.ITIMER_REAL, GRACE_SECONDS)  # then SIGKILL (on_alarm)
        self.signal_all(signal.SIGTERM)

    def signal_all(self, sig: int) -> None:
        for name, proc in self.procs.items():
            if name not in self.codes:
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass

    def on_term(self, *_: Any) -> None:
        self.stop("killed")

    def on_alarm(self, *_: Any) -> None:
        if self.killing is None:
            self.stop(f"timed out after {self.plan['timeout']:g} s")
        else:
            self.signal_all(signal.SIGKILL)  # the grace period is over

    def wait(self) -> None:
        """Reap replicas as they end (blocking; signals interrupt to kill or time out)."""
        failed: tuple[str, int] | None = None
        by_pid = {p.pid: n for n, p in self.procs.items()}
        while len(self.codes) < len(self.procs):
            try:
                pid, status, usage = os.wait4(-1, 0)
            except ChildProcessError:
                break
            name = by_pid.get(pid)
            if name is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            self.codes[name] = code
            self.procs[name].returncode = code
            self.measured(name, usage)
            self.replica_ended(name, code)
            if code != 0 and failed is None and self.killing is None:
                failed = (name, code)
                self.stop(self.failure(name, code))
        signal.setitimer(signal.ITIMER_REAL, 0)
        codes = list(self.codes.values())
        if self.killing == "killed":
            self.finish("killed", "killed", _code(codes))
        elif failed:
            self.finish("failed", self.failure(*failed), failed[1])
        elif self.killing:
            self.finish("failed", self.killing, _code(codes))
        elif any(codes):
            self.finish("failed", "a replica failed", _code(codes))
        else:
            self.finish("succeeded", "", 0)

    def failure(self, name: str, code: int) -> str:
        """Why a replica that exited with ``code`` failed: out of memory, or its code."""
        memory = self.memory.get(name)
        if memory is not None:
            tail = b""
            with contextlib.suppress(OSError), open(self.dir / "logs" / f"{name}.log", "rb") as f:
                f.seek(max(0, os.fstat(f.fileno()).st_size - LOG_TAIL))
                tail = f.read()
            if memory.out_of_memory(tail):
                return memory.reason(name)
        return f"{name} exited with code {code}"

    def measured(self, name: str, usage: Any) -> None:
        """What replica ``name`` really used (for usage reports): CPU time of it and the
        descendants it waited for, and its peak memory (its cgroup's, else its own
        largest resident set)."""
        memory = self.memory.get(name)
        peak = memory.peak() if memory is not None else None
        for r in self.status.get("replicas", []):
            if r["name"] == name:
                r["cpu_time"] = round(usage.ru_utime + usage.ru_stime, 3)
                r["peak_memory"] = peak if peak is not None else usage.ru_maxrss * 1024

    def replica_ended(self, name: str, code: int) -> None:
        for r in self.status.get("replicas", []):
            if r["name"] == name:
                r.update(status="succeeded" if code == 0 else "failed", exit_code=code)
        if len(self.codes) < len(self.procs):
            self.save()  # the last one's end is written with the final state

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.on_term)
        signal.signal(signal.SIGINT, self.on_term)
        (self.dir / "logs").mkdir(exist_ok=True)
        self.save()  # the pid, for kills
        problem = self.prepare_code()
        if problem:
            return self.finish("failed", problem, None)
        if (self.dir / "kill").exists() or self.killing:
            return self.finish("killed", "killed before it started", None)
        signal.signal(signal.SIGALRM, self.on_alarm)
        if self.plan.get("timeout"):
            signal.setitimer(signal.ITIMER_REAL, self.plan["timeout"])
        self.start_replicas()
        if not self.procs:
            return self.finish("failed", self.killing or "no replica started", None)
        self.wait()


def _git_commit(
    workdir: Path,
    ref: str,
    log: Any,
    as_user: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> str | None:
    """The commit ``ref`` names in the clone (a branch of the remote too), or None; git
    runs ``as_user`` (the clone is the run owner's)."""
    for name in (ref, f"refs/remotes/origin/{ref}"):
        found = subprocess.run(
            ["git", "-C", str(workdir), "rev-parse", "--verify", "--quiet", "--end-of-options",
             f"{name}^{{commit}}"],
            stdout=subprocess.PIPE, stderr=log, text=True, env=env, **(as_user or {}),
        )  # fmt: skip
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.strip()
    log.write(f"no commit {ref!r} in the repository\n".encode())
    return None


def scrub_secrets(run_dir: Path) -> None:
    """Once a run has ended: its plan keeps no environment values (credentials, the run
    token) and its credential files are gone. Safe to call again."""
    plan_path = run_dir / "run.json"
    try:
        plan = json.loads(plan_path.read_text())
        if not plan.get("scrubbed"):
            for replica in plan.get("replicas", []):
                replica["env"] = {name: "" for name in replica.get("env", {})}
            plan["scrubbed"] = True
            write_json(plan_path, plan, durable=True, mode=0o600)
    except (OSError, ValueError):
        pass  # no plan (or no room to rewrite it): the run's end is recorded all the same
    shutil.rmtree(run_dir / "credentials", ignore_errors=True)


def _code(codes: Sequence[int | None]) -> int | None:
    nonzero = [c for c in codes if c]
    return nonzero[0] if nonzero else 0


def main() -> int:
    run_dir = Path(sys.argv[1])
    lock = open(run_dir / "supervisor.lock", "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0  # another supervisor has this run
    if (run_dir / "status.json").exists():
        return 0  # it ran (or runs) already: never twice
    Supervisor(run_dir).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
