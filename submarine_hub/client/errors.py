"""How the client reads the service's answers: :class:`SubmarineAPIError` and the decoding
of a response.

Contract: every refusal of the service (a status that is not 2xx) becomes a
:class:`SubmarineAPIError` whose ``message`` is the service's own JSON ``message`` when it
sent one; a response with no body decodes to ``None``, any other to its JSON.
"""

from __future__ import annotations

from typing import Any

import httpx


class SubmarineAPIError(Exception):
    """The service refused a request; ``message`` says why, ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status
        self.message = message


def error_message(resp: httpx.Response) -> str:
    """Why a request failed: the service's JSON ``message``, else the start of the body
    (a proxy's HTML page while the service restarts), else the status's phrase."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200] or resp.reason_phrase
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or resp.reason_phrase)


def raise_for_status(resp: httpx.Response) -> None:
    """Raise :class:`SubmarineAPIError` unless ``resp`` is a success."""
    if resp.is_success:
        return
    raise SubmarineAPIError(resp.status_code, error_message(resp))


def decode(resp: httpx.Response) -> Any:
    """The JSON of a successful response (``None`` when it has no body)."""
    raise_for_status(resp)
    if not resp.content:
        return None
    return resp.json()
