"""The last requests the server answered, for the console: each process
appends its access-log entries as JSON lines to a file of its own under
`<data_dir>/requests/`, and a reader merges every process's file, so with
`--workers N` the console sees all workers' requests, whichever one it asks."""
from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any, Callable

from aiohttp import web

KEEP = 500  # lines per file before it is rotated (one older file is kept)
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


class RecentRequests:
    """One process's record of its requests, and the reader of everyone's."""

    def __init__(self, directory: Path, keep: int = KEEP) -> None:
        self.dir = directory
        self.keep = keep
        self.dir.mkdir(parents=True, exist_ok=True)
        _remove_dead(self.dir)
        self.path = self.dir / f"{os.getpid()}.jsonl"
        self.lines = self.keep  # rotates anything an earlier server in this process left
        self.fd = -1
        self.closed = False
        self.pending: list[dict[str, Any]] = []  # added during this turn of the event loop

    def add(self, entry: dict[str, Any]) -> None:
        """Appends one entry. The entries of one turn of the event loop are
        written together at its end (one write for the requests answered in
        that turn, not one each); outside a loop, at once."""
        if self.closed:
            return  # a request finishing as the server stops
        self.pending.append(entry)
        if len(self.pending) == 1:
            at_turn_end(self.flush)

    def flush(self) -> None:
        """Writes the pending entries; a full file becomes the older one. An
        entry the disk has no room for (or that cannot be written at all) is
        dropped: the record is a convenience, its request has been answered."""
        entries, self.pending = self.pending, []
        if self.closed:
            return
        while entries:
            try:
                if self.lines >= self.keep:
                    self._rotate()
                batch, entries = entries[:self.keep - self.lines], entries[self.keep - self.lines:]
                os.write(self.fd, "".join(_ENCODE(e) + "\n" for e in batch).encode())
            except OSError:
                return
            self.lines += len(batch)

    def _rotate(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1  # never write to a number the kernel may hand out again
        if self.path.exists():
            os.replace(self.path, self.path.with_suffix(".old"))
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o644)
        self.lines = 0

    def close(self) -> None:
        self.flush()
        self.closed = True
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def read(self, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` entries of every process, newest first (blocking: call it off the loop)."""
        entries: list[dict[str, Any]] = []
        for path in self.dir.glob("*.*"):
            try:
                text = path.read_text(errors="replace")
            except FileNotFoundError:  # rotated away while we looked
                continue
            for line in text.splitlines():
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue  # a line being written as we read
        entries.sort(key=lambda e: str(e.get("time", "")), reverse=True)
        return entries[:limit]


def at_turn_end(fn: Callable[[], object]) -> None:
    """fn() once the event loop's current turn has run its callbacks (the
    requests answered in it); at once outside a running loop."""
    try:
        asyncio.get_running_loop().call_soon(fn)
    except RuntimeError:
        fn()


def _remove_dead(directory: Path) -> None:
    """Drops the files of processes that are gone (an earlier run's)."""
    for path in directory.glob("*.*"):
        if path.stem.isdigit() and not _alive(int(path.stem)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


RECENT: web.AppKey[RecentRequests] = web.AppKey("recent", RecentRequests)



def install(app: web.Application, data_dir: str | Path) -> None:
    """Records the application's requests under `data_dir` while it serves."""
    record = app[RECENT] = RecentRequests(Path(data_dir) / "requests")

    async def close(_app: web.Application) -> None:
        record.close()
    app.on_cleanup.append(close)
