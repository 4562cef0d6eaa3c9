"""The one API adapter (``ClusterApi``) for every kind the platform uses, through
``kubernetes_asyncio`` and the REST API (the tests' stand-in cluster served over HTTP),
with the helpers every user of it shares (create-or-get, apply, errors) and the one
watch cache (``Reflector``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from submarine_hub.backends.kube.api import (
    KINDS,
    ApiException,
    ClusterApi,
    api_error,
    apply,
    create_if_missing,
    create_or_get,
)
from submarine_hub.backends.kube.names import LABEL_RUN, labels, selector
from submarine_hub.backends.kube.reflector import Reflector
from submarine_hub.core.errors import Conflict, Forbidden, InvalidInput, Unavailable

from .helpers.kube import FakeCluster, api_exception, rest_app, wait_for

NS = "team-ml"


def manifest(kind: str, name: str, **fields: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels("default", team="ml", run=1)}
    if KINDS[kind].namespaced:
        meta["namespace"] = NS
    return {"kind": kind, "metadata": meta, **fields}


@pytest.fixture
async def served() -> AsyncIterator[tuple[ClusterApi, FakeCluster, list[Any]]]:
    from aiohttp.test_utils import TestServer
    from kubernetes_asyncio import client

    cluster = FakeCluster(kubeflow={"pytorchjobs"})
    app, requests = rest_app(cluster)
    async with TestServer(app) as http:
        configuration = client.Configuration(host=str(http.make_url("")).rstrip("/"))
        api = ClusterApi(client.ApiClient(configuration))
        yield api, cluster, requests
        await api.close()


# PodMetrics (metrics.k8s.io) are read-only, listed only: tests/test_usage_kube_live.py
@pytest.mark.parametrize("kind", sorted(k for k in KINDS if KINDS[k].group != "metrics.k8s.io"))
async def test_every_kind_round_trips(
    served: tuple[ClusterApi, FakeCluster, list[Any]], kind: str
) -> None:
    api, cluster, requests = served
    namespace = NS if KINDS[kind].namespaced else ""
    created = await api.create(manifest(kind, "one", spec={"x": 1}))
    assert created["kind"] == kind and created["metadata"]["uid"]
    assert (kind, namespace, "one") in cluster.objects
    got = await api.get(kind, namespace, "one")
    assert got is not None and got["metadata"]["uid"] == created["metadata"]["uid"]
    assert await api.get(kind, namespace, "two") is None

    patched = await api.patch(kind, namespace, "one", {"metadata": {"annotations": {"a": "b"}}})
    assert patched["metadata"]["annotations"] == {"a": "b"}
    assert requests[-1][2] == "application/merge-patch+json"

    items, version = await api.list(kind, namespace or None, selector("default", run=1))
    assert [i["metadata"]["name"] for i in items] == ["one"] and version
    assert all(i["kind"] == kind for i in items)
    if KINDS[kind].namespaced:
        everywhere, _ = await api.list(kind, None, selector("default", "run"))
        assert [i["metadata"]["name"] for i in everywhere] == ["one"]
    none, _ = await api.list(kind, namespace or None, selector("default", run=2))
    assert none == []

    with pytest.raises(ApiException) as refused:
        await api.create(manifest(kind, "one"))
    assert refused.value.status == 409
    await api.delete(kind, namespace, "one", "Foreground")
    assert (kind, namespace, "one") not in cluster.objects
    await api.delete(kind, namespace, "one")  # gone: nothing to do


async def test_pod_logs_and_discovery(served: tuple[ClusterApi, FakeCluster, list[Any]]) -> None:
    api, cluster, _ = served
    job = await api.create(manifest("Job", "j"))
    cluster.add_pod(job, {"metadata": {"name": "j-0"}}, b"0123456789")
    assert await api.pod_log(NS, "j-0", "main", 4) == b"0123"
    assert ("log", "j-0", "main") in cluster.calls
    assert await api.pod_log(NS, "nobody", "main", 4) == b""
    assert await api.api_resources("kubeflow.org", "v1") == {"pytorchjobs"}
    cluster.kubeflow = None
    assert await api.api_resources("kubeflow.org", "v1") is None


async def test_watch_streams_from_a_version(
    served: tuple[ClusterApi, FakeCluster, list[Any]],
) -> None:
    api, _, _ = served
    await api.create(manifest("Secret", "s1"))
    _, version = await api.list("Secret", NS, "")
    await api.create(manifest("Secret", "s2"))
    await api.patch("Secret", NS, "s1", {"data": {"k": "dg=="}})
    seen = [(e, o["metadata"]["name"]) async for e, o in api.watch("Secret", NS, "", version)]
    assert seen == [("ADDED", "s2"), ("MODIFIED", "s1")]


async def test_what_every_user_of_the_api_shares() -> None:
    cluster = FakeCluster()
    secret = manifest("Secret", "s", data={})
    obj, created = await create_or_get(cluster, secret)
    assert created
    again, created = await create_or_get(cluster, secret)
    assert not created and again["metadata"]["uid"] == obj["metadata"]["uid"]
    assert await create_if_missing(cluster, secret) is None

    async def gone(kind: str, namespace: str, name: str) -> None:
        return None

    cluster.get = gone  # type: ignore[method-assign,assignment]
    with pytest.raises(Conflict, match="existed and is gone"):
        await create_or_get(cluster, secret)
    del cluster.get

    updated = await apply(cluster, manifest("Secret", "s", data={"k": "dg=="}))
    assert updated["data"] == {"k": "dg=="}
    fresh = await apply(cluster, manifest("ConfigMap", "c", data={"a": "b"}))
    assert fresh["metadata"]["uid"]

    for status, error in [
        (422, InvalidInput),
        (403, Forbidden),
        (409, Conflict),
        (500, Unavailable),
    ]:
        e = api_error(api_exception(status, "the server's words"), "start run 7")
        assert isinstance(e, error)
        assert str(e.args[0]) == "Kubernetes refused to start run 7: the server's words"


async def test_the_watch_cache_lists_watches_and_relists() -> None:
    cluster = FakeCluster()
    await cluster.create(manifest("Secret", "a"))
    cache = Reflector(
        cluster, "Secret", namespace=NS, label_selector=selector("default", "run"), index=LABEL_RUN
    )
    assert not cache.synced and cache.indexed("1") == []
    cache.start()
    await wait_for(lambda: cache.synced)
    assert [o["metadata"]["name"] for o in cache.indexed("1")] == ["a"]
    await cluster.create(manifest("Secret", "b"))
    await wait_for(lambda: len(cache.indexed("1")) == 2)
    await cluster.delete("Secret", NS, "a")
    await wait_for(lambda: len(cache.indexed("1")) == 1)
    lists = len([c for c in cluster.calls if c[0] == "list"])
    cluster.end_watches("Secret", api_exception(410, "Gone"))
    await wait_for(lambda: len([c for c in cluster.calls if c[0] == "list"]) == lists + 1)
    await cluster.create(manifest("Secret", "c"))
    await wait_for(lambda: len(cache.indexed("1")) == 2)
    await cache.stop()
    assert not cache.running and not cache.synced
    await asyncio.sleep(0)
