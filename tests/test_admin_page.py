"""The platform's admin page: reachable from the hub for admins only; in a real browser."""

from __future__ import annotations

import re

import pytest

from .helpers.browser import IMAGES, login
from .helpers.hub import DEMO_ADMIN_PASSWORD, Hub

pytestmark = pytest.mark.hub


def test_admins_see_the_page_and_the_hub_links_to_it(hub: Hub) -> None:
    s = hub.login("admin", DEMO_ADMIN_PASSWORD)
    home = s.get(f"{hub.url}/hub/home", timeout=30).text
    assert 'id="submarine-admin-link" href="/services/submarine/admin/"' in home
    r = s.get(f"{hub.url}/services/submarine/admin/", timeout=30)
    assert r.status_code == 200, r.text
    assert "Teams, quotas and usage" in r.text
    for team in ("data-science", "ml-platform"):
        assert f'data-team="{team}"' in r.text


def test_admins_see_running_experiments_and_kill_one(hub: Hub) -> None:
    import time

    spec = {
        "meta": {"name": "admin-sees-me", "team": "ml-platform"},
        "task": {"command": "sleep 60"},
    }
    run = hub.api("POST", "experiments", user="carol", json=spec).json()
    deadline = time.monotonic() + 60
    while hub.api("GET", f"experiments/{run['id']}", user="carol").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    page = (
        hub.login("admin", DEMO_ADMIN_PASSWORD)
        .get(f"{hub.url}/services/submarine/admin/", timeout=30)
        .text
    )
    assert "admin-sees-me" in page and f'data-run="{run["id"]}"' in page
    assert "1 runs" in page  # ml-platform's usage
    r = hub.api("POST", f"experiments/{run['id']}/kill", user="admin")  # what the button calls
    assert r.status_code == 202
    while hub.api("GET", f"experiments/{run['id']}", user="carol").json()["status"] != "killed":
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_non_admins_are_refused_and_get_no_link(hub: Hub) -> None:
    s = hub.login("alice")
    assert "submarine-admin-link" not in s.get(f"{hub.url}/hub/home", timeout=30).text
    r = s.get(f"{hub.url}/services/submarine/admin/", timeout=30)
    assert r.status_code == 403
    assert "for hub admins" in r.text


def test_stopping_a_session_from_the_admin_api(hub: Hub) -> None:
    hub.stop_server("carol")
    hub.spawn("carol")
    (active,) = [
        s for s in hub.api("GET", "sessions", user="admin").json()["items"] if s["user"] == "carol"
    ]
    assert hub.api("POST", f"sessions/{active['id']}/stop", user="alice").status_code == 404
    r = hub.api("POST", f"sessions/{active['id']}/stop", user="admin")
    assert r.status_code == 202, r.text
    hub._spawned.discard("carol")
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and hub.hub_api("GET", "users/carol").json()["servers"]:
        time.sleep(0.3)
    assert not hub.hub_api("GET", "users/carol").json()["servers"]
    assert r.json()["state"] == "stopping"
    again = hub.api("POST", f"sessions/{active['id']}/stop", user="admin")
    assert again.status_code in (400, 404)


@pytest.mark.browser
def test_admin_sets_a_quota_and_an_over_quota_spawn_shows_why(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    hub.stop_server("carol")
    running = hub.api("GET", "teams/ml-platform", user="admin").json()["usage"]["sessions"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)
    try:
        login(page, hub, "admin", DEMO_ADMIN_PASSWORD)
        page.wait_for_load_state()
        page.goto(f"{hub.url}/hub/home")
        page.click("#submarine-admin-link")
        page.wait_for_selector('form.quota-form[data-team="ml-platform"]')
        page.fill("#q-ml-platform-max_sessions", str(running))
        page.click('form.quota-form[data-team="ml-platform"] button[type="submit"]')
        page.wait_for_selector("#message.ok")
        assert page.inner_text("#message") == "Saved the quota of team ml-platform."
        page.screenshot(path=str(IMAGES / "submarine-admin.png"), full_page=True)
        page.context.clear_cookies()

        carol = browser.new_page(viewport={"width": 1280, "height": 800})
        carol.set_default_timeout(60_000)
        login(carol, hub, "carol")
        carol.wait_for_load_state()
        carol.goto(f"{hub.url}/hub/spawn")
        if carol.locator("#spawn_form").count():
            carol.click('#spawn_form button[type="submit"]')
        reason = f"Team 'ml-platform' is at its limit of {running} concurrent sessions"
        carol.wait_for_selector(f"text={reason}")
        body = carol.inner_text("body")
        assert re.search(rf"{re.escape(reason)} \({running} running\)", body)
        carol.screenshot(path=str(IMAGES / "submarine-quota-refused.png"))
        carol.close()
    finally:
        page.close()
        hub.api(
            "PATCH", "teams/ml-platform", user="admin", json={"quota": {"max_sessions": None}}
        ).raise_for_status()
