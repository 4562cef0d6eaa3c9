"""The same run and model, logged and registered through the real ``mlflow`` client
against the hub, then seen in the lab's Submarine panel (Debian's chromium, Playwright):
the run's page shows its name, a param and a metric; the Models tab shows the
registered model with its alias and version."""

from __future__ import annotations

import re

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from .helpers.browser import IMAGES, open_lab, open_panel, tid, widen_sidebar
from .helpers.hub import Hub

mlflow = pytest.importorskip("mlflow")

pytestmark = [pytest.mark.hub, pytest.mark.browser]

MODEL = "iris-mlflow-panel"


def test_a_run_and_model_logged_with_mlflow_show_in_the_panel(  # type: ignore[no-untyped-def]
    browser, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"{hub.url}/services/submarine/mlflow/data-science"
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", hub.token_for("bob"))
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    hub.api("DELETE", f"models/data-science/{MODEL}", user="bob")
    mlflow.set_experiment("Default")
    x, y = load_iris(return_X_y=True)
    with mlflow.start_run(run_name="mlflow-in-panel") as run:
        mlflow.log_param("max_iter", 300)
        for step, value in enumerate((0.7, 0.9, 0.95)):
            mlflow.log_metric("acc", value, step=step)
        info = mlflow.sklearn.log_model(
            LogisticRegression(max_iter=300).fit(x, y), name="model", input_example=x[:2]
        )
    client = mlflow.MlflowClient(uri, registry_uri=uri)
    version = mlflow.register_model(info.model_uri, MODEL)
    client.set_registered_model_alias(MODEL, "champion", version.version)
    run_id = int(run.info.run_id)

    context, page = open_lab(browser, hub, "bob")
    try:
        open_panel(page, "experiments")
        widen_sidebar(page)
        page.click(tid(f"submarine-run-{run_id}"))
        title = page.wait_for_selector(tid("submarine-run-title"))
        assert re.match(rf"#{run_id} mlflow-in-panel", title.inner_text()), title.inner_text()
        page.wait_for_selector(f"{tid('submarine-run-params')}:has-text('max_iter')")
        assert "300" in page.inner_text(tid("submarine-run-params"))
        metric = page.wait_for_selector(tid("submarine-metric-acc"))
        assert metric.inner_text().replace("acc", "").strip() == "0.95"
        page.screenshot(path=str(IMAGES / "mlflow-run-in-panel.png"))

        open_panel(page, "models")
        page.click(tid(f"submarine-model-data-science/{MODEL}"))
        page.wait_for_selector(f"{tid('submarine-model-title')}:text-is('data-science/{MODEL}')")
        page.wait_for_selector(tid("submarine-alias-champion"))
        n = version.version
        page.wait_for_selector(f"{tid(f'submarine-version-status-{n}')}[data-status='ready']")
        assert "MLmodel" in page.inner_text(tid(f"submarine-version-files-{n}"))
        page.screenshot(path=str(IMAGES / "mlflow-model-in-panel.png"))
    finally:
        context.close()
