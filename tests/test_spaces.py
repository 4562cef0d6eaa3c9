"""One rule maps a path of a session's tree to its space (:mod:`submarine_hub.core.spaces`):
the table of ``tests/fixtures/spaces.json`` (which the lab extension's ``spaces.ts`` is
held to as well), its inverse, and every user of the rule — the contents manager's
history, the SDK, notebook jobs — asking a shared file's owner's space."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from submarine_hub.client.client import SubmarineClient
from submarine_hub.core import notebook_job_runs as njr
from submarine_hub.core import notebook_jobs as nj
from submarine_hub.core import shares, spaces, versions
from submarine_hub.core.identity import Identity
from submarine_hub.server.contents import SubmarineContentsManager
from submarine_hub.server.platform_files import PlatformFiles
from submarine_hub.service.uploads import UploadStore
from submarine_hub.store import Database, upgrade

from .helpers.notebooks import parameters_notebook

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "spaces.json").read_text())
CASES = FIXTURE["cases"]
USER = FIXTURE["user"]


@pytest.mark.parametrize("case", CASES, ids=[c["path"] for c in CASES])
def test_every_path_of_the_table_is_kept_in_the_space_it_names(case: dict[str, Any]) -> None:
    assert spaces.space_of(case["path"], USER) == (case["space"], case["rel"])
    assert spaces.area_of(case["path"]) == case["area"]
    assert spaces.team_of(case["path"]) == case["team"]


@pytest.mark.parametrize("case", FIXTURE["inverse"], ids=lambda c: c["space"])
def test_a_file_of_a_space_is_shown_where_the_rule_finds_it_again(case: dict[str, Any]) -> None:
    assert spaces.lab_path(case["space"], case["rel"], USER) == case["lab"]
    assert spaces.shared_path(case["space"], case["rel"]) == case["shared"]
    for shown in (case["lab"], case["shared"]):
        if shown is not None:
            assert spaces.space_of(shown, USER) == (case["space"], case["rel"])


segment = st.text(st.characters(blacklist_characters="/\0"), min_size=1, max_size=8)
rel_path = st.lists(segment, min_size=1, max_size=4).map("/".join)


@given(kind=st.sampled_from(["user", "team"]), name=segment, rel=rel_path, me=segment)
def test_shared_and_team_folders_lead_back_to_their_space(
    kind: str, name: str, rel: str, me: str
) -> None:
    space = f"{kind}:{name}"
    assert spaces.space_of(spaces.shared_path(space, rel), me) == (space, rel)
    assert spaces.area_of(spaces.shared_path(space, rel)) == "shared"
    shown = spaces.lab_path(space, rel, me)
    if shown is not None:
        assert spaces.space_of(shown, me) == (space, rel)


@given(rel=rel_path, me=segment)
def test_a_path_outside_the_teams_and_shared_folders_is_personal(rel: str, me: str) -> None:
    path = f"work/{rel}"
    assert spaces.space_of(path, me) == (f"user:{me}", path)
    assert spaces.area_of(path) == "personal"


def test_an_area_top_folder_is_its_space_root_for_a_folder_listing() -> None:
    assert spaces.folder_of("teams/ds", USER) == ("team:ds", "")
    assert spaces.folder_of("teams/ds/sub", USER) == ("team:ds", "sub")
    assert spaces.folder_of("shared/users/bob", USER) == ("user:bob", "")
    assert spaces.folder_of("work", USER) == (f"user:{USER}", "work")


# --- the users of the rule ----------------------------------------------------------------
SHARED_NB = "shared/users/bob/report.ipynb"


def test_the_sdk_and_the_contents_manager_locate_a_shared_file_in_its_owners_space(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    client = SubmarineClient("http://127.0.0.1:1/api/v1", "t", retry_for=0)
    assert client.locate(SHARED_NB) == ("user:bob", "report.ipynb")
    assert client.locate("teams/ds/a.ipynb") == ("team:ds", "a.ipynb")
    assert client.locate("a.ipynb") == ("user:alice", "a.ipynb")
    assert PlatformFiles(client, "alice").locate(SHARED_NB) == ("user:bob", "report.ipynb")  # type: ignore[arg-type]


class _RecordingClient:
    """What the contents manager's platform client is asked (the versions of one file)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, dict[str, Any]]] = []

    async def send(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        self.asked.append((method, path, kw.get("params") or {}))
        version = {
            "number": 1,
            "action": "save",
            "created_at": "2025-01-01T00:00:00+00:00",
        }
        return httpx.Response(200, json={"items": [version]})


async def test_the_history_of_a_shared_file_is_asked_of_its_owners_space(
    tmp_path: Path,
) -> None:
    manager = SubmarineContentsManager(root_dir=str(tmp_path), user="alice")
    client = _RecordingClient()
    manager._platform = PlatformFiles(client, "alice")  # type: ignore[arg-type]
    try:
        found = await manager.checkpoints.list_checkpoints(SHARED_NB)
    finally:
        await manager.stop_journal()
    assert [c["id"] for c in found] == ["1"]
    assert client.asked == [
        ("GET", "files/versions", {"space": "user:bob", "path": "report.ipynb"})
    ]


def _notebook() -> dict[str, Any]:
    return parameters_notebook("alpha = 0.5", "print(alpha)")


async def test_the_jobs_of_a_shared_notebook_are_run_and_listed_from_its_owners_space(
    db_url: str, tmp_path: Path
) -> None:
    alice = Identity(name="alice", teams=frozenset({"data-science"}))
    bob = Identity(name="bob", teams=frozenset({"data-science"}))
    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.session() as s:
            await versions.save(
                s, bob, "user:bob", "report.ipynb", content=_notebook(), format="notebook"
            )
            await shares.share(
                s, bob, "user:bob", "report.ipynb", {"with": "alice"}, {}, {"alice", "bob"}
            )
            info, _ = await nj.load(s, alice, SHARED_NB)
            assert (info.space, info.path) == ("user:bob", "report.ipynb")
            run, _ = await nj.submit(
                s,
                alice,
                {"notebook": SHARED_NB, "team": "data-science"},
                uploads=UploadStore(tmp_path / "uploads"),
                quota_defaults={},
            )
            source = njr.source_of(run) or {}
            assert (source.get("space"), source.get("path")) == ("user:bob", "report.ipynb")
            listed = await njr.list_for_notebook(s, alice, SHARED_NB)
            assert [i["id"] for i in listed] == [run.id]
            assert await njr.list_for_notebook(s, alice, "report.ipynb") == []
    finally:
        await db.dispose()
