"""The lab extension's API types are the OpenAPI document's: ``labextension/src/schema.ts``
is what ``jlpm gen:api`` makes of the document the service serves, so a change of
``openapi.yaml`` (or of the schemas filled into it) without regenerating fails here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LAB = Path(__file__).resolve().parents[1] / "labextension"


@pytest.mark.local
def test_the_lab_extensions_api_types_are_generated_from_the_openapi_document() -> None:
    node = shutil.which("node")
    if node is None or not (LAB / "node_modules" / "openapi-typescript").exists():
        pytest.skip("needs node and the lab extension's node_modules (jlpm install)")
    done = subprocess.run(
        [node, "scripts/gen-api.mjs", "--check"],
        cwd=LAB,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr or done.stdout
