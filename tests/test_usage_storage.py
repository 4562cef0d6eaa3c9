"""Storage a team holds outside this machine: its Kubernetes team claims (capacity
provisioned, else requested) and its model files in the artifact store (an S3-compatible
server here: moto), metered as the team's disk; another team's storage is not counted."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from submarine_hub.backends.kube.experiments import KubeExperimentBackend
from submarine_hub.backends.kube.names import labels
from submarine_hub.store import Database, upgrade
from submarine_hub.store.artifacts import ArtifactStore

from .helpers.hub import free_port
from .helpers.kube import FakeCluster

GI = 2**30


@pytest.fixture(scope="module")
def s3() -> Iterator[dict[str, str]]:
    """A moto S3 server with a bucket ``models`` (as tests/test_registry.py's, waiting
    also through a slow first answer on a busy machine)."""
    import subprocess
    import sys
    import time

    import boto3
    import requests

    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url, timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.2)
        boto3.client("s3", endpoint_url=url, aws_access_key_id="k", aws_secret_access_key="s",
                     region_name="us-east-1").create_bucket(Bucket="models")  # fmt: skip
        yield {"endpoint_url": url, "key": "k", "secret": "s"}
    finally:
        proc.terminate()
        proc.wait(10)


def claim(name: str, team: str | None, *, capacity: str | None, request: str,
          namespace: str = "submarine", instance: str = "default") -> dict[str, Any]:  # fmt: skip
    meta_labels = labels(instance, team=team) if team else {"app": "other"}
    pvc: dict[str, Any] = {
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace, "labels": meta_labels},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": request}}},
        "status": {"phase": "Bound" if capacity else "Pending"},
    }
    if capacity:
        pvc["status"]["capacity"] = {"storage": capacity}
    return pvc


@pytest.fixture
def cluster() -> Iterator[FakeCluster]:
    c = FakeCluster()
    for pvc in (
        claim("submarine-team-red", "red", capacity="20Gi", request="10Gi"),  # provisioned more
        claim("submarine-team-blue", "blue", capacity=None, request="5Gi"),  # not bound yet
        claim("submarine-team-green", "green", capacity="1Ti", request="1Ti"),  # not asked
        claim("submarine-team-odd", "odd", capacity="lots", request="lots"),
        claim("someone-elses", None, capacity="1Ti", request="1Ti"),
        claim("other-platform", "red", capacity="1Ti", request="1Ti", instance="staging"),
    ):
        c.store("ADDED", pvc)
    yield c


def backend(cluster: FakeCluster) -> KubeExperimentBackend:
    c = Config()
    c.KubeExperimentBackend.namespace = "submarine"
    c.KubeExperimentBackend.watch = False
    return KubeExperimentBackend(config=c, api=cluster)


async def test_team_claims_are_measured_by_their_capacity(cluster: FakeCluster) -> None:
    got = await backend(cluster).team_volumes(["red", "blue", "odd"])
    assert got == {"red": 20 * GI, "blue": 5 * GI}  # odd: unreadable size, left out
    assert await backend(cluster).team_volumes([]) == {}


async def test_the_meter_adds_a_teams_volumes_and_store_to_its_disk(
    db_url: str, cluster: FakeCluster
) -> None:
    from sqlalchemy import select

    from submarine_hub.service.usage import UsageMeter
    from submarine_hub.store.models import UsageRecord

    upgrade(db_url)
    db = Database(db_url)
    try:
        b = backend(cluster)
        store = {"models/red": 3000, "models/blue": 7}
        meter = UsageMeter(db, interval=0, volumes=b.team_volumes, store_bytes=store.__getitem__)
        await meter.measure_disk({"red", "blue"})
        async with db.session() as s:
            held = {
                r.team: r.memory
                for r in (await s.scalars(select(UsageRecord).where(UsageRecord.kind == "disk")))
            }
        assert held == {"red": 20 * GI + 3000, "blue": 5 * GI + 7}
    finally:
        await db.dispose()


def test_a_teams_models_are_measured_in_the_artifact_store(tmp_path: Path) -> None:
    store = ArtifactStore(f"file://{tmp_path}/store")
    store.write_stream("models/red/m/1/model.bin", iter([b"x" * 1000]))
    store.write_stream("models/red/m/2/model.bin", iter([b"y" * 24]))
    store.write_stream("models/redder/m/1/model.bin", iter([b"z" * 5]))
    assert store.prefix_bytes("models/red") == 1024
    assert store.prefix_bytes("models/nobody") == 0
    with pytest.raises(ValueError, match="plain relative path"):
        store.prefix_bytes("../outside")


@pytest.mark.local
def test_a_teams_models_are_measured_on_s3(s3: dict[str, str]) -> None:
    options = {"key": s3["key"], "secret": s3["secret"],
               "client_kwargs": {"endpoint_url": s3["endpoint_url"]}}  # fmt: skip
    store = ArtifactStore("s3://models/usage-test", options)
    data = os.urandom(6 * 1024 * 1024)  # a multipart upload
    store.write_stream("models/red/m/1/model.bin", iter([data[:3_000_000], data[3_000_000:]]))
    store.write_stream("models/red/m/2/tiny", iter([b"t" * 10]))
    store.write_stream("models/blue/m/1/model.bin", iter([b"b" * 99]))
    assert store.prefix_bytes("models/red") == len(data) + 10
    assert store.prefix_bytes("models/blue") == 99
    assert store.prefix_bytes("models/nobody") == 0
