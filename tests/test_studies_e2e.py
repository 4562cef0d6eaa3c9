"""The issue's path through a real hub, from the command line: the shipped example study
(TPE, 30 trials, median pruner, gradient boosting on scikit-learn's bundled data) runs its
trials as template runs, prunes some, and keeps counting every trial once through a
kill -9 of the platform service; a user of another team sees nothing of it."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml

import submarine_hub
import submarine_hub.builtin

from .helpers.api import as_user, wait_for
from .helpers.cli import submarine
from .helpers.hub import Hub, service_pid, service_up

pytestmark = pytest.mark.hub
pytest.importorskip("optuna")

EXAMPLE = Path(submarine_hub.builtin.__file__).parent / "studies" / "gb-breast-cancer.yaml"


def test_the_example_study_prunes_survives_a_killed_service_and_counts_each_trial_once(
    hub: Hub, tmp_path: Path
) -> None:
    alice = as_user(hub, "alice")
    spec = yaml.safe_load(EXAMPLE.read_text())
    # runs start with a scrubbed environment: give them the package under test (the same
    # as the installed one in a checkout such as CI's)
    spec["trial"]["env"] = {"PYTHONPATH": str(Path(submarine_hub.__file__).parents[1])}
    spec_file = tmp_path / "study.yaml"
    spec_file.write_text(yaml.safe_dump(spec))
    p = submarine("study", "create", str(spec_file), "--team", "data-science", "-q", env=alice)
    assert p.returncode == 0, p.stdout + p.stderr
    sid = int(p.stdout.strip())

    def study() -> dict[str, Any]:
        r = hub.api("GET", f"studies/{sid}", user="alice")
        return r.json() if r.status_code == 200 else {}

    wait_for(lambda: len(study().get("items", [])) >= 6, 300, "six trials to start")
    os.kill(service_pid(hub), signal.SIGKILL)  # mid-study: trials running, more to ask for
    wait_for(lambda: service_up(hub), 120, "the service to come back")
    done = wait_for(
        lambda: (s := study()) and s["status"] != "running" and s, 900, "the study to end"
    )
    assert done["status"] == "finished", done["reason"]
    items = done["items"]
    assert [t["number"] for t in items] == list(range(30))  # none lost, none twice
    run_ids = [t["run_id"] for t in items]
    assert len(set(run_ids)) == 30
    tagged = hub.api("GET", f"experiments?tag=study-{sid}&limit=500", user="alice").json()["items"]
    assert sorted(r["id"] for r in tagged) == sorted(run_ids)  # no run started twice
    pruned = [t for t in items if t["state"] == "pruned"]
    complete = [t for t in items if t["state"] == "complete"]
    failed = [t["reason"] for t in items if t["state"] == "failed"]
    assert pruned and all("median pruner at step" in t["reason"] for t in pruned), failed[:3]
    assert len(pruned) + len(complete) == 30, failed
    assert done["best"]["value"] == max(t["value"] for t in complete) > 0.9
    best_run = hub.api("GET", f"experiments/{done['best']['run_id']}", user="alice").json()
    assert best_run["template"] == "sklearn-gb-trial" and best_run["status"] == "succeeded"
    arts = hub.api("GET", f"experiments/{best_run['id']}/artifacts", user="alice").json()
    assert "model.joblib" in [a["path"] for a in arts["items"]]  # ready to register
    # the command line shows the trials; the importances come from Optuna
    p = submarine("study", "get", str(sid), env=alice)
    assert p.returncode == 0 and "pruned" in p.stdout and "median pruner" in p.stdout
    assert str(sid) in submarine("study", "list", env=alice).stdout
    imp = hub.api("GET", f"studies/{sid}/importances", user="alice").json()["importances"]
    assert set(imp) == {"learning_rate", "max_depth", "subsample"}
    # its best trial's model, registered
    p = submarine("study", "register", str(sid), "data-science/gb-study", env=alice)
    assert p.returncode == 0 and "Registered data-science/gb-study version 1" in p.stdout, p.stderr
    # another team sees nothing of it
    carol = as_user(hub, "carol")
    assert hub.api("GET", f"studies/{sid}", user="carol").status_code == 404
    assert sid not in [s["id"] for s in hub.api("GET", "studies", user="carol").json()["items"]]
    p = submarine("study", "get", str(sid), env=carol)
    assert p.returncode != 0 and f"No study {sid}" in p.stderr
    p = submarine("study", "stop", str(sid), env=carol)
    assert p.returncode != 0
    assert json.loads(submarine("study", "get", str(sid), "--json", env=alice).stdout)["id"] == sid
