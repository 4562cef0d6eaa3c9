"""Metric points a process could not send before it exited, kept on disk until delivered.

A tracked process (``submarine_hub.tracking``) that still holds points at exit, after
trying to send them for a while (the service down or restarting), writes them to a spool
file instead of dropping them:

- inside a platform run, in the run's folder: ``$SUBMARINE_RUN_DIR/metrics-spool/``; the
  service takes them in when it sees the run end (local backend);
- otherwise (a notebook's interactive run), in ``~/.submarine/spool/``; the next tracked
  process of the user on that machine sends them (and the run's end, if it was lost).

One JSON file per process: ``{"run_id", "points", "params", "end"}``, written to a
temporary name, fsync'd and renamed, so a file that exists is whole. Points are sent
with ``replay`` set: the service skips points the run already has (same key, step and
time), so a batch that reached it before its answer was lost is not stored twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

RUN_FOLDER = "metrics-spool"
SUFFIX = ".json"


def folder_for_run(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / RUN_FOLDER


def user_folder() -> Path:
    return Path.home() / ".submarine" / "spool"


def write(
    folder: Path,
    run_id: int,
    points: list[dict[str, Any]],
    params: dict[str, str],
    end: str | None = None,
) -> Path:
    """Keep what could not be sent; returns the file."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"run-{run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp = folder / f".{name}.tmp"
    body = {"run_id": run_id, "points": points, "params": params, "end": end}
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(body, f)
        f.flush()
        os.fsync(f.fileno())
    target = folder / f"{name}{SUFFIX}"
    os.replace(tmp, target)
    with contextlib.suppress(OSError):  # the rename itself survives a crash
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    return target


def pending(folder: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """The spool files in ``folder``, oldest first, with what each holds (a file that
    cannot be read is skipped, and left for a person to look at)."""
    if not folder.is_dir():
        return
    files = sorted(folder.glob(f"run-*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
    for path in files:
        try:
            body = json.loads(path.read_text())
            if not isinstance(body, dict) or not isinstance(body.get("run_id"), int):
                continue
        except (OSError, ValueError):
            continue
        yield path, body


def done(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
