"""Notebook saves: latency of a versioned save, and what 500 versions cost in storage.

    .venv/bin/python bench/notebooks.py            # full run (about 2-3 minutes)
    .venv/bin/python bench/notebooks.py --quick    # smoke run: 20 latency saves, 50 versions

(a) Save latency. Starts a real hub (``tests/helpers/hub.py``) and times
``await manager.save(model, path)`` of ``SubmarineContentsManager`` (user alice, platform
reached like a session does: ``SUBMARINE_API_URL`` = the service's own URL, which the
spawner hands to sessions; ``--via-proxy`` goes through the hub's proxy instead) against
jupyter-server's ``AsyncFileContentsManager``, on the same notebooks, one edited cell per
save (round-robin over the code cells), the two managers alternating save by save (and
which of the two goes first alternating too). Two notebooks: 30 cells with a few outputs
including a ~200 KB PNG, and 5 small cells. Target (issue): median ours/plain <= 1.3.
Ours acknowledges a save once its version record is in the journal (fsync'd); after each
of its saves, untimed, the bench waits until the journal has pushed it to the platform
(``flush_saves``), so neither manager's timing carries the other's background work, and
reports that time (save acknowledged -> version in history); ``--concurrent-push`` does
not wait, the push then runs during the next saves (of both managers). Also shows the journal
record's append and sync times; at the end checks that history holds every save, in order;
``--profile`` adds a cProfile of one save.

(b) Storage. 500 versions of a notebook carrying a 2 MiB PNG output (random bytes, so
compression cannot cheat), each version editing one code cell (round-robin over its 20
code cells), recorded by ``core.versions.save`` into a fresh SQLite database; then the
same 500 versions committed to a git repository and ``git gc --aggressive``. Reports the
bytes each takes against one copy of the ``.ipynb``. Target (issue): logical bytes
stored / one copy <= 1.5.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import cProfile
import io
import json
import os
import pstats
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.hub import Hub

LATENCY_TARGET = 1.3
STORAGE_TARGET = 1.5
GIT = ["git", "-c", "user.name=b", "-c", "user.email=b@b", "-c", "gc.auto=0"]
# for the 500 commits: no fsync, no hooks or signing, uncompressed loose objects (gc packs
# and compresses them anyway; zlib-compressing 2.8 MB per `git add` doubled its time)
GIT_BATCH = [
    *("-c", "core.fsync=none", "-c", "core.looseCompression=0"),
    *("-c", "commit.gpgSign=false", "-c", "core.hooksPath=/dev/null"),
]

# --- notebooks ------------------------------------------------------------------------------
CODE_LINES = [
    "import numpy as np",
    "import pandas as pd",
    "df = pd.read_parquet('data/events.parquet')",
    "df = df[df['country'].isin(['DE', 'FR', 'NL'])]",
    "daily = df.groupby(df['ts'].dt.date)['amount'].agg(['sum', 'mean', 'count'])",
    "model = fit(X_train, y_train, alpha=0.1, max_iter=500)",
    "scores = cross_val_score(model, X, y, cv=5, scoring='roc_auc')",
    "print(f'AUC {scores.mean():.3f} +/- {scores.std():.3f}')",
    "fig, ax = plt.subplots(figsize=(10, 4))",
    "ax.plot(daily.index, daily['sum'], label='revenue')",
    "features = [c for c in df.columns if c.startswith('f_')]",
    "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)",
    "for name, group in df.groupby('segment'):",
    "    print(name, len(group), group['amount'].median())",
    "assert not df['user_id'].isna().any(), 'user ids must be present'",
]
MARKDOWN = [
    "## Loading the data\n\nEvents from the warehouse export, one row per purchase.",
    "### Cleaning\n\nDrop test accounts and the **March outage** window; see the wiki page.",
    "## Model\n\nA regularised logistic regression as a baseline, then gradient boosting.",
    "We keep the hold-out set untouched until the very end:\n\n- 80 % train\n- 20 % test",
    "### Results\n\n| model | AUC |\n|---|---|\n| baseline | 0.71 |\n| boosted | 0.78 |",
]


def _code(rng: random.Random, n: int) -> str:
    return "\n".join(rng.choice(CODE_LINES) for _ in range(n))


def _cell(kind: str, index: int, source: str, **extra: Any) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "cell_type": kind,
        "id": f"cell-{index:03d}",
        "metadata": {},
        "source": source,
    }
    if kind == "code":
        cell.update(execution_count=index + 1, outputs=[])
    cell.update(extra)
    return cell


def _image_output(rng: random.Random, raw_bytes: int) -> dict[str, Any]:
    png = b"\x89PNG\r\n\x1a\n" + rng.randbytes(raw_bytes - 8)
    return {
        "output_type": "display_data",
        "data": {
            "image/png": base64.b64encode(png).decode(),
            "text/plain": ["<Figure size 1000x400 with 1 Axes>"],
        },
        "metadata": {},
    }


def _notebook(cells: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.9", "mimetype": "text/x-python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def build_notebook(
    n_code: int, n_markdown: int, image_bytes: int, seed: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A notebook of ``n_code`` code cells with a markdown cell before every few of them;
    some outputs (stdout, an HTML table, and an image of ``image_bytes`` raw bytes if not 0).
    Returns the notebook and its code cells (what the edits touch)."""
    rng = random.Random(seed)
    cells: list[dict[str, Any]] = []
    code_cells: list[dict[str, Any]] = []
    every = max(1, n_code // max(1, n_markdown))
    for i in range(n_code):
        if i % every == 0 and sum(c["cell_type"] == "markdown" for c in cells) < n_markdown:
            cells.append(_cell("markdown", len(cells), MARKDOWN[len(cells) % len(MARKDOWN)]))
        cell = _cell("code", len(cells), _code(rng, rng.randint(3, 12)))
        if i % 4 == 1:
            lines = [
                f"{rng.choice(['DE', 'FR', 'NL'])} {rng.randint(10, 9999)}\n" for _ in range(8)
            ]
            cell["outputs"].append({"output_type": "stream", "name": "stdout", "text": lines})
        if i == 3 or (n_code > 10 and i == 9):
            rows = "".join(
                f"<tr><td>{d}</td><td>{rng.random() * 1e4:.2f}</td><td>{rng.randint(1, 500)}</td>"
                "</tr>\n"
                for d in range(40)
            )
            cell["outputs"].append(
                {
                    "output_type": "execute_result",
                    "execution_count": cell["execution_count"],
                    "data": {
                        "text/html": [
                            f"<table>\n<tr><th>day</th><th>sum</th><th>n</th></tr>\n{rows}"
                        ],
                        "text/plain": ["      sum    n\nday\n0  1234.5  17\n..."],
                    },
                    "metadata": {},
                }
            )
        if image_bytes and i == n_code // 2:
            cell["outputs"].append(_image_output(rng, image_bytes))
        cells.append(cell)
        code_cells.append(cell)
    return _notebook(cells), code_cells


def editor(code_cells: list[dict[str, Any]]) -> Callable[[int], None]:
    """``edit(i)``: the i-th save's change, a retyped line at the end of one code cell
    (round-robin over the code cells)."""
    base = [c["source"] for c in code_cells]

    def edit(i: int) -> None:
        k = i % len(code_cells)
        code_cells[k]["source"] = base[k] + f"\nthreshold = {i / 100:.2f}  # revision {i}"

    return edit


def ipynb_text(nb: dict[str, Any]) -> str:
    """The file as Jupyter (nbformat) writes it."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


# --- (a) save latency ----------------------------------------------------------------------
def p90(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=10, method="inclusive")[-1]


async def time_saves(
    managers: dict[str, Any],
    nb: dict[str, Any],
    edit: Callable[[int], None],
    path: str,
    warmup: int,
    n: int,
    drain: bool = True,
) -> dict[str, list[float]]:
    """Alternate the managers save by save; return each one's timed latencies (s). With
    ``drain``, wait (untimed) after each save of ours until its push is done."""
    times: dict[str, list[float]] = {name: [] for name in managers}
    times.update({f"{name} push": [] for name in managers})
    names = list(managers)
    for i in range(warmup + n):
        edit(i)
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            # a fresh object each save, as the server parses it from the request body
            model = {"type": "notebook", "format": "json", "content": copy.deepcopy(nb)}
            start = time.perf_counter()
            await managers[name].save(model, path)
            elapsed = time.perf_counter() - start
            flush = getattr(managers[name], "flush_saves", None)
            if flush is not None and drain:  # untimed: this save's push, to its end
                assert await flush(), "the journal could not push a save"
                pushed = time.perf_counter() - start
                if i >= warmup:
                    times[f"{name} push"].append(pushed)
            if i >= warmup:
                times[name].append(elapsed)
    return times


def time_sync_calls(obj: Any, name: str, into: list[float]) -> None:
    """Like :func:`time_calls`, for a plain method."""
    method = getattr(obj, name)

    def timed(*args: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kw)
        finally:
            into.append(time.perf_counter() - start)

    setattr(obj, name, timed)


def time_calls(obj: Any, name: str, into: list[float]) -> None:
    """Time every call of ``obj.name`` (an async method) into ``into``; undo with
    ``obj.__dict__.pop(name)``."""
    method = getattr(obj, name)

    async def timed(*args: Any, **kw: Any) -> Any:
        start = time.perf_counter()
        try:
            return await method(*args, **kw)
        finally:
            into.append(time.perf_counter() - start)

    setattr(obj, name, timed)


def cpu_split_ms(nb: dict[str, Any], reps: int = 20) -> float:
    """Median CPU time of what the journal's push computes before sending: the saved
    file parsed back, and its parts."""
    from submarine_hub.core import contentaddr

    data = ipynb_text(nb).encode()
    ts = []
    for _ in range(reps):
        start = time.perf_counter()
        contentaddr.split(json.loads(data), "notebook")
        ts.append(time.perf_counter() - start)
    return statistics.median(ts) * 1000


async def round_trips(client: Any, n: int = 30) -> dict[str, float]:
    """Median round trip, on the manager's client, of an unauthenticated request
    (``GET health``: one database ping) and of an authenticated one (``GET me``: the token
    checked and the caller's groups looked up in the hub)."""
    found: dict[str, float] = {}
    for path in ("health", "me"):
        ts = []
        for _ in range(n):
            start = time.perf_counter()
            resp = await client.send("GET", path)
            ts.append(time.perf_counter() - start)
            assert resp.is_success, resp.text
        found[f"GET {path}"] = statistics.median(ts) * 1000
    return found


async def latency(hub: Hub, args: argparse.Namespace, tmp: Path, out: dict[str, Any]) -> None:
    from jupyter_server.services.contents.filemanager import AsyncFileContentsManager

    from submarine_hub.server.contents import SubmarineContentsManager

    api_url = hub.api_url() if args.via_proxy else f"{hub.service_url}/services/submarine/api/v1"
    os.environ["SUBMARINE_API_URL"] = api_url
    os.environ["SUBMARINE_TOKEN"] = hub.token_for("alice")
    os.environ["JUPYTER_DATA_DIR"] = str(tmp / "jupyter-data")  # notebook signatures db
    (tmp / "ours").mkdir()
    (tmp / "plain").mkdir()
    ours = SubmarineContentsManager(root_dir=str(tmp / "ours"), user="alice")
    plain = AsyncFileContentsManager(root_dir=str(tmp / "plain"))
    assert ours.platform is not None, "the platform is not configured"
    out["api"] = "service URL (as sessions)" if not args.via_proxy else "through the hub's proxy"
    print(f"platform API for saves: {api_url}")

    scenarios = {
        "big": ("30-cell notebook, ~200 KB PNG", build_notebook(20, 10, 150_000, seed=1)),
        "small": ("5-cell notebook, no image", build_notebook(3, 2, 0, seed=2)),
    }
    try:
        for key, (label, (nb, code_cells)) in scenarios.items():
            size = len(ipynb_text(nb).encode())
            append_times: list[float] = []
            sync_times: list[float] = []
            assert ours.journal is not None
            await ours.start_journal()
            time_sync_calls(ours.journal.disk, "_append", append_times)
            time_sync_calls(ours.journal.disk, "_sync", sync_times)
            times = await time_saves(
                {"ours": ours, "plain": plain},
                nb,
                editor(code_cells),
                f"{key}.ipynb",
                args.warmup,
                args.saves,
                drain=not args.concurrent_push,
            )
            assert await ours.flush_saves(), "the journal could not push its saves"
            drained = not args.concurrent_push
            for name in ("_append", "_sync"):  # back to the class's methods
                ours.journal.disk.__dict__.pop(name)
            history = await ours.platform.call(
                "GET", "files/versions", params={"space": "user:alice", "path": f"{key}.ipynb"}
            )
            numbers = [v["number"] for v in history["items"]][::-1]
            saves = args.warmup + args.saves
            assert numbers == list(range(1, saves + 1)), f"history incomplete: {numbers}"
            res = {
                "label": f"{label} ({size / 1000:.0f} KB, {len(nb['cells'])} cells)",
                "n": args.saves,
                "ours": statistics.median(times["ours"]) * 1000,
                "ours_p90": p90(times["ours"]) * 1000,
                "plain": statistics.median(times["plain"]) * 1000,
                "plain_p90": p90(times["plain"]) * 1000,
                "append": statistics.median(append_times[-args.saves :]) * 1000,
                "sync": statistics.median(sync_times[-args.saves :]) * 1000,
                "push": statistics.median(times["ours push"]) * 1000 if drained else None,
                "push_p90": p90(times["ours push"]) * 1000 if drained else None,
                "versions": len(numbers),
                "cpu": cpu_split_ms(nb),
            }
            res["ratio"] = res["ours"] / res["plain"]
            out[key] = res
            print(
                f"[{key}] {res['label']}: ours median {res['ours']:.1f} ms p90 "
                f"{res['ours_p90']:.1f} ms | plain median {res['plain']:.1f} ms p90 "
                f"{res['plain_p90']:.1f} ms | ratio {res['ratio']:.2f} | ours' journal: append "
                f"{res['append']:.2f} ms, sync {res['sync']:.2f} ms; "
                + (f"in history {res['push']:.1f} ms after the save started; " if drained else "")
                + f"{res['versions']} versions for {res['versions']} saves"
            )
        out["probe"] = await round_trips(ours.platform.client)
        print(
            "round trips to the platform: "
            + ", ".join(f"{k} {v:.1f} ms" for k, v in out["probe"].items())
        )
        if args.profile:
            nb, code_cells = scenarios["big"][1]
            edit = editor(code_cells)
            for name, mgr in (("ours", ours), ("plain", plain)):
                edit(10_000 + (name == "plain"))
                model = {"type": "notebook", "format": "json", "content": copy.deepcopy(nb)}
                prof = cProfile.Profile()
                prof.enable()
                await mgr.save(model, "big.ipynb")
                prof.disable()
                buf = io.StringIO()
                pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(14)
                print(f"--- cProfile of one save ({name}, big notebook), by own time ---")
                print("\n".join(buf.getvalue().splitlines()[:32]))
    finally:
        await ours.stop_journal()
        await ours.platform.client.close()


# --- (b) storage ---------------------------------------------------------------------------
def big_versions(n: int) -> Iterator[dict[str, Any]]:
    """The n successive versions of the storage notebook (one dict, edited in place)."""
    nb, code_cells = build_notebook(20, 8, 2 * 1024 * 1024, seed=3)
    edit = editor(code_cells)
    yield nb
    for i in range(1, n):
        edit(i)
        yield nb


def dir_bytes(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


async def store_versions(n: int, tmp: Path, out: dict[str, Any]) -> None:
    from submarine_hub.core import versions
    from submarine_hub.core.identity import Identity
    from submarine_hub.store import Database, upgrade

    db_path = tmp / "bench.sqlite"
    url = f"sqlite:///{db_path}"
    upgrade(url)
    db = Database(url)
    me = Identity(name="bench")
    start = time.perf_counter()
    one_copy = 0
    for nb in big_versions(n):
        async with db.session() as s:
            await versions.save(s, me, "user:bench", "big.ipynb", content=nb, format="notebook")
        one_copy = len(ipynb_text(nb).encode())
    out["core_s"] = time.perf_counter() - start
    await db.dispose()

    con = sqlite3.connect(db_path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        blobs, blob_rows = con.execute("SELECT sum(length(data)), count(*) FROM blobs").fetchone()
        manifests, n_versions = con.execute(
            "SELECT sum(length(CAST(manifest AS BLOB))), count(*) FROM file_versions"
        ).fetchone()
        con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    files = [db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")]
    out.update(
        one_copy=one_copy,
        n_versions=n_versions,
        blob_rows=blob_rows,
        blobs=blobs,
        manifests=manifests,
        logical=blobs + manifests,
        sqlite=sum(f.stat().st_size for f in files if f.exists()),
    )


def git_versions(n: int, tmp: Path, gc_timeout: float, out: dict[str, Any]) -> None:
    repo = tmp / "repo"
    repo.mkdir()
    git = [*GIT, *GIT_BATCH]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    target = repo / "big.ipynb"
    start = time.perf_counter()
    for i, nb in enumerate(big_versions(n)):
        target.write_text(ipynb_text(nb), encoding="utf-8")
        subprocess.run([*git, "add", "big.ipynb"], cwd=repo, check=True)
        subprocess.run([*git, "commit", "-q", "--no-verify", "-m", f"v{i}"], cwd=repo, check=True)
    out["git_commit_s"] = time.perf_counter() - start
    start = time.perf_counter()
    out["gc"] = "git gc --aggressive"
    # its own process group, so a slow gc's children (repack, pack-objects) stop with it
    proc = subprocess.Popen(
        [*GIT, "gc", "--aggressive", "--quiet"], cwd=repo, start_new_session=True
    )
    try:
        proc.wait(gc_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        out["gc"] = f"git gc (--aggressive took > {gc_timeout:.0f} s, stopped)"
        subprocess.run([*GIT, "gc", "--quiet"], cwd=repo, check=True)
    if proc.returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"git gc --aggressive failed ({proc.returncode})")
    out["git_gc_s"] = time.perf_counter() - start
    out["git"] = dir_bytes(repo / ".git")


# --- main --------------------------------------------------------------------------------
def mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB"


def verdict(ratio: float, target: float) -> str:
    return f"target <= {target}: {'met' if ratio <= target else 'NOT met'}"


def summary(out: dict[str, Any], args: argparse.Namespace) -> list[str]:
    rows: list[tuple[str, str]] = []
    for key in ("big", "small"):
        r = out[key]
        rows += [
            (f"save[{key}] notebook", f"{r['label']}; {r['n']} timed saves per manager"),
            (f"save[{key}] ours median / p90", f"{r['ours']:.1f} ms / {r['ours_p90']:.1f} ms"),
            (f"save[{key}] plain median / p90", f"{r['plain']:.1f} ms / {r['plain_p90']:.1f} ms"),
            (
                f"save[{key}] ratio ours/plain (median)",
                f"{r['ratio']:.2f} ({verdict(r['ratio'], LATENCY_TARGET)})",
            ),
            (
                f"save[{key}] ours: journal record",
                f"append {r['append']:.2f} ms, fdatasync {r['sync']:.2f} ms (medians; the "
                "sync overlaps the file's own write)",
            ),
            (
                f"save[{key}] ours: save -> in history",
                (
                    f"{r['push']:.1f} ms median / {r['push_p90']:.1f} ms p90"
                    if r["push"] is not None
                    else "not timed (--concurrent-push)"
                )
                + f" (background push; parse + split CPU {r['cpu']:.1f} ms); history "
                f"complete: {r['versions']} versions",
            ),
        ]
    one = out["one_copy"]
    logical = out["logical"] / one
    rows += [
        (
            "storage versions",
            f"{out['n_versions']} saves, one of 20 code cells edited per save (round-robin), "
            "2 MiB random PNG output",
        ),
        ("storage one copy (.ipynb)", mb(one)),
        (
            "storage ours logical bytes",
            f"{mb(out['logical'])} ({mb(out['blobs'])} in {out['blob_rows']} blobs + "
            f"{mb(out['manifests'])} manifests); ratio {logical:.2f} "
            f"({verdict(logical, STORAGE_TARGET)})",
        ),
        (
            "storage ours SQLite file (VACUUM)",
            f"{mb(out['sqlite'])}; ratio {out['sqlite'] / one:.2f}",
        ),
        (f"storage git .git ({out['gc']})", f"{mb(out['git'])}; ratio {out['git'] / one:.2f}"),
        (
            "time core saves / commits / gc",
            f"{out['core_s']:.1f} s / {out['git_commit_s']:.1f} s / {out['git_gc_s']:.1f} s",
        ),
        ("platform API for saves", out["api"]),
        (
            "platform round trips (median)",
            ", ".join(f"{k} {v:.1f} ms" for k, v in out["probe"].items()),
        ),
    ]
    width = max(len(label) for label, _ in rows)
    title = f"== bench/notebooks.py{' --quick' if args.quick else ''}: summary =="
    return [title, *(f"{label:<{width}}  {value}" for label, value in rows)]


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    hub = Hub(tmp / "hub")
    start = time.perf_counter()
    hub.start()
    print(f"hub up in {time.perf_counter() - start:.1f} s")
    try:
        await latency(hub, args, tmp, out)
    finally:
        hub.stop()
    print(f"storing {args.versions} versions through the core ...")
    await store_versions(args.versions, tmp, out)
    print(f"committing {args.versions} versions to git ...")
    git_versions(args.versions, tmp, args.gc_timeout, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 saves, 50 versions")
    parser.add_argument("--saves", type=int, help="timed saves per manager and notebook")
    parser.add_argument("--warmup", type=int, default=5, help="untimed saves first")
    parser.add_argument("--versions", type=int, help="versions stored (storage part)")
    parser.add_argument("--gc-timeout", type=float, default=90, help="for git gc --aggressive")
    parser.add_argument("--via-proxy", action="store_true", help="reach the API via the proxy")
    parser.add_argument("--profile", action="store_true", help="cProfile one save of each")
    parser.add_argument(
        "--concurrent-push",
        action="store_true",
        help="do not wait for each save's push: it runs during the next saves",
    )
    args = parser.parse_args()
    args.saves = args.saves or (20 if args.quick else 100)
    args.versions = args.versions or (50 if args.quick else 500)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as tmp:
        out = asyncio.run(run(args, Path(tmp)))
    print()
    print("\n".join(summary(out, args)))
    print(f"wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
