"""Execution backends: where sessions, experiments and environments run."""
