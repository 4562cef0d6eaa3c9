"""The journal of saves on disk (no hub): records survive a reopen and done ones do not,
times read as UTC, a large file saved again is stored as its change, a torn record at
the end is ignored, and an orphaned server's folder is adopted.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from submarine_hub.server import journal as journal_mod
from submarine_hub.server import journal_push
from submarine_hub.server.journal import JournalFolder


def record(seq: int, path: str = "a.ipynb") -> dict[str, Any]:
    return {"seq": seq, "action": "save", "space": "user:u", "path": path, "format": "text"}


def test_records_survive_a_reopen_and_done_ones_do_not(tmp_path: Path) -> None:
    disk = JournalFolder(tmp_path, "default")
    assert disk.open() == []
    seqs = []
    for i in range(3):
        seqs.append(disk.next_seq())
        disk.write(record(seqs[-1]), f"version {i}".encode())
    assert [h["seq"] for h in journal_mod.queued(disk.folder)] == seqs
    assert [disk.data(q) for q in seqs] == [b"version 0", b"version 1", b"version 2"]
    disk.remove(seqs[0])
    disk.close()

    again = JournalFolder(tmp_path, "default")
    found = again.open()
    assert [h["seq"] for h in found] == seqs[1:]
    assert [again.data(q) for q in seqs[1:]] == [b"version 1", b"version 2"]
    assert again.next_seq() > seqs[-1]  # numbers keep increasing
    for seq in seqs[1:]:
        again.remove(seq)
    # the old segment, all done, is gone; only the new (empty) one is left
    assert len(list(again.folder.glob("*.log"))) == 1
    assert journal_mod.queued(again.folder) == []
    again.close()


def test_a_time_without_an_offset_is_utc_whatever_the_sessions_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a session east of UTC read SQLite's offset-less created_at as Tokyo time, 9 h early,
    # so a replayed save was not found in history and was recorded twice
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        when = journal_push._aware("2026-05-01T12:00:00.5")
        assert when == datetime(2026, 5, 1, 12, 0, 0, 500000, tzinfo=timezone.utc)
        assert journal_push._aware("2026-05-01T21:00:00+09:00") == datetime(
            2026, 5, 1, 12, tzinfo=timezone.utc
        )
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_large_file_saved_again_is_stored_as_its_change(tmp_path: Path) -> None:
    disk = JournalFolder(tmp_path, "default")
    disk.open()
    image = os.urandom(200_000)  # a notebook's big output, unchanged from save to save
    # one cell edited per save (its length changes too), the image after it unchanged
    versions = [b"{cells: [" + b"x = %d\n" % (10**i) + image + b"]}" for i in range(5)]
    seqs, stored = [], []
    for content in versions:
        seqs.append(disk.next_seq())
        stored.append(disk.write(record(seqs[-1], "big.ipynb"), content).length)
    assert stored[0] == len(versions[0])
    assert max(stored[1:]) < 4 * 1024  # kilobytes, not the image again
    disk.remove(seqs[0])  # done: still the base of the others
    disk.close()

    again = JournalFolder(tmp_path, "default")  # rebuilt from the segment alone
    assert [h["seq"] for h in again.open()] == seqs[1:]
    assert [again.data(q) for q in reversed(seqs[1:])] == versions[:0:-1]
    again.close()


def test_a_torn_record_at_the_end_is_ignored(tmp_path: Path) -> None:
    disk = JournalFolder(tmp_path, "default")
    disk.open()
    whole = disk.next_seq()
    disk.write(record(whole), b"whole")
    slot = disk.write(record(disk.next_seq()), b"torn by a kill in the middle of an append")
    disk.close()
    with open(slot.segment, "r+b") as f:  # as if the process died in the middle of the append
        f.truncate(slot.offset + 5)
    again = JournalFolder(tmp_path, "default")
    assert [h["seq"] for h in again.open()] == [whole]
    assert again.data(whole) == b"whole"
    again.close()


def test_a_live_servers_folder_is_left_alone_and_an_orphan_adopted(tmp_path: Path) -> None:
    live = JournalFolder(tmp_path, "default")
    live.open()
    live.write(record(live.next_seq(), "live.ipynb"), b"live")
    orphan = JournalFolder(tmp_path, "gone")
    orphan.open()
    orphan.write(record(orphan.next_seq(), "orphan.ipynb"), b"orphan")
    orphan.close()  # a server that stopped with a record queued

    second = JournalFolder(tmp_path, "default")  # the same name, while the first runs
    found = second.open()
    assert second.folder.name == f"default.{os.getpid()}"
    assert [h["path"] for h in found] == ["orphan.ipynb"]
    assert second.data(found[0]["seq"]) == b"orphan"
    second.remove(found[0]["seq"])
    assert not (tmp_path / "gone").exists()  # drained, released, removed
    second.close()
    live.close()
