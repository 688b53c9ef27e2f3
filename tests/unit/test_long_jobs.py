"""Jobs of many rows: a Complete of more parts than one statement moves
(ROWS_PER_STATEMENT), over an object of as many, the GIL shared while such
jobs run, and their giving way to the requests the event loop has ready."""
from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from s3emu.app import STORE, counted
from s3emu.storage import CompletedPart, Store, multipart_etag
from s3emu.storage import writer as writer_module
from s3emu.storage.db import ROWS_PER_STATEMENT
from s3emu.storage.writer import SHARED_SWITCH_INTERVAL, Writer, give_way, giving_way, serving, sharing_the_gil

from .test_reads import _body
from .test_writer import _files


async def _upload(store: Store, key: str, parts: dict[int, bytes]) -> tuple[str, dict[int, str]]:
    upload = await store.call(store.create_multipart_upload, "b", key, {})
    sem = asyncio.Semaphore(16)

    async def one(number: int) -> tuple[int, str]:
        async with sem:
            part = await store.upload_part("b", key, upload.upload_id, number, _body(parts[number]),
                                           size=len(parts[number]))
            return number, part.etag

    return upload.upload_id, dict(await asyncio.gather(*(one(n) for n in parts)))


async def _read(store: Store, key: str) -> bytes:
    with store.snapshot():
        info = store.get_object("b", key)
        opened = store.open_range(info, 0, info.size - 1)
    await store.hold(opened)
    try:
        return b"".join([chunk async for chunk in store.read_range(opened)])
    finally:
        await opened.close()


def test_a_complete_of_more_parts_than_one_statement_moves(tmp_path: Path) -> None:
    count = 2 * ROWS_PER_STATEMENT + 3
    first = {n: bytes([65 + n % 26]) * (1 + n % 7) for n in range(1, ROWS_PER_STATEMENT + 2)}
    # numbers with gaps, sizes that differ, and parts uploaded but not listed
    second = {n: bytes([97 + n % 26]) * (1 + n % 5) for n in range(2, 2 * count + 20, 2)}
    listed = sorted(second)[:count]
    store = Store(tmp_path, durable=False)
    store.create_bucket("b", "us-east-1")

    async def scenario() -> tuple[bytes, str, bytes, str]:
        upload_id, etags = await _upload(store, "k", first)
        await store.call(store.complete_multipart_upload, "b", "k", upload_id,
                         [CompletedPart(n, etags[n]) for n in sorted(first)], min_part_size=0)
        old = await _read(store, "k")
        upload_id, etags = await _upload(store, "k", second)
        done = [CompletedPart(n, etags[n]) for n in listed]
        info = await store.call(store.complete_multipart_upload, "b", "k", upload_id, done, min_part_size=0)
        return old, multipart_etag(etags[n] for n in listed), await _read(store, "k"), info.etag

    try:
        old, want_etag, data, etag = asyncio.run(scenario())
    finally:
        store.close()  # the replaced object's files and the unlisted parts' are unlinked by then
    assert old == b"".join(first[n] for n in sorted(first))
    assert data == b"".join(second[n] for n in listed)
    assert etag == want_etag and etag.endswith(f"-{count}")
    assert _files(store) == count


def test_the_gil_is_shared_while_a_long_job_runs() -> None:
    normal = sys.getswitchinterval()
    with sharing_the_gil(long=False):
        assert sys.getswitchinterval() == normal
    with sharing_the_gil():
        assert sys.getswitchinterval() == SHARED_SWITCH_INTERVAL
        started, ended = threading.Event(), threading.Event()

        def other_job() -> None:
            with sharing_the_gil():
                started.set()
                ended.wait(10)

        thread = threading.Thread(target=other_job)
        thread.start()
        started.wait(10)
    assert sys.getswitchinterval() == SHARED_SWITCH_INTERVAL  # the other one still runs
    ended.set()
    thread.join()
    assert sys.getswitchinterval() == normal


class _Loop:
    """Stands in for an event loop where only what was posted to it matters."""

    def __init__(self) -> None:
        self.posted = 0

    def call_soon_threadsafe(self, fn: Callable[..., object], *args: Any) -> None:
        self.posted += 1
        fn(*args)


def test_a_long_job_gives_way_to_the_requests_the_loop_has_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the event loop has ready when a long job gives way runs before the job goes on."""
    monkeypatch.setattr(writer_module, "GIVE_WAY_AT_MOST", 60.0)  # ends as soon as the loop gets to it
    writer = Writer()

    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        writer.loop, writer.requests = loop, 2
        order: list[str] = []

        def job() -> None:
            with serving(writer), sharing_the_gil():
                loop.call_soon_threadsafe(order.append, "request")
                give_way()
                order.append("job")

        await asyncio.to_thread(job)
        return order

    assert asyncio.run(scenario()) == ["request", "job"]


def test_giving_way_only_in_this_threads_long_job_with_other_requests_in_hand(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "GIVE_WAY_AFTER", 0.0)
    writer, loop = Writer(), _Loop()
    other_started, other_done = threading.Event(), threading.Event()

    def other_long_job() -> None:  # another thread's: not the writer thread's
        with sharing_the_gil():
            other_started.set()
            other_done.wait(10)

    def job() -> list[int]:  # on the writer thread, which works for `writer`
        writer.loop = loop  # type: ignore[assignment]
        posted = []
        writer.requests = 2
        give_way()  # not in a long job of its own
        posted.append(loop.posted)
        with sharing_the_gil():
            writer.requests = 1  # the job's own request only
            give_way()
            posted.append(loop.posted)
            writer.requests = 2
            give_way()
            posted.append(loop.posted)
            assert list(giving_way(range(250), every=100)) == list(range(250))
            posted.append(loop.posted)  # before items 100 and 200
        return posted

    thread = threading.Thread(target=other_long_job)
    thread.start()
    other_started.wait(10)
    try:
        assert asyncio.run(writer.run(job)) == [0, 0, 1, 3]
    finally:
        other_done.set()
        thread.join()
        writer.close()


def test_a_long_job_gives_way_once_per_stretch_of_its_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_module, "GIVE_WAY_AFTER", 60.0)
    writer, loop = Writer(), _Loop()
    writer.loop, writer.requests = loop, 2  # type: ignore[assignment]

    def job() -> int:
        with serving(writer):
            for _ in range(5):
                give_way()  # the first waits; the others come before GIVE_WAY_AFTER of work is done
        return loop.posted

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a thread that never gave way
        assert pool.submit(job).result() == 1


def test_requests_in_hand_are_counted_for_the_writer(tmp_path: Path) -> None:
    """The count goes up while a request is handled and back down however it
    ends; the writer knows the loop then, whether or not it has run a job."""
    store = Store(tmp_path, durable=False)
    seen: list[int] = []

    @counted
    async def handler(request: Any) -> Any:
        seen.append(store.writer.requests)
        assert store.writer.loop is asyncio.get_running_loop()  # known before any write
        if request.fail:
            raise RuntimeError("handler failed")
        return "answer"

    async def scenario() -> None:
        assert await handler(SimpleNamespace(app={STORE: store}, fail=False)) == "answer"
        with pytest.raises(RuntimeError):
            await handler(SimpleNamespace(app={STORE: store}, fail=True))

    try:
        asyncio.run(scenario())
    finally:
        store.close()
    assert seen == [1, 1] and store.writer.requests == 0
