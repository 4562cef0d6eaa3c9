"""Usage in Debian's chromium, against the real hub: the admin's usage page draws its
Vega-Lite charts and tables, and a team member's Usage tab in the lab shows the team's
quota, usage, free GPUs and its budget's warning; another team's member sees none of it.
Screenshots: docs/images/admin-usage.png, docs/images/usage-panel.png."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .helpers.api import command, wait
from .helpers.browser import IMAGES, login, open_lab, open_panel, tid, widen_sidebar
from .helpers.hub import DEMO_ADMIN_PASSWORD, Hub

pytestmark = [pytest.mark.hub, pytest.mark.browser]

TEAM = "ml-platform"
CHARTS = ("cost-by-day", "cpu-by-team-kind", "gpu-by-day")


@pytest.fixture
def warned_team(hub: Hub) -> Iterator[dict[str, Any]]:
    """ml-platform ran something, has prices, and a budget (policy allow: nothing of the
    other tests is refused) it has used more than half of."""
    old_prices = hub.api("GET", "usage/prices", user="admin").json()
    prices = {"currency": "USD", "cpu_hour": 4.0, "memory_gb_hour": 0.5, "gpu_hour": 2.5,
              "gpu_types": {"a100": 3.2}}  # fmt: skip
    assert hub.api("PUT", "usage/prices", user="admin", json=prices).status_code == 200
    spec = command("usage-demo", "sleep 3", team=TEAM, resources={"cpu": 2, "memory": "1G"})
    run = hub.api("POST", "experiments", user="carol", json=spec).json()
    wait(hub, "carol", run["id"])
    assert hub.api("PUT", f"usage/budgets/{TEAM}", user="admin", json={"amount": 1000}).ok
    spent = hub.api("GET", f"usage/budgets/{TEAM}", user="admin").json()["status"]["spent"]
    assert spent > 0
    budget = {"amount": round(spent * 1.6, 6), "policy": "allow", "warn_at": 0.5}
    r = hub.api("PUT", f"usage/budgets/{TEAM}", user="admin", json=budget)
    assert r.status_code == 200, r.text
    try:
        yield budget
    finally:
        hub.api("DELETE", f"usage/budgets/{TEAM}", user="admin")
        hub.api("PUT", "usage/prices", user="admin", json=old_prices)


def test_the_admin_usage_page_draws_its_charts(browser, hub: Hub, warned_team: Any) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        login(page, hub, "admin", DEMO_ADMIN_PASSWORD)
        page.goto(f"{hub.url}/services/submarine/admin/")
        page.click("text=Usage and cost")
        page.wait_for_url("**/services/submarine/admin/usage")
        for chart in CHARTS:
            page.wait_for_selector(f'#{chart}[data-rendered="1"] svg')
        bars = page.locator("#cost-by-day svg .mark-rect path").count()
        assert bars >= 1
        row = page.locator(f'tr[data-team="{TEAM}"]')
        assert "warning" in row.locator(f'[data-testid="budget-{TEAM}"]').inner_text()
        assert row.locator('input[name="amount"]').input_value() == str(warned_team["amount"])
        assert page.locator("#p-cpu_hour").input_value() == "4.0"
        page.screenshot(path=str(IMAGES / "admin-usage.png"), full_page=True)
        # the forms: a price changed (the per-GPU-type one kept), the budget raised
        page.fill("#p-cpu_hour", "5")
        with page.expect_navigation():  # saved, the page reads itself again
            page.click("text=Save prices")
        saved = hub.api("GET", "usage/prices", user="admin").json()
        assert saved["cpu_hour"] == 5 and saved["gpu_types"] == {"a100": 3.2}
        assert page.locator("#p-cpu_hour").input_value() == "5.0"
        page.locator(f'tr[data-team="{TEAM}"] input[name="amount"]').fill("250")
        with page.expect_navigation():
            page.locator(f'tr[data-team="{TEAM}"] button:text-is("Save")').click()
        budget = hub.api("GET", f"usage/budgets/{TEAM}", user="admin").json()
        assert budget["amount"] == 250 and budget["policy"] == "allow"
    finally:
        context.close()


def test_a_member_sees_the_team_quota_usage_and_budget_warning_in_the_lab(  # type: ignore[no-untyped-def]
    browser, hub: Hub, warned_team: Any
) -> None:
    context, page = open_lab(browser, hub, "carol")
    try:
        widen_sidebar(page, 460)
        open_panel(page, "usage")
        card = page.locator(tid(f"submarine-usage-{TEAM}"))
        card.wait_for()
        message = page.locator(tid(f"submarine-budget-message-{TEAM}"))
        message.wait_for()
        assert f"Team '{TEAM}' has used" in message.inner_text()
        assert "monthly budget" in message.inner_text()
        budget = page.locator(tid(f"submarine-budget-{TEAM}"))
        assert "policy allow" in budget.inner_text()
        assert (
            page.locator(tid(f"submarine-usage-free-gpus-{TEAM}"))
            .inner_text()
            .startswith("Free GPUs:")
        )
        assert "CPU-h" in page.locator(tid(f"submarine-usage-month-{TEAM}")).inner_text()
        assert page.locator(tid("submarine-usage-data-science")).count() == 0  # carol's not
        page.screenshot(path=str(IMAGES / "usage-panel.png"))
    finally:
        context.close()
    # a member of another team reads nothing of ml-platform's usage
    assert [t["team"] for t in hub.api("GET", "usage/teams", user="alice").json()["items"]] == [
        "data-science"
    ]
    assert hub.api("GET", f"usage/teams?team={TEAM}", user="alice").status_code == 403
