"""IPython magics: ``%load_ext submarine_hub``.

Line magic ``%submarine``::

    %submarine run other.ipynb -p alpha 0.5 -p epochs 3 [--wait] [--version N]
               [--team T] [--env PROFILE] [--name NAME]
               [--grid alpha=0.1,0.5] [--schedule CRON [--timezone TZ] [--catchup skip]]
    %submarine params other.ipynb
    %submarine job 12
    %submarine schedules

Experiments, with rich output::

    %submarine experiments [--team T] [--status running,failed] [--tag X] [--limit N]
    %submarine submit --template sklearn-classifier -p dataset wine [--watch]
    %submarine submit -f spec.yaml [--watch]
    %submarine watch 42            # a live status display until the run ends

Anything else is the ``submarine`` command line, run in the kernel::

    %submarine model list
    %submarine experiment compare 41 42
    %submarine dataset add wine s3://data/wine.parquet --shared

Cell magic ``%%submarine_job``: the cell's code runs as a notebook job (the cell is kept
as ``jobs/<name>/<name>.ipynb`` in the team's folder, a new version each time; ``-p``
values become its parameters cell)::

    %%submarine_job --name train-small -p alpha 0.5 --wait
    import submarine_hub
    submarine_hub.log_metric("alpha", alpha)

Cell magic ``%%submarine_sql``: the cell's query as a SQL run (see ``magics_sql.py``)::

    %%submarine_sql --connection warehouse -p day 2026-11-30
    SELECT city, count(*) AS trips FROM trips WHERE day = :day GROUP BY city

Both go through :class:`SubmarineClient` and the platform's REST API, like the CLI.
``-p NAME VALUE`` (papermill's form) and ``-p NAME=VALUE`` are both accepted; values are
YAML scalars (``0.5`` a number, ``true`` a boolean, ``[1, 2]`` a list).
"""

from __future__ import annotations

import argparse
import os
import shlex
import time
from typing import Any

import yaml

from .client import SubmarineClient
from .errors import SubmarineAPIError
from .sdk_experiments import FINAL_STATES


class MagicError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # never exit the kernel
        raise MagicError(f"{self.prog}: {message}")


def _value(text: str) -> Any:
    try:
        return yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        return text


def _split_params(tokens: list[str]) -> list[str]:
    """``-p k=v`` -> ``-p k v`` (a name never holds '=')."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in ("-p", "--param") and i + 1 < len(tokens) and "=" in tokens[i + 1]:
            name, _, value = tokens[i + 1].partition("=")
            out += [tok, name, value]
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def _job_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-p", "--param", nargs=2, action="append", default=[], metavar=("K", "V"))
    parser.add_argument("--name")
    parser.add_argument("--team")
    parser.add_argument("--env", dest="env_profile")
    parser.add_argument("--cpu", type=float)
    parser.add_argument("--memory")
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--tag", action="append", default=[])
    parser.add_argument("--wait", action="store_true", help="wait for the run, show its log")
    parser.add_argument(
        "--with-files", action="store_true", help="send the files of the notebook's folder"
    )


def _job_fields(args: argparse.Namespace) -> dict[str, Any]:
    job: dict[str, Any] = {}
    if args.name:
        job["name"] = args.name
    if args.team:
        job["team"] = args.team
    if args.tag:
        job["tags"] = sorted(set(args.tag))
    if args.env_profile:
        job["environment"] = {"profile": args.env_profile}
    resources = {k: v for k, v in (("cpu", args.cpu), ("memory", args.memory)) if v}
    if resources:
        job["resources"] = resources
    if args.timeout:
        job["timeout"] = args.timeout
    if getattr(args, "with_files", False):
        job["with_files"] = True
    return job


class JobRun(dict):  # type: ignore[type-arg]
    """A submitted notebook job (the run's JSON) that shows itself briefly."""

    def __repr__(self) -> str:
        out = f"<notebook job: run {self.get('id')} {self.get('name')!r} {self.get('status')}"
        lab = (self.get("output") or {}).get("lab_path")
        out += f", executed notebook {lab}>" if lab else ">"
        if self.get("summary") and isinstance(self.get("children"), list):  # a fan-out
            import click

            from .cli_notebooks import describe_job

            text = describe_job(dict(self))
            out += "\n" + click.unstyle(text.split("\n", 2)[-1])
        return out

    def _repr_html_(self) -> str:
        import html

        text = html.escape(repr(self))
        lab = (self.get("output") or {}).get("lab_path")
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
        if not (lab and prefix and self.get("status") in FINAL_STATES):
            return f"<code>{text}</code>"
        href = html.escape(f"{prefix.rstrip('/')}/lab/tree/{lab}")
        return f'<code>{text}</code> <a href="{href}" target="_blank">open it</a>'


STATUS_COLORS = {
    "pending": "var(--jp-warn-color1, #f57c00)",
    "running": "var(--jp-brand-color1, #1976d2)",
    "succeeded": "var(--jp-success-color1, #388e3c)",
    "failed": "var(--jp-error-color1, #d32f2f)",
    "killed": "var(--jp-error-color2, #7b1fa2)",
}


class RunTable(list):  # type: ignore[type-arg]
    """Runs as an HTML table in a notebook (and as text elsewhere)."""

    def __init__(self, runs: list[dict[str, Any]], last_line: str = "") -> None:
        super().__init__(runs)
        self.last_line = last_line

    def __repr__(self) -> str:
        lines = [f"{r['id']:>6}  {r['status']:<10} {r['name']:<28} {r['team']}" for r in self]
        return "\n".join(lines) or "No runs."

    def _repr_html_(self) -> str:
        import html

        if not self:
            return "<em>No runs.</em>"
        head = "".join(
            f"<th>{h}</th>" for h in ("Run", "Name", "Status", "Team", "Owner", "Time", "Metrics")
        )
        rows = []
        for r in self:
            color = STATUS_COLORS.get(r["status"], "inherit")
            metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted((r.get("metrics") or {}).items()))
            seconds = f"{r['duration']:.1f} s" if r.get("duration") is not None else ""
            reason = f" ({html.escape(r['reason'])})" if r.get("reason") else ""
            cells = [
                str(r["id"]),
                html.escape(r["name"]),
                f'<b style="color:{color}">{r["status"]}</b>{reason}',
                html.escape(r["team"]),
                html.escape(r["owner"]),
                seconds,
                html.escape(metrics),
            ]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        tail = f"<pre>{html.escape(self.last_line)}</pre>" if self.last_line else ""
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{tail}"


class Listing(list):  # type: ignore[type-arg]
    """Items that show themselves as text lines: returned, not printed (so a cell shows
    them once)."""

    def __init__(self, items: list[Any], lines: list[str], empty: str) -> None:
        super().__init__(items)
        self._text = "\n".join(lines) or empty

    def __repr__(self) -> str:
        return self._text

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self._text)


class ShownRunTable(RunTable):
    """A table already on screen (a live display): the cell's result shows nothing more."""

    def _ipython_display_(self) -> None:
        pass


class SubmarineMagics:
    """The magics' logic, apart from IPython (testable, and the same REST calls)."""

    def __init__(self, client_factory: Any = SubmarineClient) -> None:
        self._client_factory = client_factory
        self._client: SubmarineClient | None = None

    @property
    def client(self) -> SubmarineClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    # -- %submarine ------------------------------------------------------------------------

    def line(self, line: str) -> Any:
        tokens = _split_params(shlex.split(line))
        if not tokens or tokens[0] in ("-h", "--help", "help"):
            print(__doc__)
            return None
        command, rest = tokens[0], tokens[1:]
        handler = getattr(self, f"cmd_{command}", None)
        if handler is None:
            return self.cli(tokens)
        return handler(rest)

    def cli(self, tokens: list[str]) -> None:
        """The ``submarine`` command line in the kernel (same SDK, same REST API)."""
        import click

        from .cli import main

        try:
            main.main(args=tokens, prog_name="%submarine", standalone_mode=False)
        except click.exceptions.Exit:
            pass
        except click.ClickException as e:
            raise MagicError(e.format_message()) from None
        except click.exceptions.Abort:
            raise MagicError("%submarine: aborted") from None

    # -- experiments, with rich output -------------------------------------------------

    def cmd_experiments(self, tokens: list[str]) -> RunTable:
        parser = _Parser(prog="%submarine experiments")
        for name in ("--team", "--owner", "--status", "--tag", "--since", "--until"):
            parser.add_argument(name)
        parser.add_argument("--limit", type=int, default=20)
        args = vars(parser.parse_args(tokens))
        page = self.client.experiments(metrics=1, **args)
        return RunTable(page["items"])

    def cmd_submit(self, tokens: list[str]) -> Any:
        parser = _Parser(prog="%submarine submit")
        parser.add_argument("-f", "--file", dest="spec_file")
        parser.add_argument("--template")
        parser.add_argument("-p", "--param", nargs=2, action="append", default=[])
        parser.add_argument("--name")
        parser.add_argument("--team")
        parser.add_argument("--watch", action="store_true")
        args = parser.parse_args(tokens)
        if bool(args.spec_file) == bool(args.template):
            raise MagicError("%submarine submit: give either -f SPEC or --template NAME")
        meta = {k: v for k, v in (("name", args.name), ("team", args.team)) if v}
        params = {k: _value(v) for k, v in args.param}
        if args.template:
            run = self.client.run_template(args.template, params, meta=meta)
        else:
            with open(args.spec_file) as f:
                spec = yaml.safe_load(f)
            spec.setdefault("meta", {}).update(meta)
            if params:
                spec.setdefault("task", {}).setdefault("parameters", {}).update(params)
            run = self.client.submit(spec)
        print(f"Submitted run {run['id']} ({run['name']}, team {run['team']}).")
        return self.cmd_watch([str(run["id"])]) if args.watch else RunTable([run])

    def cmd_watch(self, tokens: list[str], poll: float = 0.5) -> RunTable:
        """A display that updates itself until the run ends: status, time, last log line."""
        parser = _Parser(prog="%submarine watch")
        parser.add_argument("run_id", type=int)
        args = parser.parse_args(tokens)
        from IPython.display import HTML, display

        handle = display(HTML(""), display_id=True)
        while True:
            run = self.client.experiment(args.run_id)
            last = ""
            if run.get("logs"):
                try:
                    tail = self.client.logs(run["id"], run["logs"][0])
                    last = tail.rstrip("\n").rsplit("\n", 1)[-1][-200:]
                except SubmarineAPIError:
                    pass
            table = RunTable([run], last_line=last)
            if handle is not None:
                handle.update(HTML(table._repr_html_()))
            if run["status"] in FINAL_STATES:
                return ShownRunTable(table, last) if handle is not None else table
            time.sleep(poll)

    def cmd_run(self, tokens: list[str]) -> JobRun | dict[str, Any]:
        parser = _Parser(prog="%submarine run")
        parser.add_argument("notebook")
        parser.add_argument("--version", type=int)
        parser.add_argument("--space")
        parser.add_argument("--grid", action="append", default=[])
        parser.add_argument("--schedule")
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--catchup", default="skip", choices=("skip", "run_once"))
        _job_args(parser)
        args = parser.parse_args(tokens)
        params = {k: _value(v) for k, v in args.param} or None
        job = _job_fields(args)
        if args.grid:
            grid: dict[str, list[Any]] = {}
            for item in args.grid:
                key, _, values = item.partition("=")
                grid[key] = [_value(v) for v in values.split(",")]
            job["grid"] = grid
        if args.schedule:
            sched = self.client.schedule_notebook(
                args.notebook,
                args.schedule,
                params,
                timezone=args.timezone,
                catchup=args.catchup,
                version=args.version,
                space=args.space,
                **job,
            )
            print(
                f"Schedule {sched['id']} ({sched['name']}): '{sched['cron']}' "
                f"{sched['timezone']}; next run {sched['next_run_at']}"
            )
            return sched
        run = self.client.run_notebook(
            args.notebook, params, version=args.version, space=args.space, **job
        )
        return self._submitted(run, args.wait)

    def _submitted(self, run: dict[str, Any], wait: bool) -> JobRun:
        children = run.get("children") or []
        text = f"Submitted run {run['id']} ({run['name']}, team {run['team']})"
        if children:
            text += f" with {len(children)} child runs"
        print(text + ".")
        if not wait:
            return JobRun(run)
        done = self.client.wait(run["id"], poll=0.2)
        try:
            log = self.client.logs(run["id"]) if done.get("logs") else ""
        except SubmarineAPIError:
            log = ""
        if log:
            print(log, end="" if log.endswith("\n") else "\n")
        job = JobRun(self.client.notebook_job(run["id"]))
        print(f"run {job['id']} {job['status']} {job['reason']}".rstrip())
        if job.get("error"):
            err = job["error"]
            print(f"error in cell {err['index'] + 1}: {err['ename']}: {err['evalue']}")
        lab = (job.get("output") or {}).get("lab_path")
        if lab and (job.get("output") or {}).get("version"):
            print(f"executed notebook: {lab}")
        return job

    def cmd_params(self, tokens: list[str]) -> Listing:
        parser = _Parser(prog="%submarine params")
        parser.add_argument("notebook")
        parser.add_argument("--version", type=int)
        parser.add_argument("--space")
        args = parser.parse_args(tokens)
        out = self.client.notebook_parameters(args.notebook, version=args.version, space=args.space)
        lines = [f"{p['name']:<20} {p['type']:<6} = {p['source']}" for p in out["parameters"]]
        return Listing(out["parameters"], lines, "No parameters (no cell tagged 'parameters').")

    def cmd_job(self, tokens: list[str]) -> JobRun:
        parser = _Parser(prog="%submarine job")
        parser.add_argument("run_id", type=int)
        args = parser.parse_args(tokens)
        return JobRun(self.client.notebook_job(args.run_id))

    def cmd_schedules(self, tokens: list[str]) -> Listing:
        parser = _Parser(prog="%submarine schedules")
        parser.add_argument("--team")
        args = parser.parse_args(tokens)
        items = self.client.notebook_schedules(args.team)
        lines = [
            f"{s['id']:>4} {s['name']:<24} '{s['cron']}' {s['timezone']} "
            + ("paused" if s["paused"] else f"next {s['next_run_at']}")
            for s in items
        ]
        return Listing(items, lines, "No schedules.")

    # -- %%submarine_job --------------------------------------------------------------------

    def cell(self, line: str, cell: str) -> JobRun:
        parser = _Parser(prog="%%submarine_job")
        _job_args(parser)
        args = parser.parse_args(_split_params(shlex.split(line)))
        job = _job_fields(args)
        job.setdefault("name", "cell-job")
        params = {k: _value(v) for k, v in args.param}
        run = self.client.run_notebook(None, content=cell_notebook(cell, params), **job)
        return self._submitted(run, args.wait)


def cell_notebook(code: str, params: dict[str, Any]) -> dict[str, Any]:
    """A notebook of one cell, after a ``parameters`` cell holding ``params``."""
    cells: list[dict[str, Any]] = []
    if params:
        source = "\n".join(f"{k} = {v!r}" for k, v in params.items())
        cells.append(
            {
                "cell_type": "code",
                "metadata": {"tags": ["parameters"]},
                "source": source,
                "outputs": [],
                "execution_count": None,
            }
        )
    body = {"cell_type": "code", "metadata": {}, "source": code, "outputs": []}
    cells.append({**body, "execution_count": None})
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def load_ipython_extension(ipython: Any) -> None:
    from IPython.core.error import UsageError
    from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

    from . import magics_sql

    logic = SubmarineMagics()

    def friendly(fn: Any) -> Any:
        def call(*args: Any) -> Any:
            try:
                return fn(*args)
            except (MagicError, SubmarineAPIError, ValueError) as e:  # a message, no traceback
                raise UsageError(getattr(e, "message", None) or str(e)) from None

        return call

    @magics_class
    class _Magics(Magics):  # type: ignore[misc]
        @line_magic  # type: ignore[misc]
        def submarine(self, line: str) -> Any:
            """Notebook jobs, experiments (rich output), and the whole `submarine` CLI:
            %submarine help."""
            return friendly(logic.line)(line)

        @cell_magic  # type: ignore[misc]
        def submarine_sql(self, line: str, cell: str) -> Any:
            """Run this cell's query as a SQL run: %%submarine_sql --connection NAME [-p K V]."""
            return friendly(lambda: magics_sql.run_cell(logic.client, line, cell))()

        @cell_magic  # type: ignore[misc]
        def submarine_job(self, line: str, cell: str) -> Any:
            """Run this cell's code as a notebook job: %%submarine_job [--name N] [-p K V]."""
            return friendly(logic.cell)(line, cell)

    ipython.register_magics(_Magics)
