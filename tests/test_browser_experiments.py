"""The Submarine panel's Experiments, History and Environments tabs in Debian's chromium,
driven by Playwright, against the real hub: a template run submitted and watched to its
end, a notebook's history diffed and restored, another team seeing none of it."""

from __future__ import annotations

import re
import time

import pytest
import requests

from .helpers.browser import (
    IMAGES,
    PANEL,
    dismiss_dialogs,
    open_lab,
    open_panel,
    save_notebook,
    set_theme,
    tid,
    widen_sidebar,
)
from .helpers.hub import Hub
from .helpers.sessions import ensure_session

pytestmark = [pytest.mark.hub, pytest.mark.browser]

NOTEBOOK = "history-demo.ipynb"
# The cell of the notebook in the current tab, not of one hidden behind it.
VISIBLE_CELL = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"


def test_submit_a_template_run_from_the_panel_and_watch_it_succeed(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    r = hub.api(
        "POST",
        "environments",
        user="bob",
        json={
            "name": "sklearn-base",
            "team": "data-science",
            "description": "The hub's scikit-learn, nothing more (builds in a second).",
        },
    )
    assert r.status_code in (201, 409), r.text
    context, page = open_lab(browser, hub, "bob")
    try:
        # the Environments tab: choose a profile for a run
        open_panel(page, "environments")
        widen_sidebar(page)
        env = "data-science/sklearn-base"
        page.wait_for_selector(tid(f"submarine-environment-{env}"))
        page.screenshot(path=str(IMAGES / "environments.png"))
        page.click(tid(f"submarine-use-environment-{env}"))
        page.wait_for_selector(tid("submarine-submit-form"))
        assert page.input_value(tid("submarine-environment")) == env
        # the parameter inputs come from the template's JSON Schema
        page.select_option(tid("submarine-template"), "sklearn-classifier")
        page.select_option(tid("submarine-param-dataset"), "wine")
        page.fill(tid("submarine-param-n_estimators"), "5000")
        page.fill(tid("submarine-run-tags"), "browser-test")
        page.click(tid("submarine-submit"))
        # refused in the form, with the reason next to the input
        assert (
            page.inner_text(tid("submarine-field-error-param-n_estimators"))
            == "n estimators must be at most 2000."
        )
        page.fill(tid("submarine-param-n_estimators"), "20")
        page.eval_on_selector(f"{PANEL} .jp-SubmarinePanel-body", "e => (e.scrollTop = 0)")
        page.screenshot(path=str(IMAGES / "experiments-submit.png"))
        page.click(tid("submarine-submit"))

        # the run's page follows it live: no reload
        status = page.wait_for_selector(tid("submarine-run-status"))
        first = status.get_attribute("data-status")
        title = page.inner_text(tid("submarine-run-title"))
        run_id = int(re.match(r"#(\d+) ", title).group(1))  # type: ignore[union-attr]
        assert first in ("pending", "running", "succeeded"), first
        page.wait_for_selector(
            f'{tid("submarine-run-status")}[data-status="succeeded"]', timeout=120_000
        )
        page.wait_for_selector(f"{tid('submarine-log')}:has-text('on wine')")
        assert "training random_forest on wine" in page.inner_text(tid("submarine-log"))
        accuracy = page.wait_for_selector(tid("submarine-metric-accuracy"))
        assert float(accuracy.inner_text().replace("accuracy", "")) > 0.5
        page.wait_for_selector(f"{tid('submarine-run-chart')} svg.jp-SubmarineChart")
        assert "wine" in page.inner_text(tid("submarine-run-params"))
        # the run was watched from its submission: a notification says it ended
        toast = page.wait_for_selector(f".Toastify__toast:has-text('Run #{run_id}')")
        assert "succeeded" in toast.inner_text()
        page.screenshot(path=str(IMAGES / "experiments-run.png"))

        # the list, filtered by status
        page.click(tid("submarine-back"))
        page.wait_for_selector(f"{tid(f'submarine-run-{run_id}')} [data-status='succeeded']")
        page.click(tid("submarine-filter-failed"))
        page.wait_for_function(
            "id => !document.querySelector(`[data-testid='submarine-run-${id}']`)", arg=run_id
        )
        page.click(tid("submarine-filter-failed"))  # off again
        page.click(tid("submarine-filter-succeeded"))
        page.wait_for_selector(tid(f"submarine-run-{run_id}"))
        page.click(tid("submarine-filter-all"))
        page.screenshot(path=str(IMAGES / "experiments-list.png"))

        # the same panel in the dark theme (JupyterLab's CSS variables only)
        page.click(tid(f"submarine-run-{run_id}"))
        page.wait_for_selector(f"{tid('submarine-run-chart')} svg")
        set_theme(page, "JupyterLab Dark")
        page.screenshot(path=str(IMAGES / "experiments-run-dark.png"))
        set_theme(page, "JupyterLab Light")
    finally:
        context.close()
    run = hub.api("GET", f"experiments/{run_id}", user="bob").json()
    assert (run["status"], run["template"], run["owner"]) == (
        "succeeded",
        "sklearn-classifier",
        "bob",
    )
    assert run["parameters"]["n_estimators"] == 20
    assert run["tags"] == ["browser-test"]
    assert run["spec"]["environment"]["profile"] == "data-science/sklearn-base"


def test_a_user_of_another_team_sees_none_of_those_runs(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    bob_runs = hub.api("GET", "experiments?team=data-science", user="bob").json()["items"]
    if not bob_runs:  # run alone: give bob's team a run
        r = hub.api(
            "POST",
            "templates/_global/sklearn-classifier/runs",
            user="bob",
            json={"parameters": {"n_estimators": 5}, "meta": {"team": "data-science"}},
        )
        assert r.status_code == 201, r.text
        bob_runs = [r.json()]
    context, page = open_lab(browser, hub, "carol")
    try:
        open_panel(page, "experiments")
        page.wait_for_selector(
            f"{tid('submarine-runs')} li, {tid('submarine-no-runs')}", state="attached"
        )
        page.wait_for_timeout(500)
        shown = page.locator(f"{tid('submarine-runs')} li").evaluate_all(
            "items => items.map(i => i.dataset.runId)"
        )
        assert not {str(r["id"]) for r in bob_runs} & set(shown)
        assert "data-science" not in page.inner_text(tid("submarine-runs"))
        # nor can she open one by its id
        r = requests.get(
            hub.user_url("carol", f"submarine/api/v1/experiments/{bob_runs[0]['id']}"),
            headers={"Authorization": f"token {hub.token_for('carol')}"},
            timeout=30,
        )
        assert r.status_code == 404
    finally:
        context.close()


def test_notebook_history_diff_and_restore(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    ensure_session(hub, "bob")
    save_notebook(hub, "bob", NOTEBOOK, [("v", "value = 1"), ("p", "print(value)")])
    save_notebook(hub, "bob", NOTEBOOK, [("v", "value = 2"), ("p", "print(value)")])
    save_notebook(
        hub,
        "bob",
        NOTEBOOK,
        [("v", "value = 3"), ("t", "total = value * 2"), ("p", "print(value)")],
    )
    # through the session, which sends its queued saves to the platform first
    versions = requests.get(
        hub.user_url("bob", "submarine/api/v1/files/versions"),
        params={"space": "user:bob", "path": NOTEBOOK},
        headers={"Authorization": f"token {hub.token_for('bob')}"},
        timeout=60,
    ).json()["items"]
    first, newest = versions[-1]["number"], versions[0]["number"]
    assert newest - first >= 2
    context, page = open_lab(browser, hub, "bob", NOTEBOOK)
    try:
        page.wait_for_selector(f"{VISIBLE_CELL} .cm-content:has-text('value = 3')")
        dismiss_dialogs(page)
        # the file browser's context menu: Show History
        if not page.locator("#filebrowser").is_visible():
            page.click('.jp-SideBar [data-id="filebrowser"]')
        page.click(f".jp-DirListing-item:has-text('{NOTEBOOK}')", button="right")
        page.click(".lm-Menu-itemLabel:text-is('Show History')")
        page.wait_for_selector(f"{tid('submarine-history-path')}:text-is('{NOTEBOOK}')")
        widen_sidebar(page)
        page.wait_for_selector(tid(f"submarine-version-{newest}"))
        rows = page.locator(f"{tid('submarine-versions')} > li")
        assert rows.count() >= 3

        # a rendered diff of the first and the newest version
        page.select_option(tid("submarine-diff-a"), str(first))
        page.select_option(tid("submarine-diff-b"), str(newest))
        page.click(tid("submarine-diff-show"))
        summary = page.wait_for_selector(tid("submarine-diff-summary"))
        assert summary.inner_text() == "1 added, 0 removed, 1 modified, 1 unchanged cells"
        diff = page.inner_text(tid("submarine-diff"))
        assert "- value = 1" in diff and "+ value = 3" in diff
        assert "+ total = value * 2" in diff
        page.screenshot(path=str(IMAGES / "notebook-history.png"))

        # restore the first version: the newest again, and in the open notebook
        page.click(tid(f"submarine-restore-{first}"))
        page.click(".jp-Dialog button:has-text('Restore')")
        restored = page.wait_for_selector(tid("submarine-restored"))
        assert restored.inner_text() == f"Restored version {first} as version {newest + 1}."
        page.wait_for_selector(f"{VISIBLE_CELL} .cm-content:has-text('value = 1')")
        assert page.locator(VISIBLE_CELL).count() == 2
    finally:
        context.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = hub.api("GET", f"files/versions?space=user:bob&path={NOTEBOOK}", user="bob").json()[
            "items"
        ]
        if items[0]["number"] == newest + 1:
            break
        time.sleep(0.5)
    assert items[0]["number"] == newest + 1
    content = hub.api("GET", f"files/content?space=user:bob&path={NOTEBOOK}", user="bob").json()[
        "content"
    ]
    assert ["".join(c["source"]) for c in content["cells"]] == ["value = 1", "print(value)"]


SCRIPT = """\
import argparse

import submarine_hub

p = argparse.ArgumentParser()
p.add_argument("--steps", type=int, default=3)
args = p.parse_args()
print(f"hello from the script, {args.steps} steps")
print(open("data.txt").read().strip())
for step in range(args.steps):
    submarine_hub.log_metric("loss", 1 / (step + 1), step=step)
"""


def test_submit_a_script_from_the_file_browser(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    ensure_session(hub, "bob")
    headers = {"Authorization": f"token {hub.token_for('bob')}"}
    for path, body in (
        ("demo", {"type": "directory"}),
        ("demo/train_demo.py", {"type": "file", "format": "text", "content": SCRIPT}),
        ("demo/data.txt", {"type": "file", "format": "text", "content": "uploaded too\n"}),
    ):
        r = requests.put(hub.user_url("bob", f"api/contents/{path}"), headers=headers, json=body)
        r.raise_for_status()
    context, page = open_lab(browser, hub, "bob", "demo/train_demo.py")
    try:
        item = page.locator(".jp-DirListing-item:has-text('train_demo.py')")
        item.click(button="right")
        page.click(".lm-Menu-itemLabel:text-is('Submit as Experiment…')")
        page.wait_for_selector(tid("submarine-submit-form"))
        widen_sidebar(page)
        assert page.is_checked(tid("submarine-kind-script"))
        assert page.input_value(tid("submarine-file-path")) == "demo/train_demo.py"
        assert page.input_value(tid("submarine-code-folder")) == "demo"
        page.fill(tid("submarine-script-args"), "--steps 12")
        page.click(tid("submarine-submit"))
        page.wait_for_selector(
            f'{tid("submarine-run-status")}[data-status="succeeded"]', timeout=120_000
        )
        page.wait_for_selector(f"{tid('submarine-log')}:has-text('hello from the script')")
        # the rest of the folder came along
        assert "uploaded too" in page.inner_text(tid("submarine-log"))
        page.wait_for_selector(f"{tid('submarine-metric-loss')}")
        chart = page.wait_for_selector(f"{tid('submarine-run-chart')} svg")
        page.wait_for_function("svg => svg.querySelectorAll('circle').length === 12", arg=chart)
        title = page.inner_text(tid("submarine-run-title"))
        run_id = int(re.match(r"#(\d+) ", title).group(1))  # type: ignore[union-attr]
        page.wait_for_selector(f".Toastify__toast:has-text('Run #{run_id} ')")
        page.wait_for_timeout(500)  # the toast has slid in
        page.screenshot(path=str(IMAGES / "experiments-script-run.png"))
    finally:
        context.close()
    # the folder was the run's code
    artifacts = hub.api("GET", f"experiments/{run_id}", user="bob").json()
    assert artifacts["spec"]["task"] == {"script": "train_demo.py", "args": ["--steps", "12"]}
    assert "upload" in artifacts["spec"]["code"]
