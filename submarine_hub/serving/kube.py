"""Endpoints on Kubernetes: per endpoint a Deployment of the endpoint server and a Service.

What an endpoint becomes (:func:`render`, pure, no cluster needed):

- a ``Secret`` ``<name>-config`` with the server's config (``SUBMARINE_ENDPOINT_CONFIG``:
  routes, artifact store and its credentials, control token);
- a ``ConfigMap`` ``<name>-access`` with who may call it (mounted; the manager patches
  it when the team changes, and the server rereads it);
- a ``Deployment`` ``<name>`` of ``replicas`` pods running
  ``python -m submarine_hub.serving.server``, with a readiness probe on ``health``, a
  ``RollingUpdate`` strategy with ``maxUnavailable: 0`` and a short ``preStop`` pause:
  an update (new versions, weights) changes the pod template's config hash, Kubernetes
  starts new pods, sends them traffic once they have loaded the models, then drains the
  old ones; no request is dropped;
- a ``Service`` ``<name>`` (ClusterIP, port 80): the URL the hub's proxy routes
  ``/services/<name>/`` to (the manager registers it with the hub as for local
  endpoints).

Pods fetch the model files from the artifact store themselves (use an object store,
``s3://...``, that they can reach).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from typing import Any, Protocol

from traitlets import Dict, Enum, Int, List, Unicode

from ..backends.base import EndpointBackend, ProcessState

log = logging.getLogger("submarine_hub.serving.kube")

LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_APP = "app.kubernetes.io/name"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_INSTANCE = "submarine-hub/instance"
LABEL_ENDPOINT = "submarine-hub/endpoint"
LABEL_TEAM = "submarine-hub/team"
ANNOTATION_GENERATION = "submarine-hub/generation"
ANNOTATION_CONFIG_HASH = "submarine-hub/config-hash"
ANNOTATION_REF = "submarine-hub/endpoint-ref"
WORK_DIR = "/var/lib/submarine-endpoint"
ACCESS_DIR = "/etc/submarine-endpoint"
PORT = 8080


def kube_name(service: str) -> str:
    """A DNS-1035 label (Service names): at most 63 characters, hashed if longer."""
    name = re.sub(r"[^a-z0-9-]+", "-", service.lower()).strip("-") or "endpoint"
    if not name[0].isalpha():
        name = "e-" + name
    if len(name) > 63 - len("-config"):
        digest = hashlib.sha256(service.encode()).hexdigest()[:8]
        name = name[: 63 - len("-config") - 9].rstrip("-") + "-" + digest
    return name


def label_value(value: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "-", value)[:63].strip("-_.")
    return clean or "x"


class KubeSettings:
    """What rendering needs of the backend's configuration."""

    def __init__(self, backend: KubeEndpointBackend | None = None, **overrides: Any) -> None:
        values = {
            "namespace": "default",
            "instance": "default",
            "image": "submarine-hub:latest",
            "image_pull_policy": None,
            "image_pull_secrets": [],
            "service_account": "",
            "replicas": 1,
            "node_selector": {},
            "tolerations": [],
            "hub_api_url": "http://hub:8081/hub/api",
        }
        if backend is not None:
            values.update(
                namespace=backend.effective_namespace,
                instance=backend.instance,
                image=backend.image,
                image_pull_policy=backend.image_pull_policy,
                image_pull_secrets=list(backend.image_pull_secrets),
                service_account=backend.service_account,
                replicas=backend.replicas,
                node_selector=dict(backend.node_selector),
                tolerations=list(backend.tolerations),
                hub_api_url=backend.hub_api_url,
            )
        values.update(overrides)
        self.__dict__.update(values)

    namespace: str
    instance: str
    image: str
    image_pull_policy: str | None
    image_pull_secrets: list[str]
    service_account: str
    replicas: int
    node_selector: dict[str, str]
    tolerations: list[dict[str, Any]]
    hub_api_url: str


def labels(config: dict[str, Any], settings: KubeSettings) -> dict[str, str]:
    return {
        LABEL_APP: "submarine-endpoint",
        LABEL_COMPONENT: "serving",
        LABEL_MANAGED_BY: "submarine-hub",
        LABEL_INSTANCE: label_value(settings.instance),
        LABEL_ENDPOINT: str(config["id"]),
        LABEL_TEAM: label_value(config["team"]),
    }


def selector(settings: KubeSettings, endpoint_id: int | None = None) -> str:
    parts = [
        f"{LABEL_MANAGED_BY}=submarine-hub",
        f"{LABEL_INSTANCE}={label_value(settings.instance)}",
    ]
    if endpoint_id is not None:
        parts.append(f"{LABEL_ENDPOINT}={endpoint_id}")
    return ",".join(parts)


def pod_config(config: dict[str, Any], settings: KubeSettings) -> dict[str, Any]:
    """The server's config as a pod sees it: its port, paths, and the hub's in-cluster URL."""
    return dict(
        config,
        ip="0.0.0.0",
        port=PORT,
        access_file=f"{ACCESS_DIR}/access.json",
        cache_dir=f"{WORK_DIR}/cache",
        hub_api_url=settings.hub_api_url or config.get("hub_api_url", ""),
    )


def _resources(config: dict[str, Any]) -> dict[str, Any]:
    res = config.get("resources") or {}
    out: dict[str, Any] = {}
    if res.get("cpu"):
        cpu = f"{round(float(res['cpu']) * 1000)}m"
        out.setdefault("requests", {})["cpu"] = cpu
        out.setdefault("limits", {})["cpu"] = cpu
    if res.get("memory"):
        memory = str(res["memory"])
        out.setdefault("requests", {})["memory"] = memory
        out.setdefault("limits", {})["memory"] = memory
    return out


def render(
    config: dict[str, Any], access: dict[str, Any], settings: KubeSettings
) -> list[dict[str, Any]]:
    """The Secret, ConfigMap, Deployment and Service of one endpoint."""
    name = kube_name(config["service"])
    ns = settings.namespace
    meta_labels = labels(config, settings)
    annotations = {ANNOTATION_REF: config["endpoint"]}
    server_config = json.dumps(pod_config(config, settings), sort_keys=True)
    config_hash = hashlib.sha256(server_config.encode()).hexdigest()[:16]
    prefix = config["prefix"]

    def meta(object_name: str) -> dict[str, Any]:
        return {
            "name": object_name,
            "namespace": ns,
            "labels": dict(meta_labels),
            "annotations": dict(annotations),
        }

    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta(f"{name}-config"),
        "type": "Opaque",
        "stringData": {"config.json": server_config},
    }
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(f"{name}-access"),
        "data": {"access.json": json.dumps(access, sort_keys=True)},
    }
    probe = {"httpGet": {"path": f"{prefix}health", "port": "http"}}
    container: dict[str, Any] = {
        "name": "server",
        "image": settings.image,
        "command": ["python", "-m", "submarine_hub.serving.server", WORK_DIR],
        "env": [
            {
                "name": "SUBMARINE_ENDPOINT_CONFIG",
                "valueFrom": {"secretKeyRef": {"name": f"{name}-config", "key": "config.json"}},
            },
        ],
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": {**probe, "periodSeconds": 2, "failureThreshold": 2},
        "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 300},
        "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 6},
        # the Service stops sending traffic before the server stops accepting it
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
        "volumeMounts": [
            {"name": "work", "mountPath": WORK_DIR},
            {"name": "access", "mountPath": ACCESS_DIR, "readOnly": True},
        ],
    }
    if settings.image_pull_policy:
        container["imagePullPolicy"] = settings.image_pull_policy
    resources = _resources(config)
    if resources:
        container["resources"] = resources
    pod_spec: dict[str, Any] = {
        "containers": [container],
        "terminationGracePeriodSeconds": 30,
        "automountServiceAccountToken": False,
        "volumes": [
            {"name": "work", "emptyDir": {}},
            {"name": "access", "configMap": {"name": f"{name}-access"}},
        ],
    }
    if settings.service_account:
        pod_spec["serviceAccountName"] = settings.service_account
    if settings.image_pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": s} for s in settings.image_pull_secrets]
    if settings.node_selector:
        pod_spec["nodeSelector"] = dict(settings.node_selector)
    if settings.tolerations:
        pod_spec["tolerations"] = list(settings.tolerations)
    match = {
        LABEL_INSTANCE: meta_labels[LABEL_INSTANCE],
        LABEL_ENDPOINT: meta_labels[LABEL_ENDPOINT],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(name),
        "spec": {
            "replicas": settings.replicas,
            "selector": {"matchLabels": match},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "progressDeadlineSeconds": 600,
            "revisionHistoryLimit": 3,
            "template": {
                "metadata": {
                    "labels": dict(meta_labels),
                    "annotations": {
                        ANNOTATION_GENERATION: str(config["generation"]),
                        ANNOTATION_CONFIG_HASH: config_hash,
                    },
                },
                "spec": pod_spec,
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(name),
        "spec": {
            "type": "ClusterIP",
            "selector": match,
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    return [secret, configmap, deployment, service]


def deployment_state(deployment: dict[str, Any] | None, url: str) -> ProcessState | None:
    """What a Deployment says of the endpoint's server (see :class:`ProcessState`)."""
    if deployment is None:
        return None
    meta = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    template = (spec.get("template") or {}).get("metadata") or {}
    generation = int((template.get("annotations") or {}).get(ANNOTATION_GENERATION, "0"))
    replicas = int(spec.get("replicas", 1))
    observed = int(status.get("observedGeneration", 0)) >= int(meta.get("generation", 0))
    updated = int(status.get("updatedReplicas", 0))
    available = int(status.get("availableReplicas", 0))
    total = int(status.get("replicas", 0))
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    progressing = conditions.get("Progressing") or {}
    if progressing.get("status") == "False" and progressing.get("reason") == (
        "ProgressDeadlineExceeded"
    ):
        return ProcessState(
            alive=True,
            state="ready" if available else "failed",
            generation=generation - 1 if available else 0,
            failed=generation,
            reason=progressing.get("message", "the new pods did not become ready"),
            port=80,
            url_override=url,
        )
    done = observed and updated >= replicas and available >= replicas and total == updated
    if done:
        return ProcessState(
            alive=True, state="ready", generation=generation, port=80, url_override=url
        )
    return ProcessState(
        alive=True,
        state="loading",
        generation=generation - 1 if available and generation > 1 else 0,
        loading=generation,
        port=80,
        url_override=url,
    )


class KubeApi(Protocol):
    """The calls the backend makes, on plain dicts."""

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any]: ...

    async def replace(self, manifest: dict[str, Any]) -> dict[str, Any]: ...

    async def delete(self, kind: str, namespace: str, name: str) -> None: ...

    async def list(self, kind: str, namespace: str, label_selector: str) -> list[dict]: ...

    async def pod_log(self, namespace: str, pod: str, limit_bytes: int) -> bytes: ...

    async def close(self) -> None: ...


class ClusterApi:
    """:class:`KubeApi` over ``kubernetes_asyncio`` (responses read as JSON dicts)."""

    def __init__(self, api_client: Any) -> None:
        from kubernetes_asyncio import client

        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)

    @classmethod
    async def connect(cls, kubeconfig: str = "") -> ClusterApi:
        """In-cluster credentials, else ``kubeconfig`` (``$KUBECONFIG``, ``~/.kube/config``)."""
        from ..backends.kube.cluster import api_client

        return cls(await api_client(kubeconfig))

    def _method(self, verb: str, kind: str) -> Any:
        snake = {
            "Deployment": "deployment",
            "Service": "service",
            "Secret": "secret",
            "ConfigMap": "config_map",
            "Pod": "pod",
        }[kind]
        api = self.apps if kind == "Deployment" else self.core
        return getattr(api, f"{verb}_namespaced_{snake}")

    @staticmethod
    async def _json(request: Any) -> Any:
        from ..backends.kube.cluster import read_body

        body = await read_body(request)
        return json.loads(body) if body else {}

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        from kubernetes_asyncio.client.exceptions import ApiException

        try:
            return await self._json(
                self._method("read", kind)(name, namespace, _preload_content=False)
            )
        except ApiException as e:
            if e.status == 404:
                return None
            raise

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        ns = manifest["metadata"]["namespace"]
        return await self._json(
            self._method("create", manifest["kind"])(ns, manifest, _preload_content=False)
        )

    async def replace(self, manifest: dict[str, Any]) -> dict[str, Any]:
        ns, name = manifest["metadata"]["namespace"], manifest["metadata"]["name"]
        return await self._json(
            self._method("patch", manifest["kind"])(
                name,
                ns,
                manifest,
                _content_type="application/merge-patch+json",
                _preload_content=False,
            )
        )

    async def delete(self, kind: str, namespace: str, name: str) -> None:
        from kubernetes_asyncio.client.exceptions import ApiException

        try:
            await self._json(
                self._method("delete", kind)(
                    name, namespace, propagation_policy="Background", _preload_content=False
                )
            )
        except ApiException as e:
            if e.status != 404:
                raise

    async def list(self, kind: str, namespace: str, label_selector: str) -> list[dict]:
        method = self._method("list", kind)
        data = await self._json(
            method(namespace, label_selector=label_selector, _preload_content=False)
        )
        return list(data.get("items") or [])

    async def pod_log(self, namespace: str, pod: str, limit_bytes: int) -> bytes:
        from kubernetes_asyncio.client.exceptions import ApiException

        request = self.core.read_namespaced_pod_log(
            pod, namespace, container="server", limit_bytes=limit_bytes, _preload_content=False
        )
        response = await request
        try:
            if response.status >= 400:
                if response.status in (400, 404):
                    return b""
                raise ApiException(status=response.status, reason=response.reason)
            return await response.read()
        finally:
            response.release()

    async def close(self) -> None:
        await self.api_client.close()


class KubeEndpointBackend(EndpointBackend):
    """Endpoints as Deployments + Services (``c.EndpointManager.backend_class =
    "kube"``; configure as ``c.KubeEndpointBackend.*``).

    Its service account needs, in ``namespace``: get/list/create/patch/delete on
    ``deployments`` (apps), ``services``, ``secrets`` and ``configmaps``; get/list on
    ``pods`` and get on ``pods/log``.
    """

    name = "kubernetes"

    kubeconfig = Unicode(
        "",
        help="""A kubeconfig file to reach the cluster. Empty: the in-cluster service
        account, else $KUBECONFIG or ~/.kube/config.""",
    ).tag(config=True)

    namespace = Unicode(
        "", help="Namespace of the endpoints. Empty: the service's own, else 'default'."
    ).tag(config=True)

    instance = Unicode(
        "default",
        help="The label submarine-hub/instance: one value per platform sharing a cluster.",
    ).tag(config=True)

    image = Unicode(
        os.environ.get("SUBMARINE_IMAGE", "submarine-hub:latest"),
        help="""The image of endpoint servers: it needs submarine-hub and the models'
        libraries (scikit-learn, onnxruntime...). Default: $SUBMARINE_IMAGE.""",
    ).tag(config=True)

    image_pull_policy = Enum(
        ["Always", "IfNotPresent", "Never"],
        default_value=None,
        allow_none=True,
        help="The pods' imagePullPolicy (default: Kubernetes').",
    ).tag(config=True)

    image_pull_secrets = List(Unicode(), help="Secrets to pull the image with.").tag(config=True)

    service_account = Unicode(
        "", help="The pods' service account (e.g. one allowed to read the object store)."
    ).tag(config=True)

    replicas = Int(1, help="Pods per endpoint.").tag(config=True)

    node_selector = Dict(help="The pods' nodeSelector.").tag(config=True)

    tolerations = List(Dict(), help="The pods' tolerations.").tag(config=True)

    hub_api_url = Unicode(
        os.environ.get("JUPYTERHUB_API_URL", "http://hub:8081/hub/api"),
        help="""The hub's API as the pods reach it, to check callers' tokens.
        Default: $JUPYTERHUB_API_URL.""",
    ).tag(config=True)

    cluster_domain = Unicode("cluster.local", help="The cluster's DNS domain.").tag(config=True)

    def __init__(self, api: KubeApi | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api = api
        self._access: dict[int, dict[str, Any]] = {}
        self._configs: dict[int, dict[str, Any]] = {}
        self._http: Any = None

    @property
    def effective_namespace(self) -> str:
        if self.namespace:
            return self.namespace
        path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
        try:
            with open(path) as f:
                return f.read().strip() or "default"
        except OSError:
            return "default"

    async def api(self) -> KubeApi:
        if self._api is None:
            self._api = await ClusterApi.connect(self.kubeconfig)
        return self._api

    def settings(self) -> KubeSettings:
        return KubeSettings(self)

    def _url(self, name: str) -> str:
        return f"http://{name}.{self.effective_namespace}.svc.{self.cluster_domain}"

    async def _deployment(self, endpoint_id: int) -> dict[str, Any] | None:
        api = await self.api()
        items = await api.list(
            "Deployment", self.effective_namespace, selector(self.settings(), endpoint_id)
        )
        return items[0] if items else None

    async def known(self) -> list[int]:
        api = await self.api()
        items = await api.list("Deployment", self.effective_namespace, selector(self.settings()))
        return sorted(int(d["metadata"]["labels"][LABEL_ENDPOINT]) for d in items)

    async def state(self, endpoint_id: int) -> ProcessState | None:
        deployment = await self._deployment(endpoint_id)
        if deployment is None:
            return None
        return deployment_state(deployment, self._url(deployment["metadata"]["name"]))

    async def apply(self, endpoint_id: int, config: dict[str, Any]) -> None:
        self._configs[endpoint_id] = config
        access = self._access.get(endpoint_id) or {"team": config["team"], "members": []}
        api = await self.api()
        for manifest in render(config, access, self.settings()):
            meta = manifest["metadata"]
            if await api.get(manifest["kind"], meta["namespace"], meta["name"]) is None:
                await api.create(manifest)
            else:
                await api.replace(manifest)

    async def write_access(self, endpoint_id: int, access: dict[str, Any]) -> None:
        if self._access.get(endpoint_id) == access:
            return
        self._access[endpoint_id] = access
        deployment = await self._deployment(endpoint_id)
        if deployment is None:
            return
        name = f"{deployment['metadata']['name']}-access"
        api = await self.api()
        await api.replace(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": self.effective_namespace},
                "data": {"access.json": json.dumps(access, sort_keys=True)},
            }
        )

    async def stop(self, endpoint_id: int) -> None:
        deployment = await self._deployment(endpoint_id)
        if deployment is None:
            return
        name = deployment["metadata"]["name"]
        ns = self.effective_namespace
        api = await self.api()
        for kind, object_name in (
            ("Service", name),
            ("Deployment", name),
            ("Secret", f"{name}-config"),
            ("ConfigMap", f"{name}-access"),
        ):
            await api.delete(kind, ns, object_name)

    remove = stop

    async def stats(self, endpoint_id: int, prefix: str, token: str) -> dict[str, Any] | None:
        import httpx

        state = await self.state(endpoint_id)
        if state is None or not state.generation:
            return None
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=2.0)
        try:
            resp = await self._http.get(
                f"{state.url}{prefix}stats", headers={"Authorization": f"token {token}"}
            )
        except httpx.HTTPError:
            return None
        return resp.json() if resp.status_code == 200 else None

    async def read_log(self, endpoint_id: int, offset: int, limit: int) -> bytes:
        """The log of the endpoint's newest pod (from ``offset``)."""
        api = await self.api()
        ns = self.effective_namespace
        pods = await api.list("Pod", ns, selector(self.settings(), endpoint_id))
        if not pods:
            return b""
        pods.sort(key=lambda p: p["metadata"].get("creationTimestamp", ""))
        text = await api.pod_log(ns, pods[-1]["metadata"]["name"], 4 << 20)
        return text[offset : offset + limit]

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._api is not None:
            await self._api.close()
