"""Team rooms' access kept true to team membership (docs/collaboration.md).

A room is shared with its team's group, and with each member by name: JupyterHub grants
a token (the OAuth token a member's browser reaches the room with) only the shares made
to its user. :class:`RoomShareReconciler` shares each room with who joined its team and
revokes who left, at start and every ``interval`` seconds, so membership changes apply
without a restart; the room itself re-asks the hub about its visitors every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ..core import rooms
from ..core.errors import Unavailable
from ..store import Database

log = logging.getLogger("submarine_hub.service")


class RoomShareReconciler:
    """Share every room with its team's members and revoke who left. ``hub`` answers
    ``sync_room(account, team)`` (:class:`~.hub.HubClient`)."""

    def __init__(self, db: Database, hub: Any, *, interval: float) -> None:
        self.db = db
        self.hub = hub
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def reconcile(self) -> dict[str, tuple[list[str], list[str]]]:
        """One pass: ``{account: (granted, revoked)}`` of the rooms that changed."""
        async with self.db.session() as s:
            found = await rooms.all_rooms(s)
        changed = {}
        for account, team in found:
            granted, revoked = await self.hub.sync_room(account, team)
            if granted or revoked:
                changed[account] = (granted, revoked)
                log.info(
                    "team room shares updated",
                    extra={"room": account, "team": team, "granted": granted, "revoked": revoked},
                )
        return changed

    async def _loop(self) -> None:
        while True:
            try:
                await self.reconcile()
            except asyncio.CancelledError:
                raise
            except Unavailable as e:
                log.warning("cannot update team rooms' shares now: %s", e.message)
            except Exception:
                log.exception("updating team rooms' shares failed; trying again later")
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self.interval > 0 and self._task is None and hasattr(self.hub, "sync_room"):
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
