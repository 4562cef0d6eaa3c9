"""Standalone mode: the platform API inside a plain Jupyter server, for one user, no hub.

One ``jupyter server`` (a subprocess, its own HOME, a base URL) serves the whole module.
"""

from __future__ import annotations

import re
import shutil
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_spec_validator import validate
from traitlets import TraitError
from traitlets.config import Config

from submarine_hub.server import extension as extension_module
from submarine_hub.server.extension import SubmarineServerExtension

from .helpers.api import assert_json_error
from .helpers.browser import CHROMIUM, CHROMIUM_ARGS, IMAGES
from .helpers.hub import Hub, _execute
from .helpers.jupyter import HUB_ENV, start_jupyter, stop_jupyter

pytestmark = pytest.mark.local  # a jupyter server in a subprocess

BASE_URL = "/prefix/"
USER = "ada"
TEAM = "analytical-engines"
MAX_BODY = 4096


@dataclass
class Server:
    root: str  # http://127.0.0.1:PORT/prefix/
    token: str
    home: Path
    log: Path

    def url(self, path: str) -> str:
        return f"{self.root}submarine/api/v1/{path.lstrip('/')}"

    def api(
        self, method: str, path: str, *, token: str | None = "", **kw: Any
    ) -> requests.Response:
        """Call the standalone API; ``token=""`` sends the server's token, None none."""
        headers = kw.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"token {token or self.token}"
        return requests.request(method, self.url(path), headers=headers, timeout=30, **kw)

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("standalone-home")
    proc, root, token = start_jupyter(
        home,
        f"--ServerApp.base_url={BASE_URL}",
        f"--SubmarineServerExtension.user={USER}",
        f"--SubmarineServerExtension.team={TEAM}",
        f"--SubmarineService.max_body_size={MAX_BODY}",
    )
    try:
        yield Server(root=root, token=token, home=home, log=home / "jupyter.log")
    finally:
        stop_jupyter(proc)


# --- the API with the server's token ----------------------------------------------------


def test_health_and_openapi_answer_without_a_token(server: Server) -> None:
    r = server.api("GET", "health", token=None)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok"
    spec = server.api("GET", "openapi.json", token=None).json()
    validate(spec)
    assert spec["servers"] == [{"url": f"{BASE_URL}submarine/api/v1"}]


def test_me_is_the_standalone_user_admin_of_one_team(server: Server) -> None:
    r = server.api("GET", "me")
    assert r.status_code == 200, r.text
    me = r.json()
    assert (me["name"], me["kind"], me["admin"]) == (USER, "user", True)
    assert [t["name"] for t in me["teams"]] == [TEAM]
    teams = server.api("GET", "teams").json()["items"]
    assert [(t["name"], t["members"]) for t in teams] == [(TEAM, [USER])]


@pytest.mark.parametrize("token", [None, "not-the-token"], ids=["no-token", "wrong-token"])
def test_requests_without_the_servers_token_are_refused(server: Server, token: str | None) -> None:
    for method, path in [("GET", "me"), ("GET", "teams"), ("GET", "metrics")]:
        assert_json_error(server.api(method, path, token=token), 401, "Jupyter server's token")


def test_writes_with_a_wrong_token_are_refused(server: Server) -> None:
    r = server.api(
        "PATCH", f"teams/{TEAM}", token="not-the-token", json={"description": "hijacked"}
    )
    assert r.status_code in (401, 403), r.text
    assert server.api("GET", f"teams/{TEAM}").json()["description"] != "hijacked"


def test_a_foreign_host_header_is_refused(server: Server) -> None:
    """jupyter-server's DNS-rebinding protection applies to the platform API too."""
    r = server.api("GET", "me", headers={"Host": "attacker.example:80"})
    assert_json_error(r, 403, "allow_remote_access")


def test_a_run_token_passes_the_host_and_origin_checks_too(server: Server) -> None:
    spec = {"meta": {"name": "holder"}, "task": {"command": 'echo "T=$SUBMARINE_TOKEN"; sleep 300'}}
    r = server.api("POST", "experiments", json=spec)
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    try:
        token, deadline = "", time.monotonic() + 60
        while not token and time.monotonic() < deadline:
            found = re.search(r"T=(smr_\S+)", server.api("GET", f"experiments/{run_id}/logs").text)
            token = found.group(1) if found else ""
            time.sleep(0.3)
        assert token, "the run did not print its token"
        assert server.api("GET", "me", token=token).json()["name"] == USER
        r = server.api("GET", "me", token=token, headers={"Host": "attacker.example:80"})
        assert_json_error(r, 403, "allow_remote_access")
        evil = {"Origin": "http://attacker.example", "Connection": "close"}
        assert_json_error(server.api("GET", "me", token=token, headers=evil), 403, "Cross-origin")
        r = server.api("POST", f"experiments/{run_id}/metrics", token=token, headers=evil,
                       json={"metrics": [{"key": "x", "value": 1}]})  # fmt: skip
        assert r.status_code == 403, r.text
    finally:
        server.api("POST", f"experiments/{run_id}/kill")


def test_the_lab_login_cookie_works_with_xsrf_and_only_from_the_same_origin(
    server: Server,
) -> None:
    s = requests.Session()
    r = s.get(f"{server.root}lab", params={"token": server.token}, timeout=30)
    assert r.status_code == 200
    xsrf = s.cookies.get("_xsrf")
    assert xsrf, "JupyterLab's page sets the _xsrf cookie"
    url = server.url(f"teams/{TEAM}")

    assert s.get(server.url("me"), timeout=30).json()["name"] == USER
    # a cookie-authenticated write needs the XSRF token, as the lab sends it
    r = s.patch(url, json={"description": "no xsrf"}, timeout=30)
    assert_json_error(r, 403, "_xsrf")
    r = s.patch(url, json={"description": "from the lab"}, headers={"X-XSRFToken": xsrf})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "from the lab"
    # another site's page cannot use the cookie (each on a connection of its own: the
    # server may close one after refusing, and a reused one would then be reset)
    evil = {"Origin": "http://attacker.example", "X-XSRFToken": xsrf, "Connection": "close"}
    r = requests.get(server.url("me"), headers=evil, cookies=s.cookies, timeout=30)
    assert r.status_code == 403
    r = requests.patch(
        url, json={"description": "evil"}, headers=evil, cookies=s.cookies, timeout=30
    )
    assert r.status_code in (403, 404), r.text
    assert server.api("GET", f"teams/{TEAM}").json()["description"] == "from the lab"


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kw", "status", "pattern"),
    [
        ("POST", "environments", {"data": b"{"}, 400, "not valid JSON"),
        ("POST", "environments", {"data": b"[1, 2]"}, 400, "must be a JSON object"),
        ("POST", "environments", {"data": b""}, 400, "JSON object is required"),
        ("POST", "environments", {"data": b"x" * (MAX_BODY + 1)}, 413, "over the limit"),
        ("POST", "credentials", {"json": {"name": "", "value": "v"}}, 400, ""),
        ("PATCH", f"teams/{TEAM}", {"json": {"description": 5}}, 400, "must be a string"),
        ("PATCH", f"teams/{TEAM}", {"json": {"colour": "red"}}, 400, "Unknown team field"),
        ("PATCH", f"teams/{TEAM}", {"json": {"quota": {"max_sessions": -1}}}, 400, ""),
        ("GET", "teams/someone-elses", {}, 404, "No team named"),
        ("GET", "files", {"params": {"space": "nowhere"}}, 400, ""),
        ("GET", "files/versions", {"params": {"space": f"user:{USER}", "path": "../x"}}, 400, ""),
        ("POST", "sessions", {"json": {"user": USER}}, 403, ""),
        ("POST", "sessions/12345/stop", {}, 404, ""),
        ("GET", "no/such/endpoint", {}, 404, "No such endpoint"),
        ("DELETE", "environments/_global/nothing-here", {}, 404, ""),
    ],
)
def test_bad_input_gets_a_json_4xx(
    server: Server, method: str, path: str, kw: dict[str, Any], status: int, pattern: str
) -> None:
    assert_json_error(server.api(method, path, **kw), status, pattern)


def test_no_request_made_the_server_fail(server: Server) -> None:
    """Nothing above reached a 500 or logged a traceback."""
    text = server.log.read_text(errors="replace")
    assert "Traceback" not in text, server.log_tail()
    assert not re.search(r"\b5\d\d (GET|POST|PATCH|PUT|DELETE) ", text), server.log_tail()


# --- what the platform keeps ------------------------------------------------------------


def test_metrics_count_requests_by_route(server: Server) -> None:
    server.api("GET", "health")
    r = server.api("GET", "metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    assert re.search(
        r'^submarine_request_duration_seconds_count\{code="200",method="GET",route="/health"\} '
        r"[1-9]",
        r.text,
        re.M,
    ), r.text[:2000]
    assert 'route="/teams/{team}"' in r.text  # templates, not request paths


def test_the_metastore_and_key_live_in_the_home_folder(server: Server) -> None:
    data = server.home / ".submarine"
    assert (data / "submarine.sqlite").is_file()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "submarine_crypt_key").stat().st_mode) == 0o600


def test_sdk_and_cli_in_a_kernel_need_no_login(server: Server) -> None:
    headers = {"Authorization": f"token {server.token}"}
    r = requests.post(f"{server.root}api/kernels", headers=headers, json={}, timeout=30)
    r.raise_for_status()
    kernel = r.json()["id"]
    code = (
        "import os, shutil, subprocess\n"
        "from submarine_hub import SubmarineClient\n"
        "c = SubmarineClient()\n"
        "c.save_file('notes/hello.txt', 'hello', format='text')\n"
        "print('me', c.me()['name'])\n"
        "print('versions', len(c.file_history('notes/hello.txt')))\n"
        "out = subprocess.run([shutil.which('submarine'), 'whoami'], capture_output=True, "
        "text=True)\n"
        "print('cli', out.returncode, out.stdout.splitlines()[0])\n"
    )
    try:
        ws = f"{server.root}api/kernels/{kernel}/channels".replace("http", "ws", 1)
        out = _execute(ws, headers, code, 60)
    finally:
        requests.delete(f"{server.root}api/kernels/{kernel}", headers=headers, timeout=30)
    assert f"me {USER}" in out, out
    assert "versions 1" in out, out
    assert f"cli 0 {USER} (admin)" in out, out


# --- when it is on ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, True),
        ({"JUPYTERHUB_API_TOKEN": "abc"}, False),  # a hub session
        ({"SUBMARINE_API_URL": "http://hub/services/submarine/api/v1"}, False),
        ({"JUPYTERHUB_API_TOKEN": ""}, True),
    ],
    ids=["no-hub", "under-a-hub", "pointed-at-a-platform", "empty-hub-token"],
)
def test_standalone_by_default_only_without_a_hub(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: bool
) -> None:
    for var in HUB_ENV:
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert SubmarineServerExtension().standalone is expected


def test_config_decides_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Binder's postBuild turns it on although Binder starts the server under a hub."""
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "abc")
    config = Config({"SubmarineServerExtension": {"standalone": True}})
    assert SubmarineServerExtension(config=config).standalone is True


def test_user_and_team_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(extension_module.getpass, "getuser", lambda: "grace")
    monkeypatch.setattr(extension_module.Path, "home", lambda: tmp_path)
    ext = SubmarineServerExtension()
    assert (ext.user, ext.team) == ("grace", "grace")
    assert ext.db_url == f"sqlite:///{tmp_path / '.submarine' / 'submarine.sqlite'}"

    def no_passwd_entry() -> str:
        raise KeyError("uid 1234 has no name")

    for getuser in (no_passwd_entry, lambda: "grace hopper", lambda: ""):
        monkeypatch.setattr(extension_module.getpass, "getuser", getuser)
        assert SubmarineServerExtension().user == "jovyan"


@pytest.mark.parametrize(
    "name", ["", "two words", "-dash-first", "a/b", "x" * 256, "tab\t", "newline\n"]
)
def test_bad_user_and_team_names_are_refused(name: str) -> None:
    with pytest.raises(TraitError, match="letters, digits"):
        SubmarineServerExtension(user=name)
    with pytest.raises(TraitError, match="letters, digits"):
        SubmarineServerExtension(team=name)


@pytest.mark.hub
def test_standalone_is_off_in_hub_sessions(hub: Hub) -> None:
    """A hub session relays to the hub's service (its teams), and keeps no metastore."""
    hub.spawn("alice")
    headers = {"Authorization": f"token {hub.token_for('alice')}"}
    r = requests.get(hub.user_url("alice", "submarine/api/v1/me"), headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    me = r.json()
    assert (me["name"], me["admin"]) == ("alice", False)
    assert [t["name"] for t in me["teams"]] == ["data-science"]
    assert not (hub.home("alice") / ".submarine" / "submarine.sqlite").exists()


def test_an_experiment_runs_and_reports_back_to_the_standalone_api(server: Server) -> None:
    """The run's tracking calls reach this server's API with the run's own token."""
    code = "import submarine_hub as s; s.log_param('lr', 0.1); s.log_metric('acc', 0.9); s.flush()"
    spec = {"meta": {"name": "tracked", "team": TEAM}, "task": {"command": f'python -c "{code}"'}}
    r = server.api("POST", "experiments", json=spec)
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    deadline = time.monotonic() + 120
    while (run := server.api("GET", f"experiments/{run_id}").json())["status"] not in (
        "succeeded",
        "failed",
        "killed",
    ):
        assert time.monotonic() < deadline, run
        time.sleep(0.3)
    log = server.api("GET", f"experiments/{run_id}/logs").text
    assert run["status"] == "succeeded", (run, log)
    assert "acc" in server.api("GET", f"experiments/{run_id}/metrics").text
    assert run["owner"] == USER and run["team"] == TEAM


@pytest.mark.browser
def test_the_lab_panel_works_in_standalone_mode(server: Server) -> None:
    """The JupyterLab panel, in chromium, against the standalone API."""
    if not shutil.which(CHROMIUM):
        pytest.skip(f"no chromium at {CHROMIUM} (scripts/bootstrap --test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(90_000)
            page.goto(f"{server.root}lab?token={server.token}&reset")
            page.click('.jp-SideBar [data-id="submarine-hub-panel"]')
            page.wait_for_selector('[data-testid="submarine-user"]')
            assert page.inner_text('[data-testid="submarine-user"]') == USER
            teams = page.locator('[data-testid="submarine-teams"] li.jp-SubmarinePanel-team')
            assert teams.all_inner_texts() == [TEAM]
            assert page.locator('[data-testid="submarine-admin"]').count() == 1
            no_news = page.get_by_role("button", name="No", exact=True)  # JupyterLab's news toast
            if no_news.count():
                no_news.first.click()
                no_news.first.wait_for(state="detached", timeout=10_000)
            IMAGES.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(IMAGES / "standalone-panel.png"))
        finally:
            browser.close()
