"""Notebook jobs without a hub: a notebook's parameters, and the domain on SQLite and
PostgreSQL (jobs, fan-out, the jobs of a notebook, executed notebooks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from submarine_hub.core import notebook_job_runs as njr
from submarine_hub.core import notebook_jobs as nj
from submarine_hub.core import versions
from submarine_hub.core.errors import Forbidden, InvalidInput, NotFound
from submarine_hub.core.experiments import metrics as run_metrics
from submarine_hub.core.experiments import plans, runs
from submarine_hub.core.identity import Identity
from submarine_hub.core.notebook_fanout import is_fanout
from submarine_hub.core.notebook_parameters import check_values, parameters_of
from submarine_hub.service.uploads import UploadStore
from submarine_hub.store.models import Experiment

from .helpers.notebook_jobs import ALICE, CAROL, notebook, train_notebook_db

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


# --- the domain ------------------------------------------------------------------------------


async def test_a_notebook_job_runs_a_pinned_version_with_checked_parameters(
    db_url: str, tmp_path: Path
) -> None:
    db = await train_notebook_db(db_url)
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
    db = await train_notebook_db(db_url)
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
                await run_metrics.log_batch(
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
    db = await train_notebook_db(db_url)
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
    db = await train_notebook_db(db_url)
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
