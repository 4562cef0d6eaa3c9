"""The SDK's calls on the model registry (models, versions, their files and aliases) and
on datasets and lineage.

Contract: files go up streamed with their SHA-256 for the service to check, and come down
checked against theirs; a model's ``ref`` is ``team/name``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from .errors import SubmarineAPIError
from .transport import SyncTransport


class ModelsAPI(SyncTransport):
    """Registered models, their versions, files and aliases."""

    def models(self, team: str | None = None) -> list[dict[str, Any]]:
        params = {"team": team} if team else None
        return self.request("GET", "models", params=params)["items"]

    def model(self, ref: str) -> dict[str, Any]:
        return self.request("GET", f"models/{ref}")

    def create_model(self, name: str, team: str | None = None, **fields: Any) -> dict[str, Any]:
        return self.request("POST", "models", json={"name": name, "team": team, **fields})

    def update_model(self, ref: str, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", f"models/{ref}", json=fields)

    def delete_model(self, ref: str) -> None:
        self.request("DELETE", f"models/{ref}")

    def register_model(
        self,
        ref: str,
        files: list[str | os.PathLike[str]] | None = None,
        *,
        from_run: int | None = None,
        run_paths: list[str] | None = None,
        create: bool = True,
        **fields: Any,
    ) -> dict[str, Any]:
        """A new version of model ``team/name`` from local ``files`` (streamed, checked by
        SHA-256) or from a run's outputs (``from_run`` + ``run_paths``). Creates the model
        first if ``create`` and it does not exist."""
        team, _, name = ref.rpartition("/")
        if create:
            try:
                self.model(f"{team}/{name}")
            except SubmarineAPIError as e:
                if e.status != 404:
                    raise
                self.create_model(name, team or None)
        if from_run is not None:
            body = {**fields, "from_run": {"run_id": from_run, "paths": run_paths or []}}
            return self.request("POST", f"models/{ref}/versions", json=body)
        version = self.request("POST", f"models/{ref}/versions", json=fields)
        number = version["version"]
        for item in files or []:
            path = Path(item)
            targets = (
                [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            )
            for f in targets:
                rel = f.name if f == path else f.relative_to(path).as_posix()
                self.upload_model_file(ref, number, f, rel)
        return self.request("POST", f"models/{ref}/versions/{number}/ready")

    def upload_model_file(
        self, ref: str, version: int, source: str | os.PathLike[str], path: str
    ) -> dict[str, Any]:
        return self.put_file(f"models/{ref}/versions/{version}/files", source, path)

    def download_model(self, ref: str, version: str | int, target: str | os.PathLike[str]) -> Path:
        """Every file of a version into folder ``target``, each checked by SHA-256."""
        info = self.request("GET", f"models/{ref}/versions/{version}")
        root = Path(target)
        for entry in info["files"]:
            dest = root / entry["path"]
            dest.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            url = f"models/{ref}/versions/{version}/files"
            with self.stream(url, params={"path": entry["path"]}) as resp:
                with open(dest, "wb") as out:
                    for chunk in resp.iter_bytes(1024 * 1024):
                        digest.update(chunk)
                        out.write(chunk)
            if digest.hexdigest() != entry["sha256"]:
                raise SubmarineAPIError(502, f"{entry['path']}: its SHA-256 does not match.")
        return root

    def model_version(self, ref: str, version: str | int) -> dict[str, Any]:
        return self.request("GET", f"models/{ref}/versions/{version}")

    def update_model_version(self, ref: str, version: str | int, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", f"models/{ref}/versions/{version}", json=fields)

    def delete_model_version(self, ref: str, version: str | int) -> None:
        self.request("DELETE", f"models/{ref}/versions/{version}")

    def set_alias(self, ref: str, alias: str, version: int) -> dict[str, Any]:
        return self.request("PUT", f"models/{ref}/aliases/{alias}", json={"version": version})

    def delete_alias(self, ref: str, alias: str) -> None:
        self.request("DELETE", f"models/{ref}/aliases/{alias}")


class DatasetsAPI(SyncTransport):
    """Datasets, and the lineage graph that links them to runs, models and endpoints."""

    def datasets(self, team: str | None = None, tag: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("team", team), ("tag", tag)) if v}
        return self.request("GET", "datasets", params=params)["items"]

    def dataset(self, ref: str) -> dict[str, Any]:
        return self.request("GET", f"datasets/{ref}")

    def create_dataset(self, name: str, uri: str, **fields: Any) -> dict[str, Any]:
        return self.request("POST", "datasets", json={"name": name, "uri": uri, **fields})

    def update_dataset(self, ref: str, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", f"datasets/{ref}", json=fields)

    def delete_dataset(self, ref: str) -> None:
        self.request("DELETE", f"datasets/{ref}")

    def lineage(self, **of: Any) -> dict[str, Any]:
        """``dataset="team/name"``, ``run=7``, ``model="team/name"`` (+ ``version``) or
        ``endpoint="team/name"``: the graph of datasets, runs, model versions, endpoints."""
        return self.request("GET", "lineage", params={k: v for k, v in of.items() if v is not None})
