"""The local endpoint backend: one server process per endpoint, outliving the service.

Layout of an endpoint's folder (``<endpoints_dir>/<id>/``)::

    config.json     what to serve (written here, 0600: it holds the control token)
    access.json     who may call it: the team's members and the hub's admins
    status.json     what the process serves (written by the process)
    server.lock     held by the process while it lives
    server.log      its log (``<endpoints_dir>/.logs/<id>.log``, root's, with ``accounts``)
    cache/          model files copied from a remote artifact store

With ``accounts`` (the service runs as root and runs endpoints as their owners) the
server runs as its owner's system account with the team's group: the folder is the
owner's (the service writes its files there without following links, and signals only
processes of that account), and the versions it serves are copied by the service into
``<endpoints_dir>/.models/<id>/`` (root's, readable by the account's group), so the
server needs neither the artifact store nor its credentials.

:meth:`apply` writes the config and starts the process, or, when it runs, sends it
``SIGHUP`` (it also notices the file within a second): it loads the new generation
beside the current one and swaps. :meth:`stop` sends ``SIGTERM`` (requests in flight
finish), then ``SIGKILL`` after a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from traitlets import Unicode, default

from ...core.resources import parse_cpu, parse_memory
from ..base import EndpointBackend, ProcessState
from .isolation import Account, owned_by, scrubbed_env
from .limits import MemoryLimit, describe_base, find_base
from .logs import read_slice
from .supervisor import lock_held, process_limits

log = logging.getLogger("submarine_hub.backends.local.endpoints")
#: What an endpoint's server keeps of the service's environment beyond the scrubbed base:
#: where the platform's code is, and the cloud credentials of the artifact store.
PASS_ENV = ("PYTHONPATH", "AWS_*")
#: A process started this long ago that still holds no lock died starting.
START_GRACE_S = 60.0
STOP_GRACE_S = 15.0


class LocalEndpointBackend(EndpointBackend):
    """Endpoints as processes on this machine (``python -m submarine_hub.serving.server``).

    Configure it as ``c.LocalEndpointBackend.*``; the default endpoint backend (entry
    point ``local``).
    """

    name = "local"

    endpoints_dir = Unicode(
        help="""Folder of the endpoints' servers: one sub-folder per endpoint (config,
        status, log, model cache). Default: ``endpoints`` in the service's data_dir.""",
    ).tag(config=True)

    @default("endpoints_dir")
    def _default_endpoints_dir(self) -> str:
        return str(Path(self.data_dir, "endpoints"))

    python = Unicode(
        sys.executable,
        help="The Python that runs the servers (with this package installed).",
    ).tag(config=True)

    ip = Unicode("127.0.0.1", help="The address the servers listen on.").tag(config=True)

    def __init__(self, root: Path | str | None = None, **kwargs: Any) -> None:
        """``root`` (the ``endpoints_dir`` setting) may be given first, as a path."""
        if root is not None:
            kwargs["endpoints_dir"] = str(root)
        super().__init__(**kwargs)
        self.root = Path(self.endpoints_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        if self.accounts is not None:
            self.root.chmod(0o711)
        self._children: list[subprocess.Popen[bytes]] = []
        # where servers' memory limits go: a cgroup v2 each, or RLIMIT_AS (limits.py)
        self.memory_cgroup, why = find_base()
        log.info("memory limits of local endpoints: %s", describe_base(self.memory_cgroup, why))

    def dir(self, endpoint_id: int) -> Path:
        return self.root / str(endpoint_id)

    def log_path(self, endpoint_id: int) -> Path:
        """The server's output; out of its owner's folder when it runs as its owner (a
        file the service opens there could be a link the owner placed)."""
        if self.accounts is None:
            return self.dir(endpoint_id) / "server.log"
        logs = self.root / ".logs"
        logs.mkdir(mode=0o700, exist_ok=True)
        return logs / f"{endpoint_id}.log"

    async def known(self) -> list[int]:
        """Endpoints this backend has a folder for."""
        return sorted(int(p.name) for p in self.root.iterdir() if p.name.isdigit())

    # -- state ----------------------------------------------------------------------------

    async def state(self, endpoint_id: int) -> ProcessState | None:
        self._reap()
        return self._state(endpoint_id)

    def _state(self, endpoint_id: int) -> ProcessState | None:
        folder = self.dir(endpoint_id)
        if not (folder / "config.json").exists():
            return None
        status = _read(folder / "status.json")
        alive = _lock_held(folder)
        if not alive:
            started = _read(folder / "launch.json").get("at", 0)
            if not status and time.time() - started < START_GRACE_S:
                return ProcessState(alive=False, state="starting")
            launch = _read(folder / "launch.json")
            reason = status.get("reason", "")
            if launch.get("memory"):
                memory = MemoryLimit.attach(launch["memory"], launch.get("memory_cgroup"))
                if memory.via == "cgroup v2" and memory.out_of_memory():
                    reason = f"the server {memory.reason()}" + (f"; {reason}" if reason else "")
            return ProcessState(
                alive=False,
                state="gone",
                generation=0,
                failed=status.get("failed", 0),
                reason=reason,
                port=status.get("port", 0),
            )
        return ProcessState(
            alive=True,
            state=status.get("state", "starting"),
            generation=status.get("generation", 0),
            loading=status.get("loading", 0),
            failed=status.get("failed", 0),
            reason=status.get("reason", ""),
            port=status.get("port", 0),
            pid=status.get("pid"),
            serving=status.get("serving", []),
        )

    # -- actions ----------------------------------------------------------------------------

    async def apply(self, endpoint_id: int, config: dict[str, Any]) -> None:
        """Serve ``config``: start the process, or roll the running one to it."""
        folder = self.dir(endpoint_id)
        folder.mkdir(parents=True, exist_ok=True)
        account = None
        if self.accounts is not None:
            account = await asyncio.to_thread(
                self.accounts.account, config.get("owner") or "", config.get("team")
            )
            owned_by(folder, account, 0o700)
            config = await asyncio.to_thread(self._stage_models, endpoint_id, config, account)
        old = _read(folder / "config.json")
        previous = _read(folder / "status.json")
        config = dict(config, ip=self.ip, cache_dir=str(folder / "cache"))
        # keep the port across restarts: the hub's route to it stays right
        config["port"] = previous.get("port") or old.get("port") or 0
        if old != config:
            _write(folder / "config.json", config, 0o600, account)
        state = self._state(endpoint_id)
        if state is not None and state.alive:
            if state.pid and self._ours(folder, state.pid):
                try:
                    os.kill(state.pid, signal.SIGHUP)
                except ProcessLookupError:
                    pass
            return
        if state is not None and state.state == "starting":
            return  # launched a moment ago
        await asyncio.to_thread(self._launch, folder, config)

    def _stage_models(
        self, endpoint_id: int, config: dict[str, Any], account: Account
    ) -> dict[str, Any]:
        """Copy the versions ``config`` serves to where ``account`` reads them; the config
        pointing there (a local store without options: no credentials for the server)."""
        from ...store.artifacts import ArtifactStore

        staging = self.root / ".models" / str(endpoint_id)
        _passable(self.root / ".models")
        _passable(staging)
        store = None
        for route in config.get("routes") or []:
            target = staging / route["storage_prefix"]
            if target.exists():
                continue
            if store is None:
                store = ArtifactStore(config["store"]["url"], config["store"].get("options"))
            partial = target.with_name(target.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            source = store.local_copy(route["storage_prefix"], staging / ".download")
            shutil.copytree(source, partial)
            for folder, _dirs, files in os.walk(partial):
                os.chown(folder, 0, account.gid)
                os.chmod(folder, 0o750)
                for name in files:
                    os.chown(os.path.join(folder, name), 0, account.gid, follow_symlinks=False)
                    os.chmod(os.path.join(folder, name), 0o640, follow_symlinks=False)
            for parent in reversed(target.relative_to(staging).parents):
                _passable(staging / parent)
            partial.rename(target)
        shutil.rmtree(staging / ".download", ignore_errors=True)
        return dict(config, store={"url": str(staging), "options": {}})

    def _launch(self, folder: Path, config: dict[str, Any]) -> None:
        """Start the server of ``config`` (the service's copy: the file is its owner's)."""
        (folder / "status.json").unlink(missing_ok=True)
        account = None
        if self.accounts is not None:
            account = self.accounts.account(config.get("owner") or "", config.get("team"))
        uid = account.uid if account is not None else os.geteuid()
        resources = config.get("resources") or {}
        memory = self._memory_limit(folder, resources)
        launch: dict[str, Any] = {"at": time.time(), "uid": uid}
        if memory is not None:
            launch.update(memory=memory.memory, memory_cgroup=str(memory.leaf or "") or None)
        _write(folder / "launch.json", launch, 0o644, None)
        env = scrubbed_env(
            keep=("PYTHONPATH",) if account is not None else PASS_ENV,
            path_prefix=[str(Path(self.python).parent)],
            account=account,
        )
        log_path = self.log_path(int(folder.name))
        out = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
        try:
            with memory.starting() if memory else contextlib.nullcontext() as apply_memory:
                limits = self._limits(resources, apply_memory)
                # Popen, not asyncio's subprocess: the server must not be tied to the
                # service's event loop (closing an asyncio subprocess transport kills a
                # running child).
                proc = subprocess.Popen(
                    [self.python, "-m", "submarine_hub.serving.server", str(folder)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    cwd=folder,
                    env=env,
                    start_new_session=True,  # outlives the service, and its signals
                    preexec_fn=limits,  # (after the switch to the owner's account)
                    **(account.popen_kwargs() if account is not None else {}),
                )
        finally:
            os.close(out)
        self._children.append(proc)
        if memory is not None:
            log.info("endpoint %s: memory limit %s", folder.name, memory.describe())
            if memory.leaf is None or memory.via != "cgroup v2":
                launch.update(memory_cgroup=None)
                _write(folder / "launch.json", launch, 0o644, None)

    def _ours(self, folder: Path, pid: int) -> bool:
        """Whether ``pid`` (read from the server's own status file) is a process of the
        account the server was started as: the service never signals another one."""
        if self.accounts is None:
            return True
        try:
            return os.stat(f"/proc/{pid}").st_uid == _read(folder / "launch.json").get("uid")
        except OSError:
            return False

    def _memory_limit(self, folder: Path, resources: dict[str, Any]) -> MemoryLimit | None:
        """The server's memory limit, like a local run's: a cgroup v2 of its own, else the
        address-space limit (see limits.py); None without ``memory``."""
        if not resources.get("memory"):
            return None
        previous = _read(folder / "launch.json").get("memory_cgroup")
        if previous:  # the last server's, which is gone: what is left of it goes too
            MemoryLimit.attach(1, previous).release()
        name = f"endpoint-{folder.name}-{os.stat(folder).st_ino:x}"
        return MemoryLimit(parse_memory(resources["memory"]), self.memory_cgroup, name)

    def _limits(self, resources: dict[str, Any], apply_memory: Any = None) -> Any:
        """The endpoint's resources as process limits, like a local run's: memory as the
        address-space limit (or ``apply_memory``, a :class:`MemoryLimit`'s), CPU as that
        many cores (rounded up) of this machine."""
        memory = parse_memory(resources["memory"]) if resources.get("memory") else None
        cores = sorted(os.sched_getaffinity(0))
        cpu = parse_cpu(resources["cpu"]) if resources.get("cpu") else None
        pinned = cores[: math.ceil(cpu)] if cpu and math.ceil(cpu) < len(cores) else None
        if memory is None and pinned is None:
            return None
        return process_limits(memory, pinned, None, apply_memory)

    def _reap(self) -> None:
        """Collect children that exited (no zombies)."""
        self._children = [p for p in self._children if p.poll() is None]

    async def write_access(self, endpoint_id: int, access: dict[str, Any]) -> None:
        """Who may call the endpoint; the process rereads the file when it changes."""
        folder = self.dir(endpoint_id)
        folder.mkdir(parents=True, exist_ok=True)
        if _read(folder / "access.json") != access:
            _write(folder / "access.json", access, 0o644, None)

    async def stop(self, endpoint_id: int) -> None:
        folder = self.dir(endpoint_id)
        state = self._state(endpoint_id)
        if state is None or not state.alive or not state.pid or not self._ours(folder, state.pid):
            return
        try:
            os.kill(state.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_GRACE_S
        while _lock_held(folder) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        if _lock_held(folder):
            log.warning("endpoint %s did not stop in %s s; killing it", endpoint_id, STOP_GRACE_S)
            try:
                os.killpg(state.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    async def read_log(self, endpoint_id: int, offset: int, limit: int) -> bytes:
        return await asyncio.to_thread(read_slice, self.log_path(endpoint_id), offset, limit)

    async def remove(self, endpoint_id: int) -> None:
        await self.stop(endpoint_id)
        leaf = _read(self.dir(endpoint_id) / "launch.json").get("memory_cgroup")
        if leaf:
            await asyncio.to_thread(MemoryLimit.attach(1, leaf).release)
        await asyncio.to_thread(shutil.rmtree, self.dir(endpoint_id), True)
        await asyncio.to_thread(shutil.rmtree, self.root / ".models" / str(endpoint_id), True)
        if self.accounts is not None:
            self.log_path(endpoint_id).unlink(missing_ok=True)

    async def close(self) -> None:
        # Server processes are left running on purpose: endpoints outlive the service.
        self._children.clear()
        await super().close()


def _read(path: Path) -> dict[str, Any]:
    """A JSON object from ``path`` ({} if none), never through a link (the folder may be
    the endpoint owner's)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd) as f:
            data = json.loads(f.read(1 << 20))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict[str, Any], mode: int, account: Account | None) -> None:
    """Replace ``path`` atomically, through a fresh temporary file (never a link a user
    placed); with ``account``, the file is that account's."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w") as f:
        if account is not None:
            os.fchown(f.fileno(), account.uid, account.gid)
        os.fchmod(f.fileno(), mode)  # whatever the service's umask
        json.dump(data, f)
    os.replace(tmp, path)


def _passable(folder: Path) -> None:
    """``folder`` made (root's) and passable by all, not listable."""
    folder.mkdir(exist_ok=True)
    folder.chmod(0o711)


def _lock_held(folder: Path) -> bool:
    return lock_held(folder / "server.lock")
