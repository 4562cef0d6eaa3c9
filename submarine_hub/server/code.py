"""``<base_url>submarine/code-archive?path=FOLDER``: a folder of the session as a .tar.gz.

The lab's submit form uploads it as a script or notebook run's code (``POST
submarine/api/v1/uploads``, then ``code: {upload: ID}``): what ``submarine experiment
submit --code DIR`` does in a terminal. Files are read through the contents manager,
so team folders (kept by the platform, not on disk) pack too; ``.git``, caches and
virtual environments are left out, as the CLI leaves them out.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import tarfile
import time
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from tornado import web

from ..client.uploads import SKIP_IN_UPLOADS
from ..core.errors import InvalidInput
from ..core.paths import safe_relpath
from ..core.spaces import SHARED, TEAMS
from .base import SubmarineHandler

#: The platform keeps uploads up to this size (``POST /uploads``).
MAX_ARCHIVE = 16 * 1024 * 1024
#: Bytes read from files before giving up (compressed, they would not fit anyway).
MAX_READ = 256 * 1024 * 1024


class TooBig(Exception):
    pass


def _file_bytes(model: dict[str, Any]) -> bytes:
    content = model.get("content")
    if model["type"] == "notebook":
        import nbformat

        return (nbformat.writes(nbformat.from_dict(content)) + "\n").encode()
    if model.get("format") == "base64":
        return base64.b64decode(content or "")
    return (content or "").encode()


def _add(tar: tarfile.TarFile, rel: str, model: dict[str, Any]) -> int:
    """Add the file ``model`` to ``tar`` as ``rel`` (serialized and compressed here, in a
    worker thread: a large notebook takes its time); its size."""
    data = _file_bytes(model)
    info = tarfile.TarInfo(rel)
    info.size = len(data)
    info.mtime = int(time.time())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))
    return len(data)


async def pack(contents_manager: Any, folder: str, limit: int = MAX_ARCHIVE) -> bytes:
    """A .tar.gz of ``folder``'s files (paths relative to it), read through the manager;
    the files are serialized and compressed off the event loop."""
    buf = io.BytesIO()
    read = 0
    platform = getattr(contents_manager, "platform", None)
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        pending = [folder]
        while pending:
            current = pending.pop()
            listing = await ensure_async(contents_manager.get(current, content=True))
            for child in sorted(listing["content"] or [], key=lambda c: c["name"]):
                if child["name"] in SKIP_IN_UPLOADS:
                    continue
                if not current and child["name"] in (TEAMS, SHARED) and platform:
                    continue  # the platform's folders, not files of this session
                if child["type"] == "directory":
                    pending.append(child["path"])
                    continue
                # as a file: jupytext would otherwise hand a .py over as a notebook
                model = await ensure_async(
                    contents_manager.get(child["path"], content=True, type="file")
                )
                rel = child["path"][len(folder) :].lstrip("/") if folder else child["path"]
                safe_relpath(rel)  # what the platform will accept of the archive
                read += await asyncio.to_thread(_add, tar, rel, model)
                if buf.tell() > limit or read > MAX_READ:
                    raise TooBig(
                        f"{folder or 'Your home folder'} packs to more than {limit} bytes, over "
                        "the limit of an upload; choose a smaller code folder, or use code "
                        "from git."
                    )
    if buf.tell() > limit:
        raise TooBig(
            f"{folder or 'Your home folder'} packs to {buf.tell()} bytes, over the "
            f"{limit}-byte limit of an upload; choose a smaller code folder."
        )
    return buf.getvalue()


class CodeArchiveHandler(SubmarineHandler):
    """``GET ?path=FOLDER``: the folder as .tar.gz, or ``{status, message}``."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        folder = self.get_query_argument("path", "").strip("/")
        cm = self.contents_manager
        try:
            if folder:
                safe_relpath(folder)
            if not await ensure_async(cm.dir_exists(folder)):
                return self._error(404, f"There is no folder {folder or '/'!r} in this session.")
            data = await pack(cm, folder)
        except TooBig as e:
            return self._error(413, str(e))
        except InvalidInput as e:
            return self._error(400, e.message)
        except web.HTTPError as e:
            return self._error(e.status_code, e.log_message or e.reason or "Cannot read it.")
        self.finish(data, set_content_type="application/gzip")

    def _error(self, status: int, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"status": status, "message": message}))
