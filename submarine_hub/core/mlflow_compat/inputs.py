"""MLflow inputs of a run (``mlflow.log_input``, ``MlflowClient.log_inputs``, REST
``runs/log-inputs``): datasets and (MLflow 3) logged models.

They are kept on the platform run itself (its ``spec["mlflow_inputs"]`` and
``spec["mlflow_model_inputs"]``, so our runs API shows them too) and come back in
MLflow's ``Run.inputs.dataset_inputs`` and ``Run.inputs.model_inputs``. Where a dataset
of the team's catalog (or a shared one) has the same name, the run is also recorded as
having read it (the platform's lineage, ``run_datasets``). A model input names a logged
model of the run's team (``m-...``); another team's, or none, is not found.

Limits are MLflow's own (``mlflow/utils/validation.py``): an oversized or mistyped field
is ``INVALID_PARAMETER_VALUE``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.mlflow_tables import MlflowLoggedModel
from ...store.models import Dataset, Experiment, RunDataset
from ..errors import InvalidInput, NotFound
from ..identity import Identity

SPEC_KEY = "mlflow_inputs"
MODELS_KEY = "mlflow_model_inputs"
#: field -> (required, max length), as MLflow's server validates them
DATASET_FIELDS = {
    "name": (True, 500),
    "digest": (True, 36),
    "source_type": (True, 36),
    "source": (True, 65535),
    "schema": (False, 1048575),
    "profile": (False, 16384),
}
MAX_INPUTS = 1000
MAX_TAG_KEY, MAX_TAG_VALUE = 255, 500


def _text(obj: dict[str, Any], key: str, where: str, required: bool, limit: int) -> str:
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{where}: missing value for required parameter '{key}'.")
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{where}: '{key}' must be a string.")
    if len(value) > limit:
        raise InvalidInput(f"{where}: '{key}' has {len(value)} characters, at most {limit}.")
    return value


def parse(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``datasets`` (checked, as stored) and the ``models`` (their ids) of a
    ``runs/log-inputs`` body."""
    return parse_datasets(data), parse_models(data)


def parse_models(data: dict[str, Any]) -> list[str]:
    """The logged-model ids of ``models: [{"model_id": "m-..."}]``, each once, in order."""
    items = data.get("models")
    if items in (None, ""):
        return []
    if not isinstance(items, list):
        raise InvalidInput("'models' must be a list of {model_id}.")
    if len(items) > MAX_INPUTS:
        raise InvalidInput(f"At most {MAX_INPUTS} model inputs per call.")
    out: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInput(f"models[{i}] must be an object with a 'model_id'.")
        model_id = _text(item, "model_id", f"models[{i}]", True, 255)
        if model_id not in out:
            out.append(model_id)
    return out


def parse_datasets(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``datasets`` of a ``runs/log-inputs`` body, checked, as stored."""
    items = data.get("datasets")
    if items in (None, ""):
        return []
    if not isinstance(items, list):
        raise InvalidInput("'datasets' must be a list of dataset inputs.")
    if len(items) > MAX_INPUTS:
        raise InvalidInput(f"At most {MAX_INPUTS} dataset inputs per call.")
    out = []
    for i, item in enumerate(items):
        where = f"datasets[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("dataset"), dict):
            raise InvalidInput(f"{where} must be an object with a 'dataset'.")
        ds = {
            k: _text(item["dataset"], k, f"{where}.dataset", req, limit)
            for k, (req, limit) in DATASET_FIELDS.items()
        }
        tags = item.get("tags") or []
        if not isinstance(tags, list):
            raise InvalidInput(f"{where}.tags must be a list of {{key, value}}.")
        clean_tags = []
        for j, t in enumerate(tags):
            tw = f"{where}.tags[{j}]"
            if not isinstance(t, dict):
                raise InvalidInput(f"{tw} must be an object.")
            clean_tags.append(
                {
                    "key": _text(t, "key", tw, True, MAX_TAG_KEY),
                    "value": _text(t, "value", tw, False, MAX_TAG_VALUE),
                }
            )
        out.append({"dataset": {k: v for k, v in ds.items() if v}, "tags": clean_tags})
    return out


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return item["dataset"]["name"], item["dataset"]["digest"]


async def record(
    session: AsyncSession, identity: Identity, row: Experiment, items: list[dict[str, Any]]
) -> None:
    """Add the inputs to the run (a dataset logged again, same name and digest, is kept
    once with the newer tags) and link same-named catalog datasets into the lineage."""
    if not items:
        return
    spec = dict(row.spec or {})
    kept = {_key(x): x for x in spec.get(SPEC_KEY, [])}
    for item in items:
        kept[_key(item)] = item
    spec[SPEC_KEY] = list(kept.values())
    row.spec = spec  # a new dict: the JSON column sees the change
    names = {x["dataset"]["name"] for x in items}
    q = select(Dataset.id).where(Dataset.name.in_(names), Dataset.team == row.team)
    if not identity.admin:
        q = select(Dataset.id).where(
            Dataset.name.in_(names),
            or_(Dataset.team == row.team, Dataset.shared.is_(True)),
            or_(Dataset.shared.is_(True), Dataset.team.in_(sorted(identity.teams))),
        )
    found = set((await session.scalars(q)).all())
    linked = set(
        (
            await session.scalars(
                select(RunDataset.dataset_id).where(RunDataset.experiment_id == row.id)
            )
        ).all()
    )
    for dataset_id in sorted(found - linked):
        session.add(RunDataset(experiment_id=row.id, dataset_id=dataset_id))
    await session.flush()


async def record_models(
    session: AsyncSession, team: str, row: Experiment, model_ids: list[str]
) -> None:
    """Add logged models of ``team`` to the run's model inputs (each kept once); a model
    that is not the team's is not found, and nothing of the call is kept."""
    if not model_ids:
        return
    found = set(
        (
            await session.scalars(
                select(MlflowLoggedModel.id).where(
                    MlflowLoggedModel.id.in_(model_ids), MlflowLoggedModel.team == team
                )
            )
        ).all()
    )
    missing = [m for m in model_ids if m not in found]
    if missing:
        raise NotFound(f"Logged model '{missing[0]}' not found in team {team!r}.")
    spec = dict(row.spec or {})
    kept = list(spec.get(MODELS_KEY, []))
    spec[MODELS_KEY] = kept + [m for m in model_ids if m not in kept]
    row.spec = spec  # a new dict: the JSON column sees the change
    await session.flush()


def dataset_inputs(row: Experiment) -> list[dict[str, Any]]:
    """MLflow's ``RunInputs.dataset_inputs`` of a run."""
    return list((row.spec or {}).get(SPEC_KEY, []))


def model_inputs(row: Experiment) -> list[dict[str, Any]]:
    """MLflow's ``RunInputs.model_inputs`` of a run: ``[{"model_id": ...}]``."""
    return [{"model_id": m} for m in (row.spec or {}).get(MODELS_KEY, [])]
