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
``s3://...``, that they can reach). Names, labels, the pieces of the manifests, the API
adapter and the watch cache are the platform's one Kubernetes package's
(:mod:`submarine_hub.backends.kube`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from traitlets import Bool, Int, Unicode

from ..backends.base import EndpointBackend, ProcessState
from ..backends.kube import manifests as m
from ..backends.kube.api import ClusterApi, KubeApi, apply
from ..backends.kube.manifests import PodSettings
from ..backends.kube.names import (
    ANNOTATION_CONFIG_HASH,
    ANNOTATION_ENDPOINT,
    ANNOTATION_GENERATION,
    LABEL_ENDPOINT,
    LABEL_INSTANCE,
    labels,
    object_name,
    selector,
)
from ..backends.kube.reflector import Reflector
from ..backends.kube.settings import WorkloadSettings, settings_of
from ..backends.kube.state import meta, newest, rollout

log = logging.getLogger("submarine_hub.serving.kube")

WORK_DIR = "/var/lib/submarine-endpoint"
ACCESS_DIR = "/etc/submarine-endpoint"
PORT = 8080
CONTAINER = "server"
#: The longest suffix of an endpoint's object names (``<name>-config``).
_SUFFIX = len("-config")


def endpoint_name(service: str) -> str:
    """The name of an endpoint's objects (a DNS-1035 label, room left for ``-config``)."""
    return object_name(service, max_length=63 - _SUFFIX)


@dataclass(frozen=True)
class EndpointSettings:
    """What rendering needs of the backend's configuration."""

    namespace: str = "default"
    instance: str = "default"
    image: str = "submarine-hub:latest"
    pod: PodSettings = field(default_factory=PodSettings)
    replicas: int = 1
    hub_api_url: str = "http://hub:8081/hub/api"


def pod_config(config: dict[str, Any], settings: EndpointSettings) -> dict[str, Any]:
    """The server's config as a pod sees it: its port, paths, and the hub's in-cluster URL."""
    return dict(
        config,
        ip="0.0.0.0",
        port=PORT,
        access_file=f"{ACCESS_DIR}/access.json",
        cache_dir=f"{WORK_DIR}/cache",
        hub_api_url=settings.hub_api_url or config.get("hub_api_url", ""),
    )


def access_data(access: dict[str, Any]) -> dict[str, str]:
    """The ``data`` of an endpoint's access ConfigMap."""
    return {"access.json": json.dumps(access, sort_keys=True)}


def render(
    config: dict[str, Any], access: dict[str, Any], settings: EndpointSettings
) -> list[dict[str, Any]]:
    """The Secret, ConfigMap, Deployment and Service of one endpoint."""
    name = endpoint_name(config["service"])
    ns = settings.namespace
    meta_labels = labels(settings.instance, team=config["team"], endpoint=config["id"])
    annotations = {ANNOTATION_ENDPOINT: config["endpoint"]}
    server_config = json.dumps(pod_config(config, settings), sort_keys=True)
    config_hash = hashlib.sha256(server_config.encode()).hexdigest()[:16]
    probe = {"httpGet": {"path": f"{config['prefix']}health", "port": "http"}}

    def metadata(part: str) -> dict[str, Any]:
        return m.metadata(part, ns, meta_labels, annotations)

    container: dict[str, Any] = {
        "name": CONTAINER,
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
    res = config.get("resources") or {}
    resources = m.container_resources(res.get("cpu") or None, res.get("memory") or None)
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
    m.apply_pod_settings(pod_spec, settings.pod)
    match = {k: meta_labels[k] for k in (LABEL_INSTANCE, LABEL_ENDPOINT)}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name),
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
    return [
        m.secret(metadata(f"{name}-config"), string_data={"config.json": server_config}),
        m.config_map(metadata(f"{name}-access"), access_data(access)),
        deployment,
        m.service(metadata(name), selector=match, ports=[("http", 80, "http")]),
    ]


def deployment_state(deployment: dict[str, Any] | None, url: str) -> ProcessState | None:
    """What a Deployment says of the endpoint's server (see :class:`ProcessState`)."""
    if deployment is None:
        return None
    template = ((deployment.get("spec") or {}).get("template") or {}).get("metadata") or {}
    generation = int((template.get("annotations") or {}).get(ANNOTATION_GENERATION, "0"))
    r = rollout(deployment)
    if r.failed:
        return ProcessState(
            alive=True,
            state="ready" if r.available else "failed",
            generation=generation - 1 if r.available else 0,
            failed=generation,
            reason=r.reason,
            port=80,
            url_override=url,
        )
    if r.done:
        return ProcessState(
            alive=True, state="ready", generation=generation, port=80, url_override=url
        )
    return ProcessState(
        alive=True,
        state="loading",
        generation=generation - 1 if r.available and generation > 1 else 0,
        loading=generation,
        port=80,
        url_override=url,
    )


class KubeEndpointBackend(WorkloadSettings, EndpointBackend):
    """Endpoints as Deployments + Services (``c.EndpointManager.backend_class =
    "kube"``; configure as ``c.KubeEndpointBackend.*``, the settings shared with
    runs also as ``c.WorkloadSettings.*``).

    Its service account needs, in ``namespace``: get/list/watch/create/patch/delete on
    ``deployments`` (apps), ``services``, ``secrets`` and ``configmaps``; get/list on
    ``pods`` and get on ``pods/log``.
    """

    name = "kubernetes"

    image = Unicode(
        os.environ.get("SUBMARINE_IMAGE", "submarine-hub:latest"),
        help="""The image of endpoint servers: it needs submarine-hub and the models'
        libraries (scikit-learn, onnxruntime...). Default: $SUBMARINE_IMAGE.""",
    ).tag(config=True)

    replicas = Int(1, help="Pods per endpoint.").tag(config=True)

    hub_api_url = Unicode(
        os.environ.get("JUPYTERHUB_API_URL", "http://hub:8081/hub/api"),
        help="""The hub's API as the pods reach it, to check callers' tokens.
        Default: $JUPYTERHUB_API_URL.""",
    ).tag(config=True)

    cluster_domain = Unicode("cluster.local", help="The cluster's DNS domain.").tag(config=True)

    watch = Bool(
        True,
        help="""Keep the endpoints' Deployments in a cache kept current by a watch.
        Off: every state() reads the cluster.""",
    ).tag(config=True)

    def __init__(self, api: KubeApi | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api = api
        self._reflector: Reflector | None = None
        self._access: dict[int, dict[str, Any]] = {}
        self._configs: dict[int, dict[str, Any]] = {}

    async def api(self) -> KubeApi:
        """The cluster's API (connected when first needed), watched when ``watch`` is on."""
        if self._api is None:
            self._api = await ClusterApi.connect(self.kubeconfig)
        if self.watch and self._reflector is None:
            self._reflector = Reflector(
                self._api,
                "Deployment",
                namespace=self.effective_namespace,
                label_selector=selector(self.instance, "endpoint"),
                index=LABEL_ENDPOINT,
                logger=self.log,
            )
            self._reflector.start()
        return self._api

    def settings(self) -> EndpointSettings:
        return settings_of(
            EndpointSettings, self, namespace=self.effective_namespace, pod=self.pod_settings()
        )

    def _url(self, name: str) -> str:
        return f"http://{name}.{self.effective_namespace}.svc.{self.cluster_domain}"

    async def _deployments(self, endpoint_id: int | None = None) -> list[dict[str, Any]]:
        """The endpoint's Deployment (or every endpoint's), from the cache when it is synced."""
        api = await self.api()
        cache = self._reflector
        if cache is not None and cache.synced:
            if endpoint_id is None:
                return list(cache.objects.values())
            return cache.indexed(str(endpoint_id))
        if endpoint_id is None:
            sel = selector(self.instance, "endpoint")
        else:
            sel = selector(self.instance, endpoint=endpoint_id)
        items, _ = await api.list("Deployment", self.effective_namespace, sel)
        return items

    async def _deployment(self, endpoint_id: int) -> dict[str, Any] | None:
        items = await self._deployments(endpoint_id)
        return items[0] if items else None

    async def known(self) -> list[int]:
        items = await self._deployments()
        return sorted(int(meta(d)["labels"][LABEL_ENDPOINT]) for d in items)

    async def state(self, endpoint_id: int) -> ProcessState | None:
        deployment = await self._deployment(endpoint_id)
        if deployment is None:
            return None
        return deployment_state(deployment, self._url(meta(deployment)["name"]))

    async def apply(self, endpoint_id: int, config: dict[str, Any]) -> None:
        self._configs[endpoint_id] = config
        access = self._access.get(endpoint_id) or {"team": config["team"], "members": []}
        api = await self.api()
        for manifest in render(config, access, self.settings()):
            obj = await apply(api, manifest)
            if manifest["kind"] == "Deployment" and self._reflector is not None:
                self._reflector.apply("MODIFIED", obj)  # read back at once, before the watch

    async def write_access(self, endpoint_id: int, access: dict[str, Any]) -> None:
        if self._access.get(endpoint_id) == access:
            return
        self._access[endpoint_id] = access
        deployment = await self._deployment(endpoint_id)
        if deployment is None:
            return
        api = await self.api()
        name = f"{meta(deployment)['name']}-access"
        await api.patch("ConfigMap", self.effective_namespace, name, {"data": access_data(access)})

    async def stop(self, endpoint_id: int) -> None:
        deployment = await self._deployment(endpoint_id)
        if deployment is None:
            return
        name = meta(deployment)["name"]
        ns = self.effective_namespace
        api = await self.api()
        for kind, part in (
            ("Service", name),
            ("Deployment", name),
            ("Secret", f"{name}-config"),
            ("ConfigMap", f"{name}-access"),
        ):
            await api.delete(kind, ns, part)
        if self._reflector is not None:
            self._reflector.apply("DELETED", deployment)

    remove = stop

    def answers(self, state: ProcessState) -> bool:
        """The Service reaches only available pods: none before a generation is ready."""
        return bool(state.generation)

    async def read_log(self, endpoint_id: int, offset: int, limit: int) -> bytes:
        """The log of the endpoint's newest pod (from ``offset``)."""
        api = await self.api()
        ns = self.effective_namespace
        pods, _ = await api.list("Pod", ns, selector(self.instance, endpoint=endpoint_id))
        pod = newest(pods)
        if pod is None:
            return b""
        text = await api.pod_log(ns, meta(pod)["name"], CONTAINER, 4 << 20)
        return text[offset : offset + limit]

    async def close(self) -> None:
        if self._reflector is not None:
            await self._reflector.stop()
            self._reflector = None
        await super().close()
        if self._api is not None:
            await self._api.close()
