"""Who is calling: a JupyterHub user or service, with their teams and scopes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Identity:
    name: str
    kind: str = "user"  # "user" or "service"
    admin: bool = False
    teams: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    run_id: int | None = None  # set when a run's token speaks for its owner
    #: What the caller works in when a request names no team or environment: the
    #: session's (the SDK sends them as ``X-Submarine-Team`` / ``X-Submarine-Environment``,
    #: from ``$SUBMARINE_TEAM`` / ``$SUBMARINE_ENVIRONMENT`` or ``submarine config``).
    #: Only defaults: a named team or environment wins, and membership is still checked.
    default_team: str | None = None
    default_environment: str | None = None

    @classmethod
    def from_hub_model(
        cls,
        model: dict[str, Any],
        *,
        teams: frozenset[str] | None = None,
        admin: bool | None = None,
    ) -> Identity:
        """Build from JupyterHub's user model (``GET /hub/api/user``), enriched by the service."""
        return cls(
            name=model["name"],
            kind=model.get("kind", "user"),
            admin=bool(model.get("admin", False)) if admin is None else admin,
            teams=frozenset(model.get("groups") or ()) if teams is None else teams,
            scopes=frozenset(model.get("scopes") or ()),
        )

    def without_admin(self) -> Identity:
        """The same person seen as a plain member (what they can use, not administer)."""
        return replace(self, admin=False)

    def with_defaults(self, team: str | None, environment: str | None) -> Identity:
        """The same caller with the defaults its client asked for (blank: none)."""
        return replace(self, default_team=team or None, default_environment=environment or None)

    def is_member(self, team: str) -> bool:
        return team in self.teams

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "admin": self.admin,
            "teams": sorted(self.teams),
            "scopes": sorted(self.scopes),
        }
