"""What every handler reaches through ``self.core``: the metastore, the hub's view of users,
and the platform's managers and backends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..backends.base import EnvironmentBackend
from ..core.crypto import Crypt
from ..core.errors import InvalidInput, NotFound
from ..core.identity import Identity
from ..store import Database
from ..store.artifacts import ArtifactStore
from .bodies import RequestBodies
from .experiments import ExperimentManager
from .hub import HubDirectory
from .uploads import UploadStore

if TYPE_CHECKING:
    from ..serving.manager import EndpointManager
    from .notebook_jobs import NotebookJobs
    from .studies import StudyDriver


@dataclass
class ServiceContext:
    """The platform as the handlers see it; one per service (or standalone server).

    ``endpoints`` is set once the service runs (standalone mode serves none) and
    ``notebook_jobs`` and ``studies`` right after the context is made (it needs the context).
    """

    db: Database
    hub: HubDirectory
    openapi: dict[str, Any]
    crypt: Crypt
    #: how environment profiles are built (or not: images), ``environment_backend_class``
    builds: EnvironmentBackend
    quota_defaults: dict[str, Any]
    experiments: ExperimentManager
    uploads: UploadStore
    artifacts: ArtifactStore  # model files and other large artifacts
    endpoints: EndpointManager | None = None
    notebook_jobs: NotebookJobs | None = None
    studies: StudyDriver | None = None
    _bodies: RequestBodies | None = field(default=None, repr=False)

    @property
    def request_bodies(self) -> RequestBodies:
        """The request body schemas of the OpenAPI document, as validators."""
        if self._bodies is None:
            self._bodies = RequestBodies(self.openapi)
        return self._bodies

    async def user_identity(self, name: Any) -> Identity:
        """A hub user by name, with their current teams and admin flag."""
        if not isinstance(name, str) or not name:
            raise InvalidInput("'user' must name a hub user.")
        user = await self.hub.user(name)
        if user is None:
            raise NotFound(f"No hub user named {name!r}.")
        return Identity(
            name=name,
            admin=bool(user.get("admin")),
            teams=frozenset(user.get("groups") or ()),
        )

    async def identity_for(self, model: dict[str, Any]) -> Identity:
        """Enrich the hub's model of the caller with its current groups and admin flag."""
        if model.get("kind", "user") != "user":
            return Identity.from_hub_model(model, teams=frozenset(), admin=False)
        user = await self.hub.user(model["name"]) or {}
        return Identity.from_hub_model(
            model,
            teams=frozenset(user.get("groups") or ()),
            admin=bool(user.get("admin", model.get("admin", False))),
        )

    async def hub_user_names(self) -> list[str]:
        return await self.hub.user_names()

    async def hub_groups(self) -> dict[str, list[str]]:
        return await self.hub.groups()
