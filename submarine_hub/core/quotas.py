"""Team quotas: defaults from configuration, overridden per team by admins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import Forbidden, InvalidInput
from .resources import Resources, format_memory, parse_cpu, parse_memory
from .validation import INT64_MAX

UNLIMITED = None


class QuotaExceeded(Forbidden):
    """A request would take a team over one of its limits."""


@dataclass(frozen=True)
class Quota:
    """Limits of one team; ``None`` is no limit."""

    max_sessions: int | None = None
    max_cpu_per_session: float | None = None
    max_memory_per_session: int | None = None
    max_gpus_per_session: int | None = None
    max_cpu_total: float | None = None
    max_memory_total: int | None = None
    max_gpus_total: int | None = None
    max_running_experiments: int | None = None

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Usage:
    sessions: int = 0
    cpu: float = 0.0
    memory: int = 0
    gpus: int = 0
    running_experiments: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_quota_changes(changes: Any) -> dict[str, Any]:
    """Validate an admin's quota overrides; ``None`` resets a limit to the default."""
    if not isinstance(changes, dict):
        raise InvalidInput("'quota' must be an object of limits, like {\"max_sessions\": 3}.")
    unknown = set(changes) - set(Quota.names())
    if unknown:
        raise InvalidInput(
            f"Unknown quota limit(s): {', '.join(sorted(unknown))}; "
            f"known limits are {', '.join(Quota.names())}."
        )
    parsed: dict[str, Any] = {}
    for key, value in changes.items():
        if value is None:
            parsed[key] = None
        elif key.startswith("max_cpu"):
            parsed[key] = parse_cpu(value, key)
        elif key.startswith("max_memory"):
            parsed[key] = parse_memory(value, key)
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
            raise InvalidInput(f"'{key}' must be a whole number, 0 or more (or null).")
        else:
            parsed[key] = value
    return parsed


def effective_quota(defaults: dict[str, Any], overrides: dict[str, Any] | None) -> Quota:
    merged = {**parse_quota_changes(defaults or {}), **(overrides or {})}
    # an explicit null override means "back to the default"
    for key, value in (overrides or {}).items():
        if value is None:
            merged[key] = parse_quota_changes(defaults or {}).get(key)
    return Quota(**merged)


def check_session(team: str, quota: Quota, usage: Usage, want: Resources) -> None:
    """Raise :class:`QuotaExceeded` with an actionable message unless ``want`` fits."""
    advice = "Stop one of the team's sessions, or ask a hub admin to raise the quota."

    def over(what: str) -> QuotaExceeded:
        return QuotaExceeded(f"Team {team!r} {what}. {advice}")

    if quota.max_sessions is not None and usage.sessions + 1 > quota.max_sessions:
        raise over(
            f"is at its limit of {quota.max_sessions} concurrent sessions "
            f"({usage.sessions} running)"
        )
    per_session: list[tuple[str, Any, Any, Callable[[Any], str]]] = [
        ("CPU", want.cpu, quota.max_cpu_per_session, str),
        ("memory", want.memory, quota.max_memory_per_session, format_memory),
        ("GPUs", want.gpus, quota.max_gpus_per_session, str),
    ]
    for label, amount, limit, fmt in per_session:
        if limit is not None and amount is not None and amount > limit:
            raise QuotaExceeded(
                f"A session of team {team!r} may use at most {fmt(limit)} {label}; "
                f"this one asks for {fmt(amount)}. Choose a smaller environment, "
                "or ask a hub admin to raise the quota."
            )
    totals: list[tuple[str, Any, Any, Any, Callable[[Any], str]]] = [
        ("CPU", usage.cpu, want.cpu, quota.max_cpu_total, str),
        ("memory", usage.memory, want.memory, quota.max_memory_total, format_memory),
        ("GPUs", usage.gpus, want.gpus, quota.max_gpus_total, str),
    ]
    for label, used, amount, limit, fmt in totals:
        if limit is not None and amount and used + amount > limit:
            raise over(
                f"would use {fmt(used + amount)} {label} in total, over its limit of {fmt(limit)}"
            )
