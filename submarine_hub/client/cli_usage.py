"""``submarine usage``: your teams' quota, usage, spend and budget; reports; and, for
admins, prices and budgets."""

from __future__ import annotations

import math
from typing import Any

import click

from .cli import _call, _client, _emit, main

STATE_COLORS = {"ok": "green", "warning": "yellow", "spent": "red"}


def _limit(value: Any) -> str:
    if value is None:
        return "unlimited"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _gb(value: Any) -> str:
    return "unlimited" if value is None else f"{value / 1e9:.3g}G"


def _team_text(t: dict[str, Any]) -> str:
    q, u, m, b = t["quota"], t["usage"], t["month"], t["budget"]
    lines = [
        click.style(f"Team {t['team']}", bold=True),
        f"  sessions  {u['sessions']} of {_limit(q['max_sessions'])}",
        f"  CPU       {u['cpu']:g} of {_limit(q['max_cpu_total'])}",
        f"  memory    {u['memory'] / 1e9:.3g}G of {_gb(q['max_memory_total'])}",
        f"  GPUs      {u['gpus']} of {_limit(q['max_gpus_total'])}"
        + (f" ({t['free_gpus']} free)" if t["free_gpus"] is not None else ""),
        f"  runs      {u['running_experiments']} of {_limit(q['max_running_experiments'])}",
        f"  this month: {m['cpu_hours']:.2f} CPU-hours, {m['gpu_hours']:.2f} GPU-hours, "
        f"{m['memory_gb_hours']:.2f} GB-hours, {m['cost']:.2f} {m['currency']}",
    ]
    disk = t.get("disk") or {}
    if disk:
        lines.append(
            f"  disk      history {disk.get('history', 0) / 1e9:.3g}G, "
            f"models {disk.get('models', 0) / 1e9:.3g}G"
        )
    if b is None:
        lines.append("  budget    none")
    else:
        unit = b["currency"] if b["unit"] == "money" else b["unit"].replace("_", "-")
        percent = "∞" if b["fraction"] is None else f"{b['fraction'] * 100:.0f}%"
        state = click.style(b["state"], fg=STATE_COLORS.get(b["state"]))
        lines.append(
            f"  budget    {b['spent']:.2f} of {b['amount']:.2f} {unit} ({percent}, "
            f"{b['period']}, policy {b['policy']}): {state}"
        )
        if b["message"]:
            lines.append("  " + click.style(b["message"], fg=STATE_COLORS.get(b["state"])))
    return "\n".join(lines)


@main.group(invoke_without_command=True)
@click.option("--team", help="One of your teams (default: all of them).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def usage(ctx: click.Context, team: str | None, as_json: bool) -> None:
    """Your teams' quota, what they use now, spend this month against the budget, and
    free GPUs. Subcommands: report, prices, budget."""
    if ctx.invoked_subcommand is not None:
        return
    items = _call(_client().team_usage, team)
    text = "\n\n".join(_team_text(t) for t in items) or "You are in no team yet."
    _emit(items, as_json, text)
    if any((t["budget"] or {}).get("state") in ("warning", "spent") for t in items):
        click.echo(
            click.style("Warning: a team's budget is nearly or fully spent.", fg="yellow"),
            err=True,
        )


@usage.command("report")
@click.option("--team", help="One team (default: yours; admins: all).")
@click.option("--by", "group_by", default="team,kind", show_default=True,
              help="Group by: team, user, kind, day or month, item (comma-separated).")  # fmt: skip
@click.option("--since", help="ISO 8601 start (default: the start of this month, UTC).")
@click.option("--until", help="ISO 8601 end (default: now).")
@click.option("--user", help="One user's usage.")
@click.option("--kind", type=click.Choice(["session", "run", "notebook_job", "endpoint", "build"]))
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def report(team: str | None, group_by: str, since: str | None, until: str | None,
           user: str | None, kind: str | None, as_csv: bool, as_json: bool) -> None:  # fmt: skip
    """Resource-hours and cost, grouped."""
    client = _client()
    kw = {"since": since, "until": until, "user": user, "kind": kind}
    if as_csv:
        click.echo(_call(client.usage_csv, team, group_by=group_by, **kw), nl=False)
        return
    out = _call(client.usage, team, group_by=group_by, **kw)
    groups = out["group_by"]
    rows = []
    for item in out["items"]:
        label = "  ".join(str(item.get("key") if g == "item" else item.get(g)) for g in groups)
        rows.append(
            f"{label:<40} {item['cpu_hours']:>10.3f} {item['memory_gb_hours']:>10.3f} "
            f"{item['gpu_hours']:>9.3f} {item['cost']:>10.2f}"
        )
    head = f"{' '.join(groups):<40} {'CPU-h':>10} {'GB-h':>10} {'GPU-h':>9} {out['currency']:>10}"
    total = out["total"]
    foot = (
        f"{'total':<40} {total['cpu_hours']:>10.3f} {total['memory_gb_hours']:>10.3f} "
        f"{total['gpu_hours']:>9.3f} {total['cost']:>10.2f}"
    )
    _emit(out, as_json, "\n".join([head, *rows, foot]))


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise click.BadParameter(f"{name} must be a number, not {text!r}.") from None
    if not math.isfinite(value):
        raise click.BadParameter(f"{name} must be a finite number.")
    return value


@usage.command("prices")
@click.option("--set", "changes", multiple=True, metavar="UNIT=PRICE",
              help="Admins: set a price (cpu_hour, memory_gb_hour, gpu_hour, session_hour, "
                   "disk_gb_month, gpu_type:NAME, currency); the others keep theirs.")  # fmt: skip
@click.option("--from", "effective_at", metavar="TIME",
              help="With --set: the new prices apply from TIME (ISO 8601, now or later) on; "
                   "past usage keeps the prices of its time. Default: now.")  # fmt: skip
@click.option("--versions", is_flag=True, help="List every version of the prices.")
@click.option("--withdraw", type=int, metavar="ID",
              help="Admins: withdraw the price version ID (one not yet in effect).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def prices(
    changes: tuple[str, ...],
    effective_at: str | None,
    versions: bool,
    withdraw: int | None,
    as_json: bool,
) -> None:
    """The prices per resource unit (and, for admins, --set them, from now or --from a
    later time)."""
    client = _client()
    if withdraw is not None:
        _call(client.delete_price_version, withdraw)
        click.echo(f"Withdrew price version {withdraw}.")
        return
    if effective_at and not changes:
        raise click.UsageError("--from goes with --set.")
    current = _call(client.prices)
    if changes:
        new = dict(current)
        new["gpu_types"] = dict(current.get("gpu_types") or {})
        for change in changes:
            key, sep, value = change.partition("=")
            if not sep:
                raise click.BadParameter(f"{change!r}: use UNIT=PRICE.", param_hint="--set")
            if key == "currency":
                new["currency"] = value
            elif key.startswith("gpu_type:"):
                new["gpu_types"][key.split(":", 1)[1]] = _number(value, key)
            else:
                new[key] = _number(value, key)
        if effective_at:
            version = _call(client.add_price_version, new, effective_at)
            click.echo(f"Price version {version['id']} applies from {version['effective_at']}.",
                       err=True)  # fmt: skip
            current = version["prices"]
        else:
            current = _call(client.set_prices, **new)
    if versions:
        items = _call(client.price_versions)
        rows = [
            f"{v['id']:>4}  {v['effective_at']:<32} "
            f"{'in effect' if v['in_effect'] else 'future':<9}  "
            + ", ".join(f"{k} {v['prices'].get(k, 0):g}" for k in PRICE_UNITS)
            for v in items
        ]
        _emit(items, as_json, "\n".join(rows))
        return
    lines = [f"currency        {current['currency']}"]
    lines += [f"{k:<15} {current.get(k, 0):g}" for k in PRICE_UNITS]
    lines += [f"gpu {k:<11} {v:g}" for k, v in (current.get("gpu_types") or {}).items()]
    _emit(current, as_json, "\n".join(lines))


PRICE_UNITS = ("cpu_hour", "memory_gb_hour", "gpu_hour", "session_hour", "disk_gb_month")


@usage.command("budget")
@click.argument("team")
@click.option("--amount", type=float, help="Admins: set the budget to this amount.")
@click.option("--unit", type=click.Choice(["money", "cpu_hours", "memory_gb_hours",
              "gpu_hours", "session_hours"]), default="money", show_default=True)  # fmt: skip
@click.option("--policy", type=click.Choice(["refuse", "queue", "allow"]), default="refuse",
              show_default=True, help="What happens to new work once it is spent.")  # fmt: skip
@click.option("--warn-at", type=float, default=0.8, show_default=True,
              help="Warn the team's users from this fraction of the budget.")  # fmt: skip
@click.option("--name", default="", help="A name the messages use.")
@click.option("--starts", help="A custom period's start (ISO 8601); default: monthly.")
@click.option("--ends", help="A custom period's end (ISO 8601).")
@click.option("--remove", is_flag=True, help="Admins: remove the team's budget.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def budget(team: str, amount: float | None, unit: str, policy: str, warn_at: float, name: str,
           starts: str | None, ends: str | None, remove: bool, as_json: bool) -> None:  # fmt: skip
    """TEAM's budget and what it has spent (admins: set it with --amount, or --remove)."""
    client = _client()
    if remove:
        _call(client.delete_budget, team)
        click.echo(f"Removed team {team}'s budget.")
        return
    if amount is not None:
        fields: dict[str, Any] = {"unit": unit, "policy": policy, "warn_at": warn_at}
        if name:
            fields["name"] = name
        if starts or ends:
            fields.update(period="custom", starts_at=starts, ends_at=ends)
        _call(client.set_budget, team, amount, **fields)
    out = _call(client.budget, team)
    status = out.get("status") or {}
    text = (
        f"Team {team}: {out['amount']:g} {out['unit']} per {out['period']}, policy "
        f"{out['policy']}, warn at {out['warn_at']:.0%}\n"
        f"spent {status.get('spent', 0):.2f} ({status.get('state', 'ok')})"
        + (f"\n{status['message']}" if status.get("message") else "")
    )
    _emit(out, as_json, text)
