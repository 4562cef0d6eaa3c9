"""The ``submarine`` command line."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .. import __version__
from .client import SubmarineAPIError, SubmarineClient
from .config import NotConfigured, api_url_for_hub, config_path, save


def _client() -> SubmarineClient:
    try:
        return SubmarineClient()
    except NotConfigured as e:
        raise click.ClickException(str(e)) from None


def _call(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except SubmarineAPIError as e:
        raise click.ClickException(e.message) from None


def _emit(data: Any, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, indent=2) if as_json else text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="submarine")
def main() -> None:
    """Submarine Hub: experiments, notebooks, models and more from the command line.

    Inside a Submarine Hub session it needs no setup; elsewhere run
    'submarine login <hub url>' first.
    """


@main.command()
@click.argument("hub_url")
@click.option("--token", envvar="SUBMARINE_TOKEN", help="A JupyterHub API token.")
def login(hub_url: str, token: str | None) -> None:
    """Store HUB_URL and an API token for later commands.

    Create a token on the hub's Token page (HUB_URL/hub/token), then paste it
    when asked, or pass --token (or SUBMARINE_TOKEN).
    """
    if not token:
        if not sys.stdin.isatty():
            token = sys.stdin.readline().strip()
        else:
            click.echo(f"Create a token at {hub_url.rstrip('/')}/hub/token and paste it here.")
            token = click.prompt("API token", hide_input=True)
    api_url = api_url_for_hub(hub_url)
    with SubmarineClient(api_url, token) as client:
        me = _call(client.me)
    path = save(api_url, token, me["name"])
    click.echo(f"Logged in to {hub_url} as {me['name']}; settings saved in {path}.")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def whoami(as_json: bool) -> None:
    """Who you are, your teams and whether you are an admin."""
    with _client() as client:
        me = _call(client.me)
    teams = ", ".join(t["name"] for t in me["teams"]) or "(none)"
    admin = " (admin)" if me["admin"] else ""
    _emit(me, as_json, f"{me['name']}{admin}\nteams: {teams}\nhub: {client.api_url}")


@main.command()
def logout() -> None:
    """Forget the token stored by 'submarine login'."""
    path = config_path()
    if path.exists():
        path.unlink()
        click.echo(f"Removed {path}.")
    else:
        click.echo("Not logged in.")


@main.group()
def team() -> None:
    """Teams (JupyterHub groups) and their platform settings."""


@team.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def team_list(as_json: bool) -> None:
    """Teams you can see."""
    with _client() as client:
        teams = _call(client.teams)
    lines = [f"{t['name']:<24} {len(t['members']):>3} members  {t['description']}" for t in teams]
    _emit(teams, as_json, "\n".join(lines) or "No teams.")


@team.command("show")
@click.argument("name")
def team_show(name: str) -> None:
    """One team as JSON."""
    with _client() as client:
        click.echo(json.dumps(_call(client.team, name), indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
