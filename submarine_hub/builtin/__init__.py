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


def builtin_templates() -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted(TEMPLATES_DIR.glob("*.yaml"))]
