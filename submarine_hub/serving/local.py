"""Moved to :mod:`submarine_hub.backends.local.endpoints` (and ``ProcessState`` to
:mod:`submarine_hub.backends.base`); these names stay importable from here for code not
yet updated."""

from ..backends.base import ProcessState
from ..backends.local.endpoints import LocalEndpointBackend

__all__ = ["LocalEndpointBackend", "ProcessState"]
