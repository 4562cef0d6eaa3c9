"""The JupyterLab extension in Debian's chromium, driven by Playwright, against the real hub."""

from __future__ import annotations

import re

import pytest

from .helpers.browser import IMAGES, login
from .helpers.hub import Hub

pytestmark = [pytest.mark.hub, pytest.mark.browser]


def open_panel(browser, hub: Hub, user: str):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(90_000)
    login(page, hub, user)
    page.wait_for_url(re.compile(rf".*/(hub/spawn|user/{user}/lab).*"))
    if page.locator("#spawn_form").count():  # the spawn options form: keep its first choices
        page.click('#spawn_form button[type="submit"]')
    page.wait_for_url(f"**/user/{user}/lab**")
    # from an empty workspace: one saved by another test may have the panel open already,
    # and a click would close it
    page.goto(hub.user_url(user, "lab") + "?reset")
    page.click('.jp-SideBar [data-id="submarine-hub-panel"]')
    page.wait_for_selector('[data-testid="submarine-user"]')
    return page


def test_panel_shows_the_user_and_their_teams(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    page = open_panel(browser, hub, "bob")
    assert page.inner_text('[data-testid="submarine-user"]') == "bob"
    teams = page.locator('[data-testid="submarine-teams"] li.jp-SubmarinePanel-team')
    assert teams.all_inner_texts() == ["data-science", "ml-platform"]
    assert page.locator('[data-testid="submarine-admin"]').count() == 0
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / "submarine-panel.png"))
    page.close()


def test_a_user_of_another_team_sees_only_their_own(browser, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    page = open_panel(browser, hub, "carol")
    teams = page.locator('[data-testid="submarine-teams"] li.jp-SubmarinePanel-team')
    assert teams.all_inner_texts() == ["ml-platform"]
    page.close()
