"""The ``submarine`` command line, run as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SUBMARINE = str(Path(sys.executable).with_name("submarine"))


def submarine(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``submarine ARGS`` with ``env`` added to this process's environment."""
    return subprocess.run(
        [SUBMARINE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
