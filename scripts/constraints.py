"""Print constraints.txt: the versions of everything Submarine Hub installs, as installed.

    python scripts/constraints.py > constraints.txt

Run it (Python ≥ 3.11) with the Python of an environment that ``scripts/bootstrap --test`` made (and
whose tests pass): it walks the requirements that ``pyproject.toml`` (with the extras
bootstrap installs, and ``kube``, ``postgres``, ``s3``) and ``client/pyproject.toml``
(with ``magics``) declare through the installed packages' metadata, and pins each
package it reaches to its installed version. Packages of the environment that nothing
requires (installed by hand) are left out; so are the two distributions themselves. How
to refresh the file: docs/development.md.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import tomllib
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
#: pyproject.toml → the extras of it that are pinned too
ROOTS = {
    REPO / "pyproject.toml": {
        "sklearn",
        "tensorboard",
        "test",
        "kube",
        "postgres",
        "s3",
        "tuning",
        "spark",
    },
    REPO / "client" / "pyproject.toml": {"magics"},
}


def declared() -> tuple[set[str], list[str]]:
    """Our distributions' names, and the requirement lines they declare (with extras)."""
    names, lines = set(), []
    for path, extras in ROOTS.items():
        project = tomllib.loads(path.read_text())["project"]
        names.add(canonicalize_name(project["name"]))
        lines += project.get("dependencies", [])
        for extra in sorted(extras):
            lines += project["optional-dependencies"][extra]
    return names, lines


def closure() -> dict[str, str]:
    """Installed name → version of every distribution the roots require (recursively)."""
    installed = {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions()}
    env = default_environment()
    ours, lines = declared()
    pinned: dict[str, str] = {}
    todo: list[tuple[str, set[str]]] = []
    for line in lines:
        req = Requirement(line)
        if canonicalize_name(req.name) not in ours and (
            req.marker is None or req.marker.evaluate(env)
        ):
            todo.append((req.name, set(req.extras)))
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        key = (canonicalize_name(name), frozenset(extras))
        if key in seen:
            continue
        seen.add(key)
        dist = installed.get(key[0])
        if dist is None:
            raise SystemExit(f"{name} is required but not installed: run scripts/bootstrap --test")
        pinned[dist.metadata["Name"]] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            wanted = [{**env, "extra": e} for e in extras or {""}]
            if req.marker is None or any(req.marker.evaluate(w) for w in wanted):
                todo.append((req.name, set(req.extras)))
    return pinned


def main() -> int:
    pins = closure()
    version = "{}.{}".format(*sys.version_info[:2])
    print("# The versions CI installs with (scripts/bootstrap: pip install -c constraints.txt).")
    print("# Made by scripts/constraints.py; refresh it as docs/development.md says.")
    print(f"# python: {version}")
    for name in sorted(pins, key=str.lower):
        print(f"{name}=={pins[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
