"""Work the service repeats in the background every few seconds.

``Periodic`` owns the task, its start and stop, and what happens when one pass fails:
the platform's ``Unavailable`` (the hub or the database is down for a moment) is a
warning, anything else is logged with its traceback, and the next pass comes anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ..core.errors import Unavailable

log = logging.getLogger(__name__)


class Periodic:
    """Run :meth:`run_once` every ``interval`` seconds once :meth:`start` is called.

    ``interval <= 0`` never starts it (tests then call ``run_once`` themselves).
    ``what`` names the work in log lines ("cannot <what> now", "<what> failed").
    """

    what = "do background work"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> object:
        raise NotImplementedError

    def can_start(self) -> bool:
        """Whether this deployment has the work at all (default: yes)."""
        return True

    def start(self) -> None:
        if self.interval > 0 and self._task is None and self.can_start():
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Unavailable as e:
                log.warning("cannot %s now: %s", self.what, e.message)
            except Exception:
                log.exception("failed to %s; trying again later", self.what)
            await asyncio.sleep(self.interval)
