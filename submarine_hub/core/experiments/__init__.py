"""Experiments: specs, runs, templates and pipelines (the domain; no web code here)."""
