"""Runs on an experiment backend, without the service: launch plans and waiting."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from submarine_hub.core.experiments.backend import LaunchPlan, ReplicaPlan, RunState
from submarine_hub.core.resources import Resources


def plan(run_id: int, argv: list[str], **kw: Any) -> LaunchPlan:
    """A one-replica run of ``argv`` (``resources={...}``, other LaunchPlan fields as kw)."""
    replica = ReplicaPlan("main", 0, 0, argv, Resources(**kw.pop("resources", {})))
    return LaunchPlan(run_id, "t", "team", "alice", "none", {"main": 1}, [replica], {}, **kw)


async def wait_final(backend: Any, run_id: int, timeout: float = 60) -> RunState:
    """The run's state once ``backend`` says it has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = await backend.state(run_id)
        if state and state.final:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} did not end")
