"""The admin's usage page: usage and cost over time by team and kind (Vega-Lite charts),
this month's figures and budget of every team, the prices, and CSV downloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tornado import web

from ...core.usage import budgets, records, reports, summary
from ...core.usage.meter import Meter
from ...core.usage.prices import format_amount
from ...store.db import reading
from ...store.models import TeamBudget
from .admin import TEMPLATES, AdminPageHandler

VENDOR = Path(__file__).parents[1] / "static" / "vendor"


def chart_specs(rows: list[dict[str, Any]], currency: str) -> dict[str, Any]:
    """Vega-Lite specs of the page's charts over ``rows`` (grouped by team, kind, day)."""
    base = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "data": {"values": rows},
        "width": "container",
        "height": 220,
    }
    return {
        "cost-by-day": {
            **base,
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "x": {"field": "day", "type": "ordinal", "title": "day (UTC)"},
                "y": {"aggregate": "sum", "field": "cost", "type": "quantitative",
                      "title": f"cost ({currency})"},
                "color": {"field": "team", "type": "nominal"},
            },
        },
        "cpu-by-team-kind": {
            **base,
            "mark": {"type": "bar", "tooltip": True},
            "encoding": {
                "y": {"field": "team", "type": "nominal"},
                "x": {"aggregate": "sum", "field": "cpu_hours", "type": "quantitative",
                      "title": "CPU-hours"},
                "color": {"field": "kind", "type": "nominal"},
            },
        },
        "gpu-by-day": {
            **base,
            "mark": {"type": "line", "point": True, "tooltip": True},
            "encoding": {
                "x": {"field": "day", "type": "ordinal", "title": "day (UTC)"},
                "y": {"aggregate": "sum", "field": "gpu_hours", "type": "quantitative",
                      "title": "GPU-hours"},
                "color": {"field": "team", "type": "nominal"},
            },
        },
    }  # fmt: skip


class AdminUsageHandler(AdminPageHandler):
    """``/services/submarine/admin/usage``: hub admins only."""

    @web.authenticated
    async def get(self) -> None:
        identity = await self.require_admin("usage")
        since = reports.parse_time(self.get_query_argument("since", None), "since")
        until = reports.parse_time(self.get_query_argument("until", None), "until")
        groups = await self.core.hub_groups()
        reading(False)  # metering writes
        try:
            async with self.core.db.session() as s:
                await Meter().sync(s)
        finally:
            reading(True)
        async with self.core.db.session() as s:
            prices = await records.load_price_book(s)
            versions = await records.price_versions(s)
            by_day = await reports.report(
                s, identity, prices, since=since, until=until, group_by=["team", "kind", "day"]
            )
            teams = [
                await summary.team_summary(s, name, prices, self.core.quota_defaults)
                for name in sorted(groups)
            ]
            budget_rows = {
                b.team: budgets.budget_json(b)
                for b in [await s.get(TeamBudget, name) for name in sorted(groups)]
                if b is not None
            }
        prefix = self.settings["submarine_service_prefix"]
        page = TEMPLATES.get_template("admin_usage.html").render(
            name=identity.name,
            report=by_day,
            teams=teams,
            budgets=budget_rows,
            prices=prices.current().to_json(),
            versions=versions,
            charts=json.dumps(chart_specs(by_day["items"], prices.currency)).replace("</", "<\\/"),
            have_charts=(VENDOR / "vega-embed.min.js").is_file(),
            static=prefix + "static/vendor/",
            admin=prefix + "admin/",
            api=prefix + "api/v1/",
            xsrf=self.xsrf_token.decode()
            if isinstance(self.xsrf_token, bytes)
            else self.xsrf_token,
            hub_prefix=self.hub_auth.hub_prefix,
            amount=format_amount,
        )
        self.finish(page)

    def write_error(self, status_code: int, **kwargs: object) -> None:
        exc_info = kwargs.get("exc_info")
        message = getattr(exc_info[1], "message", None) if exc_info else None  # type: ignore[index]
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(
            f"<!doctype html><title>{status_code}</title><h1>{status_code}</h1>"
            f"<p>{web.escape.xhtml_escape(message or self._reason)}</p>"
        )
