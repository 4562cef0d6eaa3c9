"""Endpoints on Kubernetes: the rendered Secret, ConfigMap, Deployment and Service are
valid (kubernetes-validate, strict, 1.30) and wired together; the backend applies,
reads state from a Deployment's status, updates access and stops, against a fake API."""

from __future__ import annotations

import copy
import json
from typing import Any

import kubernetes_validate
import pytest

from submarine_hub.serving.kube import (
    ANNOTATION_CONFIG_HASH,
    ANNOTATION_GENERATION,
    LABEL_ENDPOINT,
    KubeEndpointBackend,
    KubeSettings,
    deployment_state,
    kube_name,
    render,
)

K8S_VERSION = "1.30"


def config(generation: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "id": 7,
        "endpoint": "data-science/iris",
        "team": "data-science",
        "service": "endpoint-data-science-iris",
        "prefix": "/services/endpoint-data-science-iris/",
        "generation": generation,
        "routes": [
            {
                "key": "iris:3",
                "model": "data-science/iris",
                "version": 3,
                "weight": 100.0,
                "storage_prefix": "models/data-science/iris/3",
            }
        ],
        "store": {"url": "s3://models", "options": {"key": "k", "secret": "s"}},
        "hub_api_url": "http://127.0.0.1:8081/hub/api",
        "access_scopes": ["access:services!service=submarine"],
        "control_token": "secret",
        "resources": {"cpu": 0.5, "memory": "1Gi"},
        **extra,
    }


ACCESS = {"team": "data-science", "members": ["alice", "bob"], "admins": ["admin"]}


def by_kind(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["kind"]: m for m in manifests}


def test_manifests_are_valid_and_wired() -> None:
    settings = KubeSettings(
        namespace="serving",
        image="registry.example.com/submarine-hub:1.0",
        image_pull_secrets=["regcred"],
        replicas=2,
        hub_api_url="http://hub.jhub.svc:8081/hub/api",
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "serving"}],
    )
    manifests = render(config(), ACCESS, settings)
    for m in manifests:
        kubernetes_validate.validate(m, K8S_VERSION, strict=True)
    k = by_kind(manifests)
    assert set(k) == {"Secret", "ConfigMap", "Deployment", "Service"}
    name = "endpoint-data-science-iris"
    assert k["Deployment"]["metadata"]["name"] == name == k["Service"]["metadata"]["name"]
    assert all(m["metadata"]["namespace"] == "serving" for m in manifests)
    dep = k["Deployment"]["spec"]
    assert dep["replicas"] == 2
    assert dep["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    assert dep["selector"]["matchLabels"] == k["Service"]["spec"]["selector"]
    pod = dep["template"]
    assert all(pod["metadata"]["labels"][k] == v for k, v in dep["selector"]["matchLabels"].items())
    assert pod["metadata"]["annotations"][ANNOTATION_GENERATION] == "1"
    container = pod["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == (
        "/services/endpoint-data-science-iris/health"
    )
    assert container["resources"] == {
        "requests": {"cpu": "500m", "memory": "1Gi"},
        "limits": {"cpu": "500m", "memory": "1Gi"},
    }
    ref = container["env"][0]["valueFrom"]["secretKeyRef"]
    assert ref["name"] == k["Secret"]["metadata"]["name"]
    server = json.loads(k["Secret"]["stringData"][ref["key"]])
    assert server["ip"] == "0.0.0.0" and server["port"] == 8080
    assert server["hub_api_url"] == "http://hub.jhub.svc:8081/hub/api"
    assert server["access_file"] == "/etc/submarine-endpoint/access.json"
    assert json.loads(k["ConfigMap"]["data"]["access.json"]) == ACCESS
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["access"]["configMap"]["name"] == k["ConfigMap"]["metadata"]["name"]
    assert pod["spec"]["tolerations"] and pod["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    assert k["Service"]["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"]
    # the credentials stay in the Secret, not in the pod spec
    assert "secret" not in json.dumps(k["Deployment"]).replace("secretKeyRef", "")
    # an update changes the pod template (a rolling update); access changes do not
    again = by_kind(render(config(2), {**ACCESS, "members": ["alice"]}, settings))
    old_ann = pod["metadata"]["annotations"]
    new_ann = again["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert new_ann[ANNOTATION_CONFIG_HASH] != old_ann[ANNOTATION_CONFIG_HASH]
    same = by_kind(render(config(), {**ACCESS, "members": ["alice"]}, settings))
    assert same["Deployment"] == k["Deployment"]


@pytest.mark.parametrize("team", ["Data_Science", "x" * 60, "9lives"])
def test_long_and_odd_names_stay_valid(team: str) -> None:
    service = f"endpoint-{team.lower().replace('_', '-')}-iris"
    manifests = render(
        config(team=team, service=service, endpoint=f"{team}/iris"), ACCESS, KubeSettings()
    )
    for m in manifests:
        kubernetes_validate.validate(m, K8S_VERSION, strict=True)
    assert len(kube_name(service) + "-config") <= 63


def test_state_from_a_deployment() -> None:
    dep = render(config(3), ACCESS, KubeSettings())[2]
    dep = copy.deepcopy(dep)
    dep["metadata"]["generation"] = 4
    url = "http://e.serving.svc.cluster.local"
    dep["status"] = {"observedGeneration": 4, "replicas": 2, "updatedReplicas": 1,
                     "availableReplicas": 1}  # fmt: skip
    state = deployment_state(dep, url)
    assert state is not None and state.state == "loading" and state.loading == 3
    assert state.generation == 2 and state.url == url  # the old pods still serve
    dep["status"] = {"observedGeneration": 4, "replicas": 1, "updatedReplicas": 1,
                     "availableReplicas": 1}  # fmt: skip
    state = deployment_state(dep, url)
    assert state is not None and state.state == "ready" and state.generation == 3
    dep["status"]["conditions"] = [
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
         "message": "ReplicaSet has timed out progressing."}
    ]  # fmt: skip
    state = deployment_state(dep, url)
    assert state is not None and state.failed == 3 and "timed out" in state.reason
    assert deployment_state(None, url) is None


class FakeApi:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.calls: list[tuple[str, str, str]] = []

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((kind, namespace, name))

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        m = manifest["metadata"]
        self.calls.append(("create", manifest["kind"], m["name"]))
        self.objects[(manifest["kind"], m["namespace"], m["name"])] = copy.deepcopy(manifest)
        return manifest

    async def replace(self, manifest: dict[str, Any]) -> dict[str, Any]:
        m = manifest["metadata"]
        self.calls.append(("patch", manifest["kind"], m["name"]))
        key = (manifest["kind"], m["namespace"], m["name"])
        merged = {**self.objects.get(key, {}), **copy.deepcopy(manifest)}
        self.objects[key] = merged
        return merged

    async def delete(self, kind: str, namespace: str, name: str) -> None:
        self.calls.append(("delete", kind, name))
        self.objects.pop((kind, namespace, name), None)

    async def list(self, kind: str, namespace: str, label_selector: str) -> list[dict]:
        wanted = dict(part.split("=", 1) for part in label_selector.split(","))
        return [
            o
            for (k, ns, _), o in self.objects.items()
            if k == kind
            and ns == namespace
            and all(o["metadata"]["labels"].get(a) == b for a, b in wanted.items())
        ]

    async def pod_log(self, namespace: str, pod: str, limit_bytes: int) -> bytes:
        return b"listening\nserving generation 1\n"

    async def close(self) -> None:
        pass


async def test_backend_applies_updates_and_stops() -> None:
    api = FakeApi()
    backend = KubeEndpointBackend(api=api, namespace="serving", image="img:1")
    assert await backend.state(7) is None
    await backend.write_access(7, ACCESS)
    await backend.apply(7, config(1))
    assert [c[:2] for c in api.calls] == [
        ("create", "Secret"), ("create", "ConfigMap"), ("create", "Deployment"),
        ("create", "Service"),
    ]  # fmt: skip
    assert await backend.known() == [7]
    state = await backend.state(7)
    assert state is not None and state.state == "loading" and state.loading == 1
    assert state.url == "http://endpoint-data-science-iris.serving.svc.cluster.local"
    api.calls.clear()
    await backend.apply(7, config(2))
    assert {c[0] for c in api.calls} == {"patch"}
    dep = api.objects[("Deployment", "serving", "endpoint-data-science-iris")]
    assert dep["spec"]["template"]["metadata"]["annotations"][ANNOTATION_GENERATION] == "2"
    assert dep["metadata"]["labels"][LABEL_ENDPOINT] == "7"
    api.calls.clear()
    await backend.write_access(7, {**ACCESS, "members": ["alice"]})
    assert api.calls == [("patch", "ConfigMap", "endpoint-data-science-iris-access")]
    await backend.write_access(7, {**ACCESS, "members": ["alice"]})
    assert len(api.calls) == 1  # unchanged: no call
    pod = {"kind": "Pod", "metadata": {"name": "p1", "labels": dep["metadata"]["labels"]}}
    api.objects[("Pod", "serving", "p1")] = pod
    assert (await backend.read_log(7, 10, 100)).startswith(b"serving generation")
    await backend.stop(7)
    assert {k for (k, _, _) in api.objects} == {"Pod"}
    assert await backend.state(7) is None
