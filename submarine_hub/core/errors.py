"""Errors the core raises; web layers turn them into HTTP statuses with the same message."""

from __future__ import annotations


class SubmarineError(Exception):
    """Base error. ``status`` is the HTTP status the web layer answers with."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SubmarineError, ValueError):
    """Bad input; also a ``ValueError`` for code outside the web layers."""

    status = 400


class NotAuthenticated(SubmarineError):
    status = 401


class Forbidden(SubmarineError):
    status = 403


class NotFound(SubmarineError):
    status = 404


class Conflict(SubmarineError):
    status = 409


class PayloadTooLarge(SubmarineError):
    status = 413


class Unavailable(SubmarineError):
    status = 503
