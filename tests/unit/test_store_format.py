"""The data directory's format version and the transaction rules, on a Store used directly."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import AsyncIterator

import pytest

from s3emu.storage import Store, UnsupportedDataDirectory
from s3emu.storage.errors import NoSuchBucket
from s3emu.storage.db import SCHEMA, VERSION, transaction


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _user_version(path: Path) -> int:
    conn = sqlite3.connect(path / "meta.sqlite3")
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def _set_user_version(path: Path, version: int) -> None:
    conn = sqlite3.connect(path / "meta.sqlite3")
    try:
        conn.execute(f"PRAGMA user_version={version}")
    finally:
        conn.close()


def test_a_new_directory_records_the_current_format(tmp_path: Path) -> None:
    Store(tmp_path, durable=False).close()
    assert _user_version(tmp_path) == VERSION >= 1


def test_a_directory_from_before_the_format_was_recorded_opens_with_its_data(tmp_path: Path) -> None:
    store = Store(tmp_path, durable=False)
    store.create_bucket("b", "us-east-1")
    asyncio.run(store.put_object("b", "k", _body(b"data"), meta={}, size=4))
    store.close()
    _set_user_version(tmp_path, 0)  # as every directory written before user_version was set
    store = Store(tmp_path, durable=False)
    try:
        assert store.get_object("b", "k").size == 4
        assert _user_version(tmp_path) == VERSION
    finally:
        store.close()


def test_a_format_3_directory_gains_the_outbox_and_keeps_its_data(tmp_path: Path) -> None:
    store = Store(tmp_path, durable=False)
    store.create_bucket("b", "us-east-1")
    store.close()
    conn = sqlite3.connect(tmp_path / "meta.sqlite3")
    conn.executescript("DROP TABLE outbox; DROP TABLE job_leases; PRAGMA user_version=3;")  # as format 3 wrote it
    conn.close()
    store = Store(tmp_path, durable=False)
    try:
        assert store.get_bucket("b").name == "b" and _user_version(tmp_path) == VERSION == 5
        assert store.outbox.add([("target", {"m": 1})]) == 1
        assert [m.message for m in store.outbox.heads()] == [{"m": 1}]
    finally:
        store.close()


def test_a_format_4_directory_gains_the_bucket_generation_and_incremental_vacuum(tmp_path: Path) -> None:
    store = Store(tmp_path, durable=False)
    store.create_bucket("b", "us-east-1")
    store.close()
    conn = sqlite3.connect(tmp_path / "meta.sqlite3")
    conn.executescript("DROP TRIGGER buckets_inserted; DROP TRIGGER buckets_updated; DROP TRIGGER buckets_deleted;"
                       " DROP TABLE generations; DROP TRIGGER inline_segment_deleted; DROP TABLE inline_data;"
                       " PRAGMA auto_vacuum=NONE; VACUUM; PRAGMA user_version=4;")  # as format 4 wrote it
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    conn.close()
    store = Store(tmp_path, durable=False)
    try:
        assert store.get_bucket("b").versioning is None and _user_version(tmp_path) == VERSION == 5
        # rewritten once, so that the pages deleted small objects free can go back to the disk
        conn = sqlite3.connect(tmp_path / "meta.sqlite3")
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # INCREMENTAL, in the file's header
        conn.close()
        store.put_bucket_versioning("b", "Enabled")
        assert store.get_bucket("b").versioning == "Enabled"
    finally:
        store.close()


def test_a_bucket_read_again_shows_what_another_process_changed(tmp_path: Path) -> None:
    # two Stores on one directory stand for two workers: each keeps the rows it read
    first, second = Store(tmp_path, durable=False), Store(tmp_path, durable=False)
    try:
        first.create_bucket("b", "us-east-1")
        assert first.get_bucket("b").versioning is None and second.get_bucket("b").versioning is None
        first.put_bucket_versioning("b", "Enabled")
        assert second.get_bucket("b").versioning == "Enabled"
        first.delete_bucket("b")
        with pytest.raises(NoSuchBucket):
            second.get_bucket("b")
    finally:
        first.close()
        second.close()


def test_a_rolled_back_bucket_change_is_never_read_afterwards(tmp_path: Path) -> None:
    store = Store(tmp_path, durable=False)
    try:
        store.create_bucket("b", "us-east-1")
        with pytest.raises(RuntimeError):
            with transaction(store.db):
                store.db.execute("UPDATE buckets SET region='rolled-back' WHERE name='b'")
                assert store.get_bucket("b").region == "rolled-back"  # read inside: now in the cache
                raise RuntimeError("abandon")
        # another change committed before any read: the cache must not answer for it
        store.db.execute("UPDATE buckets SET region='eu-west-1' WHERE name='b'")
        assert store.get_bucket("b").region == "eu-west-1"
    finally:
        store.close()


def test_one_lease_holder_at_a_time(tmp_path: Path) -> None:
    first, second = Store(tmp_path, durable=False), Store(tmp_path, durable=False)
    try:
        assert first.outbox.take_lease("job", "a", 30) and first.outbox.take_lease("job", "a", 30)
        assert not second.outbox.take_lease("job", "b", 30)
        first.outbox.release_lease("job", "a")
        assert second.outbox.take_lease("job", "b", 30)
    finally:
        first.close()
        second.close()


def test_a_directory_from_a_newer_s3emu_is_refused_untouched(tmp_path: Path) -> None:
    Store(tmp_path, durable=False).close()
    _set_user_version(tmp_path, VERSION + 1)
    with pytest.raises(UnsupportedDataDirectory) as excinfo:
        Store(tmp_path, durable=False)
    message = str(excinfo.value)
    assert "\n" not in message and str(tmp_path) in message and "newer s3emu" in message
    assert _user_version(tmp_path) == VERSION + 1


def test_transactions_do_not_nest(tmp_path: Path) -> None:
    store = Store(tmp_path, durable=False)
    try:
        with transaction(store.db):
            with pytest.raises(RuntimeError, match="do not nest"):
                with transaction(store.db):
                    pass
            store.db.execute("INSERT INTO buckets(name, created, region) VALUES ('kept', 0, 'r')")
        assert store.get_bucket("kept").region == "r"  # the outer transaction still committed
    finally:
        store.close()


def test_a_format_1_directory_gains_bucket_owners(tmp_path: Path) -> None:
    """Buckets written before owners were recorded read back with owner None:
    the server's default account."""
    conn = sqlite3.connect(tmp_path / "meta.sqlite3")
    conn.executescript(SCHEMA)
    conn.execute("INSERT INTO buckets(name, created, region) VALUES ('old', 0, 'us-east-1')")
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()
    store = Store(tmp_path, durable=False)
    try:
        assert store.get_bucket("old").owner is None
        store.create_bucket("new", "us-east-1", owner="a" * 64)
        assert store.get_bucket("new").owner == "a" * 64
        assert _user_version(tmp_path) == VERSION
    finally:
        store.close()
