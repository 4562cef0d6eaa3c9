"""Backends are chosen through entry-point groups: another package adds one by declaring it.

The plugin here is a real distribution made in a temporary folder (a package and its
``.dist-info`` with ``entry_points.txt``) and put on ``sys.path``, as ``pip install``
would; the service then finds it by name, configures it from its own config section and
hands it the runs.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomllib
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application as WebApplication
from tornado.web import HTTPError, RequestHandler
from traitlets import TraitError
from traitlets.config import Config

from submarine_hub.backends.base import (
    ENDPOINT_BACKENDS,
    ENVIRONMENT_BACKENDS,
    EXPERIMENT_BACKENDS,
    EndpointBackend,
    EnvironmentBackend,
    ExperimentBackend,
    ProcessState,
)
from submarine_hub.backends.images import ImageEnvironmentBackend
from submarine_hub.backends.local.experiments import LocalExperimentBackend
from submarine_hub.core.experiments import runs
from submarine_hub.core.identity import Identity
from submarine_hub.service.app import SubmarineService
from submarine_hub.service.context import ServiceContext
from submarine_hub.serving.manager import EndpointManager
from submarine_hub.store import upgrade

from .helpers.service import FakeEndpointBackend

REPO = Path(__file__).resolve().parents[1]
ALICE = Identity(name="alice", teams=frozenset({"data-science"}))

PLUGIN = '''
"""A backend package that is not submarine-hub."""

from traitlets import Unicode

from submarine_hub.backends.base import EndpointBackend, ExperimentBackend, ProcessState
from submarine_hub.core.experiments.backend import SUCCEEDED, RunState

#: what the backends were asked to do, for the test to read
CALLS = []


class DummyExperimentBackend(ExperimentBackend):
    name = "dummy"

    label = Unicode("", help="Tells instances apart.").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ran = {}

    async def launch(self, plan):
        CALLS.append(("launch", self.label, plan))
        self.ran[plan.run_id] = RunState(SUCCEEDED, exit_code=0, reason="the dummy ran it")

    async def kill(self, run_id):
        CALLS.append(("kill", self.label, run_id))

    async def state(self, run_id):
        return self.ran.get(run_id)

    async def log_names(self, run_id):
        return ["main-0"]

    async def read_log(self, run_id, name, offset, limit):
        return b"hello from the dummy\\n"[offset : offset + limit]


class DummyEndpointBackend(EndpointBackend):
    name = "dummy"

    label = Unicode("", help="Tells instances apart.").tag(config=True)

    async def known(self):
        return [7]  # a server no endpoint wants any more

    async def state(self, endpoint_id):
        return ProcessState(alive=True, state="ready", generation=1, port=1)

    async def apply(self, endpoint_id, config):
        CALLS.append(("apply", self.label, endpoint_id))

    async def write_access(self, endpoint_id, access):
        pass

    async def stop(self, endpoint_id):
        CALLS.append(("stop", self.label, endpoint_id))

    async def stats(self, endpoint_id, prefix, token):
        return None

    async def read_log(self, endpoint_id, offset, limit):
        return b""


class NotABackend:
    pass
'''

ENTRY_POINTS = f"""
[{EXPERIMENT_BACKENDS}]
dummy = dummy_pkg:DummyExperimentBackend
broken = dummy_pkg.missing:Backend

[{ENDPOINT_BACKENDS}]
dummy = dummy_pkg:DummyEndpointBackend
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``dummy_pkg`` 0.1, installed: its module and its dist-info on ``sys.path``."""
    site = tmp_path / "site-packages"
    (site / "dummy_pkg").mkdir(parents=True)
    (site / "dummy_pkg" / "__init__.py").write_text(PLUGIN)
    info = site / "dummy_pkg-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dummy-pkg\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(ENTRY_POINTS))
    monkeypatch.syspath_prepend(str(site))
    import dummy_pkg

    yield dummy_pkg
    sys.modules.pop("dummy_pkg", None)


class Directory:
    """The hub's users and teams: alice of data-science."""

    async def user(self, name: str) -> dict[str, Any] | None:
        return (
            {"name": name, "admin": False, "groups": ["data-science"]} if name == "alice" else None
        )

    async def user_names(self) -> list[str]:
        return ["alice"]

    async def groups(self) -> dict[str, list[str]]:
        return {"data-science": ["alice"]}

    async def stop_server(self, user: str, server_name: str = "") -> None:
        return None

    async def close(self) -> None:
        return None


def service(tmp_path: Path, **sections: dict[str, Any]) -> SubmarineService:
    """The service with these config sections (its log propagates, to caplog)."""
    config = Config(sections)
    config.SubmarineService.merge(
        Config(data_dir=str(tmp_path), run_as_owner=False, api_token="", migrate=False)
    )
    return SubmarineService(config=config, log=logging.getLogger("tests.submarine"))


async def test_an_experiment_backend_of_another_package_is_chosen_by_name_and_runs_the_runs(
    plugin: Any, tmp_path: Path
) -> None:
    app = service(
        tmp_path,
        SubmarineService={"experiment_backend_class": "dummy"},
        DummyExperimentBackend={"label": "from its own section"},
    )
    upgrade(app.db_url)
    context: ServiceContext = app.make_context(Directory())
    try:
        backend = context.experiments.backend
        assert isinstance(backend, plugin.DummyExperimentBackend)
        assert isinstance(backend, ExperimentBackend)
        assert backend.data_dir == str(tmp_path)  # what the service gives every backend
        async with context.db.session() as s:
            spec = {"meta": {"name": "hello", "team": "data-science"}, "task": {"command": "true"}}
            row = await runs.create(s, ALICE, await runs.prepare(s, ALICE, spec), quota_defaults={})
        for _ in range(3):  # dispatch, then read its state
            await context.experiments.tick()
        [(call, label, plan)] = plugin.CALLS
        assert (call, label, plan.run_id, plan.owner) == (
            "launch",
            "from its own section",
            row.id,
            "alice",
        )
        async with context.db.session() as s:
            row = await runs.get(s, ALICE, row.id)
            assert (row.backend, row.status, row.reason) == (
                "dummy",
                "succeeded",
                "the dummy ran it",
            )
    finally:
        await context.experiments.stop()
        await context.db.dispose()


async def test_an_endpoint_backend_of_another_package_is_chosen_by_name(
    plugin: Any, tmp_path: Path
) -> None:
    app = service(
        tmp_path,
        EndpointManager={"backend_class": "dummy"},
        DummyEndpointBackend={"label": "endpoints"},
    )
    upgrade(app.db_url)
    context = app.make_context(Directory())
    manager = EndpointManager.for_service(app, context, hub_token="")
    assert manager.hub is not None
    await manager.hub.close()
    manager.hub = None  # no hub to register services with
    try:
        assert isinstance(manager.backend, plugin.DummyEndpointBackend)
        assert isinstance(manager.backend, EndpointBackend)
        assert await manager.tick() is False  # no endpoints: the stray server is stopped
        assert plugin.CALLS == [("stop", "endpoints", 7)]
    finally:
        await manager.stop()
        await context.db.dispose()


def test_an_unknown_backend_name_is_a_config_error_naming_the_group_and_the_installed_ones(
    plugin: Any, tmp_path: Path
) -> None:
    with pytest.raises(TraitError) as e:
        service(tmp_path, SubmarineService={"experiment_backend_class": "yarn"})
    message = str(e.value)
    assert "SubmarineService.experiment_backend_class" in message
    assert f"no backend named 'yarn' in entry-point group '{EXPERIMENT_BACKENDS}'" in message
    assert "dummy" in message.split("installed:")[1]

    with pytest.raises(TraitError, match=r"EndpointManager.backend_class: no backend named 'x'"):
        EndpointManager(None, backend_class="x", hub=None, hub_api_url="", store_url="")

    with pytest.raises(TraitError, match=r"'broken' names dummy_pkg.missing:Backend .*"):
        service(tmp_path, SubmarineService={"experiment_backend_class": "broken"})
    with pytest.raises(TraitError, match=r"'dummy_pkg.Nothing' could not be imported"):
        service(tmp_path, SubmarineService={"experiment_backend_class": "dummy_pkg.Nothing"})
    with pytest.raises(TraitError, match=r"is not a subclass of .*ExperimentBackend"):
        service(tmp_path, SubmarineService={"experiment_backend_class": "dummy_pkg.NotABackend"})
    app = service(tmp_path, SubmarineService={"experiment_backend_class": "dummy"})
    with pytest.raises(TraitError, match=r"is not a subclass of .*EnvironmentBackend"):
        app.environment_backend_class = "dummy_pkg.DummyExperimentBackend"
    with pytest.raises(TraitError, match=r"no backend named 'dummy' in .*environment_backends"):
        app.environment_backend_class = "dummy"  # each kind has its own group


def test_a_backend_can_be_given_as_a_class_or_an_import_path(tmp_path: Path) -> None:
    path = "submarine_hub.backends.images.ImageEnvironmentBackend"
    app = service(tmp_path, SubmarineService={"environment_backend_class": path})
    assert app.environment_backend_class is ImageEnvironmentBackend
    app.environment_backend_class = ImageEnvironmentBackend
    assert isinstance(app.make_environment_backend(), ImageEnvironmentBackend)


def test_the_built_in_backends_are_declared_under_local_and_kube() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    for group, base in (
        (EXPERIMENT_BACKENDS, ExperimentBackend),
        (ENDPOINT_BACKENDS, EndpointBackend),
        (ENVIRONMENT_BACKENDS, EnvironmentBackend),
    ):
        assert set(declared[group]) == {"local", "kube"}
        for target in declared[group].values():
            module, _, attr = target.partition(":")
            cls = getattr(__import__(module, fromlist=[attr]), attr)
            assert issubclass(cls, base), target


def test_settings_that_moved_to_a_backend_still_work_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = service(
        tmp_path,
        SubmarineService={
            "max_parallel_runs": 0,
            "gpu_ids": [1],
            "runs_dir": str(tmp_path / "old"),
            "build_environments": False,
        },
        LocalExperimentBackend={"runs_dir": str(tmp_path / "new")},
    )
    backend = app.make_experiment_backend()
    assert isinstance(backend, LocalExperimentBackend)
    assert backend.capacity() is None  # 0: no limit
    assert backend.assignable_gpus() == [1]
    assert backend.runs_dir == str(tmp_path / "new")  # the new setting wins
    assert isinstance(app.make_environment_backend(), ImageEnvironmentBackend)
    logged = caplog.text
    assert "SubmarineService.max_parallel_runs is deprecated: set " in logged
    assert "LocalExperimentBackend.max_parallel_runs" in logged
    assert "SubmarineService.runs_dir is deprecated and ignored" in logged
    assert "environment_backend_class = 'kube'" in logged

    kube = service(tmp_path, SubmarineService={"experiment_backend": "kubernetes"})
    assert kube.make_experiment_backend().name == "kubernetes"
    both = {"experiment_backend": "kubernetes", "experiment_backend_class": "local"}
    assert service(tmp_path, SubmarineService=both).make_experiment_backend().name == "local"
    manager = EndpointManager(
        None,
        hub=None,
        hub_api_url="",
        store_url="",
        backend_settings={"data_dir": str(tmp_path)},
        config=Config({"EndpointManager": {"endpoints_dir": str(tmp_path / "eps")}}),
    )
    assert manager.backend.root == tmp_path / "eps"  # type: ignore[attr-defined]
    asyncio.run(manager.backend.close())
    manager = EndpointManager(
        None,
        hub=None,
        hub_api_url="",
        store_url="",
        config=Config({"EndpointManager": {"backend_name": "kubernetes"}}),
    )
    assert manager.backend.name == "kubernetes"
    assert "EndpointManager.backend_name is deprecated" in caplog.text


class _StatsHandler(RequestHandler):
    """An endpoint's server's statistics, to the control token only."""

    def get(self) -> None:
        if self.request.headers.get("Authorization") != "token control":
            raise HTTPError(403)
        self.finish({"requests": 3})


async def test_an_endpoint_backend_asks_its_server_for_stats_only_while_it_can_answer() -> None:
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(WebApplication([(r"/services/ep/stats", _StatsHandler)]))
    server.add_sockets(sockets)
    url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
    backend = FakeEndpointBackend()
    try:
        assert await backend.stats(1, "/services/ep/", "control") is None  # never applied
        backend.states[1] = ProcessState(alive=True, state="ready", generation=1, url_override=url)
        assert await backend.stats(1, "/services/ep/", "control") == {"requests": 3}
        assert await backend.stats(1, "/services/ep/", "other") is None  # refused
        assert await backend.stats(1, "/services/nothing/", "control") is None  # not found
        backend.states[1] = ProcessState(alive=False, state="gone", url_override=url)
        assert await backend.stats(1, "/services/ep/", "control") is None  # not asked
        server.stop()
        await server.close_all_connections()
        backend.states[1] = ProcessState(alive=True, state="ready", generation=1, url_override=url)
        assert await backend.stats(1, "/services/ep/", "control") is None  # no answer
    finally:
        server.stop()
        await backend.close()
