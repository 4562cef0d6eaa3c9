"""``api/v1/metrics``: the service's Prometheus metrics, for hub admins and services."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST

from ...core.errors import Forbidden
from ..metrics import exposition
from .base import BaseHandler


class MetricsHandler(BaseHandler):
    path = "/metrics"

    async def get(self) -> None:
        identity = await self.identity()
        if not (identity.admin or identity.kind == "service"):
            raise Forbidden(
                "Metrics are for hub admins and services: scrape them with a service's token."
            )
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(exposition())


METRICS_HANDLERS: list[type[BaseHandler]] = [MetricsHandler]
