"""Runs-table search scaling: a filtered, sorted page with 100,000 runs stored against 100.

    python bench/run_search.py [--records 100000] [--rounds 30]
    python bench/run_search.py --postgres postgresql://postgres@127.0.0.1:5432/test

Runs (a quarter of them children of sweeps of 20, each with ``params.model``,
``params.lr``, metrics ``accuracy`` and ``loss``, a ``stage=...`` tag, over four teams)
are written straight into a fresh SQLite metastore made by the migrations (with
``--postgres URL``: two new databases on that server, dropped at the end). Each query is
the runs table's page as the API answers it (``core.run_table.table_page``: the search,
then the page's params, latest metrics and child counts) for alice of one team, timed in
process (no HTTP: the REST layer's cost does not depend on the number of runs), against
two databases, one with 100 runs (the comparator) and one with ``--records``, alternating
round by round. Prints the medians and their ratio. Target (issue 17): ratio <= 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, insert, select, text

from submarine_hub.core.identity import Identity
from submarine_hub.core.run_table import table_page
from submarine_hub.store import Database, upgrade
from submarine_hub.store.db import database_urls
from submarine_hub.store.models import Experiment, ExperimentTag, LatestMetric, Metric, Param

ALICE = Identity(name="alice", teams=frozenset({"data-science"}))
TEAMS = ["data-science", "ml-platform", "vision", "nlp"]
MODELS = ["rf", "svm", "xgb", "mlp"]
PAGE = 20

#: (what it shows, filter, order_by); "{sweep}" is a sweep of data-science
QUERIES = [
    ("metric filter, sorted by it", "metrics.accuracy > 0.5", ["metrics.accuracy DESC"]),
    (
        "metric + param filter, sorted by the metric",
        "metrics.accuracy > 0.3 and params.model = 'rf'",
        ["metrics.accuracy DESC"],
    ),
    ("a sweep's children by a metric", "attributes.parent_id = {sweep} and metrics.loss < 0.9",
     ["metrics.loss ASC"]),
    ("top-level runs, newest first", "attributes.parent_id IS NULL", ["start_time DESC"]),
    ("tag filter, sorted by a param", "tags.stage = 'prod'", ["params.lr ASC"]),
    ("status + name filter, sorted by a metric", "status = 'FINISHED' and name LIKE 'bench-%'",
     ["metrics.loss"]),
]  # fmt: skip


def fill(db_url: str, upto: int) -> None:
    """Add finished runs until ``upto`` are stored (every 4th group of 21: a sweep of 20)."""
    engine = create_engine(database_urls(db_url)[0])
    with engine.begin() as conn:
        have = conn.execute(select(func.count(Experiment.id))).scalar_one()
    rng = random.Random(have)
    start = datetime.now(timezone.utc) - timedelta(days=30)
    while have < upto:
        n = min(5000, upto - have)
        with engine.begin() as conn:
            first = conn.execute(select(func.coalesce(func.max(Experiment.id), 0))).scalar_one()
            rows, tags, params, points, latest = [], [], [], [], []
            parent: int | None = None
            for k in range(n):
                rid = first + 1 + k
                i = have + k
                team = TEAMS[(i // 21) % 4]
                in_sweep = (i // 21) % 2 == 0
                if in_sweep and i % 21 == 0:
                    parent = rid  # the sweep's parent run, then its 20 children
                    kind, parent_id = "sweep", None
                else:
                    kind, parent_id = "command", (parent if in_sweep else None)
                when = start + timedelta(seconds=i * 20)
                status = rng.choices(["succeeded", "failed", "killed"], [80, 15, 5])[0]
                stage = rng.choice(["prod", "dev", "qa", "exp"])
                rows.append(
                    {
                        "id": rid, "name": f"bench-{i}", "team": team, "owner": "alice",
                        "kind": kind, "status": status, "reason": "", "backend": "local",
                        "kill_requested": False, "parent_id": parent_id,
                        "spec": {"meta": {"name": f"bench-{i}", "team": team,
                                          "tags": [f"stage={stage}"]},
                                 "task": {"command": ["true"]}},
                        "created_at": when, "launched_at": when, "started_at": when,
                        "finished_at": when + timedelta(seconds=rng.randint(1, 3600)),
                        "exit_code": 0,
                    }
                )  # fmt: skip
                tags.append({"experiment_id": rid, "tag": f"stage={stage}"})
                params.append({"experiment_id": rid, "key": "model", "value": rng.choice(MODELS)})
                params.append({"experiment_id": rid, "key": "lr", "value": f"{rng.random():.4f}"})
                for key, value in (("accuracy", rng.random()), ("loss", rng.random() * 2)):
                    for step in range(3):  # the last point (step 2) is ``value``
                        points.append(
                            {"experiment_id": rid, "key": key, "value": value + (2 - step) / 10,
                             "step": step, "timestamp": when.timestamp() + step}
                        )  # fmt: skip
                    latest.append(
                        {"experiment_id": rid, "key": key, "value": value, "step": 2,
                         "timestamp": when.timestamp() + 2}
                    )  # fmt: skip
            conn.execute(insert(Experiment), rows)
            conn.execute(insert(ExperimentTag), tags)
            conn.execute(insert(Param), params)
            conn.execute(insert(Metric), points)
            conn.execute(insert(LatestMetric), latest)
        have += n
    # statistics, as on a metastore in use; on PostgreSQL what autovacuum would have done
    # by then (statistics, and the visibility map that index-only scans read)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("PRAGMA optimize" if db_url.startswith("sqlite") else "VACUUM ANALYZE"))
    engine.dispose()


@contextlib.contextmanager
def databases(tmp: str, postgres: str | None) -> Iterator[tuple[str, str]]:
    """Two empty databases (small, large): SQLite files in ``tmp``, or new databases on
    the ``postgres`` server (dropped after)."""
    if not postgres:
        yield f"sqlite:///{Path(tmp, 'small.sqlite')}", f"sqlite:///{Path(tmp, 'large.sqlite')}"
        return
    from sqlalchemy.engine import make_url

    tag = uuid.uuid4().hex[:8]
    names = [f"bench_runs_small_{tag}", f"bench_runs_large_{tag}"]
    admin = create_engine(database_urls(postgres)[0], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        small, large = (
            make_url(postgres).set(database=n).render_as_string(hide_password=False) for n in names
        )
        yield small, large
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def one(db: Database, filt: str, order: list[str]) -> tuple[float, int]:
    async with db.session() as s:
        t = time.perf_counter()
        page: dict[str, Any] = await table_page(
            s, ALICE, filter=filt, order_by=order, max_results=PAGE
        )
        return time.perf_counter() - t, len(page["items"])


async def time_queries(
    small_url: str, large_url: str, sweep: int, rounds: int
) -> dict[str, tuple[float, int, float, int]]:
    """Per query: median seconds and rows with the small database, then the large one,
    alternating round by round (so both see the same load on the machine)."""
    small, large = Database(small_url), Database(large_url)
    out = {}
    try:
        for label, filt, order in QUERIES:
            filt = filt.format(sweep=sweep)
            ts, tl = [], []
            for i in range(rounds + 3):
                a, na = await one(small, filt, order)
                b, nb = await one(large, filt, order)
                if i >= 3:  # three warm-up rounds
                    ts.append(a)
                    tl.append(b)
            out[label] = (statistics.median(ts), na, statistics.median(tl), nb)
    finally:
        await small.dispose()
        await large.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, databases(tmp, args.postgres) as (small, large):
        upgrade(small)
        upgrade(large)
        fill(small, 100)
        t = time.perf_counter()
        fill(large, args.records)
        print(f"(filled {args.records} runs in {time.perf_counter() - t:.0f} s)")
        sweep = 1  # run 1 is data-science's first sweep (20 children)
        got = asyncio.run(time_queries(small, large, sweep, args.rounds))
    kind = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{kind}: runs-table page of {PAGE} for a member of 1 of 4 teams,", end=" ")
    print(f"median of {args.rounds}:")
    print(f"{'query':45} {'100 runs':>14} {f'{args.records} runs':>16} {'ratio':>6}")
    worst = 0.0
    for label, _, _ in QUERIES:
        s, ns, b, nb = got[label]
        worst = max(worst, b / s)
        print(f"{label:45} {s * 1000:8.2f} ms ({ns:2}) {b * 1000:9.2f} ms ({nb:2}) {b / s:6.2f}")
    print(f"worst ratio {worst:.2f} (target <= 2: {'met' if worst <= 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
