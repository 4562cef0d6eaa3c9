"""The admin's usage page and the metrics of usage, in-process: admins only, charts fed
with the report's rows, the Vega bundles served, Prometheus gauges per team."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from submarine_hub.service.handlers.admin_usage import VENDOR

from .helpers.api import command, wait
from .helpers.service import InProcessService


@pytest.fixture
def team_with_usage(service: InProcessService) -> tuple[str, str]:
    team = service.new_team("usage-page")
    user = service.new_user("usage-user", [team])
    spec = command("metered", "true", team=team, resources={"cpu": 2})
    run = service.api("POST", "experiments", user=user, json=spec).json()
    wait(service, user, run["id"], timeout=30)
    r = service.api("PUT", "usage/prices", user="admin", json={"cpu_hour": 1.5})
    assert r.status_code == 200, r.text
    r = service.api("PUT", f"usage/budgets/{team}", user="admin", json={"amount": 10})
    assert r.status_code == 200, r.text
    return team, user


def test_the_admin_usage_page_charts_and_tables_every_team(
    service: InProcessService, team_with_usage: tuple[str, str]
) -> None:
    team, user = team_with_usage
    page = service.page("admin/usage", user="admin")
    assert page.status_code == 200, page.text
    assert f'<tr data-team="{team}">' in page.text
    specs = json.loads(re.search(r'id="chart-specs"[^>]*>(.*?)</script>', page.text, re.S)[1])
    assert set(specs) == {"cost-by-day", "cpu-by-team-kind", "gpu-by-day"}
    rows = specs["cost-by-day"]["data"]["values"]
    assert {(r["team"], r["kind"]) for r in rows if r["team"] == team} == {(team, "run")}
    assert "usage?group_by=item&amp;format=csv" in page.text
    if VENDOR.joinpath("vega-embed.min.js").is_file():
        js = service.page("static/vendor/vega-embed.min.js")
        assert js.status_code == 200 and "vegaEmbed" in js.text
    denied = service.page("admin/usage", user=user)
    assert denied.status_code == 403 and "for hub admins" in denied.text
    admin = service.page("admin/", user="admin")
    assert 'href="/services/submarine/admin/usage"' in admin.text


def test_usage_and_spend_per_team_are_prometheus_metrics(
    service: InProcessService, team_with_usage: tuple[str, str]
) -> None:
    team, _ = team_with_usage
    from submarine_hub.service.usage import UsageMeter

    service.call(lambda core: UsageMeter(core.db, interval=0).once())
    text = service.api("GET", "metrics", user="admin").text
    assert re.search(
        rf'submarine_team_usage_hours\{{resource="cpu",team="{team}"\}} [0-9.e-]+', text
    )
    assert re.search(rf'submarine_team_spend\{{currency="USD",team="{team}"\}} [0-9.e-]+', text)
    assert re.search(rf'submarine_team_budget_used_ratio\{{team="{team}"\}} [0-9.e-]+', text)


def test_a_team_sees_the_disk_its_history_and_models_hold(
    service: InProcessService, team_with_usage: tuple[str, str]
) -> None:
    team, user = team_with_usage
    body = {"space": f"team:{team}", "path": "notes.txt", "content": "x" * 5000, "format": "text"}
    assert service.api("POST", "files/versions", user=user, json=body).status_code == 201
    (mine,) = service.api("GET", f"usage/teams?team={team}", user=user).json()["items"]
    assert mine["disk"]["history"] >= 5000 and mine["disk"]["models"] == 0
    from submarine_hub.service.usage import UsageMeter

    service.call(lambda core: UsageMeter(core.db, interval=0).measure_disk({team}))
    text = service.api("GET", "metrics", user="admin").text
    assert re.search(
        rf'submarine_team_disk_bytes\{{kind="history",team="{team}"\}} [0-9.e+]+', text
    )


def test_a_folder_is_measured_without_following_links(tmp_path: Path) -> None:
    from submarine_hub.core.usage.disk import folder_bytes

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.bin").write_bytes(b"1" * 1000)
    (tmp_path / "two.bin").write_bytes(b"2" * 24)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.bin"
    outside.write_bytes(b"3" * 10**6)
    (tmp_path / "link").symlink_to(outside)
    (tmp_path / "dirlink").symlink_to(tmp_path.parent, target_is_directory=True)
    assert folder_bytes(tmp_path) == 1024
    assert folder_bytes(tmp_path / "missing") is None
