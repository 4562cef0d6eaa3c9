"""``submarine env`` (environment profiles) and ``submarine credential``."""

from __future__ import annotations

import json
from typing import Any

import click

from .cli import _call, _client, _emit, main, options


@main.group("env")
def env_group() -> None:
    """Environment profiles: packages or a conda spec, an image, default resources.

    REF is TEAM/NAME for a team's environment, or NAME for a global one.
    """


def _env_line(e: dict[str, Any]) -> str:
    build = e.get("build", {}).get("state", "")
    pkgs = ", ".join(e["packages"]) or "-"
    return f"{e['ref']:<32} {build:<9} {pkgs}"


@env_group.command("list")
@click.option("--team", help="Only this team's (and the global) environments.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def env_list(team: str | None, as_json: bool) -> None:
    """Environments you can use."""
    with _client() as client:
        envs = _call(client.environments, team)
    _emit(envs, as_json, "\n".join(_env_line(e) for e in envs) or "No environments.")


@env_group.command("show")
@click.argument("ref")
def env_show(ref: str) -> None:
    """One environment as JSON."""
    with _client() as client:
        click.echo(json.dumps(_call(client.environment, ref), indent=2))


def _env_fields(
    description: str | None,
    image: str | None,
    packages: tuple[str, ...],
    requirements: Any,
    conda: Any,
    cpu: float | None,
    memory: str | None,
    gpus: int | None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if description is not None:
        fields["description"] = description
    if image is not None:
        fields["image"] = image
    lines = list(packages)
    if requirements is not None:
        lines += [
            ln.split("#", 1)[0].strip()
            for ln in requirements.read().splitlines()
            if ln.split("#", 1)[0].strip()
        ]
    if packages or requirements is not None:
        fields["packages"] = lines
    if conda is not None:
        fields["conda"] = conda.read()
    resources = {k: v for k, v in (("cpu", cpu), ("memory", memory), ("gpus", gpus)) if v}
    if resources:
        fields["resources"] = resources
    return fields


_env_options = [
    click.option("--description", help="What the environment is for."),
    click.option("--image", help="Container image used on Kubernetes."),
    click.option("--package", "packages", multiple=True, help="A pip requirement (repeatable)."),
    click.option("--requirements", type=click.File(), help="A requirements.txt file."),
    click.option("--conda", type=click.File(), help="A conda environment.yml file."),
    click.option("--cpu", type=float, help="Default CPU cores of a session."),
    click.option("--memory", help="Default memory of a session, like 4G."),
    click.option("--gpus", type=int, help="Default GPUs of a session."),
]


_with_env_options = options(*_env_options)


@env_group.command("create")
@click.argument("name")
@click.option("--team", help="The owning team; without it, a global environment (admins).")
@_with_env_options
def env_create(name: str, team: str | None, **opts: Any) -> None:
    """Add an environment."""
    with _client() as client:
        env = _call(client.create_environment, name, team, **_env_fields(**opts))
    click.echo(f"Created {env['ref']}. Build it now with: submarine env build {env['ref']}")


@env_group.command("update")
@click.argument("ref")
@_with_env_options
def env_update(ref: str, **opts: Any) -> None:
    """Change an environment."""
    fields = _env_fields(**opts)
    if not fields:
        raise click.UsageError("Nothing to change: give at least one option.")
    with _client() as client:
        env = _call(client.update_environment, ref, **fields)
    click.echo(f"Updated {env['ref']}.")


@env_group.command("delete")
@click.argument("ref")
def env_delete(ref: str) -> None:
    """Delete an environment."""
    with _client() as client:
        _call(client.delete_environment, ref)
    click.echo(f"Deleted {ref}.")


@env_group.command("build")
@click.argument("ref")
@click.option("--no-wait", is_flag=True, help="Start the build and return.")
@click.option("--log", "show_log", is_flag=True, help="Print the build log (and do not build).")
def env_build(ref: str, no_wait: bool, show_log: bool) -> None:
    """Build an environment on the local backend, with progress; or show its log."""
    with _client() as client:
        if show_log:
            status = _call(client.environment_build, ref, True)
            click.echo(status.get("log") or "No build log yet.")
            return
        last: list[str] = []

        def progress(st: dict[str, Any]) -> None:
            line = (
                f"[{int(100 * float(st.get('progress') or 0)):>3}%] {st.get('step') or st['state']}"
            )
            if not last or last[-1] != line:
                click.echo(line, err=True)
                last.append(line)

        status = _call(client.build_environment, ref, not no_wait, progress)
    if status["state"] == "failed":
        raise click.ClickException(
            f"Building {ref} failed: {status.get('error')}. See: submarine env build {ref} --log"
        )
    click.echo(f"{ref}: {status['state']}")


@main.group("credential")
def credential_group() -> None:
    """Credentials injected into your sessions (values are never shown again)."""


@credential_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def credential_list(as_json: bool) -> None:
    """Your and your teams' credentials (names only)."""
    with _client() as client:
        items = _call(client.credentials)
    lines = [
        f"{c['owner_kind']}:{c['owner']:<20} {c['name']:<24} {c['kind']:<5} {c['target']}"
        for c in items
    ]
    _emit(items, as_json, "\n".join(lines) or "No credentials.")


@credential_group.command("add")
@click.argument("name")
@click.option("--value", help="The secret text (prompted for when neither --value nor --file).")
@click.option("--file", "path", type=click.File("rb"), help="A file to deliver as a file.")
@click.option("--target", help="Variable name (env) or file path (file); default from NAME.")
@click.option("--team", help="Store it for this team (admins).")
@click.option("--user", help="Store it for this user (admins).")
def credential_add(
    name: str,
    value: str | None,
    path: Any,
    target: str | None,
    team: str | None,
    user: str | None,
) -> None:
    """Store a credential for your sessions (or, as an admin, a team's or a user's)."""
    if value is not None and path is not None:
        raise click.UsageError("Give --value or --file, not both.")
    secret: str | bytes
    if path is not None:
        secret, kind = path.read(), "file"
    else:
        secret = value if value is not None else click.prompt("Value", hide_input=True)
        kind = "env"
    owner_kind, owner = ("team", team) if team else ("user", user)
    with _client() as client:
        cred = _call(
            client.add_credential,
            name,
            secret,
            kind=kind,
            target=target,
            owner_kind=owner_kind,
            owner=owner,
        )
    where = (
        "$" + cred["target"]
        if cred["kind"] == "env"
        else "~/.submarine/credentials/" + cred["target"]
    )
    click.echo(
        f"Stored {cred['name']} for {cred['owner_kind']} {cred['owner']}; sessions get {where}."
    )


@credential_group.command("delete")
@click.argument("name")
@click.option("--team", help="A team's credential (admins).")
@click.option("--user", help="Another user's credential (admins).")
def credential_delete(name: str, team: str | None, user: str | None) -> None:
    """Delete a credential."""
    with _client() as client:
        if team:
            _call(client.delete_credential, name, owner_kind="team", owner=team)
        else:
            _call(lambda: client.delete_credential(name, owner=user or ""))
    click.echo(f"Deleted {name}.")
