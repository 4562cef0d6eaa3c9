"""Versioned files: every save kept, history, restore and recovery, sharing.

Files live in *spaces*: ``user:NAME`` (what a user saves in their own session) and
``team:NAME`` (a team's shared folder). A version is immutable; a restore or a
delete adds a version, history is never rewritten.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Blob, BlobSpace, FileVersion, Share, VersionedFile
from . import contentaddr
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .identity import Identity
from .paths import safe_relpath

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
    """A path in a space: rooted at the space (one leading or trailing '/' is dropped:
    the contents API's spelling), otherwise checked by the one containment rule."""
    if not isinstance(path, str) or not path.strip("/"):
        raise InvalidInput("'path' must name a file, like 'analysis/report.ipynb'.")
    return safe_relpath(path.removeprefix("/").removesuffix("/"))


def owns(identity: Identity, space: str) -> bool:
    kind, name = parse_space(space)
    if kind == "user":
        return identity.is_user(name)  # never a run's token: its run's team only
    return identity.is_member(name)


def granted_to(identity: Identity) -> Any:
    """A SQL condition on :class:`~..store.models.Share` rows: the shares that reach
    ``identity``, made to its teams, and to the person by name (not for a run's token,
    which reaches its run's team only). For ``select(Share).where(...)``."""
    to_teams = and_(Share.grantee_kind == "team", Share.grantee.in_(sorted(identity.teams)))
    if identity.confined:
        return to_teams
    return or_(and_(Share.grantee_kind == "user", Share.grantee == identity.name), to_teams)


async def access(session: AsyncSession, identity: Identity, space: str, path: str) -> str:
    """``"rw"``, ``"r"``, or raise: the space's owner and admins read and write; shares grant
    what they say."""
    if identity.admin or owns(identity, space):
        return "rw"
    grants = (
        await session.scalars(
            select(Share.mode).where(Share.space == space, Share.path == path, granted_to(identity))
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
# Parts are stored once (``blobs``, by hash), but a save may leave out only parts that a
# save into the same space sent (``blob_spaces``): whether a part exists elsewhere is
# never revealed, and a manifest naming another space's part is answered exactly as one
# naming a part nobody stored.
async def missing_parts(session: AsyncSession, keys: set[str], space: str | None) -> set[str]:
    """The parts of ``keys`` a save into ``space`` must send; ``space`` None (a writer
    who does not own the space): all of them."""
    if not keys or space is None:
        return set(keys)
    have = await session.scalars(
        select(BlobSpace.hash).where(BlobSpace.space == space, BlobSpace.hash.in_(keys))
    )
    return keys - set(have.all())


async def store_parts(session: AsyncSession, space: str, parts: dict[str, bytes]) -> None:
    """Store parts the database does not have yet, and let ``space`` name them from now
    on (concurrent writers may race: fine)."""
    if not parts:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    have = set((await session.scalars(select(Blob.hash).where(Blob.hash.in_(set(parts))))).all())
    now = datetime.now().astimezone()
    rows = [
        {"hash": k, "size": len(parts[k]), "data": zlib.compress(parts[k], 6), "created_at": now}
        for k in sorted(set(parts) - have)
    ]
    if rows:
        await session.execute(
            insert(Blob).values(rows).on_conflict_do_nothing(index_elements=["hash"])
        )
    await session.execute(
        insert(BlobSpace)
        .values([{"space": space, "hash": k} for k in sorted(parts)])
        .on_conflict_do_nothing(index_elements=["space", "hash"])
    )


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
    #: everyone whose edits it holds (a team room's version may have several)
    authors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out = _as_json(self)
        out["authors"] = list(self.authors or (self.author,))
        return out


def _format_of(manifest: Any) -> str | None:
    """The format of one version (a file may change format between versions)."""
    fmt = manifest.get("format") if isinstance(manifest, dict) else None
    return fmt if fmt in contentaddr.FORMATS else None


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
        _format_of(v.manifest) or f.format,
        v.created_at,
        tuple(v.authors or ()),
    )


async def file_row(
    session: AsyncSession, space: str, path: str, *, lock: bool = False
) -> VersionedFile | None:
    """The versioned file ``path`` of ``space`` (deleted or not), None when it never had a
    version; with ``lock``, its row is locked for the rest of the transaction (``SELECT
    ... FOR UPDATE``: saves of one file wait for each other). No access check: the
    caller checks ``identity`` first (:func:`access`, :func:`check_write`)."""
    query = select(VersionedFile).where(VersionedFile.space == space, VersionedFile.path == path)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def _create_file(session: AsyncSession, space: str, path: str, fmt: str) -> VersionedFile:
    """Create the file's row, or take the one a concurrent first save just made."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
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
    f = await file_row(session, space, path, lock=True)
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
    idempotency_key: str | None = None,
    authors: list[str] | None = None,
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
        idempotency_key=idempotency_key,
        authors=authors if authors and authors != [author] else None,
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
    idempotency_key: str | None = None,
    authors: list[str] | None = None,
) -> VersionInfo:
    """Record a version from ``content`` (split here) or a ``manifest`` with new ``parts``.

    ``base_version`` is the version the writer started from: when another version came
    since, the save is refused with 409 instead of silently overwriting it.
    ``moved_from``: the file was renamed from that path of the same space; a file new
    here takes that path's history first (the version rows, not the content, are copied),
    so the history follows a rename. The old path's own history stays (deleting it is
    a separate record). ``restored_from``: the content is that earlier version written
    back (a session's checkpoint restore): recorded as a ``restore``.
    ``idempotency_key``: the writer's id for this save, unique per file. A save repeating
    a key the file already has records nothing and returns the version that key made
    (whatever came since), so a writer replays or retries a save without looking for it
    in history first. ``authors``: everyone whose edits the content holds, as a team's
    room vouches (:func:`.rooms.vouched_authors`); the first is the version's author.
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
    if manifest is None:
        raise InvalidInput("Give the file's 'content' and 'format'.")
    contentaddr.check_manifest(manifest)
    parts = parts or {}
    for key, data in parts.items():
        if contentaddr.digest(data) != key:
            raise InvalidInput(f"Part {key[:12]}… does not match its hash.")
    contentaddr.check_parts(manifest, parts)
    needed = contentaddr.referenced(manifest, parts) - set(parts)
    missing = await missing_parts(session, needed, space if owns(identity, space) else None)
    if missing:
        raise MissingParts(missing)
    await store_parts(session, space, parts)
    if content is not None:
        size = contentaddr.size_of(content, manifest["format"])
    if not isinstance(size, int) or size < 0:
        raise InvalidInput("'size' must be the file's size in bytes.")

    check_idempotency_key(idempotency_key)
    f = await file_row(session, space, path, lock=True)
    if f is not None and idempotency_key is not None:
        done = await session.scalar(
            select(FileVersion).where(
                FileVersion.file_id == f.id, FileVersion.idempotency_key == idempotency_key
            )
        )
        if done is not None:
            return _info(f, done)
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
        author=authors[0] if authors else identity.name,
        action="save" if restored_from is None else "restore",
        manifest=manifest,
        size=size,
        message=message,
        idempotency_key=idempotency_key,
        authors=authors,
    )


def check_idempotency_key(key: Any) -> None:
    if key is not None and not (
        isinstance(key, str) and re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", key)
    ):
        raise InvalidInput(
            "The idempotency key must be 1 to 64 letters, digits or '._:-' (a UUID, say)."
        )


async def _take_history(session: AsyncSession, space: str, source: str, f: VersionedFile) -> None:
    """Give ``f`` (no versions yet) the history of the file at ``source``: same numbers,
    authors, times and parts (not those of files deleted there before it)."""
    old = await file_row(session, space, source)
    if old is None:
        return
    rows = await session.scalars(
        select(FileVersion).where(FileVersion.file_id == old.id).order_by(FileVersion.number.desc())
    )
    for v in reversed(current_life(list(rows))):
        session.add(
            FileVersion(
                file_id=f.id,
                number=v.number,
                parent=v.parent,
                action=v.action,
                author=v.author,
                authors=v.authors,
                message=v.message,
                size=v.size,
                manifest=v.manifest,
                created_at=v.created_at,
            )
        )
        f.latest = v.number
    await session.flush()


def current_life(rows: list[FileVersion]) -> list[FileVersion]:
    """The versions of the file that lives at a path now, from ``rows`` (newest first).

    A path can hold several files over time: one is deleted (its last version is the
    deletion), later another is *saved* there (a restore after a deletion recovers the
    same file instead). The file there now owns the versions after the last deletion
    that a save followed; while the path is deleted, the deleted file owns its versions.
    """
    for i in range(1, len(rows)):
        if rows[i].action == "delete" and rows[i - 1].action == "save":
            return rows[:i]
    return rows


async def history(
    session: AsyncSession,
    identity: Identity,
    space: str,
    path: str,
    *,
    earlier_files: bool = False,
) -> list[VersionInfo]:
    """The versions of the file at ``path``, newest first. A file created where another
    was deleted starts its own history; ``earlier_files`` adds those deleted files'
    versions (still restorable by number)."""
    path = normalize_path(path)
    await access(session, identity, space, path)
    f = await file_row(session, space, path)
    if f is None:
        raise NotFound(f"{path} has no history in {space}.")
    rows = (
        await session.scalars(
            select(FileVersion)
            .where(FileVersion.file_id == f.id)
            .order_by(FileVersion.number.desc())
        )
    ).all()
    if not earlier_files:
        rows = current_life(list(rows))
    return [_info(f, v) for v in rows]


async def get(
    session: AsyncSession, identity: Identity, space: str, path: str, number: int | None = None
) -> tuple[VersionInfo, Any]:
    """A version and its content (the newest that has content, when ``number`` is None)."""
    path = normalize_path(path)
    await access(session, identity, space, path)
    f = await file_row(session, space, path)
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
    try:
        manifest = contentaddr.check_manifest(v.manifest)
        content = contentaddr.join(manifest, await load_parts(session, manifest))
    except InvalidInput as e:  # stored before manifests and parts were checked
        raise InvalidInput(
            f"Version {v.number} of {path} cannot be read ({e.message}); "
            "open or restore another version."
        ) from None
    return _info(f, v), content


async def restore(
    session: AsyncSession, identity: Identity, space: str, path: str, number: int, message: str = ""
) -> VersionInfo:
    """Make ``number`` the newest version again, as a new version."""
    path = normalize_path(path)
    await check_write(session, identity, space, path)
    f = await file_row(session, space, path, lock=True)
    if f is None:
        raise NotFound(f"{path} has no history in {space}.")
    v = await session.scalar(
        select(FileVersion).where(FileVersion.file_id == f.id, FileVersion.number == number)
    )
    if v is None:
        raise NotFound(f"{path} has no version {number}.")
    if v.manifest is None:
        raise InvalidInput(f"Version {number} of {path} is its deletion; choose another one.")
    f.format = _format_of(v.manifest) or f.format
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
    f = await file_row(session, space, path, lock=True)
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
