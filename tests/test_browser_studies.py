"""A tuning study's page in JupyterLab's main area, in Debian's chromium against the real
hub: a small TPE study of the shipped gradient-boosting trial made through the API, its
list reached from the command palette, its page with the trials table, the three charts
(optimization history, parallel coordinates, importances) and "Register its model"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import submarine_hub

from .helpers.api import wait_for
from .helpers.browser import IMAGES, open_lab
from .helpers.hub import Hub

pytestmark = [pytest.mark.hub, pytest.mark.browser]

MODEL = "gb-from-study-page"


def _study(hub: Hub) -> dict[str, Any]:
    spec = {
        "name": "gb-browser",
        "team": "data-science",
        "objective": {"metric": "accuracy", "direction": "maximize"},
        "space": {
            "learning_rate": {"type": "float", "low": 0.01, "high": 0.5, "log": True},
            "max_depth": {"type": "int", "low": 1, "high": 4},
            "subsample": {"type": "float", "low": 0.5, "high": 1.0},
        },
        "sampler": {"name": "tpe", "seed": 0},
        "pruner": {"name": "median", "startup_trials": 2},
        "trials": 4,
        "parallelism": 2,
        "timeout": 600,
        "trial": {
            "template": "sklearn-gb-trial",
            "parameters": {"stages": 3, "trees": 5},
            # runs start with a scrubbed environment: give them the package under test
            "env": {"PYTHONPATH": str(Path(submarine_hub.__file__).parents[1])},
        },
    }
    r = hub.api("POST", "studies", user="alice", json=spec)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]

    def done() -> dict[str, Any] | None:
        s = hub.api("GET", f"studies/{sid}", user="alice").json()
        return s if s["status"] != "running" else None

    study = wait_for(done, 600, "the study to end")
    assert study["status"] == "finished", study
    return study  # type: ignore[no-any-return]


def test_a_studys_page_shows_its_trials_three_charts_and_registers_the_best_model(  # type: ignore[no-untyped-def]
    browser, hub: Hub
) -> None:
    hub.api("DELETE", f"models/data-science/{MODEL}", user="alice")
    study = _study(hub)
    sid = study["id"]
    assert study["best"] and study["best"]["run_id"]
    context, page = open_lab(browser, hub, "alice")
    try:
        # the list, from the command palette, as a person would
        page.keyboard.press("Control+Shift+C")
        page.fill(".lm-CommandPalette-input", "Tuning studies")
        page.keyboard.press("Enter")
        page.wait_for_selector('[data-testid="studies-table"]')
        page.click(f'[data-testid="studies-row"][data-id="{sid}"] [data-testid="study-open"]')
        view = '[data-testid="study-view"]'
        page.wait_for_selector(f'{view} [data-testid="study-trial"]')
        rows = page.eval_on_selector_all(
            f'{view} [data-testid="study-trial"]', "rs => rs.map(r => r.dataset.state)"
        )
        assert sorted(rows) == sorted(t["state"] for t in study["items"])
        assert len(rows) == 4
        text = page.inner_text(f'{view} [data-testid="study-trials"]')
        for name in ("learning_rate", "max_depth", "subsample", "Value", "State", "Run"):
            assert name in text
        for t in study["items"]:
            assert f"#{t['run_id']}" in text
            if t["state"] == "pruned":
                assert t["reason"] in text
        # the three charts, drawn by JupyterLab's Vega renderer
        for chart in ("study-history", "study-parallel", "study-importances"):
            page.wait_for_selector(f'{view} [data-testid="{chart}"] svg', timeout=60_000)
            # marks, not an empty frame
            assert page.locator(
                f'{view} [data-testid="{chart}"] svg .mark-symbol, '
                f'{view} [data-testid="{chart}"] svg .mark-rect'
            ).count()
        best = page.inner_text(f'{view} [data-testid="study-best"]')
        assert f"trial {study['best']['number']}" in best
        page.wait_for_timeout(500)  # the charts' layout settled
        page.screenshot(path=str(IMAGES / "study-page.png"))
        # "Register its model": the register form on the best trial's run
        button = page.locator(f'{view} [data-testid="study-register"]')
        assert button.is_enabled()
        button.click()
        box = page.wait_for_selector('.jp-Dialog [data-testid="submarine-register-artifacts"]')
        assert f"#{study['best']['run_id']}" in box.inner_text()
        assert page.is_checked(
            '.jp-Dialog [data-testid="submarine-register-artifact-model.joblib"]'
        )
        page.fill('.jp-Dialog [data-testid="submarine-register-model"]', MODEL)
        page.click(".jp-Dialog button.jp-Dialog-button:has-text('Register')")
        page.wait_for_selector(".jp-Dialog", state="detached")
    finally:
        context.close()
    version = hub.api("GET", f"models/data-science/{MODEL}/versions/1", user="alice").json()
    assert version["source_run_id"] == study["best"]["run_id"], version
    assert [f["path"] for f in version["files"]] == ["model.joblib"]


EXAMPLE = Path(submarine_hub.__file__).parent / "builtin" / "studies" / "gb-breast-cancer.yaml"


def test_a_running_studys_page_refreshes_itself_until_the_30_trial_example_ends(  # type: ignore[no-untyped-def]
    browser, hub: Hub
) -> None:
    """The shipped example (TPE, 30 trials, median pruner) opened while it runs: the page
    fills in its trials, states and charts by itself (no Refresh click) and stops polling
    once the study has ended."""
    import yaml

    spec = yaml.safe_load(EXAMPLE.read_text())
    spec["team"] = "data-science"
    # runs start with a scrubbed environment: give them the package under test
    spec["trial"]["env"] = {"PYTHONPATH": str(Path(submarine_hub.__file__).parents[1])}
    r = hub.api("POST", "studies", user="alice", json=spec)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    context, page = open_lab(browser, hub, "alice")
    try:
        page.keyboard.press("Control+Shift+C")
        page.fill(".lm-CommandPalette-input", "Tuning studies")
        page.keyboard.press("Enter")
        page.click(f'[data-testid="studies-row"][data-id="{sid}"] [data-testid="study-open"]')
        view = '[data-testid="study-view"]'
        page.wait_for_selector(f'{view}[data-status="running"]')
        rows = f'{view} [data-testid="study-trial"]'
        first = page.locator(rows).count()
        assert first < 30, "the study ended before its page was open"
        # more trials, then the end, with no click: the page polls the study
        page.wait_for_function(
            f"n => document.querySelectorAll('{rows}').length > n", arg=first, timeout=120_000
        )
        page.wait_for_selector(f'{view}[data-status="finished"]', timeout=240_000)
        study = hub.api("GET", f"studies/{sid}", user="alice").json()
        assert study["status"] == "finished", study
        page.wait_for_function(
            f"() => document.querySelectorAll('{rows}[data-state=\"running\"]').length === 0"
        )
        states = page.eval_on_selector_all(rows, "rs => rs.map(r => r.dataset.state)")
        assert sorted(states) == sorted(t["state"] for t in study["items"])
        assert len(states) == 30 and "pruned" in states and "running" not in states
        best = page.inner_text(f'{view} [data-testid="study-best"]')
        assert f"trial {study['best']['number']}" in best
        for chart in ("study-history", "study-parallel", "study-importances"):
            page.wait_for_selector(f'{view} [data-testid="{chart}"] svg', timeout=60_000)
        # ended: the page no longer polls (no request for the study in 3 refresh intervals)
        asked: list[str] = []
        page.on("request", lambda req: asked.append(req.url))
        page.wait_for_timeout(6500)
        assert not [u for u in asked if f"/studies/{sid}" in u], asked
    finally:
        context.close()
        hub.api("POST", f"studies/{sid}/stop", user="alice")
