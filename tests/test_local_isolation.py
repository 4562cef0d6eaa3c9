"""The local backend's isolation, through the real hub: a run, a session or an endpoint
never sees the hub's or service's secrets, and (as root) runs as its owner's system user."""

from __future__ import annotations

import json
import os
import pwd
import re
import stat
from pathlib import Path

import pytest

from submarine_hub.backends.local.isolation import Account, scrubbed_env, system_name

from .helpers.api import command, submit, wait
from .helpers.hub import Hub, python_is_shared

pytestmark = pytest.mark.hub
SECRET_VARS = (
    "JUPYTERHUB_API_TOKEN",
    "JPY_COOKIE_SECRET",
    "SUBMARINE_SPAWNER_TOKEN",
    "SUBMARINE_TEST_ADMIN_TOKEN",
    "SUBMARINE_DEMO_ADMIN_PASSWORD",
    "CONFIGPROXY_AUTH_TOKEN",
)


def run_output(hub: Hub, user: str, script: str, team: str = "data-science") -> str:
    run = submit(hub, user, command("probe", script, team=team))
    done = wait(hub, user, run["id"])
    log = hub.api("GET", f"experiments/{run['id']}/logs", user=user).text
    assert done["status"] == "succeeded", (done, log)
    return log


def test_a_run_and_its_supervisor_hold_none_of_the_services_secrets(hub: Hub) -> None:
    log = run_output(
        hub,
        "alice",
        "echo own: $(env | cut -d= -f1 | tr '\\n' ' '); "
        "echo parent: $( (tr '\\0' '\\n' < /proc/$PPID/environ) 2>&1 | cut -d= -f1 | tr '\\n' ' ')",
    )
    own = next(line for line in log.splitlines() if line.startswith("own: "))
    assert "SUBMARINE_TOKEN" in own and "SUBMARINE_RUN_ID" in own, own
    for name in SECRET_VARS:
        assert name not in log, log


def service_pid(hub: Hub) -> int:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "submarine_hub.service" in cmd and str(hub.data_dir) in cmd:
            return int(pid)
    raise AssertionError("the submarine service is not running")


def secret_files(hub: Hub) -> list[str]:
    """What no user's code may read: the hub's and service's databases, keys, tokens."""
    assert hub.proc is not None
    names = ("jupyterhub.sqlite", "submarine.sqlite", "jupyterhub_cookie_secret")
    return [
        *(str(hub.data_dir / n) for n in (*names, "submarine_crypt_key")),
        f"/proc/{hub.proc.pid}/environ",
        f"/proc/{service_pid(hub)}/environ",
    ]


PROBE = """
import json, os
out = {}
for path in json.loads(globals().get("PATHS") or os.environ["PROBE_PATHS"]):
    try:
        with open(path, "rb") as f:
            out[path] = "read %d bytes" % len(f.read())
    except OSError as e:
        out[path] = type(e).__name__
print("PROBE " + json.dumps(out))
"""


def probe_result(text: str) -> dict[str, str]:
    line = next(x for x in text.splitlines() if x.startswith("PROBE "))
    return json.loads(line[len("PROBE ") :])


def uid_of(hub: Hub, user: str) -> int:
    return pwd.getpwnam(system_name(hub.user_prefix, user)).pw_uid


isolated = pytest.mark.skipif(
    os.geteuid() != 0 or not python_is_shared(),
    reason="users are isolated only as root, with a Python other users can run",
)


@isolated
def test_a_session_runs_as_its_users_account_and_cannot_read_the_hubs_state(hub: Hub) -> None:
    hub.spawn("alice")
    state = hub.hub_api("GET", "users/alice").json()["servers"][""]["state"]
    status = Path(f"/proc/{state['pid']}/status").read_text()
    uid = uid_of(hub, "alice")
    assert f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}" in status, status
    home = hub.home("alice").stat()
    assert (home.st_uid, stat.S_IMODE(home.st_mode)) == (uid, 0o700)
    paths = secret_files(hub)
    out = hub.run_in_kernel("alice", f"PATHS = {json.dumps(json.dumps(paths))}\n{PROBE}")
    result = probe_result(out)
    assert result == {p: "PermissionError" for p in paths}, result


@isolated
def test_a_run_runs_as_its_owner_and_cannot_read_the_services_state(hub: Hub) -> None:
    paths = secret_files(hub)
    spec = command(
        "probe",
        'python -c "$PROBE"; id -u; cat "$SUBMARINE_CREDENTIALS_DIR"/* 2>&1 | head -c 0; '
        'echo own > "$SUBMARINE_ARTIFACTS_DIR/out.txt"; '
        'tr "\\0" "\\n" < /proc/$PPID/environ > /dev/null 2>&1 || echo parent: denied',
        env={"PROBE": PROBE, "PROBE_PATHS": json.dumps(paths)},
    )
    run = submit(hub, "alice", spec)
    done = wait(hub, "alice", run["id"])
    log = hub.api("GET", f"experiments/{run['id']}/logs", user="alice").text
    assert done["status"] == "succeeded", (done, log)
    assert probe_result(log) == {p: "PermissionError" for p in paths}, log
    lines = log.splitlines()
    assert str(uid_of(hub, "alice")) in lines and "parent: denied" in lines, log
    art = hub.api("GET", f"experiments/{run['id']}/artifacts?path=out.txt", user="alice")
    assert art.content == b"own\n"
    # the run's control file (its token, its credentials) is root's alone
    plan = hub.data_dir / "runs" / str(run["id"]) / "run.json"
    assert stat.S_IMODE(plan.stat().st_mode) == 0o600 and plan.stat().st_uid == 0


@isolated
def test_alices_run_cannot_read_bobs_home_and_only_teammates_share_the_team_folder(
    hub: Hub,
) -> None:
    # bob leaves a file in his home, even one readable by all
    assert run_output(hub, "bob", 'echo "bob\'s" > ~/notes.txt; chmod 644 ~/notes.txt; pwd')
    secret = hub.home("bob") / "notes.txt"
    assert secret.read_text() == "bob's\n"
    # alice (data-science) writes to her team's folder, reads bob's home
    log = run_output(
        hub,
        "alice",
        f"cat {secret} 2>/dev/null || echo home: denied; "
        'echo shared > "$SUBMARINE_TEAM_DIR/from-alice.txt" && echo team: wrote; '
        'stat -c %a "$SUBMARINE_TEAM_DIR"',
    )
    assert log.splitlines() == ["home: denied", "team: wrote", "2770"], log
    # bob, a teammate in data-science, reads and changes it
    log = run_output(
        hub,
        "bob",
        'f="$SUBMARINE_TEAM_DIR/from-alice.txt"; cat "$f" && echo more >> "$f" '
        "&& echo team: appended",
    )
    assert log.splitlines() == ["shared", "team: appended"], log
    # carol (ml-platform only) cannot reach data-science's folder
    team_dir = hub.base / "teams" / system_name(hub.team_prefix, "data-science")  # type: ignore[operator]
    log = run_output(
        hub,
        "carol",
        f"cat {team_dir}/from-alice.txt 2>/dev/null || echo team: denied; "
        f"ls {team_dir} 2>/dev/null || echo list: denied",
        team="ml-platform",
    )
    assert log.splitlines() == ["team: denied", "list: denied"], log


def test_system_names_are_safe_short_and_never_shared_by_two_hub_names() -> None:
    names = ["alice", "Alice", "al.ice", "al_ice", "al ice", "x" * 60, "x" * 61, "ünï", "-lead"]
    mapped = {n: system_name("jupyter-", n) for n in names}
    assert mapped["alice"] == "jupyter-alice"
    assert len(set(mapped.values())) == len(names), mapped
    for name in mapped.values():
        assert len(name) <= 32 and re.fullmatch(r"[a-z_][a-z0-9_-]*", name), name
    with pytest.raises(ValueError):
        system_name("p" * 30, "alice-with-a-long-name")


def test_the_scrubbed_environment_keeps_what_is_asked_and_never_the_secrets() -> None:
    source = {
        "PATH": "/usr/bin",
        "LC_ALL": "C.UTF-8",
        "HOME": "/root",
        "JUPYTERHUB_API_TOKEN": "hub-secret",
        "SUBMARINE_CRYPT_KEY": "key",
        "PIP_INDEX_URL": "https://index",
        "AWS_SECRET_ACCESS_KEY": "aws",
    }
    env = scrubbed_env(
        {"SUBMARINE_TOKEN": "run"},
        keep=("PIP_*", "JUPYTERHUB_*", "SUBMARINE_*"),
        path_prefix=["/venv/bin"],
        source=source,
    )
    assert env == {
        "PATH": "/venv/bin:/usr/bin",
        "LC_ALL": "C.UTF-8",
        "HOME": "/root",
        "PIP_INDEX_URL": "https://index",
        "SUBMARINE_TOKEN": "run",
    }
    account = Account("jupyter-alice", 1234, 1234, "/home/jupyter-alice", (999,))
    env = scrubbed_env(account=account, source=source)
    assert (env["HOME"], env["USER"]) == ("/home/jupyter-alice", "jupyter-alice")
    assert account.popen_kwargs() == {
        "user": 1234,
        "group": 1234,
        "extra_groups": [999],
        "umask": 0o007,
    }
