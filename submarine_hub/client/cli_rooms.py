"""``submarine room``: your teams' rooms, where members edit notebooks together in real
time (docs/collaboration.md). Code in a room runs as the team, not as you."""

from __future__ import annotations

from typing import Any

import click

from .cli import _call, _client, _emit, main

STATE_COLORS = {"ready": "green", "starting": "yellow", "stopping": "yellow"}

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _line(client: Any, room: dict[str, Any]) -> str:
    state = click.style(room["state"], fg=STATE_COLORS.get(room["state"]))
    text = f"{room['team']:<24} {state:<8} {client.room_link(room)}"
    return text


def _show(client: Any, room: dict[str, Any], as_json: bool, head: str = "") -> None:
    room = {**room, "link": client.room_link(room)}
    text = (
        f"{head}Team {room['team']}'s room is {room['state']} (account {room['account']}; "
        f"code in it runs as the team).\n{room['link']}"
    )
    _emit(room, as_json, text)


@main.group("room")
def room_group() -> None:
    """Team rooms: a team's shared JupyterLab, with real-time collaboration.

    TEAM defaults to your session's team (or 'submarine config set team'), or your
    only team.
    """


@room_group.command("list")
@json_option
def room_list(as_json: bool) -> None:
    """The rooms of all your teams and their state."""
    with _client() as client:
        rooms = _call(client.rooms)
        lines = [_line(client, r) for r in rooms]
        data = [{**r, "link": client.room_link(r)} for r in rooms]
    _emit(data, as_json, "\n".join(lines) or "You are in no team, so you have no team room.")


@room_group.command("status")
@click.argument("team", required=False)
@json_option
def room_status(team: str | None, as_json: bool) -> None:
    """TEAM's room: its state and address."""
    with _client() as client:
        _show(client, _call(client.room, team), as_json)


@room_group.command("open")
@click.argument("team", required=False)
@click.option("--no-wait", is_flag=True, help="Return at once, while it starts.")
@click.option("--timeout", type=float, default=300, show_default=True,
              help="Seconds to wait for it to be ready.")  # fmt: skip
@json_option
def room_open(team: str | None, no_wait: bool, timeout: float, as_json: bool) -> None:
    """Open TEAM's room (start it if it is stopped) and print its address."""
    with _client() as client:
        try:
            room = _call(client.open_room, team, wait=not no_wait, timeout=timeout)
        except TimeoutError as e:
            raise click.ClickException(str(e)) from None
        _show(client, room, as_json)


@room_group.command("stop")
@click.argument("team", required=False)
@json_option
def room_stop(team: str | None, as_json: bool) -> None:
    """Stop TEAM's room, for everyone in it (kernels end; saved work stays)."""
    with _client() as client:
        _show(client, _call(client.stop_room, team), as_json)
