"""Environment profiles used as the container images they name: nothing is built.

The environment backend of container platforms (entry point ``kube``): a session's or
run's pod runs the profile's ``image`` (KubeSpawner, :class:`~.kube.KubeExperimentBackend`),
so every profile is ready as it is.
"""

from __future__ import annotations

from typing import Any

from ..store.models import EnvironmentProfile
from .base import EnvironmentBackend


class ImageEnvironmentBackend(EnvironmentBackend):
    """Profiles are images: always ready, with no local prefix and no build log."""

    name = "image"
    builds = False

    def status(self, env: EnvironmentProfile) -> dict[str, Any]:
        return {"state": "ready", "image": env.image, "kernel_name": "", "prefix": ""}

    def start(self, env: EnvironmentProfile, *, retry_failed: bool = True) -> dict[str, Any]:
        return self.status(env)
