"""The SDK, CLI and magics: all on one HTTP client of the REST API."""

from .client import AsyncSubmarineClient, SubmarineAPIError, SubmarineClient

__all__ = ["AsyncSubmarineClient", "SubmarineAPIError", "SubmarineClient"]
