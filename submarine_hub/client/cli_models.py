"""``submarine model | dataset | lineage`` and ``experiment compare``."""

from __future__ import annotations

from typing import Any

import click

from .cli import _call, _client, _created, _emit, main, quiet_option
from .cli_experiments import _load, experiment


@main.group("model")
def model() -> None:
    """The model registry: models, versions, aliases."""


@model.command("list")
@click.option("--team")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def model_list(team: str | None, as_json: bool) -> None:
    """Models of your teams."""
    with _client() as client:
        items = _call(client.models, team)
    lines = [
        f"{m['ref']:<36} v{m['latest_version']:<4} "
        + " ".join(f"{a}=v{v}" for a, v in sorted(m["aliases"].items()))
        for m in items
    ]
    _emit(items, as_json, "\n".join(lines) or "No models.")


@model.command("get")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def model_get(ref: str, as_json: bool) -> None:
    """A model (TEAM/NAME) and its versions."""
    with _client() as client:
        m = _call(client.model, ref)
    lines = [f"{m['ref']}  (owner {m['owner']}) {m['description']}".rstrip()]
    for v in m["versions"]:
        aliases = f" [{', '.join(v['aliases'])}]" if v["aliases"] else ""
        run = f" run {v['source_run_id']}" if v["source_run_id"] else ""
        metrics = " ".join(f"{k}={val:g}" for k, val in sorted(v["metrics"].items()))
        lines.append(
            f"  v{v['version']:<4} {v['status']:<9} {v['size']:>10} B{run}{aliases} {metrics}"
        )
    _emit(m, as_json, "\n".join(lines))


@model.command("register")
@click.argument("ref")
@click.argument("files", nargs=-1)
@click.option("--from-run", type=int, help="Take the files from this run's outputs.")
@click.option("--framework", default="", help="sklearn, onnx, pytorch, tensorflow, custom...")
@click.option("--description", default="")
@click.option("--alias", "aliases", multiple=True, help="Point this alias at the new version.")
@quiet_option
def model_register(
    ref: str,
    files: tuple[str, ...],
    from_run: int | None,
    framework: str,
    description: str,
    aliases: tuple[str, ...],
    quiet: bool,
) -> None:
    """Register a new version of TEAM/NAME from FILES (or folders), or --from-run ID
    with FILES naming the run's outputs."""
    if not files:
        raise click.UsageError("Name the files to register.")
    fields: dict[str, Any] = {"framework": framework, "description": description}
    with _client() as client:
        if from_run is not None:
            v = _call(
                lambda: client.register_model(
                    ref, from_run=from_run, run_paths=list(files), **fields
                )
            )
        else:
            v = _call(lambda: client.register_model(ref, list(files), **fields))
        for alias in aliases:
            _call(client.set_alias, ref, alias, v["version"])
    text = f"Registered {ref} version {v['version']} ({len(v['files'])} files, {v['size']} B)."
    _created(quiet, v["version"], text)


@model.command("alias")
@click.argument("ref")
@click.argument("alias")
@click.argument("version", type=int, required=False)
@click.option("--delete", is_flag=True, help="Remove the alias.")
def model_alias(ref: str, alias: str, version: int | None, delete: bool) -> None:
    """Point ALIAS (production, staging...) of TEAM/NAME at VERSION."""
    with _client() as client:
        if delete:
            _call(client.delete_alias, ref, alias)
            click.echo(f"Removed alias {alias} of {ref}.")
            return
        if version is None:
            raise click.UsageError("Give the VERSION the alias points at (or --delete).")
        _call(client.set_alias, ref, alias, version)
    click.echo(f"{ref}@{alias} is version {version}.")


@model.command("download")
@click.argument("ref")
@click.argument("version")
@click.option("-o", "--output", default=".", help="Folder to write the files into.")
def model_download(ref: str, version: str, output: str) -> None:
    """Download a version's files (VERSION may be an alias), checked by SHA-256."""
    with _client() as client:
        target = _call(client.download_model, ref, version, output)
    click.echo(f"Downloaded {ref} {version} into {target}.")


@model.command("archive")
@click.argument("ref")
@click.argument("version", required=False)
@click.option("--undo", is_flag=True, help="Unarchive.")
def model_archive(ref: str, version: str | None, undo: bool) -> None:
    """Archive a model, or one of its versions."""
    with _client() as client:
        if version:
            _call(lambda: client.update_model_version(ref, version, archived=not undo))
        else:
            _call(lambda: client.update_model(ref, archived=not undo))
    click.echo(f"{'Unarchived' if undo else 'Archived'} {ref}{' v' + version if version else ''}.")


@model.command("delete")
@click.argument("ref")
@click.argument("version", required=False)
def model_delete(ref: str, version: str | None) -> None:
    """Delete a model (all its versions) or one version."""
    with _client() as client:
        if version:
            _call(client.delete_model_version, ref, version)
        else:
            _call(client.delete_model, ref)
    click.echo(f"Deleted {ref}{' v' + version if version else ''}.")


@main.group("dataset")
def dataset() -> None:
    """The dataset catalog."""


@dataset.command("list")
@click.option("--team")
@click.option("--tag")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def dataset_list(team: str | None, tag: str | None, as_json: bool) -> None:
    """Datasets you can use (your teams' and shared ones)."""
    with _client() as client:
        items = _call(client.datasets, team, tag)
    lines = [
        f"{d['ref']:<36} {d['format'] or '-':<8} {d['uri']}" + (" (shared)" if d["shared"] else "")
        for d in items
    ]
    _emit(items, as_json, "\n".join(lines) or "No datasets.")


@dataset.command("add")
@click.argument("name")
@click.argument("uri")
@click.option("--team")
@click.option("--format", "fmt", default="")
@click.option("--description", default="")
@click.option("--tag", "tags", multiple=True)
@click.option("--size", type=int)
@click.option("--shared", is_flag=True, help="Let every team read it.")
@click.option("-f", "--file", "path", help="More fields (schema...) from YAML/JSON.")
def dataset_add(
    name: str,
    uri: str,
    team: str | None,
    fmt: str,
    description: str,
    tags: tuple[str, ...],
    size: int | None,
    shared: bool,
    path: str | None,
) -> None:
    """Add dataset NAME at URI to the catalog."""
    # NAME and URI come from the command line; the file adds the other fields
    extra = {k: v for k, v in (_load(path) if path else {}).items() if k not in ("name", "uri")}
    fields: dict[str, Any] = {"format": fmt, "description": description, "tags": list(tags)}
    fields.update(shared=shared, **extra)
    if team:
        fields["team"] = team
    if size is not None:
        fields["size"] = size
    with _client() as client:
        d = _call(lambda: client.create_dataset(name, uri, **fields))
    click.echo(f"Added dataset {d['ref']}.")


@dataset.command("get")
@click.argument("ref")
def dataset_get(ref: str) -> None:
    """A dataset (TEAM/NAME) as JSON."""
    import json

    with _client() as client:
        click.echo(json.dumps(_call(client.dataset, ref), indent=2))


@dataset.command("delete")
@click.argument("ref")
def dataset_delete(ref: str) -> None:
    """Remove a dataset from the catalog (the data itself is not touched)."""
    with _client() as client:
        _call(client.delete_dataset, ref)
    click.echo(f"Deleted dataset {ref}.")


@main.command("lineage")
@click.option("--dataset")
@click.option("--run", type=int)
@click.option("--model", help="TEAM/NAME")
@click.option("--version")
@click.option("--endpoint", help="TEAM/NAME")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def lineage(as_json: bool, **of: Any) -> None:
    """Datasets -> runs -> model versions -> endpoints around one object."""
    with _client() as client:
        graph = _call(lambda: client.lineage(**of))
    lines = [f"{e['from']}  ->  {e['to']}" for e in graph["edges"]]
    alone = {n["id"] for n in graph["nodes"]} - {x for e in graph["edges"] for x in e.values()}
    lines += sorted(alone)
    _emit(graph, as_json, "\n".join(lines) or "Nothing.")


@experiment.command("compare")
@click.argument("run_ids", nargs=-1, type=int, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON.")
def exp_compare(run_ids: tuple[int, ...], as_json: bool) -> None:
    """Params and latest metrics of runs side by side."""
    with _client() as client:
        data = _call(client.compare, list(run_ids))
    items = data["items"]
    width = 14
    header = f"{'':<20}" + "".join(f"{'run ' + str(i['id']):>{width}}" for i in items)
    rows = [header, f"{'status':<20}" + "".join(f"{i['status']:>{width}}" for i in items)]
    for key in data["keys"]["params"]:
        rows.append(
            f"{key[:20]:<20}" + "".join(f"{i['params'].get(key, '-')[:13]:>{width}}" for i in items)
        )
    for key in data["keys"]["metrics"]:
        rows.append(
            f"{key[:20]:<20}"
            + "".join(
                f"{i['metrics'][key]:>{width}.4g}" if key in i["metrics"] else f"{'-':>{width}}"
                for i in items
            )
        )
    _emit(data, as_json, "\n".join(rows))
