"""Who local processes run as, and what they inherit: the local backend's isolation.

Two things keep a user's code (sessions, runs, notebook jobs, endpoints) away from the
hub's and service's secrets and from other users:

- :func:`scrubbed_env`, the one environment every process the platform starts is
  built from: an allowlist of the service's variables (``PATH``, ``LANG``, ``LC_*``,
  ``TZ``...), never its hub token, cookie secret, keys or database URLs; the caller adds
  what the process needs (a run's token and ``SUBMARINE_*`` variables, credentials).
- :class:`SystemAccounts`: when the hub runs as root, each hub user maps to a system
  user of their own (``jupyter-<name>``, created on demand with a home folder that only
  they can open, as The Littlest JupyterHub does) and each team to a system group
  (``submarine-team-<name>``) owning the team's folder on disk (``2770``). An
  :class:`Account` says how to start a process as that user (``user``/``group``/
  ``extra_groups``/``umask`` of :class:`subprocess.Popen`, or a ``preexec_fn``).

Only the standard library is imported: the supervisor imports this module.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import grp
import hashlib
import json
import os
import pwd
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: The service's variables a process may inherit (exact names, or prefixes ending in ``*``).
BASE_ENV = ("PATH", "LANG", "LANGUAGE", "LC_*", "TZ", "TMPDIR")
#: What package installers additionally need (proxies, indexes, certificates).
BUILD_ENV = (
    "PIP_*",
    "UV_*",
    "CONDA_*",
    "MAMBA_*",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
)
#: Never passed on, whatever a caller's ``keep`` says: the hub's and service's secrets.
NEVER = (
    "JUPYTERHUB_API_TOKEN",
    "JPY_API_TOKEN",
    "JPY_COOKIE_SECRET",
    "JUPYTERHUB_CRYPT_KEY",
    "CONFIGPROXY_AUTH_TOKEN",
    "SUBMARINE_CRYPT_KEY",
    "SUBMARINE_DB_URL",
    "SUBMARINE_HUB_DB_URL",
    "SUBMARINE_SPAWNER_TOKEN",
)
#: The mode bits a user's processes create files with: nothing for others; the group
#: (a team folder's) gets read and write.
USER_UMASK = 0o007
NAME_MAX = 32  # Linux user and group names
_SAFE = re.compile(r"[^a-z0-9_-]")


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(name.startswith(p[:-1]) if p.endswith("*") else name == p for p in patterns)


def scrubbed_env(
    extra: Mapping[str, str] | None = None,
    *,
    keep: Iterable[str] = (),
    account: Account | None = None,
    path_prefix: Iterable[str] = (),
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a process the platform starts: :data:`BASE_ENV` (and ``keep``,
    names or ``PREFIX*`` patterns) taken from ``source`` (default: this process's), the
    home and names of ``account`` (else this process's ``HOME``, ``USER``...), folders
    ``path_prefix`` put before ``PATH``, then ``extra`` (the process's own variables).
    Names in :data:`NEVER` are taken from ``source`` under no circumstances."""
    source = os.environ if source is None else source
    patterns = (*BASE_ENV, *keep)
    env = {k: v for k, v in source.items() if _matches(k, patterns) and k not in NEVER}
    if account is not None:
        env.update(HOME=account.home, USER=account.name, LOGNAME=account.name, SHELL="/bin/bash")
    else:
        env.update({k: source[k] for k in ("HOME", "USER", "LOGNAME", "SHELL") if k in source})
    prefix = [p for p in path_prefix if p]
    if prefix:
        env["PATH"] = os.pathsep.join([*prefix, env.get("PATH", os.defpath)])
    env.setdefault("PATH", os.defpath)
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Account:
    """A system user a process runs as: its ids, supplementary groups and home."""

    name: str
    uid: int
    gid: int
    home: str
    groups: tuple[int, ...] = field(default_factory=tuple)

    def popen_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :class:`subprocess.Popen` starting a process as this user
        (ids dropped in the child before ``exec``; a ``preexec_fn`` then runs as the user)."""
        return {
            "user": self.uid,
            "group": self.gid,
            "extra_groups": list(self.groups),
            "umask": USER_UMASK,
        }

    def demote(self, then: Callable[[], None] | None = None) -> Callable[[], None]:
        """A ``preexec_fn`` that becomes this user (groups, then gid, then uid), sets the
        user's umask, then calls ``then`` (for APIs that take no ``user=``)."""

        def preexec() -> None:
            os.setgroups(list(self.groups))
            os.setgid(self.gid)
            os.setuid(self.uid)
            os.umask(USER_UMASK)
            if then is not None:
                then()

        return preexec

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Account:
        return cls(
            name=str(data["name"]),
            uid=int(data["uid"]),
            gid=int(data["gid"]),
            home=str(data["home"]),
            groups=tuple(int(g) for g in data.get("groups") or ()),
        )


def system_name(prefix: str, name: str) -> str:
    """``prefix`` + a system-safe form of the hub's ``name`` (user or team), at most 32
    characters. Names that had to change (case, characters, length) get a short hash of
    the original, so two hub names never map to one system name."""
    safe = _SAFE.sub("-", name.lower())
    full = prefix + safe
    if safe != name or len(full) > NAME_MAX or not re.match(r"[a-z_]", full):
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        room = NAME_MAX - len(prefix) - len(digest) - 1
        if room < 1:
            raise ValueError(f"the account prefix {prefix!r} is too long")
        full = f"{prefix}{safe[:room]}-{digest}"
        if not re.match(r"[a-z_]", full):
            full = "u" + full[1:]
    return full


class AccountError(RuntimeError):
    """A system account or group could not be created or used."""


class SystemAccounts:
    """Maps hub users to system users and teams to system groups, creating them on demand.

    ``user_prefix``/``team_prefix`` name them (``jupyter-alice``, ``submarine-team-nlp``);
    homes are made under ``homes_root`` (``0700``, owned by the user), team folders under
    ``teams_root`` (``2770``, owned by root and the team's group). Both roots are made
    ``0711``: users pass through them but cannot list them. Needs root.
    """

    def __init__(
        self,
        *,
        user_prefix: str = "jupyter-",
        team_prefix: str = "submarine-team-",
        homes_root: str = "/home",
        teams_root: str = "/srv/submarine/teams",
    ) -> None:
        self.user_prefix = user_prefix
        self.team_prefix = team_prefix
        self.homes_root = Path(homes_root)
        self.teams_root = Path(teams_root)
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SystemAccounts:
        """The accounts the hub's config describes (``SUBMARINE_USER_PREFIX``,
        ``SUBMARINE_TEAM_GROUP_PREFIX``, ``SUBMARINE_HOMES_DIR``, ``SUBMARINE_TEAMS_DIR``):
        the spawner (in the hub) and the service (its own process) read the same ones."""
        e = os.environ if environ is None else environ
        return cls(
            user_prefix=e.get("SUBMARINE_USER_PREFIX", "jupyter-"),
            team_prefix=e.get("SUBMARINE_TEAM_GROUP_PREFIX", "submarine-team-"),
            homes_root=e.get("SUBMARINE_HOMES_DIR", "/home"),
            teams_root=e.get("SUBMARINE_TEAMS_DIR", "/srv/submarine/teams"),
        )

    def user_name(self, user: str) -> str:
        return system_name(self.user_prefix, user)

    def group_name(self, team: str) -> str:
        return system_name(self.team_prefix, team)

    def team_dir(self, team: str) -> Path:
        return self.teams_root / self.group_name(team)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One creator at a time, across the hub and the service."""
        _passable_dir(self.homes_root)
        with self._lock, open(self.homes_root / ".submarine-accounts.lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield

    def account(self, user: str, team: str | None = None) -> Account:
        """``user``'s account (created with its home if missing), with ``team``'s group
        (created, the user made a member, its folder made) as supplementary group."""
        name = self.user_name(user)
        with self._locked():
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                home = self.homes_root / name
                cmd = ["useradd", "--system", "--user-group", "--no-create-home"]
                _run([*cmd, "--home-dir", str(home), "--shell", "/bin/bash", name])
                entry = pwd.getpwnam(name)
            if entry.pw_uid == 0 or entry.pw_gid == 0:
                raise AccountError(f"{user!r} maps to {name!r}, a privileged account")
            _private_dir(Path(entry.pw_dir), entry.pw_uid, entry.pw_gid, 0o700, parents=0o711)
            groups: tuple[int, ...] = ()
            if team is not None:
                gid = self._team_group(team)
                if name not in grp.getgrgid(gid).gr_mem:
                    _run(["gpasswd", "--add", name, self.group_name(team)])
                groups = (gid,)
        return Account(name, entry.pw_uid, entry.pw_gid, entry.pw_dir, groups)

    def _team_group(self, team: str) -> int:
        group = self.group_name(team)
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            _run(["groupadd", "--system", group])
            gid = grp.getgrnam(group).gr_gid
        folder = self.team_dir(team)
        _private_dir(folder, 0, gid, 0o2770, parents=0o711)
        return gid

    def sync_teams(self, user: str, teams: Iterable[str]) -> None:
        """Make ``user`` a member of exactly ``teams``' groups among the team groups."""
        name = self.user_name(user)
        wanted = {self.group_name(t) for t in teams}
        with self._locked():
            for team in teams:
                self._team_group(team)
            for g in grp.getgrall():
                if not g.gr_name.startswith(self.team_prefix):
                    continue
                if g.gr_name in wanted and name not in g.gr_mem:
                    _run(["gpasswd", "--add", name, g.gr_name])
                elif g.gr_name not in wanted and name in g.gr_mem:
                    _run(["gpasswd", "--delete", name, g.gr_name])

    def remove_all(self) -> None:
        """Delete every account and group with these prefixes (tests' teardown)."""
        for entry in pwd.getpwall():
            if entry.pw_name.startswith(self.user_prefix) and entry.pw_uid != 0:
                subprocess.run(["userdel", entry.pw_name], capture_output=True)
        for g in grp.getgrall():
            if g.gr_name.startswith((self.team_prefix, self.user_prefix)) and g.gr_gid != 0:
                subprocess.run(["groupdel", g.gr_name], capture_output=True)


def _run(cmd: list[str]) -> None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=scrubbed_env(), timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise AccountError(f"{cmd[0]} failed: {e}") from e
    if out.returncode != 0:
        raise AccountError(f"{' '.join(cmd)} failed: {(out.stderr or out.stdout).strip()}")


def _passable_dir(path: Path, mode: int = 0o711) -> None:
    """Make ``path`` (and missing parents) with ``mode`` whatever the umask."""
    if not path.exists():
        _passable_dir(path.parent, mode)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)
            os.chmod(path, mode)


def _private_dir(path: Path, uid: int, gid: int, mode: int, *, parents: int) -> None:
    """``path`` as a folder of ``uid:gid`` with ``mode``; missing parents made ``parents``
    (traversable, not listable). Never follows a symbolic link at ``path``."""
    _passable_dir(path.parent, parents)
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        pass
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        st = os.fstat(fd)
        if (st.st_uid, st.st_gid) != (uid, gid):
            os.fchown(fd, uid, gid)
        if st.st_mode & 0o7777 != mode:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)


# --- files in a user's folders, written as that user ------------------------------------

_WRITE_FILES = r"""
import base64, json, os, shutil, sys
job = json.load(sys.stdin)
folder = job["folder"]
shutil.rmtree(folder, ignore_errors=True)
for f in job["files"]:
    target = os.path.join(folder, f["path"])
    os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, f["mode"])
    with os.fdopen(fd, "wb") as out:
        out.write(base64.b64decode(f["content"]))
"""


def replace_files(
    account: Account | None, folder: Path, files: Iterable[tuple[str, bytes, int]]
) -> None:
    """Replace ``folder`` by one holding ``files`` (relative path, content, mode), written
    as ``account`` (so a link the user placed cannot send root's writes elsewhere); no
    files: the folder is removed. Without ``account``, as this process."""
    items = [{"path": p, "content": base64.b64encode(c).decode(), "mode": m} for p, c, m in files]
    job = json.dumps({"folder": str(folder), "files": items})
    kwargs = account.popen_kwargs() if account is not None else {}
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _WRITE_FILES],
        input=job.encode(),
        capture_output=True,
        env=scrubbed_env(account=account),
        timeout=60,
        **kwargs,
    )
    if out.returncode != 0:
        raise AccountError(f"writing {folder} failed: {out.stderr.decode(errors='replace')[-500:]}")


def owned_by(path: Path, account: Account | None, mode: int) -> None:
    """Give ``path`` (a folder or file the platform just made) to ``account``, ``mode``."""
    if account is not None:
        os.chown(path, account.uid, account.gid, follow_symlinks=False)
    os.chmod(path, mode)
