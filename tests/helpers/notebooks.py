"""Notebook pieces as plain JSON, the way a client sends them to the API."""

from __future__ import annotations

from typing import Any

PYTHON3 = {"name": "python3", "display_name": "Python 3", "language": "python"}


def code_cell(
    source: str,
    *,
    outputs: list[dict[str, Any]] | None = None,
    execution_count: int | None = None,
    id: str | None = None,
    **metadata: Any,
) -> dict[str, Any]:
    """A code cell (``tags=[...]`` etc. go to its metadata; no outputs unless given)."""
    cell: dict[str, Any] = {
        "cell_type": "code",
        "source": source,
        "metadata": metadata,
        "outputs": outputs or [],
        "execution_count": execution_count,
    }
    if id is not None:
        cell["id"] = id
    return cell


def markdown_cell(source: str, **metadata: Any) -> dict[str, Any]:
    return {"cell_type": "markdown", "source": source, "metadata": metadata}


def notebook(*cells: dict[str, Any], kernel: bool = True, **metadata: Any) -> dict[str, Any]:
    """A version 4.5 notebook of ``cells`` (with a Python 3 kernelspec unless not ``kernel``)."""
    meta = {"kernelspec": dict(PYTHON3), **metadata} if kernel else dict(metadata)
    return {"cells": list(cells), "metadata": meta, "nbformat": 4, "nbformat_minor": 5}


def parameters_notebook(
    params: str = "alpha = 0.5\nname = 'x'", body: str = "print(alpha, name)"
) -> dict[str, Any]:
    """A notebook whose first cell is tagged ``parameters`` (papermill's convention)."""
    return notebook(code_cell(params, tags=["parameters"]), code_cell(body))
