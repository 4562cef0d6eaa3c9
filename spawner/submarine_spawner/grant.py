"""What the platform service grants a session when it admits it (``POST /sessions``).

Spawners turn a grant into a process (``submarine-local``) or a pod (``submarine-kube``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Resources:
    """What a session may use. ``None`` means no limit."""

    cpu: float | None = None  # cores
    memory: int | None = None  # bytes
    gpus: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Resources:
        data = data or {}
        return cls(cpu=data.get("cpu"), memory=data.get("memory"), gpus=int(data.get("gpus") or 0))


@dataclass(frozen=True)
class Environment:
    """An environment profile, and where the local backend materialized it."""

    scope: str  # a team name, or "_global"
    name: str
    image: str = ""  # the container image, on Kubernetes
    packages: tuple[str, ...] = ()
    kernel_name: str = ""  # local: the kernelspec registered in the built environment
    prefix: str = ""  # local: the built virtual environment's folder

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Environment | None:
        if not data:
            return None
        return cls(
            scope=data["scope"],
            name=data["name"],
            image=data.get("image") or "",
            packages=tuple(data.get("packages") or ()),
            kernel_name=(data.get("build") or {}).get("kernel_name") or "",
            prefix=(data.get("build") or {}).get("prefix") or "",
        )


@dataclass(frozen=True)
class CredentialFile:
    """A credential delivered as a file (a Kerberos keytab, a key...)."""

    path: str  # relative to the session's credentials folder
    content: bytes
    mode: int = 0o600


@dataclass(frozen=True)
class SessionGrant:
    session_id: str
    user: str
    team: str
    environment: Environment | None
    resources: Resources
    env: dict[str, str] = field(default_factory=dict)  # platform vars and env-kind credentials
    files: tuple[CredentialFile, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionGrant:
        return cls(
            session_id=str(data["id"]),
            user=data["user"],
            team=data["team"],
            environment=Environment.from_json(data.get("environment")),
            resources=Resources.from_json(data.get("resources")),
            env=dict(data.get("env") or {}),
            files=tuple(
                CredentialFile(
                    path=f["path"],
                    content=base64.b64decode(f["content_base64"]),
                    mode=int(f.get("mode", 0o600)),
                )
                for f in data.get("files") or ()
            ),
        )
