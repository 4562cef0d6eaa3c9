"""Team rooms, in-process: opening one (members only, through the hub's share), the
versions its saves make (every author named; only a room may name several), and the
room's coalescing of real-time collaboration's saves into versions."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nbformat
import pytest

from submarine_hub.server.rooms import RoomContentsManager, update_clients

from .helpers.api import assert_json_error
from .helpers.service import InProcessService


def open_room(service: InProcessService, member: str, team: str) -> str:
    r = service.api("POST", f"teams/{team}/room", user=member)
    assert r.status_code == 202, r.text
    return r.json()["account"]


def save(service: InProcessService, who: str, team: str, path: str, text: str, **extra: Any):  # type: ignore[no-untyped-def]
    return service.platform(
        "POST",
        "files/versions",
        service.token_for(who),
        json={"space": f"team:{team}", "path": path, "format": "text", "content": text, **extra},
    )


def test_a_member_opens_the_team_room_shared_with_the_team_group(
    service: InProcessService,
) -> None:
    alice = service.new_user("alice")
    team = service.new_team("room", [alice])
    account = open_room(service, alice, team)
    assert account == f"collab-{team}"
    assert (account, team) in service.directory.shares  # shared with the group, not a person
    assert account in service.directory.members[team]  # it works in the team's space
    room = service.api("GET", f"teams/{team}/room", user=alice).json()
    assert room["state"] == "ready"
    assert room["url"].endswith(f"/user/{account}/lab/tree/teams/{team}")


def test_a_user_of_another_team_is_refused_the_room(service: InProcessService) -> None:
    alice, carol = service.new_user("alice"), service.new_user("carol")
    team = service.new_team("room", [alice])
    service.new_team("other", [carol])
    for method in ("GET", "POST"):
        r = service.api(method, f"teams/{team}/room", user=carol)
        assert_json_error(r, 403, "not a member")
    assert_json_error(service.api("POST", "teams/no-such-team/room", user=alice), 404, "No team")


def test_a_person_named_like_the_collaboration_account_gets_no_room(
    service: InProcessService,
) -> None:
    alice = service.new_user("alice")
    team = service.new_team("room", [alice])
    service.directory.add_user(f"collab-{team}", teams=[team])  # a person, not the service's
    assert_json_error(service.api("POST", f"teams/{team}/room", user=alice), 403, "exists")
    r = save(service, f"collab-{team}", team, "n.txt", "x", authors=["alice", "bob"])
    assert_json_error(r, 403, "Only a team's room")


def test_a_room_records_a_version_with_every_author(service: InProcessService) -> None:
    alice, bob = service.new_user("alice"), service.new_user("bob")
    team = service.new_team("room", [alice, bob])
    account = open_room(service, alice, team)
    r = save(service, account, team, "both.txt", "hello", authors=[alice, bob])
    assert r.status_code == 201, r.text
    assert (r.json()["author"], r.json()["authors"]) == (alice, [alice, bob])
    history = service.api("GET", f"files/versions?space=team:{team}&path=both.txt", user=bob)
    assert history.json()["items"][0]["authors"] == [alice, bob]
    plain = save(service, bob, team, "both.txt", "bob alone").json()
    assert (plain["author"], plain["authors"]) == (bob, [bob])


def test_only_a_room_in_its_own_team_names_authors(service: InProcessService) -> None:
    alice, bob = service.new_user("alice"), service.new_user("bob")
    team = service.new_team("room", [alice, bob])
    other = service.new_team("room-other", [alice])
    account = open_room(service, alice, team)
    assert_json_error(save(service, alice, team, "a.txt", "x", authors=[bob]), 403, "room")
    service.directory.add_user(account, teams=[other])  # even a member of the other team
    assert_json_error(save(service, account, other, "a.txt", "x", authors=[alice]), 403, "room")
    for bad in ([], "alice", [alice, alice], [""], [1]):
        assert_json_error(save(service, account, team, "a.txt", "x", authors=bad), 400, "authors")


def test_a_room_session_is_granted_as_a_room(service: InProcessService) -> None:
    alice = service.new_user("alice")
    team = service.new_team("room", [alice])
    account = open_room(service, alice, team)
    for user, room in ((account, "1"), (alice, None)):
        r = service.platform(
            "POST", "sessions", service.spawner_token, json={"user": user, "team": team}
        )
        assert r.status_code == 201, r.text
        assert r.json()["env"].get("SUBMARINE_ROOM") == room
        service.platform("DELETE", f"sessions/{r.json()['id']}", service.spawner_token)


# --- the room's contents manager ------------------------------------------------------------


class Authors:
    """Who edited each file, as RoomAuthors would have seen it."""

    def __init__(self) -> None:
        self.edits: dict[str, list[str]] = {}

    def take(self, path: str) -> list[str]:
        return self.edits.pop(path, [])


def notebook(source: str) -> dict[str, Any]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source, id="c1")]
    return {"type": "notebook", "format": "json", "content": nb}


@pytest.fixture
def room(service: InProcessService, monkeypatch: pytest.MonkeyPatch, tmp_path: Any):  # type: ignore[no-untyped-def]
    alice, bob = service.new_user("alice"), service.new_user("bob")
    team = service.new_team("room", [alice, bob])
    account = open_room(service, alice, team)
    monkeypatch.setenv("SUBMARINE_API_URL", service.api_url().rstrip("/"))
    monkeypatch.setenv("SUBMARINE_TOKEN", service.token_for(account))
    cm = RoomContentsManager(root_dir=str(tmp_path), user=account, version_interval=60.0)
    cm.authors = Authors()  # type: ignore[assignment]
    return cm, team, alice, bob


def history(service: InProcessService, team: str, path: str, user: str) -> list[dict[str, Any]]:
    r = service.api("GET", f"files/versions?space=team:{team}&path={path}", user=user)
    r.raise_for_status()
    return r.json()["items"]


@pytest.mark.local
async def test_a_burst_of_rtc_saves_is_one_version_at_once_and_one_at_its_end(
    room: Any, service: InProcessService
) -> None:
    cm, team, alice, bob = room
    path = f"teams/{team}/burst.ipynb"
    cm.authors.edits[path] = [alice]
    first = await cm.save(notebook("x = 0"), path)
    cm.authors.edits[path] = [alice, bob]
    for i in range(1, 6):  # typing on: RTC saves after each short pause
        saved = await cm.save(notebook(f"x = {i}"), path)
    listed = await cm.get(path, content=True)
    assert listed["content"].cells[0].source == "x = 5"  # the held save, not the platform's
    assert listed["last_modified"] == saved["last_modified"] != first["last_modified"]
    assert len(history(service, team, "burst.ipynb", alice)) == 1  # the first, at once
    await cm.record_held()  # as the interval's end does
    versions = history(service, team, "burst.ipynb", alice)
    assert [v["authors"] for v in versions] == [[alice, bob], [alice]]
    assert (cm.rtc_saves[path], cm.versions[path]) == (6, 2)
    # the room's own version keeps the time RTC saw: RTC sees no change from outside
    assert (await cm.get(path, content=False))["last_modified"] == saved["last_modified"]
    r = service.platform(  # a version from elsewhere (a personal session) is newer
        "POST",
        "files/versions",
        service.token_for(bob),
        json={
            "space": f"team:{team}",
            "path": "burst.ipynb",
            "format": "notebook",
            "content": notebook("x = 'bob'")["content"],
        },
    )
    assert r.status_code == 201, r.text
    model = await cm.get(path, content=True)
    assert model["last_modified"] > saved["last_modified"]
    assert model["content"].cells[0].source == "x = 'bob'"


@pytest.mark.local
async def test_the_last_save_of_a_burst_is_a_version_when_the_interval_ends(
    room: Any, service: InProcessService
) -> None:
    cm, team, alice, _ = room
    cm.version_interval = 2.0
    path = f"teams/{team}/end.ipynb"
    await cm.save(notebook("e = 1"), path)
    await cm.save(notebook("e = 2"), path)
    for _ in range(100):
        if len(versions := history(service, team, "end.ipynb", alice)) == 2:
            break
        await asyncio.sleep(0.1)
    assert len(versions) == 2
    r = service.api("GET", f"files/content?space=team:{team}&path=end.ipynb", user=alice)
    assert r.json()["content"]["cells"][0]["source"] == "e = 2"


@pytest.mark.local
async def test_what_a_room_holds_is_recorded_when_it_stops(
    room: Any, service: InProcessService
) -> None:
    cm, team, alice, _ = room
    path = f"teams/{team}/held.ipynb"
    await cm.save(notebook("a = 1"), path)
    await cm.save(notebook("a = 2"), path)
    assert len(history(service, team, "held.ipynb", alice)) == 1
    await cm.stop_journal()
    versions = history(service, team, "held.ipynb", alice)
    assert len(versions) == 2


def test_the_clients_of_a_document_update_are_read_from_it() -> None:
    from pycrdt import Doc, Text

    doc = Doc(client_id=42)
    doc["t"] = text = Text()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    text += "hello"
    assert update_clients(updates[-1]) == {42}


def test_the_service_home_page_links_each_team_room_which_opens_it(
    service: InProcessService,
) -> None:
    alice, carol = service.new_user("alice"), service.new_user("carol")
    team = service.new_team("room", [alice])
    service.new_team("other", [carol])
    assert f'rooms/{team}"' in service.page("", user=alice).text
    r = service.page(f"rooms/{team}", user=alice, allow_redirects=False)
    assert r.status_code == 302, r.text
    assert r.headers["Location"].endswith(f"/user/collab-{team}/lab/tree/teams/{team}")
    assert (f"collab-{team}", "") in service.directory.servers
    assert service.page(f"rooms/{team}", user=carol, allow_redirects=False).status_code == 403


async def test_a_room_session_starts_with_rtc_on_and_a_personal_one_with_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from .helpers.kube import session_grant
    from .helpers.kube_spawner import spawner_factory

    make = spawner_factory(monkeypatch)
    args, urls = {}, {}
    for kind, env in (("room", {"SUBMARINE_ROOM": "1"}), ("personal", {})):
        spawner = await make(submarine_api_url="http://platform/api/v1")
        grant = session_grant("data-science", env=env)
        spawner.grant = grant
        spawner.apply_grant(grant)
        args[kind] = " ".join(spawner.get_args())
        urls[kind] = spawner.get_env().get("JUPYTERHUB_DEFAULT_URL")
    assert "--YDocExtension.disable_rtc=False" in args["room"]
    assert "submarine_hub.server.rooms.RoomContentsManager" in args["room"]
    assert "--HubOAuth.cache_max_age=3" in args["room"]
    assert urls["room"] == "/lab/tree/teams/data-science" != urls["personal"]
    assert "--YDocExtension.disable_rtc=True" in args["personal"]
    assert "submarine_hub.server.contents.SessionContentsManager" in args["personal"]
    assert "cache_max_age" not in args["personal"]


def test_room_shares_follow_team_membership(service: InProcessService) -> None:
    from submarine_hub.service.room_shares import RoomShareReconciler

    alice, bob = service.new_user("alice"), service.new_user("bob")
    team = service.new_team("room", [alice, bob])
    account = open_room(service, alice, team)

    def reconcile() -> dict[str, tuple[list[str], list[str]]]:
        return service.call(
            lambda context: RoomShareReconciler(context.db, context.hub, interval=0).reconcile()
        )

    assert reconcile()[account] == (sorted([alice, bob]), [])  # each member, by name
    assert account not in reconcile()  # nothing changed since
    service.directory.remove_from_team(team, bob)
    assert reconcile()[account] == ([], [bob])
    assert service.directory.user_shares[account] == {alice}


def test_a_member_stops_the_room_and_another_team_may_not(service: InProcessService) -> None:
    alice, carol = service.new_user("alice"), service.new_user("carol")
    team = service.new_team("room", [alice])
    service.new_team("other", [carol])
    # never opened: nothing to stop, and nothing asked of the hub
    r = service.api("DELETE", f"teams/{team}/room", user=alice)
    assert r.status_code == 202 and r.json()["state"] == "stopped", r.text
    account = open_room(service, alice, team)
    assert_json_error(service.api("DELETE", f"teams/{team}/room", user=carol), 403, "not a member")
    assert (account, "") in service.directory.servers  # carol stopped nothing
    assert_json_error(service.api("DELETE", "teams/no-such-team/room", user=alice), 404, "No team")
    r = service.api("DELETE", f"teams/{team}/room", user=alice)
    assert r.status_code == 202, r.text
    assert (r.json()["account"], r.json()["state"]) == (account, "stopped")
    assert (account, "") in service.directory.stopped


def test_the_sdk_and_cli_open_show_and_stop_a_room(
    service: InProcessService, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from click.testing import CliRunner

    from submarine_hub.client import SubmarineClient
    from submarine_hub.client.cli import main
    from submarine_hub.client.errors import SubmarineAPIError

    alice, carol = service.new_user("alice"), service.new_user("carol")
    team = service.new_team("room", [alice])
    other = service.new_team("other", [carol])
    monkeypatch.setenv("SUBMARINE_CONFIG", str(tmp_path / "none.json"))
    monkeypatch.delenv("SUBMARINE_TEAM", raising=False)
    api = service.api_url().rstrip("/")
    with SubmarineClient(api, service.token_for(alice)) as client:
        assert client.room()["state"] == "stopped"  # her only team's, by default
        room = client.open_room(team, timeout=10)
        assert (room["state"], room["runs_as"]) == ("ready", "team")
        assert client.room_link(room) == f"{service.url}/user/collab-{team}/lab/tree/teams/{team}"
        assert [r["team"] for r in client.rooms()] == [team]
        assert client.stop_room(team)["state"] == "stopped"
        for call in (client.room, client.open_room, client.stop_room):
            with pytest.raises(SubmarineAPIError) as refused:
                call(other)
            assert refused.value.status == 403
        with pytest.raises(SubmarineAPIError) as missing:
            client.room("no-such-team")
        assert missing.value.status == 404
    # the CLI, as alice
    monkeypatch.setenv("SUBMARINE_API_URL", api)
    monkeypatch.setenv("SUBMARINE_TOKEN", service.token_for(alice))
    runner = CliRunner()
    out = runner.invoke(main, ["room", "open", team])
    assert out.exit_code == 0, out.output
    assert f"Team {team}'s room is ready" in out.output
    assert f"/user/collab-{team}/lab/tree/teams/{team}" in out.output
    out = runner.invoke(main, ["room", "list"])
    assert out.exit_code == 0 and team in out.output and "ready" in out.output, out.output
    out = runner.invoke(main, ["room", "status", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["link"].endswith(f"/teams/{team}")
    out = runner.invoke(main, ["room", "stop", team])
    assert out.exit_code == 0 and "is stopped" in out.output, out.output
    out = runner.invoke(main, ["room", "open", other])  # another team's: refused, no traceback
    assert out.exit_code == 1 and "not a member" in out.output, out.output
    out = runner.invoke(main, ["room", "status", "no/such"])  # bad input
    assert out.exit_code == 1 and "Traceback" not in out.output, out.output
    # a user of several teams must name one
    bob = service.new_user("bob", teams=[team, other])
    monkeypatch.setenv("SUBMARINE_TOKEN", service.token_for(bob))
    out = runner.invoke(main, ["room", "status"])
    assert out.exit_code == 1 and "several teams" in out.output, out.output


class FakeSocket:
    def __init__(self, user: str) -> None:
        self.current_user = type("U", (), {"username": user})()
        self.closed: tuple[int, str] | None = None

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


async def test_the_guard_closes_every_websocket_of_who_left_the_team(
    service: InProcessService, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Documents, kernels and terminals: a websocket open already is never asked again
    by JupyterHub, so the room closes those of who is not a member any more."""
    from types import SimpleNamespace

    from jupyter_server.services.kernels.connection.channels import (
        ZMQChannelsWebsocketConnection,
    )

    from submarine_hub.server.rooms import RoomGuard

    alice, bob = service.new_user("alice"), service.new_user("bob")
    team = service.new_team("room", [alice, bob])
    account = open_room(service, alice, team)
    monkeypatch.setenv("SUBMARINE_API_URL", service.api_url().rstrip("/"))
    monkeypatch.setenv("SUBMARINE_TOKEN", service.token_for(account))
    monkeypatch.setenv("SUBMARINE_TEAM", team)
    cm = RoomContentsManager(root_dir=str(tmp_path), user=account)
    await cm.start_journal()
    sockets = {
        (who, what): FakeSocket(who)
        for who in (alice, bob, account)
        for what in ("document", "kernel", "terminal")
    }
    documents = SimpleNamespace(clients=[s for (_, w), s in sockets.items() if w == "document"])
    ydoc = SimpleNamespace(ywebsocket_server=SimpleNamespace(rooms={"r": documents}))
    terminal = SimpleNamespace(clients=[s for (_, w), s in sockets.items() if w == "terminal"])
    serverapp = SimpleNamespace(
        extension_manager=SimpleNamespace(extension_apps={"jupyter_server_ydoc": [ydoc]}),
        web_app=SimpleNamespace(
            settings={"terminal_manager": SimpleNamespace(terminals={"1": terminal})}
        ),
    )
    kernels = {f"k:{who}": s for (who, w), s in sockets.items() if w == "kernel"}
    monkeypatch.setattr(ZMQChannelsWebsocketConnection, "_open_sessions", kernels)
    guard = RoomGuard(serverapp, cm, interval=60)
    try:
        assert await guard.check() == []  # everyone is a member (the account is the room)
        service.directory.remove_from_team(team, bob)
        closed = await guard.check()
    finally:
        await cm.stop_journal()
    assert sorted(closed) == [(bob, "document"), (bob, "kernel"), (bob, "terminal")]
    for (who, _), socket in sockets.items():
        assert (socket.closed is not None) == (who == bob)
        if who == bob:
            assert socket.closed == (4403, f"{bob} is not a member of team {team} any more.")


def test_the_hub_home_page_lists_the_users_team_rooms() -> None:
    """``submarine_rooms`` (the hub's template variable): the rooms of the user's groups,
    each with its state as the hub knows it and the link that opens it."""
    from types import SimpleNamespace

    from submarine_hub.hub_rooms import team_rooms

    def spawner(active: bool, ready: bool, pending: str | None = None) -> Any:
        return SimpleNamespace(active=active, ready=ready, pending=pending)

    accounts = {
        "collab-ds": SimpleNamespace(name="collab-ds"),
        "collab-ml": SimpleNamespace(name="collab-ml"),
    }
    servers = {
        "collab-ds": {"": spawner(True, True)},
        "collab-ml": {"": spawner(True, False, "stop")},
    }

    class Users(dict):  # the hub's UserDict: orm user -> user
        def __getitem__(self, orm: Any) -> Any:
            return SimpleNamespace(spawners=servers[orm.name])

    groups = [
        SimpleNamespace(name="ml", users=[accounts["collab-ml"]]),
        SimpleNamespace(name="ds", users=[accounts["collab-ds"]]),
        SimpleNamespace(name="new team", users=[]),
    ]
    alice = SimpleNamespace(
        name="alice", groups=groups, settings={"users": Users(), "base_url": "/hub-base/"}
    )
    assert team_rooms(alice) == [
        {"team": "ds", "account": "collab-ds", "state": "ready",
         "url": "/hub-base/services/submarine/rooms/ds"},
        {"team": "ml", "account": "collab-ml", "state": "stopping",
         "url": "/hub-base/services/submarine/rooms/ml"},
        {"team": "new team", "account": "collab-new team", "state": "stopped",
         "url": "/hub-base/services/submarine/rooms/new%20team"},
    ]  # fmt: skip
    assert team_rooms(None) == []  # the login page
    assert team_rooms(SimpleNamespace(name="collab-ds", groups=groups, settings={})) == []
