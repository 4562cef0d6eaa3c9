"""Slow work of a request runs off the event loop: while a notebook diff (nbdime) or an
export (jupytext) is being computed, the service answers other requests. The service
runs in this test's process, with one user and team and no hub; the slow function is
replaced by one that waits until a concurrent request has been answered."""

from __future__ import annotations

import asyncio
import io
import tarfile
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from submarine_hub.core import notebook_forms
from submarine_hub.server.code import pack

from .helpers.inprocess_service import service_client
from .helpers.notebooks import code_cell

#: how long a blocked diff waits for the concurrent request before it gives up (a guard
#: against hanging, not a measure: the test passes or fails on what was answered)
GUARD_S = 30


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(tmp_path, timeout=2 * GUARD_S) as client:
        yield client


def _notebook(source: str) -> dict[str, Any]:
    return {
        "cells": [{**code_cell(source), "id": "c1"}],
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


async def _two_versions(api: httpx.AsyncClient) -> None:
    for source in ("a = 1", "a = 2"):
        r = await api.post(
            "files/versions",
            json={
                "space": "user:alice",
                "path": "nb.ipynb",
                "content": _notebook(source),
                "format": "notebook",
            },
        )
        assert r.status_code == 201, r.text


async def _answers_meanwhile(
    api: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    slow_request: Callable[[], Any],
) -> httpx.Response:
    """Replace ``notebook_forms.<name>`` by itself waiting for a release; send the slow
    request, then a light one (``GET me``) once the slow work has started; the light
    one's answer releases the slow work. The slow request's answer."""
    real = getattr(notebook_forms, name)
    loop = asyncio.get_running_loop()
    started, release = asyncio.Event(), threading.Event()

    def blocking(*args: Any, **kwargs: Any) -> Any:
        loop.call_soon_threadsafe(started.set)
        if not release.wait(GUARD_S):
            raise RuntimeError("nothing was answered while this ran: the event loop is blocked")
        return real(*args, **kwargs)

    monkeypatch.setattr(notebook_forms, name, blocking)
    slow = asyncio.ensure_future(slow_request())
    await started.wait()
    light = await api.get("me")
    assert light.status_code == 200, light.text
    assert not slow.done()  # the light request was answered while the slow work ran
    release.set()
    return await slow


async def test_other_requests_are_answered_while_a_notebook_diff_runs(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _two_versions(api)
    diff = await _answers_meanwhile(
        api,
        monkeypatch,
        "diff_notebooks",
        lambda: api.get(
            "files/diff", params={"space": "user:alice", "path": "nb.ipynb", "a": 1, "b": 2}
        ),
    )
    assert diff.status_code == 200, diff.text
    assert diff.json()["summary"]["modified"] == 1


async def test_other_requests_are_answered_while_a_notebook_export_runs(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _two_versions(api)
    export = await _answers_meanwhile(
        api,
        monkeypatch,
        "export_notebook",
        lambda: api.get("files/export", params={"space": "user:alice", "path": "nb.ipynb"}),
    )
    assert export.status_code == 200, export.text
    assert "a = 2" in export.json()["text"]


class _Contents:
    """A contents manager of two files and a folder (what ``pack`` reads)."""

    files = {
        "proj/train.py": {"type": "file", "format": "text", "content": "print(1)\n"},
        "proj/sub/nb.ipynb": {"type": "notebook", "format": "json", "content": _notebook("x")},
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
