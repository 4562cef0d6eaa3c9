"""MLflow's model-registry calls (``registered-models/...``, ``model-versions/...``) of
the MLflow API (:mod:`.mlflow`), onto the platform's registry (``core/mlflow_compat``)."""

from __future__ import annotations

import asyncio
from typing import Any

from ...core.mlflow_compat import registry, tracking
from .mlflow import MlflowApiHandler, operation


@operation("POST", "registered-models/create")
async def _create_registered_model(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        row = await registry.create_model(s, identity, team, data)
        return {"registered_model": await registry.model_json(s, row)}


@operation("GET", "registered-models/get")
async def _get_registered_model(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        row = await registry.get_model(s, identity, team, registry._name(data))
        return {"registered_model": await registry.model_json(s, row)}


@operation("PATCH", "registered-models/update")
@operation("POST", "registered-models/rename", "registered-models/set-tag")
@operation("DELETE", "registered-models/delete", "registered-models/delete-tag")
async def _update_registered_model(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    action = data["__path__"].split("/")[1]
    async with h.core.db.session() as s:
        row = await registry.update_model(s, identity, team, data, action)
        if action == "update" and row is not None:
            return {"registered_model": await registry.model_json(s, row)}
    if action == "delete":
        prefix = f"models/{team}/{data['name']}"
        await asyncio.to_thread(h.core.artifacts.delete_prefix, prefix)
    return {}


@operation("GET", "registered-models/search")
async def _search_registered_models(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        rows, token = await registry.search_models(s, identity, team, data)
        out: dict[str, Any] = {"registered_models": [await registry.model_json(s, r) for r in rows]}
    if token:
        out["next_page_token"] = token
    return out


@operation("POST", "registered-models/get-latest-versions")
@operation("GET", "registered-models/get-latest-versions")
async def _latest_versions(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        model = await registry.get_model(s, identity, team, registry._name(data))
        found = await registry.search_versions(
            s, identity, team, {"filter": f"name = '{_quote(model.name)}'"}
        )
        aliases = await registry.models.aliases_of(s, model)
    stages = data.get("stages") or []
    if isinstance(stages, str):
        stages = [stages]
    latest = [registry.version_json(m, v, aliases) for m, v in found[:1]]
    if stages:
        latest = [v for v in latest if v["current_stage"] in stages]
    return {"model_versions": latest}


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


@operation("POST", "registered-models/alias")
@operation("DELETE", "registered-models/alias")
async def _alias(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        if h.request.method == "POST":
            await registry.set_alias(s, identity, team, data)
        else:
            await registry.delete_alias(s, identity, team, data)
    return {}


@operation("GET", "registered-models/alias")
async def _version_by_alias(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        model, version = await registry.version_by_alias(
            s, identity, team, registry._name(data), tracking._str(data, "alias")
        )
        aliases = await registry.models.aliases_of(s, model)
    return {"model_version": registry.version_json(model, version, aliases)}


@operation("POST", "model-versions/create")
async def _create_version(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        model, version = await registry.create_version(
            s, identity, team, data, h.core.artifacts, h.run_folder
        )
        aliases = await registry.models.aliases_of(s, model)
        return {"model_version": registry.version_json(model, version, aliases)}


@operation("GET", "model-versions/get")
async def _get_version(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        model, version = await registry.get_version(
            s, identity, team, registry._name(data), data.get("version")
        )
        aliases = await registry.models.aliases_of(s, model)
    return {"model_version": registry.version_json(model, version, aliases)}


@operation("GET", "model-versions/get-download-uri")
async def _download_uri(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        model, version = await registry.get_version(
            s, identity, team, registry._name(data), data.get("version")
        )
    return {"artifact_uri": f"mlflow-artifacts:/registry/{model.name}/{version.version}"}


@operation("PATCH", "model-versions/update")
@operation("POST", "model-versions/set-tag", "model-versions/transition-stage")
@operation("DELETE", "model-versions/delete", "model-versions/delete-tag")
async def _update_version(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    action = data["__path__"].split("/")[1]
    async with h.core.db.session() as s:
        found = await registry.update_version(s, identity, team, data, action)
        if found is not None and action == "update":
            model, version = found
            aliases = await registry.models.aliases_of(s, model)
            return {"model_version": registry.version_json(model, version, aliases)}
    if action == "delete":
        prefix = f"models/{team}/{data['name']}/{data['version']}"
        await asyncio.to_thread(h.core.artifacts.delete_prefix, prefix)
    return {}


@operation("GET", "model-versions/search")
@operation("POST", "model-versions/search")
async def _search_versions(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        found = await registry.search_versions(s, identity, team, data)
        out = []
        for model, version in found:
            aliases = await registry.models.aliases_of(s, model)
            out.append(registry.version_json(model, version, aliases))
    return {"model_versions": out}
