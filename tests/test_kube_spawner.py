"""``submarine-kube``: from a session grant to Kubernetes manifests, without a cluster.

Every manifest is validated against the Kubernetes 1.30 schemas (strict: unknown fields
fail). What the spawner sends to the API is tested in ``test_kube_spawner_cluster.py``.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from submarine_spawner.grant import CredentialFile, Environment, Resources
from submarine_spawner.kube import (
    CREDENTIALS_VOLUME,
    TEAM_VOLUME,
    SessionSettings,
    plan_session,
)

from submarine_hub.backends.kube import manifests
from submarine_hub.backends.kube.names import (
    LABEL_ENVIRONMENT,
    LABEL_MANAGED_BY,
    LABEL_PART_OF,
    LABEL_SESSION,
    LABEL_TEAM,
    LABEL_USER,
    check_team_name,
    is_dns_label,
    is_label_value,
    label_value,
    labels,
    team_slug,
)

from .helpers.kube import K8S_VERSION, validate_by_kind
from .helpers.kube import session_grant as grant
from .helpers.kube_spawner import DEFAULT_IMAGE, SESSIONS_NAMESPACE, SpawnerFactory, spawner_factory

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def make_spawner(monkeypatch: pytest.MonkeyPatch) -> SpawnerFactory:
    """Spawners built without a cluster (see ``spawner_factory``)."""
    return spawner_factory(monkeypatch)


def container(pod: dict[str, Any]) -> dict[str, Any]:
    [notebook] = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
    return notebook


def env_of(pod: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container(pod)["env"]}


def volumes_of(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod["spec"]["volumes"]}


def mounts_of(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in container(pod)["volumeMounts"]}


# --- the manifests of a session ------------------------------------------------------


async def test_validation_rejects_a_broken_manifest(make_spawner: SpawnerFactory) -> None:
    """The schema check is real: a pod with an unknown field fails it."""
    spawner = await make_spawner()
    pod = (await spawner.grant_manifests(grant()))[-1]
    pod["spec"]["containers"][0]["imagePolicy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, K8S_VERSION, strict=True)


async def test_grant_without_environment_uses_the_configured_image(
    make_spawner: SpawnerFactory,
) -> None:
    spawner = await make_spawner()
    manifests = await spawner.grant_manifests(grant())
    assert [m["kind"] for m in manifests] == ["PersistentVolumeClaim", "Pod"]
    by_kind = validate_by_kind(manifests)
    pod = by_kind["Pod"]

    assert container(pod)["image"] == DEFAULT_IMAGE
    pod_labels = pod["metadata"]["labels"]
    assert pod_labels[LABEL_USER] == "alice"
    assert pod_labels[LABEL_TEAM] == "data-science"
    assert pod_labels[LABEL_PART_OF] == "submarine-hub"
    assert pod_labels[LABEL_SESSION] == "3f6c2a90d1e84b7f"
    assert LABEL_ENVIRONMENT not in pod_labels
    # KubeSpawner's own labels stay
    assert pod_labels["component"] == "singleuser-server"
    assert pod_labels[LABEL_MANAGED_BY] == "kubespawner"
    assert pod["metadata"]["namespace"] == SESSIONS_NAMESPACE

    resources = container(pod)["resources"]
    assert "nvidia.com/gpu" not in resources["limits"]
    assert "cpu" not in resources["limits"] and "memory" not in resources["limits"]
    assert CREDENTIALS_VOLUME not in volumes_of(pod)
    assert "SUBMARINE_CREDENTIALS_DIR" not in env_of(pod)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            "registry.example.com/ml/pytorch:2.3-cuda12",
            "registry.example.com/ml/pytorch:2.3-cuda12",
        ),
        ("", DEFAULT_IMAGE),
    ],
    ids=["with-image", "without-image"],
)
async def test_environment_profile_sets_image_and_label(
    make_spawner: SpawnerFactory, image: str, expected: str
) -> None:
    spawner = await make_spawner()
    env = Environment(scope="_global", name="PyTorch 2.3", image=image)
    pod = validate_by_kind(await spawner.grant_manifests(grant(environment=env)))["Pod"]
    assert container(pod)["image"] == expected
    assert env_of(pod)["JUPYTER_IMAGE"] == expected
    label = pod["metadata"]["labels"][LABEL_ENVIRONMENT]
    assert is_label_value(label) and label.startswith("pytorch-2-3")


async def test_resources_become_requests_and_limits(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner()
    g = grant(resources=Resources(cpu=1.5, memory=4 * 1024**3, gpus=2))
    pod = validate_by_kind(await spawner.grant_manifests(g))["Pod"]
    resources = container(pod)["resources"]
    assert resources["limits"] == {"cpu": 1.5, "memory": 4 * 1024**3, "nvidia.com/gpu": "2"}
    assert resources["requests"] == {"cpu": 1.5, "memory": 4 * 1024**3}


async def test_gpu_resource_name_is_configurable(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner(
        gpu_resource_name="amd.com/gpu", extra_resource_limits={"example.com/fpga": "1"}
    )
    pod = validate_by_kind(await spawner.grant_manifests(grant(resources=Resources(gpus=1))))["Pod"]
    limits = container(pod)["resources"]["limits"]
    assert limits == {"amd.com/gpu": "1", "example.com/fpga": "1"}


async def test_team_volume_is_a_shared_claim(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner(team_volume_size="50Gi", team_volume_storage_class="cephfs")
    by_kind = validate_by_kind(await spawner.grant_manifests(grant()))
    pvc, pod = by_kind["PersistentVolumeClaim"], by_kind["Pod"]
    assert pvc["metadata"]["name"] == "submarine-team-data-science"
    assert pvc["metadata"]["namespace"] == SESSIONS_NAMESPACE
    assert pvc["metadata"]["labels"] == labels("default", team="data-science")
    assert pvc["metadata"]["labels"][LABEL_MANAGED_BY] == "submarine-hub"
    assert pvc["spec"] == {
        "accessModes": ["ReadWriteMany"],
        "resources": {"requests": {"storage": "50Gi"}},
        "storageClassName": "cephfs",
    }
    assert volumes_of(pod)[TEAM_VOLUME]["persistentVolumeClaim"] == {
        "claimName": "submarine-team-data-science"
    }
    assert mounts_of(pod)[TEAM_VOLUME]["mountPath"] == "/home/jovyan/teams/data-science"


async def test_team_volume_can_be_turned_off(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner(team_volume_enabled=False)
    manifests = await spawner.grant_manifests(grant())
    assert [m["kind"] for m in manifests] == ["Pod"]
    pod = validate_by_kind(manifests)["Pod"]
    assert TEAM_VOLUME not in volumes_of(pod)
    assert TEAM_VOLUME not in mounts_of(pod)


async def test_credentials_become_a_secret_volume_and_env(make_spawner: SpawnerFactory) -> None:
    keytab = bytes(range(256))  # binary content survives
    g = grant(
        env={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "SUBMARINE_TEAM": "data-science"},
        files=(
            CredentialFile(path="kerberos/alice.keytab", content=keytab, mode=0o400),
            CredentialFile(path="ssh/id_ed25519", content=b"-----BEGIN KEY-----\n", mode=0o600),
            CredentialFile(path="ca.pem", content=b"cert", mode=0o644),
        ),
    )
    spawner = await make_spawner(credentials_mount_path="/home/jovyan/.creds")
    manifests = await spawner.grant_manifests(g)
    assert [m["kind"] for m in manifests] == ["PersistentVolumeClaim", "Secret", "Pod"]
    by_kind = validate_by_kind(manifests)
    secret, pod = by_kind["Secret"], by_kind["Pod"]

    assert secret["metadata"]["name"] == "submarine-session-3f6c2a90d1e84b7f"
    assert secret["metadata"]["namespace"] == SESSIONS_NAMESPACE
    assert secret["metadata"]["labels"][LABEL_SESSION] == "3f6c2a90d1e84b7f"
    assert secret["metadata"]["labels"][LABEL_USER] == "alice"
    volume = volumes_of(pod)[CREDENTIALS_VOLUME]["secret"]
    assert volume["secretName"] == secret["metadata"]["name"]
    assert volume["defaultMode"] == 0o400
    items = {item["path"]: item for item in volume["items"]}
    assert {p: i["mode"] for p, i in items.items()} == {
        "kerberos/alice.keytab": 0o400,
        "ssh/id_ed25519": 0o600,
        "ca.pem": 0o644,
    }
    # each item's key holds that file's content
    assert base64.b64decode(secret["data"][items["kerberos/alice.keytab"]["key"]]) == keytab
    assert base64.b64decode(secret["data"][items["ca.pem"]["key"]]) == b"cert"
    assert mounts_of(pod)[CREDENTIALS_VOLUME] == {
        "name": CREDENTIALS_VOLUME,
        "mountPath": "/home/jovyan/.creds",
        "readOnly": True,
    }
    env = env_of(pod)
    assert env["AWS_ACCESS_KEY_ID"] == "AKIAEXAMPLE"
    assert env["SUBMARINE_TEAM"] == "data-science"
    assert env["SUBMARINE_CREDENTIALS_DIR"] == "/home/jovyan/.creds"


@pytest.mark.parametrize("per_team", [True, False], ids=["namespace-per-team", "one-namespace"])
async def test_namespace_per_team(make_spawner: SpawnerFactory, per_team: bool) -> None:
    spawner = await make_spawner(namespace_per_team=per_team)
    g = grant(files=(CredentialFile(path="token", content=b"t"),))
    manifests = await spawner.grant_manifests(g)
    by_kind = validate_by_kind(manifests)
    expected = "submarine-data-science" if per_team else SESSIONS_NAMESPACE
    if per_team:
        assert manifests[0]["kind"] == "Namespace"
        assert by_kind["Namespace"]["metadata"] == {
            "name": expected,
            "labels": {
                LABEL_PART_OF: "submarine-hub",
                LABEL_MANAGED_BY: "submarine-hub",
                LABEL_TEAM: "data-science",
            },
        }
    else:
        assert "Namespace" not in by_kind
    for kind in ("PersistentVolumeClaim", "Secret", "Pod"):
        assert by_kind[kind]["metadata"]["namespace"] == expected
    assert spawner.namespace == expected
    assert spawner.dns_name.endswith(f".{expected}.svc.cluster.local")


async def test_custom_namespace_template(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner(namespace_per_team=True, team_namespace_template="team-{team}")
    by_kind = validate_by_kind(await spawner.grant_manifests(grant(team="ml-platform")))
    assert by_kind["Namespace"]["metadata"]["name"] == "team-ml-platform"
    assert by_kind["Pod"]["metadata"]["namespace"] == "team-ml-platform"


@pytest.mark.parametrize(
    "team",
    [
        "Data_Science.Team",
        "ML Platform (EU)",
        "42-analytics",
        "team--x",
        "a" * 100,
        "équipe-données",
    ],
)
async def test_team_names_that_need_escaping(make_spawner: SpawnerFactory, team: str) -> None:
    spawner = await make_spawner(namespace_per_team=True)
    g = grant(team=team, user="Alice@Example.com", files=(CredentialFile("k", b"v"),))
    by_kind = validate_by_kind(await spawner.grant_manifests(g))
    slug = team_slug(team)
    assert is_dns_label(slug) and len(slug) <= 40
    assert by_kind["Namespace"]["metadata"]["name"] == f"submarine-{slug}"
    assert is_dns_label(by_kind["Namespace"]["metadata"]["name"])
    pod_labels = by_kind["Pod"]["metadata"]["labels"]
    assert is_label_value(pod_labels[LABEL_TEAM]) and is_label_value(pod_labels[LABEL_USER])
    assert mounts_of(by_kind["Pod"])[TEAM_VOLUME]["mountPath"] == f"/home/jovyan/teams/{slug}"


def test_escaping_keeps_valid_names_and_separates_the_rest() -> None:
    assert team_slug("data-science") == "data-science"
    assert label_value("Data_Science.Team") == "Data_Science.Team"  # already a valid label
    slug = team_slug("Data_Science.Team")
    assert slug.startswith("data-science-team---")
    # names that differ only in what escaping drops still get different slugs
    assert team_slug("Data Science") != team_slug("data-science") != team_slug("Data.Science")
    assert label_value("a" * 64) != label_value("a" * 65)
    assert len(label_value("a" * 200)) <= 63


# --- what is refused -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("team", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("___", "no ASCII letter or digit"),
        ("-.-", "no ASCII letter or digit"),
        ("数据科学", "no ASCII letter or digit"),
        ("data\nscience", "control characters"),
    ],
)
async def test_team_names_that_cannot_become_kubernetes_names_are_refused(
    make_spawner: SpawnerFactory, team: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_team_name(team)
    spawner = await make_spawner(namespace_per_team=True)
    with pytest.raises(ValueError, match=message):
        await spawner.grant_manifests(grant(team=team))


@pytest.mark.parametrize(
    ("traits", "message"),
    [
        ({"namespace_per_team": True, "team_namespace_template": "Team_{team}"}, "namespace"),
        (
            {"namespace_per_team": True, "team_namespace_template": "x" * 30 + "-{team}"},
            "namespace",
        ),
        ({"team_pvc_name_template": "{team}-{username}"}, "only {team}"),
    ],
)
async def test_templates_giving_invalid_names_are_refused(
    make_spawner: SpawnerFactory, traits: dict[str, Any], message: str
) -> None:
    spawner = await make_spawner(**traits)
    # a long team name fills the namespace's 63 characters past the prefix
    with pytest.raises(ValueError, match=message):
        await spawner.grant_manifests(grant(team="t" * 60))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/etc/passwd", "plain relative path"),
        ("../escape", "plain relative path"),
        ("a/../../b", "plain relative path"),
        ("a//b", "plain relative path"),
        ("./a", "plain relative path"),
        ("a\\b", "plain relative path"),
        ("{x}", "braces"),
    ],
)
def test_bad_credential_paths_are_refused(path: str, message: str) -> None:
    settings = SessionSettings(default_image=DEFAULT_IMAGE, namespace="default")
    with pytest.raises(ValueError, match=message):
        plan_session(grant(files=(CredentialFile(path=path, content=b"x"),)), settings)


def test_other_bad_grants_are_refused() -> None:
    settings = SessionSettings(default_image=DEFAULT_IMAGE, namespace="default")
    with pytest.raises(ValueError, match="not valid in a Kubernetes container"):
        plan_session(grant(env={"1BAD": "x"}), settings)
    with pytest.raises(ValueError, match="given twice"):
        twice = (CredentialFile("a", b"1"), CredentialFile("a", b"2"))
        plan_session(grant(files=twice), settings)
    with pytest.raises(ValueError, match="mode"):
        plan_session(grant(files=(CredentialFile("a", b"1", mode=0o1777),)), settings)
    with pytest.raises(ValueError, match="1 MiB"):
        plan_session(grant(files=(CredentialFile("big", b"x" * (1024 * 1024 + 1)),)), settings)
    with pytest.raises(ValueError, match="CPU"):
        plan_session(grant(resources=Resources(cpu=0)), settings)


async def test_namespace_per_team_excludes_user_namespaces(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner(namespace_per_team=True, enable_user_namespaces=True)
    with pytest.raises(ValueError, match="exclude each other"):
        spawner.apply_grant(grant())


# --- one spawner, several sessions ---------------------------------------------------


async def test_next_grant_replaces_the_previous_one(make_spawner: SpawnerFactory) -> None:
    """A spawner is reused across sessions: nothing of an earlier grant lingers."""
    extra_volume = {"name": "shared-data", "configMap": {"name": "datasets"}}
    spawner = await make_spawner(
        extra_labels={"example.com/cost-center": "research"},
        volumes=[extra_volume],
        volume_mounts=[{"name": "shared-data", "mountPath": "/data"}],
        mem_limit="1G",
        namespace_per_team=True,
    )
    first = grant(
        team="ml-platform",
        environment=Environment("ml-platform", "cuda", image="nvcr.io/cuda:12"),
        resources=Resources(cpu=4, memory=8 * 1024**3, gpus=1),
        env={"FIRST": "1"},
        files=(CredentialFile("k", b"v"),),
    )
    validate_by_kind(await spawner.grant_manifests(first))

    by_kind = validate_by_kind(await spawner.grant_manifests(grant()))
    pod = by_kind["Pod"]
    assert container(pod)["image"] == DEFAULT_IMAGE
    assert container(pod)["resources"]["limits"] == {
        "memory": 1024**3
    }  # "1G", as JupyterHub reads it
    pod_labels = pod["metadata"]["labels"]
    assert LABEL_ENVIRONMENT not in pod_labels
    assert pod_labels[LABEL_TEAM] == "data-science"
    assert pod_labels["example.com/cost-center"] == "research"
    assert sorted(volumes_of(pod)) == ["shared-data", TEAM_VOLUME]
    assert [m["name"] for m in container(pod)["volumeMounts"]] == ["shared-data", TEAM_VOLUME]
    assert "FIRST" not in env_of(pod)
    assert pod["metadata"]["namespace"] == "submarine-data-science"


async def test_volumes_configured_as_a_dict(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner(
        volumes={"data": {"name": "data", "emptyDir": {}}},
        volume_mounts={"data": {"name": "data", "mountPath": "/data"}},
    )
    pod = validate_by_kind(await spawner.grant_manifests(grant()))["Pod"]
    assert sorted(volumes_of(pod)) == ["data", TEAM_VOLUME]
    assert sorted(mounts_of(pod)) == ["data", TEAM_VOLUME]


def test_pvc_manifest_function() -> None:
    meta = manifests.metadata("submarine-team-x", "ns", {"a": "b"})
    pvc = manifests.persistent_volume_claim(meta, size="1Ti")
    kubernetes_validate.validate(pvc, K8S_VERSION, strict=True)
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert "storageClassName" not in pvc["spec"]


# --- packaging -----------------------------------------------------------------------


@pytest.mark.local
def test_importing_the_package_does_not_import_kubespawner() -> None:
    code = "import sys, submarine_spawner; sys.exit('kubespawner' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_entry_point_and_extras_are_declared() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    spawners = project["entry-points"]["jupyterhub.spawners"]
    assert spawners["submarine-kube"] == "submarine_spawner.kube:SubmarineKubeSpawner"
    assert "jupyterhub-kubespawner>=7,<8" in project["optional-dependencies"]["kube"]
    assert "kubernetes-validate>=1.30" in project["optional-dependencies"]["test"]
