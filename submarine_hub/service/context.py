"""What every handler reaches through ``self.core``: the metastore and the hub's view of users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.identity import Identity
from ..store import Database
from .hub import HubClient


@dataclass
class ServiceContext:
    db: Database
    hub: HubClient
    openapi: dict[str, Any]

    async def identity_for(self, model: dict[str, Any]) -> Identity:
        """Enrich the hub's model of the caller with its current groups and admin flag."""
        if model.get("kind", "user") != "user":
            return Identity.from_hub_model(model, teams=frozenset(), admin=False)
        user = await self.hub.user(model["name"]) or {}
        return Identity.from_hub_model(
            model,
            teams=frozenset(user.get("groups") or ()),
            admin=bool(user.get("admin", model.get("admin", False))),
        )

    async def hub_groups(self) -> dict[str, list[str]]:
        return await self.hub.groups()
