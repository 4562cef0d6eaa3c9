"""Small checks every request body and parameter goes through.

The web layers parse every JSON (or YAML) body with :func:`parse_json` /
:func:`parse_yaml`, every id with :func:`parse_id` and every whole-number parameter
with :func:`parse_int`: documents are at most :data:`MAX_DEPTH` deep and hold only
finite numbers, ids are positive 64-bit integers written in ASCII digits.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any, TypeGuard

import yaml

from .errors import InvalidInput, NotFound

#: the largest id (and whole number) the metastore holds: a signed 64-bit integer
INT64_MAX = 2**63 - 1
#: how deeply objects and arrays of a request body may nest
MAX_DEPTH = 64

_INT = re.compile(r"-?[0-9]{1,40}")  # ASCII only: str.isdigit() also accepts '²'


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


def parse_int(value: Any, name: str, *, minimum: int = 0, maximum: int = INT64_MAX) -> int:
    """``value`` (a string of ASCII digits, or an int) as an int in ``[minimum, maximum]``;
    else a 400 naming ``name``."""
    if isinstance(value, bool):
        raise InvalidInput(f"'{name}' must be a whole number.")
    if isinstance(value, str) and _INT.fullmatch(value):
        value = int(value)
    if not isinstance(value, int):
        raise InvalidInput(f"'{name}' must be a whole number.")
    if not minimum <= value <= maximum:
        raise InvalidInput(f"'{name}' must be between {minimum} and {maximum}.")
    return value


def parse_id(value: Any, what: str = "object") -> int:
    """An id from a URL (1 .. 2**63-1 in ASCII digits); anything else names no object: 404."""
    try:
        return parse_int(value, "id", minimum=1)
    except InvalidInput:
        shown = str(value)[:40]
        raise NotFound(f"No {what} with id {shown!r}: ids are positive numbers.") from None


def is_finite_number(value: Any) -> TypeGuard[int | float]:
    """True for an int or a finite float (not a bool, NaN or an infinity)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def finite(value: Any, name: str) -> float:
    """``value`` as a float if it is a finite number; else a 400 naming ``name``."""
    if not is_finite_number(value):
        raise InvalidInput(f"'{name}' must be a finite number.")
    return float(value)


def check_document(data: Any, what: str = "The request body") -> Any:
    """``data`` if it nests at most :data:`MAX_DEPTH` deep and every number in it is
    finite (and an integer fits in 64 bits); else a 400. Iterative: any depth is checked
    without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            raise InvalidInput(f"{what} holds {node}: numbers must be finite.")
        if isinstance(node, int) and not -INT64_MAX - 1 <= node <= INT64_MAX:
            raise InvalidInput(f"{what} holds a number beyond 64 bits.")
        if isinstance(node, (dict, list)):
            if depth > MAX_DEPTH:
                raise InvalidInput(f"{what} nests deeper than {MAX_DEPTH} levels.")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return data


def _refuse_constant(name: str) -> Any:
    raise InvalidInput(f"The request body holds {name}: numbers must be finite.")


def parse_json(raw: bytes | str, what: str = "The request body") -> Any:
    """Strict JSON: no NaN or Infinity, at most :data:`MAX_DEPTH` deep; else a 400."""
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise InvalidInput(f"{what} nests deeper than {MAX_DEPTH} levels.") from None
    except (ValueError, UnicodeDecodeError) as e:
        if isinstance(e, InvalidInput):
            raise
        raise InvalidInput(f"{what} is not valid JSON: {e}.") from None
    return check_document(data, what)


def parse_yaml(text: str, what: str = "The request body") -> Any:
    """YAML (safe subset) with the same limits as :func:`parse_json`; else a 400."""
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise InvalidInput(f"{what} nests deeper than {MAX_DEPTH} levels.") from None
    except yaml.YAMLError as e:
        raise InvalidInput(f"{what} is not valid YAML: {e}") from None
    return check_document(data, what)


def dump_json(data: Any) -> str:
    """Strict JSON for a response: dates in ISO 8601 with their zone (naive ones are UTC);
    a non-finite number is a bug and raises ``ValueError``."""
    return json.dumps(data, default=_json_default, allow_nan=False)


def _json_default(value: Any) -> Any:
    from datetime import date, datetime, timezone

    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
