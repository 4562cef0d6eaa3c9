"""``SubmarineClient``: the one HTTP client of the platform's REST API.

    >>> from submarine_hub import SubmarineClient
    >>> client = SubmarineClient()        # inside a session: no arguments needed
    >>> client.me()["teams"]

The CLI, the notebook magics and the JupyterLab panels (through the server
extension) all use it.

The synchronous client is assembled from one class per area of the API, each in its own
module (``sdk_files``, ``sdk_experiments``, ``sdk_notebook_jobs``, ``sdk_models``,
``sdk_endpoints``, ``sdk_environments``, ``sdk_studies``, ``sdk_usage``, ``sdk_rooms``,
``uploads``), all on one connection
(:mod:`.transport`: where, as whom, retries); a refusal is a
:class:`~submarine_hub.client.errors.SubmarineAPIError`. The asynchronous client is
the server extension's relay.
"""

from __future__ import annotations

from typing import Any

import httpx

from .errors import SubmarineAPIError, decode
from .sdk_endpoints import EndpointsAPI
from .sdk_environments import CredentialsAPI, EnvironmentsAPI
from .sdk_experiments import ExperimentsAPI, PipelinesAPI, TemplatesAPI
from .sdk_files import FilesAPI
from .sdk_models import DatasetsAPI, ModelsAPI
from .sdk_notebook_jobs import NotebookJobsAPI
from .sdk_rooms import RoomsAPI
from .sdk_sql import SqlAPI
from .sdk_studies import StudiesAPI
from .sdk_usage import UsageAPI
from .transport import ClientBase


class SubmarineClient(
    FilesAPI,
    SqlAPI,
    ExperimentsAPI,
    TemplatesAPI,
    PipelinesAPI,
    NotebookJobsAPI,
    StudiesAPI,
    ModelsAPI,
    DatasetsAPI,
    EndpointsAPI,
    EnvironmentsAPI,
    CredentialsAPI,
    UsageAPI,
    RoomsAPI,
):
    """Synchronous client (SDK, CLI, magics).

    Through a restart of the service (connection refused, or the proxy's 502/503 for it)
    a request is tried again with a bounded backoff for up to ``retry_for`` seconds
    (default 20; 0: never), when that is safe: a GET, PUT, DELETE (or a POST with an
    ``Idempotency-Key``); any request whose connection was refused (it was never sent).
    """

    def health(self) -> dict[str, Any]:
        return self.request("GET", "health")

    def teams(self) -> list[dict[str, Any]]:
        return self.request("GET", "teams")["items"]

    def team(self, name: str) -> dict[str, Any]:
        """A team with its members, effective quota and current usage."""
        return self.request("GET", f"teams/{name}")

    def update_team(self, name: str, **changes: Any) -> dict[str, Any]:
        """Admins: ``update_team("ml", quota={"max_sessions": 3}, description="...")``."""
        return self.request("PATCH", f"teams/{name}", json=changes)

    def sessions(self) -> list[dict[str, Any]]:
        return self.request("GET", "sessions")["items"]

    def __enter__(self) -> SubmarineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncSubmarineClient(ClientBase):
    """Asynchronous client (the jupyter-server extension)."""

    def __init__(self, api_url: str | None = None, token: str | None = None, **kw: Any) -> None:
        super().__init__(api_url, token, **kw)
        self._http = httpx.AsyncClient(**self._kwargs)

    async def send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """The raw response, errors included, for callers that relay it as it is."""
        try:
            return await self._http.request(method, path.lstrip("/"), **kw)
        except httpx.HTTPError as e:
            raise SubmarineAPIError(
                503, f"Could not reach the Submarine service at {self.api_url}: {e}"
            ) from e

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        return decode(await self.send(method, path, **kw))

    async def me(self) -> dict[str, Any]:
        return await self.request("GET", "me")

    async def close(self) -> None:
        await self._http.aclose()
