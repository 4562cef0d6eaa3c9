"""Run search: MLflow's filter and order-by syntax compiled to one SQLAlchemy query.

    metrics.accuracy > 0.9 and params.model = 'rf' and tags.stage = 'prod'
    attributes.status = 'FINISHED' and attributes.parent_id = 12
    order by: ["metrics.accuracy DESC", "params.lr", "start_time"]

The grammar is MLflow's (``mlflow.utils.search_utils``): comparisons joined by ``AND``
only; an entity prefix (``metrics.`` ``params.`` ``tags.`` ``attributes.`` and their
singular/short forms) then a key, bare or quoted with backticks or double quotes; values
are numbers (metrics, numeric attributes) or quoted strings (params, tags, string
attributes). Operators: ``= != < <= > >=`` on numbers, ``= != LIKE ILIKE IN NOT IN`` on
strings. Beyond MLflow: a bare attribute name (``status = 'failed'``) and
``attributes.parent_id IS NULL`` (top-level runs).

Metrics compare by each run's *latest* value (``latest_metrics``, kept by ``log_batch``).
Tags are the run's labels: the label ``key=value`` is tag ``key`` with value ``value``; a
label without ``=`` is tag ``label`` with value ``"true"``.

Every value becomes a bound parameter; keys only ever select a column or a bound
``key = :k`` condition, so nothing the user typed reaches the SQL text. Errors are
:class:`SearchSyntaxError` (an :class:`InvalidInput`, 400) with the character position.

Usage (``session`` an ``AsyncSession``)::

    page = await search_runs(session, identity, filter="metrics.acc > 0.9",
                             order_by=["metrics.acc DESC"], max_results=50)
    page.runs, page.next_page_token

or, to scope the runs yourself::

    query = apply(select(Experiment).where(...), "params.model = 'rf'", ["start_time DESC"])
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, cast

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput
from sqlalchemy import (
    Select,
    and_,
    exists,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from ..store.mlflow_tables import MlflowRunTag
from ..store.models import PARAM_INDEX_CHARS, Experiment, ExperimentTag, LatestMetric, Param
from . import scopes
from .errors import InvalidInput
from .identity import Identity
from .validation import INT64_MAX

MAX_RESULTS = 1000
MAX_FILTER_LENGTH = 4000
MAX_CLAUSES = 50

# --- grammar -------------------------------------------------------------------------

GRAMMAR = r"""
filter: comparison (AND comparison)*
order: field DIRECTION?

comparison: field OP value                              -> compare
          | field LIKE STRING                           -> like
          | field IN "(" value ("," value)* ","? ")"    -> in_list
          | field IS NULL                               -> is_null

field: NAME ("." key)?
key: KEY | STRING | BACKTICKED

value: STRING | NUMBER

AND.2: /and(?![\w.])/i
LIKE.2: /(not\s+)?i?like(?![\w.])/i
IN.2: /(not\s+)?in(?![\w.])/i
IS.2: /is(\s+not)?(?![\w.])/i
NULL.2: /null(?![\w.])/i
DIRECTION.2: /(asc|desc)(?![\w.])/i
OP: "!=" | "<>" | "<=" | ">=" | "==" | "=" | "<" | ">"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
KEY: /[A-Za-z0-9_][A-Za-z0-9_.\-\/:]*/
STRING: /'(?:[^'\\]|\\.|'')*'/ | /"(?:[^"\\]|\\.)*"/
BACKTICKED: /`[^`]*`/
NUMBER: /[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/

%import common.WS
%ignore WS
"""


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, start=["filter", "order"], parser="lalr", propagate_positions=True)


class SearchSyntaxError(InvalidInput):
    """A filter or order-by the search cannot read; ``position`` is the 0-based character
    where the problem is (the API answers 400 with it in the message)."""

    def __init__(self, message: str, text: str, position: int) -> None:
        self.text = text
        self.position = position
        caret = f" (at character {position + 1}: {_context(text, position)})"
        super().__init__(message + caret)


def _context(text: str, position: int) -> str:
    start = max(0, position - 20)
    return repr(text[start:position] + "⟶" + text[position : position + 20])


# --- parsed form ---------------------------------------------------------------------

METRIC, PARAM, TAG, ATTRIBUTE = "metric", "param", "tag", "attribute"
PREFIXES = {
    "metric": METRIC,
    "metrics": METRIC,
    "param": PARAM,
    "params": PARAM,
    "parameter": PARAM,
    "parameters": PARAM,
    "tag": TAG,
    "tags": TAG,
    "attribute": ATTRIBUTE,
    "attributes": ATTRIBUTE,
    "attr": ATTRIBUTE,
    "run": ATTRIBUTE,
}

NUMERIC_OPS: tuple[str, ...] = ("=", "!=", "<", "<=", ">", ">=")
STRING_OPS: tuple[str, ...] = ("=", "!=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE", "IN", "NOT IN")

#: attribute name (MLflow's and ours) -> (column, type)
STRING_ATTRIBUTES = {
    "name": Experiment.name,
    "run_name": Experiment.name,
    "status": Experiment.status,
    "owner": Experiment.owner,
    "user_id": Experiment.owner,
    "team": Experiment.team,
    "kind": Experiment.kind,
    "backend": Experiment.backend,
    "template": Experiment.template,
    "pipeline_step": Experiment.pipeline_step,
}
ID_ATTRIBUTES = {
    "id": Experiment.id,
    "run_id": Experiment.id,
    "parent_id": Experiment.parent_id,
    "pipeline_id": Experiment.pipeline_id,
    "rerun_of": Experiment.rerun_of,
    "exit_code": Experiment.exit_code,
}
TIME_ATTRIBUTES = {
    "start_time": Experiment.started_at,
    "started_at": Experiment.started_at,
    "end_time": Experiment.finished_at,
    "finished_at": Experiment.finished_at,
    "created": Experiment.created_at,
    "created_at": Experiment.created_at,
}
ATTRIBUTES = {**STRING_ATTRIBUTES, **ID_ATTRIBUTES, **TIME_ATTRIBUTES}

#: MLflow's run statuses -> ours
MLFLOW_STATUS = {
    "RUNNING": "running",
    "SCHEDULED": "pending",
    "FINISHED": "succeeded",
    "FAILED": "failed",
    "KILLED": "killed",
}


@dataclass(frozen=True)
class Comparison:
    """One ``<kind>.<key> <op> <value>`` of a filter."""

    kind: str  # metric | param | tag | attribute
    key: str
    op: str  # = != < <= > >= LIKE ILIKE NOT LIKE NOT ILIKE IN NOT IN IS NULL IS NOT NULL
    value: Any  # float | str | tuple of them | None
    position: int = 0


@dataclass(frozen=True)
class OrderKey:
    kind: str
    key: str
    ascending: bool
    position: int = 0


def _unquote(token: str) -> str:
    quote, body = token[0], token[1:-1]
    if quote == "`":
        return body
    if quote == "'":
        body = body.replace("''", "'")
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(body[i + 1])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


@dataclass
class _Value:
    value: float | str
    is_string: bool
    position: int


class _Build(Transformer[Token, Any]):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def field(self, items: list[Any]) -> tuple[str, str, int]:
        name: Token = items[0]
        if len(items) == 1:  # a bare attribute
            return ATTRIBUTE, str(name), name.start_pos or 0
        kind = PREFIXES.get(str(name).lower())
        if kind is None:
            raise SearchSyntaxError(
                f"Unknown entity {str(name)!r}: use metrics., params., tags. or attributes.",
                self.text,
                name.start_pos or 0,
            )
        return kind, items[1], name.start_pos or 0

    def key(self, items: list[Token]) -> str:
        tok = items[0]
        return _unquote(str(tok)) if tok.type in ("STRING", "BACKTICKED") else str(tok)

    def value(self, items: list[Token]) -> _Value:
        tok = items[0]
        pos = tok.start_pos or 0
        if tok.type == "STRING":
            return _Value(_unquote(str(tok)), True, pos)
        number = float(str(tok))
        if number != number or number in (float("inf"), float("-inf")):
            raise SearchSyntaxError("Numbers must be finite.", self.text, pos)
        return _Value(number, False, pos)

    def compare(self, items: list[Any]) -> Comparison:
        (kind, key, pos), op, value = items
        op = {"<>": "!=", "==": "="}.get(str(op), str(op))
        return self._check(Comparison(kind, key, op, value, pos), value.position)

    def like(self, items: list[Any]) -> Comparison:
        (kind, key, pos), op, string = items
        value = _Value(_unquote(str(string)), True, string.start_pos or 0)
        return self._check(Comparison(kind, key, _words(op), value, pos), value.position)

    def in_list(self, items: list[Any]) -> Comparison:
        (kind, key, pos), op, *values = items
        return self._check(Comparison(kind, key, _words(op), tuple(values), pos), pos)

    def is_null(self, items: list[Any]) -> Comparison:
        (kind, key, pos), op, _ = items
        return self._check(Comparison(kind, key, _words(op) + " NULL", None, pos), pos)

    def filter(self, items: list[Any]) -> list[Comparison]:
        return [c for c in items if isinstance(c, Comparison)]

    def order(self, items: list[Any]) -> OrderKey:
        kind, key, pos = items[0]
        ascending = len(items) == 1 or str(items[1]).lower() == "asc"
        _check_key(self.text, kind, key, pos)
        return OrderKey(kind, _attribute_name(key) if kind == ATTRIBUTE else key, ascending, pos)

    def _check(self, c: Comparison, value_pos: int) -> Comparison:
        """The operator fits the entity and the value its type (MLflow's rules)."""
        _check_key(self.text, c.kind, c.key, c.position)
        key = _attribute_name(c.key) if c.kind == ATTRIBUTE else c.key
        values = c.value if isinstance(c.value, tuple) else (c.value,)
        if c.op.startswith("IS"):
            if c.kind != ATTRIBUTE or key not in ID_ATTRIBUTES | TIME_ATTRIBUTES:
                raise SearchSyntaxError(
                    "IS NULL applies to attributes such as parent_id or end_time only.",
                    self.text,
                    c.position,
                )
            return Comparison(c.kind, key, c.op, None, c.position)
        numeric = c.kind == METRIC or (c.kind == ATTRIBUTE and key in ID_ATTRIBUTES)
        timed = c.kind == ATTRIBUTE and key in TIME_ATTRIBUTES
        allowed: tuple[str, ...] = (*NUMERIC_OPS, "IN", "NOT IN") if numeric else STRING_OPS
        if c.kind == METRIC:
            allowed = NUMERIC_OPS
        if timed:
            allowed = NUMERIC_OPS
        if c.op not in allowed:
            raise SearchSyntaxError(
                f"Operator {c.op!r} does not apply to {c.kind} {key!r}; use one of "
                f"{', '.join(allowed)}.",
                self.text,
                value_pos,
            )
        out: list[Any] = []
        for v in values:
            if numeric and c.kind == METRIC and v.is_string:
                raise SearchSyntaxError(
                    f"Metric {key!r} compares with a number, not a string.", self.text, v.position
                )
            if numeric and c.kind == ATTRIBUTE:
                out.append(_whole(self.text, key, v))
            elif timed:
                out.append(_time(self.text, key, v))
            elif not numeric and not v.is_string:
                raise SearchSyntaxError(
                    f"{c.kind.capitalize()} {key!r} compares with a quoted string, like "
                    f"{c.kind}s.{key} = '{_num(v.value)}'.",
                    self.text,
                    v.position,
                )
            elif c.kind == ATTRIBUTE and key == "status":
                text = str(v.value)
                out.append(MLFLOW_STATUS.get(text.upper(), text.lower()))
            else:
                out.append(v.value)
        value = tuple(out) if isinstance(c.value, tuple) else out[0]
        return Comparison(c.kind, key, c.op, value, c.position)


def _num(value: float | str) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _words(token: Token) -> str:
    return " ".join(str(token).upper().split())


def _attribute_name(key: str) -> str:
    return key.lower()


def _check_key(text: str, kind: str, key: str, position: int) -> None:
    if not key:
        raise SearchSyntaxError(f"An empty {kind} name.", text, position)
    if len(key) > 255:
        raise SearchSyntaxError(f"A {kind} name is at most 255 characters.", text, position)
    if kind == ATTRIBUTE and _attribute_name(key) not in ATTRIBUTES:
        raise SearchSyntaxError(
            f"Unknown attribute {key!r}; use one of {', '.join(sorted(ATTRIBUTES))}.",
            text,
            position,
        )


def _whole(text: str, key: str, v: _Value) -> int:
    try:
        number = float(v.value)
    except ValueError:
        number = float("nan")
    if number != number or number != int(number) or abs(number) > INT64_MAX:
        raise SearchSyntaxError(f"Attribute {key!r} is a whole number.", text, v.position)
    return int(number)


def _time(text: str, key: str, v: _Value) -> datetime:
    """MLflow's times are milliseconds since the epoch; an ISO 8601 string works too."""
    try:
        if v.is_string:
            when = datetime.fromisoformat(str(v.value).replace("Z", "+00:00"))
            return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        return datetime.fromtimestamp(float(v.value) / 1000, timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise SearchSyntaxError(
            f"Attribute {key!r} is a time: milliseconds since the epoch or ISO 8601.",
            text,
            v.position,
        ) from None


def _parse(text: str, start: str) -> Any:
    try:
        tree = _parser().parse(text, start=start)
    except UnexpectedEOF:
        raise SearchSyntaxError("The expression ends too early.", text, len(text)) from None
    except UnexpectedCharacters as e:
        at = e.pos_in_stream or 0
        raise SearchSyntaxError(f"Unexpected {text[at]!r}.", text, at) from None
    except UnexpectedInput as e:
        token = getattr(e, "token", None)
        pos = getattr(token, "start_pos", None)
        if token is None or token.type == "$END" or pos is None:
            raise SearchSyntaxError("The expression ends too early.", text, len(text)) from None
        hint = " (comparisons are joined by AND only)" if str(token).lower() == "or" else ""
        raise SearchSyntaxError(f"Unexpected {str(token)!r}{hint}.", text, pos) from None
    try:
        return _Build(text).transform(tree)
    except Exception as e:  # lark wraps what a callback raises
        inner = getattr(e, "orig_exc", e)
        if isinstance(inner, SearchSyntaxError):
            raise inner from None
        raise


def parse_filter(text: str | None) -> list[Comparison]:
    """The comparisons of a filter (empty or None: no condition)."""
    if text is None or not text.strip():
        return []
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidInput(f"A filter is at most {MAX_FILTER_LENGTH} characters.")
    comparisons: list[Comparison] = _parse(text, "filter")
    if len(comparisons) > MAX_CLAUSES:
        raise InvalidInput(f"A filter has at most {MAX_CLAUSES} comparisons.")
    return comparisons


def parse_order_by(items: Sequence[str] | str | None) -> list[OrderKey]:
    """``["metrics.acc DESC", "start_time"]`` (or one comma-separated string)."""
    if items is None:
        return []
    if isinstance(items, str):
        items = [i for i in items.split(",") if i.strip()] if items.strip() else []
    if len(items) > 10:
        raise InvalidInput("At most 10 order-by keys.")
    out = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise InvalidInput("Each order-by key is a string like 'metrics.accuracy DESC'.")
        out.append(_parse(item, "order"))
    return out


# --- compiling -----------------------------------------------------------------------


@dataclass
class _Joins:
    """One join of ``latest_metrics``/``params`` per key the filter or the order names."""

    query: Select[Any]
    #: the filter names runs by id, parent or pipeline: few runs, found by those indexes;
    #: the joins then match the key without its index (``key || ''``), or SQLite (without
    #: statistics) may walk every run's metric in order instead
    narrowed: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def _key(self, column: Any) -> Any:
        return column + "" if self.narrowed else column

    def metric(self, key: str, *, outer: bool) -> Any:
        if key not in self.metrics:
            alias = aliased(LatestMetric)
            on = and_(alias.experiment_id == Experiment.id, self._key(alias.key) == key)
            self.query = self.query.join(alias, on, isouter=outer)
            self.metrics[key] = alias
        return self.metrics[key]

    def param(self, key: str, *, outer: bool) -> Any:
        if key not in self.params:
            alias = aliased(Param)
            on = and_(alias.experiment_id == Experiment.id, self._key(alias.key) == key)
            self.query = self.query.join(alias, on, isouter=outer)
            self.params[key] = alias
        return self.params[key]


def _string_condition(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op in ("IN", "NOT IN"):
        cond = column.in_(list(value))
        return not_(cond) if op == "NOT IN" else cond
    like = column.ilike(value) if "ILIKE" in op else column.like(value)
    return not_(like) if op.startswith("NOT") else like


def param_head(column: Any) -> Any:
    """The first characters of a param's value, as ``ix_params_key_value`` indexes them
    (the same SQL text: literal numbers, so the planners match it with the index)."""
    return func.substr(column, literal_column("1"), literal_column(str(PARAM_INDEX_CHARS)))


def _param_condition(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    """A string condition on a param; ``=`` and ``IN`` also on the indexed head of the
    value (the same answer, found through the index)."""
    cond = _string_condition(column, op, value)
    if op == "=":
        return and_(param_head(column) == value[:PARAM_INDEX_CHARS], cond)
    if op == "IN":
        heads = sorted({v[:PARAM_INDEX_CHARS] for v in value})
        return and_(param_head(column).in_(heads), cond)
    return cond


def _numeric_condition(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op in ("IN", "NOT IN"):
        cond = column.in_(list(value))
        return not_(cond) if op == "NOT IN" else cond
    return {
        "=": column.__eq__,
        "!=": column.__ne__,
        "<": column.__lt__,
        "<=": column.__le__,
        ">": column.__gt__,
        ">=": column.__ge__,
    }[op](value)


def tag_label(key: str, value: str) -> str:
    """The run label that is tag ``key`` with ``value``."""
    return key if value == "true" else f"{key}={value}"


def _tag_condition(c: Comparison) -> ColumnElement[bool]:
    """A run's tag is a label (below) or a key-value tag set through the MLflow API."""
    keyed = exists(
        select(MlflowRunTag.run_id).where(
            MlflowRunTag.run_id == Experiment.id,
            MlflowRunTag.key == c.key,
            _string_condition(MlflowRunTag.value, c.op, c.value),
        )
    )
    return or_(_label_condition(c), keyed)


def _label_condition(c: Comparison) -> ColumnElement[bool]:
    """Tags are labels ``key=value`` (or ``key`` alone: value ``"true"``); MLflow's
    ``tags.k != 'v'`` means: the run has tag ``k``, with another value."""
    prefix = f"{c.key}="

    def has(cond: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists(
            select(ExperimentTag.experiment_id).where(
                ExperimentTag.experiment_id == Experiment.id, cond
            )
        )

    def of_key() -> ColumnElement[bool]:
        return or_(
            ExperimentTag.tag == c.key, ExperimentTag.tag.startswith(prefix, autoescape=True)
        )

    # the value of a label: after "key=", or "true" for the bare label
    value = func.substr(ExperimentTag.tag, len(prefix) + 1)
    if c.op == "=":
        return has(ExperimentTag.tag == tag_label(c.key, c.value))
    if c.op == "IN":
        return has(ExperimentTag.tag.in_([tag_label(c.key, v) for v in c.value]))
    if c.op == "NOT IN":
        labels = [tag_label(c.key, v) for v in c.value]
        return has(and_(of_key(), ExperimentTag.tag.not_in(labels)))
    if c.op == "!=":
        return has(and_(of_key(), ExperimentTag.tag != tag_label(c.key, c.value)))
    # LIKE / ILIKE over the value part
    keyed = ExperimentTag.tag.startswith(prefix, autoescape=True)
    like = _string_condition(value, c.op.replace("NOT ", ""), c.value)
    bare = _string_condition(literal("true"), c.op.replace("NOT ", ""), c.value)
    cond = has(or_(and_(keyed, like), and_(ExperimentTag.tag == c.key, bare)))
    if c.op.startswith("NOT"):
        return and_(has(of_key()), not_(cond))
    return cond


NARROWING = ("id", "run_id", "parent_id", "pipeline_id", "rerun_of")
#: attributes every run has (the others may be NULL: sorted last, in a second phase)
NOT_NULL_ATTRIBUTES = ("id", "run_id", "name", "run_name", "status", "owner", "user_id",
                       "team", "kind", "created", "created_at")  # fmt: skip


def _splits(first: OrderKey | None) -> bool:
    """Whether runs sorted first by ``first`` are paged in two phases: those that have a
    value (walking an index in its order: no NULLS LAST, which PostgreSQL's indexes do
    not give for DESC), then those without one."""
    if first is None:
        return False
    return first.kind in (METRIC, PARAM) or (
        first.kind == ATTRIBUTE and first.key not in NOT_NULL_ATTRIBUTES
    )


def _order_keys(order_by: Sequence[str] | str | Sequence[OrderKey] | None) -> list[OrderKey]:
    if order_by is None or isinstance(order_by, str) or all(isinstance(o, str) for o in order_by):
        return parse_order_by(cast("Sequence[str] | str | None", order_by))
    return [cast(OrderKey, o) for o in order_by]


def _comparisons(filter: str | Sequence[Comparison] | None) -> list[Comparison]:
    return parse_filter(filter) if isinstance(filter, str) or filter is None else list(filter)


def apply(
    query: Select[Any],
    filter: str | Sequence[Comparison] | None = None,
    order_by: Sequence[str] | str | Sequence[OrderKey] | None = None,
    *,
    lead: bool | None = None,
) -> Select[Any]:
    """``query`` (a select whose FROM has :class:`Experiment`) narrowed by ``filter`` and
    ordered by ``order_by`` then newest first (``id`` descending, the tie-breaker that
    makes pages stable). Raises :class:`SearchSyntaxError` for what it cannot read.

    ``lead`` (the first order key being a metric, a param or an attribute a run may lack,
    such as ``start_time``): None, runs without it come
    last in one query; True, only the runs that have it; False, only those without it
    (:func:`search_runs` pages through the two in turn, so each walks an index)."""
    comparisons = _comparisons(filter)
    order = _order_keys(order_by)
    narrowed = any(c.kind == ATTRIBUTE and c.key in NARROWING and c.op in ("=", "IN")
                   for c in comparisons)  # fmt: skip
    joins = _Joins(query, narrowed=narrowed)
    conditions: list[ColumnElement[bool]] = []
    lead_attribute: str | None = None
    if lead is not None and order and _splits(order[0]):
        first = order[0]
        if first.kind == ATTRIBUTE:
            column = ATTRIBUTES[first.key]
            conditions.append(column.is_not(None) if lead else column.is_(None))
            if lead:
                lead_attribute = first.key
            else:
                order = order[1:]
        elif lead:
            if first.kind == METRIC:
                joins.metric(first.key, outer=False)
            else:
                joins.param(first.key, outer=False)
        else:
            table = LatestMetric if first.kind == METRIC else Param
            conditions.append(
                ~exists(
                    select(table.experiment_id).where(
                        table.experiment_id == Experiment.id, table.key == first.key
                    )
                )
            )
            order = order[1:]
    for c in comparisons:
        if c.kind == METRIC:
            conditions.append(
                _numeric_condition(joins.metric(c.key, outer=False).value, c.op, c.value)
            )
        elif c.kind == PARAM:
            conditions.append(
                _param_condition(joins.param(c.key, outer=False).value, c.op, c.value)
            )
        elif c.kind == TAG:
            conditions.append(_tag_condition(c))
        else:
            column = ATTRIBUTES[c.key]
            if c.op == "IS NULL":
                conditions.append(column.is_(None))
            elif c.op == "IS NOT NULL":
                conditions.append(column.is_not(None))
            elif c.key in STRING_ATTRIBUTES:
                conditions.append(_string_condition(column, c.op, c.value))
            else:
                conditions.append(_numeric_condition(column, c.op, c.value))
    clauses: list[Any] = []
    for o in order:
        if o.kind == METRIC:
            inner = o.key in joins.metrics
            column = joins.metric(o.key, outer=True).value
        elif o.kind == PARAM:
            inner = o.key in joins.params
            column = joins.param(o.key, outer=True).value
            # by the indexed head of the value first (the index's order), then the rest
            head = param_head(column)
            clause = head.asc() if o.ascending else head.desc()
            clauses.append(clause if inner else clause.nulls_last())
        elif o.kind == TAG:
            raise SearchSyntaxError("Runs sort by metrics, params or attributes, not tags.", "", 0)
        else:
            column = ATTRIBUTES[o.key]
            inner = o.key in NOT_NULL_ATTRIBUTES or o.key == lead_attribute
        clause = column.asc() if o.ascending else column.desc()
        clauses.append(clause if inner else clause.nulls_last())
    q = joins.query
    if conditions:
        q = q.where(*conditions)
    if not any(o.kind == ATTRIBUTE and o.key in ("id", "run_id") for o in order):
        clauses.append(Experiment.id.desc())
    return q.order_by(*clauses)


# --- paging --------------------------------------------------------------------------


def encode_page_token(offset: int, phase: int = 0) -> str:
    body = {"offset": offset, **({"phase": phase} if phase else {})}
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode()


def decode_page_token(token: str | None) -> tuple[int, int]:
    """(offset, phase): phase 0 one query; 1 the runs with the first sort key; 2 those
    without it."""
    if not token:
        return 0, 0
    bad = InvalidInput("'page_token' is not one this search gave.")
    try:
        body = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset, phase = body["offset"], body.get("phase", 0)
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise bad from None
    for n in (offset, phase):
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= INT64_MAX:
            raise bad
    if phase not in (0, 1, 2):
        raise bad
    return offset, phase


@dataclass
class RunPage:
    runs: list[Experiment]
    next_page_token: str | None


def visible_runs(identity: Identity, team: str | None = None) -> Select[Any]:
    """The runs ``identity`` may see (of ``team``, refused to non-members)."""
    return scopes.of_teams(select(Experiment), Experiment.team, identity, team)  # type: ignore[no-any-return]


async def for_a_page(session: AsyncSession) -> None:
    """Settings of the session's transaction for run-search queries, on PostgreSQL:

    - a plan for each query's own values (asyncpg prepares every statement, and after
      five runs PostgreSQL may keep a generic plan, made without the values: for
      ``params.model = 'rf'`` sorted by a metric it walks every run of the param, 100x
      slower than walking the metric's index, which only the values show is better);
    - no parallel workers: a page is an index walk that stops after a few rows, and the
      workers take longer to start (tens of ms on a busy machine) than the walk."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            sql_text(
                "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
                "set_config('max_parallel_workers_per_gather', '0', true)"
            )
        )


async def search_runs(
    session: AsyncSession,
    identity: Identity,
    *,
    filter: str | None = None,
    order_by: Sequence[str] | str | None = None,
    team: str | None = None,
    max_results: int = 50,
    page_token: str | None = None,
) -> RunPage:
    """A page of the runs ``identity`` sees that match ``filter``, in ``order_by`` order."""
    if isinstance(max_results, bool) or not 1 <= max_results <= MAX_RESULTS:
        raise InvalidInput(f"'max_results' must be between 1 and {MAX_RESULTS}.")
    offset, phase = decode_page_token(page_token)
    comparisons = _comparisons(filter)
    order = _order_keys(order_by)
    base = visible_runs(identity, team)
    first = order[0] if order else None
    filtered_on_first = first is not None and any(
        c.kind == first.kind and c.key == first.key for c in comparisons
    )
    await for_a_page(session)
    if not _splits(first) or (filtered_on_first and first and first.kind != ATTRIBUTE):
        query = apply(base, comparisons, order)
        rows = list((await session.scalars(query.offset(offset).limit(max_results + 1))).all())
        token = encode_page_token(offset + max_results) if len(rows) > max_results else None
        return RunPage(rows[:max_results], token)
    # sorted by a metric or param the filter does not name (or an attribute a run may
    # lack): the runs that have it (in the order of its index), then those without it
    rows = []
    if phase in (0, 1):
        query = apply(base, comparisons, order, lead=True)
        rows = list((await session.scalars(query.offset(offset).limit(max_results + 1))).all())
        if len(rows) > max_results:
            return RunPage(rows[:max_results], encode_page_token(offset + max_results, 1))
        offset = 0
    want = max_results - len(rows)
    query = apply(base, comparisons, order, lead=False)
    more = list((await session.scalars(query.offset(offset).limit(want + 1))).all())
    token = encode_page_token(offset + want, 2) if len(more) > want else None
    return RunPage(rows + more[:want], token)


async def child_counts(session: AsyncSession, run_ids: Sequence[int]) -> dict[int, int]:
    """How many child runs (of a sweep, grid, study...) each of ``run_ids`` has."""
    if not run_ids:
        return {}
    rows = await session.execute(
        select(Experiment.parent_id, func.count(Experiment.id))
        .where(Experiment.parent_id.in_(list(run_ids)))
        .group_by(Experiment.parent_id)
    )
    return {int(p): int(n) for p, n in rows.all() if p is not None}


__all__ = [
    "Comparison",
    "OrderKey",
    "RunPage",
    "SearchSyntaxError",
    "apply",
    "child_counts",
    "decode_page_token",
    "encode_page_token",
    "for_a_page",
    "parse_filter",
    "parse_order_by",
    "search_runs",
    "tag_label",
    "visible_runs",
]
