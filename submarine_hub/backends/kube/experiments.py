"""Experiment runs on Kubernetes: :class:`KubeExperimentBackend`.

What a run becomes is rendered by :mod:`.runs` (with :mod:`.replicas`); its state is
read by :mod:`.run_status`. This module launches, watches, reads logs and kills, on the
platform's one API adapter (:mod:`.api`) and watch cache (:mod:`.reflector`).

**Kill.** :meth:`KubeExperimentBackend.kill` writes the kill annotation
(``submarine-hub.apache.org/killed-at``) on the run's Jobs, then deletes them
(``kill_propagation_policy``, ``Foreground`` by default: the Job stays, annotated,
until its pods are gone). ``state()`` reads the annotation, so a restarted service
still learns the run was killed; once the objects are gone, the backend's memory
answers, and after a restart with nothing left in the cluster ``state()`` is ``None``.

**State.** A watch of the run objects and pods keeps a cache; a run the cache does not
hold is read directly, so ``state()`` works right after a restart.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import time
from typing import Any

from traitlets import Bool, Enum, Int, TraitError, Unicode, Union, validate

from ...core.errors import Conflict, SubmarineError
from ...core.experiments.backend import (
    FAILED,
    KILLED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    LaunchPlan,
    RunState,
)
from ...core.usage import live
from ..base import ExperimentBackend
from .api import (
    KINDS,
    KUBEFLOW_GROUP,
    KUBEFLOW_VERSION,
    ApiException,
    ClusterApi,
    KubeApi,
    api_error,
    create_if_missing,
    create_or_get,
)
from .names import (
    ANNOTATION_KILLED,
    LABEL_INSTANCE,
    LABEL_ROLE,
    LABEL_RUN,
    LABEL_TEAM,
    is_dns_1035_label,
    label_value,
    selector,
)
from .reflector import Reflector
from .replicas import KUBEFLOW, PRIMARY_KINDS
from .run_status import latest_pods, prepare_pod, run_state
from .runs import GIT_CONTAINER, MAIN_CONTAINER, PREPARE_LOG, RenderSettings, render
from .settings import WorkloadSettings, absolute_path, settings_of, team_template
from .state import MAIN_CONTAINERS, annotations_of, job_state, labels_of, meta

__all__ = ["KubeExperimentBackend", "RenderSettings", "render", "run_state"]


class KubeExperimentBackend(WorkloadSettings, ExperimentBackend):
    """Run experiments as Kubernetes Jobs, or Kubeflow ``PyTorchJob``/``TFJob``.

    Configure it as ``c.KubeExperimentBackend.*`` (the settings shared with endpoints
    also as ``c.WorkloadSettings.*``). It talks to the cluster it runs in (in-cluster
    service account), else to ``kubeconfig`` / ``$KUBECONFIG``. Its service account
    needs, in the run namespaces: create/get/list/watch/patch/delete on ``jobs``,
    ``services``, ``secrets`` (and ``pytorchjobs``/``tfjobs`` of ``kubeflow.org`` with
    the Training Operator), get/list/watch on ``pods`` and get on ``pods/log``; with
    ``namespace_template``, create on ``namespaces`` and the rest cluster-wide.
    """

    name = "kubernetes"

    namespace_template = Unicode(
        "",
        help="""A namespace per team, like ``submarine-{team}``: ``{team}`` is the team's
        name made a Kubernetes name as ``submarine-kube`` sessions do, so a team's
        sessions and runs can share a namespace. Created when missing. Empty: every run
        goes to ``namespace``.""",
    ).tag(config=True)

    name_prefix = Unicode(
        "sub", help="Objects of run 7 named 'My run' are named ``<name_prefix>-7-my-run``."
    ).tag(config=True)

    default_image = Unicode(
        "",
        help="""The container image of runs whose environment profile names none. Empty:
        such runs are refused with a message saying so.""",
    ).tag(config=True)

    ttl_seconds_after_finished = Int(
        86400,
        allow_none=True,
        help="""Kubernetes deletes a finished run's objects (Jobs, pods and their logs,
        Secrets, Service) after this many seconds. None: never.""",
    ).tag(config=True)

    use_training_operator = Union(
        [Enum(["auto", "true", "false"]), Bool()],
        default_value="auto",
        help="""Run distributed PyTorch/TensorFlow runs as Kubeflow ``PyTorchJob`` /
        ``TFJob``: ``auto`` when the cluster serves those kinds (checked once, at start),
        ``true`` always, ``false`` never (indexed Jobs and a headless Service instead).""",
    ).tag(config=True)

    working_dir = Unicode(
        "/workspace", help="Where the run's code (git) is cloned, and its working directory."
    ).tag(config=True)

    git_image = Unicode(
        "alpine/git:2.45.2", help="The image of the init container cloning a run's git code."
    ).tag(config=True)

    credentials_mount_path = Unicode(
        "/etc/submarine/credentials",
        help="""Where credential files are mounted, read-only; the run finds it in
        $SUBMARINE_CREDENTIALS_DIR.""",
    ).tag(config=True)

    artifacts_dir = Unicode(
        "/submarine/artifacts",
        help="""An empty folder in every pod for the run's outputs ($SUBMARINE_ARTIFACTS_DIR),
        gone with the pod.""",
    ).tag(config=True)

    fs_group = Int(
        None,
        allow_none=True,
        help="""The pods' fsGroup: lets a non-root image read the credential files.""",
    ).tag(config=True)

    pytorch_port = Int(23456, help="The PyTorch rendezvous port (MASTER_PORT).").tag(config=True)

    tensorflow_port = Int(2222, help="The port of TensorFlow's servers (TF_CONFIG).").tag(
        config=True
    )

    kill_propagation_policy = Enum(
        ["Foreground", "Background"],
        default_value="Foreground",
        help="""How kill deletes a run's Jobs: ``Foreground`` keeps the Job, marked killed,
        until its pods are gone; ``Background`` removes it at once.""",
    ).tag(config=True)

    watch = Bool(
        True,
        help="""Keep the states of runs current with a watch of their objects and pods.
        Off: every state() reads the cluster.""",
    ).tag(config=True)

    @validate("namespace_template")
    def _check_namespace_template(self, proposal: Any) -> str:
        return team_template(proposal)

    @validate("working_dir", "credentials_mount_path", "artifacts_dir")
    def _absolute(self, proposal: Any) -> str:
        return absolute_path(proposal)

    @validate("name_prefix")
    def _check_prefix(self, proposal: Any) -> str:
        value = str(proposal["value"])
        if not (len(value) <= 20 and is_dns_1035_label(value)):
            raise TraitError(
                "name_prefix must be 1-20 lowercase letters, digits or '-', starting with a letter."
            )
        return value

    def __init__(self, *, api: KubeApi | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api = api
        self._started = False
        self._start_lock = asyncio.Lock()
        self._operator: frozenset[str] = frozenset()
        self._reflectors: dict[str, Reflector] = {}
        self._namespaces: dict[int, str] = {}  # run -> namespace, for runs launched here
        self._metrics_missing = False
        self._killed: dict[int, float] = {}
        self._final: collections.OrderedDict[int, RunState] = collections.OrderedDict()

    # -- configuration --

    def _operator_mode(self) -> str:
        value = self.use_training_operator
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def settings(self) -> RenderSettings:
        """The rendering settings from this backend's traits (and what start() found)."""
        operator = {
            "true": frozenset(KUBEFLOW),
            "false": frozenset(),
        }.get(self._operator_mode(), self._operator)
        return settings_of(
            RenderSettings,
            self,
            namespace=self.effective_namespace,
            pod=self.pod_settings(),
            training_operator=operator,
        )

    def render(self, plan: LaunchPlan) -> list[dict[str, Any]]:
        return render(plan, self.settings())

    def capacity(self) -> int | None:
        return None  # the cluster's scheduler and quotas decide

    # -- start and stop --

    @property
    def api(self) -> KubeApi:
        assert self._api is not None, "start() first"
        return self._api

    async def start(self) -> None:
        """Connect, find the Training Operator's kinds, start the watches (once)."""
        async with self._start_lock:
            if self._started:
                return
            if self._api is None:
                self._api = await ClusterApi.connect(self.kubeconfig)
            if self._operator_mode() == "auto":
                self._operator = await self._discover_operator()
            self._started = True
            if self.watch:
                for kind in self._watched_kinds():
                    reflector = Reflector(
                        self.api,
                        kind,
                        namespace=self._scope(),
                        label_selector=selector(self.instance, "run"),
                        index=LABEL_RUN,
                        logger=self.log,
                    )
                    reflector.start()
                    self._reflectors[kind] = reflector

    async def _discover_operator(self) -> frozenset[str]:
        try:
            resources = await self.api.api_resources(KUBEFLOW_GROUP, KUBEFLOW_VERSION)
        except Exception as e:  # discovery refused or failing: run without the operator
            self.log.warning("Could not look for Kubeflow's Training Operator: %s", e)
            return frozenset()
        found = frozenset(
            f for f, k in KUBEFLOW.items() if KINDS[k.kind].plural in (resources or ())
        )
        self.log.info(
            "Kubeflow Training Operator kinds: %s",
            ", ".join(KUBEFLOW[f].kind for f in sorted(found)) or "none",
        )
        return found

    def _primary_kinds(self) -> list[str]:
        return ["Job", *(KUBEFLOW[f].kind for f in sorted(self.settings().training_operator))]

    def _watched_kinds(self) -> list[str]:
        return [*self._primary_kinds(), "Pod"]

    def _scope(self, run_id: int | None = None) -> str | None:
        """The namespace to list in; ``None``: every namespace (one per team)."""
        if not self.namespace_template:
            return self.effective_namespace
        if run_id is not None:
            return self._namespaces.get(run_id)
        return None

    async def live_usage(self) -> list[Any] | None:
        """The run pods' use now, from the cluster's metrics API (``metrics.k8s.io``);
        None where the cluster has none (no metrics-server: the manifests' requests are
        all that is metered), said once in the log."""
        if self._metrics_missing or self._api is None:
            return None
        try:
            items, _ = await self.api.list(
                "PodMetrics", self._scope(), selector(self.instance, "run")
            )
        except ApiException as e:
            if e.status in (403, 404, 503):
                self._metrics_missing = True
                self.log.warning(
                    "No live metrics of run pods (metrics.k8s.io answered %s): runs are "
                    "metered by the resources their manifests request",
                    e.status,
                )
                return None
            raise
        found, problems = live.samples(items, run_label=LABEL_RUN, role_label=LABEL_ROLE)
        for problem in problems[:3]:
            self.log.warning("Unreadable pod metrics: %s", problem)
        return found

    async def team_volumes(self, teams: list[str]) -> dict[str, int] | None:
        """The storage of the teams' PersistentVolumeClaims (the sessions' team volumes,
        labelled with the team): the capacity provisioned (``status.capacity``), else
        the size requested, as the cloud bills it. Claims of other teams or with an
        unreadable size are left out."""
        if self._api is None:
            return None
        by_label = {label_value(t): t for t in teams}
        items, _ = await self.api.list(
            "PersistentVolumeClaim", self._scope(), selector(self.instance, "team")
        )
        out: dict[str, int] = {}
        for pvc in items:
            label = ((pvc.get("metadata") or {}).get("labels") or {}).get(LABEL_TEAM)
            team = by_label.get(str(label))
            if team is None:
                continue
            size = ((pvc.get("status") or {}).get("capacity") or {}).get("storage") or (
                ((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}
            ).get("storage")
            try:
                out[team] = out.get(team, 0) + int(live.quantity(size))
            except ValueError:
                self.log.warning(
                    "Unreadable size of claim %s: %r", pvc["metadata"].get("name"), size
                )
        return out

    async def close(self) -> None:
        for reflector in self._reflectors.values():
            await reflector.stop()
        self._reflectors.clear()
        if self._api is not None:
            await self._api.close()
        self._started = False

    # -- reading a run --

    def cached(self, run_id: int) -> list[dict[str, Any]] | None:
        """The run's objects and pods from the watches; ``None`` when they cannot tell
        (not watching, not synced, or no Job of the run seen)."""
        kinds = self._watched_kinds()
        if not self._reflectors or not all(
            k in self._reflectors and self._reflectors[k].synced for k in kinds
        ):
            return None
        objects = [o for k in kinds for o in self._reflectors[k].indexed(str(run_id))]
        if not any(o.get("kind") in PRIMARY_KINDS for o in objects):
            return None
        return objects

    async def _read(self, run_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The run's objects and pods, from the cache if it holds the run, else the API."""
        cached = self.cached(run_id)
        if cached is not None:
            return (
                [o for o in cached if o.get("kind") != "Pod"],
                [o for o in cached if o.get("kind") == "Pod"],
            )
        return await self._read_direct(run_id)

    async def _read_direct(self, run_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        sel = selector(self.instance, run=run_id)
        scope = self._scope(run_id)
        objects: list[dict[str, Any]] = []
        try:
            for kind in self._primary_kinds():
                items, _ = await self.api.list(kind, scope, sel)
                objects.extend(items)
            pods, _ = await self.api.list("Pod", scope, sel) if objects else ([], "")
        except ApiException as e:
            raise api_error(e, f"read run {run_id}") from None
        return objects, pods

    async def state(self, run_id: int) -> RunState | None:
        await self.start()
        objects, pods = await self._read(run_id)
        state = run_state(objects, pods)
        killed_at = self._killed.get(run_id)
        if killed_at is not None and (
            state is None
            or not state.final
            or (state.status != KILLED and (state.finished_at or math.inf) > killed_at)
        ):
            # killed here; the cluster (or the watch) may not show it yet, or any more
            return RunState(
                KILLED,
                reason="killed",
                started_at=state.started_at if state else None,
                finished_at=killed_at,
                replicas=state.replicas if state else [],
            )
        if state is None:
            return self._final.get(run_id)
        if state.final:
            self._remember(run_id, state)
            if state.status != KILLED:
                await self._reap(objects)
        return state

    def _remember(self, run_id: int, state: RunState) -> None:
        self._final[run_id] = state
        self._final.move_to_end(run_id)
        while len(self._final) > 10000:
            self._final.popitem(last=False)

    async def _reap(self, objects: list[dict[str, Any]]) -> None:
        """A run of indexed Jobs ended: stop the Jobs still running (TensorFlow's ps...)."""
        for obj in objects:
            if obj.get("kind") != "Job" or meta(obj).get("deletionTimestamp"):
                continue
            if job_state(obj).status in (PENDING, RUNNING):
                m = meta(obj)
                with contextlib.suppress(ApiException):
                    await self.api.delete("Job", m["namespace"], m["name"], "Background")

    async def log_names(self, run_id: int) -> list[str]:
        await self.start()
        objects, pods = await self._read(run_id)
        state = run_state(objects, pods)
        if state is None:
            return []
        names = [r.name for r in state.replicas]
        if prepare_pod(pods, names) is not None:
            names.append(PREPARE_LOG)
        return names

    async def read_log(self, run_id: int, name: str, offset: int, limit: int) -> bytes:
        """Bytes ``offset`` to ``offset + limit`` of a log: a replica's (``worker-0``), or
        ``prepare`` (the code checkout)."""
        await self.start()
        if limit <= 0 or offset < 0:
            return b""
        objects, pods = await self._read(run_id)
        if name == PREPARE_LOG:
            state = run_state(objects, pods)
            names = [r.name for r in state.replicas] if state else []
            pod, container = prepare_pod(pods, names), GIT_CONTAINER
        else:
            role, _, index = name.rpartition("-")
            if not role or not index.isdigit():
                return b""
            pod = latest_pods(pods).get((role, int(index)))
            containers = [
                c.get("name") for c in ((pod or {}).get("spec") or {}).get("containers") or []
            ]
            container = next((c for c in containers if c in MAIN_CONTAINERS), None) or (
                containers[0] if containers else MAIN_CONTAINER
            )
        if pod is None:
            return b""
        m = meta(pod)
        try:
            data = await self.api.pod_log(m["namespace"], m["name"], container, offset + limit)
        except ApiException as e:
            raise api_error(e, f"read the log of {name}") from None
        return data[offset : offset + limit]

    # -- launching and killing --

    async def launch(self, plan: LaunchPlan) -> None:
        """Create the run's objects; a run launched before is left as it is."""
        await self.start()
        manifests = render(plan, self.settings())
        if plan.run_id in self._killed or plan.run_id in self._final:
            self.log.info("Run %s has run already: not launched again", plan.run_id)
            return
        namespace = next(m for m in manifests if m["kind"] != "Namespace")["metadata"]["namespace"]
        self._namespaces[plan.run_id] = namespace
        created: list[dict[str, Any]] = []
        primaries: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (object, manifest)
        try:
            for manifest in manifests:
                obj = await self._create(plan, manifest, created)
                if manifest["kind"] in PRIMARY_KINDS:
                    primaries.append((obj, manifest))
            if any(
                annotations_of(p).get(ANNOTATION_KILLED) or meta(p).get("deletionTimestamp")
                for p, _ in primaries
            ):  # launched before, and killed since: start nothing
                await self._undo(created)
                return
            owners = [
                {
                    "apiVersion": p.get("apiVersion") or m["apiVersion"],
                    "kind": m["kind"],
                    "name": meta(p)["name"],
                    "uid": meta(p)["uid"],
                }
                for p, m in primaries
            ]
            for manifest in manifests:
                if manifest["kind"] in ("Secret", "Service"):
                    m = manifest["metadata"]
                    await self.api.patch(
                        manifest["kind"],
                        m["namespace"],
                        m["name"],
                        {"metadata": {"ownerReferences": owners}},
                    )
        except ApiException as e:
            await self._undo(created)
            raise api_error(e, f"start run {plan.run_id}") from None
        except SubmarineError:
            await self._undo(created)
            raise
        self.log.info(
            "Run %s launched in namespace %s: %s",
            plan.run_id,
            namespace,
            ", ".join(f"{m['kind']} {m['metadata']['name']}" for m in manifests),
        )

    async def _create(
        self, plan: LaunchPlan, manifest: dict[str, Any], created: list[dict[str, Any]]
    ) -> dict[str, Any]:
        kind, m = manifest["kind"], manifest["metadata"]
        if kind == "Namespace":  # the team's: it may exist, made by a session or a run
            await create_if_missing(self.api, manifest)
            return manifest
        try:
            obj, new = await create_or_get(self.api, manifest)
        except Conflict:  # deleted meanwhile (a kill, a TTL): not ours to recreate
            raise Conflict(
                f"{kind} {m['name']} of run {plan.run_id} existed and is gone."
            ) from None
        if new:
            created.append(manifest)
            return obj
        labels = labels_of(obj)
        if labels.get(LABEL_RUN) != str(plan.run_id) or labels.get(LABEL_INSTANCE) != label_value(
            self.instance
        ):
            raise Conflict(
                f"{kind} {m['namespace']}/{m['name']} exists and is not run "
                f"{plan.run_id}'s: another platform may share the namespace (set "
                "c.KubeExperimentBackend.name_prefix or namespace)."
            )
        return obj

    async def _undo(self, created: list[dict[str, Any]]) -> None:
        for manifest in reversed(created):
            m = manifest["metadata"]
            try:
                await self.api.delete(manifest["kind"], m["namespace"], m["name"], "Background")
            except Exception as e:
                self.log.warning("Could not delete %s %s: %s", manifest["kind"], m["name"], e)

    async def kill(self, run_id: int) -> None:
        """Mark the run's Jobs killed, then delete them (their pods, Secrets and Service)."""
        await self.start()
        objects, pods = await self._read_direct(run_id)
        state = run_state(objects, pods)
        if state is not None and state.status in (SUCCEEDED, FAILED):
            return  # it ended before: it keeps its state
        if state is None and run_id in self._final:
            return
        now = self._killed.setdefault(run_id, time.time())
        mark = {"metadata": {"annotations": {ANNOTATION_KILLED: f"{now:.3f}"}}}
        try:
            for obj in objects:
                kind, m = obj["kind"], meta(obj)
                if kind in PRIMARY_KINDS and not annotations_of(obj).get(ANNOTATION_KILLED):
                    with contextlib.suppress(ApiException):  # 404: gone already
                        await self.api.patch(kind, m["namespace"], m["name"], mark)
            for obj in objects:
                kind, m = obj["kind"], meta(obj)
                await self.api.delete(kind, m["namespace"], m["name"], self.kill_propagation_policy)
            sel = selector(self.instance, run=run_id)
            for kind in ("Secret", "Service"):
                items, _ = await self.api.list(kind, self._scope(run_id), sel)
                for item in items:
                    m = meta(item)
                    await self.api.delete(kind, m["namespace"], m["name"], "Background")
        except ApiException as e:
            raise api_error(e, f"stop run {run_id}") from None
        self.log.info("Run %s killed", run_id)
