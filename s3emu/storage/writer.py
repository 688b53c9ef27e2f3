"""The store's writer thread: where every write transaction of a server
process runs, with that thread's own database connection.

A write transaction may wait: for SQLite's write lock while another process
holds it (busy_timeout), for the fsync of its commit (synchronous=FULL), and
for as long as it takes (a 10,000-part Complete, 1000 deletes, a lifecycle
sweep). Run here, none of that holds up the event loop: other requests are
read and answered meanwhile. One thread is enough, since SQLite lets one
writer in at a time anyway; writes of one process run in the order given.
"""
from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class Writer:
    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None  # started on first use: after any fork

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """fn(*args, **kwargs) on the writer thread. Once handed over it runs to
        its end even if the caller is cancelled (a client that hangs up does not
        cut a commit short, nor leave a written data file unreferenced)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3emu-store")
        job = asyncio.get_running_loop().run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))
        job.add_done_callback(_consume)
        return await asyncio.shield(job)

    def close(self) -> None:
        """Wait for the writes handed over, then stop the thread."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


def _consume(job: asyncio.Future[Any]) -> None:
    # a job whose caller was cancelled: its outcome is nobody's, but must not be reported as lost
    if not job.cancelled():
        job.exception()
