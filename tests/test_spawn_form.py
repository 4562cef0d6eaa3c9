"""The spawn form offers the environments of the team chosen in it (and the global ones),
in a real browser."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from submarine_spawner.mixin import SubmarineSpawnerMixin

OPTIONS = {
    "teams": ["data-science", "ml-platform"],
    "environments": [
        {"ref": "data-science/pandas-lab", "name": "pandas-lab", "team": "data-science",
         "description": "pandas"},
        {"ref": "ml-platform/torch", "name": "torch", "team": "ml-platform", "description": ""},
        {"ref": "base", "name": "base", "team": None, "description": "for everyone"},
    ],
}  # fmt: skip


class FakeSpawner:
    class user:
        name = "bob"

    async def _platform(self, method: str, path: str, **kw: Any) -> Any:
        assert (method, path) == ("GET", "spawn-options/bob")
        return OPTIONS


def form() -> str:
    # in a thread of its own: Playwright's sync API keeps an event loop in this one
    with ThreadPoolExecutor(1) as pool:
        coro = SubmarineSpawnerMixin.render_options_form(FakeSpawner())
        return pool.submit(asyncio.run, coro).result()


def test_the_form_groups_environments_by_team() -> None:
    html = form()
    for team in ("data-science", "ml-platform", ""):
        assert f'data-team="{team}"' in html
    assert 'label="Global"' in html and "submarine-team" in html


@pytest.mark.browser
def test_choosing_a_team_offers_only_its_environments_and_the_global_ones(
    browser: Any,
) -> None:
    page = browser.new_page()
    try:
        page.set_content(f"<form>{form()}</form>")

        def offered() -> list[str]:
            return page.eval_on_selector_all(
                "#submarine-environment option",
                "opts => opts.filter(o => !o.disabled && !(o.parentElement.disabled)"
                " && !(o.parentElement.hidden)).map(o => o.value)",
            )

        assert offered() == ["", "data-science/pandas-lab", "base"]
        page.select_option("#submarine-environment", "data-science/pandas-lab")
        page.select_option("#submarine-team", "ml-platform")
        assert offered() == ["", "ml-platform/torch", "base"]
        # a choice of the other team's is not kept
        assert page.eval_on_selector("#submarine-environment", "e => e.value") == ""
    finally:
        page.close()
