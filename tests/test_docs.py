"""The docs are executed: every runnable block of README.md and docs/*.md, in order per
page, in a real session's terminal and kernel, as a user of two teams whose session was
started for one of them (see tests/helpers/docs.py for what a block is and its markers).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket

from .helpers.docs import PAGES, RUNNER, Block, blocks, console_script, file_script
from .helpers.hub import Hub, _execute
from .helpers.sessions import ensure_session

pytestmark = pytest.mark.hub

READER = "bob"  # the demo user of two teams; his session runs for the first
TEAMS = ("data-science", "ml-platform")
WORK = "docs-test"  # the harness's folder in his home
BLOCK_TIMEOUT = 300
COUNTS: Counter[str] = Counter()


class Session:
    """bob's running session: a terminal shell and, per page, a kernel."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.headers = {"Authorization": f"token {hub.token_for(READER)}"}
        r = self.call("POST", "api/terminals")
        self.terminal = r.json()["name"]
        url = hub.user_url(READER, f"terminals/websocket/{self.terminal}")
        self.ws = websocket.create_connection(
            url.replace("http", "ws", 1), header=self.headers, timeout=BLOCK_TIMEOUT
        )
        self.call("PUT", f"api/contents/{WORK}", json={"type": "directory"})
        self.put(f"{WORK}/run.sh", RUNNER)
        self.kernel = ""
        self.seq = 0

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        r = requests.request(
            method, self.hub.user_url(READER, path), headers=self.headers, timeout=60, **kw
        )
        assert r.status_code < 400, (method, path, r.status_code, r.text)
        return r

    def put(self, path: str, text: str) -> None:
        body = {"type": "file", "format": "text", "content": text}
        self.call("PUT", f"api/contents/{path}", json=body)

    def read(self, path: str) -> str:
        return self.call("GET", f"api/contents/{path}?content=1&format=text").json()["content"]

    def shell(self, page: str, script: str) -> tuple[int, str]:
        """Run ``script`` in the terminal (the page's folder and shell variables)."""
        self.seq += 1
        n = self.seq
        self.put(f"{WORK}/block-{n}.sh", script)
        line = (
            f"bash ~/{WORK}/run.sh ~/docs/{page} ~/{WORK}/block-{n}.sh ~/{WORK}/{page}.vars"
            f" > ~/{WORK}/out-{n}.txt 2>&1; echo __DONE_{n}_$?__\r"
        )
        self.ws.send(json.dumps(["stdin", line]))
        done = re.compile(rf"__DONE_{n}_(\d+)__")
        seen, deadline = "", time.monotonic() + BLOCK_TIMEOUT
        while time.monotonic() < deadline:
            kind, *data = json.loads(self.ws.recv())
            if kind == "stdout":
                seen += data[0]
                if m := done.search(seen):
                    return int(m[1]), self.read(f"{WORK}/out-{n}.txt")
        raise TimeoutError(f"the block did not end in {BLOCK_TIMEOUT} s; terminal: {seen[-2000:]}")

    def python(self, page: str, code: str) -> tuple[list[str], str]:
        if not self.kernel:
            self.kernel = self.call("POST", "api/kernels", json={}).json()["id"]
            folder = f"_os.path.expanduser('~/docs/{page}')"
            self.python(
                page,
                f"import os as _os; _os.makedirs({folder}, exist_ok=True); _os.chdir({folder})",
            )
        url = self.hub.user_url(READER, f"api/kernels/{self.kernel}/channels")
        errors: list[str] = []
        out = _execute(
            url.replace("http", "ws", 1), self.headers, code, BLOCK_TIMEOUT, errors=errors
        )
        return errors, out

    def end_page(self) -> None:
        if self.kernel:
            self.call("DELETE", f"api/kernels/{self.kernel}")
            self.kernel = ""

    def close(self) -> None:
        self.end_page()
        self.ws.close()
        self.call("DELETE", f"api/terminals/{self.terminal}")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub of the docs' own, fresh as a newcomer's: the pages create objects by the names
    they show (an environment pandas-lab, an endpoint iris), which the hub the other tests
    share may already hold."""
    h = Hub(data_dir=tmp_path_factory.mktemp("docs-hub"))
    h.start()
    try:
        yield h
    finally:
        h.stop()


@pytest.fixture(scope="module")
def reader(hub: Hub) -> Iterator[Session]:
    teams = hub.api("GET", "me", user=READER).json()["teams"]
    assert sorted(t if isinstance(t, str) else t["name"] for t in teams) == sorted(TEAMS)
    ensure_session(hub, READER, TEAMS[0])
    session = Session(hub)
    yield session
    session.close()


@pytest.fixture(scope="module", autouse=True)
def _say_counts(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter and COUNTS:
        reporter.write_line(
            f"\ndocs: {COUNTS['ran']} blocks ran ({COUNTS['bash']} shell, "
            f"{COUNTS['console']} console, {COUNTS['python']} python, {COUNTS['admin']} as "
            f"admin), {COUNTS['file']} files written, {COUNTS['illustrative']} marked "
            f"illustrative, in {COUNTS['pages']} pages"
        )


def admin_shell(hub: Hub, page: str, script: str, tmp: Path) -> tuple[int, str]:
    """A block an admin runs from their own machine: the CLI with the admin's token."""
    folder = tmp / page
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SUBMARINE_API_URL": hub.api_url().rstrip("/"),
        "SUBMARINE_TOKEN": hub.token_for("admin"),
    }
    p = subprocess.run(
        ["bash", "-c", "set -eo pipefail\n" + script],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
    )
    return p.returncode, p.stdout + p.stderr


def page_id(page: Path) -> str:
    return page.stem if page.parent.name == "docs" else page.name


RUN_PAGES = [p for p in PAGES if blocks(p)]


@pytest.mark.parametrize("page", RUN_PAGES, ids=page_id)
def test_every_block_of_the_page_runs_as_written(
    hub: Hub, reader: Session, page: Path, tmp_path: Path
) -> None:
    stem = f"{page_id(page).replace('.', '-')}-{uuid.uuid4().hex[:6]}"
    COUNTS["pages"] += 1
    try:
        for block in blocks(page):
            run_block(hub, reader, stem, block, tmp_path)
    finally:
        reader.end_page()


def run_block(hub: Hub, reader: Session, stem: str, block: Block, tmp: Path) -> None:
    if block.marker == "illustrative":
        COUNTS["illustrative"] += 1
        return
    assert block.marker in ("", "admin"), f"{block.where}: unknown marker {block.marker!r}"
    if block.lang == "file":
        COUNTS["file"] += 1
        script = file_script(block)
    elif block.lang == "python":
        assert block.marker != "admin", f"{block.where}: admin blocks are shell blocks"
        errors, out = reader.python(stem, block.text)
        COUNTS["ran"] += 1
        COUNTS["python"] += 1
        assert not errors, f"{block.where} failed:\n{block.text}\n--- output ---\n{out}"
        return
    else:
        COUNTS["ran"] += 1
        COUNTS[block.lang] += 1
        script = console_script(block.text) if block.lang == "console" else block.text
    if block.marker == "admin":
        COUNTS["admin"] += 1
        status, out = admin_shell(hub, stem, script, tmp)
    else:
        status, out = reader.shell(stem, script)
    assert status == 0, (
        f"{block.where} failed (exit {status}):\n{block.text}\n--- output ---\n{out[-4000:]}"
    )
