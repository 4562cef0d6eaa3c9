"""Where an environment build stands (:class:`BuildStatus`), as the builder writes it to
``root/<hash>.json`` for any process to read, and the error a failed build raises.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ProgressCallback = Callable[["BuildStatus"], None]


class BuildState(str, enum.Enum):
    """Where a build stands."""

    pending = "pending"
    building = "building"
    ready = "ready"
    failed = "failed"


@dataclass
class BuildStatus:
    """The state of one environment build, as written to ``root/<hash>.json``."""

    state: BuildState
    spec_hash: str
    prefix: str
    kernel_name: str
    python: str
    started_at: float | None = None  # seconds since the epoch
    finished_at: float | None = None
    error: str | None = None
    log_path: str = ""
    progress: float = 0.0
    step: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "spec_hash": self.spec_hash,
            "prefix": self.prefix,
            "kernel_name": self.kernel_name,
            "python": self.python,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error,
            "log_path": self.log_path,
            "progress": self.progress,
            "step": self.step,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BuildStatus:
        return cls(
            state=BuildState(data["state"]),
            spec_hash=data["spec_hash"],
            prefix=data["prefix"],
            kernel_name=data["kernel_name"],
            python=data["python"],
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
            error=data.get("error"),
            log_path=data.get("log_path") or "",
            progress=float(data.get("progress") or 0.0),
            step=data.get("step") or "",
        )


class EnvironmentBuildError(RuntimeError):
    """A build failed; ``log_tail`` holds the last lines of its log."""

    def __init__(self, message: str, log_tail: str = "", status: BuildStatus | None = None):
        super().__init__(message)
        self.message = message
        self.log_tail = log_tail
        self.status = status
