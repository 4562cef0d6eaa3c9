"""Team rooms' access kept true to team membership (docs/collaboration.md).

A room is shared with its team's group, and with each member by name: JupyterHub grants
a token (the OAuth token a member's browser reaches the room with) only the shares made
to its user. :class:`RoomShareReconciler` shares each room with who joined its team and
revokes who left, at start and every ``interval`` seconds, so membership changes apply
without a restart; the room itself re-asks the hub about its visitors every few seconds.
"""

from __future__ import annotations

import logging
from typing import Any

from ..core import rooms
from ..store import Database
from .periodic import Periodic

log = logging.getLogger("submarine_hub.service")


class RoomShareReconciler(Periodic):
    """Share every room with its team's members and revoke who left. ``hub`` answers
    ``sync_room(account, team)`` (:class:`~.hub.HubClient`)."""

    def __init__(self, db: Database, hub: Any, *, interval: float) -> None:
        self.db = db
        self.hub = hub
        super().__init__(interval)

    what = "update team rooms' shares"

    def can_start(self) -> bool:
        return hasattr(self.hub, "sync_room")  # a hub client that can share servers

    async def run_once(self) -> object:
        return await self.reconcile()

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
