"""Small objects keep their bytes in the metadata database: no data file is
made, reads and ranges come from the row read in the snapshot, and the bytes
go with the version whichever way it is dropped."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import AsyncIterator

import pytest

from s3emu.storage import Store
from s3emu.storage.blobs import IN_DATABASE_BYTES
from s3emu.storage import db
from s3emu.storage.db import FREE_PAGES_KEPT
from s3emu.storage.errors import DataFileMissing, NoSuchKey
from s3emu.storage.fsck import check
from s3emu.storage.objects import ALWAYS

META = {"headers": {}, "user": {}}


async def _body(data: bytes) -> AsyncIterator[bytes]:
    half = len(data) // 2
    yield data[:half]  # in two chunks, as a body arrives
    yield data[half:]


def _put(store: Store, key: str, data: bytes) -> None:
    asyncio.run(store.put_object("b", key, _body(data), meta=META, size=len(data)))


def _read(store: Store, key: str, first: int = 0, last: int | None = None) -> bytes:
    with store.snapshot():
        info = store.get_object("b", key)
        opened = store.open_range(info, first, info.size - 1 if last is None else last)
    return opened.read_now()


def _files(store: Store) -> int:
    return len(list((store.root / "blobs").rglob("*/*")))


def _rows(store: Store) -> int:
    return int(store.db.execute("SELECT COUNT(*) FROM inline_data").fetchone()[0])


@pytest.fixture
def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = Store(tmp_path, durable=True)
    s.create_bucket("b", "us-east-1")
    yield s
    s.close()


def test_a_small_object_has_no_data_file_and_reads_back_whole_and_in_ranges(store: Store) -> None:
    data = bytes(range(256)) * (IN_DATABASE_BYTES // 256)
    assert len(data) == IN_DATABASE_BYTES
    _put(store, "k", data)
    assert (_files(store), _rows(store)) == (0, 1)
    assert _read(store, "k") == data
    assert _read(store, "k", 1000, 1999) == data[1000:2000]
    assert _read(store, "k", len(data) - 1) == data[-1:]


def test_one_byte_more_is_a_data_file(store: Store) -> None:
    data = b"z" * (IN_DATABASE_BYTES + 1)
    _put(store, "k", data)
    assert (_files(store), _rows(store)) == (1, 0)
    assert _read(store, "k") == data


def test_an_empty_object_needs_neither(store: Store) -> None:
    _put(store, "k", b"")
    assert _files(store) == 0
    with store.snapshot():
        assert store.get_object("b", "k").size == 0


def test_overwritten_and_deleted_bytes_go_with_their_version(store: Store) -> None:
    _put(store, "k", b"first")
    _put(store, "k", b"second")
    assert _rows(store) == 1 and _read(store, "k") == b"second"
    _put(store, "big", b"x" * (IN_DATABASE_BYTES + 1))
    _put(store, "big", b"small now")  # a file replaced by bytes in the database
    store.collect_garbage()
    assert (_files(store), _rows(store)) == (0, 2)
    store.delete_object("b", "k")
    assert _rows(store) == 1
    with pytest.raises(NoSuchKey):
        _read(store, "k")
    store.reset()
    assert _rows(store) == 0


def test_with_room_on_the_disk_deleted_bytes_leave_pages_for_new_rows(store: Store) -> None:
    keys = [f"k{i}" for i in range(80)]
    for key in keys:
        _put(store, key, b"x" * IN_DATABASE_BYTES)
    store.delete_objects("b", [(key, None, ALWAYS) for key in keys])
    free = store.db.execute("PRAGMA freelist_count").fetchone()[0]
    assert free > FREE_PAGES_KEPT  # the file keeps them (the disk of this test has room)
    for key in keys:  # and new small objects take them again
        _put(store, key, b"y" * IN_DATABASE_BYTES)
    assert store.db.execute("PRAGMA freelist_count").fetchone()[0] < free


def test_deleted_bytes_give_their_pages_back_to_a_disk_short_of_room(store: Store,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "RELEASE_BELOW_FREE_BYTES", 1 << 62)  # any disk is short of that much
    keys = [f"k{i}" for i in range(80)]
    for key in keys:
        _put(store, key, b"x" * IN_DATABASE_BYTES)
    held = 80 * IN_DATABASE_BYTES // 4096  # pages of 4 KiB
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    assert pages > held
    store.delete_objects("b", [(key, None, ALWAYS) for key in keys])
    assert store.db.execute("PRAGMA freelist_count").fetchone()[0] <= FREE_PAGES_KEPT
    assert store.db.execute("PRAGMA page_count").fetchone()[0] < pages - held + FREE_PAGES_KEPT
    assert (store.root / "meta.sqlite3-wal").stat().st_size == 0  # the log emptied too


def test_a_reader_keeps_what_it_read_when_the_key_is_overwritten(store: Store) -> None:
    _put(store, "k", b"old bytes")
    with store.snapshot():
        info = store.get_object("b", "k")
        opened = store.open_range(info, 0, info.size - 1)
    _put(store, "k", b"new bytes!")
    assert opened.read_now() == b"old bytes"
    assert _read(store, "k") == b"new bytes!"


def test_they_survive_a_reopen_and_fsck_finds_them_sound(tmp_path: Path, store: Store) -> None:
    _put(store, "k", b"kept")
    store.close()
    reopened = Store(tmp_path, durable=True)
    try:
        assert reopened.recover() == {"tmp": 0, "orphans": 0}
        assert _read(reopened, "k") == b"kept"
        report = check(reopened, verify_digests=True)
        assert report.sound and report.checked_bytes == 4
    finally:
        reopened.close()


def test_fsck_reports_bytes_in_the_database_that_changed(tmp_path: Path, store: Store) -> None:
    _put(store, "short", b"abcdef")
    _put(store, "flipped", b"abcdef")
    store.close()
    conn = sqlite3.connect(tmp_path / "meta.sqlite3")
    with conn:
        ids = dict(conn.execute("SELECT key, id FROM objects"))
        conn.execute("UPDATE inline_data SET data=? WHERE object_id=?", (b"abc", ids["short"]))
        conn.execute("UPDATE inline_data SET data=? WHERE object_id=?", (b"abcdeF", ids["flipped"]))
    conn.close()
    reopened = Store(tmp_path, durable=True)
    try:
        kinds = sorted(p.kind for p in check(reopened, verify_digests=True).problems)
        assert kinds == ["digest", "short"]
    finally:
        reopened.close()


def test_bytes_missing_from_the_database_are_a_missing_data_file_not_a_crash(store: Store) -> None:
    _put(store, "k", b"gone")
    store.db.execute("DELETE FROM inline_data")  # as a damaged database might
    with pytest.raises(DataFileMissing):
        _read(store, "k")
