"""The writer thread: writes run in the order handed over, and a write that
drops data files is answered before they are unlinked."""
from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from s3emu.storage import Store
from s3emu.storage.blobs import IN_DATABASE_BYTES
from s3emu.storage.db import CHECKPOINT_FRAMES, Database, transaction, wal_bytes
from s3emu.storage.errors import ObjectExists
from s3emu.storage.objects import WriteCondition
from s3emu.storage.writer import Outcomes, Staged

from .test_reads import _multipart


def _files(store: Store) -> int:
    return len(list((store.root / "blobs").rglob("*/*")))


def test_dropped_files_are_unlinked_after_the_answer(tmp_path: Path) -> None:
    """A delete (of one file or many), a Complete over a multipart object:
    each is answered while the unlinking of what it dropped is held up."""
    store = Store(tmp_path, durable=False)
    store.create_bucket("b", "us-east-1")
    release = threading.Event()
    real_delete = store.blobs.delete

    def held_delete(files: Any) -> list[str]:
        release.wait(30)
        return real_delete(files)

    async def answered_first(write: Any) -> tuple[int, int]:
        """Files before the write and at its answer, the unlinking held up meanwhile."""
        # what the write before dropped is gone: the writer's own collection runs only once its
        # queue is empty, which it may not be by then
        await store.call(store.garbage.collect, True)
        before = await store.call(_files, store)
        release.clear()
        await write()
        at_answer = _files(store)
        release.set()
        return before, at_answer

    async def scenario() -> list[tuple[int, int]]:
        await _multipart(store, "lone", [b"z"])
        await _multipart(store, "big", [b"x"] * 70)
        await _multipart(store, "replaced", [b"y"] * 2)
        store.blobs.delete = held_delete  # type: ignore[method-assign]
        return [await answered_first(lambda: store.call(store.delete_object, "b", "lone")),
                await answered_first(lambda: store.call(store.delete_object, "b", "big")),
                # its Complete drops the 2 files of the object it replaces
                await answered_first(lambda: _multipart(store, "replaced", [b"w"] * 3))]

    try:
        seen = asyncio.run(scenario())
    finally:
        release.set()
        store.close()  # the writer's `after` collects what is left, at the latest as it stops
    assert seen == [(73, 73), (72, 72), (2, 5)]  # nothing unlinked when each was answered
    assert _files(store) == 3


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


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data


PAD = b"." * IN_DATABASE_BYTES  # bodies with data files of their own


def test_writes_queued_together_share_a_commit_and_fail_alone(tmp_path: Path) -> None:
    """Puts queued behind a busy writer commit in one transaction; a conditional
    one refused inside it is rolled back alone, its data file removed."""
    store = Store(tmp_path, durable=True)
    store.create_bucket("b", "us-east-1")
    go = threading.Event()
    commits: list[int] = []
    original = store._commit_staged

    def counting(staged: list[Staged]) -> Outcomes:
        commits.append(len(staged))
        return original(staged)
    store.writer._commit = counting

    async def scenario() -> list[Any]:
        blocker = asyncio.ensure_future(store.call(go.wait, 30))
        puts = [asyncio.ensure_future(store.put_object("b", key, _body(data), meta={"headers": {}, "user": {}},
                                                       condition=WriteCondition(if_none_match=True)))
                for key, data in [("k1", PAD + b"one"), ("k2", PAD + b"two"), ("k1", PAD + b"again"),
                                  ("k3", PAD + b"three")]]
        for _ in range(3000):  # until every put has written its file and queued its commit
            if store.writer._jobs.qsize() == 4:
                break
            await asyncio.sleep(0.01)
        assert store.writer._jobs.qsize() == 4
        go.set()
        await blocker
        return await asyncio.gather(*puts, return_exceptions=True)

    results = asyncio.run(scenario())
    assert commits == [4]
    # the If-None-Match put on k1 committed second (files may be written in either order) saw the first
    refused = [i for i in (0, 2) if isinstance(results[i], ObjectExists)]
    assert len(refused) == 1
    assert sorted(r.key for r in results if not isinstance(r, BaseException)) == ["k1", "k2", "k3"]
    with store.snapshot():
        assert store.get_object("b", "k1").size == len(PAD) + (5 if refused == [0] else 3)
    assert _files(store) == 3  # the refused put's file went with it
    store.close()


def test_a_group_whose_transaction_is_lost_fails_whole(tmp_path: Path) -> None:
    """When SQLite abandons the shared transaction, no write in it happened:
    each is answered with the error and undone."""
    store = Store(tmp_path, durable=False)
    store.create_bucket("b", "us-east-1")
    undone: list[str] = []

    def lose() -> None:
        store.db.execute("ROLLBACK")  # as SQLite does itself on some I/O errors
        raise sqlite3.OperationalError("disk I/O error")

    def insert(name: str) -> str:
        store.db.execute("INSERT INTO garbage(file) VALUES (?)", (name,))
        return name

    staged = [Staged(lambda: insert("a"), lambda: undone.append("a")), Staged(lose, lambda: undone.append("lost")),
              Staged(lambda: insert("c"), lambda: undone.append("c"))]
    outcomes = store._commit_staged(staged)
    assert [ok for ok, _ in outcomes] == [False, False, False]
    assert isinstance(outcomes[0][1], sqlite3.OperationalError)
    assert undone == ["a", "lost", "c"]
    assert store.db.execute("SELECT COUNT(*) FROM garbage").fetchone()[0] == 0
    store.close()


def _wal(store: Store) -> int:
    """The size in bytes of the store's write-ahead log file."""
    return (store.root / "meta.sqlite3-wal").stat().st_size


def _filler(store: Store, commits: int) -> int:
    """Commits of two pages and more each, in a table of the test's own: the log's size then."""
    store.db.execute("CREATE TABLE IF NOT EXISTS filler(x)")
    for _ in range(commits):
        store.db.execute("INSERT INTO filler(x) VALUES (?)", ("x" * 5000,))
    return _wal(store)


def test_the_log_is_copied_after_the_answer_not_in_a_commit(tmp_path: Path) -> None:
    """The writer's commits leave the write-ahead log as it is; once it holds
    more than CHECKPOINT_FRAMES pages it is copied into the database after the
    answer of the job that filled it, and the next commit starts it over, its
    file cut back to that many pages."""
    store = Store(tmp_path, durable=False)
    limit = wal_bytes(store.db.execute("PRAGMA page_size").fetchone()[0])
    armed, release = threading.Event(), threading.Event()
    real = store.writer._after_each
    assert real is not None

    def held() -> object:  # the after-job of the job that armed it waits for release
        if armed.is_set():
            release.wait(30)
        return real()

    def fill_then_hold(commits: int) -> int:  # on the writer thread: its own after-job is held
        size = _filler(store, commits)
        armed.set()
        return size

    store.writer._after_each = held  # before any job: an after-job runs after its answer, whenever

    async def scenario() -> tuple[int, int]:
        await store.call(_filler, store, 1)  # the writer's first after-job turns its commits' checkpoints off
        at_answer = await store.call(fill_then_hold, CHECKPOINT_FRAMES)  # answered while its copy waits
        release.set()
        return at_answer, await store.call(_filler, store, 1)

    try:
        at_answer, after = asyncio.run(scenario())
    finally:
        release.set()
        store.close()
    assert at_answer > wal_bytes(4096, 3 * CHECKPOINT_FRAMES // 2)  # no commit copied the log: it grew on
    assert after == limit  # copied, started over by the next commit and cut back


def test_puts_keep_the_log_near_its_checkpoint_size(tmp_path: Path) -> None:
    """Through many writes the log is copied as it fills: its file stays near
    CHECKPOINT_FRAMES pages."""
    store = Store(tmp_path, durable=False)
    store.create_bucket("b", "us-east-1")

    async def scenario() -> None:
        for n in range(600):  # about 5 pages each: the log fills three times over
            await store.put_object("b", f"k{n % 50}", _body(PAD), meta={"headers": {}, "user": {}})

    try:
        asyncio.run(scenario())
        wal = _wal(store)
    finally:
        store.close()
    assert wal <= wal_bytes(4096, CHECKPOINT_FRAMES + 50)


def _locks_on(path: Path) -> int:
    """POSIX locks this process holds on `path` (Linux's /proc/locks)."""
    inode = path.stat().st_ino
    pid = str(os.getpid())
    return sum(1 for line in Path("/proc/locks").read_text().splitlines()
               if line.split()[4] == pid and line.split()[5].endswith(f":{inode}"))


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="Linux's /proc/locks lists the locks held")
def test_closing_one_store_leaves_sqlites_locks_of_another(tmp_path: Path) -> None:
    """Two stores of one directory in a process (two embedded servers): closing
    one, after its writer ran, must not drop the locks SQLite holds on the log's
    index for the other (closing any descriptor of a file drops them all)."""
    first = Store(tmp_path, durable=False)
    first.create_bucket("b", "us-east-1")
    shm = tmp_path / "meta.sqlite3-shm"
    try:
        held = _locks_on(shm)
        assert held >= 1
        second = Store(tmp_path, durable=False)
        asyncio.run(second.call(_filler, second, CHECKPOINT_FRAMES))  # its writer's after-jobs ran
        second.close()
        assert _locks_on(shm) == held
    finally:
        first.close()


def test_the_copy_waits_for_another_writer_to_finish(tmp_path: Path) -> None:
    """The log is copied holding the writers' lock, as it was inside a commit:
    another process's writes cannot append to it meanwhile, so once copied it
    can start over (with `--workers 2` it otherwise grew without end)."""
    store = Store(tmp_path, durable=False)
    other = Database(tmp_path / "meta.sqlite3", durable=False)  # another process's writer
    order: list[str] = []
    asked = threading.Event()
    try:
        store.writer._after_each = None  # the test copies the log itself
        # as the writer's first after-job would have (it runs after its answer, whenever): from
        # now on the writer's commits leave the log as it is
        assert not asyncio.run(store.call(store.db.checkpoint_when_due))
        asyncio.run(store.call(_filler, store, CHECKPOINT_FRAMES))  # the log is due a copy

        def copy() -> None:
            asked.set()
            assert store.db.checkpoint_when_due()
            order.append("copied")

        with other.write_lock():
            copier = threading.Thread(target=copy)
            copier.start()
            asked.wait(30)
            copier.join(0.5)  # time enough to end, had it not waited for the lock
            order.append("released")
        copier.join(30)
    finally:
        other.close()
        store.close()
    assert order == ["released", "copied"]
