"""The writer thread: writes run in the order handed over, and a write that
drops many data files, or any while others queue, is answered before they are unlinked."""
from __future__ import annotations

import asyncio
import fcntl
import os
import threading
from pathlib import Path

import pytest

from s3emu.storage import Store
from s3emu.storage.db import transaction
from s3emu.storage.garbage import WAIT_FOR_AT_MOST

from .test_reads import _multipart


def _files(store: Store) -> int:
    return len(list((store.root / "blobs").rglob("*/*")))


def test_many_dropped_files_are_unlinked_after_the_answer(tmp_path: Path) -> None:
    store = Store(tmp_path, durable=False)
    store.create_bucket("b", "us-east-1")
    parts = WAIT_FOR_AT_MOST + 6
    go = threading.Event()
    seen: list[int] = []

    async def scenario() -> None:
        await _multipart(store, "lone", [b"z"] * 2)
        await _multipart(store, "big", [b"x"] * parts)
        await _multipart(store, "small", [b"y"] * 2)
        # nothing queued behind it: a delete's few files go before its answer
        await store.call(store.delete_object, "b", "lone")
        seen.append(await store.call(_files, store))
        # queued behind a job that waits: the deletes, then a look at the files, in that order
        jobs = [asyncio.ensure_future(store.call(go.wait, 30)),
                asyncio.ensure_future(store.call(store.delete_object, "b", "small")),
                asyncio.ensure_future(store.call(store.delete_object, "b", "big")),
                asyncio.ensure_future(store.call(lambda: seen.append(_files(store))))]
        await asyncio.sleep(0)
        go.set()
        await asyncio.gather(*jobs)

    asyncio.run(scenario())
    # with jobs waiting, neither delete waited for its unlinks (the big one would not anyway)
    assert seen == [parts + 2, parts + 2]
    store.close()  # the writer's `after` collects for them all, at the latest as it stops
    assert _files(store) == 0


def test_a_write_transaction_holds_the_writers_lock_file(tmp_path: Path) -> None:
    """Writers of every process take an flock on meta.lock for their transaction,
    so one waiting for another sleeps in the kernel, not in SQLite's polling."""
    store = Store(tmp_path, durable=False)
    probe = os.open(tmp_path / "meta.lock", os.O_RDWR | os.O_CREAT)
    try:
        def locked() -> bool:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(probe, fcntl.LOCK_UN)
            return False

        with transaction(store.db) as db:
            db.execute("SELECT 1")
            assert locked()
        assert not locked()
        with pytest.raises(ZeroDivisionError), transaction(store.db):
            assert locked()
            raise ZeroDivisionError  # a failed transaction lets go of the lock too
        assert not locked()
    finally:
        os.close(probe)
        store.close()
