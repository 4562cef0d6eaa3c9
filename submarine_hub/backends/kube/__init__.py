"""Everything the platform does on Kubernetes, in one package.

Used by ``submarine-kube`` sessions (``submarine_spawner.kube``), experiment runs
(:mod:`.experiments`) and model endpoints (``submarine_hub.serving.kube``):

- :mod:`.names`: names, slugs and the one label scheme (pure);
- :mod:`.manifests`: renderers of the objects (pure);
- :mod:`.state`: readers of what objects say (pure);
- :mod:`.api`: the one API adapter (``kubernetes_asyncio``);
- :mod:`.reflector`: the one watch cache;
- :mod:`.settings`: the shared traitlets settings;
- runs: :mod:`.replicas`, :mod:`.runs`, :mod:`.run_status` and the backend,
  :mod:`.experiments`.

The pure modules import no Kubernetes client; the rest needs the ``kube`` extra
(``kubernetes_asyncio``, installed with KubeSpawner). See ``docs/kubernetes.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .experiments import KubeExperimentBackend
    from .run_status import run_state
    from .runs import RenderSettings, render

__all__ = ["KubeExperimentBackend", "RenderSettings", "render", "run_state"]

_EXPORTS = {
    "KubeExperimentBackend": "experiments",
    "RenderSettings": "runs",
    "render": "runs",
    "run_state": "run_status",
}


def __getattr__(name: str) -> Any:
    # lazily: the pure modules (names, manifests, state) need no Kubernetes client
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(name)
