"""The executor's warm kernels: :class:`WarmKernel`, a pre-started, never-used Python
kernel on a thread of its own, and :class:`KernelPool`, up to ``size`` of them per
environment.

Contracts:

- A kernel serves one run and is discarded (killed with its process group); the pool
  refills in the background.
- A pool of a non-default environment unused for :data:`IDLE_ENV_S` is dropped; an
  environment whose kernels fail to start is not refilled for :data:`FAILURE_BACKOFF_S`.
- A change of the modules to preload discards the kernels that imported the old ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import signal
import threading
import time
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any

from .isolation import scrubbed_env

if TYPE_CHECKING:
    from .notebook_run import NotebookRun

log = logging.getLogger("submarine_hub.executor")

KERNEL_READY_TIMEOUT_S = 60.0
IDLE_ENV_S = 600.0  # a non-default environment's pool is dropped after this long unused
FAILURE_BACKOFF_S = 30.0


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
