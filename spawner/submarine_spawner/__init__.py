"""Team-aware JupyterHub spawners of Submarine Hub.

Registered in the ``jupyterhub.spawners`` entry point group::

    c.JupyterHub.spawner_class = "submarine-local"
"""

from .local import SubmarineLocalSpawner
from .mixin import SubmarineSpawnerMixin

__all__ = ["SubmarineLocalSpawner", "SubmarineSpawnerMixin"]
