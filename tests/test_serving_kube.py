"""Endpoints on Kubernetes: the rendered Secret, ConfigMap, Deployment and Service are
valid (kubernetes-validate, strict, 1.30) and wired together; the backend applies,
reads state from a Deployment's status (directly or from its watch cache), updates
access and stops, against the one fake cluster (``tests/helpers/kube.py``), and through
``ClusterApi`` over HTTP. ``test_an_endpoint_on_a_real_cluster`` talks to a cluster
when KUBECONFIG is set."""

from __future__ import annotations

import copy
import json
import os
import uuid
from typing import Any

import pytest

from submarine_hub.backends.kube.manifests import PodSettings
from submarine_hub.backends.kube.names import (
    ANNOTATION_CONFIG_HASH,
    ANNOTATION_GENERATION,
    LABEL_ENDPOINT,
    LABEL_TEAM,
    label_value,
)
from submarine_hub.serving.kube import (
    EndpointSettings,
    KubeEndpointBackend,
    deployment_state,
    endpoint_name,
    render,
)

from .helpers.kube import FakeCluster, by_kind, rest_app, validate, wait_for


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


def test_manifests_are_valid_and_wired() -> None:
    settings = EndpointSettings(
        namespace="serving",
        image="registry.example.com/submarine-hub:1.0",
        pod=PodSettings(
            image_pull_secrets=("regcred",),
            image_pull_policy="IfNotPresent",
            node_selector={"pool": "serving"},
            service_account="model-reader",
            tolerations=({"key": "dedicated", "operator": "Equal", "value": "serving"},),
        ),
        replicas=2,
        hub_api_url="http://hub.jhub.svc:8081/hub/api",
    )
    manifests = validate(render(config(), ACCESS, settings))
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
    assert pod["spec"]["nodeSelector"] == {"pool": "serving"}
    assert pod["spec"]["serviceAccountName"] == "model-reader"
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert container["imagePullPolicy"] == "IfNotPresent"
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
    manifests = validate(
        render(
            config(team=team, service=service, endpoint=f"{team}/iris"), ACCESS, EndpointSettings()
        )
    )
    assert len(endpoint_name(service) + "-config") <= 63
    assert all(m["metadata"]["labels"][LABEL_TEAM] == label_value(team) for m in manifests)


def test_state_from_a_deployment() -> None:
    dep = render(config(3), ACCESS, EndpointSettings())[2]
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


async def test_backend_applies_updates_and_stops() -> None:
    api = FakeCluster()
    backend = KubeEndpointBackend(api=api, namespace="serving", image="img:1", watch=False)
    assert await backend.state(7) is None
    await backend.write_access(7, ACCESS)
    await backend.apply(7, config(1))
    assert [c[:2] for c in api.calls if c[0] == "create"] == [
        ("create", "Secret"), ("create", "ConfigMap"), ("create", "Deployment"),
        ("create", "Service"),
    ]  # fmt: skip
    assert await backend.known() == [7]
    state = await backend.state(7)
    assert state is not None and state.state == "loading" and state.loading == 1
    assert state.url == "http://endpoint-data-science-iris.serving.svc.cluster.local"
    # no pod is available yet, so the Service reaches none: its stats are not asked for
    assert await backend.stats(7, "/services/endpoint-data-science-iris/", "t") is None
    api.calls.clear()
    await backend.apply(7, config(2))
    assert {c[0] for c in api.calls} == {"get", "patch"}
    dep = api.objects[("Deployment", "serving", "endpoint-data-science-iris")]
    assert dep["spec"]["template"]["metadata"]["annotations"][ANNOTATION_GENERATION] == "2"
    assert dep["metadata"]["labels"][LABEL_ENDPOINT] == "7"
    api.calls.clear()
    await backend.write_access(7, {**ACCESS, "members": ["alice"]})
    patches = [c for c in api.calls if c[0] == "patch"]
    assert patches == [("patch", "ConfigMap", "endpoint-data-science-iris-access")]
    access = api.objects[("ConfigMap", "serving", "endpoint-data-science-iris-access")]
    assert json.loads(access["data"]["access.json"])["members"] == ["alice"]
    await backend.write_access(7, {**ACCESS, "members": ["alice"]})
    assert [c for c in api.calls if c[0] == "patch"] == patches  # unchanged: no call
    pod = {"metadata": {"name": "p1", "labels": dep["metadata"]["labels"]}}
    api.add_pod(dep, pod, b"listening\nserving generation 1\n")
    assert (await backend.read_log(7, 10, 100)).startswith(b"serving generation")
    await backend.stop(7)
    assert api.objects == {}  # the pod went with its Deployment
    assert await backend.state(7) is None


async def test_the_watch_cache_answers_and_follows_the_cluster() -> None:
    cluster = FakeCluster()
    backend = KubeEndpointBackend(api=cluster, namespace="serving", image="img:1")
    assert await backend.state(7) is None  # before the first list: read directly
    await backend.apply(7, config(1))
    state = await backend.state(7)  # what apply wrote is read back at once
    assert state is not None and state.state == "loading" and state.loading == 1
    reflector = backend._reflector
    assert reflector is not None
    await wait_for(lambda: reflector.synced)
    lists = len([c for c in cluster.calls if c[0] == "list"])
    # the Deployment controller at work: the cache follows
    dep = cluster.objects[("Deployment", "serving", "endpoint-data-science-iris")]
    cluster.set_status(
        dep, observedGeneration=1, replicas=1, updatedReplicas=1, availableReplicas=1
    )
    await wait_for(lambda: bool(reflector.indexed("7")[0].get("status")))
    state = await backend.state(7)
    assert state is not None and state.state == "ready" and state.generation == 1
    assert await backend.known() == [7]
    assert len([c for c in cluster.calls if c[0] == "list"]) == lists  # no list: the cache
    await backend.stop(7)
    assert await backend.state(7) is None and await backend.known() == []
    await backend.close()
    assert not reflector.running and cluster.closed


async def test_cluster_api_serves_endpoints_over_http() -> None:
    """The one API adapter, as endpoints use it: Deployments, ConfigMaps, Secrets,
    Services and pod logs through kubernetes_asyncio and the REST API."""
    from aiohttp.test_utils import TestServer
    from kubernetes_asyncio import client

    from submarine_hub.backends.kube.api import ClusterApi

    cluster = FakeCluster()
    app, requests = rest_app(cluster)
    async with TestServer(app) as http:
        configuration = client.Configuration(host=str(http.make_url("")).rstrip("/"))
        api = ClusterApi(client.ApiClient(configuration))
        backend = KubeEndpointBackend(api=api, namespace="serving", image="img:1")
        await backend.write_access(7, ACCESS)
        await backend.apply(7, config(1))
        name = "endpoint-data-science-iris"
        assert {k for k in cluster.objects} == {
            ("Secret", "serving", f"{name}-config"),
            ("ConfigMap", "serving", f"{name}-access"),
            ("Deployment", "serving", name),
            ("Service", "serving", name),
        }
        posts = [path for method, path, _ in requests if method == "POST"]
        assert "/apis/apps/v1/namespaces/serving/deployments" in posts
        await backend.apply(7, config(2))  # an update: merge patches
        patches = {(path, ct) for method, path, ct in requests if method == "PATCH"}
        assert (
            f"/apis/apps/v1/namespaces/serving/deployments/{name}",
            "application/merge-patch+json",
        ) in patches
        dep = cluster.objects[("Deployment", "serving", name)]
        assert dep["spec"]["template"]["metadata"]["annotations"][ANNOTATION_GENERATION] == "2"
        assert dep["metadata"]["generation"] == 2
        state = await backend.state(7)
        assert state is not None and state.loading == 2

        await backend.write_access(7, {**ACCESS, "members": ["alice"]})
        access = cluster.objects[("ConfigMap", "serving", f"{name}-access")]
        assert json.loads(access["data"]["access.json"])["members"] == ["alice"]

        pod = {"metadata": {"name": f"{name}-abc", "labels": dep["metadata"]["labels"]}}
        cluster.add_pod(dep, pod, b"listening\nserving generation 2\n")
        assert await backend.read_log(7, 10, 7) == b"serving"
        assert ("log", f"{name}-abc", "server") in cluster.calls

        await wait_for(lambda: backend._reflector is not None and backend._reflector.synced)
        assert await backend.known() == [7]
        await backend.stop(7)
        assert cluster.objects == {}
        deletes = [path for method, path, _ in requests if method == "DELETE"]
        assert f"/api/v1/namespaces/serving/configmaps/{name}-access" in deletes
        assert await backend.state(7) is None
        await backend.close()


async def test_an_endpoint_on_a_real_cluster() -> None:
    """Server-side dry run of an endpoint's objects, then the backend's reads."""
    kubeconfig = os.environ.get("KUBECONFIG")
    if not kubeconfig:
        pytest.skip("no Kubernetes cluster: set KUBECONFIG to run this test")
    from kubernetes_asyncio import client, utils
    from kubernetes_asyncio import config as kube_config

    namespace = os.environ.get("SUBMARINE_TEST_K8S_NAMESPACE", "default")
    settings = EndpointSettings(namespace=namespace, instance=f"test-{uuid.uuid4().hex[:8]}")
    manifests = validate(render(config(), ACCESS, settings))
    configuration = client.Configuration()
    await kube_config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    async with client.ApiClient(configuration) as api:
        for manifest in manifests:
            await utils.create_from_dict(api, manifest, namespace=namespace, dry_run="All")
    backend = KubeEndpointBackend(
        kubeconfig=kubeconfig, namespace=namespace, instance=settings.instance, watch=False
    )
    try:
        assert await backend.known() == []
        assert await backend.state(7) is None
    finally:
        await backend.close()
