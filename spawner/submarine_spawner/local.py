"""``submarine-local``: sessions as local processes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Bool, default

from submarine_hub.backends.local.isolation import (
    Account,
    AccountError,
    SystemAccounts,
    replace_files,
)

from .grant import SessionGrant
from .mixin import SpawnRefused, SubmarineSpawnerMixin

CREDENTIALS_DIR = ".submarine/credentials"


class SubmarineLocalSpawner(SubmarineSpawnerMixin, SimpleLocalProcessSpawner):
    """Run each user's session as a local process with its own home folder.

    With ``isolate_users`` (the default when the hub runs as root) each hub user's
    session runs as that user's own system account, created on demand as JupyterHub's
    ``LocalProcessSpawner`` with ``create_system_users`` would (``jupyter-<name>``, its home
    ``0700`` under ``$SUBMARINE_HOMES_DIR``), with the session's team's system group as
    supplementary group and the team's folder on disk in ``$SUBMARINE_TEAM_DIR``; see
    :class:`submarine_hub.backends.local.isolation.SystemAccounts`. Without it, sessions run
    as the hub's own system user (users need no system account), each in
    ``home_dir_template``.

    The session uses its environment profile's virtual environment (``PATH``,
    ``VIRTUAL_ENV``, its kernel as the default kernel) and finds its credentials in its
    environment and in ``~/.submarine/credentials``.
    """

    isolate_users = Bool(
        help="""Run each user's session as their own system user (``jupyter-<name>``,
        created on demand), its team's folder shared through the team's system group.
        Needs root. Default: True when the hub runs as root, else False (every session
        then runs as the hub's user, with no isolation between users).

        Names and places come from the hub's environment, so that the platform service
        (which runs runs and endpoints as the same accounts) agrees:
        ``SUBMARINE_USER_PREFIX`` (``jupyter-``), ``SUBMARINE_TEAM_GROUP_PREFIX``
        (``submarine-team-``), ``SUBMARINE_HOMES_DIR`` (``/home``) and
        ``SUBMARINE_TEAMS_DIR`` (``/srv/submarine/teams``).""",
    ).tag(config=True)

    @default("isolate_users")
    def _default_isolate_users(self) -> bool:
        return os.geteuid() == 0

    account: Account | None = None

    @property
    def accounts(self) -> SystemAccounts:
        return SystemAccounts.from_env()

    @default("home_dir")
    def _default_home_dir(self) -> str:
        if self.isolate_users:
            return str(self.accounts.homes_root / self.accounts.user_name(self.user.name))
        return self.home_dir_template.format(username=self.user.name)

    @property
    def credentials_dir(self) -> Path:
        return Path(self.home_dir, CREDENTIALS_DIR)

    async def prepare_session(self, grant: SessionGrant) -> None:
        await super().prepare_session(grant)
        if self.isolate_users:
            accounts = self.accounts
            teams = [g.name for g in self.user.groups]
            try:
                self.account = await asyncio.to_thread(accounts.account, self.user.name, grant.team)
                await asyncio.to_thread(accounts.sync_teams, self.user.name, teams)
            except AccountError as e:
                raise SpawnRefused(f"Your system account could not be made ready: {e}", 503) from e
            self.home_dir = self.account.home
        files = [(f.path, f.content, f.mode) for f in grant.files]
        # as the user: a link in their home must not redirect the hub's writes
        await asyncio.to_thread(replace_files, self.account, self.credentials_dir, files)

    def make_preexec_fn(self, name: str) -> Callable[[], None]:
        if self.account is None:
            return super().make_preexec_fn(name)
        home = self.account.home
        return self.account.demote(then=lambda: os.chdir(home))

    def user_env(self, env: dict[str, Any]) -> dict[str, Any]:
        if self.account is None:
            return super().user_env(env)
        env.update(
            USER=self.account.name,
            LOGNAME=self.account.name,
            HOME=self.account.home,
            SHELL="/bin/bash",
        )
        return env

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
        if self.account is not None and grant is not None:
            env["SUBMARINE_TEAM_DIR"] = str(self.accounts.team_dir(grant.team))
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
        if os.geteuid() == 0 and not self.isolate_users and "--allow-root" not in args:
            args.append("--allow-root")
        return args

    async def stop(self, now: bool = False) -> None:
        await super().stop(now=now)
        account = self.account
        if account is None and self.isolate_users:  # the hub restarted since the start
            account = await asyncio.to_thread(self.accounts.account, self.user.name)
        await asyncio.to_thread(replace_files, account, self.credentials_dir, [])
