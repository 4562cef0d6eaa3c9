"""What ``deploy/`` ships for Kubernetes: the manifests and the Helm values.

No cluster or Helm here: every manifest is validated against the Kubernetes 1.30 schemas
(strict), the Helm values are checked for what the Zero to JupyterHub chart needs and
then *dry-rendered* the way the chart's hub configuration reads them (services, roles,
``hub.config``, ``hub.extraConfig``), down to the pods the spawner would create. The
images and the systemd unit are checked in ``test_deploy_images_and_unit.py``; the
guide (docs/operations.md) is held to every file of ``deploy/`` here.
``test_manifests_against_a_cluster`` talks to a cluster when KUBECONFIG is set.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import kubernetes_validate
import kubespawner.spawner
import pytest
import yaml
from jupyterhub.objects import Hub as HubObject
from jupyterhub.scopes import scope_definitions
from traitlets.config import Config

from submarine_hub.service.app import SubmarineService

from .helpers.deploy import DOCKERFILES, K8S, UNIT, manifest_files
from .helpers.kube import FakeUser, session_grant, validate_by_kind
from .helpers.repo import REPO

K8S_VERSION = "1.30"
RELEASE_NAMESPACE = "submarine"


def load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def all_manifests() -> list[dict[str, Any]]:
    return [doc for path in manifest_files() for doc in load_yaml_docs(path)]


def values() -> dict[str, Any]:
    return yaml.safe_load((K8S / "config.yaml").read_text())


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in all_manifests() if m["kind"] == kind}


# --- the Kubernetes manifests -----------------------------------------------------------


def test_the_manifests_are_there() -> None:
    assert {p.name for p in manifest_files()} == {
        "rbac.yaml",
        "secret.example.yaml",
        "team-namespace.example.yaml",
    }


@pytest.mark.parametrize(
    ("path", "index"),
    [(p.name, i) for p in manifest_files() for i in range(len(load_yaml_docs(p)))],
)
def test_every_manifest_is_valid_kubernetes(path: str, index: int) -> None:
    manifest = load_yaml_docs(K8S / path)[index]
    kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    labels = manifest["metadata"].get("labels", {})
    assert labels.get("app.kubernetes.io/part-of") == "submarine-hub"


def test_validation_is_real() -> None:
    """A typo in a manifest fails the strict schema check."""
    [role, *_] = by_kind("ClusterRole").values()
    broken = {**role, "rules": [{**role["rules"][0], "verb": ["get"]}]}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def rights(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(apiGroup, resource, verb) a role grants."""
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_the_hub_may_manage_sessions_runs_and_services_in_team_namespaces() -> None:
    roles = by_kind("ClusterRole")
    workloads = rights(roles["submarine-hub-workloads"])
    crud = {"get", "list", "watch", "create", "delete"}
    for group, resource in [
        ("", "pods"),
        ("", "secrets"),
        ("", "services"),
        ("", "persistentvolumeclaims"),
        ("batch", "jobs"),
        ("apps", "deployments"),
        ("kubeflow.org", "pytorchjobs"),
        ("kubeflow.org", "tfjobs"),
    ]:
        assert {(group, resource, v) for v in crud} <= workloads, (group, resource)
    assert ("", "pods/log", "get") in workloads
    assert {("", "events", v) for v in ("get", "list", "watch")} <= workloads
    assert ("", "namespaces", "create") in rights(roles["submarine-hub-namespaces"])
    # nothing cluster-scoped but namespaces, no wildcard, no escalation
    for role in roles.values():
        for group, resource, verb in rights(role):
            assert "*" not in (group, resource, verb)
            assert verb not in ("escalate", "bind", "impersonate")
            assert resource not in ("clusterroles", "clusterrolebindings", "nodes")


def test_bindings_name_the_account_the_hub_runs_as() -> None:
    [account] = by_kind("ServiceAccount").values()
    assert values()["hub"]["serviceAccount"] == {
        "create": False,
        "name": account["metadata"]["name"],
    }
    namespace = account["metadata"]["namespace"]
    assert namespace == RELEASE_NAMESPACE
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert kustomization["namespace"] == namespace
    assert by_kind("Secret")["submarine-secrets"]["metadata"]["namespace"] == namespace
    roles = by_kind("ClusterRole")
    bindings = [*by_kind("ClusterRoleBinding").values(), *by_kind("RoleBinding").values()]
    assert {b["roleRef"]["name"] for b in bindings} == set(roles)
    for binding in bindings:
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": namespace}
        ]


def test_the_example_team_namespace_is_what_the_spawner_names_it() -> None:
    from submarine_hub.backends.kube.names import LABEL_TEAM, labels, render_name

    [namespace] = by_kind("Namespace").values()
    team = namespace["metadata"]["labels"][LABEL_TEAM]
    template = "submarine-{team}"
    assert template in values()["hub"]["extraConfig"]["10-submarine.py"]
    name = render_name(template, team=team, trait="team_namespace_template", namespace=True)
    assert namespace["metadata"]["name"] == name
    assert labels(team=team).items() <= namespace["metadata"]["labels"].items()
    [binding] = by_kind("RoleBinding").values()
    assert binding["metadata"]["namespace"] == name


def kustomize(path: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl is not installed: cannot render with 'kubectl kustomize'")
    out = subprocess.run(
        [kubectl, "kustomize", str(path)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def test_kustomize_renders_valid_manifests_in_any_namespace(tmp_path: Path) -> None:
    """What docs/operations.md says to run, and the same into another namespace."""
    rendered = kustomize(K8S)
    assert sorted(m["kind"] for m in rendered) == sorted(
        m["kind"] for m in load_yaml_docs(K8S / "rbac.yaml")
    )
    shutil.copytree(K8S, tmp_path / "base")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text("namespace: ml-hub\nresources: [../base]\n")
    for manifest in [*rendered, *kustomize(overlay)]:
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
    for binding in (m for m in kustomize(overlay) if m["kind"] == "ClusterRoleBinding"):
        assert binding["subjects"][0]["namespace"] == "ml-hub"


# --- the Helm values --------------------------------------------------------------------

# The Zero to JupyterHub chart's (4.x) keys this file may use; a typo is silently ignored
# by the chart, so it fails here.
CHART_KEYS = {
    "": {
        "hub", "proxy", "singleuser", "cull", "scheduling", "prePuller", "ingress", "rbac",
        "imagePullSecret", "imagePullSecrets", "debug", "global", "custom",
        "fullnameOverride", "nameOverride", "httpRoute",
    },
    "hub": {
        "image", "serviceAccount", "db", "extraEnv", "services", "loadRoles", "service",
        "networkPolicy", "config", "extraConfig", "extraFiles", "extraVolumes",
        "extraVolumeMounts", "resources", "nodeSelector", "tolerations", "baseUrl",
        "cookieSecret", "existingSecret", "templatePaths", "templateVars", "pdb", "labels",
        "annotations", "args", "command", "initContainers", "extraContainers",
        "concurrentSpawnLimit", "consecutiveFailureLimit", "activeServerLimit",
        "allowNamedServers", "namedServerLimitPerUser", "authenticatePrometheus",
        "redirectToServer", "shutdownOnLogout", "livenessProbe", "readinessProbe",
        "podSecurityContext", "containerSecurityContext", "deploymentStrategy",
        "lifecycle", "revisionHistoryLimit", "extraPodSpec",
    },
    "singleuser": {
        "image", "cmd", "defaultUrl", "uid", "fsGid", "storage", "networkPolicy",
        "extraEnv", "extraLabels", "extraAnnotations", "cpu", "memory", "extraResource",
        "profileList", "serviceAccountName", "startTimeout", "extraFiles", "nodeSelector",
        "extraTolerations", "extraPodConfig", "lifecycleHooks", "initContainers",
        "extraContainers", "allowPrivilegeEscalation", "cloudMetadata", "networkTools",
        "events", "podNameTemplate", "extraNodeAffinity", "extraPodAffinity",
        "extraPodAntiAffinity",
    },
}  # fmt: skip


def test_values_use_only_keys_the_chart_knows() -> None:
    v = values()
    assert set(v) <= CHART_KEYS[""]
    assert set(v["hub"]) <= CHART_KEYS["hub"]
    assert set(v["singleuser"]) <= CHART_KEYS["singleuser"]
    assert set(v["hub"]["db"]) <= {"type", "pvc", "url", "password", "upgrade"}
    assert v["hub"]["db"]["type"] in {"sqlite-pvc", "sqlite-memory", "mysql", "postgres", "other"}


@pytest.mark.parametrize("part", ["hub", "singleuser"])
def test_images_are_ours_and_pinned(part: str) -> None:
    image = values()[part]["image"]
    assert image["name"].endswith(f"submarine-hub/{part}")
    assert isinstance(image["tag"], str) and image["tag"] not in ("", "latest")


def test_services_roles_and_scopes_fit_together() -> None:
    hub = values()["hub"]
    services = hub["services"]
    assert {"submarine", "submarine-spawner"} <= set(services)
    submarine = services["submarine"]
    assert submarine["url"].endswith(":10101")
    assert submarine["command"][:3] == ["python3", "-m", "submarine_hub.service.supervisor"]
    assert {"name": "submarine", "port": 10101, "targetPort": 10101} in hub["service"]["extraPorts"]
    custom = {"custom:submarine:sessions"}
    for name, role in hub["loadRoles"].items():
        for member in role.get("services", []):
            assert member in services, f"role {name}: no service {member}"
        for scope in role["scopes"]:
            base, _, where = scope.partition("!")
            assert base in scope_definitions or base in custom, f"role {name}: {scope}"
            if where.startswith("service="):
                assert where.removeprefix("service=") in services
    assert hub["loadRoles"]["user"]["scopes"] == ["self", "access:services!service=submarine"]


def test_secrets_the_hub_reads_are_in_the_example_secret() -> None:
    secret = by_kind("Secret")["submarine-secrets"]
    env = values()["hub"]["extraEnv"]
    refs = {
        (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for e in env.values()
        if isinstance(e, dict)
    }
    assert refs == {("submarine-secrets", key) for key in secret["stringData"]}
    assert {"SUBMARINE_DB_URL", "SUBMARINE_CRYPT_KEY", "SUBMARINE_ARTIFACT_STORE_URL"} <= set(env)
    assert {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(env)


def test_network_policies_open_the_service_port() -> None:
    v = values()
    ports = lambda rules: {p["port"] for r in rules for p in r["ports"]}  # noqa: E731
    assert 10101 in ports(v["hub"]["networkPolicy"]["ingress"])
    assert 10101 in ports(v["singleuser"]["networkPolicy"]["egress"])
    # the proxy also reaches sessions (8888) and model servers (8080) in team namespaces
    assert {10101, 8888, 8080} <= ports(v["proxy"]["chp"]["networkPolicy"]["egress"])


# --- a dry render of the hub's configuration --------------------------------------------

FAKE_SECRET_ENV = {
    "SUBMARINE_DB_URL": "postgresql://submarine:pw@postgres.example.internal/submarine",
    "SUBMARINE_CRYPT_KEY": "ab" * 32,
    "SUBMARINE_ARTIFACT_STORE_URL": "s3://submarine-artifacts/",
    "AWS_ENDPOINT_URL": "https://s3.example.internal",
    "AWS_ACCESS_KEY_ID": "key-id",
    "AWS_SECRET_ACCESS_KEY": "key-secret",
    "OAUTH_CLIENT_ID": "client-id",
    "OAUTH_CLIENT_SECRET": "client-secret",
}


def chart_hub_config(v: dict[str, Any], namespace: str) -> Config:
    """The hub's traitlets config as the chart's jupyterhub_config.py builds it from the
    values, for what this deployment uses: the single-user image and command, services
    (each with a generated token), roles, ``hub.config``, then ``hub.extraConfig`` run in
    key order. The hub pod's environment (``hub.extraEnv``) must be set by the caller."""
    c = Config()
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    c.KubeSpawner.namespace = namespace
    user = v["singleuser"]
    c.KubeSpawner.image = f"{user['image']['name']}:{user['image']['tag']}"
    c.Spawner.cmd = user["cmd"]
    c.Spawner.default_url = user["defaultUrl"]
    c.KubeSpawner.uid = user["uid"]
    c.KubeSpawner.fs_gid = user["fsGid"]
    c.JupyterHub.services = [
        {**service, "name": name, "api_token": secrets.token_hex(16)}
        for name, service in v["hub"]["services"].items()
    ]
    c.JupyterHub.load_roles = [
        {**role, "name": name} for name, role in v["hub"]["loadRoles"].items()
    ]
    for cls, traits in v["hub"]["config"].items():
        c[cls].update(traits)
    for key in sorted(v["hub"]["extraConfig"]):
        exec(compile(v["hub"]["extraConfig"][key], key, "exec"), {"c": c, "__name__": key})
    return c


@pytest.fixture
def hub_pod_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The hub pod's environment: literal extraEnv values, the secret's, POD_NAMESPACE."""
    env = {k: v for k, v in values()["hub"]["extraEnv"].items() if isinstance(v, str)}
    env.update(FAKE_SECRET_ENV, POD_NAMESPACE=RELEASE_NAMESPACE)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(kubespawner.spawner, "load_config", lambda **kwargs: None)
    yield env


def test_the_hub_config_selects_the_submarine_spawner_and_service(
    hub_pod_env: dict[str, str],
) -> None:
    c = chart_hub_config(values(), RELEASE_NAMESPACE)
    [spawner] = entry_points(group="jupyterhub.spawners", name=c.JupyterHub.spawner_class)
    assert spawner.value == "submarine_spawner.kube:SubmarineKubeSpawner"
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert c.Spawner.submarine_token == services["submarine-spawner"]["api_token"]
    hub_host = f"hub.{RELEASE_NAMESPACE}.svc.cluster.local"
    assert c.JupyterHub.hub_connect_url == f"http://{hub_host}:8081"
    assert c.Spawner.submarine_api_url == f"http://{hub_host}:10101/services/submarine/api/v1"
    assert "custom:submarine:sessions" in c.JupyterHub.custom_scopes

    # the managed service gets the secrets through its environment, not its command line
    submarine = services["submarine"]
    assert submarine["environment"] == {
        **{k: v for k, v in FAKE_SECRET_ENV.items() if not k.startswith("OAUTH_")},
        "SUBMARINE_ARTIFACT_STORE_OPTIONS": json.dumps(
            {"endpoint_url": FAKE_SECRET_ENV["AWS_ENDPOINT_URL"]}
        ),
    }
    assert not any(value in " ".join(submarine["command"]) for value in FAKE_SECRET_ENV.values())
    app = SubmarineService()
    app.parse_command_line(submarine["command"][3:])
    assert (app.url, app.data_dir) == ("http://0.0.0.0:10101", "/srv/jupyterhub/submarine")
    # profiles are the images sessions and runs use: nothing is built in the service
    assert app.make_environment_backend().builds is False
    backend = app.make_experiment_backend()  # runs are Jobs in the teams' namespaces
    assert backend.name == "kubernetes" and backend.namespace_template == "submarine-{team}"
    assert app.db_url == FAKE_SECRET_ENV["SUBMARINE_DB_URL"]
    assert app.crypt_key == FAKE_SECRET_ENV["SUBMARINE_CRYPT_KEY"]


async def test_the_hub_config_gives_valid_team_sessions(hub_pod_env: dict[str, str]) -> None:
    from submarine_spawner.kube import SubmarineKubeSpawner

    c = chart_hub_config(values(), RELEASE_NAMESPACE)
    spawner = SubmarineKubeSpawner(config=c, user=FakeUser("alice"), hub=HubObject(), _mock=True)
    manifests = validate_by_kind(await spawner.grant_manifests(session_grant(team="data-science")))
    assert manifests["Namespace"]["metadata"]["name"] == "submarine-data-science"
    pod = manifests["Pod"]
    assert pod["metadata"]["namespace"] == "submarine-data-science"
    [notebook] = [x for x in pod["spec"]["containers"] if x["name"] == "notebook"]
    image = values()["singleuser"]["image"]
    assert notebook["image"] == f"{image['name']}:{image['tag']}"
    env = {e["name"]: e.get("value") for e in notebook["env"]}
    assert env["SUBMARINE_API_URL"] == c.Spawner.submarine_api_url
    pvc = manifests["PersistentVolumeClaim"]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert "storageClassName" not in pvc["spec"]  # "" in the values: the cluster's default


# --- a real cluster -------------------------------------------------------------------------


async def test_manifests_against_a_cluster() -> None:
    """Server-side dry run of every manifest (namespaced ones into one that exists)."""
    kubeconfig = os.environ.get("KUBECONFIG")
    if not kubeconfig:
        pytest.skip("no Kubernetes cluster: set KUBECONFIG to run this test")
    from kubernetes_asyncio import client, config, utils

    namespace = os.environ.get("SUBMARINE_TEST_K8S_NAMESPACE", "default")
    configuration = client.Configuration()
    await config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    async with client.ApiClient(configuration) as api:
        for manifest in all_manifests():
            if manifest["metadata"].get("namespace"):
                manifest["metadata"]["namespace"] = namespace
            for subject in manifest.get("subjects", []):
                subject["namespace"] = namespace
            await utils.create_from_dict(api, manifest, namespace=namespace, dry_run="All")


# --- the guide --------------------------------------------------------------------------------


def test_the_guide_is_linked_and_names_files_that_exist() -> None:
    guide = (REPO / "docs" / "operations.md").read_text()
    assert "(docs/operations.md)" in (REPO / "README.md").read_text()
    assert "(operations.md)" in (REPO / "docs" / "README.md").read_text()
    # (not kubectl's deploy/hub: a Deployment)
    pattern = r"(?<![\w/-])((?:deploy/(?:kubernetes|docker|systemd)|binder)/?[\w./-]*[\w-])"
    mentioned = set(re.findall(pattern, guide))
    assert len(mentioned) >= 10
    for path in mentioned:
        assert (REPO / path).exists(), f"docs/operations.md names {path}, which is not there"
    for path in (*manifest_files(), *DOCKERFILES, UNIT, K8S / "config.yaml"):
        assert str(path.relative_to(REPO)) in guide, f"{path} is not in the guide"
