"""Every ``submarine`` command calls the SDK with arguments its methods accept.

Each command runs in-process with a stand-in client whose methods check their arguments
against the real :class:`SubmarineClient` signatures, then stop the command: once with
only the required arguments, and once per option (every option on its own). A command
may refuse what it is given (a usage error, a message), never end in a traceback.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from submarine_hub.client import (
    cli,
    cli_endpoints,
    cli_experiments,
    cli_models,
    cli_notebooks,
    cli_rooms,
)
from submarine_hub.client.client import SubmarineClient


class Reached(Exception):
    """The command got as far as a well-formed SDK call."""


class Mismatch(Exception):
    pass


class CheckingClient:
    """Stands in for SubmarineClient: binds each call to the real method's signature."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __enter__(self) -> CheckingClient:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    @property
    def api_url(self) -> str:
        return "http://hub.invalid/services/submarine/api/v1"

    default_team = None
    default_environment = None

    def __getattr__(self, name: str) -> Any:
        real = getattr(SubmarineClient, name, None)
        if real is None or not callable(real):
            raise Mismatch(f"SubmarineClient has no method {name!r}")

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                inspect.signature(real).bind(self, *args, **kwargs)
            except TypeError as e:
                raise Mismatch(f"{name}{args}{kwargs}: {e}") from None
            self.calls.append(name)
            raise Reached(name)

        return call


def commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            yield from commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name)


def command_of(path: tuple[str, ...]) -> click.Command:
    cmd: Any = cli.main
    for name in path:
        cmd = cmd.commands[name]
    return cmd


def sample(param: click.Parameter, tmp: Path) -> list[str]:
    """A plausible command-line value of ``param`` (as argv items)."""
    kind = param.type
    if isinstance(kind, click.Choice):
        return [str(kind.choices[0])]
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
        return ["1"]
    if isinstance(kind, click.File | click.Path) or param.name in ("path", "spec_file"):
        f = tmp / f"{param.name}.yaml"
        f.write_text("name: x\nteam: data-science\n")
        return [str(f)]
    return ["a=1"]


def invocations(path: tuple[str, ...], tmp: Path) -> Iterator[list[str]]:
    cmd = command_of(path)
    required: list[str] = []
    for p in cmd.params:
        if isinstance(p, click.Argument):
            required += sample(p, tmp) * (p.nargs if p.nargs > 0 else 1)
        elif p.required:
            required += [p.opts[0], *sample(p, tmp)]
    yield [*path, *required]
    for p in cmd.params:
        if isinstance(p, click.Option) and not p.required and p.name not in ("help",):
            value = [] if p.is_flag or p.count else sample(p, tmp)
            if p.name == "as_json":
                continue
            yield [*path, *required, p.opts[0], *value]


ALL = [path for path in commands(cli.main) if path not in {("login",), ("logout",)}]
assert len(ALL) > 60, ALL  # every group is registered


@pytest.fixture
def checking(monkeypatch: pytest.MonkeyPatch) -> CheckingClient:
    client = CheckingClient()
    for module in (cli, cli_endpoints, cli_experiments, cli_models, cli_notebooks, cli_rooms):
        monkeypatch.setattr(module, "_client", lambda: client)
    return client


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) for p in ALL])
def test_every_cli_command_calls_the_sdk_with_arguments_it_accepts(
    path: tuple[str, ...], checking: CheckingClient, tmp_path: Path
) -> None:
    runner = CliRunner()
    for argv in invocations(path, tmp_path):
        result = runner.invoke(cli.main, argv, input="secret\n")
        if isinstance(result.exception, Reached | SystemExit) or result.exception is None:
            assert "Traceback" not in result.output, (argv, result.output)
            continue
        raise AssertionError(f"submarine {' '.join(argv)}: {result.exception!r}") from (
            result.exception
        )
