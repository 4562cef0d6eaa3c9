"""TensorBoard for runs, served through the hub (handlers: ``handlers/tensorboard.py``):
``POST /tensorboards {"runs": [ids]}``
starts (or reuses) one TensorBoard process over those runs' artifact folders (the runs
that wrote ``tfevents`` files) and answers its URL under the service,
``<service prefix>tensorboard/<key>/``, which relays to it for callers who may read
every one of its runs (the team check, on each request). A TensorBoard nobody requested
for ``idle_timeout`` seconds is stopped.

TensorBoard itself is the ``tensorboard`` package (``pip install 'submarine-hub[tensorboard]'``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from traitlets import Float, Integer, List, Unicode
from traitlets.config import LoggingConfigurable

from ..core.errors import Unavailable
from ..store.models import Metric

log = logging.getLogger("submarine_hub.tensorboard")


def has_tfevents(root: Path) -> bool:
    """Whether a run's artifact folder holds TensorBoard event files."""
    return root.is_dir() and any("tfevents" in p.name for p in root.rglob("*") if p.is_file())


#: the sub-folder (so, TensorBoard's run name below ``run-<id>``) of exported metrics
EXPORTED = "platform-metrics"


async def metric_points(session: AsyncSession, run_id: int) -> list[tuple[str, int, float, float]]:
    """The metric points a run logged through the platform: (key, step, value, time)."""
    rows = await session.execute(
        select(Metric.key, Metric.step, Metric.value, Metric.timestamp)
        .where(Metric.experiment_id == run_id)
        .order_by(Metric.key, Metric.step, Metric.id)
    )
    return [(k, int(st), float(v), float(t)) for k, st, v, t in rows.all()]


def write_scalars(folder: Path, points: list[tuple[str, int, float, float]]) -> Path:
    """``points`` as a TensorBoard event file in ``folder`` (TensorBoard's own writer)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    folder.mkdir(parents=True, exist_ok=True)
    writer = EventFileWriter(str(folder))
    for key, step, value, when in points:
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=key, simple_value=value)]
        )
        writer.add_event(event_pb2.Event(step=step, wall_time=when, summary=summary))
    writer.close()
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Instance:
    key: str
    run_ids: tuple[int, ...]
    port: int
    process: subprocess.Popen[bytes]
    last_used: float = field(default_factory=time.monotonic)


class TensorBoards(LoggingConfigurable):
    """The running TensorBoards, one per set of runs."""

    command = List(
        Unicode(),
        default_value=[sys.executable, "-m", "tensorboard.main"],
        help="How to start TensorBoard (its options are added).",
    ).tag(config=True)
    idle_timeout = Float(600, help="Stop a TensorBoard nobody used for this many seconds.").tag(
        config=True
    )
    max_instances = Integer(8, help="TensorBoards running at once (the oldest idle goes).").tag(
        config=True
    )
    start_timeout = Float(60, help="Seconds a TensorBoard has to start answering.").tag(config=True)

    export_dir = Unicode(
        "",
        help="Where runs' logged metrics are written as tfevents for TensorBoard "
        "(default: a temporary folder of the service).",
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.instances: dict[str, Instance] = {}
        self._lock = asyncio.Lock()

    def export_metrics(self, run_id: int, points: list[tuple[str, int, float, float]]) -> Path:
        """A folder with the run's logged metrics as a fresh event file (the last export
        replaced: a TensorBoard over it shows the run's points as of now)."""
        if not self.export_dir:
            self.export_dir = tempfile.mkdtemp(prefix="submarine-tensorboard-")
        folder = Path(self.export_dir) / f"run-{run_id}"
        if folder.exists():
            shutil.rmtree(folder)
        write_scalars(folder / EXPORTED, points)
        return folder

    @staticmethod
    def key_for(run_ids: tuple[int, ...]) -> str:
        return hashlib.sha256(",".join(map(str, run_ids)).encode()).hexdigest()[:16]

    async def open(self, run_dirs: dict[int, Path], path_prefix: str) -> Instance:
        """The TensorBoard over ``run_dirs`` (run id -> its artifact folder), started when
        none runs; ``path_prefix`` is where the service serves it."""
        ids = tuple(sorted(run_dirs))
        key = self.key_for(ids)
        async with self._lock:
            inst = self.instances.get(key)
            if inst is not None and inst.process.poll() is None:
                inst.last_used = time.monotonic()
                return inst
            await self._make_room()
            port = _free_port()
            spec = ",".join(f"run-{i}:{run_dirs[i]}" for i in ids)
            argv = [*self.command, "--logdir_spec", spec, "--host", "127.0.0.1",
                    "--port", str(port), "--path_prefix", f"{path_prefix}{key}",
                    "--reload_interval", "5"]  # fmt: skip
            process = await asyncio.to_thread(
                subprocess.Popen,
                argv,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
            )
            inst = Instance(key, ids, port, process)
            self.instances[key] = inst
        await self._wait_ready(inst)
        log.info("TensorBoard %s started over runs %s on port %d", key, ids, port)
        return inst

    async def _wait_ready(self, inst: Instance) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if inst.process.poll() is not None:
                self.instances.pop(inst.key, None)
                raise Unavailable(
                    f"TensorBoard exited (code {inst.process.returncode}) before it served; is "
                    "the 'tensorboard' package installed? (pip install "
                    "'submarine-hub[tensorboard]')"
                )
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", inst.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.2)
        self.stop(inst.key)
        raise Unavailable(f"TensorBoard did not answer within {self.start_timeout:g} s.")

    async def _make_room(self) -> None:
        self.stop_idle()
        while len(self.instances) >= self.max_instances:
            oldest = min(self.instances.values(), key=lambda i: i.last_used)
            self.stop(oldest.key)

    def get(self, key: str) -> Instance | None:
        inst = self.instances.get(key)
        if inst is None or inst.process.poll() is not None:
            return None
        inst.last_used = time.monotonic()
        return inst

    def stop(self, key: str) -> None:
        inst = self.instances.pop(key, None)
        if inst is not None and inst.process.poll() is None:
            inst.process.terminate()
            try:
                inst.process.wait(5)
            except subprocess.TimeoutExpired:
                inst.process.kill()
            log.info("TensorBoard %s stopped", key)

    def stop_idle(self, now: float | None = None) -> list[str]:
        """Stop the TensorBoards unused for ``idle_timeout`` (or dead); their keys."""
        now = time.monotonic() if now is None else now
        idle = [
            k
            for k, i in self.instances.items()
            if now - i.last_used > self.idle_timeout or i.process.poll() is not None
        ]
        for key in idle:
            self.stop(key)
        return idle

    def tick(self) -> None:
        """What the service calls every minute."""
        self.stop_idle()

    def stop_all(self) -> None:
        for key in list(self.instances):
            self.stop(key)
