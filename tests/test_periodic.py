"""Background work the service repeats (service/periodic.py): a failed pass is logged and
the next one comes anyway; an interval of 0 never starts; stop ends the task."""

from __future__ import annotations

import asyncio
import logging

import pytest

from submarine_hub.core.errors import Unavailable
from submarine_hub.service.periodic import Periodic


class Flaky(Periodic):
    what = "count passes"

    def __init__(self, interval: float, failures: list[Exception]) -> None:
        super().__init__(interval)
        self.failures = failures
        self.passes = 0

    async def run_once(self) -> int:
        self.passes += 1
        if self.failures:
            raise self.failures.pop(0)
        return self.passes


async def test_a_failed_pass_is_logged_and_the_next_pass_comes_anyway(
    caplog: pytest.LogCaptureFixture,
) -> None:
    work = Flaky(0.01, [Unavailable("the hub is restarting"), RuntimeError("boom")])
    with caplog.at_level(logging.WARNING, logger="submarine_hub.service.periodic"):
        work.start()
        for _ in range(200):
            if work.passes >= 3:
                break
            await asyncio.sleep(0.01)
        await work.stop()
    assert work.passes >= 3
    messages = [r.getMessage() for r in caplog.records]
    assert "cannot count passes now: the hub is restarting" in messages
    assert "failed to count passes; trying again later" in messages


async def test_an_interval_of_zero_never_starts_and_stop_is_then_harmless() -> None:
    work = Flaky(0, [])
    work.start()
    await asyncio.sleep(0.02)
    await work.stop()
    assert work.passes == 0


async def test_stop_ends_the_task_and_a_second_start_begins_again() -> None:
    work = Flaky(0.01, [])
    work.start()
    work.start()  # already running: no second task
    await asyncio.sleep(0.05)
    await work.stop()
    after_stop = work.passes
    await asyncio.sleep(0.05)
    assert work.passes == after_stop > 0
    work.start()
    await asyncio.sleep(0.05)
    await work.stop()
    assert work.passes > after_stop
