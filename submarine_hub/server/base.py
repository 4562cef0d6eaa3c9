"""Base of the extension's own handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin

from .extension import AUTH_RESOURCE

if TYPE_CHECKING:
    from .extension import SubmarineServerExtension


class SubmarineHandler(ExtensionHandlerMixin, APIHandler):
    """A handler of the ``submarine_hub`` extension. Its methods are decorated with
    ``web.authenticated`` and jupyter-server's ``authorized``: the server's authorizer
    decides on the action (``read`` for GET, ``write`` otherwise) on :data:`AUTH_RESOURCE`."""

    auth_resource = AUTH_RESOURCE

    @property
    def extension(self) -> SubmarineServerExtension:
        """The extension's settings (``c.SubmarineServerExtension.*``)."""
        return cast("SubmarineServerExtension", self.extensionapp)
