"""The store's writer thread: where every write transaction of a server
process runs, with that thread's own database connection.

A write transaction may wait: for SQLite's write lock while another process
holds it (busy_timeout), for the fsync of its commit (synchronous=FULL), and
for as long as it takes (a 10,000-part Complete, 1000 deletes, a lifecycle
sweep). Run here, none of that holds up the event loop: other requests are
read and answered meanwhile. One thread is enough, since SQLite lets one
writer in at a time anyway; writes of one process run in the order given.
Staged writes (a PUT's commit) queued one behind another share one
transaction and one commit: a group commit.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

T = TypeVar("T")
log = logging.getLogger("s3emu.store")


@dataclass
class Staged:
    """A write that may share its commit with others queued beside it:
    `stage` makes its changes inside the shared transaction and returns its
    answer; `undo` cleans up after it failed or its commit did (its data file)."""

    stage: Callable[[], Any]
    undo: Callable[[], object]


# what a group of staged writes comes to: (True, answer) or (False, error) for each, in order
Outcomes = list[tuple[bool, Any]]
# fn (or a Staged), args, kwargs, and the loop and future to answer on; None stops the thread
_Job = tuple["Callable[..., Any] | Staged", tuple[Any, ...], dict[str, Any], asyncio.AbstractEventLoop,
             "asyncio.Future[Any]"]

LONG_JOB_ITEMS = 500  # parts, keys or files from which a job's Python work runs long (sharing_the_gil)
SHARED_SWITCH_INTERVAL = 0.0005  # seconds a thread may keep the GIL another wants, while one does
GIVE_WAY_EVERY = 100  # items of a long job's Python work between two give_way()s (a look at the clock)
GIVE_WAY_AFTER = 0.00025  # seconds of a long job's work between two waits for the event loop
GIVE_WAY_AT_MOST = 0.005  # seconds a give_way() waits for the event loop

AFTER_EVERY = 64  # jobs that may pass, the queue never empty, before `after` runs anyway
GROUP_AT_MOST = 32  # staged writes that share one commit


class Writer:
    """One thread taking jobs from a queue: leaner than a ThreadPoolExecutor
    hop (no concurrent Future, no shield), which a small write pays twice.

    `after` is work that no caller should wait for (unlinking the files a
    commit dropped): it runs once a job's answer is on its way, when the queue
    is empty or every AFTER_EVERY jobs. `after_each` runs once every job's
    answer is on its way: a cheap check for work that is now and then due
    (copying the write-ahead log into the database), which the job's own
    caller should not wait for but which must not wait for the queue to empty."""

    def __init__(self, after: Callable[[], None] | None = None,
                 commit: Callable[[list[Staged]], Outcomes] | None = None,
                 after_each: Callable[[], object] | None = None) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._commit = commit  # runs staged writes in one transaction
        self._thread: threading.Thread | None = None  # started on first use: after any fork
        self._lock = threading.Lock()
        self._after = after
        self._after_each = after_each
        self._running = False  # a job, as opposed to `after`
        self._stopping = False  # the stop was taken from the queue while gathering a group
        # the requests the server has in hand (counted by the HTTP layer) and its event loop
        # (from the first request counted or the latest job handed over): what long jobs give
        # way to (give_way)
        self.requests = 0
        self.loop: asyncio.AbstractEventLoop | None = None

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """fn(*args, **kwargs) on the writer thread. Once handed over it runs to
        its end even if the caller is cancelled (a client that hangs up does not
        cut a commit short, nor leave a written data file unreferenced)."""
        if self._thread is None:
            self._start()
        loop = self.loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fn, args, kwargs, loop, future))
        return await future  # cancelling it leaves the job to run; its outcome is then dropped

    async def run_staged(self, staged: Staged) -> Any:
        """staged.stage() on the writer thread, in one transaction with the
        staged writes queued right behind it (up to GROUP_AT_MOST): one commit,
        one fsync with `fsync` durability, for them all. Each is answered on
        its own (one refused by its condition leaves the others be), once
        the commit holding it is done."""
        if self._commit is None:
            raise RuntimeError("this writer was made without a commit for staged writes")
        if self._thread is None:
            self._start()
        loop = self.loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._jobs.put((staged, (), {}, loop, future))
        return await future

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._serve, name="s3emu-store", daemon=True)
                self._thread.start()

    def in_job(self) -> bool:
        """Whether this is the writer thread running a job (`after` will follow)."""
        return self._running and threading.current_thread() is self._thread

    def _serve(self) -> None:
        _local.writer = self
        since_after = 0
        held: _Job | None = None  # taken from the queue while gathering a group, run next
        while (job := held or self._jobs.get()) is not None:
            held = None
            self._running = True
            try:
                if isinstance(job[0], Staged):
                    group, held = self._gather(job)
                    self._run_group(group)
                    if held is None and self._stopping:
                        break
                else:
                    self._run_one(job)
            finally:
                self._running = False
            if self._after_each is not None:
                try:
                    self._after_each()
                except Exception:
                    log.exception("after a write")
            since_after += 1
            if self._after is not None and (self._jobs.empty() or since_after >= AFTER_EVERY):
                since_after = 0
                try:
                    self._after()
                except Exception:
                    log.exception("after a write")  # retried after the next one
        if self._after is not None:
            self._after()

    def _run_one(self, job: _Job) -> None:
        fn, args, kwargs, loop, future = job
        assert not isinstance(fn, Staged)
        try:
            result = fn(*args, **kwargs)
        except BaseException as e:
            _answer(loop, _fail, future, e)
        else:
            _answer(loop, _succeed, future, result)

    def _gather(self, first: _Job) -> tuple[list[_Job], _Job | None]:
        """`first` and the staged jobs queued right behind it; the job that
        ended the group (not staged) is returned to run next, in its turn."""
        group = [first]
        while len(group) < GROUP_AT_MOST:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self._stopping = True
                break
            if not isinstance(job[0], Staged):
                return group, job
            group.append(job)
        return group, None

    def _run_group(self, group: list[_Job]) -> None:
        assert self._commit is not None
        staged = [job[0] for job in group if isinstance(job[0], Staged)]
        try:
            outcomes = self._commit(staged)
        except BaseException as e:
            outcomes = [(False, e)] * len(group)
        for (_, _, _, loop, future), (ok, value) in zip(group, outcomes):
            _answer(loop, _succeed if ok else _fail, future, value)

    def close(self) -> None:
        """Wait for the writes handed over, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join()


# this thread's: .writer, the Writer whose server's requests its long jobs give way to; .long,
# the long jobs it is in (sharing_the_gil); .worked_from, when it last gave way (perf_counter)
_local = threading.local()


@contextmanager
def serving(writer: Writer) -> Iterator[None]:
    """Mark this thread (neither the loop's nor the writer's) as running a
    long job for `writer`'s server: it gives way to that server's requests
    (give_way). The writer's own thread works for its writer from the start,
    and is in a long job inside sharing_the_gil."""
    before = getattr(_local, "writer", None), getattr(_local, "long", 0)
    _local.writer, _local.long = writer, before[1] + 1
    try:
        yield
    finally:
        _local.writer, _local.long = before


def give_way() -> None:
    """In a long job of this thread (sharing_the_gil) for a server (the
    writer's thread, or `serving`), while the server has other requests in
    hand than the one the job is for, and the job has worked GIVE_WAY_AFTER
    since it last gave way: wait until the server's event loop has run the
    callbacks it has ready, up to GIVE_WAY_AT_MOST seconds. Else nothing.

    The loop gives the GIL up on each SQLite statement and system call of a
    request; each time, a busy thread held it again for up to the switch
    interval, so small GETs took 50-100 ms while a 10,000-part Complete ran
    (10 ms alone). Waiting here (GIL released) lets them through first: the
    long job takes longer while requests keep coming, by at most
    GIVE_WAY_AT_MOST per GIVE_WAY_AFTER of its work. (A job's write
    transaction may be open meanwhile: writes queued behind it wait longer.)"""
    writer: Writer | None = getattr(_local, "writer", None)
    if writer is None or writer.requests < 2 or writer.loop is None or not getattr(_local, "long", 0):
        return
    worked_from = getattr(_local, "worked_from", None)
    if worked_from is not None and time.perf_counter() - worked_from < GIVE_WAY_AFTER:
        return
    ran = threading.Event()
    try:
        writer.loop.call_soon_threadsafe(ran.set)
    except RuntimeError:
        return  # the loop has closed
    ran.wait(GIVE_WAY_AT_MOST)
    _local.worked_from = time.perf_counter()


def giving_way(items: Iterable[T], every: int = GIVE_WAY_EVERY) -> Iterator[T]:
    """`items`, with a give_way() before each `every`-th after the first."""
    for i, item in enumerate(items):
        if i and i % every == 0:
            give_way()
        yield item


def giving_way_in_slices(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` `size` at a time, with a give_way() before each slice after the first."""
    for i in range(0, len(items), size):
        if i:
            give_way()
        yield items[i:i + size]


def _answer(loop: asyncio.AbstractEventLoop, how: Callable[..., None], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(how, *args)
    except RuntimeError:
        pass  # the loop has closed: nobody waits for the answer


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # a cancelled caller: its outcome is nobody's
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


_sharing_lock = threading.Lock()
_sharing = 0  # long jobs running
_switch_interval = 0.0  # the interpreter's, while none is


@contextmanager
def sharing_the_gil(long: bool = True) -> Iterator[None]:
    """While a long job's Python work runs off the event loop's thread (a
    Complete of thousands of parts, parsing its part list, a DeleteObjects of
    many keys, unlinking what they dropped), and `long`: a thread holding the
    GIL that another wants lets go after SHARED_SWITCH_INTERVAL, not the
    interpreter's 5 ms (sys.setswitchinterval), until the last such job ends.

    The event loop gives the GIL up on every SQLite statement and system
    call; with a busy thread waiting it got it back 5 ms later each time, so
    a GET of a few statements took 20-50 ms. Not for every job: ten times
    the hand-overs cost small PUTs a sixth more CPU."""
    global _sharing, _switch_interval
    if not long:
        yield
        return
    _local.long = getattr(_local, "long", 0) + 1  # this thread's: what give_way looks at
    with _sharing_lock:
        _sharing += 1
        if _sharing == 1:
            _switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(SHARED_SWITCH_INTERVAL)
    try:
        yield
    finally:
        _local.long -= 1
        with _sharing_lock:
            _sharing -= 1
            if _sharing == 0:
                sys.setswitchinterval(_switch_interval)
