"""The experiments domain on SQLite and PostgreSQL: specs, search, templates, pipelines,
metrics, and the local backend's supervisor (real processes; no hub needed)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from submarine_hub.backends.local.experiments import LocalExperimentBackend
from submarine_hub.client import spool
from submarine_hub.core.errors import Forbidden, InvalidInput, NotFound
from submarine_hub.core.experiments import metrics as run_metrics
from submarine_hub.core.experiments import pipelines, runs, spec, templates
from submarine_hub.core.experiments.backend import LaunchPlan, ReplicaPlan
from submarine_hub.core.experiments.distributed import replica_env, slots
from submarine_hub.core.identity import Identity
from submarine_hub.core.resources import Resources
from submarine_hub.store import Database, upgrade

from .helpers.runs import plan, wait_final

ALICE = Identity(name="alice", teams=frozenset({"data-science"}))
CAROL = Identity(name="carol", teams=frozenset({"ml-platform"}))


def simple(name: str = "x", **extra: object) -> dict:
    return {"meta": {"name": name, "team": "data-science"}, "task": {"command": "true"}, **extra}


def test_spec_normalization() -> None:
    s = spec.normalize(simple(resources={"cpu": "0.5", "memory": "1G"}))
    assert s["task"]["command"] == ["sh", "-c", "true"]
    assert s["spec"] == {"main": {"replicas": 1}}
    assert s["resources"] == {"cpu": 0.5, "memory": 10**9, "gpus": 0}
    tf = spec.normalize(
        simple(
            meta={"name": "t", "framework": "tensorflow"},
            spec={"worker": {"replicas": 2}, "chief": {}},
        )
    )
    assert list(tf["spec"]) == ["chief", "worker"]  # rank order
    with pytest.raises(InvalidInput, match="at most one master"):
        spec.normalize(
            simple(meta={"name": "p", "framework": "pytorch"}, spec={"master": {"replicas": 2}})
        )
    with pytest.raises(InvalidInput, match=r"spec\.timeout"):
        spec.normalize(simple(timeout=-1))
    with pytest.raises(InvalidInput, match="exactly one of 'dataset', 'uri' or 'from'"):
        spec.normalize(simple(inputs=[{"name": "a"}]))
    with pytest.raises(InvalidInput, match="must be an object"):
        spec.normalize(["not", "a", "spec"])


def test_a_profile_id_a_client_sends_is_dropped_the_service_records_its_own() -> None:
    """A stored run's spec shows the resolved profile's id (the OpenAPI document says so);
    one sent by a client (another team's profile, say) never reaches a run."""
    s = spec.normalize(simple(environment={"profile": "data-science/py", "profile_id": 7}))
    assert s["environment"] == {"profile": "data-science/py"}
    with pytest.raises(InvalidInput, match="profile_id"):
        spec.normalize(simple(environment={"profile_id": "seven"}))


def test_distributed_variables() -> None:
    roles = {"master": 1, "worker": 2}
    env = [replica_env("pytorch", roles, s, lambda r, i: (f"{r}-{i}", 29500)) for s in slots(roles)]
    assert [e["RANK"] for e in env] == ["0", "1", "2"]
    assert {e["MASTER_ADDR"] for e in env} == {"master-0"}
    assert env[2]["PET_NODE_RANK"] == "2" and env[2]["WORLD_SIZE"] == "3"
    tf = replica_env(
        "tensorflow",
        {"chief": 1, "worker": 1, "evaluator": 1},
        slots({"chief": 1, "worker": 1, "evaluator": 1})[2],
        lambda r, i: (r, 1),
    )
    config = json.loads(tf["TF_CONFIG"])
    assert config == {
        "cluster": {"chief": ["chief:1"], "worker": ["worker:1"]},
        "task": {"type": "evaluator", "index": 0},
    }


def test_template_parameters() -> None:
    declared = templates.check(
        {
            "name": "t",
            "parameters": {
                "n": {"type": "integer", "minimum": 1, "default": 2},
                "flag": {"type": "boolean", "default": False},
                "lr": {"type": "number", "required": True},
            },
            "spec": {
                "meta": {"name": "t"},
                "task": {"command": ["run", "${n}", "--lr=${lr}"]},
                "timeout": "${lr}",
            },
        },
        creating=True,
    )["parameters"]
    values = templates.resolve_parameters(declared, {"lr": "0.5", "flag": "true"})
    assert values == {"n": 2, "flag": True, "lr": 0.5}
    body = templates.substitute(
        {"task": {"command": ["run", "${n}"]}, "timeout": "${lr}", "x": "$$5"}, values
    )
    assert body == {"task": {"command": ["run", "2"]}, "timeout": 0.5, "x": "$5"}
    with pytest.raises(InvalidInput) as e:
        templates.resolve_parameters(declared, {"n": 0, "flag": "maybe", "zz": 1})
    assert "'n' must be at least 1" in e.value.message
    assert "'flag' must be a boolean" in e.value.message
    assert "'lr' is required" in e.value.message and "'zz' is not a parameter" in e.value.message


def test_a_string_parameter_given_a_mapping_or_a_number_takes_its_json_text() -> None:
    # what `-p 'space={"n_estimators": [5, 200]}'` (parsed as YAML) sends: the docs' sweep
    declared = {"space": {"type": "string"}, "name": {"type": "string"}}
    values = templates.resolve_parameters(
        declared, {"space": {"n_estimators": [5, 200]}, "name": 7}
    )
    assert values == {"space": '{"n_estimators": [5, 200]}', "name": "7"}
    with pytest.raises(InvalidInput, match="'name' must be a string"):
        templates.resolve_parameters(declared, {"space": "{}", "name": True})


async def test_search_pages_and_filters(db_url: str) -> None:
    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.session() as s:
            for i in range(7):
                sub = await runs.prepare(
                    s,
                    ALICE,
                    simple(f"r{i}", meta={"name": f"r{i}", "tags": ["even"] if i % 2 == 0 else []}),
                )
                row = await runs.create(s, ALICE, sub, quota_defaults={})
                if i < 3:
                    runs.finish(row, "failed", reason="x", exit_code=1)
        async with db.session() as s:
            page, cursor = await runs.search(s, ALICE, runs.Filters(limit=3))
            assert [r.name for r in page] == ["r6", "r5", "r4"] and cursor == page[-1].id
            page2, cursor2 = await runs.search(s, ALICE, runs.Filters(limit=3, before=cursor))
            assert [r.name for r in page2] == ["r3", "r2", "r1"]
            last, end = await runs.search(s, ALICE, runs.Filters(limit=3, before=cursor2))
            assert [r.name for r in last] == ["r0"] and end is None
            failed, _ = await runs.search(s, ALICE, runs.Filters(status=["failed"], tag="even"))
            assert [r.name for r in failed] == ["r2", "r0"]
            assert (await runs.search(s, CAROL, runs.Filters()))[0] == []
            with pytest.raises(Forbidden):
                await runs.search(s, CAROL, runs.Filters(team="data-science"))
            with pytest.raises(InvalidInput, match="ISO 8601"):
                await runs.search(s, ALICE, runs.Filters(since="yesterday"))
            with pytest.raises(NotFound):
                await runs.get(s, CAROL, page[0].id)
    finally:
        await db.dispose()


async def test_metrics_are_downsampled_and_summarized(db_url: str) -> None:
    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.session() as s:
            sub = await runs.prepare(s, ALICE, simple())
            row = await runs.create(s, ALICE, sub, quota_defaults={})
            points = [{"key": "loss", "value": 1 / (i + 1), "step": i} for i in range(5000)]
            assert (
                await run_metrics.log_batch(
                    s, ALICE, row.id, {"metrics": points, "params": {"a": 1}}
                )
                == 5000
            )
            bob = Identity("bob", teams=frozenset({"data-science"}))
            with pytest.raises(Forbidden, match="Only alice logs"):
                await run_metrics.log_batch(s, bob, row.id, {"metrics": []})
        async with db.session() as s:
            history = await run_metrics.metric_history(s, row.id, "loss", max_points=100)
            assert len(history) <= 101 and history[0]["step"] == 0 and history[-1]["step"] == 4999
            assert (await run_metrics.metrics_summary(s, [row.id]))[row.id][
                "loss"
            ] == pytest.approx(1 / 5000)
            assert await run_metrics.params_of(s, row.id) == {"a": "1"}
    finally:
        await db.dispose()


async def test_replayed_and_spooled_points_are_stored_once(db_url: str, tmp_path: Path) -> None:
    upgrade(db_url)
    db = Database(db_url)
    t0 = 1_790_000_000.0
    points = [
        {"key": "loss", "value": 1 / (i + 1), "step": i, "timestamp": t0 + i} for i in range(6)
    ]
    try:
        async with db.session() as s:
            row = await runs.create(
                s, ALICE, await runs.prepare(s, ALICE, simple()), quota_defaults={}
            )
            other = await runs.create(
                s, ALICE, await runs.prepare(s, ALICE, simple("other")), quota_defaults={}
            )
            assert await run_metrics.log_batch(s, ALICE, row.id, {"metrics": points[:3]}) == 3
            # the same batch again (its answer was lost): replay stores nothing twice
            again = {"metrics": points[:4], "replay": True}
            assert await run_metrics.log_batch(s, ALICE, row.id, again) == 1
            with pytest.raises(InvalidInput, match="'replay' must be true or false"):
                await run_metrics.log_batch(s, ALICE, row.id, {"metrics": [], "replay": "yes"})
        # what the run's process spooled at exit: all six points (some already stored),
        # a file of another run planted in its folder, and a torn temporary file
        folder = spool.folder_for_run(tmp_path / str(row.id))
        mine = spool.write(folder, row.id, points, {"lr": "0.1"})
        planted = spool.write(folder, other.id, points, {})
        (folder / ".run-x.tmp").write_text("{")
        async with db.session() as s:
            assert await run_metrics.take_spool(s, row, folder) == 2
            assert mine.exists()  # removed only once stored for good
        assert not mine.exists() and planted.exists()
        async with db.session() as s:
            history = await run_metrics.metric_history(s, row.id, "loss", max_points=100)
            assert [p["step"] for p in history] == list(range(6))
            assert await run_metrics.params_of(s, row.id) == {"lr": "0.1"}
            assert await run_metrics.metric_history(s, other.id, "loss", max_points=100) == []
    finally:
        await db.dispose()


async def test_pipeline_dag_checks(db_url: str) -> None:
    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.session() as s:

            def step(name: str, *deps: str) -> dict:
                return {
                    "name": name,
                    "depends_on": list(deps),
                    "spec": {"task": {"command": "true"}},
                }

            with pytest.raises(InvalidInput, match="cycle: "):
                await pipelines.create(
                    s,
                    ALICE,
                    {"name": "p", "steps": [step("a", "c"), step("b", "a"), step("c", "b")]},
                    {},
                )
            row = await pipelines.create(
                s, ALICE, {"name": "p", "steps": [step("a"), step("b", "a")]}, {}
            )
            started = await pipelines.advance(s, row, quota_defaults={})
            assert [r.pipeline_step for r in started] == ["a"]
            runs.finish(started[0], "succeeded")
            await s.flush()
            assert [
                r.pipeline_step for r in await pipelines.advance(s, row, quota_defaults={})
            ] == ["b"]
    finally:
        await db.dispose()


@pytest.mark.local
async def test_local_backend_limits_timeout_and_single_start(tmp_path: Path) -> None:
    backend = LocalExperimentBackend(tmp_path / "runs")
    # memory limit: allocating 1 GB under a 200 MB cap fails
    await backend.launch(
        plan(1, ["python", "-c", "b = bytearray(10**9)"], resources={"memory": 200 * 10**6})
    )
    state = await wait_final(backend, 1)
    assert (
        state.status == "failed"
        and "MemoryError" in (await backend.read_log(1, "main-0", 0, 10**6)).decode()
    )
    # timeout
    await backend.launch(plan(2, ["sleep", "30"], timeout=0.5))
    state = await wait_final(backend, 2)
    assert state.status == "failed" and "timed out" in state.reason
    # cpu affinity: one core asked, one core given
    await backend.launch(
        plan(
            3,
            ["python", "-c", "import os; print(len(os.sched_getaffinity(0)))"],
            resources={"cpu": 1},
        )
    )
    assert (await wait_final(backend, 3)).status == "succeeded"
    assert (await backend.read_log(3, "main-0", 0, 100)).strip() == b"1"
    # a second launch of the same run starts nothing
    await backend.launch(plan(4, ["sh", "-c", f"echo x >> {tmp_path}/count"]))
    await wait_final(backend, 4)
    await backend.launch(plan(4, ["sh", "-c", f"echo x >> {tmp_path}/count"]))
    await asyncio.sleep(0.5)
    assert (tmp_path / "count").read_text() == "x\n"
    # a missing program fails with its reason
    await backend.launch(plan(5, ["no-such-program-here"]))
    state = await wait_final(backend, 5)
    assert (
        state.status == "failed"
        and "no-such-program-here" in (await backend.read_log(5, "main-0", 0, 1000)).decode()
    )
    # a supervisor killed -9 leaves a run marked lost, not running forever
    await backend.launch(plan(6, ["sleep", "30"]))
    for _ in range(200):  # the run starts
        state = await backend.state(6)
        if state and state.status == "running":
            break
        await asyncio.sleep(0.05)
    status = json.loads((tmp_path / "runs" / "6" / "status.json").read_text())
    os.kill(status["supervisor_pid"], signal.SIGKILL)
    os.killpg(status["replicas"][0]["pid"], signal.SIGKILL)
    await asyncio.sleep(0.3)
    state = await backend.state(6)
    assert state is not None and state.status == "failed" and "supervisor is gone" in state.reason


def test_the_service_picks_its_experiment_backend(tmp_path: Path) -> None:
    from submarine_hub.service.app import SubmarineService

    def backend(*argv: str):  # type: ignore[no-untyped-def]
        app = SubmarineService()
        app.initialize([*argv, f"--data-dir={tmp_path}", "--SubmarineService.run_as_owner=False"])
        SubmarineService.clear_instance()
        return app.make_experiment_backend()

    assert backend().name == "local"
    assert backend("--SubmarineService.experiment_backend_class=local").name == "local"
    kube = backend("--SubmarineService.experiment_backend_class=kube")
    assert kube.name == "kubernetes" and kube.artifacts_location(1) == "/submarine/artifacts"
    # the setting it replaces still works
    assert backend("--SubmarineService.experiment_backend=kubernetes").name == "kubernetes"
    with pytest.raises(SystemExit) as e:  # a config error, logged as such
        backend("--SubmarineService.experiment_backend_class=yarn")
    assert e.value.code == 78  # EX_CONFIG: the supervisor does not restart it


@pytest.mark.local
async def test_gpus_are_handed_out_per_replica(tmp_path: Path) -> None:
    backend = LocalExperimentBackend(tmp_path / "runs")
    replicas = [
        ReplicaPlan("worker", i, i, ["sh", "-c", "echo $CUDA_VISIBLE_DEVICES"], Resources(gpus=2))
        for i in range(2)
    ]
    p = LaunchPlan(
        9, "g", "team", "alice", "none", {"worker": 2}, replicas, {}, gpu_ids=[3, 1, 0, 2]
    )
    await backend.launch(p)
    assert (await wait_final(backend, 9)).status == "succeeded"
    logs = [(await backend.read_log(9, f"worker-{i}", 0, 100)).strip() for i in range(2)]
    assert logs == [b"3,1", b"0,2"]


def test_random_search_draws_within_ranges() -> None:
    from submarine_hub.builtin.sweep import draw, grid

    space = {"n": [1, 10], "lr": [0.001, 0.1], "kind": ["a", "b", "c"]}
    points = draw(space, 50, seed=1)
    assert len(points) == 50 and points == draw(space, 50, seed=1)
    assert all(1 <= p["n"] <= 10 and isinstance(p["n"], int) for p in points)
    assert all(0.001 <= p["lr"] <= 0.1 for p in points)
    assert {p["kind"] for p in points} == {"a", "b", "c"}
    assert len(grid({"a": [1, 2], "b": [3, 4, 5]})) == 6
