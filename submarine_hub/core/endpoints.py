"""Serving endpoints: a team's model versions (or aliases) answering predictions.

An endpoint has *routes*: which model version (a number, or an alias such as
``production``) gets which share of the traffic. Routes are resolved against the model
registry when the endpoint is created or updated (``resolved``: the exact versions,
their files and loaders); every update bumps the endpoint's ``generation``, and the
backend rolls the running server to it (see :mod:`submarine_hub.serving`).

Who may do what: members of the endpoint's team (and hub admins) see, create, update
and stop it; others are told it does not exist. Every member may update or stop a
team's endpoint, so that whoever is on call can roll back.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Endpoint, ModelVersion, RegisteredModel
from . import models as registry
from . import scopes
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .identity import Identity
from .resources import Resources, format_memory
from .sessions import choose_team
from .validation import is_finite_number, reject_unknown

#: An endpoint's name is a DNS label: it becomes part of URLs and Kubernetes names.
NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
STARTING, READY, UPDATING, FAILED, STOPPED = "starting", "ready", "updating", "failed", "stopped"
STATUSES = (STARTING, READY, UPDATING, FAILED, STOPPED)
LOADERS = ("auto", "sklearn", "onnx", "script")
METHODS = ("predict", "predict_proba", "decision_function", "transform")
MAX_ROUTES = 5
CREATE_FIELDS = {
    "name", "team", "model", "version", "routes", "loader", "script", "method",
    "description", "resources", "threads", "access_log", "batching",
}  # fmt: skip
UPDATE_FIELDS = CREATE_FIELDS - {"name", "team"}


STARTED_AT = "started_at"  # in config: when the current up-period began (usage metering)
_BOOKKEEPING = ("routes", "service", "generation", STARTED_AT)


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def started_at(row: Endpoint) -> datetime | None:
    """When the endpoint's current up-period began (created, or asked again after a
    failure), as recorded on its row; None for rows from before it was recorded."""
    value = (row.config or {}).get(STARTED_AT)
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def service_base(team: str, name: str, prefix: str) -> str:
    """The JupyterHub service name of an endpoint: ``<prefix><team>-<name>``, lowercase,
    letters, digits and ``-`` only (it is a URL path segment)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", team.lower()).strip("-") or "team"
    return f"{prefix}{slug}-{name}"


def _int_or_ref(value: Any, where: str) -> str:
    if isinstance(value, bool) or value is None:
        raise InvalidInput(f"{where}: 'version' must be a version number or an alias.")
    if isinstance(value, int):
        if value < 1:
            raise InvalidInput(f"{where}: version numbers start at 1.")
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise InvalidInput(f"{where}: 'version' must be a version number or an alias.")


def _weight(value: Any, where: str) -> float:
    if not is_finite_number(value) or value < 0:
        raise InvalidInput(f"{where}: 'weight' must be a finite number, 0 or more.")
    return float(value)


def parse_routes(data: dict[str, Any]) -> list[dict[str, Any]]:
    """``routes: [{model, version, weight}]``, or the shorthand ``model`` + ``version``."""
    routes = data.get("routes")
    if routes is None:
        if "model" not in data:
            raise InvalidInput(
                "Say what to serve: 'model' and 'version' (a number or an alias such as "
                "'production'), or 'routes': [{model, version, weight}, ...]."
            )
        routes = [{"model": data["model"], "version": data.get("version", "production")}]
    elif "model" in data or "version" in data:
        raise InvalidInput("Give either 'routes' or 'model' + 'version', not both.")
    if not isinstance(routes, list) or not routes:
        raise InvalidInput("'routes' must be a non-empty list of {model, version, weight}.")
    if len(routes) > MAX_ROUTES:
        raise InvalidInput(f"An endpoint splits traffic between at most {MAX_ROUTES} routes.")
    out = []
    for i, route in enumerate(routes):
        where = f"routes[{i}]"
        if not isinstance(route, dict):
            raise InvalidInput(f"{where} must be an object {{model, version, weight}}.")
        unknown = set(route) - {"model", "version", "weight", "script", "loader", "method"}
        if unknown:
            raise InvalidInput(f"{where}: unknown field(s) {', '.join(sorted(unknown))}.")
        model = route.get("model")
        if not isinstance(model, str) or not model:
            raise InvalidInput(f"{where}: 'model' must name a model of the team.")
        if "weight" in route:
            weight = _weight(route["weight"], where)
        elif len(routes) == 1:
            weight = 100.0
        else:
            raise InvalidInput(f"{where}: 'weight' is required when traffic is split.")
        item: dict[str, Any] = {
            "model": model,
            "version": _int_or_ref(route.get("version", "production"), where),
            "weight": weight,
        }
        for key in ("script", "loader", "method"):
            if route.get(key) is not None:
                item[key] = route[key]
        out.append(item)
    if sum(r["weight"] for r in out) <= 0:
        raise InvalidInput("At least one route needs a weight above 0.")
    return out


def _loader_options(data: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    opts = dict(base or {})
    if "loader" in data:
        if data["loader"] not in LOADERS:
            raise InvalidInput(f"'loader' must be one of {', '.join(LOADERS)}.")
        opts["loader"] = data["loader"]
    if "script" in data:
        script = data["script"]
        if script is not None:
            registry.check_file_path(script)
            if not script.endswith(".py"):
                raise InvalidInput("'script' must be a .py file of the model version.")
        opts["script"] = script
    if "method" in data:
        if data["method"] not in METHODS:
            raise InvalidInput(f"'method' must be one of {', '.join(METHODS)}.")
        opts["method"] = data["method"]
    if "threads" in data:
        threads = data["threads"]
        if isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= 64:
            raise InvalidInput("'threads' must be 0 (predict inline, the fastest) to 64.")
        opts["threads"] = threads
    for flag in ("access_log", "batching"):
        if flag in data:
            if not isinstance(data[flag], bool):
                raise InvalidInput(f"'{flag}' must be true or false.")
            opts[flag] = data[flag]
    if "description" in data:
        if not isinstance(data["description"], str):
            raise InvalidInput("'description' must be a string.")
        opts["description"] = data["description"]
    if "resources" in data:
        res = Resources.parse(data["resources"])
        if res.gpus:
            raise InvalidInput("Endpoints run on CPUs here; leave 'gpus' out.")
        opts["resources"] = {
            k: v
            for k, v in {
                "cpu": res.cpu,
                "memory": format_memory(res.memory) if res.memory else None,
            }.items()
            if v is not None
        }
    opts.setdefault("loader", "auto")
    opts.setdefault("script", None)
    opts.setdefault("method", "predict")
    opts.setdefault("threads", 0)
    opts.setdefault("access_log", False)
    opts.setdefault("batching", True)
    opts.setdefault("description", "")
    opts.setdefault("resources", {})
    return opts


async def resolve(
    session: AsyncSession, team: str, routes: list[dict[str, Any]], options: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each route as the exact version it serves now, with what the server needs to load it."""
    resolved: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    for i, route in enumerate(routes):
        name = route["model"]
        if "/" in name:
            model_team, _, name = name.partition("/")
            if model_team != team:
                raise InvalidInput(
                    f"routes[{i}]: an endpoint of team {team!r} serves its own team's models, "
                    f"not {route['model']!r}."
                )
        model = await session.scalar(
            select(RegisteredModel).where(
                RegisteredModel.team == team, RegisteredModel.name == name
            )
        )
        if model is None:
            raise NotFound(f"routes[{i}]: team {team!r} has no model {name!r}.")
        version: ModelVersion = await registry.get_version(session, model, route["version"])
        if version.status != registry.READY:
            raise InvalidInput(
                f"routes[{i}]: version {version.version} of {team}/{name} is {version.status}; "
                "only ready versions are served."
            )
        if version.id in seen:
            raise InvalidInput(
                f"routes[{seen[version.id]}] and routes[{i}] both serve version "
                f"{version.version} of {team}/{name}; merge them."
            )
        seen[version.id] = i
        loader = route.get("loader", options["loader"])
        script = route.get("script", options["script"])
        if script is not None and not isinstance(script, str):
            raise InvalidInput(f"routes[{i}]: 'script' must be a file path.")
        if script:
            loader = "script"
            if script not in {f["path"] for f in version.files}:
                raise InvalidInput(
                    f"routes[{i}]: version {version.version} of {team}/{name} has no file "
                    f"{script!r}; its files: {', '.join(f['path'] for f in version.files)}."
                )
        elif loader == "script":
            raise InvalidInput(f"routes[{i}]: the 'script' loader needs 'script' (a .py file).")
        if loader not in LOADERS:
            raise InvalidInput(f"routes[{i}]: 'loader' must be one of {', '.join(LOADERS)}.")
        method = route.get("method", options["method"])
        if method not in METHODS:
            raise InvalidInput(f"routes[{i}]: 'method' must be one of {', '.join(METHODS)}.")
        resolved.append(
            {
                "key": f"{name}:{version.version}",
                "model": f"{team}/{name}",
                "model_id": model.id,
                "version": version.version,
                "version_id": version.id,
                "ref": route["version"],
                "weight": route["weight"],
                "framework": version.framework,
                "loader": loader,
                "script": script,
                "method": method,
                "storage_prefix": registry.storage_prefix(model, version.version),
                "storage_uri": version.storage_uri,
                "files": [f["path"] for f in version.files],
            }
        )
    return resolved


def can_see(identity: Identity, row: Endpoint) -> bool:
    return identity.admin or identity.is_member(row.team)


async def get(session: AsyncSession, identity: Identity, team: str, name: str) -> Endpoint:
    row = await session.scalar(select(Endpoint).where(Endpoint.team == team, Endpoint.name == name))
    if row is None or not can_see(identity, row):
        raise NotFound(f"No endpoint {team}/{name} that you can see.")
    return row


async def list_endpoints(
    session: AsyncSession, identity: Identity, team: str | None = None, stopped: bool = False
) -> list[Endpoint]:
    q = select(Endpoint).order_by(Endpoint.team, Endpoint.name)
    q = scopes.of_teams(q, Endpoint.team, identity, team or None)
    if not stopped:
        q = q.where(Endpoint.status != STOPPED)
    return list((await session.scalars(q)).all())


async def active(session: AsyncSession) -> list[Endpoint]:
    """Every endpoint that should be running (for the manager)."""
    q = select(Endpoint).where(Endpoint.status != STOPPED).order_by(Endpoint.id)
    return list((await session.scalars(q)).all())


async def _service_name(session: AsyncSession, team: str, name: str, prefix: str) -> str:
    """``<prefix><team>-<name>``, made unique: team ``a-b`` + ``c`` and ``a`` + ``b-c`` clash."""
    base = service_base(team, name, prefix)
    configs = (await session.scalars(select(Endpoint.config))).all()
    names = {c.get("service") for c in configs if isinstance(c, dict)}
    if base not in names:
        return base
    n = 2
    while f"{base}-{n}" in names:
        n += 1
    return f"{base}-{n}"


async def create(
    session: AsyncSession,
    identity: Identity,
    data: Any,
    *,
    service_prefix: str = "endpoint-",
    backend: str = "local",
) -> Endpoint:
    reject_unknown(data, CREATE_FIELDS, "endpoint")
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidInput(
            "'name' must be 1-40 lowercase letters, digits or '-', starting and ending "
            "with a letter or digit (it becomes part of the endpoint's URL)."
        )
    if identity.kind != "user":
        raise Forbidden("Endpoints are created by users, not services.")
    team = choose_team(
        identity.name, sorted(identity.teams), data.get("team"), identity.default_team
    )
    routes = parse_routes(data)
    options = _loader_options(data)
    resolved = await resolve(session, team, routes, options)
    row = await session.scalar(select(Endpoint).where(Endpoint.team == team, Endpoint.name == name))
    if row is not None and row.status != STOPPED:
        raise Conflict(f"Endpoint {team}/{name} exists ({row.status}); update or stop it.")
    if row is None:
        service = await _service_name(session, team, name, service_prefix)
        row = Endpoint(team=team, name=name, owner=identity.name, config={}, resolved=[])
        session.add(row)
        generation = 1
    else:  # a stopped endpoint of that name: start it again with the new routes
        service = row.config.get("service") or service_base(team, name, service_prefix)
        generation = int(row.config.get("generation", 0)) + 1
        row.owner = identity.name
    row.status = STARTING
    row.reason = "starting"
    row.backend = backend
    row.config = {
        "routes": routes,
        **options,
        "service": service,
        "generation": generation,
        STARTED_AT: _now_iso(),
    }
    row.resolved = resolved
    row.url = f"/services/{service}/"
    await session.flush()
    return row


async def update(session: AsyncSession, identity: Identity, row: Endpoint, data: Any) -> Endpoint:
    """New routes, weights, versions or options: the next generation, rolled out live."""
    reject_unknown(data, UPDATE_FIELDS, "endpoint")
    if row.status == STOPPED:
        raise InvalidInput(
            f"Endpoint {row.team}/{row.name} is stopped; create it again to serve it."
        )
    config = dict(row.config)
    was_up = row.status in (STARTING, READY, UPDATING)
    if "routes" in data or "model" in data:
        routes = parse_routes(data)
    elif "version" in data:  # the shorthand on a one-route endpoint: a new version
        if len(config["routes"]) != 1:
            raise InvalidInput("This endpoint splits traffic; give 'routes' to change it.")
        routes = parse_routes({"model": config["routes"][0]["model"], "version": data["version"]})
    else:
        routes = config["routes"]  # re-resolve: picks up where aliases point now
    base = {k: v for k, v in config.items() if k not in _BOOKKEEPING}
    options = _loader_options(data, base)
    resolved = await resolve(session, row.team, routes, options)
    config.update(options)
    config["routes"] = routes
    config["generation"] = int(config.get("generation", 0)) + 1
    if not was_up:  # a failed endpoint asked again: a new up-period starts now
        config[STARTED_AT] = _now_iso()
    row.config = config
    row.resolved = resolved
    if row.status in (READY, UPDATING):
        row.status, row.reason = UPDATING, f"rolling out generation {config['generation']}"
    else:
        row.status, row.reason = STARTING, "starting"
    await session.flush()
    return row


def stop(row: Endpoint, identity: Identity) -> None:
    if row.status == STOPPED:
        raise InvalidInput(f"Endpoint {row.team}/{row.name} is already stopped.")
    row.status = STOPPED
    row.reason = f"stopped by {identity.name}"


async def delete(session: AsyncSession, identity: Identity, row: Endpoint) -> None:
    if row.status != STOPPED:
        raise InvalidInput(f"Stop endpoint {row.team}/{row.name} before deleting it.")
    if not (identity.admin or identity.name == row.owner or identity.is_member(row.team)):
        raise Forbidden(f"Only members of team {row.team} delete its endpoints.")
    await session.delete(row)


def to_json(row: Endpoint, public_url: str = "") -> dict[str, Any]:
    config = row.config or {}
    return {
        "id": row.id,
        "team": row.team,
        "name": row.name,
        "ref": f"{row.team}/{row.name}",
        "owner": row.owner,
        "status": row.status,
        "reason": row.reason,
        "description": config.get("description", ""),
        "generation": config.get("generation", 0),
        "routes": [
            {
                "model": r["model"],
                "version": r["version"],
                "ref": r["ref"],
                "weight": r["weight"],
                "framework": r["framework"],
                "loader": r["loader"],
            }
            for r in row.resolved or []
        ],
        "spec": {k: v for k, v in config.items() if k not in _BOOKKEEPING or k == "routes"},
        "service": config.get("service", ""),
        "path": row.url,
        "url": public_url.rstrip("/") + row.url if public_url else row.url,
        "predict_url": (public_url.rstrip("/") + row.url if public_url else row.url) + "predict",
        "backend": row.backend,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
