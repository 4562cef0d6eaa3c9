"""The ``submarine`` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from .. import __version__
from . import config
from .client import SubmarineClient
from .config import NotConfigured, api_url_for_hub, config_path, save
from .errors import SubmarineAPIError


def _client() -> SubmarineClient:
    try:
        return SubmarineClient()
    except NotConfigured as e:
        raise click.ClickException(str(e)) from None


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except SubmarineAPIError as e:
        raise click.ClickException(e.message) from None
    except ValueError as e:  # the SDK's refusal of what was asked (a folder too big...)
        raise click.ClickException(str(e)) from None


def _emit(data: Any, as_json: bool, text: str) -> None:
    click.echo(json.dumps(data, indent=2) if as_json else text)


quiet_option = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print only the new id on stdout (for scripts: RUN=$(submarine ... -q)); "
    "anything else goes to stderr.",
)


def options(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """One decorator that applies click's option ``decorators`` as if they were stacked
    above the command in this order (for options several commands share)."""

    def apply(fn: Any) -> Any:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def _created(quiet: bool, ident: Any, text: str) -> None:
    """Say what was created: ``text``, or with --quiet its id alone."""
    click.echo(ident if quiet else text)


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
    names = [t["name"] for t in me["teams"]]
    admin = " (admin)" if me["admin"] else ""
    lines = [f"{me['name']}{admin}", f"teams: {', '.join(names) or '(none)'}"]
    lines.append(f"default team: {_default_line('team', names)}")
    env_default = _setting_source("environment")
    if env_default:
        lines.append(f"default environment: {env_default}")
    lines.append(f"api: {client.api_url}")
    me["default_team"] = client.default_team
    me["default_environment"] = client.default_environment
    _emit(me, as_json, "\n".join(lines))


def _setting_source(setting: str) -> str:
    """A default's value and where it comes from ('' when unset)."""
    import os

    var = config.SETTINGS[setting]
    if os.environ.get(var):
        where = "this session's" if os.environ.get("SUBMARINE_SESSION_ID") else f"${var}"
        return f"{os.environ[var]} ({where})"
    value = config.default(setting)
    return f"{value} (submarine config set {setting})" if value else ""


def _default_line(setting: str, teams: list[str]) -> str:
    found = _setting_source(setting)
    if found:
        return found
    if len(teams) == 1:
        return f"{teams[0]} (your only team)"
    if not teams:
        return "(none)"
    return f"(none: give --team, or set one: submarine config set team {teams[0]})"


@main.command()
def logout() -> None:
    """Forget the token stored by 'submarine login' (settings such as the default team stay)."""
    path = config_path()
    settings = {k: v for k, v in config.stored().items() if k in config.SETTINGS}
    if not path.exists():
        click.echo("Not logged in.")
        return
    if settings:
        config._write(settings)
        click.echo(f"Removed the token from {path}.")
    else:
        path.unlink()
        click.echo(f"Removed {path}.")


@main.group("config")
def config_group() -> None:
    """Settings of this client, kept in the file 'submarine login' writes.

    \b
    team         the team commands work in when you name none (users of several teams);
                 inside a session the session's team ($SUBMARINE_TEAM) comes first
    environment  the environment profile runs use when they name none
    """


@config_group.command("set")
@click.argument("setting", type=click.Choice(sorted(config.SETTINGS)))
@click.argument("value")
def config_set(setting: str, value: str) -> None:
    """Set a SETTING, e.g. 'submarine config set team data-science'."""
    path = config.set_setting(setting, value)
    click.echo(f"{setting} = {value} (saved in {path}).")


@config_group.command("unset")
@click.argument("setting", type=click.Choice(sorted(config.SETTINGS)))
def config_unset(setting: str) -> None:
    """Forget a SETTING."""
    config.set_setting(setting, None)
    click.echo(f"{setting} unset.")


@config_group.command("get")
@click.argument("setting", type=click.Choice(sorted(config.SETTINGS)), required=False)
def config_get(setting: str | None) -> None:
    """Show a SETTING (or all) and where its value comes from."""
    for name in [setting] if setting else sorted(config.SETTINGS):
        click.echo(f"{name}: {_setting_source(name) or '(unset)'}")


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


@team.command("quota")
@click.argument("name")
@click.option(
    "--set",
    "limits",
    multiple=True,
    metavar="LIMIT=VALUE",
    help="A limit to set (admins), e.g. max_sessions=3 or max_memory_total=64G; "
    "VALUE 'default' goes back to the configured default.",
)
def team_quota(name: str, limits: tuple[str, ...]) -> None:
    """Show a team's quota and usage; admins change it with --set."""
    with _client() as client:
        if limits:
            changes: dict[str, Any] = {}
            for item in limits:
                key, sep, value = item.partition("=")
                if not sep:
                    raise click.BadParameter(f"{item!r} is not LIMIT=VALUE", param_hint="--set")
                changes[key] = None if value == "default" else _number(value)
            info = _call(client.update_team, name, quota=changes)
        else:
            info = _call(client.team, name)
    rows = [f"{'limit':<26} {'value':>14}"]
    rows += [f"{k:<26} {_fmt(v):>14}" for k, v in info["quota"].items()]
    rows += ["", f"{'usage':<26} {'value':>14}"]
    rows += [f"{k:<26} {_fmt(v):>14}" for k, v in info["usage"].items()]
    click.echo("\n".join(rows))


def _number(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def _fmt(value: Any) -> str:
    return "unlimited" if value is None else str(value)


@main.group("notebook")
def notebook_group() -> None:
    """Versioned notebooks and files: every save is kept.

    PATH is relative to your home (the session's root); teams/TEAM/... is in team
    TEAM's space. --space user:NAME or team:NAME names a space explicitly.
    """


_space_option = click.option("--space", help="user:NAME or team:NAME (default: from PATH).")


@notebook_group.command("history")
@click.argument("path")
@_space_option
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def nb_history(path: str, space: str | None, as_json: bool) -> None:
    """A file's versions, newest first."""
    with _client() as client:
        items = _call(client.file_history, path, space)
    lines = [
        f"{v['number']:>4}  {v['created_at'][:19]}  {v['author']:<12} {v['action']:<8} "
        f"{v['size']:>9} B  {v['message']}"
        for v in items
    ]
    _emit(items, as_json, "\n".join(lines))


@notebook_group.command("show")
@click.argument("path")
@click.option("-v", "--version", "version", type=int, help="The version (default: newest).")
@click.option("--format", "fmt", help="Print as text: py:percent, py:light, md, md:myst or ipynb.")
@_space_option
def nb_show(path: str, version: int | None, fmt: str | None, space: str | None) -> None:
    """Print a version of a file (a notebook as JSON, or as text with --format)."""
    with _client() as client:
        if fmt:
            click.echo(_call(client.export, path, fmt, version, space)["text"], nl=False)
            return
        found = _call(client.file_content, path, version, space)
    content = found["content"]
    click.echo(json.dumps(content, indent=1) if found["format"] == "notebook" else content)


@notebook_group.command("diff")
@click.argument("path")
@click.argument("a", type=int)
@click.argument("b", type=int)
@click.option("--ignore-outputs", is_flag=True, help="Compare sources only.")
@click.option("--ignore-metadata", is_flag=True, help="Leave metadata out.")
@_space_option
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON (nbdime diff).")
def nb_diff(
    path: str,
    a: int,
    b: int,
    ignore_outputs: bool,
    ignore_metadata: bool,
    space: str | None,
    as_json: bool,
) -> None:
    """What changed from version A to version B."""
    with _client() as client:
        out = _call(
            lambda: client.diff(
                path,
                a,
                b,
                ignore_outputs=ignore_outputs,
                ignore_metadata=ignore_metadata,
                space=space,
            )
        )
    summary = ", ".join(f"{k} {v}" for k, v in out["summary"].items())
    _emit(out, as_json, f"{out['text']}\n{summary}")


@notebook_group.command("restore")
@click.argument("path")
@click.argument("version", type=int)
@_space_option
def nb_restore(path: str, version: int, space: str | None) -> None:
    """Make VERSION the newest again (as a new version; nothing is lost).

    Inside your session, a file of your own space is written back to disk too.
    """
    with _client() as client:
        info = _call(client.restore, path, version, space)
        written = _write_back(client, info)
    click.echo(
        f"Restored {info['path']} version {version} as version {info['number']}"
        + (f"; written to {written}." if written else ".")
    )


def _write_back(client: SubmarineClient, info: dict[str, Any]) -> str | None:
    """Write a restored file of the caller's own space into their session's folder."""
    import base64
    import os

    user = os.environ.get("JUPYTERHUB_USER")
    if not user or info["space"] != f"user:{user}":
        return None
    root = os.environ.get("SUBMARINE_SERVER_ROOT") or os.path.expanduser("~")
    target = os.path.join(root, info["path"])
    content = _call(client.file_content, info["path"], info["number"], info["space"])["content"]
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if info["format"] == "notebook":
        data = (json.dumps(content, indent=1, ensure_ascii=False) + "\n").encode()
    elif info["format"] == "base64":
        data = base64.b64decode(content)
    else:
        data = content.encode()
    tmp = f"{target}.submarine-restore"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, target)
    return target


@notebook_group.command("deleted")
@_space_option
def nb_deleted(space: str | None) -> None:
    """Deleted files you can recover (with restore)."""
    with _client() as client:
        items = _call(lambda: client.files(space, deleted=True))
    lines = [
        f"{f['path']:<48} deleted {f['updated_at'][:19]} by {f['author']}; "
        f"last content in version {f['latest'] - 1}"
        for f in items
    ]
    click.echo("\n".join(lines) or "Nothing deleted.")


@notebook_group.command("share")
@click.argument("path")
@click.option("--with", "grantee", required=True, help="A user, or a team with --team.")
@click.option("--team", "is_team", is_flag=True, help="--with names a team.")
@click.option("--write", is_flag=True, help="Read-write (default: read-only).")
@_space_option
def nb_share(path: str, grantee: str, is_team: bool, write: bool, space: str | None) -> None:
    """Share a file with a user or another team."""
    with _client() as client:
        out = _call(
            lambda: client.share(
                path,
                grantee,
                kind="team" if is_team else "user",
                mode="rw" if write else "r",
                space=space,
            )
        )
    click.echo(f"Shared {out['path']} with {out['kind']} {out['with']} ({out['mode']}).")


# The experiment, template, pipeline, model and dataset groups live in their own modules.
from . import (  # noqa: E402, F401
    cli_endpoints,
    cli_environments,
    cli_experiments,
    cli_models,
    cli_notebooks,
    cli_rooms,
    cli_sql,
    cli_studies,
    cli_usage,
)

if __name__ == "__main__":  # pragma: no cover
    main()
