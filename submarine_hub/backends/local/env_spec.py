"""What an environment profile asks for (:class:`EnvironmentSpec`) and the hash that names
its build.

Contracts:

- :meth:`EnvironmentSpec.validate` refuses an unusable spec with a ``ValueError`` a person
  can act on (a bad requirement line, conda text that is not an ``environment.yml``, a
  base Python that cannot run).
- :meth:`EnvironmentSpec.spec_hash` covers the canonical spec (requirements normalized
  and sorted, conda YAML parsed), the base Python's path and version, and
  :data:`BUILD_FORMAT`: equal specs share one build, and a change of any of these
  makes a new one.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import site
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import yaml

from ...core.envspec import check_requirement as _check_requirement
from ...core.envspec import parse_conda as _parse_conda

#: Bumped when the layout or the build recipe changes, so older builds are not reused.
BUILD_FORMAT = 1
_HASH_LENGTH = 16


@dataclass(frozen=True)
class Interpreter:
    """What the builder needs to know about a base Python."""

    version: tuple[int, int, int]
    prefix: str
    base_prefix: str
    site_packages: tuple[str, ...]

    @property
    def is_venv(self) -> bool:
        return os.path.realpath(self.prefix) != os.path.realpath(self.base_prefix)

    def own_site_packages(self) -> list[str]:
        """The site-packages folders that belong to this (virtual) environment itself."""
        root = os.path.realpath(self.prefix) + os.sep
        return [d for d in self.site_packages if os.path.realpath(d).startswith(root)]


_INTERPRETER_PROBE = (
    "import json, site, sys\n"
    "print(json.dumps({'version': list(sys.version_info[:3]), 'prefix': sys.prefix,\n"
    "  'base_prefix': getattr(sys, 'base_prefix', sys.prefix),\n"
    "  'site_packages': site.getsitepackages() if hasattr(site, 'getsitepackages') else []}))\n"
)


@functools.lru_cache(maxsize=32)
def interpreter(python: str) -> Interpreter:
    """Describe ``python``: the running interpreter directly, another one by asking it once."""
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        return Interpreter(
            version=(sys.version_info[0], sys.version_info[1], sys.version_info[2]),
            prefix=sys.prefix,
            base_prefix=sys.base_prefix,
            site_packages=tuple(site.getsitepackages()),
        )
    try:
        out = subprocess.run(
            [python, "-c", _INTERPRETER_PROBE],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            stdin=subprocess.DEVNULL,
        ).stdout
        data = json.loads(out.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as e:
        raise ValueError(f"Cannot run the base Python {python!r}: {e}") from e
    major, minor, micro = (int(v) for v in data["version"])
    return Interpreter(
        version=(major, minor, micro),
        prefix=data["prefix"],
        base_prefix=data["base_prefix"],
        site_packages=tuple(data["site_packages"]),
    )


@dataclass(frozen=True)
class EnvironmentSpec:
    """What an environment profile asks for; its :meth:`spec_hash` names the built env.

    ``packages`` are pip requirement lines; ``conda`` is the text of an
    ``environment.yml`` (needs conda, mamba or micromamba on the local backend);
    ``python`` is the base interpreter for a virtual environment;
    ``system_site_packages`` keeps the base environment's packages (ipykernel, the
    platform's SDK) visible under the profile's own. An empty spec is allowed: it means
    "the base environment with a kernel".
    """

    packages: tuple[str, ...] = ()
    conda: str = ""
    python: str = sys.executable
    system_site_packages: bool = True

    def __post_init__(self) -> None:
        # Accept lists (from JSON) but keep the dataclass hashable.
        if not isinstance(self.packages, tuple):
            object.__setattr__(self, "packages", tuple(self.packages))

    def validate(self) -> None:
        """Raise ``ValueError`` with a message a person can act on if the spec is unusable."""
        for line in self.packages:
            _check_requirement(line)
        if not isinstance(self.conda, str):
            raise ValueError("The conda environment must be given as the text of a YAML file.")
        if self.conda.strip():
            _parse_conda(self.conda)
        if not self.python or not (os.path.isfile(self.python) and os.access(self.python, os.X_OK)):
            raise ValueError(
                f"The base Python {self.python!r} does not exist or is not executable."
            )

    def canonical(self) -> dict[str, Any]:
        """The fields in a canonical form (what :meth:`spec_hash` hashes), without version."""
        packages = []
        for line in self.packages:
            try:
                packages.append(_check_requirement(line))
            except ValueError:
                packages.append(str(line).strip())
        conda: Any = self.conda.strip()
        if conda:
            with contextlib.suppress(yaml.YAMLError):
                conda = yaml.safe_load(conda)
        return {
            "format": BUILD_FORMAT,
            "packages": sorted(set(packages)),
            "conda": conda,
            "python": os.path.abspath(self.python),
            "system_site_packages": bool(self.system_site_packages),
        }

    def spec_hash(self) -> str:
        """The first 16 hex digits of the sha256 of the canonical spec and Python version.

        May run the base Python once (cached) when it is not the running interpreter.
        """
        doc = self.canonical()
        doc["python_version"] = list(interpreter(doc["python"]).version)
        blob = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:_HASH_LENGTH]
