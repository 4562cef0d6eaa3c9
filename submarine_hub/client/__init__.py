"""The SDK, CLI and magics: all on one HTTP client of the REST API."""

from .client import AsyncSubmarineClient, SubmarineClient
from .errors import SubmarineAPIError

__all__ = ["AsyncSubmarineClient", "SubmarineAPIError", "SubmarineClient"]
