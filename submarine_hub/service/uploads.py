"""Uploaded code folders (``.tar.gz``) that experiment specs name as ``code: {upload: ID}``."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import uuid
from pathlib import Path
from typing import Any

from ..core.errors import InvalidInput, NotFound
from ..core.identity import Identity
from ..core.paths import safe_relpath

UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


class UploadStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, upload_id: str) -> Path:
        if not isinstance(upload_id, str) or not UPLOAD_ID.fullmatch(upload_id):
            raise NotFound(f"No upload {upload_id!r}; upload the code folder again.")
        return self.root / f"{upload_id}.tar.gz"

    def save(self, identity: Identity, data: bytes) -> dict[str, Any]:
        """Keep a gzip'd tar of a code folder; refuse anything else or unsafe members:
        each name is checked by the one containment rule (``core.paths``), and the
        standard library's ``data`` filter (what extraction uses) refuses links out of
        the folder and devices."""
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                members = tar.getmembers()
                for m in members:
                    name = m.name.removeprefix("./")
                    if name not in ("", "."):
                        safe_relpath(name, what=f"member {m.name!r}")
                    tarfile.data_filter(m, "/nonexistent")  # links out, devices
        except (tarfile.TarError, OSError, EOFError) as e:
            raise InvalidInput(f"The upload is not a safe .tar.gz of a folder: {e}.") from None
        except InvalidInput as e:
            raise InvalidInput(
                f"The upload is not a safe .tar.gz of a folder: {e.message}"
            ) from None
        upload_id = uuid.uuid4().hex
        tmp = self.root / f".{upload_id}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.path(upload_id))
        meta = {"owner": identity.name, "size": len(data), "files": len(members)}
        if identity.confined:
            meta["run"] = identity.run_id  # a run's token's upload is for that run's team
        (self.root / f"{upload_id}.json").write_text(json.dumps(meta))
        return {"id": upload_id, **meta}

    def check(self, identity: Identity, upload_id: str) -> None:
        """Refuse an upload ``identity`` did not make: a person's own uploads are theirs,
        a run's token has only what that token uploaded."""
        meta_path = self.path(upload_id).with_name(f"{upload_id}.json")
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        if meta.get("owner") != identity.name or meta.get("run") != identity.run_id:
            raise NotFound(f"No upload {upload_id} of yours; upload the code folder again.")
