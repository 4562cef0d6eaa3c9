"""The Submarine panel's Jobs tab in Debian's chromium, driven by Playwright, against the
real hub: a notebook with a ``parameters`` cell run as a job with a changed value (a bad
one refused first), watched to its end, its executed notebook opened with the injected
value; a schedule created, paused and deleted; a small grid fan-out; another team seeing
none of it."""

from __future__ import annotations

import re
import time
from typing import Any

import nbformat
import pytest
import requests

from .helpers.browser import (
    IMAGES,
    PANEL,
    dismiss_dialogs,
    open_lab,
    open_panel,
    tid,
    widen_sidebar,
)
from .helpers.hub import Hub
from .helpers.sessions import ensure_session

pytestmark = [pytest.mark.hub, pytest.mark.browser]

NOTEBOOK = "jobs-demo/train_job.ipynb"
VISIBLE = ".jp-NotebookPanel:not(.lm-mod-hidden)"


def save_notebook(hub: Hub, user: str) -> None:
    """A notebook with a cell tagged ``parameters``, saved (so versioned) in ``user``'s space."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        "alpha = 0.5  # learning rate\nepochs: int = 3\nname = 'iris'"
    )
    params.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(
        "import submarine_hub\n"
        "submarine_hub.log_metric('score', alpha * epochs)\n"
        "print(f'trained: alpha={alpha} epochs={epochs} name={name}')"
    )
    nb.cells = [nbformat.v4.new_markdown_cell("# Train"), params, body]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    headers = {"Authorization": f"token {hub.token_for(user)}"}
    for path, data in (
        ("jobs-demo", {"type": "directory"}),
        (NOTEBOOK, {"type": "notebook", "format": "json", "content": nb}),
    ):
        r = requests.put(
            hub.user_url(user, f"api/contents/{path}"), headers=headers, json=data, timeout=60
        )
        r.raise_for_status()


def session_api(hub: Hub, user: str, path: str, **params: Any) -> Any:
    """The platform API as ``user``'s session relays it (what the panel calls)."""
    r = requests.get(
        hub.user_url(user, f"submarine/api/v1/{path}"),
        params=params,
        headers={"Authorization": f"token {hub.token_for(user)}"},
        timeout=60,
    )
    r.raise_for_status()
    return r.json()


def test_run_a_notebook_as_a_job_schedule_it_and_fan_it_out(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    ensure_session(hub, "bob")
    save_notebook(hub, "bob")
    context, page = open_lab(browser, hub, "bob", NOTEBOOK)
    try:
        page.wait_for_selector(f"{VISIBLE} .jp-Cell .cm-content:has-text('epochs: int = 3')")
        dismiss_dialogs(page)
        # the notebook's toolbar: Run as Job opens the Jobs tab on this notebook
        page.click(f"{VISIBLE} .jp-Toolbar-item[data-jp-item-name='submarine-run-as-job'] button")
        page.wait_for_selector(f"{tid('submarine-jobs-path')}:text-is('{NOTEBOOK}')")
        widen_sidebar(page, 460)
        assert page.input_value(tid("submarine-job-param-alpha")) == "0.5"
        assert page.input_value(tid("submarine-job-param-epochs")) == "3"
        assert page.input_value(tid("submarine-job-param-name")) == "iris"
        assert page.input_value(tid("submarine-job-team")) == "data-science"

        # a bad value is refused next to its field, and nothing is sent
        page.fill(tid("submarine-job-param-epochs"), "ten")
        page.click(tid("submarine-job-run"))
        error = page.wait_for_selector(tid("submarine-job-field-error-param-epochs"))
        assert error.inner_text() == 'epochs must be a whole number (int), not "ten".'
        assert session_api(hub, "bob", "notebook-jobs", notebook=NOTEBOOK)["items"] == []

        # run now with changed values; the run is listed and followed live
        page.fill(tid("submarine-job-param-epochs"), "4")
        page.fill(tid("submarine-job-param-alpha"), "0.25")
        page.click(tid("submarine-job-run"))
        note = page.wait_for_selector(tid("submarine-job-submitted")).inner_text()
        run_id = int(re.search(r"run #(\d+)", note).group(1))  # type: ignore[union-attr]
        page.wait_for_selector(tid(f"submarine-job-run-{run_id}"))
        page.wait_for_selector(
            f"{tid(f'submarine-job-status-{run_id}')}[data-status='succeeded']", timeout=120_000
        )
        assert "alpha=0.25" in page.inner_text(tid(f"submarine-job-params-{run_id}"))
        page.wait_for_selector(tid(f"submarine-job-open-{run_id}"))
        page.screenshot(path=str(IMAGES / "submarine-run-as-job.png"))

        # a schedule: a readable preview, created, listed, paused, deleted
        page.click(f"{tid('submarine-job-schedule-section')} > summary")
        page.fill(tid("submarine-job-cron"), "0 6 * * 1-5")
        assert page.inner_text(tid("submarine-job-cron-preview")) == "At 06:00 Monday to Friday"
        page.fill(tid("submarine-job-timezone"), "Europe/Paris")
        page.click(tid("submarine-job-schedule-create"))
        page.wait_for_selector(tid("submarine-job-scheduled"))
        mine = [
            s
            for s in session_api(hub, "bob", "notebook-schedules")["items"]
            if s["notebook"] == f"user:bob/{NOTEBOOK}"
        ]
        assert len(mine) == 1 and mine[0]["cron"] == "0 6 * * 1-5"
        assert mine[0]["timezone"] == "Europe/Paris"
        assert mine[0]["job"]["parameters"] == {"alpha": 0.25, "epochs": 4}
        sid = mine[0]["id"]
        page.wait_for_selector(f"{tid(f'submarine-job-schedule-state-{sid}')}:text-is('active')")
        page.click(tid(f"submarine-job-schedule-pause-{sid}"))
        page.wait_for_selector(f"{tid(f'submarine-job-schedule-state-{sid}')}:text-is('paused')")
        assert hub.api("GET", f"notebook-schedules/{sid}", user="bob").json()["paused"] is True
        page.click(tid(f"submarine-job-schedule-delete-{sid}"))
        page.click(".jp-Dialog button:has-text('Delete')")
        page.wait_for_selector(tid("submarine-job-no-schedules"))
        assert hub.api("GET", f"notebook-schedules/{sid}", user="bob").status_code == 404

        # a small grid: one parent run, one child per value, its summary
        page.click(f"{tid('submarine-job-schedule-section')} > summary")  # fold it again
        page.click(f"{tid('submarine-job-grid-section')} > summary")
        page.fill(tid("submarine-job-grid-alpha"), "0.1, 0.2")
        assert page.inner_text(tid("submarine-job-grid-count")) == "2 runs"
        page.click(tid("submarine-job-grid-run"))
        page.wait_for_selector(
            f"{tid('submarine-job-grid-status')}[data-status='succeeded']", timeout=180_000
        )
        assert page.inner_text(tid("submarine-job-grid-children")) == "2 runs: 2 succeeded"
        page.wait_for_selector(f"{tid('submarine-job-grid-metrics')}:has-text('score')")
        page.locator(tid("submarine-job-grid-section")).scroll_into_view_if_needed()
        page.screenshot(path=str(IMAGES / "submarine-run-as-job-grid.png"))

        # the run's page in the Experiments tab
        page.click(tid(f"submarine-job-show-{run_id}"))
        page.wait_for_selector(tid("submarine-run-title"))
        assert page.inner_text(tid("submarine-run-title")).startswith(f"#{run_id} ")
        open_panel(page, "jobs")

        # the executed notebook opens in JupyterLab, with the injected values
        page.click(tid(f"submarine-job-open-{run_id}"))
        page.wait_for_selector(f"{VISIBLE} .jp-Cell:has-text('epochs = 4')")
        dismiss_dialogs(page)
        out = page.locator(f"{VISIBLE} .jp-OutputArea-output").all_inner_texts()
        assert any("trained: alpha=0.25 epochs=4 name=iris" in o for o in out), out
        # the Jobs tab follows the open notebook: now the executed one
        lab = f"teams/data-science/jobs/train_job/{run_id}.ipynb"
        page.wait_for_selector(f"{tid('submarine-jobs-path')}:text-is('{lab}')")
    finally:
        context.close()
    job = hub.api("GET", f"notebook-jobs/{run_id}", user="bob").json()
    assert job["status"] == "succeeded" and job["parameters"] == {"alpha": 0.25, "epochs": 4}
    assert job["notebook"]["space"] == "user:bob" and job["notebook"]["path"] == NOTEBOOK
    assert job["output"]["lab_path"] == lab and job["output"]["version"]


def test_another_team_sees_none_of_those_job_runs_or_schedules(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    ensure_session(hub, "bob")
    save_notebook(hub, "bob")
    # the session's journal hands the save to the platform in the background
    deadline = time.monotonic() + 60
    while (
        hub.api("GET", f"files/versions?space=user:bob&path={NOTEBOOK}", user="bob").status_code
        != 200
    ):
        assert time.monotonic() < deadline, "the save never reached the platform"
        time.sleep(0.5)
    # bob is in two teams: outside a session a call names its team
    body = {"notebook": NOTEBOOK, "parameters": {"epochs": 1}, "team": "data-science"}
    r = hub.api("POST", "notebook-jobs", user="bob", json=body)
    assert r.status_code == 201, r.text
    bob_run = r.json()["id"]
    sched = {"job": body, "cron": "0 6 * * *", "timezone": "UTC", "paused": True}
    r = hub.api("POST", "notebook-schedules", user="bob", json=sched)
    assert r.status_code == 201, r.text
    bob_schedule = r.json()["id"]
    ensure_session(hub, "carol")
    save_notebook(hub, "carol")  # the same path, in carol's own space
    context, page = open_lab(browser, hub, "carol", "jobs-demo")
    try:
        # the file browser's context menu: Run as Job…
        page.click(".jp-DirListing-item:has-text('train_job.ipynb')", button="right")
        page.click(".lm-Menu-itemLabel:text-is('Run as Job…')")
        page.wait_for_selector(f"{tid('submarine-jobs-path')}:text-is('{NOTEBOOK}')")
        page.wait_for_selector(tid("submarine-job-no-runs"))
        page.click(f"{tid('submarine-job-schedule-section')} > summary")
        page.wait_for_selector(tid("submarine-job-no-schedules"))
        assert page.locator(tid(f"submarine-job-run-{bob_run}")).count() == 0
        assert page.locator(tid(f"submarine-job-schedule-{bob_schedule}")).count() == 0
        assert "data-science" not in page.inner_text(PANEL + " .jp-SubmarineJobs")
    finally:
        context.close()
    # nor through the API her session relays, naming bob's space
    items = session_api(hub, "carol", "notebook-jobs", notebook=NOTEBOOK, space="user:bob")
    assert items["items"] == []
    schedules = session_api(hub, "carol", "notebook-schedules")["items"]
    assert bob_schedule not in {s["id"] for s in schedules}
    r = requests.get(
        hub.user_url("carol", f"submarine/api/v1/notebook-jobs/{bob_run}"),
        headers={"Authorization": f"token {hub.token_for('carol')}"},
        timeout=30,
    )
    assert r.status_code == 404
