"""Sharing a versioned file: its space's owner (a user, or a team's members) grants a
user or another team read (``r``) or read-write (``rw``) access to one path; who may see
and change the grants. Access itself is decided in :func:`.versions.access`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Share
from .errors import Forbidden, NotFound
from .identity import Identity
from .versions import access, file_row, granted_to, normalize_path, owns


async def share(
    session: AsyncSession,
    identity: Identity,
    space: str,
    path: str,
    data: dict[str, Any],
    hub_groups: dict[str, list[str]],
    hub_users: set[str],
) -> Share:
    """Share a file; ``data`` holds what the OpenAPI document's share body states (``with``
    a name, ``kind`` user or team, ``mode`` r or rw: the service checks it first)."""
    path = normalize_path(path)
    if not (identity.admin or owns(identity, space)):
        raise Forbidden("Only the space's owner (or team) shares its files.")
    kind, grantee, mode = data.get("kind", "user"), data["with"], data.get("mode", "r")
    if kind == "team" and grantee not in hub_groups:
        raise NotFound(f"No team named {grantee!r}.")
    if kind == "user" and grantee not in hub_users:
        raise NotFound(f"No hub user named {grantee!r}.")
    if await file_row(session, space, path) is None:
        raise NotFound(f"No file {path} in {space}.")
    row = await _share_row(session, space, path, kind, grantee)
    if row is None:
        row = Share(
            space=space,
            path=path,
            grantee_kind=kind,
            grantee=grantee,
            mode=mode,
            created_by=identity.name,
        )
        session.add(row)
    else:
        row.mode = mode
    await session.flush()
    return row


async def _share_row(
    session: AsyncSession, space: str, path: str, kind: str, grantee: str
) -> Share | None:
    return await session.scalar(
        select(Share).where(
            Share.space == space,
            Share.path == path,
            Share.grantee_kind == kind,
            Share.grantee == grantee,
        )
    )


async def shares_of(
    session: AsyncSession, identity: Identity, space: str, path: str
) -> list[Share]:
    path = normalize_path(path)
    await access(session, identity, space, path)
    return list(
        (
            await session.scalars(
                select(Share).where(Share.space == space, Share.path == path).order_by(Share.id)
            )
        ).all()
    )


async def unshare(
    session: AsyncSession, identity: Identity, space: str, path: str, kind: str, grantee: str
) -> None:
    path = normalize_path(path)
    if not (identity.admin or owns(identity, space)):
        raise Forbidden("Only the space's owner (or team) changes its shares.")
    row = await _share_row(session, space, path, kind, grantee)
    if row is None:
        raise NotFound(f"{path} is not shared with {kind} {grantee!r}.")
    await session.delete(row)


async def shared_with(session: AsyncSession, identity: Identity) -> list[Share]:
    return list(
        (
            await session.scalars(
                select(Share).where(granted_to(identity)).order_by(Share.space, Share.path)
            )
        ).all()
    )


def share_json(s: Share) -> dict[str, Any]:
    return {
        "space": s.space,
        "path": s.path,
        "kind": s.grantee_kind,
        "with": s.grantee,
        "mode": s.mode,
        "created_by": s.created_by,
        "created_at": s.created_at.isoformat(),
    }
