"""The save journal's replay after a session crash: how long a backlog takes to drain.

    .venv/bin/python bench/journal_replay.py                 # 700 saves; old way at 150
    .venv/bin/python bench/journal_replay.py --quick         # 100 saves; old way at 50

Starts a real hub (``tests/helpers/hub.py``). A session's contents manager (user alice) saves a
notebook N times while the platform cannot be reached (nothing listens at its URL), so
every save waits in the journal; the manager stops as a crashed server would. A second
manager on the same home then replays the journal with the platform reachable, and the
bench times it until every record is in history (``flush_saves``). Each replayed record
is "maybe sent", as after a crash.

Two ways, measured in the same run against the same hub:

- **keyed** (now): each record carries an id, sent as the save's ``Idempotency-Key``; the
  replay posts every record once.
- **history lookup** (before): records without an id, as the journal wrote them before;
  each is first looked for in the file's history (the whole history, and the content of
  every version created since it was saved): quadratic in the backlog. It is measured on
  a smaller backlog (``--old-saves``) too, since 700 took 7-62 minutes; the keyed replay
  is measured at that size as well, so the ratio compares equal backlogs.

Finally checks that history holds every save once, in order.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nbformat

from submarine_hub.server.contents import SubmarineContentsManager
from tests.helpers.hub import Hub, free_port


def book(i: int) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"value = {i}", id="c1")]
    return nb


def manager(hub: Hub, home: Path, url: str) -> SubmarineContentsManager:
    os.environ.update(
        SUBMARINE_API_URL=url,
        SUBMARINE_TOKEN=hub.token_for("alice"),
        JUPYTER_DATA_DIR=str(home.parent / f"{home.name}-jupyter-data"),
    )
    home.mkdir(parents=True, exist_ok=True)
    return SubmarineContentsManager(
        root_dir=str(home),
        user="alice",
        journal_fsync=False,  # the bench times the replay, not the disk
        push_retry_interval=0.2,
        push_retry_max=1.0,
        history_wait=3600.0,
        log=logging.getLogger("bench-journal"),
    )


async def close(mgr: SubmarineContentsManager) -> None:
    await mgr.stop_journal()
    if mgr.platform is not None:
        await mgr.platform.client.close()


async def replay(hub: Hub, tmp: Path, saves: int, keyed: bool) -> float:
    """Seconds the replay of ``saves`` queued saves of one notebook takes."""
    label = "keyed" if keyed else "history"
    home, path = tmp / f"home-{label}-{saves}", f"backlog-{label}-{saves}.ipynb"
    down = f"http://127.0.0.1:{free_port()}/services/submarine/api/v1"
    first = manager(hub, home, down)
    header = SubmarineContentsManager._header
    if not keyed:  # records as the journal wrote them before ids existed

        def old_header(self: Any, *a: Any) -> dict[str, Any]:
            h = header(self, *a)
            h.pop("id", None)
            return h

        SubmarineContentsManager._header = old_header  # type: ignore[method-assign]
    try:
        for i in range(saves):
            await first.save({"type": "notebook", "format": "json", "content": book(i)}, path)
    finally:
        SubmarineContentsManager._header = header  # type: ignore[method-assign]
        await close(first)  # "crashed": every record is still in the journal

    second = manager(hub, home, hub.service_url + "/services/submarine/api/v1")
    start = time.perf_counter()
    try:
        await second.start_journal()
        assert await second.flush_saves(), "the replay did not finish"
        took = time.perf_counter() - start
    finally:
        await close(second)
    items = hub.api("GET", f"files/versions?space=user:alice&path={path}", user="alice").json()[
        "items"
    ]
    assert len(items) == saves, f"{len(items)} versions for {saves} saves"
    print(f"  {label:<8} replay of {saves:>4} saves: {took:7.1f} s ({saves / took:.0f} saves/s)")
    return took


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    hub = Hub(tmp / "hub")
    hub.start(timeout=300)  # a loaded machine
    out: dict[str, float] = {}
    try:
        out["keyed_small"] = await replay(hub, tmp, args.old_saves, keyed=True)
        out["history_small"] = await replay(hub, tmp, args.old_saves, keyed=False)
        out["keyed"] = await replay(hub, tmp, args.saves, keyed=True)
    finally:
        hub.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 saves; the old way at 50")
    parser.add_argument("--saves", type=int, help="backlog replayed the keyed way (700)")
    parser.add_argument("--old-saves", type=int, help="backlog replayed both ways (150)")
    args = parser.parse_args()
    args.saves = args.saves or (100 if args.quick else 700)
    args.old_saves = args.old_saves or (50 if args.quick else 150)
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bench-journal-") as tmp:
        out = asyncio.run(run(args, Path(tmp)))
    n, small = args.saves, args.old_saves
    ratio = out["history_small"] / out["keyed_small"]
    # the lookup reads every version made since the record was saved: time grows as n²
    projected = out["history_small"] * (n / small) ** 2
    print("== bench/journal_replay.py: summary ==")
    old, new = out["history_small"], out["keyed_small"]
    print(f"backlog {small}: history lookup {old:.1f} s, keyed {new:.1f} s, ratio {ratio:.1f}x")
    big = out["keyed"]
    print(
        f"backlog {n}: keyed {big:.1f} s; history lookup projected ~{projected:.0f} s "
        f"(x (n/{small})²), ratio ~{projected / big:.0f}x"
    )


if __name__ == "__main__":
    main()
