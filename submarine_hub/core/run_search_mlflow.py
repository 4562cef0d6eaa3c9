"""MLflow's run search syntax over the platform's run tables: ``filter_string``
(``metrics.acc > 0.9 and params.model = 'rf' and tags.x LIKE 'a%'``) and ``order_by``
(``metrics.acc DESC``, ``attributes.start_time``), turned into SQL.

A minimal parser of the subset MLflow documents for runs: clauses joined by ``and``, each
``<entity>.<key> <comparator> <value>``; entities ``metrics``, ``params``, ``tags``,
``attributes`` (``run_id``, ``run_name``, ``status``, ``start_time``, ``end_time``,
``user_id``); comparators ``= != < <= > >=`` for numbers, ``= != LIKE ILIKE`` for
strings, ``IN``/``NOT IN`` for run ids and statuses. A metric compares its latest value
(the highest step, then the last logged).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from ..store.mlflow_tables import MlflowRunTag
from ..store.models import Experiment, Metric, Param
from .errors import InvalidInput

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
ATTRIBUTES = {"run_id", "run_name", "status", "start_time", "end_time", "user_id", "created"}
STATUS_TO_OURS = {
    "RUNNING": ["running"],
    "SCHEDULED": ["pending"],
    "FINISHED": ["succeeded"],
    "FAILED": ["failed"],
    "KILLED": ["killed"],
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


def latest_metric(key: str) -> Any:
    """``(run id, value)`` of each run's latest point of metric ``key``."""
    inner = aliased(Metric)
    newest = (
        select(inner.id)
        .where(inner.experiment_id == Metric.experiment_id, inner.key == key)
        .order_by(inner.step.desc(), inner.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(Metric.experiment_id.label("run_id"), Metric.value.label("value"))
        .where(Metric.key == key, Metric.id == newest)
        .subquery()
    )


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


def _attribute(c: Clause) -> ColumnElement[bool]:
    if c.key not in ATTRIBUTES:
        known = ", ".join(sorted(ATTRIBUTES))
        raise InvalidInput(f"Unknown run attribute {c.key!r}; use one of {known}.")
    if c.key == "run_id":
        ids = c.value if isinstance(c.value, list) else [c.value]
        numbers = [int(v) for v in ids if str(v).isdigit() and len(str(v)) < 19]
        cond = Experiment.id.in_(numbers)
        return ~cond if c.op in ("!=", "NOT IN") else cond
    if c.key == "status":
        names = c.value if isinstance(c.value, list) else [c.value]
        ours = [s for n in names for s in STATUS_TO_OURS.get(str(n).upper(), [])]
        if c.op in ("LIKE", "ILIKE"):
            raise InvalidInput("Compare attributes.status with = or IN.")
        cond = Experiment.status.in_(ours)
        return ~cond if c.op in ("!=", "NOT IN") else cond
    if c.key == "run_name":
        if c.op in ("IN", "NOT IN"):
            cond = Experiment.name.in_(c.value)
            return ~cond if c.op == "NOT IN" else cond
        return _compare(Experiment.name, c.op, c.value)
    if c.key == "user_id":
        return _compare(Experiment.owner, c.op, c.value)
    column = {"start_time": Experiment.started_at, "end_time": Experiment.finished_at}.get(
        c.key, Experiment.created_at
    )
    try:
        when = datetime.fromtimestamp(float(c.value) / 1000, timezone.utc)
    except (OverflowError, ValueError, OSError):
        raise InvalidInput(f"attributes.{c.key} compares with epoch milliseconds.") from None
    return _compare(column, c.op, when)


def apply_filter(query: Select[Any], clauses: list[Clause]) -> Select[Any]:
    """``query`` (over :class:`Experiment`) narrowed to the runs every clause holds for."""
    for c in clauses:
        if c.entity == "attributes":
            query = query.where(_attribute(c))
        elif c.entity == "metrics":
            latest = latest_metric(c.key)
            query = query.where(
                Experiment.id.in_(
                    select(latest.c.run_id).where(_compare(latest.c.value, c.op, c.value))
                )
            )
        elif c.entity == "params":
            query = query.where(
                Experiment.id.in_(
                    select(Param.experiment_id).where(
                        Param.key == c.key, _compare(Param.value, c.op, c.value)
                    )
                )
            )
        else:
            held = select(MlflowRunTag.run_id).where(MlflowRunTag.key == c.key)
            if c.op == "!=":  # a run without the tag is not "different from" a value
                query = query.where(Experiment.id.in_(held.where(MlflowRunTag.value != c.value)))
            else:
                query = query.where(
                    Experiment.id.in_(held.where(_compare(MlflowRunTag.value, c.op, c.value)))
                )
    return query


_ORDER = re.compile(r"^\s*(?P<key>.+?)(?:\s+(?P<dir>ASC|DESC))?\s*$", re.IGNORECASE)


def apply_order(query: Select[Any], order_by: list[str]) -> Select[Any]:
    """``query`` sorted as MLflow's ``order_by`` says (then newest first, as MLflow)."""
    keys: list[Any] = []
    for n, item in enumerate(order_by or []):
        m = _ORDER.match(item or "")
        if not m:
            raise InvalidInput(f"Bad order_by {item!r}: use e.g. 'metrics.acc DESC'.")
        entity, key = _split_key(m.group("key").strip())
        desc = (m.group("dir") or "ASC").upper() == "DESC"
        column: Any
        if entity == "metrics":
            latest = latest_metric(key).alias(f"order_m{n}")
            query = query.outerjoin(latest, latest.c.run_id == Experiment.id)
            column = latest.c.value
        elif entity == "params":
            p = aliased(Param, name=f"order_p{n}")
            query = query.outerjoin(p, and_(p.experiment_id == Experiment.id, p.key == key))
            column = p.value
        elif entity == "tags":
            t = aliased(MlflowRunTag, name=f"order_t{n}")
            query = query.outerjoin(t, and_(t.run_id == Experiment.id, t.key == key))
            column = t.value
        else:
            column = {
                "run_id": Experiment.id,
                "run_name": Experiment.name,
                "status": Experiment.status,
                "start_time": Experiment.started_at,
                "end_time": Experiment.finished_at,
                "user_id": Experiment.owner,
            }.get(key, Experiment.created_at)
        keys.append(column.is_(None))  # runs without the value last, as MLflow
        keys.append(column.desc() if desc else column.asc())
    keys += [Experiment.started_at.desc(), Experiment.id.desc()]
    return query.order_by(*keys)
