"""A Jupyter server in a subprocess, started the way a user without a hub starts one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from .hub import free_port

#: What would tie the server to a hub or a platform.
HUB_ENV = ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL", "SUBMARINE_API_URL", "SUBMARINE_TOKEN")


def start_jupyter(
    home: Path,
    *args: str,
    app: str = "server",
    python: str = sys.executable,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[subprocess.Popen[bytes], str, str]:
    """Start ``jupyter <app>`` as a user without a hub would (no hub or platform in the
    environment, ``python``'s bin first on PATH, HOME at ``home``); return the process,
    its URL (with the base URL) and its token. ``env`` adds variables."""
    port = free_port()
    token = os.urandom(16).hex()
    home.mkdir(parents=True, exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if k not in HUB_ENV}
    environ.pop("JUPYTER_CONFIG_DIR", None)
    environ.pop("JUPYTER_DATA_DIR", None)
    environ.update(
        HOME=str(home),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        PATH=f"{Path(python).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # as activated
    )
    environ.update(env or {})
    cmd = [
        str(Path(python).parent / "jupyter"),
        app,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={home}",
        *args,
    ]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(home / "jupyter.log", "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=home, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = next((a.split("=", 1)[1] for a in args if a.startswith("--ServerApp.base_url=")), "/")
    root = f"http://127.0.0.1:{port}{base}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter {app} exited:\n{(home / 'jupyter.log').read_text()}")
        try:
            r = requests.get(f"{root}api/status", params={"token": token}, timeout=2)
            if r.status_code == 200:
                return proc, root, token
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    stop_jupyter(proc)
    raise RuntimeError(f"jupyter {app} did not start:\n{(home / 'jupyter.log').read_text()}")


def stop_jupyter(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
