"""Kubernetes runs metered from the cluster's live metrics (metrics.k8s.io PodMetrics) where
the cluster serves them: CPU-seconds integrated from the samples and peak memory per
replica, carried by the run's usage records; a cluster without the metrics API leaves
the manifests' requests as the only figures. The PodMetrics answers are in
metrics-server's format (tests/fixtures/kube/podmetrics.json); one test reads a real
cluster's, when KUBECONFIG is set."""

from __future__ import annotations

import copy
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio.client.exceptions import ApiException
from traitlets.config import Config

from submarine_hub.backends.kube.experiments import KubeExperimentBackend
from submarine_hub.backends.kube.names import LABEL_ROLE, LABEL_RUN
from submarine_hub.core.usage import live
from submarine_hub.core.usage.meter import Meter
from submarine_hub.service.usage import UsageMeter
from submarine_hub.store import Database, upgrade
from submarine_hub.store.models import Experiment, UsageRecord

from .helpers.kube import FakeCluster

RECORDED = json.loads((Path(__file__).parent / "fixtures/kube/podmetrics.json").read_text())
SIDECAR_CPU = 1048576e-9
SIDECAR_MEMORY = 2048 * 1024


def items(name: str) -> list[dict[str, Any]]:
    return [dict(i, kind="PodMetrics") for i in copy.deepcopy(RECORDED[name]["items"])]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("250m", 0.25), ("1498765432n", 1.498765432), ("2", 2.0), ("524288Ki", 524288 * 1024),
     ("1Gi", 2**30), ("1e3", 1000.0), ("1.5G", 1.5e9), ("12u", 12e-6)],
)  # fmt: skip
def test_quantities_are_read_as_kubernetes_writes_them(value: str, expected: float) -> None:
    assert live.quantity(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["lots", "-1", "1Zi", "", "nan", "inf", "1e999", "1 Gi"])
def test_bad_quantities_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a quantity"):
        live.quantity(value)


def test_pod_metrics_become_samples_of_the_runs_replicas() -> None:
    found, problems = live.samples(items("first"), run_label=LABEL_RUN, role_label=LABEL_ROLE)
    assert [(s.run_id, s.replica, s.pod) for s in found] == [
        (12, "worker-0", "run-12-worker-0-x7k2p"),
        (12, "worker-1", "run-12-worker-1-q9m3z"),
    ]  # the cluster's own pods are not a run's
    assert problems == []
    w0 = found[0]
    assert w0.cpu == pytest.approx(1.498765432 + SIDECAR_CPU)  # every container
    assert w0.memory == 524288 * 1024 + SIDECAR_MEMORY
    assert w0.window == pytest.approx(15.011)
    assert w0.at == datetime(2026, 12, 3, 20, 0, tzinfo=timezone.utc)
    _, problems = live.samples(items("second"), run_label=LABEL_RUN, role_label=LABEL_ROLE)
    assert len(problems) == 1 and problems[0].startswith("run-12-worker-2-broken:")


def test_samples_integrate_to_cpu_seconds_and_peak_memory() -> None:
    usage = live.LiveUsage(max_gap=300)
    first, _ = live.samples(items("first"), run_label=LABEL_RUN, role_label=LABEL_ROLE)
    second, _ = live.samples(items("second"), run_label=LABEL_RUN, role_label=LABEL_ROLE)
    assert all(usage.add(s) for s in first)
    assert [usage.add(s) for s in second] == [True, False]  # worker-1: the same sample again
    assert not any(usage.add(s) for s in first)  # an older sample is never counted again
    w0, w1 = usage.usage[12]["worker-0"], usage.usage[12]["worker-1"]
    # the first sample covers its window, the next the 15 s since the previous one
    assert w0["cpu_time"] == pytest.approx((1.498765432 + SIDECAR_CPU) * 15.011
                                           + (2 + SIDECAR_CPU) * 15)  # fmt: skip
    assert w0["peak_memory"] == 2**30 + SIDECAR_MEMORY
    assert w1["cpu_time"] == pytest.approx((0.25 + SIDECAR_CPU) * 15.011)
    # a long silence (the service was down) counts at most max_gap
    late = live.Sample(12, "worker-0", "run-12-worker-0-x7k2p",
                       second[0].at + timedelta(hours=2), 15.0, 1.0, 10)  # fmt: skip
    before = w0["cpu_time"]
    usage.add(late)
    assert usage.usage[12]["worker-0"]["cpu_time"] == pytest.approx(before + 300)
    usage.forget(set())
    assert usage.usage == {}


def backend(cluster: Any) -> KubeExperimentBackend:
    c = Config()
    c.KubeExperimentBackend.namespace = "submarine"
    c.KubeExperimentBackend.watch = False
    return KubeExperimentBackend(config=c, api=cluster)


async def test_the_kube_backend_reads_its_run_pods_metrics() -> None:
    cluster = FakeCluster()
    for item in items("first"):
        cluster.store("ADDED", item)
    found = await backend(cluster).live_usage()
    assert found is not None and {s.replica for s in found} == {"worker-0", "worker-1"}
    (call,) = [c for c in cluster.calls if c[1] == "PodMetrics"]
    assert f"{LABEL_RUN}" in call[2]  # only the platform's run pods are listed


class NoMetrics(FakeCluster):
    """A cluster without metrics-server: the metrics.k8s.io group is not served."""

    async def list(self, kind: str, namespace: str | None, label_selector: str) -> Any:
        if kind == "PodMetrics":
            self.calls.append(("list", kind, label_selector))
            raise ApiException(status=404, reason="Not Found")
        return await super().list(kind, namespace, label_selector)


async def test_without_a_metrics_api_runs_are_metered_by_their_requests(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cluster = NoMetrics()
    b = backend(cluster)
    assert await b.live_usage() is None
    assert await b.live_usage() is None  # not asked again
    assert len([c for c in cluster.calls if c[1] == "PodMetrics"]) == 1


async def test_live_use_reaches_the_runs_usage_records(db_url: str) -> None:
    """Samples of a running run go into its replicas' measured use; when it ends its
    records carry them (and keep the requested resources for pricing); another run's
    samples touch nothing of this one."""
    upgrade(db_url)
    db = Database(db_url)
    t0 = datetime(2026, 12, 3, 19, 59, tzinfo=timezone.utc)
    spec = {"meta": {"name": "r", "team": "red", "tags": []},
            "environment": {"image": "python:3.12"}, "resources": {"cpu": 4, "memory": "2G"},
            "spec": {"worker": {"replicas": 2}}}  # fmt: skip
    try:
        async with db.session() as s:
            for run_id in (12, 13):
                s.add(Experiment(id=run_id, name="r", team="red", owner="ann", kind="command",
                                 status="running", spec=spec, launched_at=t0, started_at=t0,
                                 backend="kube", placement=None))  # fmt: skip
        feed = [items("first"), items("second")]

        async def sampled() -> list[live.Sample]:
            found, _ = live.samples(feed.pop(0), run_label=LABEL_RUN, role_label=LABEL_ROLE)
            return found

        meter = UsageMeter(db, interval=0, live=sampled)
        assert await meter.sample_live() == 1
        assert await meter.sample_live() == 1
        async with db.session() as s:
            row = await s.get(Experiment, 12)
            assert row is not None and row.placement is not None
            w0 = row.placement["usage"]["worker-0"]
            assert w0["peak_memory"] == 2**30 + SIDECAR_MEMORY
            assert w0["cpu_time"] == pytest.approx(
                (1.498765432 + SIDECAR_CPU) * 15.011 + (2 + SIDECAR_CPU) * 15
            )
            other = await s.get(Experiment, 13)
            assert other is not None and other.placement is None
        # a restarted service goes on from what was recorded (its first sample of a pod
        # counts the sample's own window)
        third = items("second")[:1]
        third[0]["timestamp"] = "2026-12-03T20:00:30Z"
        feed.append(third)
        assert await UsageMeter(db, interval=0, live=sampled).sample_live() == 1
        async with db.session() as s:
            row = await s.get(Experiment, 12)
            assert row is not None and row.placement is not None
            before = w0["cpu_time"]
            w0 = row.placement["usage"]["worker-0"]
            assert w0["cpu_time"] == pytest.approx(before + (2 + SIDECAR_CPU) * 15.011)
            assert row.placement["usage"]["worker-1"]["cpu_time"] > 0  # kept
            row.status, row.finished_at = "succeeded", t0 + timedelta(minutes=2)
        async with db.session() as s:
            await Meter().sync(s)
        async with db.session() as s:
            from sqlalchemy import select

            recs = {
                r.replica: r
                for r in (
                    await s.scalars(select(UsageRecord).where(UsageRecord.object_id == 12))
                ).all()
            }
        assert recs["worker-0"].cpu_time == pytest.approx(w0["cpu_time"])
        assert recs["worker-0"].peak_memory == 2**30 + SIDECAR_MEMORY
        assert recs["worker-0"].cpu == 4.0  # priced by what it held, as on every backend
        assert recs["worker-1"].cpu_time == pytest.approx((0.25 + SIDECAR_CPU) * 15.011)
    finally:
        await db.dispose()


async def test_live_metrics_of_a_real_cluster() -> None:
    """Reads PodMetrics of a real cluster's kube-system pods and parses every one."""
    kubeconfig = os.environ.get("KUBECONFIG")
    if not kubeconfig:
        pytest.skip("KUBECONFIG is not set: no Kubernetes cluster to read live metrics from")
    from submarine_hub.backends.kube.api import ClusterApi

    api = await ClusterApi.connect(kubeconfig)
    try:
        try:
            found, _ = await api.list("PodMetrics", "kube-system", "")
        except ApiException as e:
            pytest.skip(f"the cluster serves no metrics.k8s.io ({e.status}): no metrics-server")
        assert found, "metrics-server lists no kube-system pod"
        for item in found:
            for container in item["containers"]:
                assert live.quantity(container["usage"]["cpu"]) >= 0
                assert live.quantity(container["usage"]["memory"]) > 0
        relabelled = [
            {**i, "metadata": {**i["metadata"], "labels": {"r": "1", "o": "main"}}} for i in found
        ]
        samples, problems = live.samples(relabelled, run_label="r", role_label="o")
        assert problems == [] and len(samples) == len(found)
    finally:
        await api.close()
