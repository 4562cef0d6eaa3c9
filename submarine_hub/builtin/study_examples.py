"""Objectives for function studies (the fast path: a worker run calls them in-process).

A function objective takes a :class:`submarine_hub.builtin.study_worker.Trial` (its
``params``; ``report(value, step)`` answers whether to stop) and returns the objective.
"""

from __future__ import annotations

from typing import Any


def quadratic(trial: Any) -> float:
    """A trivial objective (for the dispatch benchmark): ``-(x - 1)^2``, best at x = 1."""
    return -((trial.params["x"] - 1.0) ** 2)
