"""Reads that hold their object version whatever happens to its key: files
opened in the snapshot that found them, leases for versions with more files
than a read opens at once, and ids that are never handed out again."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import AsyncIterator

import pytest

from s3emu.storage import CompletedPart, Store
from s3emu.storage.db import VERSION
from s3emu.storage.errors import DataFileMissing
from s3emu.storage.reads import OPEN_AT_ONCE


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _multipart(store: Store, key: str, parts: list[bytes]) -> None:
    upload = await store.call(store.create_multipart_upload, "b", key, {})
    done = []
    for n, data in enumerate(parts, 1):
        part = await store.upload_part("b", key, upload.upload_id, n, _body(data), size=len(data))
        done.append(CompletedPart(n, part.etag))
    await store.call(store.complete_multipart_upload, "b", key, upload.upload_id, done, min_part_size=0)


async def _read_all(store: Store, key: str) -> tuple[bytes, int]:
    """Open key's bytes in a snapshot, hold them, then delete the key before reading."""
    with store.snapshot():
        info = store.get_object("b", key)
        opened = store.open_range(info, 0, info.size - 1)
    await store.hold(opened)
    await store.call(store.delete_object, "b", key)  # gone while the read goes on
    try:
        data = b"".join([chunk async for chunk in store.read_range(opened)])
        return data, len(list((store.root / "blobs").rglob("*/*")))
    finally:
        await opened.close()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path, durable=False)
    store.create_bucket("b", "us-east-1")
    return store


@pytest.mark.parametrize("count", [3, OPEN_AT_ONCE + 5])  # opened at once / opened as read, under a lease
def test_a_read_finishes_the_version_it_began(store: Store, count: int) -> None:
    parts = [bytes([65 + n % 26]) * (n + 1) for n in range(count)]

    async def scenario() -> tuple[bytes, int]:
        await _multipart(store, "k", parts)
        return await _read_all(store, "k")

    try:
        data, files_during = asyncio.run(scenario())
    finally:
        store.close()  # the writer's `after` has unlinked what the ended lease let go
    assert data == b"".join(parts)
    assert len(list((store.root / "blobs").rglob("*/*"))) == 0  # the deleted version's files went too
    if count > OPEN_AT_ONCE:
        assert files_during == count  # held back from deletion while the read went on


def test_a_version_dropped_before_the_lease_is_read_again(store: Store) -> None:
    parts = [b"x"] * (OPEN_AT_ONCE + 1)

    async def scenario() -> None:
        await _multipart(store, "k", parts)
        with store.snapshot():
            info = store.get_object("b", "k")
            opened = store.open_range(info, 0, info.size - 1)
        await store.call(store.delete_object, "b", "k")  # between the snapshot and the lease
        with pytest.raises(DataFileMissing):
            await store.hold(opened)

    try:
        asyncio.run(scenario())
    finally:
        store.close()


def test_a_small_version_dropped_before_its_files_open_is_missing(store: Store) -> None:
    async def scenario() -> None:
        await store.put_object("b", "k", _body(b"old"), meta={}, size=3)
        info = store.get_object("b", "k")
        await store.call(store.delete_object, "b", "k")
        with pytest.raises(DataFileMissing):
            store.open_range(info, 0, 2)  # a stale snapshot: the caller looks again

    try:
        asyncio.run(scenario())
    finally:
        store.close()


def test_object_ids_are_not_handed_out_again(store: Store) -> None:
    async def scenario() -> list[int]:
        ids = []
        for i in range(20):  # each overwrite drops the newest row: SQLite would reuse its id
            ids.append((await store.put_object("b", "k", _body(b"%d" % i), meta={}, size=len(b"%d" % i))).id)
        return ids

    try:
        ids = asyncio.run(scenario())
    finally:
        store.close()
    assert len(set(ids)) == len(ids)


def test_a_format_2_directory_gains_the_lease_tables(tmp_path: Path) -> None:
    store = Store(tmp_path, durable=False)
    store.close()
    conn = sqlite3.connect(tmp_path / "meta.sqlite3")
    conn.executescript("DROP TABLE read_leases; DROP TABLE held_garbage; PRAGMA user_version=2;")
    conn.close()
    store = Store(tmp_path, durable=False)
    try:
        tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"read_leases", "held_garbage"} <= tables
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == VERSION
    finally:
        store.close()
