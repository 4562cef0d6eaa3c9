"""``pip install .`` builds the lab extension into the wheel, with everything wired up."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .helpers.repo import source_tree


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
    assert "submarine = submarine_hub.client.cli:main" in entry_points
