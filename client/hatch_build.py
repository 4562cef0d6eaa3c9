"""Hatch hooks of ``submarine-hub-client``: its version and files come from the package.

The client ships a few files of the ``submarine_hub`` package (:data:`SHIPPED`). They
live in the repository's ``submarine_hub/`` folder, beside this project's folder; in an
sdist of the client they are copied into it (``submarine_hub/``), so a wheel builds from
either. Editable installs ship no copy: the repository's root goes on ``sys.path``
(``dev-mode-dirs``), where the full distribution's editable install puts it too.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.metadata.plugin.interface import MetadataHookInterface

#: What the client distribution ships, relative to the package folder. The full
#: distribution's wheel excludes exactly these (its pyproject.toml lists them too).
SHIPPED = (
    "__init__.py",
    "_version.py",
    "py.typed",
    "tracking.py",
    "client",
    # the one rule mapping a session path to its space, which the SDK uses too (pure)
    "core/__init__.py",
    "core/spaces.py",
)


def package_dir(root: str) -> Path:
    """The ``submarine_hub`` folder the client's files come from."""
    here = Path(root)
    for candidate in (here / "submarine_hub", here.parent / "submarine_hub"):
        if (candidate / "_version.py").is_file():
            return candidate
    raise FileNotFoundError(f"no submarine_hub/_version.py in {here} or {here.parent}")


class ClientMetadataHook(MetadataHookInterface):
    """The version is the package's ``__version__``: one number for both distributions."""

    def update(self, metadata: dict[str, Any]) -> None:
        text = (package_dir(self.root) / "_version.py").read_text()
        found = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.M)
        if found is None:
            raise ValueError("no __version__ in submarine_hub/_version.py")
        metadata["version"] = found.group(1)


class ClientBuildHook(BuildHookInterface):
    """Force-includes the shipped files (not for an editable wheel: see the module)."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "editable":
            return
        package = package_dir(self.root)
        for name in SHIPPED:
            source = package / name
            if source.exists():
                build_data["force_include"][str(source)] = f"submarine_hub/{name}"
