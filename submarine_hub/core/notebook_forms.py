"""Diffs and text forms of notebooks for the versioned-notebook API.

Pure functions over notebooks given as nbformat v4 JSON dicts (what
``nbformat.reads(text, as_version=4)`` or the Jupyter contents API gives):

* :func:`diff_notebooks` -- cell-level diff computed by nbdime, with a cell
  summary and a colourless plain-text rendering;
* :func:`diff_text` -- unified diff of two text files;
* :func:`export_notebook` / :func:`import_text` -- conversion to and from
  jupytext text forms (``py:percent``, ``py:light``, ``md``, ``md:myst``)
  and ``ipynb`` JSON;
* :func:`parameters_cell` -- index of the papermill ``parameters`` cell.

nbdime keeps its diff configuration (which paths are ignored) in module-global
state.  :func:`diff_notebooks` therefore serialises every diff behind a lock,
starts from nbdime's defaults, applies the requested ignores through nbdime's
own ``set_notebook_diff_targets`` / ``set_notebook_diff_ignores`` and restores
the previous configuration in a ``finally`` block.
"""

from __future__ import annotations

import copy
import difflib
import io
import threading
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import jupytext
import nbformat
from nbdime.diffing import notebooks as _nbdiffing
from nbdime.prettyprint import PrettyPrintConfig, pretty_print_diff

__all__ = [
    "EXPORT_FORMATS",
    "diff_notebooks",
    "diff_text",
    "export_notebook",
    "import_text",
    "parameters_cell",
]

#: Supported export/import formats and the file extension suggested for each.
EXPORT_FORMATS: dict[str, str] = {
    "py:percent": ".py",
    "py:light": ".py",
    "md": ".md",
    "md:myst": ".md",
    "ipynb": ".ipynb",
}

# nbdime's notebook differs are module-global; every diff goes through this lock.
_NBDIME_LOCK = threading.Lock()


# --------------------------------------------------------------------------- validation


def _check_notebook(nb: Any, name: str = "notebook") -> None:
    """Raise ValueError unless *nb* looks like an nbformat v4 notebook dict."""
    if not isinstance(nb, Mapping):
        raise ValueError(
            f"{name} is not a notebook: expected a JSON object (dict), got {type(nb).__name__}"
        )
    if "cells" not in nb:
        raise ValueError(f"{name} is not a notebook: it has no 'cells' list")
    if not isinstance(nb["cells"], list):
        raise ValueError(
            f"{name} is not a notebook: 'cells' must be a list, got {type(nb['cells']).__name__}"
        )
    if "nbformat" not in nb:
        raise ValueError(f"{name} is not a notebook: it has no 'nbformat' version")
    major = nb["nbformat"]
    if major != 4:
        raise ValueError(
            f"{name} uses nbformat version {major!r}; only nbformat 4 is supported "
            "(convert it first, e.g. with nbformat.reads(text, as_version=4))"
        )
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, Mapping) or "cell_type" not in cell:
            raise ValueError(f"{name} is not a valid notebook: cell {i} has no 'cell_type'")


def _check_format(fmt: str) -> str:
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    return EXPORT_FORMATS[fmt]


# --------------------------------------------------------------------------- diffs


def _plain(value: Any) -> Any:
    """Convert nbdime DiffEntry objects (dict subclasses) to plain lists/dicts."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _nbdime_diff(
    a: Mapping, b: Mapping, *, ignore_outputs: bool, ignore_metadata: bool, ignore_ids: bool
) -> list:
    """Run nbdime with the requested ignores, leaving nbdime's global config as found."""
    differs = _nbdiffing.notebook_differs
    with _NBDIME_LOCK:
        saved = dict(differs)
        try:
            # Start from nbdime's defaults, whatever someone else configured.
            _nbdiffing.reset_notebook_differ()
            _nbdiffing.set_notebook_diff_targets(
                outputs=not ignore_outputs,
                metadata=not ignore_metadata,
                identifier=not ignore_ids,
            )
            # Keys of a cell to drop from its diff.  '/cells/*/id' is an atomic path in
            # nbdime, so the identifier target above never reaches its differ: filter the
            # 'id' entry at cell level instead.  An output-only change after a re-run also
            # changes execution_count, which belongs with the outputs.
            cell_keys = []
            if ignore_ids:
                cell_keys.append("id")
            if ignore_outputs:
                cell_keys.append("execution_count")
            if cell_keys:
                _nbdiffing.set_notebook_diff_ignores({"/cells/*": tuple(cell_keys)})
            return _nbdiffing.diff_notebooks(a, b)
        finally:
            differs.clear()
            differs.update(saved)


def _cell_summary(a: Mapping, diff: list) -> dict[str, int]:
    added = removed = modified = 0
    for entry in diff:
        if entry["op"] == "patch" and entry["key"] == "cells":
            for op in entry["diff"]:
                if op["op"] == "addrange":
                    added += len(op["valuelist"])
                elif op["op"] == "removerange":
                    removed += op["length"]
                elif op["op"] == "patch":
                    modified += 1
    unchanged = len(a["cells"]) - removed - modified
    return {"added": added, "removed": removed, "modified": modified, "unchanged": unchanged}


def _render(a: Mapping, diff: list, include: SimpleNamespace) -> str:
    if not diff:
        return ""
    out = io.StringIO()
    config = PrettyPrintConfig(
        out=out, include=include, use_color=False, use_git=False, use_diff=False
    )
    pretty_print_diff(a, diff, "", config)
    return out.getvalue()


def diff_notebooks(
    a: dict,
    b: dict,
    *,
    ignore_outputs: bool = False,
    ignore_metadata: bool = False,
    ignore_ids: bool = True,
) -> dict:
    """Cell-level diff of notebook *a* (old) to *b* (new), computed by nbdime.

    ``ignore_outputs`` drops changes to cell outputs and execution counts,
    ``ignore_metadata`` changes to notebook, cell and output metadata, and
    ``ignore_ids`` (the default) changes of cell ids.

    Returns ``{"diff": <nbdime diff as plain JSON>, "summary": {"added",
    "removed", "modified", "unchanged"} (counting cells), "text": <colourless
    rendering, "" when there is no difference>}``.
    """
    _check_notebook(a, "a")
    _check_notebook(b, "b")
    # nbdime reads attributes (output.output_type): it needs nbformat's nodes, not dicts
    a, b = nbformat.from_dict(copy.deepcopy(dict(a))), nbformat.from_dict(copy.deepcopy(dict(b)))
    diff = _nbdime_diff(
        a,
        b,
        ignore_outputs=ignore_outputs,
        ignore_metadata=ignore_metadata,
        ignore_ids=ignore_ids,
    )
    include = SimpleNamespace(
        outputs=not ignore_outputs, metadata=not ignore_metadata, id=not ignore_ids
    )
    return {
        "diff": _plain(diff),
        "summary": _cell_summary(a, diff),
        "text": _render(a, diff, include),
    }


def diff_text(a: str, b: str, *, fromfile: str = "a", tofile: str = "b", context: int = 3) -> dict:
    """Unified diff of two texts.

    Returns ``{"summary": {"added", "removed", "unchanged"} (counting lines),
    "text": <unified diff, "" when the texts are equal>}``.
    """
    if not isinstance(a, str) or not isinstance(b, str):
        raise ValueError("diff_text compares two strings")
    a_lines, b_lines = a.splitlines(), b.splitlines()
    added = removed = unchanged = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a_lines, b_lines).get_opcodes():
        if tag == "equal":
            unchanged += i2 - i1
        else:
            removed += i2 - i1
            added += j2 - j1
    lines = difflib.unified_diff(
        a_lines, b_lines, fromfile=fromfile, tofile=tofile, n=context, lineterm=""
    )
    text = "\n".join(lines)
    return {
        "summary": {"added": added, "removed": removed, "unchanged": unchanged},
        "text": text + "\n" if text else "",
    }


# --------------------------------------------------------------------------- text forms


def export_notebook(nb: dict, fmt: str) -> tuple[str, str]:
    """Render *nb* in *fmt*; return ``(text, suggested_file_extension)``.

    *fmt* is one of ``py:percent``, ``py:light``, ``md``, ``md:myst`` (via
    jupytext) or ``ipynb`` (JSON indented by 1, as Jupyter writes it).
    """
    ext = _check_format(fmt)
    _check_notebook(nb)
    node = nbformat.from_dict(copy.deepcopy(dict(nb)))
    if fmt == "ipynb":
        # What Jupyter saves: nbformat's JSON (indent 1, sorted keys, sources as line lists).
        return nbformat.writes(node, version=4) + "\n", ext
    return jupytext.writes(node, fmt=fmt), ext


def import_text(text: str, fmt: str) -> dict:
    """Read *text* written in *fmt* (see :func:`export_notebook`) into a v4 notebook."""
    _check_format(fmt)
    if not isinstance(text, str):
        raise ValueError(f"import_text expects text (str), got {type(text).__name__}")
    try:
        nb = jupytext.reads(text, fmt=fmt, as_version=4)
    except Exception as exc:  # json/nbformat/jupytext errors for malformed text
        raise ValueError(f"Could not read the text as {fmt}: {exc}") from exc
    _check_notebook(nb)
    return nb


# --------------------------------------------------------------------------- helpers


def parameters_cell(nb: dict) -> int | None:
    """Index of the first cell tagged ``parameters`` (papermill convention), or None."""
    _check_notebook(nb)
    for i, cell in enumerate(nb["cells"]):
        tags = (cell.get("metadata") or {}).get("tags") or ()
        if "parameters" in tags:
            return i
    return None
