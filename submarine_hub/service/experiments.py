"""The experiment scheduler: dispatches queued runs to a backend and tracks them to the end.

One loop per service, woken by submissions and kills and ticking while runs are
active. Each tick (1) reads every launched run's state from the backend and records
changes, (2) sends kills that were asked for, (3) starts queued runs in submission
order while their team's ``max_running_experiments`` and the backend's capacity
allow, and (4) advances pipelines. Every decision is committed to the metastore
*before* the backend acts, and every backend call is idempotent, so a service that
is killed at any point and restarted picks up where it was: no run is lost, none is
started twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..backends.base import EnvironmentBackend, ExperimentBackend
from ..client import spool
from ..core import credentials
from ..core.crypto import Crypt
from ..core.experiments import metrics as run_metrics
from ..core.experiments import pipelines, plans, runs, sql
from ..core.experiments.backend import FINAL_STATES, PENDING, RUNNING, RunState
from ..core.mlflow_compat import tracking as mlflow_tracking
from ..core.quotas import effective_quota
from ..store import Database
from ..store.models import EnvironmentProfile, Experiment, Pipeline, Team
from .uploads import UploadStore
from .usage import BudgetGate

log = logging.getLogger("submarine_hub.service.experiments")

IDLE_WAIT = 2.0
# Queued runs looked at per tick, oldest first (later ones wait their turn anyway).
DISPATCH_WINDOW = 50
BUSY_TICK = 0.2


class ExperimentManager:
    def __init__(
        self,
        db: Database,
        backend: ExperimentBackend,
        *,
        crypt: Crypt,
        builds: EnvironmentBackend,
        quota_defaults: dict[str, Any],
        api_url: str,
        uploads: UploadStore | None = None,
        heartbeat_interval: float = 30.0,
        mlflow_idle_timeout: float = 0.0,
    ) -> None:
        self.db = db
        self.backend = backend
        self.crypt = crypt
        self.builds = builds
        self.quota_defaults = quota_defaults
        self.api_url = api_url
        self.gpu_ids = backend.assignable_gpus()
        self.uploads = uploads
        # interactive (notebook-tracked) runs beat this often; 4 missed beats end them
        self.heartbeat_interval = heartbeat_interval
        # MLflow-created runs with no call for this long are ended (0: never); those made
        # inside a platform run end with it (core/mlflow_compat/tracking.reap)
        self.mlflow_idle_timeout = mlflow_idle_timeout
        self._next_reap = 0.0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._killed: set[int] = set()  # kills sent in this process
        self._relaunched: set[int] = set()
        self._queued = False
        # Called as ``await hook(session, row)`` when a run is recorded as ended, in the
        # transaction that records it (notebook jobs keep their executed notebook).
        self.on_final: list[Callable[[Any, Experiment], Awaitable[None]]] = []
        self.on_final.append(self._take_spool)  # metrics its processes could not send
        self.on_final.append(self._record_sql)  # a SQL run's rows, schema, dataset, error
        # Started and stopped with the scheduler (the notebook-job schedules).
        self.companions: list[Any] = []
        self.budgets = BudgetGate()  # queued runs of a team whose budget is spent wait

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self.backend.on_change = self.wake
        for companion in self.companions:
            companion.start()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        for companion in self.companions:
            await companion.stop()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self.backend.close()

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        try:
            await self.backend.start()
        except Exception:
            log.exception("the %s experiment backend did not start", self.backend.name)
        while True:
            busy = False
            try:
                busy = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("experiment scheduler tick failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), BUSY_TICK if busy else IDLE_WAIT)
            except TimeoutError:
                pass
            self._wake.clear()

    # -- one tick -----------------------------------------------------------------------------

    async def tick(self) -> bool:
        """One pass; True while anything is active (tick again soon)."""
        async with self.db.session() as s:
            launched = await runs.active(s, launched=True)
            await self._reconcile(s, launched)
            await self._kill(s, await runs.kills_pending(s))
        if time.monotonic() >= self._next_reap:
            self._next_reap = time.monotonic() + max(1.0, self.heartbeat_interval / 2)
            async with self.db.session() as s:
                ended = await runs.reap_interactive(s, 4 * self.heartbeat_interval)
                ended += await mlflow_tracking.reap(s, self.mlflow_idle_timeout)
                for row in ended:
                    log.warning(
                        "interactive run ended", extra={"run": row.id, "reason": row.reason}
                    )
        async with self.db.session() as s:
            await self._advance_pipelines(s)
        async with self.db.session() as s:
            starts = await self._dispatch(s)
        for plan in starts:
            try:
                await self.backend.launch(plan)
            except Exception as e:
                log.exception("launching run %s failed", plan.run_id)
                async with self.db.session() as s:
                    unstarted = await s.get(Experiment, plan.run_id)
                    if unstarted and unstarted.status not in FINAL_STATES:
                        reason = f"the backend could not start it: {e}"
                        runs.finish(unstarted, "failed", reason=reason)
        return bool(launched) or bool(starts) or self._queued

    async def _reconcile(self, s: Any, launched: list[Experiment]) -> None:
        if not launched:
            return
        ids = [r.id for r in launched]
        states = await self.backend.states(ids)
        for row in launched:
            state = states.get(row.id)
            if state is None:
                await self._relaunch(s, row)
                continue
            self._apply(row, state)
            if row.status in FINAL_STATES:
                await self._ended(s, row)

    async def _ended(self, s: Any, row: Experiment) -> None:
        for hook in self.on_final:
            try:
                async with s.begin_nested():  # a failing hook never blocks the run's end
                    await hook(s, row)
            except Exception:
                log.exception("after run %s ended: %s failed", row.id, hook)

    async def _take_spool(self, s: Any, row: Experiment) -> None:
        run_dir = self.backend.run_dir(row.id)
        if run_dir is not None:
            await run_metrics.take_spool(s, row, spool.folder_for_run(run_dir))

    async def _record_sql(self, s: Any, row: Experiment) -> None:
        if row.kind == sql.KIND:
            await sql.record_result(s, row, self.artifacts_location(row.id))

    def _apply(self, row: Experiment, state: RunState) -> None:
        if state.status == RUNNING and row.status == PENDING:
            row.status = RUNNING
            row.reason = ""
            row.started_at = _when(state.started_at)
        elif state.final and row.status not in FINAL_STATES:
            reason = state.reason
            if state.status == "killed" and row.kill_requested:
                reason = reason if reason != "killed" else "killed on request"
            runs.finish(row, state.status, reason=reason, exit_code=state.exit_code)
            measured = {
                r.name: {"cpu_time": r.cpu_time, "peak_memory": r.peak_memory}
                for r in state.replicas
                if r.cpu_time is not None or r.peak_memory is not None
            }
            if measured:  # what the replicas really used, for usage reports
                row.placement = {**(row.placement or {}), "usage": measured}
            if state.started_at and not row.started_at:
                row.started_at = _when(state.started_at)
            if state.finished_at:
                row.finished_at = _when(state.finished_at)
            log.info(
                "run ended",
                extra={"run": row.id, "status": row.status, "exit_code": row.exit_code},
            )
        elif state.status == PENDING and state.reason and row.reason != state.reason:
            row.reason = state.reason

    async def _relaunch(self, s: Any, row: Experiment) -> None:
        """A run recorded as launched that the backend never saw: the service stopped
        between the two. Launch it now (the backend ignores a second launch)."""
        if row.id in self._relaunched:
            return
        self._relaunched.add(row.id)
        plan = await self._plan(s, row)
        if plan is not None:
            log.warning("launching run %s again: the backend has no record of it", row.id)
            await self.backend.launch(plan)

    async def _kill(self, s: Any, rows: list[Experiment]) -> None:
        for row in rows:
            if row.id in self._killed or row.status in FINAL_STATES:
                continue
            if row.launched_at is None:
                runs.finish(row, "killed", reason="killed before it started")
                continue
            self._killed.add(row.id)
            await self.backend.kill(row.id)

    async def _advance_pipelines(self, s: Any) -> None:
        rows = (await s.scalars(select(Pipeline).where(Pipeline.status == RUNNING))).all()
        for row in rows:
            if await pipelines.advance(s, row, quota_defaults=self.quota_defaults):
                self.wake()

    async def _dispatch(self, s: Any) -> list[Any]:
        running = await runs.running_by_team(s)
        total = sum(running.values())
        limit = self.backend.capacity()
        if limit is not None and total >= limit:
            self._queued = await runs.any_queued(s)  # full: nothing to look at now
            return []
        queued = [
            r
            for r in await runs.active(s, launched=False, limit=DISPATCH_WINDOW)
            if r.status == PENDING and not r.kill_requested
        ]
        self._queued = bool(queued)
        if not queued:
            return []
        quotas: dict[str, Any] = {}
        used_gpus = await self._gpus_in_use(s)
        starts = []
        for row in queued:
            if limit is not None and total >= limit:
                _queue(row, f"queued: the backend is full ({limit} runs at once)")
                continue
            if row.team not in quotas:
                team = await s.get(Team, row.team)
                quotas[row.team] = effective_quota(
                    self.quota_defaults, team.quota if team else None
                )
            cap = quotas[row.team].max_running_experiments
            if cap is not None and running.get(row.team, 0) >= cap:
                _queue(row, f"queued: team {row.team!r} runs {cap} experiment(s), its quota")
                continue
            if row.parent_id is None and row.pipeline_id is None:
                held = await self.budgets.reason(s, row.team)
                if held:
                    _queue(row, held)
                    continue
            prefix = await self._environment_ready(s, row)
            if prefix is None:
                continue
            gpus: list[int] = []
            want = _gpus_wanted(row)
            if want and self.gpu_ids:
                free = [g for g in self.gpu_ids if g not in used_gpus]
                if len(free) < want:
                    _queue(row, f"queued: waiting for {want} free GPU(s)")
                    continue
                gpus = free[:want]
                used_gpus.update(gpus)
            plan = await self._plan(s, row, python_prefix=prefix, gpus=gpus)
            if plan is None:
                continue
            row.launched_at = datetime.now(timezone.utc)
            row.backend = self.backend.name
            row.reason = "starting"
            row.placement = {"gpus": gpus} if gpus else None
            running[row.team] = running.get(row.team, 0) + 1
            total += 1
            starts.append(plan)
        return starts

    async def _environment_ready(self, s: Any, row: Experiment) -> str | None:
        """The built profile's prefix ('' without a profile), or None while it builds."""
        env_id = row.spec["environment"].get("profile_id")
        if not env_id or not self.builds.builds:
            return ""
        env = await s.get(EnvironmentProfile, env_id)
        if env is None:
            runs.finish(row, "failed", reason="its environment profile was deleted")
            return None
        status = self.builds.status(env)
        if status["state"] == "ready":
            return status.get("prefix") or ""
        if status["state"] == "failed":
            runs.finish(
                row,
                "failed",
                reason=f"environment {env.scope}/{env.name} failed to build (see its build "
                "log; build it again with 'submarine env build')",
            )
            return None
        self.builds.start(env, retry_failed=False)
        _queue(row, f"building environment {env.scope}/{env.name}")
        return None

    async def _plan(
        self, s: Any, row: Experiment, *, python_prefix: str = "", gpus: list[int] | None = None
    ) -> Any:
        token = runs.new_token(row.id)
        row.token_hash = runs.token_hash(token)
        names = row.spec.get("credentials")
        cred_env, cred_files = await credentials.for_session(
            s, self.crypt, row.owner, row.team, names
        )
        try:
            cred_env = {**cred_env, **await sql.connection_url(s, self.crypt, row)}
        except KeyError as e:
            runs.finish(row, "failed", reason=f"its {e.args[0]} no longer exists")
            return None
        upstream = await self._upstream_outputs(s, row)
        address = _local_addresses(row) if self.backend.same_machine else None
        try:
            plan = plans.build_plan(
                row,
                api_url=self.api_url,
                token=token,
                credential_env=cred_env,
                credential_files=cred_files,
                inputs_from=lambda ref: upstream[ref],
                artifacts_dir=self.artifacts_location(row.id),
                address=address,
                python_prefix=python_prefix,
                gpu_ids=gpus,
            )
        except KeyError as e:
            runs.finish(row, "failed", reason=f"input {e} is not available")
            return None
        upload = (row.spec.get("code") or {}).get("upload")
        if upload and self.uploads is not None:
            plan = dataclasses.replace(plan, code={"upload": str(self.uploads.path(upload))})
        return plan

    def local_artifacts(self, run_id: int) -> Path | None:
        """The run's artifacts folder when this service holds it (the local backend)."""
        return self.backend.local_artifacts(run_id)

    def artifacts_location(self, run_id: int) -> str:
        """Where a run's artifacts are, as its processes see them."""
        return self.backend.artifacts_location(run_id)

    async def _upstream_outputs(self, s: Any, row: Experiment) -> dict[str, str]:
        if row.pipeline_id is None:
            return {}
        out: dict[str, str] = {}
        pipeline = await s.get(Pipeline, row.pipeline_id)
        latest = await pipelines.latest_runs(s, row.pipeline_id)
        for step in pipeline.spec["steps"]:
            run = latest.get(step["name"])
            if run is None:
                continue
            for o in step["spec"]["outputs"]:
                out[f"{step['name']}.{o['name']}"] = str(
                    Path(self.artifacts_location(run.id), o["path"])
                )
        return out

    async def free_gpus(self, s: Any) -> int | None:
        """GPUs of this backend no run holds now (None: the backend assigns none)."""
        if not self.gpu_ids:
            return None
        return len(set(self.gpu_ids) - await self._gpus_in_use(s))

    async def _gpus_in_use(self, s: Any) -> set[int]:
        used: set[int] = set()
        if not self.gpu_ids:
            return used
        for row in await runs.active(s, launched=True):
            if row.placement:
                used.update(row.placement.get("gpus", []))
        return used


def _queue(row: Experiment, reason: str) -> None:
    if row.reason != reason:
        row.reason = reason


def _gpus_wanted(row: Experiment) -> int:
    total = 0
    for body in row.spec["spec"].values():
        res = body.get("resources") or row.spec["resources"]
        total += (res.get("gpus") or 0) * body["replicas"]
    return total


def _when(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, timezone.utc) if epoch else None


def _local_addresses(row: Experiment) -> Any:
    """Free ports on 127.0.0.1, one per replica, picked when the run is planned."""
    ports: dict[tuple[str, int], int] = {}

    def address(role: str, index: int) -> tuple[str, int]:
        if (role, index) not in ports:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                ports[(role, index)] = sock.getsockname()[1]
        return "127.0.0.1", ports[(role, index)]

    return address
