"""Which space keeps a file of a session's file tree: the one rule.

A session shows three kinds of folder (*areas*), and each path of its tree is kept in
one platform space:

- ``teams/<team>/<path>`` is ``<path>`` in the space ``team:<team>`` (the team folder);
- ``shared/users/<owner>/<path>`` and ``shared/teams/<team>/<path>`` are ``<path>`` in
  ``user:<owner>`` and ``team:<team>``: files others shared with you;
- anything else is the path itself in your own space, ``user:<you>`` (personal).

A folder of an area without a file below it (``teams/<team>``, ``shared/users/<owner>``)
is no file of that area: it falls to the personal rule like any other path.

The contents manager, the notebook jobs of the service, the SDK and the CLI use
:func:`space_of`; the lab extension's ``src/spaces.ts`` is the same rule in TypeScript,
and both are held to ``tests/fixtures/spaces.json``. Nothing here checks a path's
safety: that is :func:`~submarine_hub.core.paths.safe_relpath`'s job, after this.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

#: the top folder of the team folders
TEAMS = "teams"
#: the top folder of the files shared with you
SHARED = "shared"
#: ``shared/<folder>/``: the space kind each folder holds
SHARED_KINDS: dict[str, str] = {"users": "user", "teams": "team"}

Area = Literal["personal", "team", "shared"]


class Location(NamedTuple):
    """A file as the platform names it: its space and its path in that space."""

    space: str
    path: str


def _split(path: str) -> tuple[Area, str, list[str]]:
    """The area of ``path``, the space its top folder stands for (``user:`` with no name
    for the personal area) and the parts of the path below that folder."""
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == TEAMS and parts[1]:
        return "team", f"team:{parts[1]}", parts[2:]
    if len(parts) >= 3 and parts[0] == SHARED and parts[1] in SHARED_KINDS and parts[2]:
        return "shared", f"{SHARED_KINDS[parts[1]]}:{parts[2]}", parts[3:]
    return "personal", "user:", parts


def space_of(path: str, user: str) -> Location:
    """``(space, path in it)`` of the file ``path`` of ``user``'s session tree (leading
    and trailing ``/`` ignored)."""
    area, space, rest = _split(path)
    if area == "personal" or not rest:  # an area's top folder is no file of it
        return Location(f"user:{user}", path.strip("/"))
    return Location(space, "/".join(rest))


def folder_of(path: str, user: str) -> Location:
    """Like :func:`space_of` for a folder: an area's top folder (``teams/<team>``,
    ``shared/users/<owner>``) is the root (``""``) of its space."""
    area, space, rest = _split(path)
    if area == "personal":
        return Location(f"user:{user}", path.strip("/"))
    return Location(space, "/".join(rest))


def area_of(path: str) -> Area:
    """The area the file ``path`` of a session's tree is in (see the module's rule)."""
    area, _, rest = _split(path)
    return area if rest else "personal"


def team_of(path: str) -> str | None:
    """The team whose space keeps ``path`` (a team folder's, or a file a team shared),
    or None."""
    space = space_of(path, "").space
    kind, _, name = space.partition(":")
    return name if kind == "team" else None


def shared_path(space: str, path: str) -> str:
    """Where a session shows ``path`` of ``space`` when it is shared with its user:
    ``shared/users/<owner>/<path>`` or ``shared/teams/<team>/<path>``."""
    kind, _, name = space.partition(":")
    folder = next(f for f, k in SHARED_KINDS.items() if k == kind)
    return f"{SHARED}/{folder}/{name}/{path}"


def lab_path(space: str, path: str, user: str | None = None) -> str | None:
    """Where a session of ``user`` (a member of the team, for a team space) shows ``path``
    of ``space``: ``teams/<team>/<path>``, or ``<path>`` in ``user``'s own space; None for
    another person's space (shown under ``shared/`` only if shared: :func:`shared_path`)."""
    kind, _, name = space.partition(":")
    if kind == "team":
        return f"{TEAMS}/{name}/{path}"
    if kind == "user" and user is not None and name == user:
        return path
    return None
