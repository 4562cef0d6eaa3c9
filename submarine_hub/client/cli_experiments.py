"""``submarine experiment | template | pipeline``: run and watch work from a terminal."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click
import yaml

from .cli import _call, _client, _created, _emit, main, quiet_option
from .client import SubmarineClient
from .sdk_experiments import FINAL_STATES

STATUS_COLORS = {
    "pending": "yellow",
    "running": "blue",
    "succeeded": "green",
    "failed": "red",
    "killed": "magenta",
    "upstream_failed": "red",
    "waiting": None,
}


def _status(text: str) -> str:
    return click.style(f"{text:<10}", fg=STATUS_COLORS.get(text))


def _load(path: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as e:
        raise click.ClickException(f"Cannot read {path}: {e}") from None
    if not isinstance(data, dict):
        raise click.ClickException(
            f"{path} must hold a mapping (a spec), not {type(data).__name__}."
        )
    return data


def _params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``-p key=value``: values are YAML scalars (1 is a number, true a boolean)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r}: use key=value.", param_hint="-p")
        try:
            out[key] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            out[key] = value
    return out


def _table(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "No runs."
    lines = [f"{'ID':>6}  {'STATUS':<10}  {'NAME':<28} {'TEAM':<16} {'OWNER':<12} {'CREATED':<19}"]
    for r in runs:
        lines.append(
            f"{r['id']:>6}  {_status(r['status'])}  {r['name'][:28]:<28} {r['team'][:16]:<16} "
            f"{r['owner'][:12]:<12} {r['created_at'][:19].replace('T', ' ')}"
        )
    return "\n".join(lines)


def _stream_logs(client: SubmarineClient, run_id: int, name: str | None, err: bool = False) -> None:
    try:
        for text in client.follow_logs(run_id, name):
            click.echo(text, nl=False, err=err)
    except Exception as e:
        raise click.ClickException(getattr(e, "message", str(e))) from None


def _finish(
    client: SubmarineClient, run: dict[str, Any], follow: bool, wait: bool, quiet: bool = False
) -> None:
    """--follow / --wait; with --quiet the log and the outcome go to stderr."""
    if follow:
        # wait for a log to exist, then stream it to the end
        while not run.get("logs") and run["status"] not in FINAL_STATES:
            time.sleep(0.3)
            run = _call(client.experiment, run["id"])
        if run.get("logs"):
            _stream_logs(client, run["id"], run["logs"][0], err=quiet)
    if follow or wait:
        run = _call(client.wait, run["id"])
        click.echo(
            f"run {run['id']} {_status(run['status']).strip()} {run['reason']}".rstrip(), err=quiet
        )
        if run["status"] != "succeeded":
            sys.exit(1)


@main.group("experiment")
def experiment() -> None:
    """Experiments: submit runs, watch them, read their logs and artifacts."""


@experiment.command("submit")
@click.option("-f", "--file", "spec_file", help="A spec (YAML or JSON); '-' reads stdin.")
@click.option("--template", help="Run a template instead (NAME or TEAM/NAME).")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A parameter.")
@click.option("--name", help="The run's name (overrides the spec's).")
@click.option("--team", help="The team to run in (overrides the spec's).")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--code", "code_dir", help="Upload this folder (e.g. '.') as the run's code.")
@click.option("--follow", is_flag=True, help="Stream the log until the run ends.")
@click.option("--wait", is_flag=True, help="Wait until the run ends; exit 1 unless it succeeded.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
@quiet_option
def exp_submit(
    spec_file: str | None,
    template: str | None,
    params: tuple[str, ...],
    name: str | None,
    team: str | None,
    tags: tuple[str, ...],
    code_dir: str | None,
    follow: bool,
    wait: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Submit a run from a spec file, or of a template with -p parameters."""
    if bool(spec_file) == bool(template):
        raise click.UsageError("Give either -f SPEC or --template NAME.")
    spec = _load(spec_file) if spec_file else {}
    meta = spec.setdefault("meta", {})
    for key, value in (("name", name), ("team", team)):
        if value:
            meta[key] = value
    if tags:
        meta["tags"] = sorted(set(meta.get("tags", [])) | set(tags))
    with _client() as client:
        if code_dir:
            try:
                spec["code"] = {"upload": _call(client.upload_code, code_dir)}
            except ValueError as e:
                raise click.ClickException(str(e)) from None
        if template:
            meta.setdefault("name", template.rpartition("/")[2])
            extra = {k: v for k, v in spec.items() if k != "task"}
            run = _call(lambda: client.run_template(template, _params(params), **extra))
        else:
            if params:
                spec.setdefault("task", {}).setdefault("parameters", {}).update(_params(params))
            run = _call(client.submit, spec)
        text = f"Submitted run {run['id']} ({run['name']}, team {run['team']})."
        if quiet:
            _created(quiet, run["id"], text)
        else:
            _emit(run, as_json, text)
        _finish(client, run, follow, wait, quiet)


@experiment.command("list")
@click.option("--team")
@click.option("--owner", help="Runs of this user ('me' for yours).")
@click.option("--status", help="Comma-separated: pending,running,succeeded,failed,killed.")
@click.option("--tag")
@click.option("--since", help="Created at or after (ISO 8601).")
@click.option("--until", help="Created before (ISO 8601).")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--before", type=int, help="Runs older than this id (the next page).")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def exp_list(as_json: bool, owner: str | None, **filters: Any) -> None:
    """Runs of your teams, newest first."""
    with _client() as client:
        if owner == "me":
            owner = _call(client.me)["name"]
        page = _call(lambda: client.experiments(owner=owner, **filters))
    text = _table(page["items"])
    if page["next"]:
        text += f"\nMore: --before {page['next']}"
    _emit(page, as_json, text)


@experiment.command("search")
@click.argument("filter_text", metavar="FILTER", required=False)
@click.option(
    "--order-by",
    "order_by",
    multiple=True,
    help="'metrics.accuracy DESC', 'params.lr'... (repeatable).",
)
@click.option("--team")
@click.option("--columns", help="Comma-separated params.KEY / metrics.KEY to show.")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option("--page-token", help="The next page (printed after a full page).")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
def exp_search(
    filter_text: str | None,
    order_by: tuple[str, ...],
    team: str | None,
    columns: str | None,
    limit: int,
    page_token: str | None,
    as_json: bool,
) -> None:
    """Runs matching FILTER, MLflow's search syntax:
    "metrics.accuracy > 0.9 and params.model = 'rf'" (docs/run-explorer.md)."""
    with _client() as client:
        page = _call(
            lambda: client.search_runs(
                filter_text,
                order_by=list(order_by),
                team=team,
                columns=columns,
                max_results=limit,
                page_token=page_token,
            )
        )
    if as_json:
        click.echo(json.dumps(page["items"], indent=2))
        return
    wanted = [c.strip() for c in (columns or "").split(",") if c.strip()] or [
        *(f"params.{k}" for k in page["keys"]["params"]),
        *(f"metrics.{k}" for k in page["keys"]["metrics"]),
    ]
    click.echo(_search_table(page["items"], wanted))
    if page["next_page_token"]:
        click.echo(f"More: --page-token {page['next_page_token']}")


def _search_table(runs: list[dict[str, Any]], columns: list[str]) -> str:
    if not runs:
        return "No runs."
    head = ["ID", "STATUS", "NAME", *columns]
    rows = []
    for r in runs:
        cells = [str(r["id"]), r["status"], r["name"]]
        for c in columns:
            kind, _, key = c.partition(".")
            value = r.get("metrics" if kind.startswith("metric") else "params", {}).get(key)
            cells.append(
                "" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)
            )
        rows.append(cells)
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in [head, *rows]
    )


@experiment.command("get")
@click.argument("run_id", type=int)
@click.option("--watch", is_flag=True, help="Refresh until the run ends.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def exp_get(run_id: int, watch: bool, as_json: bool) -> None:
    """One run: status, replicas, metrics."""
    with _client() as client:
        run = _call(client.experiment, run_id)
        while watch and run["status"] not in FINAL_STATES:
            click.echo(f"\r{_status(run['status'])} {run['reason'][:60]:<60}", nl=False)
            time.sleep(1)
            run = _call(client.experiment, run_id)
        if watch:
            click.echo()
    lines = [
        f"run {run['id']}: {run['name']}  ({run['team']}, {run['owner']})",
        f"status:   {_status(run['status']).strip()} {run['reason']}",
        f"exit:     {run['exit_code']}",
        f"created:  {run['created_at']}",
        f"duration: {run['duration']} s" if run["duration"] is not None else "duration: -",
    ]
    for r in run["replicas"]:
        lines.append(f"  {r['name']:<12} {_status(r['status'])} exit {r['exit_code']}")
    for key, value in sorted(run["metrics"].items()):
        lines.append(f"  metric {key} = {value:g}")
    _emit(run, as_json, "\n".join(lines))


@experiment.command("logs")
@click.argument("run_id", type=int)
@click.option("-f", "--follow", is_flag=True, help="Keep streaming until the run ends.")
@click.option("--name", help="Which replica's log (worker-1...); default the first.")
def exp_logs(run_id: int, follow: bool, name: str | None) -> None:
    """A run's log."""
    with _client() as client:
        if follow:
            _stream_logs(client, run_id, name)
        else:
            click.echo(_call(lambda: client.logs(run_id, name)), nl=False)


@experiment.command("kill")
@click.argument("run_id", type=int)
def exp_kill(run_id: int) -> None:
    """Kill a run."""
    with _client() as client:
        _call(client.kill, run_id)
    click.echo(f"Killing run {run_id}.")


@experiment.command("rerun")
@click.argument("run_id", type=int)
@click.option("--follow", is_flag=True, help="Stream the new run's log until it ends.")
@quiet_option
def exp_rerun(run_id: int, follow: bool, quiet: bool) -> None:
    """Submit a run's spec again."""
    with _client() as client:
        run = _call(client.rerun, run_id)
        _created(quiet, run["id"], f"Submitted run {run['id']} (a rerun of {run_id}).")
        _finish(client, run, follow, False, quiet)


@experiment.command("artifacts")
@click.argument("run_id", type=int)
@click.option("--get", "path", help="Download this artifact.")
@click.option("-o", "--output", help="Where to write it (default: its name).")
def exp_artifacts(run_id: int, path: str | None, output: str | None) -> None:
    """List a run's artifacts, or download one."""
    with _client() as client:
        if path is None:
            items = _call(client.artifacts, run_id)
            click.echo("\n".join(f"{i['size']:>10}  {i['path']}" for i in items) or "None.")
            return
        data = _call(client.download_artifact, run_id, path)
    target = Path(output or Path(path).name)
    target.write_bytes(data)
    click.echo(f"Wrote {target} ({len(data)} bytes).")


@main.group("template")
def template() -> None:
    """Experiment templates: specs with typed parameters."""


@template.command("list")
@click.option("--team")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def tpl_list(team: str | None, as_json: bool) -> None:
    """Templates you can run."""
    with _client() as client:
        items = _call(client.templates, team)
    lines = [
        f"{t['ref']:<32} {', '.join(t['parameters']) or '-':<40} {t['description'][:60]}"
        for t in items
    ]
    _emit(items, as_json, "\n".join(lines) or "No templates.")


@template.command("get")
@click.argument("ref")
def tpl_get(ref: str) -> None:
    """A template as YAML."""
    with _client() as client:
        t = _call(client.template, ref)
    click.echo(yaml.safe_dump(t, sort_keys=False))


@template.command("create")
@click.option("-f", "--file", "path", required=True, help="The template (YAML or JSON).")
@click.option("--team", help="Create it in this team (default: the file's, else global).")
def tpl_create(path: str, team: str | None) -> None:
    """Add a template: name, description, parameters, spec."""
    body = _load(path)
    if team:
        body["team"] = team
    with _client() as client:
        t = _call(client.create_template, body)
    click.echo(f"Created template {t['ref']}.")


@template.command("update")
@click.argument("ref")
@click.option("-f", "--file", "path", required=True, help="Fields to change (YAML or JSON).")
def tpl_update(ref: str, path: str) -> None:
    """Change a template's description, parameters or spec."""
    body = {k: v for k, v in _load(path).items() if k not in ("name", "team")}
    with _client() as client:
        t = _call(lambda: client.update_template(ref, **body))
    click.echo(f"Updated template {t['ref']}.")


@template.command("delete")
@click.argument("ref")
def tpl_delete(ref: str) -> None:
    """Delete a template."""
    with _client() as client:
        _call(client.delete_template, ref)
    click.echo(f"Deleted template {ref}.")


@template.command("run")
@click.argument("ref")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE")
@click.option("--name")
@click.option("--team")
@click.option("--follow", is_flag=True, help="Stream the log until the run ends.")
@click.option("--wait", is_flag=True, help="Wait until the run ends; exit 1 unless it succeeded.")
@quiet_option
def tpl_run(
    ref: str,
    params: tuple[str, ...],
    name: str | None,
    team: str | None,
    follow: bool,
    wait: bool,
    quiet: bool,
) -> None:
    """Run a template (same as 'experiment submit --template')."""
    meta = {k: v for k, v in (("name", name), ("team", team)) if v}
    with _client() as client:
        run = _call(lambda: client.run_template(ref, _params(params), meta=meta))
        text = f"Submitted run {run['id']} ({run['name']}, team {run['team']})."
        _created(quiet, run["id"], text)
        _finish(client, run, follow, wait, quiet)


@main.group("pipeline")
def pipeline() -> None:
    """Pipelines: DAGs of experiments."""


def _pipeline_text(p: dict[str, Any]) -> str:
    lines = [f"pipeline {p['id']}: {p['name']} ({p['team']}) {_status(p['status']).strip()}"]
    for s in p.get("steps", []):
        deps = f" <- {', '.join(s['depends_on'])}" if s["depends_on"] else ""
        run = f"run {s['run_id']}" if s["run_id"] else ""
        lines.append(f"  {s['name']:<20} {_status(s['status'])} {run}{deps}")
    return "\n".join(lines)


@pipeline.command("submit")
@click.option("-f", "--file", "path", required=True, help="The pipeline (YAML or JSON).")
@click.option("--team", help="The team to run in (overrides the file's).")
@click.option("--wait", is_flag=True, help="Wait until it ends; exit 1 unless it succeeded.")
@quiet_option
def pl_submit(path: str, team: str | None, wait: bool, quiet: bool) -> None:
    """Submit a pipeline: name, team, steps with depends_on."""
    body = _load(path)
    if team:
        body["team"] = team
    with _client() as client:
        p = _call(client.submit_pipeline, body)
        text = f"Submitted pipeline {p['id']} ({p['name']}, team {p['team']})."
        _created(quiet, p["id"], text)
        if wait:
            while p["status"] == "running":
                time.sleep(1)
                p = _call(client.pipeline, p["id"])
            click.echo(_pipeline_text(p), err=quiet)
            if p["status"] != "succeeded":
                sys.exit(1)


@pipeline.command("list")
@click.option("--team")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def pl_list(team: str | None, as_json: bool) -> None:
    """Pipelines of your teams."""
    with _client() as client:
        items = _call(client.pipelines, team)
    lines = [f"{p['id']:>6}  {_status(p['status'])}  {p['name']:<28} {p['team']}" for p in items]
    _emit(items, as_json, "\n".join(lines) or "No pipelines.")


@pipeline.command("get")
@click.argument("pipeline_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def pl_get(pipeline_id: int, as_json: bool) -> None:
    """A pipeline and its steps."""
    with _client() as client:
        p = _call(client.pipeline, pipeline_id)
    _emit(p, as_json, _pipeline_text(p))


@pipeline.command("terminate")
@click.argument("pipeline_id", type=int)
def pl_terminate(pipeline_id: int) -> None:
    """Kill its running steps; the rest never start."""
    with _client() as client:
        _call(client.terminate_pipeline, pipeline_id)
    click.echo(f"Terminated pipeline {pipeline_id}.")


@pipeline.command("retry")
@click.argument("pipeline_id", type=int)
def pl_retry(pipeline_id: int) -> None:
    """Run its failed steps again."""
    with _client() as client:
        _call(client.retry_pipeline, pipeline_id)
    click.echo(f"Retrying the failed steps of pipeline {pipeline_id}.")
