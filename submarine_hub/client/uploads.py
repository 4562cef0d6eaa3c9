"""Code uploads: a local folder packed as a .tar.gz and sent to the service, for a run or
a notebook job to find beside it.

Contract: a pack never holds what :data:`SKIP_IN_UPLOADS` names (at any depth), and is
refused over its size limit (16 MiB by default) with a message that says what to do.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from .transport import SyncTransport

#: Never packed into a code upload: version control, caches, environments, tool state
#: (a session's home holds .local, .cache, .ipython... and .submarine, its save journal).
SKIP_IN_UPLOADS = {
    ".git", "__pycache__", ".ipynb_checkpoints", ".venv", "node_modules",
    ".submarine", ".cache", ".local", ".ipython", ".jupyter", ".npm", ".config",
}  # fmt: skip


def pack_folder(folder: Path, limit: int = 16 * 1024 * 1024) -> bytes:
    """A .tar.gz of ``folder``'s contents; refuses one over ``limit`` bytes."""
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder.")
    buf = io.BytesIO()

    def skip(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        return None if Path(info.name).name in SKIP_IN_UPLOADS else info

    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for child in sorted(folder.iterdir()):
            if child.name not in SKIP_IN_UPLOADS:
                tar.add(child, arcname=child.name, filter=skip)
    if buf.tell() > limit:
        raise ValueError(
            f"{folder} packs to {buf.tell()} bytes, over the {limit}-byte limit; "
            "use code from git for large folders."
        )
    return buf.getvalue()


def folder_of(notebook: str | None) -> Path:
    """The folder of a notebook on this machine: ``notebook`` as given, else below the
    home folder (a session's paths are relative to it; a kernel's cwd may be elsewhere);
    no notebook (a cell run as a job): the current folder."""
    if notebook is None:
        return Path.cwd()
    for candidate in (Path(notebook or ""), Path.home() / (notebook or "")):
        if notebook and candidate.is_file():
            return candidate.resolve().parent
    raise ValueError(
        f"with_files sends the folder of a notebook on this machine; {notebook!r} is not "
        "a file here (relative to the current folder or your home)."
    )


class CodeUploadsAPI(SyncTransport):
    """The SDK's call that uploads a folder."""

    def upload_code(self, folder: str | os.PathLike[str]) -> str:
        """Upload a folder (as .tar.gz, skipping .git and caches); returns the upload id."""
        data = pack_folder(Path(folder))
        return self.request(
            "POST", "uploads", content=data, headers={"Content-Type": "application/gzip"}
        )["id"]
