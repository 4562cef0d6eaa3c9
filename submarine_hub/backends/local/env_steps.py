"""The steps of an environment build: a virtual environment or a conda prefix, pip in
it, and its IPython kernel.

Contracts:

- A virtual environment with ``system_site_packages`` (the default) sees the base
  environment's packages (ipykernel, the platform's SDK) under the profile's own, which
  take precedence. When the base Python is itself a virtual environment (the usual case:
  the platform runs from one), ``python -m venv --system-site-packages`` would only
  expose the *underlying* interpreter's packages, so a ``.pth`` file adds the base
  virtual environment's site-packages after the profile's own.
- A conda spec needs one of :data:`CONDA_TOOLS` on ``PATH``, and its environment must
  hold a Python.
- The kernel is registered in the prefix (``share/jupyter/kernels/<name>/``), its
  ``argv`` runs the environment's own Python, and its metadata names the spec's hash.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

from .env_runner import CommandRunner, StepFailed
from .env_spec import EnvironmentSpec, interpreter

#: Conda front-ends tried in this order when a spec has conda text.
CONDA_TOOLS = ("micromamba", "mamba", "conda")
_PTH_NAME = "_submarine_base_env.pth"


async def create_venv(spec: EnvironmentSpec, prefix: Path, run: CommandRunner) -> str:
    """``python -m venv``; returns the env's python."""
    base = await asyncio.to_thread(interpreter, _abspath(spec.python))
    cmd = [spec.python, "-m", "venv"]
    if spec.system_site_packages:
        # pip comes from the base environment; ensurepip would take seconds.
        cmd += ["--system-site-packages", "--without-pip"]
    await run.check([*cmd, str(prefix)], "Creating the virtual environment failed")
    env_python = str(prefix / "bin" / "python")
    if not await asyncio.to_thread(os.path.exists, env_python):
        raise StepFailed(f"Creating the virtual environment did not produce {env_python}.")
    if spec.system_site_packages and base.is_venv and base.own_site_packages():
        # venv only exposes the underlying interpreter's packages: add the base venv's,
        # after the profile's own site-packages so the profile's packages win.
        purelib = await run.capture(
            [env_python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        )
        pth = Path(purelib.strip()) / _PTH_NAME
        pth.write_text(
            "".join(f"import site; site.addsitedir({d!r})\n" for d in base.own_site_packages())
        )
        run.note(f"base environment {base.prefix} made visible through {pth}")
    return env_python


async def create_conda(
    spec: EnvironmentSpec, prefix: Path, env_file: Path, run: CommandRunner
) -> str:
    """``<tool> env create -p <prefix> -f <file>``; returns the env's python."""
    tool = next((path for t in CONDA_TOOLS if (path := shutil.which(t))), None)
    if tool is None:
        raise StepFailed(
            "conda specs need conda, mamba or micromamba on PATH on the local backend; "
            "use packages instead"
        )
    await asyncio.to_thread(env_file.write_text, spec.conda)
    await run.check(
        [tool, "env", "create", "-p", str(prefix), "-f", str(env_file)],
        "Creating the conda environment failed",
    )
    env_python = str(prefix / "bin" / "python")
    if not await asyncio.to_thread(os.path.exists, env_python):
        raise StepFailed("The conda environment has no Python; add 'python' to its dependencies.")
    return env_python


async def pip_command(spec: EnvironmentSpec, env_python: str, run: CommandRunner) -> list[str]:
    """The command that runs pip for ``env_python``, installing pip only if needed."""
    if await run.succeeds([env_python, "-c", "import pip"]):
        return [env_python, "-m", "pip"]
    base = _abspath(spec.python)
    probe = "import pip, sys; sys.exit(tuple(map(int, pip.__version__.split('.')[:2])) < (22, 3))"
    if await run.succeeds([base, "-c", probe]):
        return [base, "-m", "pip", "--python", env_python]
    await run.check(
        [env_python, "-m", "ensurepip", "--default-pip"], "Installing pip into the env failed"
    )
    return [env_python, "-m", "pip"]


async def register_kernel(
    spec: EnvironmentSpec,
    env_python: str,
    *,
    spec_hash: str,
    prefix: Path,
    kernel_name: str,
    display_name: str,
    pip: list[str] | None,
    pip_args: tuple[str, ...],
    run: CommandRunner,
) -> None:
    """Register the environment's kernel as ``kernel_name`` (installing ipykernel first
    if it cannot be imported there)."""
    if not await run.succeeds([env_python, "-c", "import ipykernel"]):
        run.note("ipykernel is not importable in the environment: installing it")
        pip = pip or await pip_command(spec, env_python, run)
        await run.check(
            [*pip, "install", "--disable-pip-version-check", *pip_args, "ipykernel"],
            "Installing ipykernel failed",
        )
    await run.check(
        [
            env_python,
            "-m",
            "ipykernel",
            "install",
            "--prefix",
            str(prefix),
            "--name",
            kernel_name,
            "--display-name",
            f"Python ({display_name})",
        ],
        "Registering the kernel failed",
    )
    kernel_json = kernel_json_path(prefix, kernel_name)
    try:
        data = json.loads(kernel_json.read_text())
    except (OSError, ValueError) as e:
        raise StepFailed(f"Registering the kernel failed: cannot read {kernel_json}: {e}") from e
    argv = list(data.get("argv") or [])
    if not argv or argv[0] != env_python:
        data["argv"] = [env_python, *argv[1:]] if argv else [
            env_python, "-m", "ipykernel_launcher", "-f", "{connection_file}"
        ]  # fmt: skip
    data.setdefault("metadata", {})["submarine"] = {"spec_hash": spec_hash}
    kernel_json.write_text(json.dumps(data, indent=1))
    run.note(f"kernel {kernel_name}: {kernel_json}")


def kernel_json_path(prefix: Path, kernel_name: str) -> Path:
    """Where the kernelspec of the environment at ``prefix`` is registered."""
    return prefix / "share" / "jupyter" / "kernels" / kernel_name / "kernel.json"


def _abspath(path: str) -> str:
    return os.path.abspath(path)
