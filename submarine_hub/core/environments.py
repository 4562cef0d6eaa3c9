"""Environment profiles: shared (global, managed by admins) or a team's own."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import GLOBAL_SCOPE, EnvironmentProfile
from . import scopes
from .envspec import check_requirement, parse_conda
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .identity import Identity
from .resources import Resources
from .validation import reject_unknown

NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$")
FIELDS = {"name", "team", "description", "image", "packages", "conda", "resources"}
UPDATABLE = FIELDS - {"name", "team"}


def scope_of(team: str | None) -> str:
    return team or GLOBAL_SCOPE


def validate_requirements(lines: Any) -> list[str]:
    """Pip requirement lines (PEP 508) only: no options, paths or URLs."""
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        raise InvalidInput(
            "'packages' must be a list of pip requirement lines, like [\"numpy>=2\"]."
        )
    out = []
    for line in lines:
        if line.strip():
            check_requirement(line)
            out.append(line.strip())
    return out


def validate_conda(text: Any) -> str:
    if text in (None, ""):
        return ""
    if not isinstance(text, str):
        raise InvalidInput("'conda' must be the text of a conda environment.yml.")
    parse_conda(text)
    return text


def _clean(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    reject_unknown(data, FIELDS if creating else UPDATABLE, "environment")
    out: dict[str, Any] = {}
    if creating:
        name = data.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise InvalidInput(
                "'name' must be 1-64 lowercase letters, digits, '.', '_' or '-', "
                "starting and ending with a letter or digit."
            )
        out["name"] = name
        team = data.get("team")
        if team is not None and not isinstance(team, str):
            raise InvalidInput("'team' must be a team name, or null for a global environment.")
        out["scope"] = scope_of(team)
    for key in ("description", "image"):
        if key in data:
            if not isinstance(data[key], str):
                raise InvalidInput(f"'{key}' must be a string.")
            out[key] = data[key].strip()
    if "packages" in data:
        out["packages"] = validate_requirements(data["packages"])
    if "conda" in data:
        out["conda"] = validate_conda(data["conda"])
    if "resources" in data:
        out["resources"] = Resources.parse(data["resources"]).to_json()
    return out


def _check_write(identity: Identity, scope: str) -> None:
    scopes.check_write(identity, scope, "environments")


def can_read(identity: Identity, env: EnvironmentProfile) -> bool:
    return scopes.can_read(identity, env.scope)


def to_json(env: EnvironmentProfile) -> dict[str, Any]:
    return {
        "id": env.id,
        "scope": env.scope,
        "team": None if env.scope == GLOBAL_SCOPE else env.scope,
        "name": env.name,
        "ref": f"{env.scope}/{env.name}",
        "owner": env.owner,
        "description": env.description,
        "image": env.image,
        "packages": list(env.packages),
        "conda": env.conda,
        "resources": env.resources,
        "created_at": env.created_at.isoformat(),
        "updated_at": env.updated_at.isoformat(),
    }


async def create(
    session: AsyncSession, identity: Identity, data: Any, hub_groups: dict[str, list[str]]
) -> EnvironmentProfile:
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    values = _clean(data, creating=True)
    if values["scope"] != GLOBAL_SCOPE and values["scope"] not in hub_groups:
        raise NotFound(f"No team named {values['scope']!r}.")
    _check_write(identity, values["scope"])
    exists = await session.scalar(
        select(EnvironmentProfile.id).where(
            EnvironmentProfile.scope == values["scope"], EnvironmentProfile.name == values["name"]
        )
    )
    if exists:
        raise Conflict(f"Environment {values['scope']}/{values['name']} already exists.")
    env = EnvironmentProfile(owner=identity.name, **values)
    session.add(env)
    await session.flush()
    return env


async def list_visible(
    session: AsyncSession, identity: Identity, team: str | None = None
) -> list[EnvironmentProfile]:
    """Global environments plus those of the caller's teams (all, for admins)."""
    query = select(EnvironmentProfile).order_by(EnvironmentProfile.scope, EnvironmentProfile.name)
    query = scopes.visible(query, EnvironmentProfile.scope, identity, team)
    return list((await session.scalars(query)).all())


async def get(
    session: AsyncSession, identity: Identity, scope: str, name: str
) -> EnvironmentProfile:
    env = await session.scalar(
        select(EnvironmentProfile).where(
            EnvironmentProfile.scope == scope, EnvironmentProfile.name == name
        )
    )
    if env is None:
        raise NotFound(f"No environment {scope}/{name}.")
    if not can_read(identity, env):
        raise Forbidden(f"Environment {scope}/{name} belongs to team {scope!r}; you are not in it.")
    return env


async def update(
    session: AsyncSession, identity: Identity, scope: str, name: str, data: Any
) -> EnvironmentProfile:
    env = await get(session, identity, scope, name)
    _check_write(identity, env.scope)
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    for key, value in _clean(data, creating=False).items():
        setattr(env, key, value)
    await session.flush()
    return env


async def delete(session: AsyncSession, identity: Identity, scope: str, name: str) -> None:
    env = await get(session, identity, scope, name)
    _check_write(identity, env.scope)
    await session.delete(env)


def parse_ref(ref: str) -> tuple[str, str]:
    """``"team/name"`` or ``"_global/name"`` (or a bare global ``"name"``) -> (scope, name)."""
    if "/" in ref:
        scope, _, name = ref.partition("/")
        return scope, name
    return GLOBAL_SCOPE, ref
