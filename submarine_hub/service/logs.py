"""Structured (JSON lines) or plain logs for the service, and the per-request access log."""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from tornado.web import RequestHandler

JSON_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
TEXT_FORMAT = "[%(levelname)1.1s %(asctime)s %(name)s] %(message)s"


def configure_logging(logger: logging.Logger, *, fmt: str, level: int) -> None:
    """Send ``logger`` and tornado's loggers to stderr in ``fmt`` ("json" or "text")."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(JSON_FORMAT, rename_fields={"levelname": "level", "asctime": "time"})
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    for name in (logger.name, "tornado", "submarine_hub", "alembic", "JupyterHub"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(level)
        lg.propagate = False


def log_request(handler: RequestHandler) -> None:
    """tornado ``log_function``: one structured line per request, no tokens or bodies."""
    status = handler.get_status()
    request = handler.request
    level = logging.INFO
    if status >= 500:
        level = logging.ERROR
    elif status >= 400:
        level = logging.WARNING
    elif request.path.endswith("/health"):
        level = logging.DEBUG
    user = getattr(handler, "_cached_hub_user", None) or {}
    extra: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "status": status,
        "duration_ms": round(1000.0 * request.request_time(), 2),
        "user": user.get("name"),
        "remote_ip": request.remote_ip,
    }
    logging.getLogger("submarine_hub.access").log(
        level, "%s %s %s", request.method, request.path, status, extra=extra
    )
