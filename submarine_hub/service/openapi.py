"""The OpenAPI document served at ``api/v1/openapi.json``."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SPEC_FILE = Path(__file__).with_name("openapi.yaml")


@cache
def _load() -> dict[str, Any]:
    from .. import __version__

    spec = yaml.safe_load(SPEC_FILE.read_text())
    spec["info"]["version"] = __version__
    from ..core.experiments.spec import SPEC_SCHEMA

    published = {k: v for k, v in SPEC_SCHEMA.items() if k != "$schema"}
    spec["components"]["schemas"]["ExperimentSpec"] = published
    from ..core.notebook_jobs import JOB_SCHEMA

    job = {k: v for k, v in JOB_SCHEMA.items() if k != "$schema"}
    spec["components"]["schemas"]["NotebookJob"] = job
    _document_errors(spec)
    return spec


METHODS = ("get", "put", "post", "patch", "delete")
MLFLOW_TAG = "mlflow"
#: where the document places MLflow's API (each such path's ``servers``)
MLFLOW_SERVER = "/services/submarine/mlflow"


def _document_errors(spec: dict[str, Any]) -> None:
    """Add the error answers every operation of a kind can give, once, by rule: 401, 403
    (no access to the service) and 503 (the hub did not answer) when it needs a caller;
    400 when it takes parameters or a body; 404 when its path names an object; 413 when
    it takes a body. Answers the document already states are kept. MLflow's operations
    (tag ``mlflow``) answer MLflow's error shape, with its 409 (already exists) and 501
    (not served) besides."""
    platform_error = {"$ref": "#/components/responses/Error"}
    mlflow_error = {"$ref": "#/components/responses/MlflowError"}
    for path, item in spec["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            error = platform_error
            codes = set()
            if MLFLOW_TAG in op.get("tags", ()):
                error, codes = mlflow_error, {"409", "501"}
            if op.get("security", spec.get("security")):
                codes |= {"401", "403", "503"}
            if op.get("parameters") or item.get("parameters") or op.get("requestBody"):
                codes.add("400")
            if "{" in path:
                codes.add("404")
            if op.get("requestBody"):
                codes.add("413")
            responses = op.setdefault("responses", {})
            for code in sorted(codes - set(responses)):
                responses[code] = error


def openapi_document(service_prefix: str = "/services/submarine/") -> dict[str, Any]:
    spec = copy.deepcopy(_load())
    base = service_prefix.rstrip("/")
    spec["servers"] = [{"url": base + "/api/v1"}]
    for item in spec["paths"].values():
        if item.get("servers") == [{"url": MLFLOW_SERVER}]:
            item["servers"] = [{"url": base + "/mlflow"}]  # MLflow's API, beside api/v1
    return spec


def main() -> None:
    """Print the served document as JSON (what ``jlpm gen:api`` makes TypeScript of)."""
    import json
    import sys

    doc = openapi_document()
    del doc["servers"]  # where the service is mounted is not part of the contract
    for item in doc["paths"].values():
        item.pop("servers", None)
    json.dump(doc, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
