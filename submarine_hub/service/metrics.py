"""The service's Prometheus metrics: requests by route, method and status, and their latency.

Exposed at ``api/v1/metrics`` in Prometheus' text format. Routes are the OpenAPI
templates (``/teams/{team}``), never the request paths, so the number of series stays
bounded whatever callers send.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Histogram, Info, generate_latest

from .. import __version__

#: Label of requests no route matched.
UNMATCHED = "(unmatched)"

REQUEST_DURATION = Histogram(
    "submarine_request_duration_seconds",
    "Requests to the Submarine Hub platform API: duration in seconds, by route, method "
    "and status code (its _count is the number of requests).",
    ["route", "method", "code"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

BUILD_INFO = Info("submarine", "The Submarine Hub version serving the platform API.")
BUILD_INFO.info({"version": __version__})


def observe_request(route: str, method: str, code: int, seconds: float) -> None:
    """Count one answered request."""
    REQUEST_DURATION.labels(route or UNMATCHED, method, str(code)).observe(seconds)


def exposition(registry: CollectorRegistry = REGISTRY) -> bytes:
    """Every metric of the process (Python runtime, ours) in Prometheus' text format."""
    return generate_latest(registry)
