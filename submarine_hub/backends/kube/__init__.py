"""Kubernetes backends: experiment runs as Jobs (or Kubeflow training jobs).

Needs the ``kube`` extra (``kubernetes_asyncio``, installed with KubeSpawner). See
:mod:`.experiments` and the "Experiments on Kubernetes" section of
``docs/kubernetes.md``.
"""

from __future__ import annotations

from .experiments import KubeExperimentBackend, RenderSettings, render, run_state

__all__ = ["KubeExperimentBackend", "RenderSettings", "render", "run_state"]
