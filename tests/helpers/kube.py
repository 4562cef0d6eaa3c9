"""The one Kubernetes stand-in of the tests, and what Kubernetes tests share.

- :class:`FakeCluster`: an API server in memory behind the platform's ``KubeApi``
  protocol (``submarine_hub.backends.kube.api``): objects, label selectors, merge
  patches, owner references and garbage collection (Foreground deletion waits for the
  dependents), resource versions, watches that resume from a version, pod logs, API
  discovery. Sessions, runs and endpoints are tested against it.
- :func:`rest_app`: the same cluster behind the Kubernetes REST API (an ``aiohttp``
  app), to test ``ClusterApi`` itself through ``kubernetes_asyncio``.
- :func:`validate`: every manifest against the Kubernetes 1.30 OpenAPI schemas
  (``kubernetes-validate``, strict: unknown fields fail); Kubeflow's ``PyTorchJob`` and
  ``TFJob``, which it does not know, against a JSON Schema of their ``kubeflow.org/v1``
  shape, and their pod templates as ``PodTemplate``.
- :class:`FakeUser` and :func:`session_grant`: what KubeSpawner reads of a JupyterHub
  user, and what the platform grants a session.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import jsonschema
import kubernetes_validate
from jupyterhub.objects import Server
from kubernetes_asyncio.client.exceptions import ApiException
from submarine_spawner.grant import CredentialFile, Environment, Resources, SessionGrant

from submarine_hub.backends.kube.api import KINDS
from submarine_hub.backends.kube.names import is_dns_label

K8S_VERSION = "1.30"
#: The creation time of every object the fake creates.
CREATED = "2024-06-01T10:00:00Z"
DELETED = "2024-06-01T10:05:00Z"


def api_exception(status: int, message: str = "") -> ApiException:
    """What ``kubernetes_asyncio`` raises for an API server's error ``status``."""
    e = ApiException(status=status, reason=message or "refused")
    e.body = json.dumps({"message": message}) if message else None
    return e


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Apply a JSON merge patch (RFC 7386) to ``target``, in place."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def selects(label_selector: str, labels: dict[str, str]) -> bool:
    """Whether a label selector (``k=v``, ``k!=v``, ``k``, ``!k``, comma-joined) picks
    an object with ``labels``."""
    for part in filter(None, (p.strip() for p in label_selector.split(","))):
        if "!=" in part:
            key, value = part.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in part:
            key, value = part.split("=", 1)
            if labels.get(key) != value.removeprefix("="):  # k=v or k==v
                return False
        elif part.startswith("!"):
            if part[1:] in labels:
                return False
        elif part not in labels:
            return False
    return True


#: Ends a watch of the :class:`FakeCluster` (put into its queues).
END_WATCH = object()

Key = tuple[str, str, str]  # kind, namespace, name


class FakeCluster:
    """An API server in memory, speaking the platform's ``KubeApi`` protocol.

    ``calls`` records ``(verb, kind, name or selector or version)``; ``fail_create``
    makes the creation of a kind fail; ``kubeflow`` is what API discovery says of
    ``kubeflow.org/v1`` (``None``: not served).
    """

    def __init__(self, kubeflow: set[str] | None = None) -> None:
        self.objects: dict[Key, dict[str, Any]] = {}
        self.events: list[tuple[int, str, dict[str, Any]]] = []  # version, type, object
        self.calls: list[tuple[str, str, str]] = []
        self.logs: dict[tuple[str, str], bytes] = {}
        self.kubeflow = kubeflow
        self.fail_create: dict[str, ApiException] = {}
        self.version = 0
        self.queues: dict[str, list[asyncio.Queue[Any]]] = {}
        self.closed = False

    # -- storing --

    def store(self, event: str, obj: dict[str, Any]) -> None:
        """Record an event: the object stored (or removed), watchers told."""
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        meta = obj["metadata"]
        key = (obj["kind"], meta.get("namespace", ""), meta["name"])
        if event == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        self.events.append((self.version, event, copy.deepcopy(obj)))
        for queue in self.queues.get(obj["kind"], []):
            queue.put_nowait((self.version, event, copy.deepcopy(obj)))

    def dependents(self, obj: dict[str, Any], *, blocking: bool = False) -> list[dict[str, Any]]:
        """The objects ``obj`` owns (by ``ownerReferences``); ``blocking``: those that
        hold a Foreground deletion of ``obj`` (``blockOwnerDeletion``, as a Job's pods)."""
        uid = obj["metadata"].get("uid")
        return [
            o
            for o in self.objects.values()
            if any(
                r.get("uid") == uid and (r.get("blockOwnerDeletion") or not blocking)
                for r in o["metadata"].get("ownerReferences") or []
            )
        ]

    def _collect(self, obj: dict[str, Any]) -> None:
        for dependent in self.dependents(obj):
            self._collect(dependent)
        self.store("DELETED", obj)

    # -- the KubeApi protocol --

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        kind, meta = manifest["kind"], manifest["metadata"]
        self.calls.append(("create", kind, meta["name"]))
        if kind in self.fail_create:
            raise self.fail_create[kind]
        if not KINDS[kind].namespaced:
            assert "namespace" not in meta, f"{kind} is not namespaced"
        if (kind, meta.get("namespace", ""), meta["name"]) in self.objects:
            raise api_exception(409, f"{kind} {meta['name']} already exists")
        obj = copy.deepcopy(manifest)
        obj["metadata"].update(uid=str(uuid.uuid4()), creationTimestamp=CREATED, generation=1)
        self.store("ADDED", obj)
        return copy.deepcopy(obj)

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        self.calls.append(("get", kind, name))
        obj = self.objects.get((kind, namespace, name))
        return copy.deepcopy(obj) if obj else None

    async def patch(
        self, kind: str, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        self.calls.append(("patch", kind, name))
        obj = self.objects.get((kind, namespace, name))
        if obj is None:
            raise api_exception(404, f"{kind} {name} not found")
        spec = copy.deepcopy(obj.get("spec"))
        merge_patch(obj, body)
        if obj.get("spec") != spec:
            obj["metadata"]["generation"] = obj["metadata"].get("generation", 1) + 1
        self.store("MODIFIED", obj)
        return copy.deepcopy(obj)

    async def delete(
        self, kind: str, namespace: str, name: str, propagation: str = "Background"
    ) -> None:
        self.calls.append(("delete", kind, name))
        obj = self.objects.get((kind, namespace, name))
        if obj is None:
            return
        if propagation == "Foreground" and self.dependents(obj, blocking=True):
            obj["metadata"]["deletionTimestamp"] = DELETED
            self.store("MODIFIED", obj)
        else:
            self._collect(obj)

    def select(self, kind: str, namespace: str | None, label_selector: str) -> list[dict]:
        """Copies of the objects of ``kind`` a list would answer."""
        return [
            copy.deepcopy(o)
            for (k, ns, _), o in self.objects.items()
            if k == kind
            and namespace in (None, ns)
            and selects(label_selector, o["metadata"].get("labels") or {})
        ]

    async def list(
        self, kind: str, namespace: str | None, label_selector: str
    ) -> tuple[list[dict[str, Any]], str]:
        self.calls.append(("list", kind, label_selector))
        return self.select(kind, namespace, label_selector), str(self.version)

    async def watch(
        self, kind: str, namespace: str | None, label_selector: str, resource_version: str
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        self.calls.append(("watch", kind, resource_version))
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self.queues.setdefault(kind, []).append(queue)
        since = int(resource_version or 0)
        for version, event, obj in list(self.events):  # what happened since the version
            if version > since and obj["kind"] == kind:
                queue.put_nowait((version, event, copy.deepcopy(obj)))
        try:
            while True:
                item = await queue.get()
                if item is END_WATCH:
                    return
                if isinstance(item, Exception):
                    raise item
                version, event, obj = item
                if version <= since:
                    continue
                since = version
                if namespace in (None, obj["metadata"].get("namespace")) and selects(
                    label_selector, obj["metadata"].get("labels") or {}
                ):
                    yield event, obj
        finally:
            self.queues[kind].remove(queue)

    async def pod_log(self, namespace: str, pod: str, container: str, limit_bytes: int) -> bytes:
        self.calls.append(("log", pod, container))
        return self.logs.get((namespace, pod), b"")[:limit_bytes]

    async def api_resources(self, group: str, version: str) -> set[str] | None:
        return self.kubeflow

    async def close(self) -> None:
        self.closed = True

    # -- what the server, controllers and kubelets would do --

    def end_watches(self, kind: str, error: Exception | None = None) -> None:
        """End the watches of ``kind`` (with ``error``, e.g. ``api_exception(410)``)."""
        for queue in self.queues.get(kind, []):
            queue.put_nowait(error if error is not None else END_WATCH)

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o["kind"] in kinds]

    def set_status(self, obj: dict[str, Any], **status: Any) -> None:
        """Replace an object's ``status``, as its controller would."""
        meta = obj["metadata"]
        stored = self.objects[(obj["kind"], meta.get("namespace", ""), meta["name"])]
        stored["status"] = status
        self.store("MODIFIED", stored)

    def add_pod(
        self, owner: dict[str, Any], pod: dict[str, Any], log: bytes = b""
    ) -> dict[str, Any]:
        """Add ``pod``, owned by ``owner`` (a Job, a Deployment...), with its ``log``."""
        meta = owner["metadata"]
        pod = copy.deepcopy(pod)
        pod["kind"] = "Pod"
        pod["metadata"].setdefault("namespace", meta.get("namespace", ""))
        pod["metadata"].setdefault("creationTimestamp", CREATED)
        pod["metadata"]["uid"] = str(uuid.uuid4())
        stored = self.objects[(owner["kind"], meta.get("namespace", ""), meta["name"])]
        pod["metadata"]["ownerReferences"] = [
            {
                "kind": owner["kind"],
                "name": meta["name"],
                "uid": stored["metadata"]["uid"],
                "blockOwnerDeletion": True,
            }
        ]
        self.store("ADDED", pod)
        self.logs[(pod["metadata"]["namespace"], pod["metadata"]["name"])] = log
        return pod

    def finish_deletions(self) -> None:
        """Complete the Foreground deletions: dependents first, then the owners."""
        for obj in list(self.objects.values()):
            if obj["metadata"].get("deletionTimestamp"):
                self._collect(obj)


async def wait_for(check: Callable[[], bool], timeout: float = 5) -> None:
    """Wait until ``check()`` holds (a watch caught up...); fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


# --- the same cluster over HTTP ------------------------------------------------------

# the metrics API's ``pods`` (PodMetrics) is not served here: ``pods`` are the core's
_PLURALS = {
    k.plural or f"{name.lower()}s": name for name, k in KINDS.items() if k.group != "metrics.k8s.io"
}


def rest_app(
    cluster: FakeCluster, watch_seconds: float = 0.5
) -> tuple[Any, list[tuple[str, str, str]]]:
    """An ``aiohttp`` app serving ``cluster`` as the Kubernetes REST API does (CRUD,
    lists, watches that end after ``watch_seconds``, pod logs, discovery), and the list
    where it records each request's ``(method, path, content type)``."""
    from aiohttp import web

    requests: list[tuple[str, str, str]] = []

    def error(e: ApiException) -> Any:
        return web.json_response({"message": e.reason}, status=e.status)

    async def collection(request: Any) -> Any:
        ns, plural = request.match_info.get("ns"), request.match_info["plural"]
        requests.append((request.method, request.path, request.content_type))
        kind = _PLURALS[plural]
        if request.method == "POST":
            body = await request.json()
            body.setdefault("kind", kind)
            if ns:
                body["metadata"]["namespace"] = ns
            try:
                return web.json_response(await cluster.create(body), status=201)
            except ApiException as e:
                return error(e)
        selector = request.query.get("labelSelector", "")
        if request.query.get("watch", "").lower() == "true":
            response = web.StreamResponse()
            await response.prepare(request)
            version = request.query.get("resourceVersion") or "0"
            events = cluster.watch(kind, ns, selector, version).__aiter__()
            deadline = time.monotonic() + watch_seconds
            while (left := deadline - time.monotonic()) > 0:
                try:
                    event, obj = await asyncio.wait_for(events.__anext__(), left)
                except (TimeoutError, StopAsyncIteration):
                    break
                await response.write((json.dumps({"type": event, "object": obj}) + "\n").encode())
            await events.aclose()
            return response
        items, version = await cluster.list(kind, ns, selector)
        return web.json_response(
            {"kind": f"{kind}List", "metadata": {"resourceVersion": version}, "items": items}
        )

    async def item(request: Any) -> Any:
        ns, plural, name = (request.match_info.get(k) for k in ("ns", "plural", "name"))
        requests.append((request.method, request.path, request.content_type))
        kind = _PLURALS[plural or "namespaces"]
        try:
            if request.method == "PATCH":
                return web.json_response(
                    await cluster.patch(kind, ns or "", name, await request.json())
                )
            if request.method == "DELETE":
                body = await request.json() if request.can_read_body else {}
                policy = request.query.get("propagationPolicy") or (body or {}).get(
                    "propagationPolicy"
                )
                await cluster.delete(kind, ns or "", name, policy or "Background")
                return web.json_response({"kind": "Status", "status": "Success"})
        except ApiException as e:
            return error(e)
        obj = await cluster.get(kind, ns or "", name)
        if obj is None:
            return web.json_response({"message": "not found"}, status=404)
        return web.json_response(obj)

    async def log(request: Any) -> Any:
        ns, name = request.match_info["ns"], request.match_info["name"]
        container = request.query.get("container", "")
        data = await cluster.pod_log(ns, name, container, int(request.query["limitBytes"]))
        return web.Response(body=data)

    async def discovery(request: Any) -> Any:
        if cluster.kubeflow is None:
            return web.json_response({"message": "not found"}, status=404)
        resources = [{"name": plural, "namespaced": True} for plural in cluster.kubeflow]
        return web.json_response({"kind": "APIResourceList", "resources": resources})

    app = web.Application()
    app.router.add_get("/apis/kubeflow.org/v1", discovery)
    app.router.add_get("/api/v1/namespaces/{ns}/pods/{name}/log", log)
    app.router.add_route("*", "/api/v1/{plural:namespaces}", collection)
    app.router.add_route("*", "/api/v1/namespaces/{name}", item)
    for prefix in ("/api/v1", "/apis/batch/v1", "/apis/apps/v1", "/apis/kubeflow.org/v1"):
        app.router.add_route("GET", prefix + "/{plural}", collection)  # every namespace
        app.router.add_route("*", prefix + "/namespaces/{ns}/{plural}", collection)
        app.router.add_route("*", prefix + "/namespaces/{ns}/{plural}/{name}", item)
    return app, requests


# --- validating manifests ------------------------------------------------------------

_DNS_1035 = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
_REPLICA_SPEC = {
    "type": "object",
    "additionalProperties": False,
    "required": ["replicas", "template"],
    "properties": {
        "replicas": {"type": "integer", "minimum": 1},
        "restartPolicy": {"enum": ["Always", "OnFailure", "Never", "ExitCode"]},
        "template": {"type": "object", "required": ["spec"]},
    },
}
_RUN_POLICY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "cleanPodPolicy": {"enum": ["None", "Running", "All"]},
        "ttlSecondsAfterFinished": {"type": "integer", "minimum": 0},
        "activeDeadlineSeconds": {"type": "integer", "minimum": 1},
        "backoffLimit": {"type": "integer", "minimum": 0},
        "suspend": {"type": "boolean"},
        "schedulingPolicy": {"type": "object"},
    },
}


def kubeflow_schema(kind: str, specs_field: str, replica_types: list[str]) -> dict[str, Any]:
    """The Kubeflow v1 job shape (kubeflow.org/v1, the CRD's required fields)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "kubeflow.org/v1"},
            "kind": {"const": kind},
            "metadata": {
                "type": "object",
                "required": ["name", "namespace"],
                "properties": {
                    # the operator's webhook: a DNS-1035 label
                    "name": {"type": "string", "pattern": _DNS_1035, "maxLength": 63},
                    "namespace": {"type": "string", "minLength": 1},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "annotations": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                    },
                },
            },
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "required": [specs_field],
                "properties": {
                    "runPolicy": _RUN_POLICY,
                    specs_field: {
                        "type": "object",
                        "minProperties": 1,
                        "propertyNames": {"enum": replica_types},
                        "additionalProperties": _REPLICA_SPEC,
                    },
                },
            },
        },
    }


#: Kind: (schema, the replica specs' field, the container the operator looks for).
KUBEFLOW_SCHEMAS = {
    "PyTorchJob": (
        kubeflow_schema("PyTorchJob", "pytorchReplicaSpecs", ["Master", "Worker"]),
        "pytorchReplicaSpecs",
        "pytorch",
    ),
    "TFJob": (
        kubeflow_schema(
            "TFJob", "tfReplicaSpecs", ["Chief", "PS", "Worker", "Evaluator", "Master"]
        ),
        "tfReplicaSpecs",
        "tensorflow",
    ),
}


def validate_kubeflow(job: dict[str, Any]) -> None:
    schema, specs_field, container_name = KUBEFLOW_SCHEMAS[job["kind"]]
    jsonschema.validate(job, schema)
    specs = job["spec"][specs_field]
    for rtype, spec in specs.items():
        template = {
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": {"name": f"{job['metadata']['name']}-{rtype.lower()}"},
            "template": spec["template"],
        }
        kubernetes_validate.validate(template, K8S_VERSION, strict=True)
        # what the operator's admission webhook checks
        containers = spec["template"]["spec"]["containers"]
        assert any(c["name"] == container_name for c in containers)
        assert all(c.get("image") for c in containers)
        # the operator's Service per replica is <job>-<type>-<index>: a DNS label
        assert is_dns_label(f"{job['metadata']['name']}-{rtype.lower()}-{spec['replicas'] - 1}")
    if job["kind"] == "PyTorchJob" and "Master" in specs:
        assert specs["Master"]["replicas"] == 1
    if job["kind"] == "TFJob":
        assert sum(1 for t in specs if t in ("Chief", "Master")) <= 1


def validate(manifests: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate every manifest strictly (a failure fails the test); return them."""
    out = list(manifests)
    for manifest in out:
        if manifest["kind"] in KUBEFLOW_SCHEMAS:
            validate_kubeflow(manifest)
        else:
            kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    return out


def by_kind(manifests: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Manifests by kind, each kind once."""
    out: dict[str, dict[str, Any]] = {}
    for manifest in manifests:
        assert manifest["kind"] not in out, f"two {manifest['kind']}s"
        out[manifest["kind"]] = manifest
    return out


def validate_by_kind(manifests: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """:func:`validate`, then :func:`by_kind`."""
    return by_kind(validate(manifests))


# --- sessions ------------------------------------------------------------------------


def session_grant(
    team: str = "data-science",
    *,
    user: str = "alice",
    session_id: str = "3f6c2a90d1e84b7f",
    environment: Environment | None = None,
    resources: Resources | None = None,
    env: dict[str, str] | None = None,
    files: tuple[CredentialFile, ...] = (),
) -> SessionGrant:
    """A grant as the platform answers it for a session (``POST /sessions``)."""
    return SessionGrant(
        session_id=session_id,
        user=user,
        team=team,
        environment=environment,
        resources=resources or Resources(),
        env=env or {},
        files=files,
    )


class FakeUser:
    """A stand-in for JupyterHub's User: what Spawner.get_env and KubeSpawner read."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.escaped_name = name
        self.id = 7
        self.server = Server()

    @property
    def url(self) -> str:
        return self.server.url
