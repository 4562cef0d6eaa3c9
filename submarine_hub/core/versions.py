"""Versioned files: every save kept, history, restore and recovery, sharing.

Files live in *spaces*: ``user:NAME`` (what a user saves in their own session) and
``team:NAME`` (a team's shared folder). A version is immutable; a restore or a
delete adds a version, history is never rewritten.
"""

from __future__ import annotations

import posixpath
import zlib
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Blob, FileVersion, Share, VersionedFile
from . import contentaddr
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .identity import Identity

MAX_MESSAGE = 1000


class MissingParts(Conflict):
    """A manifest names parts the store does not have: send them with the save."""

    def __init__(self, missing: set[str]) -> None:
        super().__init__(f"{len(missing)} part(s) of this version are not stored yet; send them.")
        self.missing = sorted(missing)


# --- spaces and access ----------------------------------------------------------------
def parse_space(space: Any) -> tuple[str, str]:
    if not isinstance(space, str) or ":" not in space:
        raise InvalidInput("'space' must be 'user:NAME' or 'team:NAME'.")
    kind, _, name = space.partition(":")
    if kind not in ("user", "team") or not name:
        raise InvalidInput("'space' must be 'user:NAME' or 'team:NAME'.")
    return kind, name


def normalize_path(path: Any) -> str:
    if not isinstance(path, str) or not path.strip("/"):
        raise InvalidInput("'path' must name a file, like 'analysis/report.ipynb'.")
    norm = posixpath.normpath("/" + path).lstrip("/")
    if norm != path.strip("/") or "\0" in path:
        raise InvalidInput(f"'path' {path!r} must be a plain relative path (no '..').")
    return norm


def owns(identity: Identity, space: str) -> bool:
    kind, name = parse_space(space)
    if kind == "user":
        return identity.name == name
    return identity.is_member(name)


async def access(session: AsyncSession, identity: Identity, space: str, path: str) -> str:
    """``"rw"``, ``"r"``, or raise: the space's owner and admins read and write; shares grant
    what they say."""
    if identity.admin or owns(identity, space):
        return "rw"
    grants = (
        await session.scalars(
            select(Share.mode).where(
                Share.space == space,
                Share.path == path,
                or_(
                    and_(Share.grantee_kind == "user", Share.grantee == identity.name),
                    and_(Share.grantee_kind == "team", Share.grantee.in_(sorted(identity.teams))),
                ),
            )
        )
    ).all()
    if "rw" in grants:
        return "rw"
    if grants:
        return "r"
    kind, name = parse_space(space)
    whose = f"team {name!r}" if kind == "team" else f"{name}'s"
    raise Forbidden(f"{path} is in {whose} space and is not shared with you.")


async def check_write(session: AsyncSession, identity: Identity, space: str, path: str) -> None:
    if await access(session, identity, space, path) != "rw":
        raise Forbidden(f"{path} is shared with you read-only.")


# --- blobs ----------------------------------------------------------------------------
async def missing_parts(session: AsyncSession, keys: set[str]) -> set[str]:
    if not keys:
        return set()
    have = set((await session.scalars(select(Blob.hash).where(Blob.hash.in_(keys)))).all())
    return keys - have


async def store_parts(session: AsyncSession, parts: dict[str, bytes]) -> None:
    """Store parts the database does not have yet (concurrent writers may race: fine)."""
    new = await missing_parts(session, set(parts))
    if not new:
        return
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    rows = [
        {
            "hash": k,
            "size": len(parts[k]),
            "data": zlib.compress(parts[k], 6),
            "created_at": datetime.now().astimezone(),
        }
        for k in sorted(new)
    ]
    await session.execute(insert(Blob).values(rows).on_conflict_do_nothing(index_elements=["hash"]))


async def load_parts(session: AsyncSession, manifest: dict[str, Any]) -> dict[str, bytes]:
    parts: dict[str, bytes] = {}
    wanted = contentaddr.referenced(manifest, parts)
    while wanted - set(parts):
        rows = (
            await session.execute(
                select(Blob.hash, Blob.data).where(Blob.hash.in_(wanted - set(parts)))
            )
        ).all()
        if not rows:
            raise NotFound("A part of this version is missing from the store.")
        parts.update({h: zlib.decompress(d) for h, d in rows})
        wanted = contentaddr.referenced(manifest, parts)
    return parts


# --- versions -------------------------------------------------------------------------
def _as_json(record: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(record).items()}


@dataclass(frozen=True)
class VersionInfo:
    space: str
    path: str
    number: int
    parent: int | None
    action: str
    author: str
    message: str
    size: int
    format: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return _as_json(self)


def _info(f: VersionedFile, v: FileVersion) -> VersionInfo:
    return VersionInfo(
        f.space,
        f.path,
        v.number,
        v.parent,
        v.action,
        v.author,
        v.message,
        v.size,
        f.format,
        v.created_at,
    )


async def _file(
    session: AsyncSession, space: str, path: str, *, lock: bool = False
) -> VersionedFile | None:
    query = select(VersionedFile).where(VersionedFile.space == space, VersionedFile.path == path)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def _create_file(session: AsyncSession, space: str, path: str, fmt: str) -> VersionedFile:
    """Create the file's row, or take the one a concurrent first save just made."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    now = datetime.now().astimezone()
    await session.execute(
        insert(VersionedFile)
        .values(
            space=space,
            path=path,
            format=fmt,
            latest=0,
            deleted=False,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["space", "path"])
    )
    f = await _file(session, space, path, lock=True)
    assert f is not None
    return f


async def _add_version(
    session: AsyncSession,
    f: VersionedFile,
    *,
    author: str,
    action: str,
    manifest: dict[str, Any] | None,
    size: int,
    message: str = "",
) -> VersionInfo:
    v = FileVersion(
        file_id=f.id,
        number=f.latest + 1,
        parent=f.latest or None,
        action=action,
        author=author,
        message=message,
        size=size,
        manifest=manifest,
    )
    f.latest = v.number
    f.deleted = manifest is None
    session.add(v)
    await session.flush()
    return _info(f, v)


async def save(
    session: AsyncSession,
    identity: Identity,
    space: str,
    path: str,
    *,
    manifest: dict[str, Any] | None = None,
    parts: dict[str, bytes] | None = None,
    content: Any = None,
    format: str | None = None,
    message: str = "",
    base_version: int | None = None,
    size: int | None = None,
    moved_from: str | None = None,
    restored_from: int | None = None,
) -> VersionInfo:
    """Record a version from ``content`` (split here) or a ``manifest`` with new ``parts``.

    ``base_version`` is the version the writer started from: when another version came
    since, the save is refused with 409 instead of silently overwriting it.
    ``moved_from``: the file was renamed from that path of the same space; a file new
    here takes that path's history first (the version rows, not the content, are copied),
    so the history follows a rename. The old path's own history stays (deleting it is
    a separate record). ``restored_from``: the content is that earlier version written
    back (a session's checkpoint restore): recorded as a ``restore``.
    """
    path = normalize_path(path)
    parse_space(space)
    await check_write(session, identity, space, path)
    if moved_from is not None:
        moved_from = normalize_path(moved_from)
        await access(session, identity, space, moved_from)
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        raise InvalidInput(f"'message' must be a string of at most {MAX_MESSAGE} characters.")
    if content is not None:
        manifest, parts = contentaddr.split(content, format or "")
    if manifest is None or manifest.get("format") not in contentaddr.FORMATS:
        raise InvalidInput("Give the file's 'content' and 'format'.")
    parts = parts or {}
    for key, data in parts.items():
        if contentaddr.digest(data) != key:
            raise InvalidInput(f"Part {key[:12]}… does not match its hash.")
    missing = await missing_parts(session, contentaddr.referenced(manifest, parts) - set(parts))
    if missing:
        raise MissingParts(missing)
    await store_parts(session, parts)
    if content is not None:
        size = contentaddr.size_of(content, manifest["format"])
    if not isinstance(size, int) or size < 0:
        raise InvalidInput("'size' must be the file's size in bytes.")

    f = await _file(session, space, path, lock=True)
    if f is None:
        if base_version:
            raise Conflict(f"{path} has no version {base_version}: it does not exist (any more).")
        f = await _create_file(session, space, path, manifest["format"])
    elif base_version is not None and base_version != f.latest:
        latest = await session.scalar(
            select(FileVersion).where(FileVersion.file_id == f.id, FileVersion.number == f.latest)
        )
        who = f" by {latest.author}" if latest else ""
        raise Conflict(
            f"{path} changed{who} since version {base_version} (now version {f.latest}); "
            "reload it, then save again."
        )
    if moved_from is not None and moved_from != path:
        if f.latest == 0:
            await _take_history(session, space, moved_from, f)
        message = message or f"Renamed from {moved_from}."
    if restored_from is not None:  # a session wrote an earlier version back
        message = message or f"restored version {restored_from}"
    f.format = manifest["format"]
    return await _add_version(
        session,
        f,
        author=identity.name,
        action="save" if restored_from is None else "restore",
        manifest=manifest,
        size=size,
        message=message,
    )


async def _take_history(session: AsyncSession, space: str, source: str, f: VersionedFile) -> None:
    """Give ``f`` (no versions yet) the history of ``source``: same numbers, authors,
    times and parts."""
    old = await _file(session, space, source)
    if old is None:
        return
    rows = await session.scalars(
        select(FileVersion).where(FileVersion.file_id == old.id).order_by(FileVersion.number)
    )
    for v in rows:
        session.add(
            FileVersion(
                file_id=f.id,
                number=v.number,
                parent=v.parent,
                action=v.action,
                author=v.author,
                message=v.message,
                size=v.size,
                manifest=v.manifest,
                created_at=v.created_at,
            )
        )
        f.latest = v.number
    await session.flush()


async def history(
    session: AsyncSession, identity: Identity, space: str, path: str
) -> list[VersionInfo]:
    path = normalize_path(path)
    await access(session, identity, space, path)
    f = await _file(session, space, path)
    if f is None:
        raise NotFound(f"{path} has no history in {space}.")
    rows = (
        await session.scalars(
            select(FileVersion)
            .where(FileVersion.file_id == f.id)
            .order_by(FileVersion.number.desc())
        )
    ).all()
    return [_info(f, v) for v in rows]


async def get(
    session: AsyncSession, identity: Identity, space: str, path: str, number: int | None = None
) -> tuple[VersionInfo, Any]:
    """A version and its content (the newest that has content, when ``number`` is None)."""
    path = normalize_path(path)
    await access(session, identity, space, path)
    f = await _file(session, space, path)
    if f is None:
        raise NotFound(f"{path} has no history in {space}.")
    query = select(FileVersion).where(FileVersion.file_id == f.id)
    if number is None:
        if f.deleted:
            raise NotFound(f"{path} was deleted; restore one of its versions to recover it.")
        query = query.where(FileVersion.number == f.latest)
    else:
        query = query.where(FileVersion.number == number)
    v = await session.scalar(query)
    if v is None:
        raise NotFound(f"{path} has no version {number}.")
    if v.manifest is None:
        raise InvalidInput(f"Version {v.number} of {path} is its deletion; it has no content.")
    return _info(f, v), contentaddr.join(v.manifest, await load_parts(session, v.manifest))


async def restore(
    session: AsyncSession, identity: Identity, space: str, path: str, number: int, message: str = ""
) -> VersionInfo:
    """Make ``number`` the newest version again, as a new version."""
    path = normalize_path(path)
    await check_write(session, identity, space, path)
    f = await _file(session, space, path, lock=True)
    if f is None:
        raise NotFound(f"{path} has no history in {space}.")
    v = await session.scalar(
        select(FileVersion).where(FileVersion.file_id == f.id, FileVersion.number == number)
    )
    if v is None:
        raise NotFound(f"{path} has no version {number}.")
    if v.manifest is None:
        raise InvalidInput(f"Version {number} of {path} is its deletion; choose another one.")
    return await _add_version(
        session,
        f,
        author=identity.name,
        action="restore",
        manifest=v.manifest,
        size=v.size,
        message=message or f"restored version {number}",
    )


async def delete(session: AsyncSession, identity: Identity, space: str, path: str) -> VersionInfo:
    path = normalize_path(path)
    await check_write(session, identity, space, path)
    f = await _file(session, space, path, lock=True)
    if f is None or f.deleted:
        raise NotFound(f"No file {path} in {space}.")
    return await _add_version(
        session, f, author=identity.name, action="delete", manifest=None, size=0
    )


@dataclass(frozen=True)
class FileInfo:
    space: str
    path: str
    format: str
    latest: int
    deleted: bool
    updated_at: datetime
    size: int
    author: str

    def to_json(self) -> dict[str, Any]:
        return _as_json(self)


async def list_files(
    session: AsyncSession,
    identity: Identity,
    space: str,
    prefix: str = "",
    *,
    deleted: bool = False,
) -> list[FileInfo]:
    """Files of a space under ``prefix`` (deleted ones with ``deleted``)."""
    parse_space(space)
    if not (identity.admin or owns(identity, space)):
        kind, name = parse_space(space)
        raise Forbidden(
            f"The space {space} is not yours."
            if kind == "user"
            else f"You are not a member of team {name!r}."
        )
    query = (
        select(VersionedFile, FileVersion)
        .join(
            FileVersion,
            and_(
                FileVersion.file_id == VersionedFile.id, FileVersion.number == VersionedFile.latest
            ),
        )
        .where(VersionedFile.space == space, VersionedFile.deleted == deleted)
        .order_by(VersionedFile.path)
    )
    if prefix:
        query = query.where(VersionedFile.path.startswith(prefix.strip("/") + "/", autoescape=True))
    rows = (await session.execute(query)).all()
    return [
        FileInfo(f.space, f.path, f.format, f.latest, f.deleted, v.created_at, v.size, v.author)
        for f, v in rows
    ]


# --- sharing --------------------------------------------------------------------------
async def share(
    session: AsyncSession,
    identity: Identity,
    space: str,
    path: str,
    data: Any,
    hub_groups: dict[str, list[str]],
    hub_users: set[str],
) -> Share:
    path = normalize_path(path)
    if not (identity.admin or owns(identity, space)):
        raise Forbidden("Only the space's owner (or team) shares its files.")
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    kind, grantee, mode = data.get("kind", "user"), data.get("with"), data.get("mode", "r")
    if kind not in ("user", "team"):
        raise InvalidInput("'kind' must be 'user' or 'team'.")
    if mode not in ("r", "rw"):
        raise InvalidInput("'mode' must be 'r' (read-only) or 'rw' (read-write).")
    if not isinstance(grantee, str) or not grantee:
        raise InvalidInput("'with' must name a user or a team.")
    if kind == "team" and grantee not in hub_groups:
        raise NotFound(f"No team named {grantee!r}.")
    if kind == "user" and grantee not in hub_users:
        raise NotFound(f"No hub user named {grantee!r}.")
    if await _file(session, space, path) is None:
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
                select(Share)
                .where(
                    or_(
                        and_(Share.grantee_kind == "user", Share.grantee == identity.name),
                        and_(
                            Share.grantee_kind == "team", Share.grantee.in_(sorted(identity.teams))
                        ),
                    )
                )
                .order_by(Share.space, Share.path)
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
