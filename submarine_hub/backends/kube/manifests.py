"""Pure renderers of the Kubernetes objects sessions, runs and endpoints are made of.

Each function takes plain values and returns the object as plain data (what
``kubectl apply`` reads), validated in the tests against the Kubernetes OpenAPI
schemas. Nothing here talks to a cluster; what a session, a run or an endpoint is made
of is decided by its own module (``submarine_spawner.kube``, :mod:`.runs`,
``submarine_hub.serving.kube``), from these pieces.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ...core.errors import InvalidInput
from ...core.paths import safe_relpath

#: A Secret holds at most 1 MiB.
SECRET_MAX_BYTES = 1024 * 1024
#: ``defaultMode`` of a credentials volume; every item also carries its own mode.
CREDENTIALS_DEFAULT_MODE = 0o400

# Kubernetes 1.30's rule for container environment variable names.
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_SECRET_KEY_UNSAFE = re.compile(r"[^-._a-zA-Z0-9]")


# --- object metadata and simple objects ----------------------------------------------


def metadata(
    name: str,
    namespace: str | None,
    labels: Mapping[str, str],
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``metadata`` of an object (``namespace`` ``None``: a cluster-wide object)."""
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def namespace(name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """A Namespace."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata(name, None, labels)}


def secret(
    meta: Mapping[str, Any],
    *,
    data: Mapping[str, bytes | str] | None = None,
    string_data: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An ``Opaque`` Secret; ``data`` is base64-encoded here (text as UTF-8)."""
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": dict(meta),
        "type": "Opaque",
    }
    if data is not None:
        manifest["data"] = {
            key: base64.b64encode(v.encode() if isinstance(v, str) else v).decode("ascii")
            for key, v in data.items()
        }
    if string_data is not None:
        manifest["stringData"] = dict(string_data)
    return manifest


def config_map(meta: Mapping[str, Any], data: Mapping[str, str]) -> dict[str, Any]:
    """A ConfigMap of text ``data``."""
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": dict(meta), "data": dict(data)}


def service(
    meta: Mapping[str, Any],
    *,
    selector: Mapping[str, str],
    ports: Iterable[tuple[str, int, int | str]] = (),
    headless: bool = False,
) -> dict[str, Any]:
    """A Service over the pods ``selector`` picks; ``ports`` are ``(name, port, target)``.

    ``headless``: no cluster IP, and DNS names for pods that are not ready yet (the
    replicas of a distributed run resolve each other before they are ready).
    """
    spec: dict[str, Any] = {}
    if headless:
        spec.update(clusterIP="None", publishNotReadyAddresses=True)
    else:
        spec["type"] = "ClusterIP"
    spec["selector"] = dict(selector)
    port_list = [
        {"name": name, "port": port, "targetPort": target, "protocol": "TCP"}
        for name, port, target in ports
    ]
    if port_list:
        spec["ports"] = port_list
    return {"apiVersion": "v1", "kind": "Service", "metadata": dict(meta), "spec": spec}


def persistent_volume_claim(
    meta: Mapping[str, Any],
    *,
    size: str,
    storage_class: str | None = None,
    access_modes: Iterable[str] = ("ReadWriteMany",),
) -> dict[str, Any]:
    """A PersistentVolumeClaim of ``size`` (a quantity); the default class without one."""
    spec: dict[str, Any] = {
        "accessModes": list(access_modes),
        "resources": {"requests": {"storage": size}},
    }
    if storage_class:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": dict(meta),
        "spec": spec,
    }


# --- pods ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PodSettings:
    """How the platform's own pods (runs, endpoints) are placed and pull their images."""

    image_pull_policy: str | None = None
    image_pull_secrets: tuple[str, ...] = ()
    service_account: str = ""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Mapping[str, Any], ...] = ()


def apply_pod_settings(spec: dict[str, Any], settings: PodSettings) -> dict[str, Any]:
    """Put ``settings`` into a pod ``spec`` (and its containers), in place; returns it.

    The service account, image pull secrets, node selector and tolerations go into the
    pod; the image pull policy into every container and init container.
    """
    if settings.service_account:
        spec["serviceAccountName"] = settings.service_account
    if settings.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": n} for n in settings.image_pull_secrets]
    if settings.node_selector:
        spec["nodeSelector"] = dict(settings.node_selector)
    if settings.tolerations:
        spec["tolerations"] = [dict(t) for t in settings.tolerations]
    if settings.image_pull_policy:
        for container in [*spec.get("initContainers", ()), *spec.get("containers", ())]:
            container["imagePullPolicy"] = settings.image_pull_policy
    return spec


def cpu_quantity(cores: float) -> str:
    """``cores`` as a CPU quantity: whole cores (``"2"``) or millicores (``"500m"``)."""
    millis = max(1, round(cores * 1000))
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def check_resources(cpu: float | None, memory: float | str | None, gpus: int = 0) -> None:
    """Refuse a non-positive CPU or memory, or a negative GPU count (``None``: no limit)."""
    if cpu is not None and cpu <= 0:
        raise InvalidInput(f"CPU must be positive, not {cpu}.")
    if memory is not None and not isinstance(memory, str) and memory <= 0:
        raise InvalidInput(f"Memory must be positive, not {memory}.")
    if gpus < 0:
        raise InvalidInput(f"GPUs cannot be negative: {gpus}.")


def container_resources(
    cpu: float | None,
    memory: int | str | None,
    gpus: int = 0,
    *,
    gpu_resource_name: str = "nvidia.com/gpu",
) -> dict[str, Any]:
    """A container's ``resources``, requests equal to limits ({} without any).

    The platform admitted the work against its team's quota, so the cluster reserves
    what was granted. ``memory`` in bytes, or a quantity (``"1Gi"``); GPUs as the
    extended resource ``gpu_resource_name``.
    """
    check_resources(cpu, memory, gpus)
    limits: dict[str, str] = {}
    if cpu is not None:
        limits["cpu"] = cpu_quantity(cpu)
    if memory is not None:
        limits["memory"] = memory if isinstance(memory, str) else str(int(memory))
    if gpus:
        limits[gpu_resource_name] = str(gpus)
    return {"limits": limits, "requests": dict(limits)} if limits else {}


def check_env_names(names: Iterable[str], where: str = "") -> None:
    """Refuse variable names a Kubernetes 1.30 container cannot have."""
    for name in names:
        if not _ENV_NAME.match(name):
            place = f" ({where})" if where else ""
            raise InvalidInput(
                f"Environment variable name {name!r}{place} is not valid in a Kubernetes container."
            )


def kube_escape(value: str) -> str:
    """``value`` written so that Kubernetes' ``$(VAR)`` expansion gives it back unchanged.

    Kubernetes expands ``$(NAME)`` in a container's command, args and ``env`` values,
    and turns ``$$`` into ``$``.
    """
    return value.replace("$", "$$")


def env_list(env: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A container's ``env`` of literal values (escaped against ``$(VAR)`` expansion)."""
    check_env_names(env)
    return [{"name": k, "value": kube_escape(str(v))} for k, v in env.items()]


# --- credential files ----------------------------------------------------------------


class CredentialItem(NamedTuple):
    """A credential file in a Secret: its key there, its path in the volume, its mode."""

    key: str
    path: str
    mode: int
    content: bytes


def credential_items(files: Iterable[tuple[Any, int, bytes]]) -> list[CredentialItem]:
    """``(path, mode, content)`` of each file as Secret items, checked.

    Each path passes the platform's one path rule
    (:func:`~submarine_hub.core.paths.safe_relpath`) and is given once; modes are in
    ``0..0777``; together the files fit in a Secret (1 MiB). Keys are the paths with
    unsafe characters replaced, made unique.
    """
    items: list[CredentialItem] = []
    keys: set[str] = set()
    paths: set[str] = set()
    for i, (raw_path, mode, content) in enumerate(files):
        path = safe_relpath(raw_path, what="credential file path")
        if path in paths:
            raise InvalidInput(f"Credential file {path!r} is given twice.")
        paths.add(path)
        if not 0 <= mode <= 0o777:
            raise InvalidInput(f"Credential file {path!r}: mode {mode:o} is not in 0..0777.")
        key = _SECRET_KEY_UNSAFE.sub("_", path)[:240]
        if key in keys:
            key = f"{key}-{i}"
        keys.add(key)
        items.append(CredentialItem(key, path, mode, content))
    size = sum(len(item.content) for item in items)
    if size > SECRET_MAX_BYTES:
        raise InvalidInput(
            f"Credential files take {size} bytes: a Kubernetes Secret holds at most 1 MiB."
        )
    return items


def credentials_secret(meta: Mapping[str, Any], items: Iterable[CredentialItem]) -> dict[str, Any]:
    """The Secret holding credential files, one key per file."""
    return secret(meta, data={item.key: item.content for item in items})


def credentials_volume(
    volume_name: str, secret_name: str, items: Iterable[CredentialItem], mount_path: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A pod's volume of the credentials Secret, and its read-only mount."""
    volume = {
        "name": volume_name,
        "secret": {
            "secretName": secret_name,
            "defaultMode": CREDENTIALS_DEFAULT_MODE,
            "items": [{"key": i.key, "path": i.path, "mode": i.mode} for i in items],
        },
    }
    return volume, {"name": volume_name, "mountPath": mount_path, "readOnly": True}
