"""MLflow's model-registry calls (``registered-models/...``, ``model-versions/...``) of
the MLflow API (:mod:`.mlflow`), onto the platform's registry (``core/mlflow_compat``)."""

from __future__ import annotations

import asyncio
from typing import Any

from ...core.mlflow_compat import registry
from ...store.models import ModelVersion, RegisteredModel
from .mlflow import Call, operation


async def _version_json(c: Call, model: RegisteredModel, version: ModelVersion) -> dict[str, Any]:
    aliases = await registry.models.aliases_of(c.s, model)
    return registry.version_json(model, version, aliases)


def _delete_files_after(c: Call, prefix: str) -> None:
    """A deleted model's (or version's) files go once the deletion is committed."""
    store = c.handler.core.artifacts
    c.after.append(lambda: asyncio.to_thread(store.delete_prefix, prefix))


@operation("POST", "registered-models/create")
async def _create_registered_model(c: Call) -> dict[str, Any]:
    row = await registry.create_model(c.s, c.identity, c.team, c.data)
    return {"registered_model": await registry.model_json(c.s, row)}


@operation("GET", "registered-models/get")
async def _get_registered_model(c: Call) -> dict[str, Any]:
    row = await registry.get_model(c.s, c.identity, c.team, registry._name(c.data))
    return {"registered_model": await registry.model_json(c.s, row)}


@operation("PATCH", "registered-models/update")
@operation("POST", "registered-models/rename", "registered-models/set-tag")
@operation("DELETE", "registered-models/delete", "registered-models/delete-tag")
async def _update_registered_model(c: Call) -> dict[str, Any]:
    row = await registry.update_model(c.s, c.identity, c.team, c.data, c.action)
    if c.action == "update" and row is not None:
        return {"registered_model": await registry.model_json(c.s, row)}
    if c.action == "delete":
        _delete_files_after(c, f"models/{c.team}/{c.data['name']}")
    return {}


@operation("GET", "registered-models/search")
async def _search_registered_models(c: Call) -> dict[str, Any]:
    rows, token = await registry.search_models(c.s, c.identity, c.team, c.data)
    return c.paged("registered_models", [await registry.model_json(c.s, r) for r in rows], token)


@operation("POST", "registered-models/get-latest-versions")
@operation("GET", "registered-models/get-latest-versions")
async def _latest_versions(c: Call) -> dict[str, Any]:
    model = await registry.get_model(c.s, c.identity, c.team, registry._name(c.data))
    found = await registry.search_versions(
        c.s, c.identity, c.team, {"filter": f"name = '{_quote(model.name)}'"}
    )
    latest = [await _version_json(c, m, v) for m, v in found[:1]]
    stages = c.data.get("stages") or []
    if isinstance(stages, str):
        stages = [stages]
    if stages:
        latest = [v for v in latest if v["current_stage"] in stages]
    return {"model_versions": latest}


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


@operation("POST", "registered-models/alias")
@operation("DELETE", "registered-models/alias")
async def _alias(c: Call) -> dict[str, Any]:
    if c.handler.request.method == "POST":
        await registry.set_alias(c.s, c.identity, c.team, c.data)
    else:
        await registry.delete_alias(c.s, c.identity, c.team, c.data)
    return {}


@operation("GET", "registered-models/alias")
async def _version_by_alias(c: Call) -> dict[str, Any]:
    model, version = await registry.version_by_alias(
        c.s, c.identity, c.team, registry._name(c.data), c.text("alias")
    )
    return {"model_version": await _version_json(c, model, version)}


@operation("POST", "model-versions/create")
async def _create_version(c: Call) -> dict[str, Any]:
    model, version = await registry.create_version(
        c.s, c.identity, c.team, c.data, c.handler.core.artifacts, c.handler.run_folder
    )
    return {"model_version": await _version_json(c, model, version)}


@operation("GET", "model-versions/get")
async def _get_version(c: Call) -> dict[str, Any]:
    model, version = await registry.get_version(
        c.s, c.identity, c.team, registry._name(c.data), c.data.get("version")
    )
    return {"model_version": await _version_json(c, model, version)}


@operation("GET", "model-versions/get-download-uri")
async def _download_uri(c: Call) -> dict[str, Any]:
    model, version = await registry.get_version(
        c.s, c.identity, c.team, registry._name(c.data), c.data.get("version")
    )
    return {"artifact_uri": f"mlflow-artifacts:/registry/{model.name}/{version.version}"}


@operation("PATCH", "model-versions/update")
@operation("POST", "model-versions/set-tag", "model-versions/transition-stage")
@operation("DELETE", "model-versions/delete", "model-versions/delete-tag")
async def _update_version(c: Call) -> dict[str, Any]:
    found = await registry.update_version(c.s, c.identity, c.team, c.data, c.action)
    if found is not None and c.action == "update":
        return {"model_version": await _version_json(c, *found)}
    if c.action == "delete":
        _delete_files_after(c, f"models/{c.team}/{c.data['name']}/{c.data['version']}")
    return {}


@operation("GET", "model-versions/search")
@operation("POST", "model-versions/search")
async def _search_versions(c: Call) -> dict[str, Any]:
    found = await registry.search_versions(c.s, c.identity, c.team, c.data)
    return {"model_versions": [await _version_json(c, m, v) for m, v in found]}
