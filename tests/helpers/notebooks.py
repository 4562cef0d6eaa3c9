"""Notebook pieces as plain JSON, the way a client sends them to the API."""

from __future__ import annotations

from typing import Any


def code_cell(source: str, **metadata: Any) -> dict[str, Any]:
    """A code cell with no outputs (``tags=[...]`` etc. go to its metadata)."""
    return {
        "cell_type": "code",
        "source": source,
        "metadata": metadata,
        "outputs": [],
        "execution_count": None,
    }
