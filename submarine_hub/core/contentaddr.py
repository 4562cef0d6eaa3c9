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
from typing import Any

from .errors import InvalidInput

FORMATS = ("notebook", "text", "base64")


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
        cells = []
        for cell in content["cells"]:
            if not isinstance(cell, dict):
                raise InvalidInput("Every notebook cell must be a JSON object.")
            outputs = [_put(parts, canonical(o)) for o in cell.get("outputs", ()) or ()]
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


def referenced(manifest: dict[str, Any], parts: dict[str, bytes]) -> set[str]:
    """Every part a manifest needs, given the cell parts (whose outputs it names) at hand."""
    if manifest["format"] != "notebook":
        return {manifest["content"]}
    refs = {manifest["metadata"], *manifest["cells"]}
    for key in manifest["cells"]:
        if key in parts:
            refs.update(json.loads(parts[key]).get("outputs", ()))
    return refs


def join(manifest: dict[str, Any], parts: dict[str, bytes]) -> Any:
    """The file's content back from its manifest and parts."""
    fmt = manifest["format"]
    if fmt == "text":
        return parts[manifest["content"]].decode()
    if fmt == "base64":
        return base64.b64encode(parts[manifest["content"]]).decode()
    cells = []
    for key in manifest["cells"]:
        cell = json.loads(parts[key])
        if "outputs" in cell:
            cell["outputs"] = [json.loads(parts[o]) for o in cell["outputs"]]
        cells.append(cell)
    return {
        "cells": cells,
        "metadata": json.loads(parts[manifest["metadata"]]),
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
