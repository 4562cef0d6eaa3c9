"""The SDK's calls on usage: what the caller's teams may use, use now and have spent
(against their budget), usage reports (JSON or CSV), and the admins' prices and budgets."""

from __future__ import annotations

from typing import Any

from .transport import SyncTransport


def _params(**given: Any) -> dict[str, Any]:
    return {k: v for k, v in given.items() if v not in (None, "")}


class UsageAPI(SyncTransport):
    """Usage, cost and budgets."""

    def team_usage(self, team: str | None = None) -> list[dict[str, Any]]:
        """Per team of yours (or ``team``): quota, current usage, spend this month, budget
        (its ``state``: ok, warning or spent, and ``message``) and free GPUs."""
        return self.request("GET", "usage/teams", params=_params(team=team))["items"]

    def usage(
        self,
        team: str | None = None,
        *,
        group_by: str | list[str] = "team,kind",
        since: str | None = None,
        until: str | None = None,
        user: str | None = None,
        kind: str | None = None,
    ) -> dict[str, Any]:
        """A usage report: ``group_by`` any of team, user, kind, day or month, item."""
        by = group_by if isinstance(group_by, str) else ",".join(group_by)
        params = _params(team=team, group_by=by, since=since, until=until, user=user, kind=kind)
        return self.request("GET", "usage", params=params)

    def usage_csv(self, team: str | None = None, *, group_by: str = "team,kind", **kw: Any) -> str:
        """The same report as CSV text."""
        params = _params(team=team, group_by=group_by, format="csv", **kw)
        return self.fetch("usage", params=params).text

    def prices(self) -> dict[str, Any]:
        return self.request("GET", "usage/prices")

    def set_prices(self, **prices: Any) -> dict[str, Any]:
        """Admins: ``set_prices(cpu_hour=0.05, gpu_hour=2.5, currency="EUR")``."""
        return self.request("PUT", "usage/prices", json=prices)

    def price_versions(self) -> list[dict[str, Any]]:
        """Every version of the prices, oldest first (``in_effect``; the last in effect is
        the current one): usage is priced at the version in effect when it happened."""
        return self.request("GET", "usage/prices/versions")["items"]

    def add_price_version(
        self, prices: dict[str, Any], effective_at: str | None = None
    ) -> dict[str, Any]:
        """Admins: ``prices`` from ``effective_at`` (ISO 8601, now or later; None: now) on."""
        body: dict[str, Any] = {"prices": prices}
        if effective_at is not None:
            body["effective_at"] = effective_at
        return self.request("POST", "usage/prices/versions", json=body)

    def delete_price_version(self, version_id: int) -> None:
        """Admins: withdraw a price change that has not taken effect yet."""
        self.request("DELETE", f"usage/prices/versions/{int(version_id)}")

    def budgets(self) -> list[dict[str, Any]]:
        return self.request("GET", "usage/budgets")["items"]

    def budget(self, team: str) -> dict[str, Any]:
        """``team``'s budget with its ``status`` (spent, state, message)."""
        return self.request("GET", f"usage/budgets/{team}")

    def set_budget(self, team: str, amount: float, **fields: Any) -> dict[str, Any]:
        """Admins: ``set_budget("ml", 500, unit="money", policy="queue", warn_at=0.8)``."""
        return self.request("PUT", f"usage/budgets/{team}", json={"amount": amount, **fields})

    def delete_budget(self, team: str) -> None:
        self.request("DELETE", f"usage/budgets/{team}")
