"""Team rooms: a team's collaboration session, where members edit notebooks together.

A room is a JupyterHub server owned by the team's *collaboration account* (a hub user
the service makes, named ``<prefix><team>``, a member of the team's group), never by a
person: code in it runs as the team. Members reach it through a JupyterHub share of
that server with the team's group, so joining or leaving the team gives or takes away
access at once, without a restart. This module holds the metastore's side: which
account is which team's room (the service made it, so only it may speak for several
authors), and the rule on a version's authors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import TeamRoom
from . import scopes
from .errors import Forbidden, InvalidInput, NotFound
from .identity import Identity

#: hub user names of collaboration accounts: this prefix and the team's name
ACCOUNT_PREFIX = "collab-"
#: at most this many authors on one version
MAX_AUTHORS = 100
#: the room's states, as the hub reports its server
STATES = ("stopped", "starting", "ready", "stopping")


def account_name(team: str, prefix: str = ACCOUNT_PREFIX) -> str:
    return f"{prefix}{team}"


@dataclass(frozen=True)
class RoomView:
    team: str
    account: str
    state: str  # one of STATES
    url: str  # the room's JupyterLab on the team's folder, from the hub's base URL
    created_by: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "account": self.account,
            "state": self.state,
            "url": self.url,
            "created_by": self.created_by,
            "runs_as": "team",
        }


def room_url(base_url: str, account: str, team: str) -> str:
    return f"{base_url.rstrip('/')}/user/{account}/lab/tree/teams/{team}"


def check_team(identity: Identity, team: str, hub_groups: dict[str, list[str]]) -> None:
    """A room is opened and looked at by the team's members (and admins) only."""
    if team not in hub_groups:
        raise NotFound(f"No team named {team!r}.")
    scopes.check_member(identity, team)


async def get(session: AsyncSession, team: str) -> TeamRoom | None:
    return await session.get(TeamRoom, team)


async def ensure(
    session: AsyncSession,
    identity: Identity,
    team: str,
    hub_groups: dict[str, list[str]],
    hub_users: list[str],
    prefix: str = ACCOUNT_PREFIX,
) -> TeamRoom:
    """The team's room record, made on first use. The account must not be a person's:
    a hub user of that name the service did not make is refused."""
    check_team(identity, team, hub_groups)
    row = await get(session, team)
    if row is not None:
        return row
    account = account_name(team, prefix)
    if account in hub_users:
        raise Forbidden(
            f"A hub user named {account!r} exists and is not this team's collaboration "
            "account; an admin must rename it before the team can have a room."
        )
    row = TeamRoom(team=team, account=account, created_by=identity.name)
    session.add(row)
    await session.flush()
    return row


async def all_rooms(session: AsyncSession) -> list[tuple[str, str]]:
    """``(account, team)`` of every room."""
    rows = await session.execute(select(TeamRoom.account, TeamRoom.team))
    return [(a, t) for a, t in rows.all()]


async def of_account(session: AsyncSession, name: str) -> TeamRoom | None:
    """The room whose collaboration account is ``name``, if it is one."""
    return await session.scalar(select(TeamRoom).where(TeamRoom.account == name))


def parse_authors(authors: Any) -> list[str]:
    if (
        not isinstance(authors, list)
        or not 0 < len(authors) <= MAX_AUTHORS
        or not all(isinstance(a, str) and 0 < len(a) <= 255 for a in authors)
        or len(set(authors)) != len(authors)
    ):
        raise InvalidInput(
            f"'authors' must list 1 to {MAX_AUTHORS} distinct hub user names, without repeats."
        )
    return authors


async def vouched_authors(
    session: AsyncSession, identity: Identity, space: str, authors: Any
) -> list[str] | None:
    """The authors a save names, when its caller may name them: only a team's room, in
    its team's space (each member's edits are in its saves). None when none are named."""
    if authors is None:
        return None
    names = parse_authors(authors)
    kind, _, team = space.partition(":") if isinstance(space, str) else ("", "", "")
    room = None if identity.confined else await of_account(session, identity.name)
    if kind != "team" or room is None or room.team != team:
        raise Forbidden("Only a team's room records a version with several authors.")
    return names
