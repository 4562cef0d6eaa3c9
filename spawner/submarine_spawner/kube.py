"""``submarine-kube``: sessions as Kubernetes pods, on top of ``jupyterhub-kubespawner``.

The platform admits a session and grants it a team, an environment, resources and
credentials (:class:`~submarine_spawner.grant.SessionGrant`). This module turns a grant
into Kubernetes objects:

- the pod, built by KubeSpawner's own ``get_pod_manifest()`` once the grant is applied
  to the spawner's traits (image, CPU/memory/GPU, labels, volumes, environment);
- a ``ReadWriteMany`` PersistentVolumeClaim per team, mounted in every session of the team;
- a Secret per session holding the grant's credential files, mounted read-only;
- the team's Namespace, when ``namespace_per_team`` is on.

The decisions are made by :func:`plan_session`, pure, from a grant and
:class:`SessionSettings`, so they are tested without a cluster. Names, labels, the
objects' manifests and the API adapter are the platform's one Kubernetes package's
(:mod:`submarine_hub.backends.kube`), which runs and endpoints use too. Only this
module imports kubespawner: ``import submarine_spawner`` works on hubs without it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from jupyterhub.utils import exponential_backoff, maybe_future
from kubespawner import KubeSpawner
from traitlets import Bool, List, Unicode, validate

from submarine_hub.backends.kube import manifests as m
from submarine_hub.backends.kube.api import ApiException, ClusterApi, KubeApi, create_if_missing
from submarine_hub.backends.kube.names import (
    fill_template,
    is_dns_label,
    labels,
    render_name,
    safe_slug,
    team_slug,
)
from submarine_hub.backends.kube.settings import ClusterSettings, absolute_path, settings_of
from submarine_hub.core.errors import InvalidInput

from .grant import SessionGrant
from .mixin import SubmarineSpawnerMixin

TEAM_VOLUME = "submarine-team"
CREDENTIALS_VOLUME = "submarine-credentials"
CREDENTIALS_DIR_ENV = "SUBMARINE_CREDENTIALS_DIR"


# --- from a grant to a plan ----------------------------------------------------------


def session_labels(grant: SessionGrant, instance: str, *, managed: bool = True) -> dict[str, str]:
    """The labels of the session's objects: team, user, environment, session. The pod
    (``managed=False``) is KubeSpawner's: it keeps its ``managed-by``."""
    environment = grant.environment.name if grant.environment is not None else None
    return labels(
        instance,
        managed=managed,
        team=grant.team,
        user=grant.user,
        environment=environment,
        session=grant.session_id,
    )


def session_secret_name(session_id: str) -> str:
    """The name of a session's credentials Secret."""
    return "submarine-session-" + safe_slug(str(session_id), is_valid=is_dns_label, max_length=40)


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
    m.check_resources(r.cpu, r.memory, r.gpus)
    out: dict[str, Any] = {}
    if r.cpu is not None:
        out["cpu_limit"] = out["cpu_guarantee"] = float(r.cpu)
    if r.memory is not None:
        out["mem_limit"] = out["mem_guarantee"] = int(r.memory)
    out["extra_resource_limits"] = {gpu_resource_name: str(r.gpus)} if r.gpus else {}
    return out


def grant_env(grant: SessionGrant, credentials_mount_path: str) -> dict[str, str]:
    """The container's environment from the grant, plus where credential files are."""
    m.check_env_names(grant.env)
    env = {name: str(value) for name, value in grant.env.items()}
    if grant.files:
        env[CREDENTIALS_DIR_ENV] = credentials_mount_path
    return env


def credential_items(grant: SessionGrant) -> list[m.CredentialItem]:
    """The grant's credential files as Secret items, checked (the platform's one path
    rule; no braces either: KubeSpawner fills ``{...}`` in volumes)."""
    for f in grant.files:
        if "{" in f.path or "}" in f.path:
            raise InvalidInput(f"Credential file path {f.path!r} has braces.")
    return m.credential_items((f.path, f.mode, f.content) for f in grant.files)


@dataclass(frozen=True)
class SessionSettings:
    """What the plan depends on besides the grant: the spawner's configuration."""

    default_image: str
    namespace: str
    instance: str = "default"
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


@dataclass
class SessionPlan:
    """Everything a grant decides, as plain data."""

    team: str  # the team slug
    namespace: str
    labels: dict[str, str]  # the pod's
    image: str
    resources: dict[str, Any]
    env: dict[str, str]
    volumes: list[dict[str, Any]] = field(default_factory=list)
    volume_mounts: list[dict[str, Any]] = field(default_factory=list)
    secret_name: str | None = None
    #: objects to create before the pod, in order (Namespace, PVC, Secret)
    manifests: list[dict[str, Any]] = field(default_factory=list)


def plan_session(grant: SessionGrant, settings: SessionSettings) -> SessionPlan:
    """Decide everything about a session's Kubernetes objects (pure: no API calls).

    Raises ``ValueError`` (:class:`InvalidInput`) with a message saying what is wrong
    for a grant or template that cannot give valid objects.
    """
    team = team_slug(grant.team)
    manifests: list[dict[str, Any]] = []
    if settings.namespace_per_team:
        namespace = render_name(
            settings.team_namespace_template,
            team=grant.team,
            trait="team_namespace_template",
            namespace=True,
        )
        manifests.append(m.namespace(namespace, labels(team=grant.team)))
    else:
        namespace = settings.namespace

    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if settings.team_volume_enabled:
        pvc_name = render_name(
            settings.team_pvc_name_template, team=grant.team, trait="team_pvc_name_template"
        )
        meta = m.metadata(pvc_name, namespace, labels(settings.instance, team=grant.team))
        manifests.append(
            m.persistent_volume_claim(
                meta,
                size=settings.team_volume_size,
                storage_class=settings.team_volume_storage_class,
                access_modes=settings.team_volume_access_modes,
            )
        )
        mount_path = fill_template(
            settings.team_volume_mount_path, team=team, trait="team_volume_mount_path"
        )
        volumes.append({"name": TEAM_VOLUME, "persistentVolumeClaim": {"claimName": pvc_name}})
        mounts.append({"name": TEAM_VOLUME, "mountPath": mount_path})

    secret_name = None
    items = credential_items(grant)
    if items:
        secret_name = session_secret_name(grant.session_id)
        meta = m.metadata(secret_name, namespace, session_labels(grant, settings.instance))
        manifests.append(m.credentials_secret(meta, items))
        volume, mount = m.credentials_volume(
            CREDENTIALS_VOLUME, secret_name, items, settings.credentials_mount_path
        )
        volumes.append(volume)
        mounts.append(mount)

    return SessionPlan(
        team=team,
        namespace=namespace,
        labels=session_labels(grant, settings.instance, managed=False),
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


class SubmarineKubeSpawner(SubmarineSpawnerMixin, KubeSpawner, ClusterSettings):
    """Run each session as a pod shaped by the platform's grant.

    Set ``c.JupyterHub.spawner_class = "submarine-kube"``. Everything KubeSpawner
    offers is configured as usual (``c.KubeSpawner.*`` or ``c.SubmarineKubeSpawner.*``);
    the grant then decides the image, resources, labels, team volume, credentials and
    (with ``namespace_per_team``) the namespace, overriding the configured values.
    ``instance`` and ``gpu_resource_name`` are shared with runs and endpoints
    (``c.ClusterSettings.*`` sets them for all).
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
        team's name made a valid Kubernetes name (lowercase, escaped if needed), as for
        runs (``c.KubeExperimentBackend.namespace_template``).""",
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

    @validate("team_volume_mount_path", "credentials_mount_path")
    def _absolute_path(self, proposal: Any) -> str:
        return absolute_path(proposal)

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
        self._kube_api: KubeApi | None = None

    @property
    def kube_api(self) -> KubeApi:
        """The platform's API adapter, over KubeSpawner's own client."""
        if self._kube_api is None:
            self._kube_api = ClusterApi(self.api.api_client)
        return self._kube_api

    @kube_api.setter
    def kube_api(self, api: KubeApi) -> None:
        self._kube_api = api

    # -- from grant to traits --

    def session_settings(self) -> SessionSettings:
        """The settings :func:`plan_session` needs, from this spawner's traits."""
        return settings_of(SessionSettings, self, default_image=self.image)

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

    def apply_grant(self, grant: SessionGrant) -> None:
        """Set this spawner's traits from ``grant`` (see :meth:`_grant_plan`)."""
        self._grant_plan(grant)

    def _grant_plan(self, grant: SessionGrant) -> SessionPlan:
        """Set this spawner's traits from ``grant``; undoes the previous grant's first.

        Replaces the mixin's version (CPU and memory limits), which sets the same traits
        untracked: this one records them, so that the next grant starts from the
        configured values.
        """
        if self.namespace_per_team and self.enable_user_namespaces:
            raise ValueError("namespace_per_team and enable_user_namespaces exclude each other.")
        self._undo_grant()
        plan = plan_session(grant, self.session_settings())
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
        plan = self._grant_plan(grant)
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
        plan = self._grant_plan(grant)
        await self._create_grant_objects(plan)

    async def _create_grant_objects(self, plan: SessionPlan) -> None:
        for manifest in plan.manifests:
            kind, name = manifest["kind"], manifest["metadata"]["name"]
            if kind == "Secret":
                # a Secret left by an earlier start of the same session holds old files
                await self._delete_secret(name)
                self._submarine_secret_name = name
            await exponential_backoff(
                partial(self._create_object, manifest),
                f"Could not create {kind} {name}",
                timeout=self.k8s_api_request_retry_timeout,
            )

    async def _create_object(self, manifest: dict[str, Any]) -> bool:
        """Create a Namespace, PVC or Secret; True when it exists (for exponential_backoff)."""
        kind, meta = manifest["kind"], manifest["metadata"]
        name, namespace = meta["name"], meta.get("namespace", "")
        self.log.info("Creating %s %s", kind, name)
        try:
            created = await asyncio.wait_for(
                create_if_missing(self.kube_api, manifest), self.k8s_api_request_timeout
            )
        except asyncio.TimeoutError:
            return False
        except ApiException as e:
            # as KubeSpawner does: a quota refuses even a claim that exists already
            if e.status == 403 and kind == "PersistentVolumeClaim":
                if await self.kube_api.get(kind, namespace, name) is not None:
                    return True
            raise
        if created is None:
            self.log.info("%s %s already exists", kind, name)
        return True

    async def _delete_secret(self, name: str) -> None:
        """Delete the Secret ``name`` and wait until it is gone."""

        async def gone() -> bool:
            try:
                await asyncio.wait_for(
                    self.kube_api.delete("Secret", self.namespace, name),
                    self.k8s_api_request_timeout,
                )
                return await self.kube_api.get("Secret", self.namespace, name) is None
            except asyncio.TimeoutError:
                return False

        await exponential_backoff(
            gone, f"Could not delete secret {name}", timeout=self.k8s_api_request_retry_timeout
        )

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
        if name:
            await self._delete_secret(name)
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
