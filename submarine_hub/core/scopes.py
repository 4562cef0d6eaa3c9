"""Who sees what: objects shared platform-wide (scope ``_global``, managed by admins) or
by one team (scope = the team, managed by its members), such as environment profiles and
templates; and objects that belong to one team (runs, models, endpoints...)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_

from ..store.models import GLOBAL_SCOPE
from .errors import Forbidden
from .identity import Identity


def check_member(identity: Identity, team: str) -> None:
    """Raise unless ``identity`` is a member of ``team`` (or an admin)."""
    if not (identity.admin or identity.is_member(team)):
        raise Forbidden(f"You are not a member of team {team!r}.")


def of_teams(query: Any, column: Any, identity: Identity, team: str | None) -> Any:
    """``query`` of team-owned rows narrowed to ``team`` (refused to non-members) or, with
    none, to the caller's teams (an admin's: all)."""
    if team is not None:
        check_member(identity, team)
        return query.where(column == team)
    if identity.admin:
        return query
    return query.where(column.in_(sorted(identity.teams)))


def check_write(identity: Identity, scope: str, what: str) -> None:
    if identity.admin:
        return
    if scope == GLOBAL_SCOPE:
        raise Forbidden(f"Only hub admins manage global {what}.")
    check_member(identity, scope)


def can_read(identity: Identity, scope: str) -> bool:
    return scope == GLOBAL_SCOPE or identity.admin or identity.is_member(scope)


def visible(query: Any, column: Any, identity: Identity, team: str | None) -> Any:
    """``query`` narrowed to the global scope and ``team`` (or all of the caller's teams)."""
    if team is not None:
        check_member(identity, team)
        return query.where(column.in_([team, GLOBAL_SCOPE]))
    if identity.admin:
        return query
    return query.where(or_(column == GLOBAL_SCOPE, column.in_(sorted(identity.teams))))
