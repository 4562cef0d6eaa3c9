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
    return spec


def openapi_document(service_prefix: str = "/services/submarine/") -> dict[str, Any]:
    spec = copy.deepcopy(_load())
    spec["servers"] = [{"url": service_prefix.rstrip("/") + "/api/v1"}]
    return spec
