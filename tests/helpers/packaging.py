"""The two distributions' project files, and what the client wheel takes of the package
(Python >= 3.11: ``tomllib``; the tests that use it skip on older Pythons)."""

from __future__ import annotations

import ast
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
CLIENT_PROJECT = tomllib.loads((REPO / "client" / "pyproject.toml").read_text())


def client_shipped() -> tuple[str, ...]:
    """``SHIPPED`` of client/hatch_build.py: what the client wheel takes of the package."""
    tree = ast.parse((REPO / "client" / "hatch_build.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "SHIPPED":
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("client/hatch_build.py has no SHIPPED")
