"""What every Submarine spawner does, whatever runs the session.

Before a session starts the spawner asks the platform service to admit it
(``POST /sessions``): the service checks the team, the environment and the team's
quota atomically and answers a :class:`SessionGrant` (team, environment, resources,
credentials). The spawner waits for the environment to be built, reporting progress
on the spawn page, then starts the session with what the grant says. On stop it
releases the quota (``DELETE /sessions/<id>``).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import tenacity
from tornado import web
from traitlets import Bool, Float, List, Unicode, default
from traitlets.config import Configurable

from .grant import SessionGrant

#: background releases in progress (kept referenced until they end)
_RETRIES: set[asyncio.Task[None]] = set()


class _Unavailable(Exception):
    """502/503/504 from the platform: the service is restarting."""

    def __init__(self, resp: httpx.Response) -> None:
        self.resp = resp


class SpawnRefused(web.HTTPError):
    """The platform refused the session; JupyterHub shows the message to the user."""

    def __init__(self, message: str, status_code: int = 403) -> None:
        super().__init__(status_code, "%s", message)
        self.jupyterhub_message = message

    def __str__(self) -> str:
        return self.jupyterhub_message


#: The spawn form offers the chosen team's environments and the global ones only.
TEAM_FILTER_SCRIPT = """<script>
(function () {
  var team = document.getElementById("submarine-team");
  var env = document.getElementById("submarine-environment");
  if (!team || !env) { return; }
  function offer() {
    env.querySelectorAll("optgroup[data-team]").forEach(function (group) {
      var mine = group.dataset.team === team.value || group.dataset.team === "";
      group.hidden = !mine;
      group.disabled = !mine;
    });
    var chosen = env.options[env.selectedIndex];
    if (chosen && chosen.parentNode.disabled) { env.value = ""; }
  }
  team.addEventListener("change", offer);
  offer();
})();
</script>"""


class SubmarineSpawnerMixin(Configurable):
    """Connects a session to the platform: team, environment, quota and credentials."""

    if TYPE_CHECKING:  # given by the Spawner it is mixed into
        user: Any
        user_options: dict[str, Any]
        name: str
        log: logging.Logger
        _log_name: str

    submarine_api_url = Unicode(
        help="""The platform API as sessions and the hub reach it, e.g.
        ``http://127.0.0.1:10101/services/submarine/api/v1``.

        Sessions find it in $SUBMARINE_API_URL; the SDK, CLI and server extension
        use it with the session's $JUPYTERHUB_API_TOKEN.
        Default: $SUBMARINE_API_URL of the hub's environment.""",
    ).tag(config=True)

    @default("submarine_api_url")
    def _default_submarine_api_url(self) -> str:
        return os.environ.get("SUBMARINE_API_URL", "")

    submarine_token = Unicode(
        help="""The hub-side token the spawner admits sessions with: a token of a JupyterHub
        service whose role has the scope ``custom:submarine:sessions``.
        Default: $SUBMARINE_SPAWNER_TOKEN.""",
    ).tag(config=True)

    @default("submarine_token")
    def _default_submarine_token(self) -> str:
        return os.environ.get("SUBMARINE_SPAWNER_TOKEN", "")

    versioned_contents = Bool(
        True,
        help="""Give sessions Submarine's contents manager: every save versioned by the
        platform, and a teams/ folder per team.""",
    ).tag(config=True)

    terminal_shell_command = List(
        Unicode(),
        ["/bin/sh", "-c", "if command -v bash >/dev/null; then exec bash -i; else exec sh -i; fi"],
        help="""The shell of a JupyterLab terminal in a session (``ServerApp.terminado_settings``
        ``shell_command``). An interactive, non-login shell: it keeps the session's
        environment, its PATH first (the environment profile's ``bin``, ``submarine``,
        the session's ``python``); a login shell would reset PATH from /etc/profile.
        Empty: jupyter-server's default (a login shell).""",
    ).tag(config=True)

    room_access_recheck = Float(
        3,
        help="""Seconds a team room trusts what the hub said about a visitor (JupyterHub's
        ``HubOAuth.cache_max_age``, 300 s by default): someone removed from the team is
        refused by the room within this long, and their open documents are closed.""",
    ).tag(config=True)

    environment_build_timeout = Float(
        1800, help="Seconds to wait for a session's environment to be built."
    ).tag(config=True)

    submarine_retry_for = Float(
        20,
        help="""Seconds a request to the platform is tried again while the service restarts
        (connection refused, or the proxy's 502/503 for it); 0: never.""",
    ).tag(config=True)

    release_retry_timeout = Float(
        600,
        help="""How long (seconds) the spawner keeps trying, in the background, to release
        a stopped session's admission when the platform service cannot be reached (it is
        restarting). After that, or if the hub stops first, the service's own
        reconciliation with the hub's servers releases it
        (``SubmarineService.session_reconcile_interval``).""",
    ).tag(config=True)

    grant: SessionGrant | None = None
    _submarine_session_id: str = ""
    _events: list[dict[str, Any]]

    # --- the platform's API ------------------------------------------------------------
    async def _platform(self, method: str, path: str, **kw: Any) -> Any:
        if not (self.submarine_api_url and self.submarine_token):
            raise SpawnRefused(
                "This hub is not connected to the Submarine platform service "
                "(set c.Spawner.submarine_api_url and c.Spawner.submarine_token).",
                503,
            )
        headers = {"Authorization": f"token {self.submarine_token}"}
        # through a restart of the service: again, with a bounded backoff, what is safe to
        # send again (GET, PUT, DELETE; anything whose connection was refused)
        repeatable = method.upper() in ("GET", "PUT", "DELETE")

        def retry(e: BaseException) -> bool:
            if isinstance(e, httpx.ConnectError):
                return True
            return repeatable and isinstance(e, _Unavailable | httpx.TransportError)

        async def send(http: httpx.AsyncClient) -> httpx.Response:
            resp = await http.request(
                method, f"{self.submarine_api_url.rstrip('/')}/{path}", headers=headers, **kw
            )
            if resp.status_code in (502, 503, 504):
                raise _Unavailable(resp)
            return resp

        try:
            async with httpx.AsyncClient(timeout=30) as http:
                resp: httpx.Response = await tenacity.AsyncRetrying(
                    stop=tenacity.stop_after_delay(self.submarine_retry_for),
                    wait=tenacity.wait_random_exponential(multiplier=0.25, max=4.0),
                    retry=tenacity.retry_if_exception(retry),
                    reraise=True,
                )(send, http)
        except _Unavailable as e:
            resp = e.resp
        except httpx.HTTPError as e:
            raise SpawnRefused(f"The Submarine platform service cannot be reached: {e}", 503) from e
        if resp.status_code >= 400:
            try:
                message = resp.json()["message"]
            except (ValueError, KeyError):
                message = resp.text[:300]
            raise SpawnRefused(message, resp.status_code if resp.status_code < 500 else 503)
        return resp.json() if resp.content else None

    # --- the spawn form ------------------------------------------------------------------
    @default("options_form")
    def _default_options_form(self) -> Any:
        return type(self).render_options_form

    @staticmethod
    async def render_options_form(spawner: Any) -> str:
        """Team and environment choices, and the budget warnings of the user's teams;
        nothing to ask for one team without environments or warning."""
        options = await spawner._platform("GET", f"spawn-options/{spawner.user.name}")
        teams: list[str] = options["teams"]
        envs: list[dict[str, Any]] = options["environments"]
        warnings: dict[str, str] = options.get("budget_warnings") or {}
        if len(teams) <= 1 and not envs and not warnings:
            return ""
        parts = [
            f'<div class="alert alert-warning submarine-budget-warning" role="alert" '
            f'data-team="{html.escape(team)}">{html.escape(message)}</div>'
            for team, message in sorted(warnings.items())
        ]
        if len(teams) > 1:
            choices = "".join(
                f'<option value="{html.escape(t)}">{html.escape(t)}</option>' for t in teams
            )
            parts.append(
                '<div class="form-group mb-3"><label for="submarine-team" class="form-label">'
                "Team</label>"
                f'<select class="form-select form-control" id="submarine-team" name="team">'
                f"{choices}</select></div>"
            )
        if envs:
            groups: dict[str, list[str]] = {}
            for e in envs:
                label = e["name"] + (f" — {e['description']}" if e["description"] else "")
                groups.setdefault(e["team"] or "", []).append(
                    f'<option value="{html.escape(e["ref"])}">{html.escape(label)}</option>'
                )
            body = "".join(
                f'<optgroup label="{html.escape(g or "Global")}" data-team="{html.escape(g)}">'
                f"{''.join(o)}</optgroup>"
                for g, o in groups.items()
            )
            parts.append(
                '<div class="form-group mb-3"><label for="submarine-environment" '
                'class="form-label">Environment</label>'
                '<select class="form-select form-control" id="submarine-environment" '
                'name="environment"><option value="">The hub\'s default Python</option>'
                f"{body}</select></div>"
            )
            if len(teams) > 1:
                parts.append(TEAM_FILTER_SCRIPT)
        return "\n".join(parts)

    def options_from_form(self, formdata: dict[str, list[str]]) -> dict[str, Any]:
        return {
            key: formdata[key][0]
            for key in ("team", "environment")
            if formdata.get(key) and formdata[key][0]
        }

    # --- lifecycle -------------------------------------------------------------------------
    def _event(self, progress: int, message: str) -> None:
        self._events.append({"progress": progress, "message": message})

    async def admit(self) -> SessionGrant:
        """Ask the platform to admit this session; wait for its environment to be built."""
        self._events = []
        opts = self.user_options or {}
        self._event(5, "Checking your team's quota")
        data = await self._platform(
            "POST",
            "sessions",
            json={
                "user": self.user.name,
                "server_name": self.name,
                "team": opts.get("team"),
                "environment": opts.get("environment"),
            },
        )
        self._submarine_session_id = str(data["id"])
        if data.get("budget_warning"):  # admitted anyway: shown on the spawn page
            self.log.warning("%s: %s", self._log_name, data["budget_warning"])
            self._event(8, f"Budget warning: {data['budget_warning']}")
        try:
            data = await self._wait_for_environment(data)
        except BaseException:
            await self._release()
            raise
        return SessionGrant.from_json(data)

    async def _wait_for_environment(self, data: dict[str, Any]) -> dict[str, Any]:
        env = data.get("environment")
        if not env:
            return data
        ref = env["ref"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.environment_build_timeout
        last = None
        while True:
            build = data["environment"]["build"]
            if build["state"] == "ready":
                self._event(40, f"Environment {ref} is ready")
                return data
            if build["state"] == "failed":
                raise SpawnRefused(
                    f"Building environment {ref} failed: {build.get('error') or 'see its log'}. "
                    f"Its build log: submarine env build {ref} --log"
                )
            step = build.get("step") or build["state"]
            if step != last:
                pct = 10 + int(30 * float(build.get("progress") or 0))
                self._event(pct, f"Building environment {ref}: {step}")
                last = step
            if loop.time() > deadline:
                raise SpawnRefused(f"Environment {ref} was not built in time.")
            await asyncio.sleep(1)
            data = await self._platform("GET", f"sessions/{self._submarine_session_id}")

    async def _release(self, session_id: str | None = None) -> None:
        """Give the session's quota back to its team."""
        session_id = session_id or self._submarine_session_id
        if not session_id:
            return
        self.log.info("Releasing Submarine session %s of %s", session_id, self._log_name)
        try:
            await self._platform("DELETE", f"sessions/{session_id}")
        except SpawnRefused as e:
            if e.status_code == 503 and self.release_retry_timeout > 0:
                self.log.warning(
                    "Could not release Submarine session %s now (%s); retrying in the "
                    "background for %d s",
                    session_id,
                    e,
                    self.release_retry_timeout,
                )
                task = asyncio.create_task(self._release_later(session_id))
                _RETRIES.add(task)
                task.add_done_callback(_RETRIES.discard)
            else:
                self.log.warning("Could not release Submarine session %s: %s", session_id, e)
        if self._submarine_session_id == session_id:
            self._submarine_session_id = ""

    async def _release_later(self, session_id: str) -> None:
        """Retry a release with growing pauses (2 s up to 30 s) for ``release_retry_timeout``
        seconds; a refusal other than "unreachable" ends it (e.g. already released)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.release_retry_timeout
        pause = 2.0
        while loop.time() < deadline:
            await asyncio.sleep(min(pause, max(0.0, deadline - loop.time())))
            pause = min(pause * 2, 30.0)
            try:
                await self._platform("DELETE", f"sessions/{session_id}")
            except SpawnRefused as e:
                if e.status_code == 503:
                    continue
                self.log.warning("Could not release Submarine session %s: %s", session_id, e)
                return
            self.log.info("Released Submarine session %s after a retry", session_id)
            return
        self.log.warning(
            "Gave up releasing Submarine session %s; the service releases it when it "
            "reconciles its sessions with the hub's servers",
            session_id,
        )

    async def start(self) -> Any:
        self.grant = await self.admit()
        try:
            await self.prepare_session(self.grant)
            self.apply_grant(self.grant)
            return await super().start()  # type: ignore[misc]
        except BaseException:
            await self._release()
            raise

    async def prepare_session(self, grant: SessionGrant) -> None:
        """Make ready what the session needs before it starts (its system account, its
        files); nothing here. A failure refuses the spawn and gives the quota back."""

    @property
    def is_room(self) -> bool:
        """Whether this is a team's room: the team's collaboration account's server, which
        the platform admitted as such (``SUBMARINE_ROOM`` in its grant)."""
        return self.grant is not None and self.grant.env.get("SUBMARINE_ROOM") == "1"

    def apply_grant(self, grant: SessionGrant) -> None:
        """Turn the grant's resources into the spawner's limits; subclasses add the rest."""
        res = grant.resources
        if res.cpu is not None:
            self.cpu_limit = self.cpu_guarantee = res.cpu
        if res.memory is not None:
            self.mem_limit = self.mem_guarantee = res.memory

    async def stop(self, now: bool = False) -> None:
        # read it first: a spawner's poll() clears its state once the process is gone
        session_id = self._submarine_session_id
        await super().stop(now=now)  # type: ignore[misc]
        await self._release(session_id)

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        sent = 0
        while True:
            events = getattr(self, "_events", [])
            while sent < len(events):
                yield events[sent]
                sent += 1
            if self.grant is not None and sent >= len(events):
                break
            await asyncio.sleep(0.5)
        async for event in super().progress():  # type: ignore[misc]
            yield event

    def get_args(self) -> list[str]:
        args = super().get_args()  # type: ignore[misc]
        if self.terminal_shell_command and not any("terminado_settings" in a for a in args):
            settings = json.dumps({"shell_command": list(self.terminal_shell_command)})
            args.append(f"--ServerApp.terminado_settings={settings}")
        room = self.is_room
        if self.versioned_contents and self.submarine_api_url:
            manager = "rooms.RoomContentsManager" if room else "contents.SessionContentsManager"
            args.append(f"--ServerApp.contents_manager_class=submarine_hub.server.{manager}")
        # real-time collaboration (jupyter-collaboration) in team rooms only; in a room,
        # who the hub says may no longer enter is refused within seconds, not minutes
        args.append(f"--YDocExtension.disable_rtc={not room}")
        if room:
            args.append(f"--HubOAuth.cache_max_age={int(self.room_access_recheck)}")
        return args

    def get_env(self) -> dict[str, Any]:
        env = super().get_env()  # type: ignore[misc]
        if self.submarine_api_url:
            env["SUBMARINE_API_URL"] = self.submarine_api_url
        if self.grant is not None:
            env.update(self.grant.env)
            if self.submarine_api_url and self.grant.team:
                env.update(mlflow_env(self.submarine_api_url, self.grant.team, env))
            if self.is_room:  # a room opens on its team's folder
                env["JUPYTERHUB_DEFAULT_URL"] = f"/lab/tree/teams/{self.grant.team}"
        return env

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()  # type: ignore[misc]
        if self._submarine_session_id:
            state["submarine_session_id"] = self._submarine_session_id
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)  # type: ignore[misc]
        self._submarine_session_id = state.get("submarine_session_id", "")

    def clear_state(self) -> None:
        super().clear_state()  # type: ignore[misc]
        self._submarine_session_id = ""


def mlflow_env(api_url: str, team: str, env: dict[str, Any]) -> dict[str, str]:
    """MLflow's client pointed at the platform with no setup: the session's team's
    tracking URI (``<service>/mlflow/<team>``) and the session's own hub token."""
    base = api_url.rstrip("/")
    base = base[: -len("/api/v1")] if base.endswith("/api/v1") else base
    out = {"MLFLOW_TRACKING_URI": f"{base}/mlflow/{team}"}
    if env.get("JUPYTERHUB_API_TOKEN"):
        out["MLFLOW_TRACKING_TOKEN"] = str(env["JUPYTERHUB_API_TOKEN"])
    return out


def landing_url(handler: Any) -> str | None:
    """Where a user lands after logging in (``c.JupyterHub.default_url``): their session,
    unless they are in no team yet (a session needs one) — then an admin goes to the
    platform's admin page and anyone else to the hub's home page, which says why."""
    try:
        user = handler.current_user
    except (AttributeError, RuntimeError):  # not authenticated yet
        return None
    if user is None or list(getattr(user, "groups", None) or ()):
        return None  # JupyterHub's default: the user's own server
    if getattr(user, "admin", False):
        return f"{handler.base_url}services/submarine/admin/"
    return f"{handler.hub.base_url}home"
