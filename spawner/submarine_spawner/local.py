"""``submarine-local``: sessions as local processes."""

from __future__ import annotations

import os

from jupyterhub.spawner import SimpleLocalProcessSpawner

from .mixin import SubmarineSpawnerMixin


class SubmarineLocalSpawner(SubmarineSpawnerMixin, SimpleLocalProcessSpawner):
    """Run each user's session as a local process with its own home folder.

    Processes run as the hub's own system user (users need no system account), each
    in ``home_dir_template``. When the hub runs as root, ``--allow-root`` is passed
    to the single-user server.
    """

    def get_args(self) -> list[str]:
        args = super().get_args()
        if os.geteuid() == 0 and "--allow-root" not in args:
            args.append("--allow-root")
        return args
