"""MLflow's error shape: ``{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."}``."""

from __future__ import annotations

from ..errors import SubmarineError

#: HTTP status -> the ``error_code`` MLflow's client expects for it
ERROR_CODES = {
    400: "INVALID_PARAMETER_VALUE",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    405: "ENDPOINT_NOT_FOUND",
    409: "RESOURCE_ALREADY_EXISTS",
    413: "INVALID_PARAMETER_VALUE",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
}


class NotImplementedByPlatform(SubmarineError):
    """An MLflow call the platform does not serve (traces, webhooks, prompts...)."""

    status = 501


class EndpointNotFound(SubmarineError):
    status = 404
    error_code = "ENDPOINT_NOT_FOUND"


def error_code(error: BaseException, status: int) -> str:
    code = getattr(error, "error_code", None)
    if isinstance(code, str):
        return code
    return ERROR_CODES.get(status, "INTERNAL_ERROR")
