"""The two distributions: ``submarine-hub`` (the platform: ``pip install ./client .`` builds
the lab extension into its wheel, with everything wired up) and ``submarine-hub-client``
(``client/``: the SDK, CLI, tracking and magics, without JupyterHub)."""

from __future__ import annotations

import ast
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import submarine_hub

from .helpers.repo import source_tree

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11, as CI's
from .helpers.packaging import CLIENT_PROJECT, PROJECT, REPO, client_shipped  # noqa: E402

#: What a client-only environment must never hold: the platform's heavy dependencies.
NOT_IN_THE_CLIENT = {"jupyterhub", "sqlalchemy", "scikit-learn", "joblib", "jupyter-server"}


@pytest.mark.slow
def test_wheel_contains_the_prebuilt_extension_and_server_config(tmp_path: Path) -> None:
    src = source_tree(tmp_path / "src")
    assert not (src / "submarine_hub" / "labextension").exists()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path / "dist"),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=900,
        # jlpm, the build's package manager, comes with jupyterlab in this environment
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
    )
    (wheel,) = (tmp_path / "dist").glob("submarine_hub-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(
        n.split("/")[0]
        for n in names
        if n.endswith(".data/data/etc/jupyter/jupyter_server_config.d/submarine_hub.json")
    )
    ext = f"{data}/data/share/jupyter/labextensions/submarine-hub"
    assert f"{ext}/package.json" in names
    assert f"{ext}/install.json" in names
    assert any(n.startswith(f"{ext}/static/remoteEntry.") for n in names)
    assert f"{ext}/schemas/submarine-hub/plugin.json" in names  # the panel's settings
    assert "submarine_spawner/local.py" in names
    assert "submarine_hub/store/migrations/versions/0001_teams.py" in names
    assert "submarine_hub/service/openapi.yaml" in names
    dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    entry_points = zipfile.ZipFile(wheel).read(f"{dist_info}/entry_points.txt").decode()
    assert "submarine-local = submarine_spawner.local:SubmarineLocalSpawner" in entry_points
    # the client's files and its CLI are submarine-hub-client's, which it requires
    assert "submarine = " not in entry_points
    for name in client_shipped():
        assert not any(n == f"submarine_hub/{name}" or n.startswith(f"submarine_hub/{name}/")
                       for n in names), name  # fmt: skip
    assert "submarine_hub/core/paths.py" in names
    requires = [
        line.split(":", 1)[1].strip()
        for line in zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA").decode().splitlines()
        if line.startswith("Requires-Dist:")
    ]
    assert f"submarine-hub-client=={submarine_hub.__version__}" in requires


def test_the_two_distributions_split_the_package_between_them() -> None:
    shipped = client_shipped()
    excluded = PROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["exclude"]
    assert sorted(excluded) == sorted(f"submarine_hub/{name}" for name in shipped)
    # one version for both: the full distribution requires the client of its own version
    assert (
        f"submarine-hub-client=={submarine_hub.__version__}" in PROJECT["project"]["dependencies"]
    )
    assert CLIENT_PROJECT["project"]["scripts"] == {"submarine": "submarine_hub.client.cli:main"}
    assert "submarine" not in PROJECT["project"]["scripts"]
    client_deps = {
        re.split(r"[<>=!~\[; ]", d)[0].lower() for d in CLIENT_PROJECT["project"]["dependencies"]
    }
    assert not client_deps & NOT_IN_THE_CLIENT


def test_the_client_files_import_nothing_of_the_platform() -> None:
    """The client's modules import only what it ships (the rest needs the platform's
    dependencies); ``submarine_hub/__init__.py`` reaches the rest lazily, by name only."""
    shipped = client_shipped()
    package = REPO / "submarine_hub"
    files = [
        f for name in shipped for f in ([package / name] if (package / name).is_file()
                                        else sorted((package / name).rglob("*.py")))
        if f.suffix == ".py"
    ]  # fmt: skip

    def ships(module: str) -> bool:
        rel = "/".join(module.split(".")[1:])
        return not rel or any(
            rel in (s, s.removesuffix(".py"), s.removesuffix("/__init__.py"))
            or rel.startswith(f"{s}/")
            for s in shipped
        )

    def is_module(module: str) -> bool:
        path = REPO.joinpath(*module.split("."))
        return path.is_dir() or path.with_suffix(".py").is_file()

    for path in files:
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        package_parts = parts[:-1]  # the package a relative import starts from
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package_parts[: len(package_parts) - node.level + 1]
                    base = ".".join([*up, *([base] if base else [])])
                modules = [base] + [
                    f"{base}.{a.name}" for a in node.names if is_module(f"{base}.{a.name}")
                ]
            else:
                continue
            for module in modules:
                if module.split(".")[0] == "submarine_hub":
                    assert ships(module), (
                        f"{'.'.join(parts)} imports {module}, which submarine-hub-client "
                        "does not ship"
                    )


class _FakePlatform(http.server.BaseHTTPRequestHandler):
    """Just enough of the platform's API for ``submarine whoami``."""

    def do_GET(self) -> None:
        if (
            self.path.rstrip("/").endswith("/api/v1/me")
            and self.headers.get("Authorization") == "token client-test"
        ):
            body = json.dumps(
                {"name": "alice", "admin": False, "teams": [{"name": "data-science"}],
                 "scopes": []}
            ).encode()  # fmt: skip
            self.send_response(200)
        else:
            body = json.dumps({"status": 404, "message": f"no {self.path}"}).encode()
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_platform() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakePlatform)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/submarine/api/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_the_client_distribution_alone_gives_a_working_cli_and_sdk_without_jupyterhub(
    tmp_path: Path, fake_platform: str
) -> None:
    src = source_tree(tmp_path / "src")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "dist"), str(src / "client")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("submarine_hub_client-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "submarine_hub/client/cli.py" in names and "submarine_hub/tracking.py" in names
    assert "submarine_hub/core/spaces.py" in names  # the one path-to-space rule, pure
    assert not any(
        n.startswith(("submarine_hub/core/", "submarine_hub/service/"))
        and n not in ("submarine_hub/core/__init__.py", "submarine_hub/core/spaces.py")
        for n in names
    )

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "SUBMARINE", "JUPYTER", "VIRTUAL_ENV"))
    }
    env.update(HOME=str(tmp_path), PIP_DISABLE_PIP_VERSION_CHECK="1")
    python, submarine = str(venv / "bin" / "python"), str(venv / "bin" / "submarine")
    # from the package index (or pip's cache), within the versions CI tests
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "-c", str(src / "constraints.txt"), str(wheel)],
        check=True, capture_output=True, timeout=600, env=env, cwd=tmp_path,
    )  # fmt: skip

    def run(*cmd: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=60, env={**env, **extra}, cwd=tmp_path
        )

    installed = json.loads(run(python, "-m", "pip", "list", "--format=json").stdout)
    dists = {d["name"].lower().replace("_", "-") for d in installed}
    assert "submarine-hub-client" in dists and "submarine-hub" not in dists
    assert not dists & NOT_IN_THE_CLIENT, dists & NOT_IN_THE_CLIENT
    assert "tornado" not in dists

    helped = run(submarine, "--help")
    assert helped.returncode == 0 and "experiment" in helped.stdout, helped.stderr
    lost = run(submarine, "whoami")  # no hub configured: a message, not a traceback
    assert lost.returncode != 0 and "submarine login" in lost.stderr + lost.stdout
    assert "Traceback" not in lost.stderr
    hub = {"SUBMARINE_API_URL": fake_platform, "SUBMARINE_TOKEN": "client-test"}
    me = run(submarine, "whoami", **hub)
    assert me.returncode == 0 and me.stdout.startswith("alice"), me.stderr
    sdk = run(
        python,
        "-c",
        "import submarine_hub, sys\n"
        "from submarine_hub import SubmarineClient, log_metric, log_param, log_artifact\n"
        "import submarine_hub.client.magics  # IPython only when the magics load\n"
        "print(SubmarineClient().me()['name'])\n"
        "assert not {'jupyterhub', 'sqlalchemy', 'tornado'} & set(sys.modules)",
        **hub,
    )
    assert sdk.returncode == 0 and sdk.stdout.strip() == "alice", sdk.stderr
