"""Credentials of users and teams: stored encrypted, injected into sessions, never read back."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import re
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Credential
from .crypto import Crypt
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .identity import Identity
from .paths import safe_relpath

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
MAX_SIZE = 1024 * 1024

#: Environment variable names a credential may not set (shell patterns, compared in upper
#: case: ``http_proxy`` is ``HTTP_PROXY``), each with why: it is the platform's own, or it
#: changes which programs and libraries a session or run loads, where it installs from,
#: or whom it trusts. A credential is a secret handed to code, never a way to change it.
DENIED_ENV: tuple[tuple[str, str], ...] = (
    ("JUPYTERHUB_*", "the name is reserved: the hub sets it"),
    ("JPY_*", "the name is reserved: the hub sets it"),
    ("JUPYTER*", "it changes how Jupyter starts and where it reads its configuration"),
    ("IPYTHON*", "it changes where IPython reads its startup files"),
    ("SUBMARINE_*", "the name is reserved: the platform sets it"),
    ("PATH", "it decides which programs run"),
    ("LD_*", "it makes the dynamic loader load or search other libraries"),
    ("DYLD_*", "it makes the dynamic loader load or search other libraries"),
    ("GCONV_PATH", "it makes the C library load other modules"),
    ("PYTHON*", "it changes how Python starts (PYTHONSTARTUP, PYTHONPATH...)"),
    ("VIRTUAL_ENV", "it changes which Python environment is used"),
    ("CONDA*", "it changes which Python environment is used"),
    ("PIP_*", "it changes where pip installs packages from"),
    ("UV_*", "it changes where uv installs packages from"),
    ("HOME", "it moves every program's configuration"),
    ("XDG_*", "it moves every program's configuration"),
    ("SHELL", "it decides which shell runs commands"),
    ("BASH_ENV", "bash runs that file at start"),
    ("ENV", "sh runs that file at start"),
    ("BASH_FUNC_*", "bash imports it as a function"),
    ("PROMPT_COMMAND", "bash runs it"),
    ("PS4", "bash evaluates it"),
    ("IFS", "it changes how the shell splits words"),
    ("NODE_OPTIONS", "it changes how Node.js starts"),
    ("NODE_PATH", "it changes where Node.js loads modules from"),
    ("PERL5*", "it changes how Perl starts and loads modules"),
    ("PERLLIB", "it changes where Perl loads modules from"),
    ("RUBY*", "it changes how Ruby starts and loads libraries"),
    ("R_PROFILE*", "R runs that file at start"),
    ("R_ENVIRON*", "R reads that file at start"),
    ("R_LIBS*", "it changes where R loads packages from"),
    ("JULIA_*", "it changes how Julia starts and loads packages"),
    ("JAVA_TOOL_OPTIONS", "it changes how Java starts"),
    ("_JAVA_OPTIONS", "it changes how Java starts"),
    ("JDK_JAVA_OPTIONS", "it changes how Java starts"),
    ("CLASSPATH", "it changes where Java loads classes from"),
    ("GIT_*", "it changes what git runs and whom it trusts"),
    ("SSL_CERT_*", "it changes which certificates are trusted"),
    ("REQUESTS_CA_BUNDLE", "it changes which certificates are trusted"),
    ("CURL_CA_BUNDLE", "it changes which certificates are trusted"),
    ("NODE_EXTRA_CA_CERTS", "it changes which certificates are trusted"),
    ("*_PROXY", "it sends network traffic through another host"),
)


def denied_env(target: str) -> str | None:
    """Why a credential may not set the environment variable ``target``, or None."""
    name = target.upper()
    for pattern, why in DENIED_ENV:
        if fnmatch.fnmatchcase(name, pattern):
            return why
    return None


OWNER_KINDS = ("user", "team")


def to_json(c: Credential) -> dict[str, Any]:
    """Metadata only: the value never leaves the service through the API."""
    return {
        "owner_kind": c.owner_kind,
        "owner": c.owner,
        "name": c.name,
        "kind": c.kind,
        "target": c.target,
        "size": c.size,
        "created_by": c.created_by,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
    }


def _check_manage(identity: Identity, owner_kind: str, owner: str) -> None:
    if identity.admin:
        return
    if owner_kind == "user" and identity.is_user(owner):
        return
    if owner_kind == "team":
        raise Forbidden("Only hub admins manage team credentials.")
    if identity.confined:
        raise Forbidden(
            "A run's token cannot manage credentials: they are personal to its owner, "
            "and a run acts in its own team only."
        )
    raise Forbidden("You can only manage your own credentials.")


def _parse(data: dict[str, Any]) -> dict[str, Any]:
    """A credential's fields from ``data``, a request body that holds what the OpenAPI
    document's ``CredentialCreate`` states (its fields, their types, the kinds): what a
    schema does not say is checked here."""
    owner_kind = data.get("owner_kind", "user")
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidInput("'name' must be 1-128 letters, digits, '.', '_' or '-'.")
    kind = data.get("kind", "env")
    target = data.get("target") or (
        name.upper().replace("-", "_").replace(".", "_") if kind == "env" else name
    )
    if kind == "env":
        if not ENV_VAR.match(target):
            raise InvalidInput(f"'target' {target!r} is not a valid environment variable name.")
        why = denied_env(target)
        if why:
            raise InvalidInput(
                f"'target' {target!r} cannot be set by a credential: {why}. Give the "
                "credential another variable name and use it from there."
            )
    else:
        target = safe_relpath(target, what="target")  # inside the credentials folder
    if ("value" in data) == ("value_base64" in data):
        raise InvalidInput("Give exactly one of 'value' (text) or 'value_base64' (bytes).")
    if "value" in data:
        value = data["value"].encode()
    else:
        try:
            value = base64.b64decode(data["value_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise InvalidInput("'value_base64' is not valid base64.") from None
    if len(value) > MAX_SIZE:
        raise InvalidInput(f"A credential may hold at most {MAX_SIZE} bytes.")
    return {
        "owner_kind": owner_kind,
        "owner": data.get("owner"),
        "name": name,
        "kind": kind,
        "target": target,
        "value": value,
    }


async def create(
    session: AsyncSession,
    crypt: Crypt,
    identity: Identity,
    data: dict[str, Any],
    hub_groups: dict[str, list[str]],
) -> Credential:
    """A new credential; ``data`` holds what ``CredentialCreate`` states (the service
    checks it against the OpenAPI document first)."""
    v = _parse(data)
    owner = v["owner"] or (identity.name if v["owner_kind"] == "user" else None)
    if not isinstance(owner, str) or not owner:
        raise InvalidInput("'owner' must name the team the credential is for.")
    if v["owner_kind"] == "team" and owner not in hub_groups:
        raise NotFound(f"No team named {owner!r}.")
    _check_manage(identity, v["owner_kind"], owner)
    existing = await session.scalar(
        select(Credential).where(
            Credential.owner_kind == v["owner_kind"],
            Credential.owner == owner,
            Credential.name == v["name"],
        )
    )
    if existing is not None:
        raise Conflict(
            f"Credential {v['name']!r} of {v['owner_kind']} {owner!r} exists; delete it first."
        )
    cred = Credential(
        owner_kind=v["owner_kind"],
        owner=owner,
        name=v["name"],
        kind=v["kind"],
        target=v["target"],
        ciphertext=crypt.encrypt(v["value"]),
        size=len(v["value"]),
        created_by=identity.name,
    )
    session.add(cred)
    await session.flush()
    return cred


async def list_visible(session: AsyncSession, identity: Identity) -> list[Credential]:
    """Your own and your teams' credentials (metadata); every one for admins; a run's
    token sees its run's team's only."""
    query = select(Credential).order_by(Credential.owner_kind, Credential.owner, Credential.name)
    if not identity.admin:
        mine = [and_(Credential.owner_kind == "team", Credential.owner.in_(sorted(identity.teams)))]
        if not identity.confined:  # a run's token: its team's credentials only
            mine.append(and_(Credential.owner_kind == "user", Credential.owner == identity.name))
        query = query.where(or_(*mine))
    return list((await session.scalars(query)).all())


async def delete(
    session: AsyncSession, identity: Identity, owner_kind: str, owner: str, name: str
) -> None:
    if owner_kind not in OWNER_KINDS:
        raise NotFound(f"No credential owner kind {owner_kind!r}; use 'user' or 'team'.")
    cred = await session.scalar(
        select(Credential).where(
            Credential.owner_kind == owner_kind, Credential.owner == owner, Credential.name == name
        )
    )
    visible = cred is not None and (
        identity.admin
        or (owner_kind == "user" and identity.is_user(owner))
        or (owner_kind == "team" and identity.is_member(owner))
    )
    if not visible:
        raise NotFound(f"No credential {name!r} of {owner_kind} {owner!r} that you can see.")
    _check_manage(identity, owner_kind, owner)
    await session.delete(cred)


async def for_session(
    session: AsyncSession,
    crypt: Crypt,
    user: str,
    team: str,
    names: list[str] | None = None,
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Decrypted env vars and files for ``user``'s session (or run) in ``team``.

    The user's own credentials win over the team's when both set the same target;
    ``names`` picks some of them (an experiment's ``credentials`` list).
    """
    query = (
        select(Credential)
        .where(
            or_(
                and_(Credential.owner_kind == "team", Credential.owner == team),
                and_(Credential.owner_kind == "user", Credential.owner == user),
            )
        )
        .order_by(Credential.owner_kind)  # "team" before "user": the user's win
    )
    if names is not None:
        query = query.where(Credential.name.in_(names))
    rows = (await session.scalars(query)).all()
    env: dict[str, str] = {}
    files: dict[str, dict[str, Any]] = {}
    for c in rows:
        if c.kind == "env" and denied_env(c.target):
            continue  # stored before the name was refused: never set it
        value = crypt.decrypt(c.ciphertext)
        if c.kind == "env":
            env[c.target] = value.decode("utf-8", errors="replace")
        else:
            files[c.target] = {
                "path": c.target,
                "content_base64": base64.b64encode(value).decode(),
                "mode": 0o600,
            }
    return env, list(files.values())
