"""Slow work of a request runs off the event loop: while a notebook diff (nbdime) or an
export (jupytext) is being computed, the service answers other requests; while a code
archive's files are serialized and compressed, the server's loop runs.

The service is the session's in-process one (:mod:`tests.helpers.service`, its own loop in
its own thread). The slow function is replaced by one that waits until a light request,
sent from another thread meanwhile, has been answered: were the slow work run on the
loop, the light request could not be answered, the slow function would give up after
:data:`GUARD_S` and the test would fail."""

from __future__ import annotations

import asyncio
import io
import tarfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from submarine_hub.core import notebook_forms
from submarine_hub.server import code
from submarine_hub.server.code import pack

from .helpers.notebooks import code_cell, notebook
from .helpers.service import InProcessService

#: how long the slow work waits for the light request before it gives up (a guard against
#: hanging, not a measure: the test passes or fails on what was answered)
GUARD_S = 30


def _slow_until_released(
    real: Callable[..., Any], started: Callable[[], object]
) -> tuple[Callable[..., Any], threading.Event]:
    """``real`` made to call ``started()``, then wait for the returned event before it runs
    (raising when the event is not set within :data:`GUARD_S`)."""
    release = threading.Event()

    def blocking(*args: Any, **kwargs: Any) -> Any:
        started()
        if not release.wait(GUARD_S):
            raise RuntimeError("nothing else ran while this waited: the event loop is blocked")
        return real(*args, **kwargs)

    return blocking, release


@pytest.fixture
def meanwhile(
    service: InProcessService, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., requests.Response]:
    """``meanwhile(name, route, **params)``: the answer to ``GET route`` about ``nb.ipynb``
    (two versions, in the personal space of a user of a team of this test's own) while
    ``notebook_forms.<name>`` is made to wait until a light request (``GET me``), sent
    from another thread once the slow work has started, has been answered."""
    user = service.new_user("loop", [service.new_team("loop")])
    where = {"space": f"user:{user}", "path": "nb.ipynb"}
    for source in ("a = 1", "a = 2"):
        r = service.api(
            "POST",
            "files/versions",
            user=user,
            json={**where, "content": notebook(code_cell(source, id="c1")), "format": "notebook"},
        )
        assert r.status_code == 201, r.text
    # the slow request on a connection of its own (the service's session is this thread's)
    headers = {"Authorization": f"token {service.token_for(user)}"}

    def answer(name: str, route: str, **params: Any) -> requests.Response:
        started = threading.Event()
        blocking, release = _slow_until_released(getattr(notebook_forms, name), started.set)
        monkeypatch.setattr(notebook_forms, name, blocking)
        url, query = service.api_url(route), {**where, **params}
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(requests.get, url, params=query, headers=headers, timeout=60)
            try:
                assert started.wait(GUARD_S), "the slow work never started"
                light = service.api("GET", "me", user=user, timeout=GUARD_S)
                assert light.status_code == 200, light.text
                assert not slow.done(), "the light request was answered once the slow work ended"
            finally:
                release.set()  # the loop is the session's: never leave its work waiting
            return slow.result()

    return answer


def test_other_requests_are_answered_while_a_notebook_diff_runs(meanwhile: Any) -> None:
    diff = meanwhile("diff_notebooks", "files/diff", a=1, b=2)
    assert diff.status_code == 200, diff.text
    assert diff.json()["summary"]["modified"] == 1


def test_other_requests_are_answered_while_a_notebook_export_runs(meanwhile: Any) -> None:
    export = meanwhile("export_notebook", "files/export")
    assert export.status_code == 200, export.text
    assert "a = 2" in export.json()["text"]


class _Contents:
    """A contents manager of two files and a folder (what ``pack`` reads)."""

    files = {
        "proj/train.py": {"type": "file", "format": "text", "content": "print(1)\n"},
        "proj/sub/nb.ipynb": {
            "type": "notebook",
            "format": "json",
            "content": notebook(code_cell("x", id="c1")),
        },
    }

    async def get(self, path: str, content: bool = True, type: str | None = None) -> dict:
        if path in self.files:
            return self.files[path]
        children = {p[len(path) + 1 :].split("/")[0] for p in self.files if p.startswith(path)}
        return {
            "type": "directory",
            "content": [
                {
                    "name": name,
                    "path": f"{path}/{name}",
                    "type": "directory" if f"{path}/{name}" not in self.files else "file",
                }
                for name in sorted(children)
            ],
        }


async def test_a_code_archive_holds_the_folders_files_relative_to_it() -> None:
    data = await pack(_Contents(), "proj")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = sorted(tar.getnames())
        script = tar.extractfile("train.py")
        assert script is not None and script.read() == b"print(1)\n"
        assert tar.extractfile("sub/nb.ipynb") is not None
    assert names == ["sub/nb.ipynb", "train.py"]


async def test_the_loop_runs_while_a_code_archive_is_packed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    started = asyncio.Event()
    blocking, release = _slow_until_released(
        code._add, lambda: loop.call_soon_threadsafe(started.set)
    )
    monkeypatch.setattr(code, "_add", blocking)
    packing = asyncio.ensure_future(pack(_Contents(), "proj"))
    try:
        await started.wait()
        assert not packing.done(), "the loop ran only once the files were added"
    finally:
        release.set()
    with tarfile.open(fileobj=io.BytesIO(await packing), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["sub/nb.ipynb", "train.py"]
