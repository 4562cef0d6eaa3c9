"""An endpoint's traffic charts in Debian's chromium against the real hub: a model served
by a real endpoint server answers 30 predictions through the hub (3 of them bad inputs);
its page in the Models tab opens "Traffic" in the main area, where JupyterLab's Vega
renderer draws requests per second, latency percentiles and errors over time (hovering
a point shows its values); carol, of another team, is refused the same data."""

from __future__ import annotations

import io
from typing import Any

import joblib
import pytest
import requests
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from .helpers.api import assert_json_error, wait_for, wait_serving
from .helpers.browser import IMAGES, open_lab, open_panel, tid, widen_sidebar
from .helpers.hub import Hub

pytestmark = [pytest.mark.hub, pytest.mark.browser]

TEAM = "data-science"
MODEL = "iris-traffic"
ENDPOINT = "iris-traffic"
X, Y = load_iris(return_X_y=True)


def _cleanup(hub: Hub) -> None:
    hub.api("DELETE", f"endpoints/{TEAM}/{ENDPOINT}?purge=1", user="bob")
    hub.api("DELETE", f"models/{TEAM}/{MODEL}", user="bob")


def _serve(hub: Hub) -> dict[str, Any]:
    def ok(r: requests.Response) -> Any:
        assert r.status_code < 300, r.text
        return r.json() if r.content else None

    buf = io.BytesIO()
    joblib.dump(LogisticRegression(max_iter=500).fit(X, Y), buf)
    ok(hub.api("POST", "models", user="bob", json={"name": MODEL, "team": TEAM}))
    versions = f"models/{TEAM}/{MODEL}/versions"
    ok(hub.api("POST", versions, user="bob", json={"framework": "sklearn"}))
    ok(
        hub.api(
            "PUT",
            f"models/{TEAM}/{MODEL}/versions/1/files?path=model.joblib",
            user="bob",
            data=buf.getvalue(),
        )
    )
    ok(hub.api("POST", f"models/{TEAM}/{MODEL}/versions/1/ready", user="bob"))
    ok(
        hub.api(
            "POST",
            "endpoints",
            user="bob",
            json={"name": ENDPOINT, "team": TEAM, "model": MODEL, "version": 1},
        )
    )
    return wait_serving(hub, f"{TEAM}/{ENDPOINT}", user="bob")


def test_an_endpoints_requests_latency_and_errors_over_time(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    _cleanup(hub)
    ep = _serve(hub)
    headers = {"Authorization": f"token {hub.token_for('bob')}"}
    answered = errors = 0
    for i in range(30):  # through the hub's proxy, as a client would
        body = {"inputs": "nonsense"} if i % 8 == 7 else {"inputs": X[i : i + 2].tolist()}
        r = requests.post(ep["predict_url"], json=body, headers=headers, timeout=30)
        assert r.status_code in (200, 400), r.text
        answered += 1
        errors += r.status_code == 400
    assert errors == 3
    path = f"endpoints/{TEAM}/{ENDPOINT}/metrics?window=300&step=10"
    got = wait_for(
        lambda: (
            (m := hub.api("GET", path, user="bob").json())
            and sum(p["requests"] for p in m["points"]) == answered
            and m
        ),
        30,
        "the endpoint's server to count the requests",
    )
    assert sum(p["errors"] for p in got["points"]) == 3
    # another team's user: not found, and the endpoint's server refuses carol too
    assert_json_error(hub.api("GET", path, user="carol"), 404, ENDPOINT)
    r = requests.get(
        ep["url"] + "stats?series=300",
        headers={"Authorization": f"token {hub.token_for('carol')}"},
        timeout=30,
    )
    assert r.status_code == 403
    context, page = open_lab(browser, hub, "bob")
    try:
        open_panel(page, "models")
        widen_sidebar(page)
        page.click(tid(f"submarine-endpoint-{TEAM}/{ENDPOINT}"))
        page.wait_for_selector(f"{tid('submarine-endpoint-status')}[data-status='ready']")
        page.click(tid("submarine-endpoint-traffic"))
        view = '[data-testid="endpoint-traffic-view"]'
        page.wait_for_selector(view)
        summary = page.wait_for_selector(
            f'{view} [data-testid="traffic-summary"]:has-text("requests")'
        )
        assert summary.inner_text().startswith(
            f"{answered} requests (3 errors) in the last 5 minutes, worst p99"
        ), summary.inner_text()
        for chart in ("traffic-rate", "traffic-latency", "traffic-errors"):
            page.wait_for_selector(f'{view} [data-testid="{chart}"] svg .mark-symbol, '
                                   f'{view} [data-testid="{chart}"] svg .mark-rect')  # fmt: skip
        # the latency chart: a line per percentile
        legend = page.text_content(f'{view} [data-testid="traffic-latency"] svg .role-legend')
        assert legend and all(p in legend for p in ("p50", "p90", "p99")), legend
        # errors: bars, 3 in all (a bar per step that had errors)
        bars = page.locator(f'{view} [data-testid="traffic-errors"] svg .mark-rect path')
        assert bars.count() >= 1
        # hover the busiest point of the rate chart: Vega's tooltip shows its values
        points = page.locator(f'{view} [data-testid="traffic-rate"] svg .mark-symbol path')
        busiest = max(
            range(points.count()),
            key=lambda i: -(points.nth(i).bounding_box() or {"y": 1e9})["y"],
        )
        points.nth(busiest).hover(force=True)
        tip = page.wait_for_selector("#vg-tooltip-element.visible")
        text = tip.inner_text()
        assert "requests" in text and "requests/s" in text, text
        page.screenshot(path=str(IMAGES / "endpoint-traffic.png"))
        # another window: the last hour in 30 s steps, the same requests
        page.select_option(f'{view} [data-testid="traffic-window"]', "2")
        page.wait_for_selector(
            f'{view} [data-testid="traffic-summary"]:has-text("in the last hour")'
        )
        assert page.inner_text(f'{view} [data-testid="traffic-summary"]').startswith(
            f"{answered} requests (3 errors)"
        )
    finally:
        context.close()
        _cleanup(hub)
