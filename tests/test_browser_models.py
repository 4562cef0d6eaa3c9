"""The Submarine panel's Models and Datasets tabs in Debian's chromium, driven by
Playwright, against the real hub: a file of bob's session registered from the file
browser (a bad name refused in the dialog first), an alias set, the version deployed to
an endpoint and asked for a prediction; a run's output registered from its page; a
dataset used for a run; and carol, of another team, seeing none of it."""

from __future__ import annotations

import base64
import io
import json
import re
import time

import joblib
import pytest
import requests
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from .helpers.api import wait_serving
from .helpers.browser import IMAGES, open_lab, open_panel, set_theme, tid, widen_sidebar
from .helpers.hub import Hub
from .helpers.sessions import ensure_session

pytestmark = [pytest.mark.hub, pytest.mark.browser]

MODEL = "iris-lab"
ENDPOINT = "iris-lab"
DATASET = "iris-lab-train"
X, Y = load_iris(return_X_y=True)


def put_file(hub: Hub, user: str, path: str, data: bytes) -> None:
    """A binary file in the user's session, through the contents API."""
    headers = {"Authorization": f"token {hub.token_for(user)}"}
    folder = path.rpartition("/")[0]
    if folder:
        requests.put(
            hub.user_url(user, f"api/contents/{folder}"),
            headers=headers,
            json={"type": "directory"},
            timeout=30,
        ).raise_for_status()
    requests.put(
        hub.user_url(user, f"api/contents/{path}"),
        headers=headers,
        json={"type": "file", "format": "base64", "content": base64.b64encode(data).decode()},
        timeout=60,
    ).raise_for_status()


def trained_model() -> bytes:
    buf = io.BytesIO()
    joblib.dump(LogisticRegression(max_iter=500).fit(X, Y), buf)
    return buf.getvalue()


def register_in_dialog(page, name: str) -> None:  # type: ignore[no-untyped-def]
    dialog = ".jp-Dialog"
    page.fill(f'{dialog} [data-testid="submarine-register-model"]', name)
    page.click(f"{dialog} button.jp-Dialog-button:has-text('Register')")


def test_register_a_file_set_an_alias_deploy_and_send_a_test_request(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    ensure_session(hub, "bob")
    put_file(hub, "bob", "models-demo/iris.joblib", trained_model())
    hub.api("DELETE", f"endpoints/data-science/{ENDPOINT}?purge=1", user="bob")
    hub.api("DELETE", f"models/data-science/{MODEL}", user="bob")
    context, page = open_lab(browser, hub, "bob", "models-demo")
    try:
        # the file browser's context menu: Register as model…
        page.click(".jp-DirListing-item:has-text('iris.joblib')", button="right")
        page.click(".lm-Menu-itemLabel:text-is('Register as model…')")
        page.wait_for_selector('.jp-Dialog [data-testid="submarine-register-form"] select')
        assert page.input_value('.jp-Dialog [data-testid="submarine-register-file"]') == (
            "models-demo/iris.joblib"
        )
        assert page.input_value('.jp-Dialog [data-testid="submarine-register-team"]') == (
            "data-science"
        )
        # a bad name: the service's refusal, in the dialog, which stays open
        register_in_dialog(page, "not a name!")
        error = page.wait_for_selector('.jp-Dialog [data-testid="submarine-register-error"]')
        assert error.inner_text() == "'name' must be 1-100 letters, digits, '_', '.' or '-'."
        page.fill('.jp-Dialog [data-testid="submarine-register-description"]', "From the lab")
        page.select_option('.jp-Dialog [data-testid="submarine-register-framework"]', "sklearn")
        page.fill('.jp-Dialog [data-testid="submarine-register-model"]', MODEL)
        page.wait_for_selector(
            '.jp-Dialog [data-testid="submarine-register-kind"]:has-text("A new model")'
        )
        page.screenshot(path=str(IMAGES / "submarine-register.png"))
        register_in_dialog(page, MODEL)
        page.wait_for_selector(".jp-Dialog", state="detached")

        # the Models tab opens on the new model: version 1, ready, its file
        widen_sidebar(page)
        page.wait_for_selector(f"{tid('submarine-model-title')}:text-is('data-science/{MODEL}')")
        page.wait_for_selector(f"{tid('submarine-version-status-1')}[data-status='ready']")
        assert "iris.joblib" in page.inner_text(tid("submarine-version-files-1"))
        # an alias, with the keyboard
        page.fill(tid("submarine-alias-input-1"), "production")
        page.press(tid("submarine-alias-input-1"), "Enter")
        page.wait_for_selector(tid("submarine-alias-production"))
        assert page.inner_text(tid("submarine-model-said")) == "production now points at version 1."
        # tags: a malformed list is refused in place, a good one saved
        page.fill(tid("submarine-tags-input-1"), "=oops")
        page.click(tid("submarine-tags-save-1"))
        assert "no tag name" in page.inner_text(tid("submarine-models-error"))
        page.fill(tid("submarine-tags-input-1"), "stage=candidate, reviewed")
        page.click(tid("submarine-tags-save-1"))
        page.wait_for_selector(
            f"{tid('submarine-model-said')}:text-is('Saved the tags of version 1.')"
        )
        assert page.input_value(tid("submarine-tags-input-1")) == "stage=candidate, reviewed"
        page.screenshot(path=str(IMAGES / "submarine-models.png"))

        # deploy it; the endpoint's page follows it to ready
        assert page.input_value(tid("submarine-deploy-name-1")) == ENDPOINT
        page.click(tid("submarine-deploy-1"))
        page.wait_for_selector(
            f"{tid('submarine-endpoint-title')}:text-is('data-science/{ENDPOINT}')"
        )
        wait_serving(hub, f"data-science/{ENDPOINT}")
        page.wait_for_selector(
            f"{tid('submarine-endpoint-status')}[data-status='ready']", timeout=60_000
        )
        url = page.inner_text(tid("submarine-endpoint-url"))
        assert url.endswith(f"/services/endpoint-data-science-{ENDPOINT}/predict"), url
        # a test request, relayed by the session
        page.fill(tid("submarine-predict-body"), json.dumps({"inputs": X[[0, 100]].tolist()}))
        page.click(tid("submarine-predict-send"))
        reply = json.loads(page.inner_text(tid("submarine-predict-reply")))
        assert reply == {"predictions": [0, 2], "model": f"data-science/{MODEL}", "version": 1}
        # a body the model cannot take: the endpoint's message
        page.fill(tid("submarine-predict-body"), '{"inputs": "nonsense"}')
        page.click(tid("submarine-predict-send"))
        assert page.inner_text(tid("submarine-predict-error"))
        page.fill(tid("submarine-predict-body"), json.dumps({"inputs": X[[0, 100]].tolist()}))
        page.click(tid("submarine-predict-send"))
        page.wait_for_selector(tid("submarine-predict-reply"))
        page.screenshot(path=str(IMAGES / "submarine-endpoint.png"))

        # the dark theme: the page follows JupyterLab's theme variables
        def colors() -> tuple[str, str]:
            return page.eval_on_selector(
                tid("submarine-predict-reply"),
                "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]",
            )

        light = colors()
        set_theme(page, "JupyterLab Dark")
        try:
            assert colors() != light
            page.screenshot(path=str(IMAGES / "submarine-endpoint-dark.png"))
        finally:
            set_theme(page, "JupyterLab Light")

        # the list shows both
        page.click(tid("submarine-endpoint-back"))
        page.wait_for_selector(tid(f"submarine-model-data-science/{MODEL}"))
        page.wait_for_selector(tid(f"submarine-endpoint-data-science/{ENDPOINT}"))
    finally:
        context.close()
        hub.api("DELETE", f"endpoints/data-science/{ENDPOINT}?purge=1", user="bob")
    model = hub.api("GET", f"models/data-science/{MODEL}", user="bob").json()
    assert model["aliases"] == {"production": 1}
    assert model["versions"][0]["tags"] == {"stage": "candidate", "reviewed": ""}
    assert model["versions"][0]["description"] == "From the lab"
    assert model["versions"][0]["framework"] == "sklearn"


def test_register_a_runs_output_from_its_page(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    r = hub.api(
        "POST",
        "templates/_global/sklearn-classifier/runs",
        user="bob",
        json={
            "parameters": {"n_estimators": 5, "dataset": "wine"},
            "meta": {"team": "data-science"},  # bob is in two teams
        },
    )
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    deadline = time.monotonic() + 180
    while (run := hub.api("GET", f"experiments/{run_id}", user="bob").json())["status"] not in (
        "succeeded",
        "failed",
        "killed",
    ):
        assert time.monotonic() < deadline, run
        time.sleep(1)
    assert run["status"] == "succeeded", run
    hub.api("DELETE", "models/data-science/wine-from-run", user="bob")
    context, page = open_lab(browser, hub, "bob")
    try:
        open_panel(page, "experiments")
        page.click(tid(f"submarine-run-{run_id}"))
        page.click(tid("submarine-run-register-model"))
        box = page.wait_for_selector('.jp-Dialog [data-testid="submarine-register-artifacts"]')
        assert "model.joblib" in box.inner_text()
        assert page.is_checked(
            '.jp-Dialog [data-testid="submarine-register-artifact-model.joblib"]'
        )
        register_in_dialog(page, "wine-from-run")
        page.wait_for_selector(".jp-Dialog", state="detached")
        page.wait_for_selector(f"{tid('submarine-version-status-1')}[data-status='ready']")
        assert "accuracy" in page.inner_text(tid("submarine-version-metrics-1"))
        assert page.inner_text(tid("submarine-version-run-1")) == f"#{run_id}"
    finally:
        context.close()
    version = hub.api("GET", "models/data-science/wine-from-run/versions/1", user="bob").json()
    assert version["source_run_id"] == run_id
    assert [f["path"] for f in version["files"]] == ["model.joblib"]


def test_datasets_tab_and_use_for_a_run(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    r = hub.api(
        "POST",
        "datasets",
        user="bob",
        json={
            "name": DATASET,
            "team": "data-science",
            "uri": "s3://demo-bucket/iris/train.csv",
            "format": "csv",
            "description": "Iris, the training split",
            "size": 4551,
            "schema": {"sepal_length": "float", "species": "string"},
            "tags": ["iris"],
        },
    )
    assert r.status_code in (201, 409), r.text
    ref = f"data-science/{DATASET}"
    context, page = open_lab(browser, hub, "bob")
    try:
        open_panel(page, "datasets")
        widen_sidebar(page)
        item = page.wait_for_selector(tid(f"submarine-dataset-{ref}"))
        assert "s3://demo-bucket/iris/train.csv" in item.inner_text()
        assert "csv · 4.55 kB" in item.inner_text()
        page.click(tid(f"submarine-dataset-lineage-{ref}"))
        page.wait_for_selector(f"{tid(f'submarine-lineage-{ref}')} :text('No run has read it')")
        page.screenshot(path=str(IMAGES / "submarine-datasets.png"))

        # Use for a run: the submit form, the dataset as an input
        page.click(tid(f"submarine-use-dataset-{ref}"))
        page.wait_for_selector(tid("submarine-submit-form"))
        page.wait_for_selector(tid("submarine-run-inputs"))
        assert page.input_value(tid("submarine-run-inputs")) == f"iris_lab_train={ref}"
        assert page.input_value(tid("submarine-run-team")) == "data-science"
        page.select_option(tid("submarine-template"), "sklearn-classifier")
        page.fill(tid("submarine-param-n_estimators"), "5")
        page.click(tid("submarine-submit"))
        title = page.wait_for_selector(tid("submarine-run-title")).inner_text()
        run_id = int(re.match(r"#(\d+) ", title).group(1))  # type: ignore[union-attr]
    finally:
        context.close()
    run = hub.api("GET", f"experiments/{run_id}", user="bob").json()
    assert [i["name"] for i in run["spec"]["inputs"]] == ["iris_lab_train"]
    assert run["spec"]["inputs"][0]["dataset"] == ref
    hub.api("POST", f"experiments/{run_id}/kill", user="bob")  # not needed further
    # the run is in the dataset's lineage
    graph = hub.api("GET", f"lineage?dataset={ref}", user="bob").json()
    assert f"run:{run_id}" in [n["id"] for n in graph["nodes"]]


def test_carol_sees_none_of_bobs_models_or_datasets(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    # bob's team has a model and a dataset, whichever tests ran before
    r = hub.api("POST", "models", user="bob", json={"name": "bob-only", "team": "data-science"})
    assert r.status_code in (201, 409), r.text
    r = hub.api(
        "POST",
        "datasets",
        user="bob",
        json={"name": "bob-only-data", "team": "data-science", "uri": "s3://b/bob.csv"},
    )
    assert r.status_code in (201, 409), r.text
    context, page = open_lab(browser, hub, "carol")
    try:
        open_panel(page, "models")
        page.wait_for_selector(
            f"{tid('submarine-models')} li[data-model], {tid('submarine-no-models')}",
            state="attached",
        )
        assert "data-science" not in page.inner_text(tid("submarine-models"))
        assert "data-science" not in page.inner_text(tid("submarine-endpoints"))
        open_panel(page, "datasets")
        page.wait_for_selector(
            f"{tid('submarine-datasets')} li[data-testid^='submarine-dataset-'], "
            f"{tid('submarine-no-datasets')}",
            state="attached",
        )
        assert "data-science" not in page.inner_text(tid("submarine-datasets"))
    finally:
        context.close()
    # nor can she reach them through her session
    for path in ("models/data-science/bob-only", "datasets/data-science/bob-only-data"):
        r = requests.get(
            hub.user_url("carol", f"submarine/api/v1/{path}"),
            headers={"Authorization": f"token {hub.token_for('carol')}"},
            timeout=30,
        )
        assert r.status_code == 404, (path, r.text)
