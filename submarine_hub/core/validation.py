"""Small checks every request body goes through."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import InvalidInput


def reject_unknown(data: Any, allowed: Iterable[str], what: str) -> dict[str, Any]:
    """``data`` if it is an object with only ``allowed`` keys; else a 400 naming the others."""
    if not isinstance(data, dict):
        raise InvalidInput(f"A {what} must be a JSON object.")
    allowed = set(allowed)
    unknown = set(data) - allowed
    if unknown:
        raise InvalidInput(
            f"Unknown or read-only {what} field(s): {', '.join(sorted(unknown))}; "
            f"the fields are {', '.join(sorted(allowed))}."
        )
    return data
