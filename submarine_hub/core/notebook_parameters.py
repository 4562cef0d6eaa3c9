"""Notebook parameters: the cell tagged ``parameters`` (papermill's convention), what it
defines, and values checked against it.

Contracts:

- Each top-level assignment of the cell is a parameter with a type (its annotation, else
  the type of its literal default; one of :data:`TYPES`), a default (a JSON value, None
  when it is not a literal) and a help text (the line's comment). A cell that does not
  parse as a whole (magics, say) is read line by line, what parses being kept.
- Values are checked against those types and converted (``"3"`` for an int is 3); every
  bad value is named in one :class:`~.errors.InvalidInput`, with the notebook's
  parameters as a hint.
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import asdict, dataclass
from typing import Any

from .errors import InvalidInput

PARAMETERS_TAG = "parameters"
TYPES = ("int", "float", "str", "bool", "list", "dict", "any")


@dataclass(frozen=True)
class NotebookParameter:
    """A parameter of a notebook, as the ``parameters`` cell defines it."""

    name: str
    type: str  # one of TYPES
    default: Any  # the default as a JSON value (None when it is not a literal)
    source: str  # the default as written in the notebook
    help: str = ""
    nullable: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parameters_cell(nb: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    """``(index, cell)`` of the first code cell tagged ``parameters``, or None."""
    for i, cell in enumerate(nb.get("cells") or []):
        tags = (cell.get("metadata") or {}).get("tags") or []
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in tags:
            return i, cell
    return None


def cell_source(cell: dict[str, Any]) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    src = cell.get("source") or ""
    return "".join(src) if isinstance(src, list) else str(src)


_SIMPLE = {"int": "int", "float": "float", "str": "str", "bool": "bool"}
_SIMPLE.update({"list": "list", "List": "list", "tuple": "list", "Tuple": "list"})
_SIMPLE.update({"dict": "dict", "Dict": "dict", "Any": "any", "object": "any"})


def _annotation_type(node: ast.expr) -> tuple[str, bool]:
    """``(type, nullable)`` of an annotation such as ``float``, ``list[int]``,
    ``Optional[str]`` or ``int | None``."""
    if isinstance(node, ast.Constant) and node.value is None:
        return "any", True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # "float"
        try:
            return _annotation_type(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return "any", False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _annotation_type(node.left), _annotation_type(node.right)
        nullable = left[1] or right[1]
        kinds = {k for k, n in (left, right) if not (k == "any" and n)}
        return (kinds.pop() if len(kinds) == 1 else "any"), nullable
    if isinstance(node, ast.Subscript):
        base = ast.unparse(node.value).rsplit(".", 1)[-1]
        if base == "Optional":
            return _annotation_type(node.slice)[0], True
        if base == "Union" and isinstance(node.slice, ast.Tuple):
            parts = [_annotation_type(e) for e in node.slice.elts]
            nullable = any(n for _, n in parts)
            kinds = {k for k, n in parts if not (k == "any" and n)}
            return (kinds.pop() if len(kinds) == 1 else "any"), nullable
        return _SIMPLE.get(base, "any"), False
    name = ast.unparse(node).rsplit(".", 1)[-1]
    return _SIMPLE.get(name, "any"), False


def _value_type(value: Any) -> tuple[str, bool]:
    if value is None:
        return "any", True
    if isinstance(value, bool):
        return "bool", False
    for kind, py in (("int", int), ("float", float), ("str", str), ("dict", dict)):
        if isinstance(value, py):
            return kind, False
    if isinstance(value, list | tuple):
        return "list", False
    return "any", False


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    return value


def _comment(line: str, after: int) -> str:
    rest = line[after:]
    return rest.split("#", 1)[1].strip() if "#" in rest else ""


def parameters_of(nb: dict[str, Any]) -> list[NotebookParameter]:
    """The parameters the ``parameters`` cell defines, in order ([] without one)."""
    found = parameters_cell(nb)
    if found is None:
        return []
    text = cell_source(found[1])
    lines = text.splitlines()
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError):  # magics or the like: read what can, line by line
        body = []
        for number, line in enumerate(lines, 1):
            try:
                for node in ast.parse(line).body:
                    ast.increment_lineno(node, number - 1)
                    body.append(node)
            except (SyntaxError, ValueError):  # ValueError: a NUL character
                continue
    out: dict[str, NotebookParameter] = {}
    for node in body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, annotation, value = node.targets[0], None, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, annotation, value = node.target, node.annotation, node.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        written = ast.get_source_segment(text, value) or ast.unparse(value)
        try:
            default = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            default, literal = None, False
        else:
            literal = True
        if annotation is not None:
            kind, nullable = _annotation_type(annotation)
        elif literal:
            kind, nullable = _value_type(default)
        else:
            kind, nullable = "any", False
        if isinstance(default, tuple):
            default = list(default)
        end_line = lines[node.end_lineno - 1] if node.end_lineno else ""
        out[target.id] = NotebookParameter(
            name=target.id,
            type=kind,
            default=_jsonable(default) if literal else None,
            source=written,
            help=_comment(end_line, node.end_col_offset or 0),
            nullable=nullable or (literal and default is None),
        )
    return list(out.values())


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_ARTICLE = {"int": "an int (a whole number)", "float": "a float (a number)"}
_ARTICLE.update({"str": "a str (text)", "bool": "a bool (true or false)"})
_ARTICLE.update({"list": "a list", "dict": "a dict (an object)"})


def _coerce(p: NotebookParameter, value: Any) -> Any:
    """``value`` as ``p``'s type, or ValueError."""
    if value is None:
        if p.nullable or p.type == "any":
            return None
        raise ValueError
    kind = p.type
    if kind == "any":
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return int(value)
        raise ValueError
    if kind == "float":
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            number = float(value)  # ValueError if not a number
            if math.isfinite(number):
                return number
        raise ValueError
    if kind == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise ValueError
    py = list if kind == "list" else dict
    if isinstance(value, py):
        return value
    if isinstance(value, str):
        parsed = json.loads(value)
        if isinstance(parsed, py):
            return parsed
    raise ValueError


def check_values(
    params: list[NotebookParameter], values: Any, *, where: str = ""
) -> dict[str, Any]:
    """``values`` checked and converted to the parameters' types; every problem is named."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise InvalidInput(f"{where}'parameters' must be an object of name: value.")
    known = {p.name: p for p in params}
    problems, out = [], {}
    for name, value in values.items():
        p = known.get(name)
        if p is None:
            problems.append(f"unknown parameter {name!r}")
            continue
        try:
            out[name] = _coerce(p, value)
        except (ValueError, TypeError):
            problems.append(f"{name!r} must be {_ARTICLE.get(p.type, p.type)}, not {value!r}")
    if problems:
        hint = (
            f"The notebook's parameters: {', '.join(f'{p.name} ({p.type})' for p in params)}."
            if params
            else "The notebook has no cell tagged 'parameters'; tag one (papermill's "
            "convention) to give it parameters."
        )
        raise InvalidInput(f"Bad notebook parameters: {where}{'; '.join(problems)}. {hint}")
    return out
