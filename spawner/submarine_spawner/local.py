"""``submarine-local``: sessions as local processes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from jupyterhub.spawner import SimpleLocalProcessSpawner

from .grant import SessionGrant
from .mixin import SubmarineSpawnerMixin

CREDENTIALS_DIR = ".submarine/credentials"


class SubmarineLocalSpawner(SubmarineSpawnerMixin, SimpleLocalProcessSpawner):
    """Run each user's session as a local process with its own home folder.

    Processes run as the hub's own system user (users need no system account), each
    in ``home_dir_template``. The session uses its environment profile's virtual
    environment (``PATH``, ``VIRTUAL_ENV``, its kernel as the default kernel) and finds
    its credentials in its environment and in ``~/.submarine/credentials``. When the
    hub runs as root, ``--allow-root`` is passed to the single-user server.
    """

    @property
    def credentials_dir(self) -> Path:
        return Path(self.home_dir, CREDENTIALS_DIR)

    def apply_grant(self, grant: SessionGrant) -> None:
        super().apply_grant(grant)
        folder = self.credentials_dir
        shutil.rmtree(folder, ignore_errors=True)
        if grant.files:
            folder.mkdir(parents=True, mode=0o700, exist_ok=True)
            for f in grant.files:
                target = folder / f.path
                target.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, f.mode)
                with os.fdopen(fd, "wb") as out:
                    out.write(f.content)

    def get_env(self) -> dict[str, Any]:
        env = super().get_env()
        grant = self.grant
        if grant is not None and grant.files:
            env["SUBMARINE_CREDENTIALS_DIR"] = str(self.credentials_dir)
        # the session's own python (and 'submarine' beside it) come first, even when the
        # hub was started without its environment activated
        python = self.cmd[0] if self.cmd else ""
        if os.path.isabs(python):
            here = os.path.dirname(python)
            path = env.get("PATH", "")
            if here not in path.split(os.pathsep):
                env["PATH"] = os.pathsep.join(p for p in (here, path) if p)
        environment = grant.environment if grant else None
        if environment and environment.prefix:
            env["VIRTUAL_ENV"] = environment.prefix
            env["PATH"] = os.pathsep.join([f"{environment.prefix}/bin", env.get("PATH", "")])
            jupyter_path = [f"{environment.prefix}/share/jupyter", env.get("JUPYTER_PATH", "")]
            env["JUPYTER_PATH"] = os.pathsep.join(p for p in jupyter_path if p)
        return env

    def get_args(self) -> list[str]:
        args = super().get_args()
        environment = self.grant.environment if self.grant else None
        if environment and environment.kernel_name:
            args.append(f"--MultiKernelManager.default_kernel_name={environment.kernel_name}")
        if os.geteuid() == 0 and "--allow-root" not in args:
            args.append("--allow-root")
        return args

    async def stop(self, now: bool = False) -> None:
        await super().stop(now=now)
        shutil.rmtree(self.credentials_dir, ignore_errors=True)
