"""Content addressing below the file level.

A notebook is stored as parts: its metadata, each cell without its outputs, and each
output on its own. A version is a *manifest* naming its parts by SHA-256, so an
unchanged cell or a large output (an image, a table) is stored once however many
versions refer to it. Text and binary files are one part each.

The same functions run in the single-user server (to send only parts the platform
does not have) and in the platform service (to check and store them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from .errors import InvalidInput
from .validation import parse_json

FORMATS = ("notebook", "text", "base64")
_HASH = re.compile(r"[0-9a-f]{64}")
_NOTEBOOK_KEYS = {"format", "nbformat", "nbformat_minor", "metadata", "cells"}


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _put(parts: dict[str, bytes], data: bytes) -> str:
    key = digest(data)
    parts.setdefault(key, data)
    return key


def split(content: Any, fmt: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """``(manifest, parts)`` of a file's content in the contents API's ``format``."""
    parts: dict[str, bytes] = {}
    if fmt == "notebook":
        if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
            raise InvalidInput("A notebook must be a JSON object with a 'cells' list.")
        if not isinstance(content.get("metadata", {}), dict):
            raise InvalidInput("A notebook's 'metadata' must be a JSON object.")
        for key in ("nbformat", "nbformat_minor"):
            if not _is_version(content.get(key, 0)):
                raise InvalidInput(f"A notebook's '{key}' must be a small whole number.")
        cells = []
        for cell in content["cells"]:
            if not isinstance(cell, dict):
                raise InvalidInput("Every notebook cell must be a JSON object.")
            raw_outputs = cell.get("outputs") or []
            if not isinstance(raw_outputs, list) or not all(
                isinstance(o, dict) for o in raw_outputs
            ):
                raise InvalidInput("A notebook cell's 'outputs' must be a list of objects.")
            outputs = [_put(parts, canonical(o)) for o in raw_outputs]
            body = {k: v for k, v in cell.items() if k != "outputs"}
            if "outputs" in cell:
                body["outputs"] = outputs
            cells.append(_put(parts, canonical(body)))
        manifest = {
            "format": "notebook",
            "nbformat": content.get("nbformat", 4),
            "nbformat_minor": content.get("nbformat_minor", 5),
            "metadata": _put(parts, canonical(content.get("metadata", {}))),
            "cells": cells,
        }
    elif fmt == "text":
        if not isinstance(content, str):
            raise InvalidInput("A text file's content must be a string.")
        manifest = {"format": "text", "content": _put(parts, content.encode())}
    elif fmt == "base64":
        if not isinstance(content, str):
            raise InvalidInput("A binary file's content must be a base64 string.")
        try:
            raw = base64.b64decode(content, validate=True)
        except ValueError:
            raise InvalidInput("A binary file's content is not valid base64.") from None
        manifest = {"format": "base64", "content": _put(parts, raw)}
    else:
        raise InvalidInput(f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    return manifest, parts


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and _HASH.fullmatch(value) is not None


def _is_version(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1000


def check_manifest(manifest: Any) -> dict[str, Any]:
    """``manifest`` if it is one :func:`split` could have made (its parts aside); else a
    400 saying what is wrong."""
    if not isinstance(manifest, dict) or manifest.get("format") not in FORMATS:
        raise InvalidInput(f"A manifest is an object whose 'format' is one of {FORMATS}.")
    if manifest["format"] != "notebook":
        if set(manifest) != {"format", "content"} or not _is_hash(manifest["content"]):
            raise InvalidInput("A file's manifest is {format, content: <SHA-256 of its part>}.")
        return manifest
    if (
        set(manifest) != _NOTEBOOK_KEYS
        or not _is_version(manifest["nbformat"])
        or not _is_version(manifest["nbformat_minor"])
        or not _is_hash(manifest["metadata"])
        or not isinstance(manifest["cells"], list)
        or not all(_is_hash(c) for c in manifest["cells"])
    ):
        raise InvalidInput(
            "A notebook's manifest is {format, nbformat, nbformat_minor, metadata: <hash>, "
            "cells: [<hash>, ...]}."
        )
    return manifest


def _json_part(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = parse_json(data, f"A notebook's {what} part")
    except UnicodeDecodeError:
        value = None
    if not isinstance(value, dict):
        raise InvalidInput(f"A notebook's {what} part must be a JSON object.")
    return value


def _cell_part(data: bytes) -> dict[str, Any]:
    cell = _json_part(data, "cell")
    outputs = cell.get("outputs", [])
    if not isinstance(outputs, list) or not all(_is_hash(o) for o in outputs):
        raise InvalidInput("A notebook's cell part names its outputs by hash: 'outputs': [...].")
    return cell


def check_parts(manifest: dict[str, Any], parts: dict[str, bytes]) -> None:
    """Every part of ``parts`` the (checked) manifest names is fit for its place in it:
    notebook cells, outputs and metadata JSON objects, text UTF-8; else a 400."""
    if manifest["format"] == "text":
        if manifest["content"] in parts:
            try:
                parts[manifest["content"]].decode()
            except UnicodeDecodeError:
                raise InvalidInput("A text file's part must be UTF-8.") from None
        return
    if manifest["format"] != "notebook":
        return
    if manifest["metadata"] in parts:
        _json_part(parts[manifest["metadata"]], "metadata")
    for key in manifest["cells"]:
        if key in parts:
            for out in _cell_part(parts[key]).get("outputs", []):
                if out in parts:
                    _json_part(parts[out], "output")


def referenced(manifest: dict[str, Any], parts: dict[str, bytes]) -> set[str]:
    """Every part a (checked) manifest needs, given the cell parts (whose outputs it
    names) at hand; a 400 if one of those is not a cell."""
    if manifest["format"] != "notebook":
        return {manifest["content"]}
    refs = {manifest["metadata"], *manifest["cells"]}
    for key in manifest["cells"]:
        if key in parts:
            refs.update(_cell_part(parts[key]).get("outputs", ()))
    return refs


def join(manifest: dict[str, Any], parts: dict[str, bytes]) -> Any:
    """The file's content back from its (checked) manifest and parts; a 400 if a part
    does not fit its place (a version stored before parts were checked)."""
    fmt = manifest["format"]
    try:
        if fmt == "text":
            return parts[manifest["content"]].decode()
        if fmt == "base64":
            return base64.b64encode(parts[manifest["content"]]).decode()
    except UnicodeDecodeError:
        raise InvalidInput("A text file's part must be UTF-8.") from None
    cells = []
    for key in manifest["cells"]:
        cell = _cell_part(parts[key])
        if "outputs" in cell:
            cell["outputs"] = [_json_part(parts[o], "output") for o in cell["outputs"]]
        cells.append(cell)
    return {
        "cells": cells,
        "metadata": _json_part(parts[manifest["metadata"]], "metadata"),
        "nbformat": manifest["nbformat"],
        "nbformat_minor": manifest["nbformat_minor"],
    }


def size_of(content: Any, fmt: str) -> int:
    """Bytes of the file as Jupyter writes it."""
    if fmt == "notebook":
        return len(json.dumps(content, indent=1, ensure_ascii=False).encode()) + 1
    if fmt == "base64":
        return len(base64.b64decode(content))
    return len(content.encode())
