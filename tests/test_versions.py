"""Versioned files in the core, on SQLite and PostgreSQL: history, content addressing,
conflicts, restore, recovery and sharing."""

from __future__ import annotations

import asyncio
import base64
import copy

import nbformat
import pytest
from sqlalchemy import func, select

from submarine_hub.core import contentaddr, shares, versions
from submarine_hub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from submarine_hub.core.identity import Identity
from submarine_hub.store import Database, upgrade
from submarine_hub.store.models import Blob

ANN = Identity(name="ann", teams=frozenset({"red"}))
BEN = Identity(name="ben", teams=frozenset({"blue"}))
ADMIN = Identity(name="admin", admin=True)
GROUPS = {"red": ["ann"], "blue": ["ben"]}
USERS = {"ann", "ben", "admin"}
IMAGE = base64.b64encode(bytes(range(256)) * 4096).decode()  # 1 MiB of "image"


def notebook(n_cells: int = 4, edit: int = 0) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"x = {i}", id=f"cell-{i}") for i in range(n_cells)]
    nb.cells[0].source = f"x = {edit}  # edit {edit}"
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"image/png": IMAGE})]
    return nbformat.from_dict(nb)


@pytest.fixture
async def db(db_url: str):  # type: ignore[no-untyped-def]
    upgrade(db_url)
    database = Database(db_url)
    yield database
    await database.dispose()


async def save(
    db: Database, who: Identity, content, *, space="user:ann", path="a.ipynb", fmt="notebook", **kw
):  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return await versions.save(s, who, space, path, content=content, format=fmt, **kw)


async def test_every_save_is_a_version_and_content_round_trips(db: Database) -> None:
    for i in range(5):
        info = await save(db, ANN, notebook(edit=i), message=f"save {i}")
        assert info.number == i + 1
    async with db.session() as s:
        history = await versions.history(s, ANN, "user:ann", "a.ipynb")
        assert [v.number for v in history] == [5, 4, 3, 2, 1]
        assert history[-1].parent is None and history[0].parent == 4
        _, second = await versions.get(s, ANN, "user:ann", "a.ipynb", 2)
        _, newest = await versions.get(s, ANN, "user:ann", "a.ipynb")
    assert second == notebook(edit=1)
    assert newest == notebook(edit=4)
    assert history[0].size == contentaddr.size_of(notebook(edit=4), "notebook")


async def test_unchanged_cells_and_large_outputs_are_stored_once(db: Database) -> None:
    for i in range(20):
        await save(db, ANN, notebook(edit=i))
    async with db.session() as s:
        stored = await s.scalar(select(func.sum(func.length(Blob.data))))
        count = await s.scalar(select(func.count(Blob.hash)))
    # 1 image output + 3 unchanged cells + metadata + 20 edited first cells
    assert count == 1 + 3 + 1 + 20
    assert stored < 1.1 * 1024 * 1024  # one copy of the image, compressed or not


async def test_text_and_binary_files(db: Database) -> None:
    await save(db, ANN, "print('hi')\n", path="tool.py", fmt="text")
    raw = base64.b64encode(b"\x00\x01binary").decode()
    await save(db, ANN, raw, path="data.bin", fmt="base64")
    async with db.session() as s:
        assert (await versions.get(s, ANN, "user:ann", "tool.py"))[1] == "print('hi')\n"
        assert (await versions.get(s, ANN, "user:ann", "data.bin"))[1] == raw


async def test_a_stale_save_is_a_conflict_not_an_overwrite(db: Database) -> None:
    await save(db, ANN, notebook(edit=1))
    await save(db, ANN, notebook(edit=2), base_version=1)
    with pytest.raises(Conflict, match="changed by ann since version 1 \\(now version 2\\)"):
        await save(db, ANN, notebook(edit=3), base_version=1)


async def test_concurrent_saves_get_distinct_numbers(db: Database) -> None:
    await asyncio.gather(*(save(db, ANN, notebook(edit=i)) for i in range(8)))
    async with db.session() as s:
        numbers = [v.number for v in await versions.history(s, ANN, "user:ann", "a.ipynb")]
    assert numbers == list(range(8, 0, -1))


async def test_restore_is_a_new_version_and_deleted_files_are_recoverable(db: Database) -> None:
    for i in range(3):
        await save(db, ANN, notebook(edit=i))
    async with db.session() as s:
        info = await versions.restore(s, ANN, "user:ann", "a.ipynb", 1)
    assert (info.number, info.action, info.message) == (4, "restore", "restored version 1")
    async with db.session() as s:
        deletion = await versions.delete(s, ANN, "user:ann", "a.ipynb")
        assert deletion.action == "delete"
    async with db.session() as s:
        with pytest.raises(NotFound, match="was deleted"):
            await versions.get(s, ANN, "user:ann", "a.ipynb")
        assert [f.path for f in await versions.list_files(s, ANN, "user:ann", deleted=True)] == [
            "a.ipynb"
        ]
        assert await versions.list_files(s, ANN, "user:ann") == []
        await versions.restore(s, ANN, "user:ann", "a.ipynb", 3)
    async with db.session() as s:
        _, content = await versions.get(s, ANN, "user:ann", "a.ipynb")
        history = await versions.history(s, ANN, "user:ann", "a.ipynb")
    assert content == notebook(edit=2)
    assert [v.action for v in history] == ["restore", "delete", "restore", "save", "save", "save"]


async def test_a_renamed_file_takes_its_history(db: Database) -> None:
    for i in range(3):
        await save(db, ANN, notebook(edit=i), path="old.ipynb", message=f"save {i}")
    moved = await save(db, ANN, notebook(edit=2), path="new.ipynb", moved_from="old.ipynb")
    assert moved.number == 4 and moved.message == "Renamed from old.ipynb."
    async with db.session() as s:
        history = await versions.history(s, ANN, "user:ann", "new.ipynb")
        assert [(v.number, v.message) for v in history[1:]] == [
            (3, "save 2"), (2, "save 1"), (1, "save 0")
        ]  # fmt: skip
        _, first = await versions.get(s, ANN, "user:ann", "new.ipynb", 1)
        assert first["cells"][0]["source"] == "x = 0  # edit 0"
        # the old path keeps its own history
        assert len(await versions.history(s, ANN, "user:ann", "old.ipynb")) == 3
    # over a path with history, a rename only adds a version
    again = await save(db, ANN, notebook(edit=5), path="new.ipynb", moved_from="old.ipynb")
    assert again.number == 5
    # nobody takes the history of a file they cannot read
    with pytest.raises(Forbidden):
        await save(db, BEN, notebook(), space="user:ann", path="b.ipynb", moved_from="old.ipynb")


async def test_other_teams_and_users_are_refused(db: Database) -> None:
    await save(db, ANN, notebook(), space="team:red", path="shared/a.ipynb")
    await save(db, ANN, notebook(), space="user:ann", path="mine.ipynb")
    async with db.session() as s:
        for space, path in (("team:red", "shared/a.ipynb"), ("user:ann", "mine.ipynb")):
            with pytest.raises(Forbidden, match="not shared with you"):
                await versions.history(s, BEN, space, path)
            with pytest.raises(Forbidden):
                await versions.get(s, BEN, space, path)
            with pytest.raises(Forbidden):
                await versions.restore(s, BEN, space, path, 1)
            with pytest.raises(Forbidden):
                await versions.delete(s, BEN, space, path)
        with pytest.raises(Forbidden, match="not a member of team 'red'"):
            await versions.list_files(s, BEN, "team:red")
        assert len(await versions.history(s, ADMIN, "team:red", "shared/a.ipynb")) == 1
    with pytest.raises(Forbidden):
        await save(db, BEN, notebook(), space="team:red", path="shared/a.ipynb")


async def test_sharing_read_only_and_read_write(db: Database) -> None:
    await save(db, ANN, notebook(edit=1), space="team:red", path="report.ipynb")
    async with db.session() as s:
        await shares.share(s, ANN, "team:red", "report.ipynb", {"with": "ben"}, GROUPS, USERS)
    async with db.session() as s:
        assert (await versions.get(s, BEN, "team:red", "report.ipynb"))[1] == notebook(edit=1)
    with pytest.raises(Forbidden, match="read-only"):
        await save(db, BEN, notebook(edit=2), space="team:red", path="report.ipynb")
    async with db.session() as s:
        await shares.share(
            s,
            ANN,
            "team:red",
            "report.ipynb",
            {"kind": "team", "with": "blue", "mode": "rw"},
            GROUPS,
            USERS,
        )
    assert (
        await save(db, BEN, notebook(edit=2), space="team:red", path="report.ipynb")
    ).number == 2
    async with db.session() as s:
        assert [r.grantee for r in await shares.shared_with(s, BEN)] == ["ben", "blue"]
        with pytest.raises(Forbidden, match="Only the space's owner"):
            await shares.share(s, BEN, "team:red", "report.ipynb", {"with": "admin"}, GROUPS, USERS)
        await shares.unshare(s, ANN, "team:red", "report.ipynb", "team", "blue")
    with pytest.raises(Forbidden):
        await save(db, BEN, notebook(edit=3), space="team:red", path="report.ipynb")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"space": "nobody"}, InvalidInput, "'space' must be"),
        ({"path": "../etc/passwd"}, InvalidInput, "plain relative path"),
        ({"path": ""}, InvalidInput, "must name a file"),
        ({"content": {"cells": "no"}}, InvalidInput, "'cells' list"),
        ({"content": 5, "fmt": "text"}, InvalidInput, "must be a string"),
        ({"content": "***", "fmt": "base64"}, InvalidInput, "not valid base64"),
        ({"fmt": "pdf"}, InvalidInput, "Unknown format"),
        ({"message": "x" * 1001}, InvalidInput, "at most 1000"),
        ({"base_version": 3}, Conflict, "does not exist"),
    ],
)
async def test_bad_saves_are_refused(db: Database, kwargs: dict, error: type, message: str) -> None:
    args = {"content": notebook(), "space": "user:ann", "path": "a.ipynb", "fmt": "notebook"}
    args.update(kwargs)
    content = args.pop("content")
    with pytest.raises(error, match=message):
        await save(db, ANN, content, **args)


async def test_a_manifest_save_sends_only_new_parts(db: Database) -> None:
    first = notebook(edit=1)
    await save(db, ANN, first)
    changed = copy.deepcopy(first)
    changed.cells[2].source = "y = 42"
    manifest, parts = contentaddr.split(changed, "notebook")
    new_cell = manifest["cells"][2]
    async with db.session() as s:
        with pytest.raises(Conflict) as refused:  # nothing sent: the new cell is missing
            await versions.save(s, ANN, "user:ann", "a.ipynb", manifest=manifest, parts={}, size=10)
    assert refused.value.missing == [new_cell]
    async with db.session() as s:
        info = await versions.save(
            s,
            ANN,
            "user:ann",
            "a.ipynb",
            manifest=manifest,
            parts={new_cell: parts[new_cell]},
            size=10,
        )
        assert (await versions.get(s, ANN, "user:ann", "a.ipynb"))[1] == changed
    assert info.number == 2
    async with db.session() as s:
        with pytest.raises(InvalidInput, match="does not match its hash"):
            await versions.save(
                s,
                ANN,
                "user:ann",
                "a.ipynb",
                manifest=manifest,
                parts={new_cell: b"tampered"},
                size=10,
            )


async def test_a_new_file_where_a_deleted_one_lived_has_its_own_history(db: Database) -> None:
    for i in range(2):
        await save(db, ANN, notebook(edit=i), path="old.ipynb")
    async with db.session() as s:
        await versions.delete(s, ANN, "user:ann", "old.ipynb")
    async with db.session() as s:  # the deleted file keeps its history under its path
        deleted = await versions.history(s, ANN, "user:ann", "old.ipynb")
        assert [v.action for v in deleted] == ["delete", "save", "save"]
    fresh = await save(db, ANN, notebook(edit=9), path="old.ipynb", message="unrelated")
    async with db.session() as s:
        history = await versions.history(s, ANN, "user:ann", "old.ipynb")
        assert [(v.number, v.message) for v in history] == [(fresh.number, "unrelated")]
        everything = await versions.history(s, ANN, "user:ann", "old.ipynb", earlier_files=True)
        assert [v.action for v in everything] == ["save", "delete", "save", "save"]
        _, first = await versions.get(s, ANN, "user:ann", "old.ipynb", 1)  # still recoverable
        assert first == notebook(edit=0)
    # a rename takes only the file's own versions, not those of files deleted before it
    moved = await save(db, ANN, notebook(edit=9), path="moved.ipynb", moved_from="old.ipynb")
    async with db.session() as s:
        history = await versions.history(s, ANN, "user:ann", "moved.ipynb")
    assert [v.number for v in history] == [moved.number, fresh.number]


def _text_manifest(data: bytes) -> tuple[dict, str]:
    key = contentaddr.digest(data)
    return {"format": "text", "content": key}, key


async def test_a_manifest_cannot_tell_whether_another_space_stored_a_part(db: Database) -> None:
    await save(db, ANN, "the red team's secret", space="team:red", path="s.txt", fmt="text")
    answers = []
    for guess in (b"the red team's secret", b"a wrong guess"):
        manifest, key = _text_manifest(guess)
        async with db.session() as s:
            with pytest.raises(versions.MissingParts) as refused:
                await versions.save(
                    s, BEN, "user:ben", "g.txt", manifest=manifest, parts={}, size=len(guess)
                )
        assert refused.value.missing == [key]
        answers.append((type(refused.value), refused.value.status, refused.value.message))
    assert answers[0] == answers[1]
    async with db.session() as s:
        with pytest.raises(NotFound):
            await versions.get(s, BEN, "user:ben", "g.txt")
    # the same space deduplicates: another file of team red names the part without it
    manifest, _ = _text_manifest(b"the red team's secret")
    async with db.session() as s:
        await versions.save(s, ANN, "team:red", "copy.txt", manifest=manifest, parts={}, size=21)


async def test_a_writer_through_a_share_sends_every_part(db: Database) -> None:
    await save(db, ANN, "shared text", space="user:ann", path="doc.txt", fmt="text")
    await save(db, ANN, "ann's other file", space="user:ann", path="private.txt", fmt="text")
    async with db.session() as s:
        await shares.share(
            s, ANN, "user:ann", "doc.txt", {"with": "ben", "mode": "rw"}, GROUPS, USERS
        )
    # ben writes doc.txt but cannot probe what else ann's space holds
    manifest, key = _text_manifest(b"ann's other file")
    async with db.session() as s:
        with pytest.raises(versions.MissingParts) as refused:
            await versions.save(s, BEN, "user:ann", "doc.txt", manifest=manifest, parts={}, size=16)
    assert refused.value.missing == [key]
    async with db.session() as s:
        info = await versions.save(
            s, BEN, "user:ann", "doc.txt", manifest=manifest,
            parts={key: b"ann's other file"}, size=16,
        )  # fmt: skip
    assert info.number == 2


async def test_a_save_repeating_its_idempotency_key_returns_the_version_it_made(
    db: Database,
) -> None:
    first = await save(db, ANN, notebook(edit=1), idempotency_key="rec-1")
    # the same save again (a replay, or a retry whose answer was lost), even after another
    # version came in and against a stale base: the same version, nothing recorded
    await save(db, ANN, notebook(edit=2))
    again = await save(db, ANN, notebook(edit=1), idempotency_key="rec-1", base_version=0)
    assert again == first and again.number == 1
    # concurrent repeats of a new key record one version
    infos = await asyncio.gather(
        *(save(db, ANN, notebook(edit=3), idempotency_key="rec-3") for _ in range(4))
    )
    assert {i.number for i in infos} == {3}
    # a key is per file: another file's save with it is its own version
    other = await save(db, ANN, notebook(edit=1), path="b.ipynb", idempotency_key="rec-1")
    assert (other.path, other.number) == ("b.ipynb", 1)
    async with db.session() as s:
        history = await versions.history(s, ANN, "user:ann", "a.ipynb")
        assert [v.number for v in history] == [3, 2, 1]
        # another team's user repeating the key is refused, not answered with the version
        with pytest.raises(Forbidden):
            await versions.save(
                s, BEN, "user:ann", "a.ipynb", content=notebook(), format="notebook",
                idempotency_key="rec-1",
            )  # fmt: skip
    for bad in ("", "x" * 65, "a b", "ключ", 5):
        with pytest.raises(InvalidInput, match="idempotency key"):
            await save(db, ANN, notebook(), idempotency_key=bad)
