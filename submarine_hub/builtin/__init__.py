"""What ships with Submarine Hub: built-in experiment templates and the programs they run.

Each ``templates/*.yaml`` is a global, read-only template installed when the service
starts. Their programs (``python -m submarine_hub.builtin.train_classifier``...) run on
a CPU with data sets bundled in scikit-learn, so they work on a machine with no network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TEMPLATES_DIR = Path(__file__).with_name("templates")
#: What the built-in templates' programs need beyond the platform (an extra of it).
EXTRA = "sklearn"


def require_sklearn() -> None:
    """Exit with a message naming the extra to install when scikit-learn or joblib is
    missing (they are the ``sklearn`` extra of submarine-hub, not a requirement of it)."""
    import importlib.util
    import sys

    missing = [m for m in ("sklearn", "joblib") if importlib.util.find_spec(m) is None]
    if missing:
        names = " and ".join("scikit-learn" if m == "sklearn" else m for m in missing)
        print(
            f"This built-in template needs {names}, which this environment does not have: "
            f"pip install 'submarine-hub[{EXTRA}]' (or add scikit-learn to the run's "
            "environment profile).",
            file=sys.stderr,
        )
        raise SystemExit(2)


def builtin_templates() -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted(TEMPLATES_DIR.glob("*.yaml"))]
