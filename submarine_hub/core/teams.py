"""Teams: JupyterHub groups plus the platform settings kept in the metastore."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Team
from . import scopes
from .errors import Forbidden, InvalidInput, NotFound
from .identity import Identity
from .quotas import Quota, Usage, effective_quota, parse_quota_changes
from .sessions import lock_team, usage_of

MAX_DESCRIPTION = 2000


@dataclass(frozen=True)
class TeamView:
    name: str
    description: str
    members: tuple[str, ...]
    updated_at: datetime | None
    quota: Quota | None = None
    usage: Usage | None = None
    overrides: dict[str, Any] | None = None  # what admins set; the rest is the default

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "members": list(self.members),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }
        if self.quota is not None:
            out["quota"] = self.quota.to_json()
        if self.usage is not None:
            out["usage"] = self.usage.to_json()
        if self.overrides is not None:
            out["quota_overrides"] = dict(self.overrides)
        return out


def check_can_read(identity: Identity, team: str, hub_groups: dict[str, list[str]]) -> None:
    """Raise unless ``identity`` may see ``team``; ``hub_groups`` maps group name to members."""
    if team not in hub_groups:
        raise NotFound(f"No team named {team!r}.")
    scopes.check_member(identity, team)


async def list_teams(
    session: AsyncSession,
    identity: Identity,
    hub_groups: dict[str, list[str]],
    *,
    member_only: bool = False,
) -> list[TeamView]:
    """The teams ``identity`` may see: all of them for admins, their own otherwise.

    ``member_only`` lists just the teams ``identity`` belongs to, admin or not.
    """
    see_all = identity.admin and not member_only
    names = sorted(n for n in hub_groups if see_all or identity.is_member(n))
    rows = {
        t.name: t for t in (await session.scalars(select(Team).where(Team.name.in_(names)))).all()
    }
    return [_view(n, rows.get(n), hub_groups[n]) for n in names]


async def get_team(
    session: AsyncSession,
    identity: Identity,
    name: str,
    hub_groups: dict[str, list[str]],
    quota_defaults: dict[str, Any] | None = None,
) -> TeamView:
    """One team, with its effective quota and current usage."""
    check_can_read(identity, name, hub_groups)
    row = await session.get(Team, name)
    return _view(
        name,
        row,
        hub_groups[name],
        quota=effective_quota(quota_defaults or {}, row.quota if row else None),
        usage=await usage_of(session, name),
        overrides=dict(row.quota or {}) if row else {},
    )


async def update_team(
    session: AsyncSession,
    identity: Identity,
    name: str,
    changes: dict[str, Any],
    hub_groups: dict[str, list[str]],
    quota_defaults: dict[str, Any] | None = None,
) -> TeamView:
    """Admins change a team's platform settings."""
    check_can_read(identity, name, hub_groups)
    if not identity.admin:
        raise Forbidden("Only hub admins can change team settings.")
    unknown = set(changes) - {"description", "quota"}
    if unknown:
        raise InvalidInput(f"Unknown team field(s): {', '.join(sorted(unknown))}.")
    if not changes:
        raise InvalidInput("Nothing to change: give 'description' and/or 'quota'.")
    description = changes.get("description")
    if description is not None:
        if not isinstance(description, str):
            raise InvalidInput("'description' must be a string.")
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInput(f"'description' is longer than {MAX_DESCRIPTION} characters.")
    quota = parse_quota_changes(changes["quota"]) if "quota" in changes else None
    row = await lock_team(session, name)
    if description is not None:
        row.description = description
    if quota is not None:
        merged = {**(row.quota or {}), **quota}
        row.quota = {k: v for k, v in merged.items() if v is not None}
    await session.flush()
    return await get_team(session, identity, name, hub_groups, quota_defaults)


def _view(
    name: str,
    row: Team | None,
    members: list[str],
    quota: Quota | None = None,
    usage: Usage | None = None,
    overrides: dict[str, Any] | None = None,
) -> TeamView:
    return TeamView(
        name=name,
        description=row.description if row else "",
        members=tuple(sorted(members)),
        updated_at=row.updated_at if row else None,
        quota=quota,
        usage=usage,
        overrides=overrides,
    )
