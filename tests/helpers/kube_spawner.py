"""What the tests of ``submarine-kube`` share: spawners built without a cluster."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import kubespawner.spawner
import pytest
from jupyterhub.objects import Hub
from submarine_spawner.kube import SubmarineKubeSpawner
from traitlets.config import Config

from .kube import FakeUser

DEFAULT_IMAGE = "quay.io/jupyter/base-notebook:2024-05-27"
SESSIONS_NAMESPACE = "submarine-sessions"

SpawnerFactory = Callable[..., Awaitable[SubmarineKubeSpawner]]


def spawner_factory(monkeypatch: pytest.MonkeyPatch) -> SpawnerFactory:
    """Build a SubmarineKubeSpawner without a cluster, with traits set through config.

    KubeSpawner loads the cluster's configuration (in-cluster, else a kubeconfig) when
    it is created; there is none here, and these spawners never send a request.
    """
    monkeypatch.setattr(kubespawner.spawner, "load_config", lambda **kwargs: None)

    async def make(user: str = "alice", **traits: Any) -> SubmarineKubeSpawner:
        c = Config()
        c.SubmarineKubeSpawner.namespace = SESSIONS_NAMESPACE
        c.SubmarineKubeSpawner.image = DEFAULT_IMAGE
        for name, value in traits.items():
            setattr(c.SubmarineKubeSpawner, name, value)
        return SubmarineKubeSpawner(config=c, user=FakeUser(user), hub=Hub(), _mock=True)

    return make
