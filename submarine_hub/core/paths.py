"""The one containment rule for every path a user names.

Model version files, run artifacts, notebook and versioned-file paths, members of
uploaded code archives and object-store keys all go through :func:`safe_relpath`
(the path as text) and, where it reaches a folder, :func:`contained` (the path on
disk). The rule, checked on the text *before* any normalisation:

- a non-empty string of at most :data:`MAX_PATH` characters, each segment at most
  :data:`MAX_SEGMENT` bytes of UTF-8;
- no control characters (``\\0``, ``\\n``, ``\\r``, ``\\t``, DEL, C1), no line or
  paragraph separators, no lone surrogates;
- relative: no leading ``/``, no Windows drive (``C:``) and no backslash at all;
- no ``..`` segment, no ``.`` segment and no empty segment (``a//b``, ``a/``) — also
  once percent-decoded (``%2e%2e``) or folded to compatibility forms (fullwidth dots);

then :func:`contained` resolves it under its root (following symbolic links) and
checks that the result is still inside. What passes is the canonical spelling of
the path, so one file has one name in the database, in the store and on disk.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .errors import InvalidInput

#: Longest path accepted, in characters.
MAX_PATH = 1024
#: Longest segment (file or folder name) accepted, in bytes of UTF-8 (Linux's NAME_MAX).
MAX_SEGMENT = 255

_DRIVE = re.compile(r"^[A-Za-z]:")
_REFUSED_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}


def _bad_character(text: str) -> str | None:
    for ch in text:
        if ch == "\\" or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return ch
    return None


def _problem(path: str) -> str | None:
    """Why ``path`` (one spelling of it) is not a plain relative path, or None."""
    bad = _bad_character(path)
    if bad is not None:
        if bad == "\\":
            return "holds a backslash (use '/' between folders)"
        return f"holds the control character U+{ord(bad):04X}"
    if path.startswith("/") or _DRIVE.match(path):
        return "is absolute (give it relative to its folder)"
    for segment in path.split("/"):
        if segment == "..":
            return "has a '..' segment"
        if segment in ("", "."):
            return "has an empty or '.' segment"
    return None


def safe_relpath(user_path: Any, *, what: str = "path") -> str:
    """``user_path`` if it is a plain relative path under the rule above; else
    :class:`InvalidInput` saying what is wrong with it. ``what`` names it in messages."""
    if not isinstance(user_path, str) or not user_path:
        raise InvalidInput(f"'{what}' must be a relative path, like 'data/model.joblib'.")
    if len(user_path) > MAX_PATH:
        raise InvalidInput(f"'{what}' is longer than {MAX_PATH} characters.")
    # the text as given, then the forms other layers might turn it into
    forms = [user_path]
    decoded = user_path
    for _ in range(3):  # %252e -> %2e -> .
        decoded = unquote(decoded, errors="replace") if "%" in decoded else decoded
        if decoded in forms:
            break
        forms.append(decoded)
    forms += [unicodedata.normalize("NFKC", f) for f in list(forms)]
    for form in forms:
        problem = _problem(form)
        if problem:
            raise InvalidInput(
                f"'{what}' {user_path!r} {problem}: give a plain relative path, like "
                "'data/model.joblib' (no '..', no leading '/', no control characters)."
            )
    for segment in user_path.split("/"):
        if len(segment.encode("utf-8", "surrogatepass")) > MAX_SEGMENT:
            raise InvalidInput(
                f"'{what}' has a name longer than {MAX_SEGMENT} bytes: {segment[:40]!r}…"
            )
    return user_path


def contained(root: str | os.PathLike[str], user_path: Any, *, what: str = "path") -> Path:
    """The file ``user_path`` names under the folder ``root``, resolved (symbolic links
    followed); :class:`InvalidInput` unless :func:`safe_relpath` accepts it and the
    resolved file is inside ``root``. Call it again right before writing when the
    folders on the way may have changed since."""
    rel = safe_relpath(user_path, what=what)
    base = Path(root).resolve()
    target = (base / rel).resolve()
    if target == base or not target.is_relative_to(base):
        raise InvalidInput(f"'{what}' {rel!r} leads outside its folder (a symbolic link).")
    return target


def join_key(prefix: str, user_path: Any, *, what: str = "path") -> str:
    """``prefix/user_path`` as an object key (S3 keys, store paths), the user's part
    checked by :func:`safe_relpath`."""
    return f"{prefix.rstrip('/')}/{safe_relpath(user_path, what=what)}"
