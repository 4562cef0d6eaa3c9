"""``submarine-kube``: sessions as Kubernetes pods, on top of ``jupyterhub-kubespawner``.

The platform admits a session and grants it a team, an environment, resources and
credentials (:class:`~submarine_spawner.grant.SessionGrant`). This module turns a grant
into Kubernetes objects:

- the pod, built by KubeSpawner's own ``get_pod_manifest()`` once the grant is applied
  to the spawner's traits (image, CPU/memory/GPU, labels, volumes, environment);
- a ``ReadWriteMany`` PersistentVolumeClaim per team, mounted in every session of the team;
- a Secret per session holding the grant's credential files, mounted read-only;
- the team's Namespace, when ``namespace_per_team`` is on.

The decisions are made by small pure functions (:func:`plan_session` and its helpers)
that take a grant and :class:`KubeSettings` and return plain data, so they are tested
without a cluster. Only this module imports kubespawner: ``import submarine_spawner``
works on hubs without it.
"""

from __future__ import annotations

import asyncio
import base64
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from jupyterhub.utils import exponential_backoff, maybe_future
from kubernetes_asyncio.client.rest import ApiException
from kubespawner import KubeSpawner
from kubespawner.slugs import is_valid_label, safe_slug
from traitlets import Bool, List, Unicode, validate

from .grant import SessionGrant
from .mixin import SubmarineSpawnerMixin

LABEL_PREFIX = "submarine.apache.org"
LABEL_USER = f"{LABEL_PREFIX}/user"
LABEL_TEAM = f"{LABEL_PREFIX}/team"
LABEL_ENVIRONMENT = f"{LABEL_PREFIX}/environment"
LABEL_SESSION = f"{LABEL_PREFIX}/session"
LABEL_PART_OF = "app.kubernetes.io/part-of"
PART_OF = "submarine-hub"

TEAM_VOLUME = "submarine-team"
CREDENTIALS_VOLUME = "submarine-credentials"
CREDENTIALS_DIR_ENV = "SUBMARINE_CREDENTIALS_DIR"

#: The longest team slug put into ``{team}``: leaves room for a prefix such as
#: ``submarine-team-`` within the 63 characters of a Kubernetes name.
TEAM_SLUG_MAX = 40
#: A Secret holds at most 1 MiB.
SECRET_MAX_BYTES = 1024 * 1024
#: ``defaultMode`` of the credentials volume; every item also carries its own mode.
CREDENTIALS_DEFAULT_MODE = 0o400

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SECRET_KEY_UNSAFE = re.compile(r"[^-._a-zA-Z0-9]")
# Kubernetes 1.30's rule for container environment variable names.
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- names and labels ----------------------------------------------------------------


def is_dns_label(value: str) -> bool:
    """An RFC 1123 label: what a Namespace's name must be (63 characters at most)."""
    return len(value) <= 63 and bool(_DNS_LABEL.match(value))


def is_dns_subdomain(value: str) -> bool:
    """An RFC 1123 subdomain: what a PVC's or Secret's name must be."""
    return len(value) <= 253 and bool(_DNS_SUBDOMAIN.match(value))


def check_team_name(team: str) -> None:
    """Refuse a team name no Kubernetes name or label can stand for.

    Refused, with a :class:`ValueError` saying why:

    - an empty or blank name;
    - a name with control characters;
    - a name without any ASCII letter or digit (``"___"``, ``"数据"``): escaping would
      leave nothing of it, only a hash, in the namespace, volume and label.

    Every other name is escaped (:func:`team_slug`, :func:`label_value`).
    """
    if not isinstance(team, str) or not team.strip():
        raise ValueError("Team name is empty: a session needs a team.")
    if _CONTROL.search(team):
        raise ValueError(f"Team name {team!r} contains control characters.")
    if not re.search(r"[A-Za-z0-9]", team):
        raise ValueError(
            f"Team name {team!r} has no ASCII letter or digit: it cannot become a "
            "Kubernetes namespace, volume name or label."
        )


def team_slug(team: str) -> str:
    """The team's name as it goes into Kubernetes names: ``{team}`` in the templates.

    A name that already is a DNS label of at most :data:`TEAM_SLUG_MAX` characters is
    kept (``data-science``); any other becomes lowercase letters, digits and dashes
    with a hash of the real name, so two teams never share a slug
    (``Data_Science.Team`` becomes ``data-science-team---<hash>``).
    """
    check_team_name(team)
    return safe_slug(team, is_valid=is_dns_label, max_length=TEAM_SLUG_MAX)


def label_value(value: str) -> str:
    """``value`` as a valid label value (63 characters at most), escaped only if needed."""
    return safe_slug(value, is_valid=is_valid_label, max_length=63)


def render_template(template: str, *, team: str, trait: str) -> str:
    """Fill ``{team}`` (the team slug) in a template of trait ``trait``."""
    try:
        return template.format(team=team)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"{trait} {template!r}: only {{team}} can be used ({e}).") from e


def render_name(template: str, *, team: str, trait: str, namespace: bool = False) -> str:
    """Fill ``{team}`` in a name template, and check the result is a valid name."""
    name = render_template(template, team=team, trait=trait)
    ok = is_dns_label(name) if namespace else is_dns_subdomain(name)
    if not ok:
        kind = "namespace (RFC 1123 label, 63 characters)" if namespace else "object name"
        raise ValueError(f"{trait} {template!r} gives {name!r}, not a valid Kubernetes {kind}.")
    return name


def session_secret_name(session_id: str) -> str:
    """The name of a session's credentials Secret."""
    return "submarine-session-" + safe_slug(str(session_id), is_valid=is_dns_label, max_length=40)


def grant_labels(grant: SessionGrant) -> dict[str, str]:
    """The labels of every object of the session: user, team, environment, part-of."""
    check_team_name(grant.team)
    labels = {
        LABEL_PART_OF: PART_OF,
        LABEL_USER: label_value(grant.user),
        LABEL_TEAM: label_value(grant.team),
    }
    if grant.environment is not None:
        labels[LABEL_ENVIRONMENT] = label_value(grant.environment.name)
    return labels


def team_labels(team: str) -> dict[str, str]:
    """The labels of a team's objects (its namespace and volume)."""
    check_team_name(team)
    return {LABEL_PART_OF: PART_OF, LABEL_TEAM: label_value(team)}


# --- image, resources, environment ---------------------------------------------------


def grant_image(grant: SessionGrant, default_image: str) -> str:
    """The environment profile's image, else the spawner's configured one."""
    if grant.environment is not None and grant.environment.image:
        return grant.environment.image
    return default_image


def grant_resources(grant: SessionGrant, gpu_resource_name: str) -> dict[str, Any]:
    """KubeSpawner trait values for the granted resources.

    Guarantees equal limits: the platform admitted the session against its team's
    quota, so the cluster reserves what was granted. A resource the grant leaves
    unlimited (``None``) is left out: the spawner's own configuration applies.
    GPUs go into ``extra_resource_limits`` (Kubernetes sets the request of an
    extended resource to its limit).
    """
    r = grant.resources
    out: dict[str, Any] = {}
    if r.cpu is not None:
        if r.cpu <= 0:
            raise ValueError(f"Granted CPU must be positive, not {r.cpu}.")
        out["cpu_limit"] = out["cpu_guarantee"] = float(r.cpu)
    if r.memory is not None:
        if r.memory <= 0:
            raise ValueError(f"Granted memory must be positive, not {r.memory}.")
        out["mem_limit"] = out["mem_guarantee"] = int(r.memory)
    if r.gpus < 0:
        raise ValueError(f"Granted GPUs cannot be negative: {r.gpus}.")
    out["extra_resource_limits"] = {gpu_resource_name: str(r.gpus)} if r.gpus else {}
    return out


def grant_env(grant: SessionGrant, credentials_mount_path: str) -> dict[str, str]:
    """The container's environment from the grant, plus where credential files are."""
    env: dict[str, str] = {}
    for name, value in grant.env.items():
        if not _ENV_NAME.match(name):
            raise ValueError(
                f"Environment variable name {name!r} is not valid in a Kubernetes container."
            )
        env[name] = str(value)
    if grant.files:
        env[CREDENTIALS_DIR_ENV] = credentials_mount_path
    return env


# --- credentials ---------------------------------------------------------------------


def _check_credential_path(path: str) -> str:
    if (
        not path
        or path.startswith("/")
        or _CONTROL.search(path)
        or "{" in path
        or "}" in path
        or any(part in ("", ".", "..") for part in path.split("/"))
        or path.startswith("..")
    ):
        raise ValueError(
            f"Credential file path {path!r} must be relative, without '.', '..' or empty "
            "parts, braces or control characters."
        )
    return posixpath.normpath(path)


def credential_items(grant: SessionGrant) -> list[dict[str, Any]]:
    """``items`` of the credentials volume: Secret key, relative path and mode per file."""
    items: list[dict[str, Any]] = []
    keys: set[str] = set()
    paths: set[str] = set()
    for i, f in enumerate(grant.files):
        path = _check_credential_path(f.path)
        if path in paths:
            raise ValueError(f"Credential file {path!r} is granted twice.")
        paths.add(path)
        if not 0 <= f.mode <= 0o777:
            raise ValueError(f"Credential file {path!r}: mode {f.mode:o} is not in 0..0777.")
        key = _SECRET_KEY_UNSAFE.sub("_", path)[:240]
        if key in keys:
            key = f"{key}-{i}"
        keys.add(key)
        items.append({"key": key, "path": path, "mode": f.mode})
    return items


def credentials_secret_manifest(
    grant: SessionGrant, *, name: str, namespace: str, labels: Mapping[str, str]
) -> dict[str, Any] | None:
    """The session's Secret holding its credential files; ``None`` without files."""
    if not grant.files:
        return None
    data = {
        item["key"]: base64.b64encode(f.content).decode("ascii")
        for item, f in zip(credential_items(grant), grant.files, strict=True)
    }
    size = sum(len(f.content) for f in grant.files)
    if size > SECRET_MAX_BYTES:
        raise ValueError(
            f"Credential files take {size} bytes: a Kubernetes Secret holds at most 1 MiB."
        )
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**labels, LABEL_SESSION: label_value(grant.session_id)},
        },
        "type": "Opaque",
        "data": data,
    }


def credentials_volume(
    grant: SessionGrant, *, secret_name: str, mount_path: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The pod's volume and read-only mount for the session Secret; ``None`` without files."""
    if not grant.files:
        return None
    volume = {
        "name": CREDENTIALS_VOLUME,
        "secret": {
            "secretName": secret_name,
            "defaultMode": CREDENTIALS_DEFAULT_MODE,
            "items": credential_items(grant),
        },
    }
    mount = {"name": CREDENTIALS_VOLUME, "mountPath": mount_path, "readOnly": True}
    return volume, mount


# --- team volume and namespace -------------------------------------------------------


def team_pvc_manifest(
    *,
    name: str,
    namespace: str,
    size: str,
    labels: Mapping[str, str],
    storage_class: str | None = None,
    access_modes: tuple[str, ...] | list[str] = ("ReadWriteMany",),
) -> dict[str, Any]:
    """The team's PersistentVolumeClaim, shared by the sessions of its members."""
    spec: dict[str, Any] = {
        "accessModes": list(access_modes),
        "resources": {"requests": {"storage": size}},
    }
    if storage_class:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": spec,
    }


def team_volume(*, pvc_name: str, mount_path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pod's volume and mount for the team's claim."""
    volume = {"name": TEAM_VOLUME, "persistentVolumeClaim": {"claimName": pvc_name}}
    return volume, {"name": TEAM_VOLUME, "mountPath": mount_path}


def team_namespace_manifest(*, name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """The team's Namespace."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": dict(labels)},
    }


# --- the whole plan ------------------------------------------------------------------


@dataclass(frozen=True)
class KubeSettings:
    """What the plan depends on besides the grant: the spawner's configuration."""

    default_image: str
    namespace: str
    namespace_per_team: bool = False
    team_namespace_template: str = "submarine-{team}"
    team_volume_enabled: bool = True
    team_pvc_name_template: str = "submarine-team-{team}"
    team_volume_mount_path: str = "/home/jovyan/teams/{team}"
    team_volume_size: str = "10Gi"
    team_volume_storage_class: str | None = None
    team_volume_access_modes: tuple[str, ...] = ("ReadWriteMany",)
    credentials_mount_path: str = "/home/jovyan/.submarine/credentials"
    gpu_resource_name: str = "nvidia.com/gpu"


@dataclass(frozen=True)
class SessionPlan:
    """Everything a grant decides about a session's pod and the objects beside it."""

    team: str  # the team slug
    namespace: str
    labels: dict[str, str]
    image: str
    resources: dict[str, Any]  # KubeSpawner trait name -> value
    env: dict[str, str]
    volumes: list[dict[str, Any]]
    volume_mounts: list[dict[str, Any]]
    secret_name: str | None
    #: Objects to create before the pod, in order: Namespace, PVC, Secret (each if any).
    manifests: list[dict[str, Any]] = field(default_factory=list)


def plan_session(grant: SessionGrant, settings: KubeSettings) -> SessionPlan:
    """Decide a session's pod settings and supporting objects. Raises ValueError."""
    team = team_slug(grant.team)
    labels = grant_labels(grant)
    manifests: list[dict[str, Any]] = []

    if settings.namespace_per_team:
        namespace = render_name(
            settings.team_namespace_template,
            team=team,
            trait="team_namespace_template",
            namespace=True,
        )
        manifests.append(team_namespace_manifest(name=namespace, labels=team_labels(grant.team)))
    else:
        namespace = settings.namespace

    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if settings.team_volume_enabled:
        pvc_name = render_name(
            settings.team_pvc_name_template, team=team, trait="team_pvc_name_template"
        )
        manifests.append(
            team_pvc_manifest(
                name=pvc_name,
                namespace=namespace,
                size=settings.team_volume_size,
                labels=team_labels(grant.team),
                storage_class=settings.team_volume_storage_class,
                access_modes=settings.team_volume_access_modes,
            )
        )
        volume, mount = team_volume(
            pvc_name=pvc_name,
            mount_path=render_template(
                settings.team_volume_mount_path, team=team, trait="team_volume_mount_path"
            ),
        )
        volumes.append(volume)
        mounts.append(mount)

    secret_name = None
    secret = credentials_secret_manifest(
        grant, name=session_secret_name(grant.session_id), namespace=namespace, labels=labels
    )
    if secret is not None:
        secret_name = secret["metadata"]["name"]
        manifests.append(secret)
        volume_and_mount = credentials_volume(
            grant, secret_name=secret_name, mount_path=settings.credentials_mount_path
        )
        assert volume_and_mount is not None
        volumes.append(volume_and_mount[0])
        mounts.append(volume_and_mount[1])

    return SessionPlan(
        team=team,
        namespace=namespace,
        labels=labels,
        image=grant_image(grant, settings.default_image),
        resources=grant_resources(grant, settings.gpu_resource_name),
        env=grant_env(grant, settings.credentials_mount_path),
        volumes=volumes,
        volume_mounts=mounts,
        secret_name=secret_name,
        manifests=manifests,
    )


def _with_named(
    base: list[Any] | dict[str, Any], extra: list[dict[str, Any]]
) -> list[Any] | dict[str, Any]:
    """Add ``extra`` items to a KubeSpawner ``volumes``/``volume_mounts`` value (list or dict)."""
    if isinstance(base, dict):
        return {**base, **{item["name"]: item for item in extra}}
    names = {item["name"] for item in extra}
    return [v for v in base if not (isinstance(v, dict) and v.get("name") in names)] + extra


# --- the spawner ---------------------------------------------------------------------


class SubmarineKubeSpawner(SubmarineSpawnerMixin, KubeSpawner):
    """Run each session as a pod shaped by the platform's grant.

    Set ``c.JupyterHub.spawner_class = "submarine-kube"``. Everything KubeSpawner
    offers is configured as usual (``c.KubeSpawner.*`` or ``c.SubmarineKubeSpawner.*``);
    the grant then decides the image, resources, labels, team volume, credentials and
    (with ``namespace_per_team``) the namespace, overriding the configured values.
    """

    namespace_per_team = Bool(
        False,
        help="""Run each team's sessions in its own namespace (``team_namespace_template``),
        created when first needed. The hub then needs the right to create namespaces and,
        in each of them, pods, secrets and persistent volume claims.""",
    ).tag(config=True)

    team_namespace_template = Unicode(
        "submarine-{team}",
        help="""The team's namespace when ``namespace_per_team`` is on. ``{team}`` is the
        team's name made a valid Kubernetes name (lowercase, escaped if needed).""",
    ).tag(config=True)

    team_volume_enabled = Bool(
        True,
        help="Give each team a shared volume (a PersistentVolumeClaim) mounted in its sessions.",
    ).tag(config=True)

    team_pvc_name_template = Unicode(
        "submarine-team-{team}",
        help="The name of a team's PersistentVolumeClaim; ``{team}`` as in the namespace.",
    ).tag(config=True)

    team_volume_mount_path = Unicode(
        "/home/jovyan/teams/{team}",
        help="Where the team volume is mounted in the session; ``{team}`` is the team slug.",
    ).tag(config=True)

    team_volume_size = Unicode(
        "10Gi", help="The storage a team's claim requests, as a Kubernetes quantity."
    ).tag(config=True)

    team_volume_storage_class = Unicode(
        None,
        allow_none=True,
        help="""The storage class of team claims; it must offer ``ReadWriteMany``
        (NFS, CephFS, Azure Files, EFS...). ``None``: the cluster's default class.""",
    ).tag(config=True)

    team_volume_access_modes = List(
        Unicode(),
        default_value=["ReadWriteMany"],
        help="Access modes of team claims: every session of the team mounts the same claim.",
    ).tag(config=True)

    credentials_mount_path = Unicode(
        "/home/jovyan/.submarine/credentials",
        help="""Where a session's credential files are mounted, read-only, each at its
        relative path with its mode. Sessions also find it in $SUBMARINE_CREDENTIALS_DIR.""",
    ).tag(config=True)

    gpu_resource_name = Unicode(
        "nvidia.com/gpu",
        help="The extended resource that granted GPUs are limited as (e.g. ``amd.com/gpu``).",
    ).tag(config=True)

    @validate("team_volume_mount_path", "credentials_mount_path")
    def _absolute_path(self, proposal: Any) -> str:
        if not str(proposal["value"]).startswith("/"):
            raise ValueError(f"{proposal['trait'].name} must be an absolute path.")
        return proposal["value"]

    # traits the grant sets; undone before the next grant is applied
    _GRANTED_TRAITS = (
        "namespace",
        "image",
        "cpu_limit",
        "cpu_guarantee",
        "mem_limit",
        "mem_guarantee",
        "extra_resource_limits",
        "extra_labels",
        "volumes",
        "volume_mounts",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._granted: dict[str, tuple[Any, Any]] = {}
        self._submarine_plan: SessionPlan | None = None
        self._submarine_secret_name: str | None = None
        self._creating_pod = False

    # -- from grant to traits --

    def kube_settings(self) -> KubeSettings:
        """The settings :func:`plan_session` needs, from this spawner's traits."""
        return KubeSettings(
            default_image=self.image,
            namespace=self.namespace,
            namespace_per_team=self.namespace_per_team,
            team_namespace_template=self.team_namespace_template,
            team_volume_enabled=self.team_volume_enabled,
            team_pvc_name_template=self.team_pvc_name_template,
            team_volume_mount_path=self.team_volume_mount_path,
            team_volume_size=self.team_volume_size,
            team_volume_storage_class=self.team_volume_storage_class,
            team_volume_access_modes=tuple(self.team_volume_access_modes),
            credentials_mount_path=self.credentials_mount_path,
            gpu_resource_name=self.gpu_resource_name,
        )

    def _undo_grant(self) -> None:
        for name, (before, after) in self._granted.items():
            if getattr(self, name) == after:  # not changed since (e.g. by a profile)
                setattr(self, name, before)
        self._granted = {}
        self._submarine_plan = None

    def _set_granted(self, name: str, value: Any) -> None:
        before = getattr(self, name)
        setattr(self, name, value)
        self._granted[name] = (before, getattr(self, name))

    def apply_grant(self, grant: SessionGrant) -> SessionPlan:
        """Set this spawner's traits from ``grant``; undoes the previous grant's first.

        Replaces the mixin's version (CPU and memory limits), which sets the same traits
        untracked: this one records them, so that the next grant starts from the
        configured values.
        """
        if self.namespace_per_team and self.enable_user_namespaces:
            raise ValueError("namespace_per_team and enable_user_namespaces exclude each other.")
        self._undo_grant()
        plan = plan_session(grant, self.kube_settings())
        self._set_granted("namespace", plan.namespace)
        self._set_granted("image", plan.image)
        for name, value in plan.resources.items():
            if name == "extra_resource_limits":
                limits = {
                    k: v
                    for k, v in self.extra_resource_limits.items()
                    if k != self.gpu_resource_name
                }
                value = {**limits, **value}
            self._set_granted(name, value)
        self._set_granted("extra_labels", {**self.extra_labels, **plan.labels})
        self._set_granted("volumes", _with_named(self.volumes, plan.volumes))
        self._set_granted("volume_mounts", _with_named(self.volume_mounts, plan.volume_mounts))
        self.dns_name = self.dns_name_template.format(namespace=self.namespace, name=self.pod_name)
        self._submarine_plan = plan
        return plan

    def get_env(self) -> dict[str, Any]:
        env = super().get_env()
        if self._submarine_plan is not None:
            env.update(self._submarine_plan.env)
        return env

    async def grant_manifests(self, grant: SessionGrant) -> list[dict[str, Any]]:
        """Every object this spawner creates for ``grant``, as plain data, in creation order.

        The Namespace (with ``namespace_per_team``), the team PVC, the session Secret,
        then the pod from KubeSpawner's ``get_pod_manifest()`` (and ``modify_pod_hook``).
        Applies the grant to this spawner's traits, as starting the session does.
        """
        plan = self.apply_grant(grant)
        pod = await self.get_pod_manifest()
        if self.modify_pod_hook:
            pod = await maybe_future(self.modify_pod_hook(self, pod))
        pod_data = self.api.api_client.sanitize_for_serialization(pod)
        pod_data["metadata"]["namespace"] = self.namespace
        return [*plan.manifests, pod_data]

    # -- in the cluster --

    def _current_grant(self) -> SessionGrant | None:
        return getattr(self, "grant", None)

    async def load_user_options(self) -> None:
        """Apply the grant, and create its objects, before KubeSpawner makes the pod.

        The mixin's ``start()`` has applied the grant already; KubeSpawner's ``_start``
        then calls this first, before it settles the namespace, starts watching it and
        creates the pod. Profile overrides (``profile_list``) are loaded here, so the grant
        is applied again over them.
        """
        await super().load_user_options()
        grant = self._current_grant()
        if grant is None:
            self.log.warning(
                "No session grant for %s: starting as a plain KubeSpawner", self._log_name
            )
            self._undo_grant()
            return
        plan = self.apply_grant(grant)
        await self._create_grant_objects(plan)

    async def _create_grant_objects(self, plan: SessionPlan) -> None:
        for manifest in plan.manifests:
            kind, name = manifest["kind"], manifest["metadata"]["name"]
            if kind == "Secret":
                # a Secret left by an earlier start of the same session holds old files
                await exponential_backoff(
                    partial(self._ensure_not_exists, "secret", name),
                    f"Could not delete old secret {name}",
                    timeout=self.k8s_api_request_retry_timeout,
                )
                self._submarine_secret_name = name
            await exponential_backoff(
                partial(self._make_create_object_request, manifest),
                f"Could not create {kind} {name}",
                timeout=self.k8s_api_request_retry_timeout,
            )

    async def _make_create_object_request(self, manifest: dict[str, Any]) -> bool:
        """Create a Namespace, PVC or Secret; True when it exists (for exponential_backoff)."""
        kind, meta = manifest["kind"], manifest["metadata"]
        name, namespace = meta["name"], meta.get("namespace")
        if kind == "Namespace":
            request = self.api.create_namespace(body=manifest)
        elif kind == "PersistentVolumeClaim":
            request = self.api.create_namespaced_persistent_volume_claim(namespace, manifest)
        elif kind == "Secret":
            request = self.api.create_namespaced_secret(namespace, manifest)
        else:
            raise ValueError(f"Cannot create a {kind}")
        self.log.info("Creating %s %s", kind, name)
        try:
            await asyncio.wait_for(request, self.k8s_api_request_timeout)
        except asyncio.TimeoutError:
            return False
        except ApiException as e:
            if e.status == 409:
                self.log.info("%s %s already exists", kind, name)
                return True
            if e.status == 403 and kind == "PersistentVolumeClaim":
                # as KubeSpawner does: a quota refuses even a claim that exists already
                await self.api.read_namespaced_persistent_volume_claim(name, namespace)
                return True
            raise
        return True

    async def _make_create_pod_request(self, pod: Any, request_timeout: int) -> bool:
        # KubeSpawner calls stop() here on a name conflict: see stop()
        self._creating_pod = True
        try:
            return await super()._make_create_pod_request(pod, request_timeout)
        finally:
            self._creating_pod = False

    async def stop(self, now: bool = False) -> None:
        if self._creating_pod:
            # KubeSpawner removes a leftover pod of the same name while creating this
            # session's pod: the session goes on, keep its Secret and platform session
            await KubeSpawner.stop(self, now=now)
            return
        await super().stop(now=now)
        name = self._submarine_secret_name
        if name and not self._creating_pod:
            await exponential_backoff(
                partial(self._ensure_not_exists, "secret", name),
                f"Could not delete secret {name}",
                timeout=self.k8s_api_request_retry_timeout,
            )
            self._submarine_secret_name = None

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        if self._submarine_secret_name:
            state["submarine_secret_name"] = self._submarine_secret_name
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        if state.get("submarine_secret_name"):
            self._submarine_secret_name = state["submarine_secret_name"]
