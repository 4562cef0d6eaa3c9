"""Notebook jobs without a hub: parameters, the domain on SQLite and PostgreSQL (jobs,
fan-out, executed notebooks, schedules with a fake clock), and the local backend's warm
kernel pool with real processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from submarine_hub.backends.local.experiments import LocalExperimentBackend
from submarine_hub.core import notebook_job_runs as njr
from submarine_hub.core import notebook_jobs as nj
from submarine_hub.core import notebook_schedules as ns
from submarine_hub.core import versions
from submarine_hub.core.errors import Forbidden, InvalidInput, NotFound
from submarine_hub.core.experiments import plans, runs
from submarine_hub.core.experiments.backend import LaunchPlan, ReplicaPlan
from submarine_hub.core.identity import Identity
from submarine_hub.core.notebook_fanout import is_fanout
from submarine_hub.core.notebook_parameters import check_values, parameters_of
from submarine_hub.core.resources import Resources
from submarine_hub.service.notebook_jobs import NotebookJobs
from submarine_hub.service.uploads import UploadStore
from submarine_hub.store import Database, upgrade
from submarine_hub.store.models import Experiment, NotebookScheduleRun

from .helpers.notebooks import code_cell
from .helpers.notebooks import notebook as make_notebook
from .helpers.runs import wait_final

ALICE = Identity(name="alice", teams=frozenset({"data-science"}))
CAROL = Identity(name="carol", teams=frozenset({"ml-platform"}))
UTC = timezone.utc


def notebook(
    params: str | None = "alpha = 0.5\nname = 'x'", body: str = "print(alpha, name)"
) -> dict:
    """A notebook whose first cell (unless ``params`` is None) is tagged ``parameters``."""
    cells = [code_cell(params, tags=["parameters"])] if params is not None else []
    return make_notebook(*cells, code_cell(body, execution_count=1))


# --- parameters -----------------------------------------------------------------------------


def test_parameters_are_inferred_from_the_tagged_cell() -> None:
    nb = notebook(
        "alpha = 0.5  # learning rate\n"
        "epochs: int = 3\n"
        "name = 'iris'\n"
        "verbose = True\n"
        "layers = [64, 32]\n"
        "options = {'a': 1}\n"
        "seed: Optional[int] = None\n"
        "maybe = None\n"
        "computed = 2 ** 10\n"
        "%matplotlib inline\n"
    )
    found = {p.name: p for p in parameters_of(nb)}
    assert list(found) == [
        "alpha", "epochs", "name", "verbose", "layers", "options", "seed", "maybe", "computed"
    ]  # fmt: skip
    assert found["alpha"].type == "float" and found["alpha"].default == 0.5
    assert found["alpha"].help == "learning rate"
    assert found["epochs"].type == "int" and found["name"].type == "str"
    assert found["verbose"].type == "bool" and found["layers"].type == "list"
    assert found["options"].type == "dict" and found["options"].default == {"a": 1}
    assert found["seed"].type == "int" and found["seed"].nullable
    assert found["maybe"].type == "any" and found["maybe"].nullable
    assert found["computed"].type == "any" and found["computed"].source == "2 ** 10"
    assert parameters_of(notebook(params=None)) == []  # no tagged cell


def test_values_are_checked_against_the_types_each_bad_one_named() -> None:
    params = parameters_of(
        notebook("alpha = 0.5\nepochs = 3\nname = 'x'\nflag = False\nlayers = [1]")
    )
    ok = check_values(
        params, {"alpha": "0.1", "epochs": 4.0, "name": 7, "flag": "true", "layers": "[2, 3]"}
    )
    assert ok == {"alpha": 0.1, "epochs": 4, "name": "7", "flag": True, "layers": [2, 3]}
    with pytest.raises(InvalidInput) as e:
        check_values(
            params, {"alpha": "fast", "epochs": 2.5, "flag": "maybe", "zz": 1, "layers": 3}
        )
    message = e.value.message
    assert "'alpha' must be a float" in message and "'fast'" in message
    assert "'epochs' must be an int" in message and "2.5" in message
    assert "'flag' must be a bool" in message and "'layers' must be a list" in message
    assert "unknown parameter 'zz'" in message
    assert "alpha (float), epochs (int)" in message  # what it has
    with pytest.raises(InvalidInput, match=r"'alpha' must be a float.*not None"):
        check_values(params, {"alpha": None})
    with pytest.raises(InvalidInput, match="no cell tagged 'parameters'"):
        check_values([], {"alpha": 1})


# --- cron ---------------------------------------------------------------------------------------


def t(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_cron_times_with_seconds_and_time_zones() -> None:
    assert ns.check_cron(" */2  * * * * * ") == "*/2 * * * * *"
    assert ns.next_time("*/2 * * * * *", "UTC", t(2026, 1, 1, 0, 0, 1)) == t(2026, 1, 1, 0, 0, 2)
    assert ns.next_time("* * * * *", "UTC", t(2026, 1, 1, 0, 0, 1)) == t(2026, 1, 1, 0, 1, 0)
    # 9:00 in Paris is 8:00 UTC in winter and 7:00 UTC in summer
    assert ns.next_time("0 9 * * *", "Europe/Paris", t(2026, 1, 1)) == t(2026, 1, 1, 8)
    assert ns.next_time("0 9 * * *", "Europe/Paris", t(2026, 7, 1)) == t(2026, 7, 1, 7)
    for bad in ("", "every minute", "* * * *", "61 * * * *", "* * * * * * *"):
        with pytest.raises(InvalidInput, match=r"not a valid cron|must be a cron"):
            ns.check_cron(bad)
    with pytest.raises(InvalidInput, match="not a known time zone"):
        ns.check_timezone("Mars/Olympus")


def test_missed_times_follow_the_catchup_policy() -> None:
    due = t(2026, 1, 1, 10, 0)
    # on time (5 s late, within the 60 s grace): runs, nothing missed
    f = ns.plan("* * * * *", "UTC", "skip", due, due + timedelta(seconds=5), 60)
    assert f.fire_at == due and f.missed == 0 and f.next_run_at == t(2026, 1, 1, 10, 1)
    # the service was down 10 minutes and comes back 30 s after a time: that one runs,
    # the 10 before it were missed
    now = t(2026, 1, 1, 10, 10, 30)
    f = ns.plan("* * * * *", "UTC", "skip", due, now, 60)
    assert f.fire_at == t(2026, 1, 1, 10, 10) and f.missed == 10
    assert f.missed_first == due and f.missed_last == t(2026, 1, 1, 10, 9)
    assert f.next_run_at == t(2026, 1, 1, 10, 11)
    # back 5 minutes after an hourly time: skip waits, run_once runs once for it
    hourly = t(2026, 1, 1, 10)
    now = t(2026, 1, 1, 12, 5)
    skip = ns.plan("0 * * * *", "UTC", "skip", hourly, now, 60)
    assert skip.fire_at is None and skip.missed == 3 and skip.next_run_at == t(2026, 1, 1, 13)
    once = ns.plan("0 * * * *", "UTC", "run_once", hourly, now, 60)
    assert once.fire_at == t(2026, 1, 1, 12) and once.missed == 3


def test_every_time_late_by_less_than_the_grace_runs_after_a_short_outage() -> None:
    # a schedule every 10 s; the service was down 45 s (a fake clock): the 5 times of the
    # outage are each at most 60 s late, so all of them run and none is skipped
    due = t(2026, 1, 1, 10, 0, 0)
    now = due + timedelta(seconds=45)
    for catchup in ns.CATCHUP:
        f = ns.plan("*/10 * * * * *", "UTC", catchup, due, now, 60)
        assert f.fire == [due + timedelta(seconds=s) for s in (0, 10, 20, 30, 40)]
        assert f.missed == 0 and f.missed_first is None
        assert f.next_run_at == due + timedelta(seconds=50)
    # down 95 s: the times more than 60 s late were missed, the rest run
    f = ns.plan("*/10 * * * * *", "UTC", "skip", due, due + timedelta(seconds=95), 60)
    assert f.fire == [due + timedelta(seconds=s) for s in (40, 50, 60, 70, 80, 90)]
    assert f.missed == 4 and f.missed_last == due + timedelta(seconds=30)


# --- the domain ------------------------------------------------------------------------------


async def _setup(db_url: str) -> Database:
    upgrade(db_url)
    db = Database(db_url)
    async with db.session() as s:
        await versions.save(
            s, ALICE, "user:alice", "nbs/train.ipynb", content=notebook(), format="notebook"
        )
        await versions.save(
            s,
            ALICE,
            "user:alice",
            "nbs/train.ipynb",
            content=notebook("alpha = 0.5\nname = 'x'\nepochs = 1"),
            format="notebook",
        )
    return db


async def test_a_notebook_job_runs_a_pinned_version_with_checked_parameters(
    db_url: str, tmp_path: Path
) -> None:
    db = await _setup(db_url)
    uploads = UploadStore(tmp_path / "uploads")
    try:
        async with db.session() as s:
            body = {"notebook": "nbs/train.ipynb", "version": 1, "parameters": {"alpha": "0.1"}}
            row, children = await nj.submit(s, ALICE, body, uploads=uploads, quota_defaults={})
            assert children == [] and row.kind == "notebook" and row.team == "data-science"
            assert row.name == "train" and row.parameters == {"alpha": 0.1}
            task = row.spec["task"]
            assert task["source"] == {
                "space": "user:alice",
                "path": "nbs/train.ipynb",
                "version": 1,
            }
            assert task["notebook"] == "train.ipynb" and task["parameters"] == {"alpha": 0.1}
            assert uploads.path(row.spec["code"]["upload"]).exists()
            assert njr.output_location(row) == ("team:data-science", f"jobs/train/{row.id}.ipynb")
            # the newest version by default; its new parameter is known
            newest, _ = await nj.submit(
                s,
                ALICE,
                {"notebook": "nbs/train.ipynb", "parameters": {"epochs": 3}},
                uploads=uploads,
                quota_defaults={},
            )
            assert newest.spec["task"]["source"]["version"] == 2
            with pytest.raises(InvalidInput, match="'epochs' must be an int"):
                await nj.submit(
                    s,
                    ALICE,
                    {"notebook": "nbs/train.ipynb", "parameters": {"epochs": "many"}},
                    uploads=uploads,
                    quota_defaults={},
                )
            with pytest.raises(InvalidInput, match="unknown parameter 'epochs'"):
                await nj.submit(
                    s,
                    ALICE,
                    {"notebook": "nbs/train.ipynb", "version": 1, "parameters": {"epochs": 3}},
                    uploads=uploads,
                    quota_defaults={},
                )
            with pytest.raises(NotFound, match="no history"):
                await nj.submit(
                    s, ALICE, {"notebook": "nope.ipynb"}, uploads=uploads, quota_defaults={}
                )
            with pytest.raises(InvalidInput, match="not a notebook"):
                await nj.submit(
                    s, ALICE, {"notebook": "nbs/train.py"}, uploads=uploads, quota_defaults={}
                )
            with pytest.raises(InvalidInput, match=r"Unknown|Additional properties"):
                await nj.submit(
                    s,
                    ALICE,
                    {"notebook": "x.ipynb", "bogus": 1},
                    uploads=uploads,
                    quota_defaults={},
                )
            with pytest.raises(InvalidInput, match="either 'notebook'"):
                await nj.submit(s, ALICE, {"name": "x"}, uploads=uploads, quota_defaults={})
            # another team cannot run (or read) alice's notebook, nor run in her team
            with pytest.raises(Forbidden):
                await nj.submit(s, CAROL, {"notebook": "nbs/train.ipynb", "space": "user:alice"},
                                uploads=uploads, quota_defaults={})  # fmt: skip
            with pytest.raises(Forbidden, match="not a member"):
                await nj.submit(
                    s, CAROL, {"content": notebook(), "name": "x", "team": "data-science"},
                    uploads=uploads, quota_defaults={},
                )  # fmt: skip
            with pytest.raises(NotFound):
                await njr.view(s, CAROL, row.id)
            view = await njr.view(s, ALICE, row.id)
            assert view["notebook"]["version"] == 1 and view["output"]["version"] is None
            assert view["output"]["lab_path"] == f"teams/data-science/jobs/train/{row.id}.ipynb"
    finally:
        await db.dispose()


async def test_fan_out_and_inline_notebooks(db_url: str, tmp_path: Path) -> None:
    db = await _setup(db_url)
    uploads = UploadStore(tmp_path / "uploads")
    try:
        async with db.session() as s:
            parent, children = await nj.submit(
                s,
                ALICE,
                {"notebook": "nbs/train.ipynb", "grid": {"alpha": [0.1, 0.2], "name": ["a", "b"]}},
                uploads=uploads,
                quota_defaults={},
            )
            assert len(children) == 4 and {c.parent_id for c in children} == {parent.id}
            assert [c.parameters for c in children][:2] == [
                {"alpha": 0.1, "name": "a"},
                {"alpha": 0.1, "name": "b"},
            ]
            assert parent.kind == "notebook" and is_fanout(parent)
            assert "submarine_hub.client.fanout" in parent.spec["task"]["command"]
            with pytest.raises(InvalidInput, match=r"set 2: 'alpha' must be a float"):
                await nj.submit(
                    s,
                    ALICE,
                    {
                        "notebook": "nbs/train.ipynb",
                        "parameter_sets": [{"alpha": 1}, {"alpha": "x"}],
                    },
                    uploads=uploads,
                    quota_defaults={},
                )
            with pytest.raises(InvalidInput, match="at most 100"):
                await nj.submit(
                    s,
                    ALICE,
                    {"notebook": "nbs/train.ipynb", "grid": {"alpha": list(range(11)),
                                                              "name": [str(i) for i in range(11)]}},
                    uploads=uploads, quota_defaults={},
                )  # fmt: skip
            for c in children[:3]:
                runs.finish(c, "succeeded")
                await runs.log_batch(
                    s,
                    Identity("alice", teams=frozenset({"data-science"})),
                    c.id,
                    {"metrics": [{"key": "score", "value": c.id}]},
                )
            runs.finish(children[3], "failed")
            await s.flush()
            view = await njr.view(s, ALICE, parent.id)
            summary = view["summary"]
            assert summary["total"] == 4
            assert summary["by_status"] == {"succeeded": 3, "failed": 1}
            assert summary["metrics"]["score"]["max_run"] == children[2].id
            # a cell run as a job: kept in the team's jobs folder, versioned
            inline, _ = await nj.submit(
                s,
                ALICE,
                {"content": notebook(), "name": "cell-job"},
                uploads=uploads,
                quota_defaults={},
            )
            src = inline.spec["task"]["source"]
            assert src["space"] == "team:data-science"
            assert src["path"] == "jobs/cell-job/cell-job.ipynb" and src["version"] == 1
            again, _ = await nj.submit(
                s,
                ALICE,
                {"content": notebook(), "name": "cell-job"},
                uploads=uploads,
                quota_defaults={},
            )
            assert again.spec["task"]["source"]["version"] == 2
            assert njr.output_location(again) == (
                "team:data-science",
                f"jobs/cell-job/{again.id}.ipynb",
            )
    finally:
        await db.dispose()


async def test_the_jobs_of_one_notebook_are_listed_for_its_team(
    db_url: str, tmp_path: Path
) -> None:
    db = await _setup(db_url)
    uploads = UploadStore(tmp_path / "uploads")
    try:
        async with db.session() as s:
            single, _ = await nj.submit(
                s, ALICE, {"notebook": "nbs/train.ipynb", "parameters": {"alpha": 2}},
                uploads=uploads, quota_defaults={},
            )  # fmt: skip
            parent, children = await nj.submit(
                s, ALICE, {"notebook": "nbs/train.ipynb", "grid": {"alpha": [0.1, 0.2]}},
                uploads=uploads, quota_defaults={},
            )  # fmt: skip
            other, _ = await nj.submit(
                s,
                ALICE,
                {"content": notebook(), "name": "cell-job"},
                uploads=uploads,
                quota_defaults={},
            )
            runs.finish(children[0], "succeeded")
            await s.flush()
            items = await njr.list_for_notebook(s, ALICE, "nbs/train.ipynb")
            assert [i["id"] for i in items] == [parent.id, single.id]
            assert items[0]["children"] == {
                "total": 2,
                "by_status": {"succeeded": 1, "pending": 1},
            }
            assert items[1]["parameters"] == {"alpha": 2.0}
            assert items[1]["output"]["lab_path"] == (
                f"teams/data-science/jobs/train/{single.id}.ipynb"
            )
            assert "children" not in items[1]
            assert [
                i["id"] for i in await njr.list_for_notebook(s, ALICE, "nbs/train.ipynb", limit=1)
            ] == [parent.id]
            inline = await njr.list_for_notebook(
                s, ALICE, "teams/data-science/jobs/cell-job/cell-job.ipynb"
            )
            assert [i["id"] for i in inline] == [other.id]
            # another team sees none of them, also naming alice's space
            assert await njr.list_for_notebook(s, CAROL, "nbs/train.ipynb", "user:alice") == []
            with pytest.raises(InvalidInput):
                await njr.list_for_notebook(s, ALICE, "")
    finally:
        await db.dispose()


def _executed(error: bool) -> dict[str, Any]:
    nb = notebook()
    nb["cells"].insert(
        1,
        {
            "cell_type": "code",
            "metadata": {"tags": ["injected-parameters"]},
            "source": "# Parameters\nalpha = 2\n",
            "outputs": [],
            "execution_count": 2,
        },
    )
    if error:
        nb["cells"][2]["outputs"] = [
            {"output_type": "error", "ename": "ValueError", "evalue": "boom", "traceback": []}
        ]
        nb["cells"][2]["metadata"]["papermill"] = {"exception": True, "status": "failed"}
        nb["cells"][2]["execution_count"] = 3
        # papermill's banner on top and its anchor before the failing cell
        for at in (2, 0):
            nb["cells"].insert(
                at,
                {
                    "cell_type": "markdown",
                    "metadata": {"tags": ["papermill-error-cell-tag"]},
                    "source": '<span id="papermill-error-cell">An Exception was encountered</span>',
                },
            )
    return nb


async def test_the_executed_notebook_is_kept_with_its_error_cell(
    db_url: str, tmp_path: Path
) -> None:
    db = await _setup(db_url)
    uploads = UploadStore(tmp_path / "uploads")
    try:
        async with db.session() as s:
            ok, _ = await nj.submit(
                s, ALICE, {"notebook": "nbs/train.ipynb"}, uploads=uploads, quota_defaults={}
            )
            bad, _ = await nj.submit(
                s, ALICE, {"notebook": "nbs/train.ipynb"}, uploads=uploads, quota_defaults={}
            )
        for row_id, error in ((ok.id, False), (bad.id, True)):
            artifacts = tmp_path / "runs" / str(row_id)
            artifacts.mkdir(parents=True)
            (artifacts / plans.EXECUTED_NOTEBOOK).write_text(json.dumps(_executed(error)))
            async with db.session() as s:
                row = await s.get(Experiment, row_id)
                runs.finish(row, "failed" if error else "succeeded", reason="main-0 exited")
                kept = await njr.keep_executed(s, row, str(artifacts))
                assert kept["path"] == f"jobs/train/{row_id}.ipynb" and kept["number"] == 1
        async with db.session() as s:
            view = await njr.view(s, ALICE, bad.id)
            # the notebook's own second cell (not counting papermill's cells)
            assert view["reason"] == "cell 2 (In [3]) raised ValueError: boom"
            assert view["error"]["index"] == 1 and view["error"]["ename"] == "ValueError"
            assert view["error"]["executed_index"] == 4
            assert view["output"]["version"] == 1
            info, content = await versions.get(
                s, ALICE, "team:data-science", f"jobs/train/{ok.id}.ipynb"
            )
            assert info.author == "alice" and "injected-parameters" in json.dumps(content)
            assert "error" not in await njr.view(s, ALICE, ok.id)
            with pytest.raises(Forbidden):  # another team's folder
                await versions.get(s, CAROL, "team:data-science", f"jobs/train/{ok.id}.ipynb")
    finally:
        await db.dispose()


# --- schedules --------------------------------------------------------------------------------


class FakeManager:
    def __init__(self, tmp: Path) -> None:
        self.on_final: list[Any] = []
        self.companions: list[Any] = []
        self.woken = 0
        self.tmp = tmp

    def wake(self) -> None:
        self.woken += 1

    def artifacts_location(self, run_id: int) -> str:
        return str(self.tmp / str(run_id))


class FakeContext:
    def __init__(self, db: Database, tmp: Path) -> None:
        self.db = db
        self.uploads = UploadStore(tmp / "uploads")
        self.experiments = FakeManager(tmp)
        self.users = {"alice": ALICE}
        self.quota_defaults: dict = {}

    async def user_identity(self, name: str) -> Identity:
        if name not in self.users:
            raise NotFound(f"No hub user named {name!r}.")
        return self.users[name]


async def _firings(db: Database, schedule_id: int) -> list[NotebookScheduleRun]:
    async with db.session() as s:
        from sqlalchemy import select

        q = select(NotebookScheduleRun).where(NotebookScheduleRun.schedule_id == schedule_id)
        return list((await s.scalars(q.order_by(NotebookScheduleRun.id))).all())


async def test_schedules_fire_once_per_time_survive_restarts_and_catch_up(
    db_url: str, tmp_path: Path
) -> None:
    db = await _setup(db_url)
    context = FakeContext(db, tmp_path)
    jobs = NotebookJobs(context, misfire_grace=60)
    try:
        async with db.session() as s:
            row = await ns.create(
                s,
                ALICE,
                {"cron": "*/10 * * * * *", "job": {"notebook": "nbs/train.ipynb",
                                                    "parameters": {"alpha": 2}}},
                {},
            )  # fmt: skip
            schedule_id = row.id
            assert row.team == "data-science" and row.catchup == "skip" and not row.paused
            assert row.job["notebook"] == "nbs/train.ipynb" and row.job["space"] == "user:alice"
            first = ns.aware(row.next_run_at)
            assert first.second % 10 == 0
            for bad, match in (
                ({"cron": "often", "job": {"notebook": "nbs/train.ipynb"}}, "not a valid cron"),
                ({"cron": "* * * * *"}, "'job' is required"),
                (
                    {"cron": "* * * * *", "catchup": "all", "job": {"notebook": "nbs/train.ipynb"}},
                    "'catchup' must be one of skip, run_once",
                ),
                (
                    {
                        "cron": "* * * * *",
                        "job": {"notebook": "nbs/train.ipynb", "parameters": {"alpha": "x"}},
                    },
                    "'alpha' must be a float",
                ),
                ({"cron": "* * * * *", "timezone": "Nowhere", "job": {}}, "time zone"),
            ):
                with pytest.raises(InvalidInput, match=match):
                    await ns.create(s, ALICE, bad, {})
            with pytest.raises(NotFound):
                await ns.get(s, CAROL, schedule_id)
            assert await ns.list_visible(s, CAROL) == []
        # due: one run for the time; a second tick at the same moment starts nothing
        await jobs.tick(first + timedelta(seconds=1))
        await jobs.tick(first + timedelta(seconds=1))
        firings = await _firings(db, schedule_id)
        assert len(firings) == 1 and firings[0].experiment_id and firings[0].error == ""
        assert ns.aware(firings[0].scheduled_for) == first
        assert context.experiments.woken == 1
        async with db.session() as s:
            run = await s.get(Experiment, firings[0].experiment_id)
            assert run.parameters == {"alpha": 2.0} and f"schedule-{schedule_id}" in run.spec[
                "meta"]["tags"]  # fmt: skip
        # "a restart": a new NotebookJobs 5 minutes later, 7 s after a time (grace: 5 s);
        # skip records the 33 missed times and starts nothing
        later = first + timedelta(minutes=5, seconds=37)
        await NotebookJobs(context, misfire_grace=5).tick(later)
        firings = await _firings(db, schedule_id)
        assert len(firings) == 2 and firings[1].experiment_id is None
        assert (
            "skipped 33 missed run(s)" in firings[1].error and "catchup: skip" in firings[1].error
        )
        # run_once: one run for the latest missed time
        async with db.session() as s:
            await ns.update(s, ALICE, schedule_id, {"catchup": "run_once"}, {})
        await NotebookJobs(context, misfire_grace=5).tick(later + timedelta(minutes=1))
        firings = await _firings(db, schedule_id)
        assert len(firings) == 3 and firings[2].experiment_id and firings[2].error == ""
        # paused: nothing fires; resumed: from now on
        async with db.session() as s:
            with pytest.raises(Forbidden, match="Only alice"):
                await ns.update(
                    s, Identity("bob", teams=frozenset({"data-science"})), schedule_id,
                    {"paused": True}, {},
                )  # fmt: skip
            await ns.update(s, ALICE, schedule_id, {"paused": True}, {})
        await jobs.tick(later + timedelta(hours=1))
        assert len(await _firings(db, schedule_id)) == 3
        async with db.session() as s:
            row = await ns.update(s, ALICE, schedule_id, {"paused": False}, {})
            assert ns.aware(row.next_run_at) > ns.utcnow() - timedelta(seconds=1)
            history = await ns.history(s, ALICE, schedule_id)
            assert [h["run"] is not None for h in history] == [True, False, True]
        # an owner gone from the hub: the firing records why no run started
        context.users.clear()
        async with db.session() as s:
            row = await s.get(ns.NotebookSchedule, schedule_id)
            due = ns.aware(row.next_run_at)
        await jobs.tick(due + timedelta(seconds=1))
        firings = await _firings(db, schedule_id)
        assert "no longer a hub user" in firings[-1].error and firings[-1].experiment_id is None
        async with db.session() as s:
            await ns.delete(s, ALICE, schedule_id)
        assert await _firings(db, schedule_id) == []
    finally:
        await db.dispose()


async def test_a_short_outage_delays_scheduled_runs_and_skips_none(
    db_url: str, tmp_path: Path
) -> None:
    db = await _setup(db_url)
    context = FakeContext(db, tmp_path)
    try:
        async with db.session() as s:
            row = await ns.create(
                s, ALICE, {"cron": "*/10 * * * * *", "job": {"notebook": "nbs/train.ipynb"}}, {}
            )
            schedule_id, first = row.id, ns.aware(row.next_run_at)
        # the service comes back 35 s after a time (a fake clock): the 4 times of the
        # outage are each within the 60 s grace, so each starts its run, and only once
        back = first + timedelta(seconds=35)
        await NotebookJobs(context, misfire_grace=60).tick(back)
        await NotebookJobs(context, misfire_grace=60).tick(back)
        firings = await _firings(db, schedule_id)
        assert [ns.aware(f.scheduled_for) for f in firings] == [
            first + timedelta(seconds=s) for s in (0, 10, 20, 30)
        ]
        assert all(f.experiment_id and f.error == "" for f in firings)
        assert len({f.experiment_id for f in firings}) == 4
    finally:
        await db.dispose()


# --- the warm kernel pool (real processes) ----------------------------------------------------


def _plan(
    tmp: Path, run_id: int, *, body: str, params: dict | None = None, **kw: Any
) -> LaunchPlan:
    import tarfile

    nb_file = tmp / f"nb{run_id}.tar.gz"
    data = json.dumps(notebook(body=body)).encode()
    import io

    with tarfile.open(nb_file, "w:gz") as tar:
        info = tarfile.TarInfo("job.ipynb")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    runs_dir = tmp / "runs"
    spec = {"task": {"notebook": "job.ipynb", "parameters": params or {}}}
    argv = [a.replace("$SUBMARINE_ARTIFACTS_DIR", str(runs_dir / str(run_id) / "artifacts"))
            for a in plans.task_argv(spec)]  # fmt: skip
    replica = ReplicaPlan("main", 0, 0, argv, Resources.parse(kw.pop("resources", {})))
    return LaunchPlan(
        run_id, "nb", "data-science", "alice", "none", {"main": 1}, [replica],
        {"SUBMARINE_RUN_ID": str(run_id), "GREETING": "hello"},
        code={"upload": str(nb_file)},
        notebook={
            "input": "job.ipynb",
            "output": str(runs_dir / str(run_id) / "artifacts" / plans.EXECUTED_NOTEBOOK),
            "parameters": params or {},
        },
        **kw,
    )  # fmt: skip


def _status(tmp: Path, run_id: int) -> dict[str, Any]:
    return json.loads((tmp / "runs" / str(run_id) / "status.json").read_text())


@pytest.mark.local
async def test_notebook_runs_on_warm_kernels_with_limits_kill_and_timeout(tmp_path: Path) -> None:
    backend = LocalExperimentBackend(tmp_path / "runs", notebook_pool_size=1)
    ended: list[int] = []
    backend.on_change = lambda: ended.append(1)
    await backend.start()
    executor_pid = None
    try:
        for _ in range(300):  # the executor comes up, its kernel warms
            if backend.executor and backend.executor._ready:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)
        body = (
            "import os, resource\n"
            "print('cwd', os.path.basename(os.getcwd()), os.environ['GREETING'], alpha)\n"
            "print('as', resource.getrlimit(resource.RLIMIT_AS)[0])\n"
            "print('cores', len(os.sched_getaffinity(0)))"
        )
        await backend.launch(
            _plan(tmp_path, 1, body=body, params={"alpha": 7}, resources={"memory": "3G", "cpu": 1})
        )
        state = await wait_final(backend, 1)
        status = _status(tmp_path, 1)
        executor_pid = status["executor_pid"]
        assert state.status == "succeeded", state
        assert status["warm"] is True and "supervisor_pid" not in status
        log = (await backend.read_log(1, "main-0", 0, 10**6)).decode()
        # the memory limit: the kernel's cgroup v2 where there is one, else RLIMIT_AS
        via_rlimit = status["replicas"][0]["memory_limit"] == "3G (RLIMIT_AS)"
        assert status["replicas"][0]["memory_limit"] in ("3G (RLIMIT_AS)", "3G (cgroup v2)")
        assert "cwd code hello 7" in log and f"as {3 * 10**9 if via_rlimit else -1}" in log
        if len(os.sched_getaffinity(0)) > 1:
            assert "cores 1" in log
        executed = json.loads((tmp_path / "runs/1/artifacts/executed.ipynb").read_text())
        assert "injected-parameters" in json.dumps(executed) and "alpha = 7" in json.dumps(executed)
        for _ in range(100):  # the executor says so over its socket, just after status.json
            if ended:
                break
            await asyncio.sleep(0.05)
        assert ended  # the executor said the run ended
        # an error: the failing cell is named, the notebook marked
        await backend.launch(_plan(tmp_path, 2, body="raise ValueError('boom')"))
        state = await wait_final(backend, 2)
        assert state.status == "failed" and "ValueError: boom" in state.reason
        assert state.exit_code == 1
        executed = json.loads((tmp_path / "runs/2/artifacts/executed.ipynb").read_text())
        assert njr.error_cell(executed)["ename"] == "ValueError"
        # more memory than its limit: out of memory, says the reason
        await backend.launch(
            _plan(tmp_path, 7, body="b = bytearray(8 * 10**9)", resources={"memory": "2G"})
        )
        state = await wait_final(backend, 7)
        assert state.status == "failed" and "out of memory (limit 2G)" in state.reason, state
        # a kill, and a timeout, reach the kernel
        await backend.launch(_plan(tmp_path, 3, body="import time; time.sleep(60)"))
        for _ in range(200):
            if (await backend.state(3)).status == "running":
                break
            await asyncio.sleep(0.05)
        await backend.kill(3)
        assert (await wait_final(backend, 3, 20)).status == "killed"
        await backend.launch(_plan(tmp_path, 4, body="import time; time.sleep(60)", timeout=1))
        state = await wait_final(backend, 4, 20)
        assert state.status == "failed" and "timed out after 1 s" in state.reason
        # launched again (a service restart in between): it does not run twice
        await backend.launch(_plan(tmp_path, 1, body="print('twice')"))
        await asyncio.sleep(0.5)
        assert "twice" not in (await backend.read_log(1, "main-0", 0, 10**6)).decode()
        # the executor dies mid-run: the run is reported lost, like a dead supervisor
        await backend.launch(_plan(tmp_path, 5, body="import time; time.sleep(60)"))
        for _ in range(200):
            if (await backend.state(5)).status == "running":
                break
            await asyncio.sleep(0.05)
        os.kill(executor_pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        state = await backend.state(5)
        assert state.status == "failed" and "supervisor is gone" in state.reason
        # ... and the next run is started by a supervisor meanwhile (papermill's command)
        await backend.launch(_plan(tmp_path, 6, body="print('cold', alpha)", params={"alpha": 1}))
        state = await wait_final(backend, 6, 120)
        assert state.status == "succeeded", await backend.read_log(6, "main-0", 0, 10**6)
        assert "supervisor_pid" in _status(tmp_path, 6)
    finally:
        await backend.close()
        for pid in {executor_pid, _executor_pid(tmp_path)} - {None}:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def _executor_pid(tmp: Path) -> int | None:
    """The executor serving ``tmp/runs`` now, if any."""
    import socket

    from submarine_hub.backends.local.executor import socket_path

    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(socket_path(tmp / "runs"))
            sock.sendall(b'{"op": "status"}\n')
            return json.loads(sock.makefile().readline())["pid"]
    except (OSError, ValueError, KeyError):
        return None
