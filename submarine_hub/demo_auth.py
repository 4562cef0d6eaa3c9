"""A demo-grade authenticator for the embedded single-machine configuration.

Everyone shares one password; admins share another. Fine to try the platform on
127.0.0.1, never for a hub other people can reach: use a real authenticator there
(``SUBMARINE_AUTHENTICATOR``, see the README).
"""

from __future__ import annotations

from jupyterhub.authenticators.shared import SharedPasswordAuthenticator

WARNING = (
    "DemoAuthenticator: every user logs in with the same shared password. "
    "It is for trying Submarine Hub on one machine only; set SUBMARINE_AUTHENTICATOR "
    "to a real authenticator before anyone else can reach this hub."
)


class DemoAuthenticator(SharedPasswordAuthenticator):
    """SharedPasswordAuthenticator that says loudly that it is for demos only."""

    def check_allow_config(self) -> None:
        super().check_allow_config()
        self.log.warning(WARNING)
