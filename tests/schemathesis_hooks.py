"""Schemathesis hooks of tests/test_openapi_conformance.py (``SCHEMATHESIS_HOOKS``).

Generated ids and names almost never name an object, so most requests would stop at a
404. Two of every three generated cases get the objects the test seeded instead (read
from the JSON file named by ``SUBMARINE_ST_SEED``): path parameters by the route's first
segment, and the ``space``/``path``/``notebook`` query parameters of versioned files.
"""

from __future__ import annotations

import json
import os
import zlib
from functools import cache
from typing import Any

import schemathesis


@cache
def _seed() -> dict[str, Any]:
    with open(os.environ["SUBMARINE_ST_SEED"]) as f:
        return json.load(f)


def _seeded(values: dict[str, Any]) -> bool:
    """Two of three cases, decided by the generated values (reproducible with --seed)."""
    return zlib.crc32(repr(sorted(values.items())).encode()) % 3 != 0


def _resource(path: str) -> str:
    return path.strip("/").split("/")[0]


@schemathesis.hook
def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    if not path_parameters or not _seeded(path_parameters):
        return path_parameters
    known = _seed()["path"].get(_resource(context.operation.path), {})
    return {**path_parameters, **{k: v for k, v in known.items() if k in path_parameters}}


@schemathesis.hook
def map_query(context: Any, query: dict[str, Any] | None) -> Any:
    if not query or not _seeded(query):
        return query
    known = _seed()["query"].get(_resource(context.operation.path), {})
    return {**query, **{k: v for k, v in known.items() if k in query}}
