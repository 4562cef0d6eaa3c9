"""The one way the platform talks to a Kubernetes API server: :class:`ClusterApi`.

Sessions, runs and endpoints make the same few calls on plain objects (dicts carrying
``kind``), whatever the kind: :class:`KubeApi` says which. :class:`ClusterApi` makes
them over ``kubernetes_asyncio`` and reads every answer as the API server's own JSON,
not as the client's models, so objects keep every field the server sends (newer than
the client, or of custom resources) and nothing is refused by the models' own
validation. Tests use one stand-in of the same protocol (``tests/helpers/kube.py``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from kubernetes_asyncio.client.exceptions import ApiException

from ...core.errors import Conflict, Forbidden, InvalidInput, SubmarineError, Unavailable

__all__ = [
    "KINDS",
    "ApiException",
    "ClusterApi",
    "Kind",
    "KubeApi",
    "api_client",
    "api_error",
    "apply",
    "create_if_missing",
    "create_or_get",
    "read_body",
]


class KubeApi(Protocol):
    """The calls the platform makes, on plain dicts (objects carry ``kind``).

    Errors are ``kubernetes_asyncio``'s :class:`ApiException` with the server's status;
    ``get`` answers ``None`` and ``delete`` nothing for an object that is not there.
    """

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any]: ...

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def patch(
        self, kind: str, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """A JSON merge patch (RFC 7386): ``None`` values remove fields."""
        ...

    async def delete(
        self, kind: str, namespace: str, name: str, propagation: str = "Background"
    ) -> None: ...

    async def list(
        self, kind: str, namespace: str | None, label_selector: str
    ) -> tuple[list[dict[str, Any]], str]:
        """The objects (``namespace`` ``None``: in every namespace) and the list's
        ``resourceVersion``, to watch from."""
        ...

    def watch(
        self, kind: str, namespace: str | None, label_selector: str, resource_version: str
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """``(event type, object)`` from ``resource_version`` on, until the server ends
        the watch; ``ApiException`` 410 when that version is too old."""
        ...

    async def pod_log(self, namespace: str, pod: str, container: str, limit_bytes: int) -> bytes:
        """The first ``limit_bytes`` of a container's log; empty when there is none yet."""
        ...

    async def api_resources(self, group: str, version: str) -> set[str] | None:
        """The resource names an API group version serves; ``None`` when it is not."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Kind:
    """How a kind is reached: the client's API class and method names, or the custom
    resource's group, version and plural."""

    api: str  # "core", "batch", "apps" or "custom"
    snake: str  # the method name part: create_namespaced_<snake>, list_<snake>_for_all...
    namespaced: bool = True
    group: str = ""
    version: str = ""
    plural: str = ""


KUBEFLOW_GROUP = "kubeflow.org"
KUBEFLOW_VERSION = "v1"

#: Every kind the platform creates or reads.
KINDS: dict[str, Kind] = {
    "Namespace": Kind("core", "namespace", namespaced=False),
    "Secret": Kind("core", "secret"),
    "ConfigMap": Kind("core", "config_map"),
    "Service": Kind("core", "service"),
    "Pod": Kind("core", "pod"),
    "PersistentVolumeClaim": Kind("core", "persistent_volume_claim"),
    "Job": Kind("batch", "job"),
    "Deployment": Kind("apps", "deployment"),
    "PyTorchJob": Kind("custom", "", True, KUBEFLOW_GROUP, KUBEFLOW_VERSION, "pytorchjobs"),
    "TFJob": Kind("custom", "", True, KUBEFLOW_GROUP, KUBEFLOW_VERSION, "tfjobs"),
    # live use of pods, where the cluster serves the metrics API (metrics-server)
    "PodMetrics": Kind("custom", "", True, "metrics.k8s.io", "v1beta1", "pods"),
}


async def api_client(kubeconfig: str = "") -> Any:
    """A ``kubernetes_asyncio`` ``ApiClient``: in-cluster credentials, else ``kubeconfig``
    (``$KUBECONFIG``, ``~/.kube/config``)."""
    from kubernetes_asyncio import client, config

    configuration = client.Configuration()
    if kubeconfig:
        await config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    else:
        try:
            config.load_incluster_config(client_configuration=configuration)
        except config.ConfigException:
            await config.load_kube_config(client_configuration=configuration)
    return client.ApiClient(configuration)


async def read_body(request: Any) -> bytes:
    """The body of a ``_preload_content=False`` call (the API's own JSON, unparsed into
    models); :class:`ApiException` with the server's answer on an error status."""
    response = await request
    try:
        body: bytes = await response.read()
        if response.status >= 400:
            e = ApiException(status=response.status, reason=response.reason)
            e.body = body.decode("utf-8", errors="replace")  # type: ignore[assignment]
            raise e
        return body
    finally:
        response.release()


class ClusterApi:
    """:class:`KubeApi` over a ``kubernetes_asyncio`` ``ApiClient``."""

    def __init__(self, client_: Any) -> None:
        from kubernetes_asyncio import client

        self.api_client = client_
        self._apis: dict[str, Any] = {
            "core": client.CoreV1Api(client_),
            "batch": client.BatchV1Api(client_),
            "apps": client.AppsV1Api(client_),
            "custom": client.CustomObjectsApi(client_),
        }

    @classmethod
    async def connect(cls, kubeconfig: str = "") -> ClusterApi:
        """In-cluster credentials, else ``kubeconfig`` (``$KUBECONFIG``, ``~/.kube/config``)."""
        return cls(await api_client(kubeconfig))

    @staticmethod
    def kind(kind: str) -> Kind:
        try:
            return KINDS[kind]
        except KeyError:
            raise ValueError(f"The platform does not handle Kubernetes {kind} objects.") from None

    async def _json(self, request: Any, kind: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(await read_body(request) or b"{}")
        data.setdefault("kind", kind)
        return data

    def _call(self, verb: str, kind: str, namespace: str, *args: Any, **kwargs: Any) -> Any:
        """``verb`` (create, read, patch, delete) on one object of ``kind``; ``args``:
        the name (but for create), then the body (create, patch)."""
        k = self.kind(kind)
        kwargs["_preload_content"] = False
        api = self._apis[k.api]
        if k.api == "custom":
            verb = "get" if verb == "read" else verb
            method = getattr(api, f"{verb}_namespaced_custom_object")
            return method(k.group, k.version, namespace, k.plural, *args, **kwargs)
        if not k.namespaced:
            return getattr(api, f"{verb}_{k.snake}")(*args, **kwargs)
        method = getattr(api, f"{verb}_namespaced_{k.snake}")
        if verb == "create":
            return method(namespace, *args, **kwargs)
        name, *rest = args
        return method(name, namespace, *rest, **kwargs)

    def _list_call(self, kind: str, namespace: str | None) -> tuple[Callable[..., Any], tuple]:
        k = self.kind(kind)
        api = self._apis[k.api]
        if k.api == "custom":
            if namespace:
                args: tuple = (k.group, k.version, namespace, k.plural)
                return api.list_namespaced_custom_object, args
            return api.list_custom_object_for_all_namespaces, (k.group, k.version, k.plural)
        if not k.namespaced:
            return getattr(api, f"list_{k.snake}"), ()
        if namespace:
            return getattr(api, f"list_namespaced_{k.snake}"), (namespace,)
        return getattr(api, f"list_{k.snake}_for_all_namespaces"), ()

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        kind = manifest["kind"]
        namespace = manifest["metadata"].get("namespace", "")
        return await self._json(self._call("create", kind, namespace, manifest), kind)

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return await self._json(self._call("read", kind, namespace, name), kind)
        except ApiException as e:
            if e.status == 404:
                return None
            raise

    async def patch(
        self, kind: str, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        request = self._call(
            "patch", kind, namespace, name, body, _content_type="application/merge-patch+json"
        )
        return await self._json(request, kind)

    async def delete(
        self, kind: str, namespace: str, name: str, propagation: str = "Background"
    ) -> None:
        request = self._call("delete", kind, namespace, name, propagation_policy=propagation)
        try:
            await read_body(request)
        except ApiException as e:
            if e.status != 404:
                raise

    async def list(
        self, kind: str, namespace: str | None, label_selector: str
    ) -> tuple[list[dict[str, Any]], str]:
        call, args = self._list_call(kind, namespace)
        request = call(*args, label_selector=label_selector, _preload_content=False)
        data = await self._json(request, kind + "List")
        items = [dict(item, kind=kind) for item in data.get("items") or []]
        return items, (data.get("metadata") or {}).get("resourceVersion") or ""

    async def watch(
        self, kind: str, namespace: str | None, label_selector: str, resource_version: str
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        from kubernetes_asyncio import watch

        call, args = self._list_call(kind, namespace)
        async with watch.Watch(return_type="object") as w:
            stream = w.stream(
                call,
                *args,
                label_selector=label_selector,
                resource_version=resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=300,
            )
            async for event in stream:
                obj = event["raw_object"]
                if isinstance(obj, dict):
                    obj.setdefault("kind", kind)
                yield event["type"], obj

    async def pod_log(self, namespace: str, pod: str, container: str, limit_bytes: int) -> bytes:
        request = self._apis["core"].read_namespaced_pod_log(
            pod, namespace, container=container, limit_bytes=limit_bytes, _preload_content=False
        )
        try:
            return await read_body(request)
        except ApiException as e:
            if e.status in (400, 404):  # gone, or not started yet
                return b""
            raise

    async def api_resources(self, group: str, version: str) -> set[str] | None:
        try:
            data = await self._json(
                self._apis["custom"].get_api_resources(group, version, _preload_content=False),
                "APIResourceList",
            )
        except ApiException as e:
            if e.status == 404:
                return None
            raise
        return {r.get("name") for r in data.get("resources") or []}

    async def close(self) -> None:
        await self.api_client.close()


# --- what every user of the API does -------------------------------------------------


def api_error(e: ApiException, doing: str) -> SubmarineError:
    """A refusal from the API server as the platform's error, with the server's message."""
    message = e.reason or ""
    with contextlib.suppress(TypeError, ValueError, AttributeError):
        message = json.loads(e.body or b"{}").get("message") or message
    text = f"Kubernetes refused to {doing}: {message}".rstrip(": ")
    if e.status in (400, 422):
        return InvalidInput(text)
    if e.status == 403:
        return Forbidden(text)
    if e.status == 409:
        return Conflict(text)
    return Unavailable(text)


async def create_if_missing(api: KubeApi, manifest: dict[str, Any]) -> dict[str, Any] | None:
    """Create the object; ``None`` when it exists already (``409``)."""
    try:
        return await api.create(manifest)
    except ApiException as e:
        if e.status != 409:
            raise
    return None


async def create_or_get(api: KubeApi, manifest: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create the object, or read it when it exists already (``409``).

    Returns the object and whether it was created here. Raises :class:`Conflict` when
    it existed and is gone by the time it is read (deleted meanwhile).
    """
    obj = await create_if_missing(api, manifest)
    if obj is not None:
        return obj, True
    kind, meta = manifest["kind"], manifest["metadata"]
    obj = await api.get(kind, meta.get("namespace", ""), meta["name"])
    if obj is None:
        raise Conflict(f"{kind} {meta['name']} existed and is gone.")
    return obj, False


async def apply(api: KubeApi, manifest: dict[str, Any]) -> dict[str, Any]:
    """Create the object, or merge ``manifest`` into the one that exists."""
    kind, meta = manifest["kind"], manifest["metadata"]
    if await api.get(kind, meta.get("namespace", ""), meta["name"]) is None:
        obj = await create_if_missing(api, manifest)
        if obj is not None:
            return obj  # else created meanwhile: patched below
    return await api.patch(kind, meta.get("namespace", ""), meta["name"], manifest)
