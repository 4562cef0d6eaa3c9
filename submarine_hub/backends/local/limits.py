"""Memory limits of local runs and endpoints: a cgroup v2 of their own where the machine
allows it, else an address-space limit (``RLIMIT_AS``).

A cgroup's ``memory.max`` counts what a process tree really uses and, past it, the
kernel's OOM killer ends the whole tree (``memory.oom.group``), which ``memory.events``
records: the run's reason says so. ``RLIMIT_AS`` caps each process's *address space*
instead, so programs that reserve far more than they touch (CUDA, PyTorch, JAX, the JVM)
fail under it at start-up, and an allocation past it fails with ``MemoryError`` (or
``std::bad_alloc``) rather than a kill; it is the fallback where cgroups cannot be used.

Where the cgroups go (:func:`find_base`), in order:

1. ``$SUBMARINE_MEMORY_CGROUP``: ``rlimit`` (or ``off``) for the address-space limit, or a
   cgroup (its path under the cgroup2 mount, or the full path) the service may make
   children in: it must have the memory controller and no processes of its own (it is
   made when missing, if its parent can give it the controller);
2. the service's own cgroup, when it is the hierarchy's true root (a machine where
   nothing else manages cgroups): a ``submarine`` child of it;
3. the parent of the service's cgroup, when it was delegated to the service (systemd's
   ``Delegate=yes`` with ``DelegateSubgroup=``, which marks it with the
   ``trusted.delegate`` attribute): a ``submarine`` child of it.

Otherwise (cgroup v1, a hybrid hierarchy whose v2 part has no memory controller, a
cgroup shared with other processes) the limit is ``RLIMIT_AS``. Each run replica or
endpoint gets a child of that base (``memory.max``, ``memory.swap.max`` 0), made by the
process that starts it; the child process joins it before it runs any code of its own
(:class:`MemoryLimit`), and the cgroup is removed when the run ends.

Only the standard library is imported: the run supervisor loads this module.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

SETTING = "SUBMARINE_MEMORY_CGROUP"
GROUP = "submarine"
CGROUP = "cgroup v2"
RLIMIT = "RLIMIT_AS"
#: What a process that hit its address-space limit leaves in its output's last lines.
RLIMIT_SIGNS = re.compile(
    rb"MemoryError|Cannot allocate memory|std::bad_alloc|out of memory", re.IGNORECASE
)
_UNITS = {"K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4}
_UNITS.update({f"{k}i": 1024 ** (i + 1) for i, k in enumerate("KMGT")})


def format_memory(value: int) -> str:
    """Bytes as a person wrote them (``200M``, ``4Gi``): core.resources.format_memory's
    rule, here without the platform's imports."""
    for unit in ("T", "Ti", "G", "Gi", "M", "Mi", "K", "Ki"):
        if value >= _UNITS[unit] and value % _UNITS[unit] == 0:
            return f"{value // _UNITS[unit]}{unit}"
    for unit in ("Ti", "Gi", "Mi", "Ki"):
        if value >= _UNITS[unit]:
            return f"{value / _UNITS[unit]:.3g}{unit}"
    return f"{value}B"


# --- where the cgroups go --------------------------------------------------------------


def _cgroup2_mount(mountinfo: str) -> Path | None:
    """The mount point of the cgroup2 hierarchy (``/sys/fs/cgroup`` on most machines)."""
    found = []
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        if right.split(" ", 1)[0] == "cgroup2":
            found.append(Path(left.split()[4]))
    found.sort(key=lambda p: p != Path("/sys/fs/cgroup"))
    return found[0] if found else None


def _own_cgroup(proc_cgroup: str) -> str | None:
    for line in proc_cgroup.splitlines():
        if line.startswith("0::"):
            return line[3:].strip()
    return None


def _has_memory(path: Path, file: str) -> bool:
    try:
        words = (path / file).read_text().split()
    except OSError:
        return False
    return "memory" in {w.lstrip("+") for w in words}


def _delegated(path: Path) -> bool:
    for name in ("trusted.delegate", "user.delegate"):
        try:
            if os.getxattr(path, name).strip() == b"1":
                return True
        except (OSError, AttributeError):
            continue
    return False


def _ready(base: Path, *, create: bool) -> None:
    """Make ``base`` able to give its children memory limits (or raise OSError)."""
    parent = base.parent
    if create:
        if not _has_memory(parent, "cgroup.subtree_control"):
            (parent / "cgroup.subtree_control").write_text("+memory")
        base.mkdir(exist_ok=True)
    if not _has_memory(base, "cgroup.controllers") and (base / "cgroup.controllers").exists():
        raise OSError(f"{base} has no memory controller")
    if not _has_memory(base, "cgroup.subtree_control"):
        (base / "cgroup.subtree_control").write_text("+memory")
    if not _has_memory(base, "cgroup.subtree_control"):
        raise OSError(f"cannot enable the memory controller below {base}")


def find_base(
    setting: str | None = None,
    *,
    mountinfo: str | None = None,
    proc_cgroup: str | None = None,
) -> tuple[Path | None, str]:
    """The cgroup in which memory-limited processes get a child each, made ready, or
    None; and what was decided, for the log. See the module for the rules."""
    if setting is None:
        setting = os.environ.get(SETTING, "")
    setting = setting.strip()
    if setting.lower() in ("rlimit", "off", "none"):
        return None, f"{SETTING}={setting}"
    try:
        if mountinfo is None:
            mountinfo = Path("/proc/self/mountinfo").read_text()
        if proc_cgroup is None:
            proc_cgroup = Path("/proc/self/cgroup").read_text()
    except OSError as e:
        return None, f"cannot read this process's cgroup: {e}"
    mount = _cgroup2_mount(mountinfo)
    own = _own_cgroup(proc_cgroup)
    if mount is None or own is None:
        return None, "no cgroup v2 hierarchy here"
    if not _has_memory(mount, "cgroup.controllers"):
        return None, f"the cgroup v2 hierarchy at {mount} has no memory controller (cgroup v1?)"
    if setting:
        base = Path(setting) if Path(setting).is_relative_to(mount) else mount / setting.lstrip("/")
        try:
            _ready(base, create=not base.exists())
        except OSError as e:
            return None, f"{SETTING}={setting} cannot be used: {e}"
        return base, f"{SETTING}={base}"
    here = mount / own.lstrip("/")
    if not (here / "cgroup.type").exists():  # the root has no type: it may hold processes
        candidate, why = here / GROUP, "the service runs in the hierarchy's root"
    elif _delegated(here.parent):
        candidate, why = here.parent / GROUP, f"{here.parent} is delegated to the service"
    else:
        return None, (
            f"the service's cgroup {here} holds processes, so it cannot give children memory "
            f"limits; set {SETTING} to a cgroup the service may manage"
        )
    try:
        _ready(candidate, create=True)
    except OSError as e:
        return None, f"cannot set up {candidate}: {e}"
    return candidate, why


def describe_base(base: Path | None, why: str) -> str:
    """What :func:`find_base` decided, for a log line."""
    if base is None:
        return f"{RLIMIT}, the address-space limit ({why})"
    return f"a {CGROUP} cgroup each, under {base} ({why})"


# --- one process tree's limit -------------------------------------------------------------


class MemoryLimit:
    """``memory`` bytes for one process tree (a run replica, an endpoint's server).

    With a ``base`` (:func:`find_base`'s) it gets the cgroup ``base/<name>``; when that
    cannot be made or joined, each of its processes gets ``RLIMIT_AS`` instead.
    :attr:`via` says which (:data:`CGROUP` or :data:`RLIMIT`)."""

    def __init__(self, memory: int, base: str | Path | None, name: str) -> None:
        self.memory = int(memory)
        self.leaf: Path | None = None
        self.via = RLIMIT
        self.note = "" if base else "cgroup v2 memory limits are not available"
        if base:
            leaf = Path(base) / name
            try:
                with contextlib.suppress(FileNotFoundError):
                    leaf.rmdir()  # a previous process's, empty
                leaf.mkdir()
                (leaf / "memory.max").write_text(str(self.memory))
                for file, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                    if (leaf / file).exists():
                        (leaf / file).write_text(value)
            except OSError as e:
                self.note = f"cannot make the cgroup {leaf}: {e}"
                with contextlib.suppress(OSError):
                    leaf.rmdir()
            else:
                self.leaf, self.via = leaf, CGROUP

    @classmethod
    def attach(cls, memory: int, leaf: str | None) -> MemoryLimit:
        """The limit of a process started earlier (by another process) in ``leaf``."""
        limit = cls(memory, None, "")
        if leaf:
            limit.leaf, limit.via, limit.note = Path(leaf), CGROUP, ""
        return limit

    def describe(self) -> str:
        return f"{format_memory(self.memory)} ({self.via})"

    def apply_rlimit(self) -> None:
        """In a child, before ``exec``: the address-space limit."""
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (self.memory, self.memory))

    @contextlib.contextmanager
    def starting(self) -> Iterator[Callable[[], None]]:
        """Around one ``Popen``: the part of its ``preexec_fn`` that applies the limit.

        With a cgroup, the child sends its pid through a pipe and waits; a thread of
        this process writes the pid into the cgroup, then lets it go on, so the child
        runs no code of its own outside it (the child may have switched to another
        account by then: the write is this process's). A child that could not be
        placed applies ``RLIMIT_AS`` to itself, and :attr:`via` says so."""
        if self.leaf is None:
            yield self.apply_rlimit
            return
        gate = _Gate(self.leaf, self.apply_rlimit)
        try:
            yield gate.in_child
        finally:
            gate.close()
        if not gate.placed:
            self.note = f"could not join {self.leaf}: {gate.error or 'the process ended first'}"
            self.via = RLIMIT
            self.release()

    def place(self, pid: int) -> bool:
        """Move a running process (a warm kernel) into the cgroup; False if it cannot be."""
        if self.leaf is None:
            return False
        try:
            (self.leaf / "cgroup.procs").write_text(str(pid))
        except OSError as e:
            self.note = f"could not move {pid} into {self.leaf}: {e}"
            self.via = RLIMIT
            self.release()
            return False
        return True

    def out_of_memory(self, output_tail: bytes = b"") -> bool:
        """Whether the process tree ran out of its memory: the kernel's OOM kills in the
        cgroup, or (``RLIMIT_AS``) an allocation failure in its output's last lines."""
        if self.via == CGROUP and self.leaf is not None:
            try:
                events = (self.leaf / "memory.events").read_text()
            except OSError:
                return False
            counts = dict(line.split() for line in events.splitlines() if line.strip())
            return int(counts.get("oom_kill", 0)) > 0 or int(counts.get("oom_group_kill", 0)) > 0
        return bool(RLIMIT_SIGNS.search(output_tail))

    def peak(self) -> int | None:
        """The most memory the cgroup's processes used together, in bytes (the kernel's
        ``memory.peak``); None without a cgroup or where the kernel does not keep it."""
        if self.via != CGROUP or self.leaf is None:
            return None
        try:
            return int((self.leaf / "memory.peak").read_text().strip())
        except (OSError, ValueError):
            return None

    def reason(self, who: str = "") -> str:
        """A run's reason when :meth:`out_of_memory`."""
        return f"{who + ' ' if who else ''}ran out of memory (limit {format_memory(self.memory)})"

    def release(self, wait: float = 2.0) -> None:
        """Remove the cgroup, ending what is left in it (the tree's own stragglers).
        Safe to call again; without a cgroup, nothing."""
        leaf = self.leaf
        if leaf is None or not leaf.exists():
            return
        with contextlib.suppress(OSError):
            (leaf / "cgroup.kill").write_text("1")
        deadline = time.monotonic() + wait
        while True:
            try:
                leaf.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    return  # busy still: the next start of the same name removes it
                time.sleep(0.02)


class _Gate:
    """The pipes and the thread of :meth:`MemoryLimit.starting`."""

    def __init__(self, leaf: Path, fallback: Callable[[], None]) -> None:
        self.leaf = leaf
        self.fallback = fallback
        self.placed = False
        self.error: str = ""
        self.pid_r, self.pid_w = os.pipe()  # child -> parent: its pid
        self.go_r, self.go_w = os.pipe()  # parent -> child: b"1" placed, b"0" not
        self.thread = threading.Thread(target=self._serve, name="cgroup-gate", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        answer = b"0"
        try:
            data = os.read(self.pid_r, 32)
            if not data:
                return  # the child ended (or Popen failed) before asking
            (self.leaf / "cgroup.procs").write_text(data.decode())
            self.placed, answer = True, b"1"
        except (OSError, ValueError) as e:
            self.error = str(e)
        finally:
            with contextlib.suppress(OSError):
                os.write(self.go_w, answer)

    def in_child(self) -> None:
        """In the child, before ``exec`` (pipes close on exec)."""
        os.close(self.go_w)  # so the parent's death reads as an answer (EOF)
        os.close(self.pid_r)
        os.write(self.pid_w, str(os.getpid()).encode())
        if os.read(self.go_r, 1) != b"1":
            self.fallback()

    def close(self) -> None:
        os.close(self.pid_w)  # the thread reads EOF if no child asked
        self.thread.join(timeout=10)
        for fd in (self.pid_r, self.go_r, self.go_w):
            with contextlib.suppress(OSError):
                os.close(fd)
