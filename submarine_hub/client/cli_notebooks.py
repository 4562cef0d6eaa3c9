"""``submarine notebook run | params | job | schedule``: notebooks as parameterized jobs."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import click
import yaml

from .cli import _call, _client, _created, _emit, notebook_group, options, quiet_option
from .cli_experiments import _params, _status, _stream_logs
from .client import SubmarineClient
from .sdk_experiments import FINAL_STATES


def _grid(items: tuple[str, ...]) -> dict[str, list[Any]] | None:
    """``--grid alpha=0.1,0.5``: each value a YAML scalar."""
    if not items:
        return None
    out: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key or not values:
            raise click.BadParameter(f"{item!r}: use name=v1,v2,...", param_hint="--grid")
        out[key] = [_scalar(v) for v in values.split(",")]
    return out


def _scalar(text: str) -> Any:
    try:
        return yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        return text


def _sets(path: str | None) -> list[dict[str, Any]] | None:
    if not path:
        return None
    try:
        data = yaml.safe_load(sys.stdin.read() if path == "-" else Path(path).read_text())
    except (OSError, yaml.YAMLError) as e:
        raise click.ClickException(f"Cannot read {path}: {e}") from None
    if not isinstance(data, list) or not all(isinstance(s, dict) for s in data):
        raise click.ClickException(f"{path} must hold a list of parameter sets (mappings).")
    return data


def _job_fields(
    name: str | None,
    team: str | None,
    tags: tuple[str, ...],
    env_profile: str | None,
    cpu: float | None,
    memory: str | None,
    gpus: int | None,
    timeout: float | None,
) -> dict[str, Any]:
    job: dict[str, Any] = {"name": name, "team": team}
    if tags:
        job["tags"] = sorted(set(tags))
    if env_profile:
        job["environment"] = {"profile": env_profile}
    resources = {k: v for k, v in (("cpu", cpu), ("memory", memory), ("gpus", gpus)) if v}
    if resources:
        job["resources"] = resources
    if timeout:
        job["timeout"] = timeout
    return job


def _local_content(notebook: str) -> dict[str, Any]:
    try:
        return json.loads(Path(notebook).read_text())
    except (OSError, ValueError) as e:
        raise click.ClickException(f"Cannot read {notebook}: {e}") from None


def describe_job(job: dict[str, Any]) -> str:
    """A notebook job in a few lines: status, notebook, executed output, error, children."""
    lines = [
        f"run {job['id']}: {job['name']}  ({job['team']}, {job['owner']})",
        f"status:   {_status(job['status']).strip()} {job['reason']}".rstrip(),
    ]
    nb = job.get("notebook")
    if nb:
        lines.append(f"notebook: {nb['space']}/{nb['path']} version {nb['version']}")
    if job.get("parameters") and "parameter_sets" not in job["parameters"]:
        lines.append(f"params:   {json.dumps(job['parameters'])}")
    out = job.get("output")
    if out and out.get("version"):
        lines.append(f"executed: {out.get('lab_path') or out['path']} (open it in JupyterLab)")
    err = job.get("error")
    if err:
        count = f" (In [{err['execution_count']}])" if err.get("execution_count") else ""
        lines.append(f"error:    cell {err['index'] + 1}{count}: {err['ename']}: {err['evalue']}")
    for key, value in sorted((job.get("metrics") or {}).items()):
        lines.append(f"  metric {key} = {value:g}")
    if "children" in job:
        summary = job["summary"]
        counts = ", ".join(f"{n} {s}" for s, n in sorted(summary["by_status"].items()))
        lines.append(f"children: {summary['total']} ({counts})")
        for key, m in sorted((summary.get("metrics") or {}).items()):
            lines.append(
                f"  {key}: min {m['min']:g} (run {m['min_run']}, "
                f"{_assignments(m.get('min_parameters'))}), max {m['max']:g} "
                f"(run {m['max_run']}, {_assignments(m.get('max_parameters'))}), "
                f"mean {m['mean']:g}"
            )
        for c in job["children"]:
            metrics = " ".join(f"{k}={v:g}" for k, v in sorted(c["metrics"].items()))
            lines.append(
                f"  {c['id']:>6} {_status(c['status'])} {json.dumps(c['parameters'])} {metrics}"
            )
    return "\n".join(lines)


def _assignments(params: dict[str, Any] | None) -> str:
    """``alpha=0.1 name='x'``: a child's parameters, in a line."""
    return " ".join(f"{k}={json.dumps(v)}" for k, v in (params or {}).items()) or "no parameters"


def _wait_job(
    client: SubmarineClient, run: dict[str, Any], follow: bool, err: bool = False
) -> dict[str, Any]:
    if follow:
        while not run.get("logs") and run["status"] not in FINAL_STATES:
            time.sleep(0.3)
            run = _call(client.experiment, run["id"])
        if run.get("logs"):
            _stream_logs(client, run["id"], run["logs"][0], err=err)
    _call(client.wait, run["id"])
    return _call(client.notebook_job, run["id"])


_job_options = [
    click.option("--name", help="The run's name (default: the notebook's)."),
    click.option("--team", help="The team to run in (default: yours, or the notebook's)."),
    click.option("--tag", "tags", multiple=True, help="A tag (repeatable)."),
    click.option("--env", "env_profile", help="An environment profile (TEAM/NAME or NAME)."),
    click.option("--cpu", type=float, help="CPU cores."),
    click.option("--memory", help="Memory, like 2G."),
    click.option("--gpus", type=int, help="GPUs."),
    click.option("--timeout", type=float, help="Seconds of wall-clock time."),
]


_with_job_options = options(*_job_options)


@notebook_group.command("params")
@click.argument("notebook")
@click.option("-v", "--version", "version", type=int, help="The version (default: newest).")
@click.option("--space", help="user:NAME or team:NAME (default: from NOTEBOOK).")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def nb_params(notebook: str, version: int | None, space: str | None, as_json: bool) -> None:
    """The parameters of NOTEBOOK's cell tagged 'parameters': name, type, default."""
    with _client() as client:
        out = _call(lambda: client.notebook_parameters(notebook, version=version, space=space))
    src = out["notebook"]
    lines = [f"{src['space']}/{src['path']} version {src['version']}"]
    if not out["has_parameters_cell"]:
        lines.append("No cell tagged 'parameters': tag one to give the notebook parameters.")
    for p in out["parameters"]:
        help_text = f"  # {p['help']}" if p["help"] else ""
        kind = p["type"] + (" | None" if p["nullable"] and p["type"] != "any" else "")
        lines.append(f"  {p['name']:<20} {kind:<12} = {p['source']}{help_text}")
    _emit(out, as_json, "\n".join(lines))


@notebook_group.command("run")
@click.argument("notebook")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A parameter.")
@click.option("-v", "--version", "version", type=int, help="Pin this version (default: newest).")
@click.option("--space", help="user:NAME or team:NAME (default: from NOTEBOOK).")
@click.option("--local", is_flag=True, help="Send the local file NOTEBOOK (not a stored one).")
@click.option(
    "--with-files",
    is_flag=True,
    help="Send the files of NOTEBOOK's folder with it (they are beside it when it runs).",
)
@click.option("--grid", multiple=True, metavar="KEY=V1,V2", help="Fan out over these values.")
@click.option("--sets", "sets_file", help="Fan out over a YAML/JSON list of parameter sets.")
@_with_job_options
@click.option("--schedule", "cron", help="Run on this cron schedule instead of now.")
@click.option("--timezone", default="UTC", show_default=True, help="The schedule's time zone.")
@click.option(
    "--catchup",
    type=click.Choice(["skip", "run_once"]),
    default="skip",
    show_default=True,
    help="Runs missed while the service was down: skip them, or run once.",
)
@click.option("--wait", is_flag=True, help="Wait until the run ends; exit 1 unless it succeeded.")
@click.option("--follow", is_flag=True, help="Stream the log until the run ends.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
@quiet_option
def nb_run(
    notebook: str,
    params: tuple[str, ...],
    version: int | None,
    space: str | None,
    local: bool,
    with_files: bool,
    grid: tuple[str, ...],
    sets_file: str | None,
    cron: str | None,
    timezone: str,
    catchup: str,
    wait: bool,
    follow: bool,
    as_json: bool,
    quiet: bool,
    **options: Any,
) -> None:
    """Run NOTEBOOK as a job with -p parameters, now or on a --schedule.

    NOTEBOOK is a saved notebook: relative to your home in a session, teams/TEAM/...
    for a team's. The executed notebook is kept in the team's folder,
    teams/TEAM/jobs/<notebook>/<run id>.ipynb.

    \b
    Cron: 5 fields (minute hour day month weekday), or 6 with seconds first.
      submarine notebook run train.ipynb -p alpha=0.5 --wait
      submarine notebook run train.ipynb --grid alpha=0.1,0.5,0.9
      submarine notebook run train.ipynb --with-files   # data.csv beside it goes too
      submarine notebook run report.ipynb --schedule '0 6 * * 1-5' --timezone Europe/Paris
    """
    job = _job_fields(**options)
    sets = _sets(sets_file)
    if sets is not None:
        job["parameter_sets"] = sets
    grid_values = _grid(grid)
    if grid_values is not None:
        job["grid"] = grid_values
    content = None
    if local:
        content = _local_content(notebook)
        job["name"] = job["name"] or (
            re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(notebook).stem).strip("-.")[:100] or "notebook"
        )
    values = _params(params) if params else None
    with _client() as client:
        if with_files:
            job["with_files"] = True
        if cron:
            sched = _call(
                lambda: client.schedule_notebook(
                    None if local else notebook,
                    cron,
                    values,
                    timezone=timezone,
                    catchup=catchup,
                    version=version,
                    space=space,
                    content=content,
                    **job,
                )
            )
            text = (
                f"Schedule {sched['id']} ({sched['name']}, team {sched['team']}): "
                f"'{sched['cron']}' {sched['timezone']}; next run {sched['next_run_at']}."
            )
            if quiet:
                _created(quiet, sched["id"], text)
            else:
                _emit(sched, as_json, text)
            return
        run = _call(
            lambda: client.run_notebook(
                None if local else notebook,
                values,
                version=version,
                space=space,
                content=content,
                **job,
            )
        )
        children = run.get("children") or []
        text = f"Submitted run {run['id']} ({run['name']}, team {run['team']})"
        text += f" with {len(children)} child runs." if children else "."
        if run.get("output"):
            text += f"\nThe executed notebook will be {run['output']['lab_path']}."
        if quiet:
            _created(quiet, run["id"], text)
        elif not (wait or follow):
            _emit(run, as_json, text)
        elif not as_json:
            click.echo(text)
        if not (wait or follow):
            return
        job_view = _wait_job(client, run, follow, err=quiet)
    if quiet:
        click.echo(describe_job(job_view), err=True)
    else:
        _emit(job_view, as_json, describe_job(job_view))
    if job_view["status"] != "succeeded":
        sys.exit(1)


@notebook_group.command("job")
@click.argument("run_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def nb_job(run_id: int, as_json: bool) -> None:
    """A notebook job: status, parameters, executed notebook, error cell, children."""
    with _client() as client:
        job = _call(client.notebook_job, run_id)
    _emit(job, as_json, describe_job(job))


@notebook_group.group("schedule")
def nb_schedule() -> None:
    """Notebook jobs on a cron schedule ('submarine notebook run NB --schedule CRON')."""


def _schedule_line(s: dict[str, Any]) -> str:
    state = "paused" if s["paused"] else f"next {str(s['next_run_at'])[:19]}"
    return (
        f"{s['id']:>5}  {s['name'][:24]:<24} {s['team'][:16]:<16} {s['cron']:<18} "
        f"{s['timezone']:<14} {state}"
    )


@nb_schedule.command("list")
@click.option("--team", help="Only this team's.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def sched_list(team: str | None, as_json: bool) -> None:
    """Schedules of your teams."""
    with _client() as client:
        items = _call(client.notebook_schedules, team)
    _emit(items, as_json, "\n".join(_schedule_line(s) for s in items) or "No schedules.")


def _history_lines(items: list[dict[str, Any]]) -> list[str]:
    lines = []
    for h in items:
        when = h["scheduled_for"][:19].replace("T", " ")
        if h["run"]:
            run = h["run"]
            lines.append(f"  {when}  run {run['id']:<6} {_status(run['status'])} {run['reason']}")
        else:
            lines.append(f"  {when}  {h['error']}")
    return lines


@nb_schedule.command("show")
@click.argument("schedule_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def sched_show(schedule_id: int, as_json: bool) -> None:
    """One schedule and its latest runs."""
    with _client() as client:
        s = _call(client.notebook_schedule, schedule_id)
    lines = [
        f"schedule {s['id']}: {s['name']}  ({s['team']}, {s['owner']})",
        f"notebook: {s['notebook']}  params {json.dumps(s['job'].get('parameters') or {})}",
        f"cron:     '{s['cron']}' {s['timezone']}, catchup {s['catchup']}",
        "state:    paused" if s["paused"] else f"next:     {s['next_run_at']}",
        "history:",
        *_history_lines(s["history"]),
    ]
    _emit(s, as_json, "\n".join(lines))


@nb_schedule.command("history")
@click.argument("schedule_id", type=int)
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def sched_history(schedule_id: int, limit: int, as_json: bool) -> None:
    """A schedule's firings, newest first: the run each started, or why none."""
    with _client() as client:
        items = _call(lambda: client.notebook_schedule_runs(schedule_id, limit))
    _emit(items, as_json, "\n".join(_history_lines(items)) or "No runs yet.")


@nb_schedule.command("pause")
@click.argument("schedule_id", type=int)
def sched_pause(schedule_id: int) -> None:
    """Stop starting runs (until resumed)."""
    with _client() as client:
        _call(client.pause_notebook_schedule, schedule_id)
    click.echo(f"Paused schedule {schedule_id}.")


@nb_schedule.command("resume")
@click.argument("schedule_id", type=int)
def sched_resume(schedule_id: int) -> None:
    """Start runs again, from the next time on (times while paused are not run)."""
    with _client() as client:
        s = _call(client.resume_notebook_schedule, schedule_id)
    click.echo(f"Resumed schedule {schedule_id}; next run {s['next_run_at']}.")


@nb_schedule.command("update")
@click.argument("schedule_id", type=int)
@click.option("--cron", help="A new cron expression.")
@click.option("--timezone", help="A new time zone.")
@click.option("--catchup", type=click.Choice(["skip", "run_once"]))
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="Parameters.")
def sched_update(
    schedule_id: int,
    cron: str | None,
    timezone: str | None,
    catchup: str | None,
    params: tuple[str, ...],
) -> None:
    """Change a schedule's timing or parameters (-p replaces all parameters)."""
    changes: dict[str, Any] = {
        k: v for k, v in (("cron", cron), ("timezone", timezone), ("catchup", catchup)) if v
    }
    if params:
        changes["parameters"] = _params(params)
    if not changes:
        raise click.UsageError("Nothing to change: give at least one option.")
    with _client() as client:
        s = _call(lambda: client.update_notebook_schedule(schedule_id, **changes))
    click.echo(_schedule_line(s))


@nb_schedule.command("delete")
@click.argument("schedule_id", type=int)
def sched_delete(schedule_id: int) -> None:
    """Delete a schedule (its runs stay)."""
    with _client() as client:
        _call(client.delete_notebook_schedule, schedule_id)
    click.echo(f"Deleted schedule {schedule_id}.")
