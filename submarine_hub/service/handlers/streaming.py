"""Request bodies streamed to storage: a file of any size in bounded memory, hashed."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

from ...core.errors import InvalidInput

_pending: set[asyncio.Future[Any]] = set()  # abandoned uploads being closed


class StreamedUpload:
    """Mixin (before the handler's base) for a ``PUT`` whose body goes to a writer.

    ``prepare`` calls :meth:`open_upload` once it accepted the request (a refused request
    opens nothing: its body is drained); the method then calls :meth:`close_upload`,
    which checks an ``X-Content-SHA256`` header if the client sent one.
    """

    _writer: Any = None
    _digest: Any = None
    _size = 0
    _cleanup: Callable[[], Any] | None = None

    async def open_upload(
        self, open_writer: Callable[[], Any], cleanup: Callable[[], Any] | None = None
    ) -> None:
        """Start writing the body; ``cleanup`` (in a thread) removes what an abandoned
        upload (the client went away) wrote."""
        self._writer = await asyncio.to_thread(open_writer)
        self._digest = hashlib.sha256()
        self._cleanup = cleanup

    async def data_received(self, chunk: bytes) -> None:
        if self._writer is None:  # refused in prepare: drain the body (bounded), answer after
            super().data_received(chunk)  # type: ignore[misc]
            return
        self._digest.update(chunk)
        self._size += len(chunk)
        await asyncio.to_thread(self._writer.write, chunk)

    def on_connection_close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            task = asyncio.ensure_future(asyncio.to_thread(_discard, writer, self._cleanup))
            _pending.add(task)
            task.add_done_callback(_pending.discard)

    async def close_upload(self, what: str) -> tuple[int, str]:
        """Close the writer: the body's size and SHA-256 (hex). A body whose hash is not
        the announced one is refused (the caller drops what was written)."""
        writer, self._writer = self._writer, None
        assert writer is not None
        await asyncio.to_thread(writer.close)
        sha256 = self._digest.hexdigest()
        expected = self.request.headers.get("X-Content-SHA256")  # type: ignore[attr-defined]
        if expected and expected.lower() != sha256:
            raise InvalidInput(
                f"{what}: the SHA-256 of what arrived ({sha256}) is not {expected}; send it again."
            )
        return self._size, sha256


def _discard(writer: Any, cleanup: Callable[[], Any] | None) -> None:
    for step in (writer.close, cleanup):
        try:
            if step is not None:
                step()
        except Exception:  # the upload is abandoned either way
            pass
