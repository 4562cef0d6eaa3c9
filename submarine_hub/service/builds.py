"""Environment builds on the local backend, started and watched by the service."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from ..backends.local.environments import (
    EnvironmentBuilder,
    EnvironmentBuildError,
    EnvironmentSpec,
)
from ..store.models import EnvironmentProfile

log = logging.getLogger(__name__)


def spec_of(env: EnvironmentProfile) -> EnvironmentSpec:
    return EnvironmentSpec(packages=tuple(env.packages or ()), conda=env.conda or "")


class BuildManager:
    """Build profiles into cached virtual environments in the background, once each."""

    def __init__(self, root: Path, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.builder = EnvironmentBuilder(root)
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def status(self, env: EnvironmentProfile) -> dict[str, Any]:
        if not self.enabled:
            return {"state": "ready", "image": env.image, "kernel_name": "", "prefix": ""}
        return self.builder.status(spec_of(env)).to_json()

    def start(self, env: EnvironmentProfile, *, retry_failed: bool = True) -> dict[str, Any]:
        """Start building ``env`` unless it is built or building; return its status.

        A failed build is tried again only if ``retry_failed`` (an explicit request);
        sessions and runs that need the profile see the failure and its log instead."""
        if not self.enabled:
            return self.status(env)
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
