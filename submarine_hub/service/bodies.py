"""Request bodies checked against the OpenAPI document's schemas.

A handler that calls :meth:`~.handlers.base.BaseHandler.checked_body` gets its JSON body
only once it holds what the document's ``requestBody`` schema of its route and method
states (types, required fields, enums, unknown fields where the schema closes its
object, bounds); otherwise the request answers 400 with what is wrong, each field named:

    'base_version' must be a whole number or null. 'mode' must be one of r, rw.

What a schema cannot state (a path's safety, a cron expression, who may do what) stays
with the domain core.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from ..core.errors import InvalidInput

#: errors named in one answer, at most
MAX_ERRORS = 5
_DOCUMENT = "urn:submarine-hub:openapi"
_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "text",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class RequestBodies:
    """The request body schemas of an OpenAPI document, as validators by operation."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document
        resource = DRAFT202012.create_resource(document)
        self._registry: Registry = Registry().with_resource(_DOCUMENT, resource)
        self._validators: dict[tuple[str, str], Draft202012Validator | None] = {}
        self._shallow: dict[tuple[str, str, str], Draft202012Validator | None] = {}

    def validator(self, path: str, method: str) -> Draft202012Validator | None:
        """The validator of ``method`` on ``path`` (the document's spelling, e.g.
        ``/files/versions``), or None when the operation documents no JSON body."""
        key = (path, method.lower())
        if key not in self._validators:
            op = self._document["paths"].get(path, {}).get(key[1], {})
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                self._validators[key] = None
            else:
                ref = (
                    "#"
                    + "/"
                    + _pointer(
                        "paths",
                        path,
                        key[1],
                        "requestBody",
                        "content",
                        "application/json",
                        "schema",
                    )
                )
                self._validators[key] = Draft202012Validator(
                    {"$ref": _DOCUMENT + ref}, registry=self._registry
                )
        return self._validators[key]

    def shallow_validator(self, path: str, method: str) -> Draft202012Validator | None:
        """The operation's validator without the ``items`` of its top-level lists: for bulk
        bodies (a thousand metric points) whose items the domain core checks one by one
        anyway, where checking each item with the schema too would cost more than storing it."""
        key = (path, method.lower(), "shallow")
        if key not in self._shallow:
            full = self.validator(path, method)
            if full is None:
                self._shallow[key] = None
            else:
                op = self._document["paths"][path][key[1]]
                schema = dict(op["requestBody"]["content"]["application/json"]["schema"])
                schema["properties"] = {
                    name: {k: v for k, v in prop.items() if k != "items"}
                    for name, prop in schema.get("properties", {}).items()
                }
                self._shallow[key] = Draft202012Validator(schema, registry=self._registry)
        return self._shallow[key]

    def check(self, path: str, method: str, body: Any, *, items: bool = True) -> Any:
        """``body`` if it holds what the operation's schema states; else :class:`InvalidInput`
        saying what is wrong, field by field. ``items=False``: the items of the body's
        top-level lists are left to the caller (:meth:`shallow_validator`)."""
        validator = self.validator(path, method) if items else self.shallow_validator(path, method)
        if validator is None:
            return body
        errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.path)))
        if errors:
            raise InvalidInput(" ".join(describe(e) for e in _leaves(errors)[:MAX_ERRORS]))
        return body


def _leaves(errors: Iterable[ValidationError]) -> list[ValidationError]:
    """The errors to tell: an ``allOf``/``$ref`` error's own causes, and of a ``oneOf`` or
    ``anyOf`` the causes of its closest alternative."""
    out: list[ValidationError] = []
    for error in errors:
        if error.validator in ("oneOf", "anyOf") and error.context:
            deepest = max(len(e.path) for e in error.context)
            out.extend(e for e in error.context if len(e.path) == deepest)
        else:
            out.append(error)
    return out


def _where(path: Sequence[Any]) -> str:
    """``'a.b[2]'`` for a place in the body; the body itself for none."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return f"'{text}'" if text else "The request body"


def _join(where: str, name: str) -> str:
    return f"'{name}'" if where == "The request body" else f"{where[:-1]}.{name}'"


def describe(error: ValidationError) -> str:
    """One sentence a person can act on: the field and what it must be."""
    where, kind, value = _where(error.path), error.validator, error.validator_value
    if kind == "type":
        types = [value] if isinstance(value, str) else list(value)
        words = [_TYPE_WORDS.get(t, t) for t in types if t != "null"]
        text = " or ".join(words) + (" or null" if "null" in types else "")
        return f"{where} must be {text or 'null'}."
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{_join(where, missing)} is required."
    if kind == "enum":
        return f"{where} must be one of {', '.join(map(str, value))}."
    if kind == "const":
        return f"{where} must be {value!r}."
    if kind == "additionalProperties" and value is False:
        known = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        what = "the request body" if where == "The request body" else where
        return (
            f"Unknown or read-only field(s) of {what}: {', '.join(unknown)}; "
            f"the fields are {', '.join(known)}."
        )
    bounds = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "more than",
        "exclusiveMaximum": "less than",
    }
    if kind in bounds:
        return f"{where} must be {bounds[kind]} {value}."
    if kind == "minLength":
        return f"{where} must not be empty." if value == 1 else f"{where} is too short."
    if kind == "maxLength":
        return f"{where} is longer than {value} characters."
    if kind in ("minItems", "maxItems"):
        if kind == "minItems" and value == 1:
            return f"{where} must not be empty."
        most = "at least" if kind == "minItems" else "at most"
        return f"{where} must hold {most} {value} item(s)."
    if kind in ("minProperties", "maxProperties"):
        most = "at least" if kind == "minProperties" else "at most"
        return f"{where} must name {most} {value} field(s)."
    if kind == "pattern":
        return f"{where} {error.instance!r} does not have the expected form ({value})."
    return f"{where}: {error.message}."
