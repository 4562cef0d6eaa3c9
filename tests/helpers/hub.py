"""A real JupyterHub (proxy, ``submarine`` service, local spawner) for the integration tests."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "submarine-demo-test"
DEMO_ADMIN_PASSWORD = "submarine-demo-admin-test-password-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def python_is_shared() -> bool:
    """Whether other users can run this Python (every folder above it passable by others:
    a Python under /root needs ``chmod o+x /root``); users are isolated only then."""
    path = Path(os.path.realpath(sys.executable))
    return all(p.stat().st_mode & 0o001 for p in path.parents) and bool(path.stat().st_mode & 1)


@dataclass
class Hub:
    data_dir: Path
    url: str = ""
    service_url: str = ""
    admin_token: str = field(default_factory=lambda: secrets.token_hex(16))
    spawner_token: str = field(default_factory=lambda: secrets.token_hex(16))
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)
    _spawned: set[str] = field(default_factory=set)
    #: As root the hub isolates users: it then lives in a folder of its own that users can
    #: pass through (pytest's are 0700, and reset so by every pytest start), its users and
    #: teams are system accounts with a prefix of its own, removed when it stops.
    isolated: bool = field(default_factory=lambda: os.geteuid() == 0 and python_is_shared())
    base: Path | None = None
    user_prefix: str = field(default_factory=lambda: f"su{secrets.token_hex(3)}-")

    def __post_init__(self) -> None:
        if self.isolated:
            self.base = Path(tempfile.mkdtemp(prefix="submarine-hub-"))
            self.base.chmod(0o711)
            self.data_dir = self.base / "data"

    @property
    def team_prefix(self) -> str:
        return "sg" + self.user_prefix[2:]

    def home(self, user: str) -> Path:
        """``user``'s home folder (their session's working folder)."""
        if self.isolated:
            from submarine_hub.backends.local.isolation import system_name

            assert self.base is not None
            return self.base / "home" / system_name(self.user_prefix, user)
        return self.data_dir / "home" / user

    def scratch(self, name: str) -> Path:
        """A new folder every user can read (pytest's own tmp folders are root's alone),
        for files a run fetches itself, such as a git repository."""
        root = self.base if self.base is not None else self.data_dir
        folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
        folder.chmod(0o755)
        return folder

    def give_to(self, user: str, path: Path) -> None:
        """Make ``path`` (recursively) ``user``'s own, as files they made would be (git, for
        one, refuses a repository of another user); nothing when users are not isolated."""
        if not self.isolated:
            return
        from submarine_hub.backends.local.isolation import SystemAccounts

        env = self.accounts_env()
        account = SystemAccounts.from_env(env).account(user)
        subprocess.run(["chown", "-R", f"{account.uid}:{account.gid}", str(path)], check=True)

    def accounts_env(self) -> dict[str, str]:
        if not self.isolated:
            return {"SUBMARINE_ISOLATE_USERS": "0"}
        assert self.base is not None
        return {
            "SUBMARINE_ISOLATE_USERS": "1",
            "SUBMARINE_USER_PREFIX": self.user_prefix,
            "SUBMARINE_TEAM_GROUP_PREFIX": self.team_prefix,
            "SUBMARINE_HOMES_DIR": str(self.base / "home"),
            "SUBMARINE_TEAMS_DIR": str(self.base / "teams"),
        }

    # --- lifecycle --------------------------------------------------------------------
    def start(self, timeout: float = 180) -> None:
        ports = [free_port() for _ in range(4)]
        self.url = f"http://127.0.0.1:{ports[0]}"
        self.service_url = f"http://127.0.0.1:{ports[3]}"
        env = dict(os.environ)
        env.update(
            SUBMARINE_DATA_DIR=str(self.data_dir),
            SUBMARINE_BIND_URL=self.url,
            SUBMARINE_HUB_BIND_URL=f"http://127.0.0.1:{ports[1]}",
            SUBMARINE_PROXY_API_URL=f"http://127.0.0.1:{ports[2]}",
            SUBMARINE_SERVICE_URL=self.service_url,
            SUBMARINE_LOG_STYLE="text",
            SUBMARINE_DEMO_PASSWORD=DEMO_PASSWORD,
            SUBMARINE_DEMO_ADMIN_PASSWORD=DEMO_ADMIN_PASSWORD,
            SUBMARINE_TEST_ADMIN_TOKEN=self.admin_token,
            SUBMARINE_SPAWNER_TOKEN=self.spawner_token,
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            # interactive runs beat every 3 s (ended after 12 s of silence), not every 30
            SUBMARINE_TRACKING_HEARTBEAT=os.environ.get("SUBMARINE_TRACKING_HEARTBEAT", "3"),
        )
        for var in ("SUBMARINE_API_URL", "SUBMARINE_TOKEN", "JUPYTERHUB_API_TOKEN"):
            env.pop(var, None)
        env.update(self.accounts_env())
        env.update(self.extra_env)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / "hub.log"
        self.log_path.touch(mode=0o600)
        jupyterhub = shutil.which("jupyterhub", path=env["PATH"])
        assert jupyterhub, "jupyterhub is not installed"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [jupyterhub, "-f", str(REPO / "tests" / "jupyterhub_test_config.py")],
                cwd=self.data_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterHub exited early:\n{self.log_tail()}")
            try:
                if requests.get(self.api_url("health"), timeout=10).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # up, but busy
                pass
            time.sleep(0.3)
        raise RuntimeError(f"JupyterHub did not come up in {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # the local backend's Spark cluster outlives the service (as runs do): not the tests
        from submarine_hub.backends.local.spark_cluster import SparkCluster

        SparkCluster(self.data_dir / "runs" / ".spark").stop()

    def cleanup(self) -> None:
        """Remove what an isolated hub made outside its data folder: its system users and
        groups, and its folder (after :meth:`stop`; runs' and endpoints' processes, which
        outlive the hub, are ended first)."""
        if not self.isolated or self.base is None:
            return
        from submarine_hub.backends.local.isolation import SystemAccounts

        accounts = SystemAccounts(user_prefix=self.user_prefix, team_prefix=self.team_prefix)
        for entry in __import__("pwd").getpwall():
            if entry.pw_name.startswith(self.user_prefix):
                subprocess.run(["pkill", "-KILL", "-u", str(entry.pw_uid)], check=False)
        accounts.remove_all()
        shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # --- URLs and calls ----------------------------------------------------------------
    def api_url(self, path: str = "") -> str:
        return f"{self.url}/services/submarine/api/v1/{path.lstrip('/')}"

    def hub_api(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = kw.pop("headers", {})
        headers.setdefault("Authorization", f"token {self.admin_token}")
        return requests.request(
            method, f"{self.url}/hub/api/{path.lstrip('/')}", headers=headers, timeout=30, **kw
        )

    def token_for(self, user: str, scopes: list[str] | None = None) -> str:
        """An API token of ``user`` (same permissions as the user unless ``scopes``)."""
        key = f"{user}:{scopes}"
        if key not in self._tokens:
            body: dict[str, Any] = {"note": "test"}
            if scopes is not None:
                body["scopes"] = scopes
            r = self.hub_api("POST", f"users/{user}/tokens", json=body)
            if r.status_code == 404:  # user not created yet
                self.hub_api("POST", f"users/{user}").raise_for_status()
                r = self.hub_api("POST", f"users/{user}/tokens", json=body)
            r.raise_for_status()
            self._tokens[key] = r.json()["token"]
        return self._tokens[key]

    def api(self, method: str, path: str, user: str | None = None, **kw: Any) -> requests.Response:
        """Call the platform API through the proxy as ``user`` (None: unauthenticated)."""
        headers = kw.pop("headers", {})
        if user is not None:
            headers["Authorization"] = f"token {self.token_for(user)}"
        return requests.request(method, self.api_url(path), headers=headers, timeout=30, **kw)

    def spawn(
        self, user: str, options: dict[str, Any] | None = None, timeout: float = 300
    ) -> dict[str, Any]:
        """Start ``user``'s default server once per hub; return the user model.

        ``options`` are the spawn form's choices (team, environment).
        """
        if user not in self._spawned:
            self.token_for(user)  # creates the user
            # an empty body would make the hub reuse the last spawn's options
            r = self.hub_api("POST", f"users/{user}/server", json=options or {"environment": ""})
            assert r.status_code in (201, 202, 400), r.text  # 400: already running
            self.wait_ready(user, timeout)
            self._spawned.add(user)
        return self.hub_api("GET", f"users/{user}").json()

    def wait_ready(self, user: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.hub_api("GET", f"users/{user}").json()
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                return
            if not server:
                raise RuntimeError(
                    f"{user}'s server failed to start: {self.spawn_failure(user)}\n"
                    f"{self.log_tail()}"
                )
            time.sleep(0.5)
        raise RuntimeError(f"{user}'s server did not start:\n{self.log_tail()}")

    def spawn_failure(self, user: str) -> str:
        """The message of the last spawn's failure, as the spawn page shows it."""
        r = self.hub_api("GET", f"users/{user}/server/progress", stream=True)
        message = ""
        for line in r.iter_lines(decode_unicode=True):
            if line and line.startswith("data:"):
                import json

                event = json.loads(line[5:])
                message = event.get("message", message)
                if event.get("failed") or event.get("ready"):
                    break
        r.close()
        return message

    def stop_server(self, user: str) -> None:
        r = self.hub_api("DELETE", f"users/{user}/server")
        assert r.status_code in (202, 204, 400), r.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not self.hub_api("GET", f"users/{user}").json().get("servers"):
                break
            time.sleep(0.3)
        self._spawned.discard(user)

    def platform(self, method: str, path: str, token: str, **kw: Any) -> requests.Response:
        """Call the platform API with a raw token (for the spawner's token)."""
        headers = {"Authorization": f"token {token}", **kw.pop("headers", {})}
        return requests.request(method, self.api_url(path), headers=headers, timeout=60, **kw)

    def user_url(self, user: str, path: str = "") -> str:
        return f"{self.url}/user/{user}/{path.lstrip('/')}"

    def run_in_kernel(self, user: str, code: str, timeout: float = 60, rich: bool = False) -> str:
        """Run ``code`` in a new kernel of ``user``'s server; return its output (with
        ``rich``, also the HTML of displays and their updates, one per line)."""
        self.spawn(user)
        headers = {"Authorization": f"token {self.token_for(user)}"}
        r = requests.post(self.user_url(user, "api/kernels"), headers=headers, json={}, timeout=30)
        r.raise_for_status()
        kernel_id = r.json()["id"]
        try:
            return _execute(
                self.user_url(user, f"api/kernels/{kernel_id}/channels").replace("http", "ws", 1),
                headers,
                code,
                timeout,
                rich,
            )
        finally:
            requests.delete(
                self.user_url(user, f"api/kernels/{kernel_id}"), headers=headers, timeout=30
            )

    def login(self, user: str, password: str = DEMO_PASSWORD) -> requests.Session:
        """Log in through the hub's login form, like a person would."""
        s = requests.Session()
        r = s.get(f"{self.url}/hub/login", timeout=30)
        r.raise_for_status()
        xsrf = s.cookies.get("_xsrf")
        r = s.post(
            f"{self.url}/hub/login",
            data={"username": user, "password": password, "_xsrf": xsrf},
            allow_redirects=False,
            timeout=30,
        )
        assert r.status_code == 302, f"login failed for {user}: {r.status_code}"
        return s


def _execute(
    ws_url: str,
    headers: dict[str, str],
    code: str,
    timeout: float,
    rich: bool = False,
    errors: list[str] | None = None,
) -> str:
    """Send one execute_request over the kernel websocket and gather its output (with
    ``errors``, each error's traceback is also appended there)."""
    import json
    import uuid

    import websocket

    ws = websocket.create_connection(ws_url, header=headers, timeout=timeout)
    msg_id = uuid.uuid4().hex
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "session": uuid.uuid4().hex,
                    "username": "test",
                    "version": "5.3",
                    "date": "",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "buffers": [],
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": False,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
            }
        )
    )
    out: list[str] = []
    replied = idle = False
    deadline = time.monotonic() + timeout
    try:
        while not (replied and idle) and time.monotonic() < deadline:
            msg = json.loads(ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                out.append("\n".join(msg["content"]["traceback"]))
                if errors is not None:
                    errors.append(out[-1])
            elif rich and kind in ("display_data", "update_display_data", "execute_result"):
                data = msg["content"]["data"]
                out.append(
                    f"[{kind}] " + (data.get("text/html") or data.get("text/plain", "")) + "\n"
                )
            elif kind == "execute_reply":
                replied = True
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
    finally:
        ws.close()
    if not (replied and idle):
        raise TimeoutError(f"kernel did not finish in {timeout} s; output so far: {out}")
    return "".join(out)


def service_pid(hub: Hub, *, required: bool = True) -> int | None:
    """The process id of ``hub``'s submarine service (not of its supervisor); when it runs
    none, an error, or None if not ``required`` (it is restarting, say)."""
    import psutil

    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or ())
        if (
            "submarine_hub.service" in cmd
            and "supervisor" not in cmd  # the process that restarts it
            and str(hub.data_dir) in cmd
        ):
            return proc.pid
    if not required:
        return None
    raise AssertionError("the submarine service is not running")


def service_up(hub: Hub) -> bool:
    """Whether ``hub``'s submarine service answers its health check now."""
    try:
        return hub.api("GET", "health").status_code == 200
    except requests.RequestException:
        return False
