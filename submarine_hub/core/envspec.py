"""What an environment spec may hold: pip requirement lines and conda environment files.

One check for everything that takes a spec: the REST API (``core.environments``) and
the local builder (``backends.local.environments``).
"""

from __future__ import annotations

from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from .errors import InvalidInput
from .validation import parse_yaml

_REQUIREMENT_HINT = "only requirement lines such as 'six==1.16.0' or 'requests>=2' are accepted"
_CONDA_EXAMPLE = "e.g.\ndependencies:\n  - python=3.11\n  - numpy"


def check_requirement(line: str, where: str = "package line") -> str:
    """The normalized form of one requirement line; else :class:`InvalidInput` (a ValueError)."""
    if not isinstance(line, str):
        raise InvalidInput(f"{where} {line!r} is not text; {_REQUIREMENT_HINT}.")
    text = line.strip()
    if not text:
        raise InvalidInput(f"An empty {where} was given; remove it ({_REQUIREMENT_HINT}).")
    if text.startswith("-"):
        raise InvalidInput(
            f"{where} {line!r} is a pip option; {_REQUIREMENT_HINT} "
            "(indexes and other pip options are set by the platform)."
        )
    if (
        "://" in text
        or text.startswith((".", "/", "~", "\\"))
        or text.endswith((".whl", ".tar.gz", ".zip", ".tgz"))
    ):
        raise InvalidInput(
            f"{where} {line!r} is a URL or a path; {_REQUIREMENT_HINT} "
            "(publish the package to the index the platform uses instead)."
        )
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        raise InvalidInput(
            f"{where} {line!r} is not a valid requirement ({e}); {_REQUIREMENT_HINT}."
        ) from e
    if req.url:
        raise InvalidInput(f"{where} {line!r} refers to a URL; {_REQUIREMENT_HINT}.")
    return str(req)


def parse_conda(text: str) -> dict[str, Any]:
    """Parse and check the text of a conda ``environment.yml``; raise :class:`InvalidInput`."""
    data = parse_yaml(text, "The conda environment")
    if not isinstance(data, dict):
        raise InvalidInput(
            "The conda environment must be a YAML mapping with a 'dependencies' list, "
            + _CONDA_EXAMPLE
        )
    deps = data.get("dependencies")
    if not isinstance(deps, list) or not deps:
        raise InvalidInput(
            "The conda environment needs a non-empty 'dependencies' list, " + _CONDA_EXAMPLE
        )
    for dep in deps:
        if isinstance(dep, str) and dep.strip():
            continue
        if isinstance(dep, dict) and set(dep) == {"pip"} and isinstance(dep["pip"], list):
            for line in dep["pip"]:
                check_requirement(line, where="conda pip line")
            continue
        raise InvalidInput(
            f"Conda dependency {dep!r} is neither a package spec like 'numpy=1.26' "
            "nor a 'pip:' list of requirement lines."
        )
    return data
