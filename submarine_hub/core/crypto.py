"""Encryption at rest for credentials.

Keys follow JupyterHub's ``JUPYTERHUB_CRYPT_KEY`` convention: one or more 32-byte keys,
hex or base64 encoded, separated by ``;``. The first key encrypts; all of them decrypt,
so keys can be rotated by putting a new key first.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .errors import SubmarineError

KEY_ENV = "SUBMARINE_CRYPT_KEY"


class CryptError(SubmarineError):
    status = 500


def _decode_key(key: str) -> bytes:
    key = key.strip()
    raw: bytes | None = None
    if len(key) == 64:
        try:
            raw = binascii.a2b_hex(key)
        except binascii.Error:
            raw = None
    if raw is None:
        try:
            raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != 32:
        raise ValueError(
            f"{KEY_ENV} keys must be 32 bytes, hex (64 characters) or base64 encoded; "
            "make one with: openssl rand -hex 32"
        )
    return raw


class Crypt:
    def __init__(self, keys: str) -> None:
        parts = [k for k in keys.split(";") if k.strip()]
        if not parts:
            raise ValueError(f"No encryption key: set {KEY_ENV} (openssl rand -hex 32).")
        self._fernet = MultiFernet(
            [Fernet(base64.urlsafe_b64encode(_decode_key(k))) for k in parts]
        )

    def encrypt(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise CryptError(
                f"A stored credential cannot be decrypted with the keys in {KEY_ENV}; "
                "was the key changed without keeping the old one?"
            ) from None
