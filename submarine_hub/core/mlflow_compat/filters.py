"""MLflow's ``filter_string`` of the searches other than runs (experiments, registered
models, model versions, logged models: ``name LIKE 'churn%'``, ``run_id = '12'``).

Runs are searched by the platform's one run search (``core/run_search.py``); these
searches need only clauses joined by ``and``, each ``<key> <comparator> <value>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement

from ..errors import InvalidInput

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<ident>(?:[A-Za-z_][\w]*\.)?(?:`[^`]+`|[A-Za-z_][\w.\-/ ]*?(?=\s*(?:!=|<=|>=|=|<|>|\s|$))))
    | (?P<num>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))
    | (?P<op>!=|<=|>=|=|<|>)
    | (?P<paren>[(),])
    )""",
    re.VERBOSE,
)
ENTITIES = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
    "run": "attributes",
}
NUMERIC_OPS = {"=", "!=", "<", "<=", ">", ">="}
STRING_OPS = {"=", "!=", "LIKE", "ILIKE"}


@dataclass
class Clause:
    entity: str  # metrics | params | tags | attributes
    key: str
    op: str
    value: Any


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _split_key(ident: str) -> tuple[str, str]:
    """``(entity, key)`` of a search key; a bare key (``name``) is an attribute."""
    if "." not in ident.split("`")[0]:
        return "attributes", ident.strip("`")
    entity, _, key = ident.partition(".")
    entity = ENTITIES.get(entity.lower(), "")
    if not entity:
        raise InvalidInput(
            f"Bad search key {ident!r}: the entity must be metrics, params, tags or attributes."
        )
    key = key.strip()
    if key.startswith("`") and key.endswith("`"):
        key = key[1:-1]
    return entity, key


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise InvalidInput(f"Cannot parse the filter near {text[pos : pos + 20]!r}.")
        kind = m.lastgroup or ""
        value = m.group(kind).strip()
        if kind == "ident" and value.upper() in ("AND", "LIKE", "ILIKE", "IN", "NOT"):
            kind = "word"
            value = value.upper()
        out.append((kind, value))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def parse_filter(text: str | None) -> list[Clause]:
    """The clauses of an MLflow ``filter_string`` (all must hold); a 400 naming what is
    wrong otherwise."""
    if not text or not text.strip():
        return []
    toks = _tokens(text)
    clauses: list[Clause] = []
    i = 0

    def need(ok: bool, what: str) -> None:
        if not ok:
            raise InvalidInput(f"Bad filter {text!r}: {what}.")

    while i < len(toks):
        need(toks[i][0] == "ident", "expected a key like metrics.acc")
        entity, key = _split_key(toks[i][1])
        i += 1
        need(i < len(toks), "a comparison is missing")
        kind, op = toks[i]
        if kind == "word" and op == "NOT":
            need(i + 1 < len(toks) and toks[i + 1][1] == "IN", "NOT must be followed by IN")
            op, i = "NOT IN", i + 1
        need(kind in ("op", "word") and op in NUMERIC_OPS | STRING_OPS | {"IN", "NOT IN"},
             f"unknown comparator {op!r}")  # fmt: skip
        i += 1
        value: Any
        if op in ("IN", "NOT IN"):
            need(i < len(toks) and toks[i] == ("paren", "("), "IN takes a list: ('a', 'b')")
            i += 1
            value = []
            while i < len(toks) and toks[i] != ("paren", ")"):
                if toks[i] == ("paren", ","):
                    i += 1
                    continue
                need(toks[i][0] == "str", "IN lists strings")
                value.append(_unquote(toks[i][1]))
                i += 1
            need(i < len(toks), "the IN list is not closed")
            i += 1
        else:
            need(i < len(toks) and toks[i][0] in ("str", "num"), "a value is missing")
            kind, raw = toks[i]
            value = _unquote(raw) if kind == "str" else float(raw)
            i += 1
        clauses.append(_checked(Clause(entity, key, op, value), text))
        if i < len(toks):
            need(toks[i] == ("word", "AND"), "clauses are joined by AND (OR is not supported)")
            i += 1
            need(i < len(toks), "a clause is missing after AND")
    return clauses


def _checked(c: Clause, text: str) -> Clause:
    numeric = c.entity == "metrics" or c.key in ("start_time", "end_time", "created")
    if c.op in ("IN", "NOT IN"):
        if c.entity != "attributes" or c.key not in ("run_id", "status", "run_name"):
            raise InvalidInput(f"Bad filter {text!r}: IN works on run_id, status and run_name.")
    elif numeric:
        if c.op not in NUMERIC_OPS or not isinstance(c.value, float):
            raise InvalidInput(
                f"Bad filter {text!r}: {c.entity}.{c.key} compares with a number "
                f"({', '.join(sorted(NUMERIC_OPS))})."
            )
    elif c.op not in STRING_OPS or not isinstance(c.value, str):
        raise InvalidInput(
            f"Bad filter {text!r}: {c.entity}.{c.key} compares with a quoted string "
            "(=, !=, LIKE, ILIKE)."
        )
    return c


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "LIKE":
        return column.like(value)
    if op == "ILIKE":
        return func.lower(column).like(str(value).lower())
    raise InvalidInput(f"Unknown comparator {op!r}.")
