"""``submarine endpoint``: serve model versions, roll them, split traffic, predict."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .cli import _call, _client, _emit, main, options
from .client import SubmarineClient
from .errors import SubmarineAPIError

STATUS_COLORS = {
    "starting": "yellow",
    "updating": "blue",
    "ready": "green",
    "failed": "red",
    "stopped": "magenta",
}


def _status(text: str) -> str:
    return click.style(f"{text:<9}", fg=STATUS_COLORS.get(text))


def _routes(model: str | None, specs: tuple[str, ...]) -> list[dict[str, Any]]:
    """``--route [MODEL:]VERSION=WEIGHT`` (MODEL defaults to --model)."""
    out = []
    for spec in specs:
        target, sep, weight = spec.rpartition("=")
        if not sep or not target:
            raise click.BadParameter(f"{spec!r}: use [MODEL:]VERSION=WEIGHT.", param_hint="--route")
        name, _, version = target.rpartition(":")
        name = name or model or ""
        if not name:
            raise click.BadParameter(f"{spec!r}: name the model (or give --model).")
        try:
            share = float(weight)
        except ValueError:
            raise click.BadParameter(f"{spec!r}: the weight must be a number.") from None
        out.append({"model": name, "version": version, "weight": share})
    return out


def _options(
    script: str | None, loader: str | None, method: str | None, threads: int | None
) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    if script is not None:
        opts["script"] = script
    if loader is not None:
        opts["loader"] = loader
    if method is not None:
        opts["method"] = method
    if threads is not None:
        opts["threads"] = threads
    return opts


def _describe(ep: dict[str, Any]) -> str:
    lines = [
        f"{ep['ref']}  {_status(ep['status']).strip()}  generation {ep['generation']}"
        + (f"  ({ep['reason']})" if ep.get("reason") else ""),
        f"  url: {ep['url']}",
    ]
    for r in ep["routes"]:
        ref = f" ({r['ref']})" if str(r["ref"]) != str(r["version"]) else ""
        lines.append(
            f"  {r['weight']:>6g}  {r['model']} version {r['version']}{ref}  [{r['loader']}]"
        )
    stats = ep.get("stats") or {}
    for key, st in (stats.get("versions") or {}).items():
        if st["requests"]:
            lines.append(
                f"  {key}: {st['requests']} requests, {st['errors']} errors, "
                f"p50 {st['p50_ms']} ms, p99 {st['p99_ms']} ms"
            )
    return "\n".join(lines)


def _wait(client: SubmarineClient, ref: str) -> dict[str, Any]:
    ep = _call(client.wait_endpoint, ref)
    if ep["status"] == "failed" or ep.get("reason"):
        click.echo(_describe(ep))
        sys.exit(1)
    return ep


@main.group("endpoint")
def endpoint() -> None:
    """Serving endpoints: a model version (or alias) answering predictions through the hub."""


_model_opts = [
    click.option("--script", help="A .py file of the version with load(path) and predict()."),
    click.option("--loader", type=click.Choice(["auto", "sklearn", "onnx", "script"])),
    click.option("--method", help="The model's method to call (predict, predict_proba...)."),
    click.option("--threads", type=int, help="Predict in N threads (default 0: inline)."),
]


model_options = options(*_model_opts)


@endpoint.command("create")
@click.argument("name")
@click.option("--model", "-m", help="The model to serve (of the endpoint's team).")
@click.option("--version", "-v", default="production", show_default=True, help="Number or alias.")
@click.option("--route", "routes", multiple=True, metavar="[MODEL:]VERSION=WEIGHT",
              help="Split traffic (repeat): --route 3=90 --route 4=10.")  # fmt: skip
@click.option("--team", help="The endpoint's team (if you are in several).")
@model_options
@click.option("--wait", is_flag=True, help="Wait until it serves; exit 1 if it failed.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def ep_create(
    name: str,
    model: str | None,
    version: str,
    routes: tuple[str, ...],
    team: str | None,
    script: str | None,
    loader: str | None,
    method: str | None,
    threads: int | None,
    wait: bool,
    as_json: bool,
) -> None:
    """Serve a model version: submarine endpoint create iris -m iris -v production --wait."""
    opts = _options(script, loader, method, threads)
    with _client() as client:
        if routes:
            ep = _call(
                lambda: client.create_endpoint(
                    name, team=team, routes=_routes(model, routes), **opts
                )
            )
        else:
            if not model:
                raise click.UsageError("Give --model (and --version), or --route.")
            ep = _call(lambda: client.create_endpoint(name, model, version, team=team, **opts))
        if wait:
            ep = _wait(client, ep["ref"])
    _emit(ep, as_json, _describe(ep))


@endpoint.command("list")
@click.option("--team", help="Only this team's endpoints.")
@click.option("--all", "stopped", is_flag=True, help="Include stopped endpoints.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def ep_list(team: str | None, stopped: bool, as_json: bool) -> None:
    """Endpoints of your teams."""
    with _client() as client:
        items = _call(lambda: client.endpoints(team, stopped=stopped))
    lines = [f"{'ENDPOINT':<36} {'STATUS':<9}  {'ROUTES':<40} URL"]
    for ep in items:
        routes = ", ".join(
            f"v{r['version']}" + (f"={r['weight']:g}" if len(ep["routes"]) > 1 else "")
            for r in ep["routes"]
        )
        lines.append(f"{ep['ref'][:36]:<36} {_status(ep['status'])}  {routes[:40]:<40} {ep['url']}")
    _emit(items, as_json, "\n".join(lines) if items else "No endpoints.")


@endpoint.command("get")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def ep_get(ref: str, as_json: bool) -> None:
    """An endpoint: routes, status, URL, request counts and latencies. REF: [TEAM/]NAME."""
    with _client() as client:
        ep = _call(client.get_endpoint, ref)
    _emit(ep, as_json, _describe(ep))


@endpoint.command("update")
@click.argument("ref")
@click.option("--model", "-m", help="Serve another model (with --version).")
@click.option("--version", "-v", help="Roll to this version (number or alias).")
@click.option("--route", "routes", multiple=True, metavar="[MODEL:]VERSION=WEIGHT",
              help="New split (repeat): --route 3=90 --route 4=10.")  # fmt: skip
@model_options
@click.option("--wait", is_flag=True, help="Wait until it serves the update.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def ep_update(
    ref: str,
    model: str | None,
    version: str | None,
    routes: tuple[str, ...],
    script: str | None,
    loader: str | None,
    method: str | None,
    threads: int | None,
    wait: bool,
    as_json: bool,
) -> None:
    """Roll an endpoint to new versions or weights without dropping requests.

    With no option, aliases are looked up again (after 'submarine model alias')."""
    changes: dict[str, Any] = _options(script, loader, method, threads)
    with _client() as client:
        if routes:
            if model is None:
                current = _call(client.get_endpoint, ref)["routes"]
                model = current[0]["model"].split("/", 1)[1] if current else None
            changes["routes"] = _routes(model, routes)
        elif model:
            changes.update(model=model, version=version or "production")
        elif version:
            changes["version"] = version
        ep = _call(lambda: client.update_endpoint(ref, **changes))
        if wait:
            ep = _wait(client, ep["ref"])
    _emit(ep, as_json, _describe(ep))


@endpoint.command("stop")
@click.argument("ref")
@click.option("--purge", is_flag=True, help="Also delete its record and logs.")
def ep_stop(ref: str, purge: bool) -> None:
    """Stop serving (the hub's route goes first; requests in flight finish)."""
    with _client() as client:
        _call(lambda: client.stop_endpoint(ref, purge=purge))
    click.echo(f"Endpoint {ref} {'deleted' if purge else 'stopped'}.")


@endpoint.command("logs")
@click.argument("ref")
@click.option("-f", "--follow", is_flag=True, help="Keep streaming until it stops.")
def ep_logs(ref: str, follow: bool) -> None:
    """The endpoint server's log: loads, updates, errors, a summary every minute."""
    with _client() as client:
        if follow:
            try:
                for text in client.follow_endpoint_logs(ref):
                    click.echo(text, nl=False)
            except SubmarineAPIError as e:
                raise click.ClickException(e.message) from None
            except KeyboardInterrupt:
                pass
        else:
            click.echo(_call(client.endpoint_logs, ref), nl=False)


@endpoint.command("predict")
@click.argument("ref")
@click.argument("inputs", required=False)
@click.option("-f", "--file", "path", help="Read the inputs (JSON) from a file; '-': stdin.")
@click.option("--version", type=int, help="Ask this version (not the weighted draw).")
def ep_predict(ref: str, inputs: str | None, path: str | None, version: int | None) -> None:
    """Predict: submarine endpoint predict iris '[[5.1, 3.5, 1.4, 0.2]]'.

    INPUTS is JSON: a list of rows, or {"inputs": ...}."""
    if path:
        raw = sys.stdin.read() if path == "-" else Path(path).read_text()
    elif inputs is not None:
        raw = inputs
    else:
        raise click.UsageError("Give INPUTS (JSON) or --file.")
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise click.BadParameter(f"not JSON: {e}", param_hint="INPUTS") from None
    if isinstance(data, dict) and ("inputs" in data or "instances" in data):
        data = data.get("inputs", data.get("instances"))
    with _client() as client:
        out = _call(lambda: client.predict(ref, data, version=version))
    click.echo(json.dumps(out))
