"""Environment profiles built into virtual environments on this machine, in the background.

The service's default environment backend (entry point ``local``, configured as
``c.LocalEnvironmentBackend.*``): each profile is built once per spec by
:class:`~.environments.EnvironmentBuilder` into ``environments_dir``; sessions, runs and
notebook jobs that use it wait for the build and then run in its prefix.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from traitlets import Float, List, Unicode, default

from ...store.models import EnvironmentProfile
from ..base import EnvironmentBackend
from .env_spec import EnvironmentSpec
from .env_status import EnvironmentBuildError
from .environments import EnvironmentBuilder

log = logging.getLogger(__name__)


def spec_of(env: EnvironmentProfile) -> EnvironmentSpec:
    return EnvironmentSpec(packages=tuple(env.packages or ()), conda=env.conda or "")


class LocalEnvironmentBackend(EnvironmentBackend):
    """Build profiles into cached virtual environments in the background, once each."""

    name = "local"

    environments_dir = Unicode(
        help="Where profiles are built. Default: ``envs`` in the service's data_dir."
    ).tag(config=True)

    @default("environments_dir")
    def _default_environments_dir(self) -> str:
        return str(Path(self.data_dir, "envs"))

    pip_args = List(
        Unicode(),
        help="""Arguments added to every ``pip install`` of a build, e.g.
        ``["--index-url", "https://pypi.example.com/simple"]``.""",
    ).tag(config=True)

    build_timeout = Float(1800.0, help="How long one build may take, in seconds.").tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.builder = EnvironmentBuilder(
            Path(self.environments_dir), pip_args=tuple(self.pip_args), timeout=self.build_timeout
        )
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def status(self, env: EnvironmentProfile) -> dict[str, Any]:
        return self.builder.status(spec_of(env)).to_json()

    def start(self, env: EnvironmentProfile, *, retry_failed: bool = True) -> dict[str, Any]:
        spec = spec_of(env)
        key = spec.spec_hash()
        task = self._tasks.get(key)
        state = self.builder.status(spec).state
        if state == "failed" and not retry_failed:
            return self.builder.status(spec).to_json()
        if (task is None or task.done()) and state != "ready":
            self._tasks[key] = asyncio.create_task(self._build(spec, f"{env.scope}/{env.name}"))
        return self.builder.status(spec).to_json()

    async def _build(self, spec: EnvironmentSpec, display_name: str) -> None:
        try:
            await self.builder.ensure(spec, display_name=display_name)
            log.info("environment built", extra={"environment": display_name})
        except EnvironmentBuildError as e:
            log.warning(
                "environment build failed", extra={"environment": display_name, "error": str(e)}
            )
        except Exception:
            log.exception("environment build crashed: %s", display_name)

    def log_text(self, env: EnvironmentProfile, tail: int = 200) -> str:
        status = self.builder.status(spec_of(env))
        path = Path(status.log_path) if status.log_path else None
        if not path or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-tail:])
