"""``submarine study create | list | get | stop | resume``: hyper-parameter tuning studies."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from .cli import _call, _client, _created, _emit, main, quiet_option

STATUS_COLORS = {"running": "blue", "finished": "green", "stopped": "magenta", "failed": "red"}
TRIAL_COLORS = {"running": "blue", "complete": "green", "pruned": "yellow", "failed": "red"}


@main.group()
def study() -> None:
    """Hyper-parameter tuning studies: Optuna samplers and pruners, trials as runs."""


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _line(s: dict[str, Any]) -> str:
    c = s["counts"]
    best = s["best"]
    top = (
        f"best {s['objective']['metric']}={_fmt(best['value'])} (trial {best['number']})"
        if best
        else "no result yet"
    )
    status = click.style(f"{s['status']:<9}", fg=STATUS_COLORS.get(s["status"]))
    return (
        f"{s['id']:>5}  {status} {s['name']:<24} {s['sampler']}/{s['pruner']:<18} "
        f"{c['complete']} done, {c['pruned']} pruned, {c['failed']} failed, {c['running']} running "
        f"of {s['trial_limit']}; {top}"
    )


@study.command("create")
@click.argument("spec_file", type=click.Path(allow_dash=True))
@click.option("--team", help="The team it runs in (default: your only or default team).")
@click.option("--wait", is_flag=True, help="Wait until it ends, printing its progress.")
@quiet_option
def study_create(spec_file: str, team: str | None, wait: bool, quiet: bool) -> None:
    """Start a study from SPEC_FILE (YAML or JSON; - for stdin)."""
    try:
        text = sys.stdin.read() if spec_file == "-" else Path(spec_file).read_text()
        spec = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as e:
        raise click.ClickException(f"Cannot read {spec_file}: {e}") from None
    if not isinstance(spec, dict):
        raise click.ClickException(f"{spec_file} must hold a study spec (a mapping).")
    if team:
        spec["team"] = team
    client = _client()
    s = _call(client.create_study, spec)
    _created(quiet, s["id"], f"Study {s['id']} ({s['name']}) started in team {s['team']}.")
    if wait:
        _follow(client, s["id"], quiet)


def _follow(client: Any, study_id: int, quiet: bool) -> None:
    import time

    last = ""
    while True:
        s = _call(client.study, study_id)
        line = _line(s)
        if line != last and not quiet:
            click.echo(line, err=quiet)
            last = line
        if s["status"] != "running":
            if s["status"] == "failed":
                raise click.ClickException(f"Study {study_id} failed: {s['reason']}")
            return
        time.sleep(1.0)


@study.command("list")
@click.option("--team")
@click.option("--status", type=click.Choice(["running", "stopped", "finished", "failed"]))
@click.option("--json", "as_json", is_flag=True)
def study_list(team: str | None, status: str | None, as_json: bool) -> None:
    """The studies of your teams, newest first."""
    items = _call(_client().studies, team, status)
    _emit(items, as_json, "\n".join(_line(s) for s in items) or "No studies.")


@study.command("get")
@click.argument("study_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def study_get(study_id: int, as_json: bool) -> None:
    """A study: its trials (params, objective, state) and its best trial."""
    s = _call(_client().study, study_id)
    if as_json:
        click.echo(json.dumps(s, indent=2))
        return
    click.echo(_line(s))
    if s["reason"]:
        click.echo(f"       {s['reason']}")
    for t in s["items"]:
        state = click.style(f"{t['state']:<8}", fg=TRIAL_COLORS.get(t["state"]))
        params = " ".join(f"{k}={_fmt(v)}" for k, v in t["params"].items())
        value = _fmt(t["value"]) if t["value"] is not None else "-"
        why = f"  ({t['reason']})" if t["reason"] else ""
        click.echo(f"  #{t['number']:<4} run {t['run_id']}  {state} {value:>10}  {params}{why}")


@study.command("stop")
@click.argument("study_id", type=int)
def study_stop(study_id: int) -> None:
    """No new trials; its running trials are killed."""
    s = _call(_client().stop_study, study_id)
    click.echo(f"Study {study_id} {s['status']}.")


@study.command("resume")
@click.argument("study_id", type=int)
@click.option("--trials", type=int, default=0, help="Trials to add to its budget.")
def study_resume(study_id: int, trials: int) -> None:
    """Run a stopped or finished study again."""
    s = _call(_client().resume_study, study_id, trials)
    click.echo(f"Study {study_id} {s['status']}: up to {s['trial_limit']} trials.")


@study.command("register")
@click.argument("study_id", type=int)
@click.argument("ref")
@click.option("--path", "paths", multiple=True, help="The run's files (default model.joblib).")
@click.option("--framework", default="sklearn")
@quiet_option
def study_register(
    study_id: int, ref: str, paths: tuple[str, ...], framework: str, quiet: bool
) -> None:
    """Register the best trial's model as a new version of model REF (TEAM/NAME)."""
    client = _client()
    v = _call(client.register_best, study_id, ref, list(paths) or None, framework=framework)
    _created(quiet, v["version"], f"Registered {ref} version {v['version']} from the best trial.")
