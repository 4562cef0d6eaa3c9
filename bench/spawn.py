"""Spawn time of ``submarine-local`` against JupyterHub's own local process spawner.

    python bench/spawn.py [--rounds 7]

Starts two real hubs from the embedded config that differ only in the spawner:
``submarine-local`` (team admission, quota check, credentials, environment) and
JupyterHub's ``SimpleLocalProcessSpawner`` (``LocalProcessSpawner`` without the
system-user switch, so it runs without system accounts, as ours does). Spawns
alternate between the two hubs, each from "POST /users/<u>/server" to the server
answering ready, and the script prints the median of each and their ratio.
Target (issue 3): ratio <= 1.10.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.hub import Hub


def spawn_once(hub: Hub, user: str) -> float:
    start = time.perf_counter()
    r = hub.hub_api("POST", f"users/{user}/server", json={})
    assert r.status_code in (201, 202), r.text
    hub.wait_ready(user)
    elapsed = time.perf_counter() - start
    hub.stop_server(user)
    return elapsed


def prepare(hub: Hub, users: list[str]) -> None:
    """Create the users and put them in one team."""
    r = hub.hub_api("POST", "users", json={"usernames": users})
    assert r.status_code in (201, 409), r.text
    r = hub.hub_api("POST", "groups/bench", json={"users": users})
    assert r.status_code in (201, 409), r.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="spawns per spawner")
    args = parser.parse_args()
    users = [f"bench{i}" for i in range(args.rounds)]
    with tempfile.TemporaryDirectory() as tmp:
        hubs = {
            "submarine-local": Hub(Path(tmp, "submarine")),
            "SimpleLocalProcessSpawner": Hub(
                Path(tmp, "plain"), extra_env={"SUBMARINE_SPAWNER": "simple"}
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in hubs}
        try:
            for hub in hubs.values():
                hub.start()
                prepare(hub, [*users, "warmup"])
                spawn_once(hub, "warmup")  # first spawn pays imports and caches
            for user in users:
                for name, hub in hubs.items():
                    times[name].append(spawn_once(hub, user))
        finally:
            for hub in hubs.values():
                hub.stop()
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        print(f"{name:<28} median {medians[name]:.3f} s  runs {' '.join(f'{x:.2f}' for x in t)}")
    ratio = medians["submarine-local"] / medians["SimpleLocalProcessSpawner"]
    print(
        f"ratio submarine-local / SimpleLocalProcessSpawner (median spawn): {ratio:.3f} "
        f"(target <= 1.10: {'met' if ratio <= 1.10 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
