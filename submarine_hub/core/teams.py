"""Teams: JupyterHub groups plus the platform settings kept in the metastore."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Team
from .errors import Forbidden, InvalidInput, NotFound
from .identity import Identity

MAX_DESCRIPTION = 2000


@dataclass(frozen=True)
class TeamView:
    name: str
    description: str
    members: tuple[str, ...]
    updated_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "members": list(self.members),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def check_can_read(identity: Identity, team: str, hub_groups: dict[str, list[str]]) -> None:
    """Raise unless ``identity`` may see ``team``; ``hub_groups`` maps group name to members."""
    if team not in hub_groups:
        raise NotFound(f"No team named {team!r}.")
    if not (identity.admin or identity.is_member(team)):
        raise Forbidden(f"You are not a member of team {team!r}.")


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
    session: AsyncSession, identity: Identity, name: str, hub_groups: dict[str, list[str]]
) -> TeamView:
    check_can_read(identity, name, hub_groups)
    return _view(name, await session.get(Team, name), hub_groups[name])


async def update_team(
    session: AsyncSession,
    identity: Identity,
    name: str,
    changes: dict[str, Any],
    hub_groups: dict[str, list[str]],
) -> TeamView:
    """Admins change a team's platform settings."""
    check_can_read(identity, name, hub_groups)
    if not identity.admin:
        raise Forbidden("Only hub admins can change team settings.")
    unknown = set(changes) - {"description"}
    if unknown:
        raise InvalidInput(f"Unknown team field(s): {', '.join(sorted(unknown))}.")
    description = changes.get("description")
    if not isinstance(description, str):
        raise InvalidInput("'description' must be a string.")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"'description' is longer than {MAX_DESCRIPTION} characters.")
    row = await session.get(Team, name)
    if row is None:
        row = Team(name=name, description=description)
        session.add(row)
    else:
        row.description = description
    await session.flush()
    return _view(name, row, hub_groups[name])


def _view(name: str, row: Team | None, members: list[str]) -> TeamView:
    return TeamView(
        name=name,
        description=row.description if row else "",
        members=tuple(sorted(members)),
        updated_at=row.updated_at if row else None,
    )
