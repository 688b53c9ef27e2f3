"""Reading an object's bytes whatever happens to its key meanwhile, with a
bounded number of open files.

A read looks the version up and lists the data files holding the range in one
snapshot (Store.snapshot), then either:
  - opens them all at once, when there are at most OPEN_AT_ONCE: an open file
    stays readable even if another process unlinks it a moment later; or
  - leases the version (Store.hold): while the lease lives its files are not
    unlinked, even if the version is dropped, so they can be opened one at a
    time as the bytes are sent.
Either step finds out if the version was dropped since the snapshot
(DataFileMissing, or no lease): the caller then reads again with a fresh
snapshot, and so returns the old version or the new one, whole.
"""
from __future__ import annotations

import asyncio
import errno
import os
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from .blobs import BlobStore
from .errors import DataFileMissing, DataFileShort, TooManyOpenFiles
from .garbage import LEASE_SECONDS

OPEN_AT_ONCE = 32  # files one read may hold open at once; more are opened as they are read
READ_BYTES = 1 << 20  # read per thread hop
SENDFILE_BYTES = 64 * 1024  # pieces this large are sent with sendfile(2), smaller ones read together


@dataclass
class Span:
    """An open data file and the byte range of it to send."""

    fd: int
    offset: int
    length: int


@dataclass(frozen=True)
class Piece:
    """A byte range of one data file, or of the bytes of a segment kept in
    the database (data, read in the snapshot: nothing to open)."""

    file: str
    offset: int
    length: int
    data: bytes | None = None

    def bytes_in_database(self) -> bytes:
        assert self.data is not None
        if len(self.data) < self.offset + self.length:
            raise DataFileShort()
        return self.data[self.offset:self.offset + self.length]


def open_file(blobs: BlobStore, file: str) -> int:
    """A data file opened for reading. DataFileMissing if it is gone,
    TooManyOpenFiles when the process has no descriptor left."""
    try:
        return blobs.open(file)
    except FileNotFoundError:
        raise DataFileMissing() from None
    except OSError as e:
        if e.errno in (errno.EMFILE, errno.ENFILE):
            raise TooManyOpenFiles() from None
        raise


def close_quietly(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


class OpenRange:
    """Bytes of one object version, held readable (see the module docstring).
    Read it with `next()` until it returns None, then `await close()`
    (always, also on error). Files opened in the snapshot are handed out for
    sendfile at once; the others are opened and read in a worker thread, so
    the event loop never waits on the disk, small pieces together, so a
    10,000-part object costs a few thread hops, not 10,000."""

    def __init__(self, blobs: BlobStore, object_id: int, pieces: list[Piece]) -> None:
        self.blobs = blobs
        self.object_id = object_id
        self.pieces = pieces
        self.length = sum(p.length for p in pieces)
        self._open: dict[int, int] = {}  # piece index -> its file, open
        self._index = 0  # the next piece to read
        self._pos = 0  # how much of it has been read
        self._job: asyncio.Future[bytes | Span | None] | None = None
        self._lease_id: int | None = None
        self._leased_at = 0.0
        self._renew: Callable[[int], Awaitable[None]] | None = None
        self._end: Callable[[int], Awaitable[None]] | None = None

    @property
    def needs_lease(self) -> bool:
        """Too many files to open at once: they are opened as read, under a lease."""
        return len(self.pieces) > OPEN_AT_ONCE

    def open_all(self) -> None:
        """Open every file now (in the snapshot that listed them). On any
        failure nothing stays open: DataFileMissing, TooManyOpenFiles."""
        try:
            for i, piece in enumerate(self.pieces):
                if piece.data is None:
                    self._open[i] = open_file(self.blobs, piece.file)
        except BaseException:
            self.close_files()
            raise

    def leased(self, lease_id: int, renew: Callable[[int], Awaitable[None]],
               end: Callable[[int], Awaitable[None]]) -> None:
        self._lease_id, self._leased_at = lease_id, time.monotonic()
        self._renew, self._end = renew, end

    async def next(self, *, spans: bool = False) -> bytes | Span | None:
        """The next bytes, up to READ_BYTES of them; with spans, a file opened
        in the snapshot, or a piece of at least SENDFILE_BYTES, comes as a Span
        (an open file and its range) for sendfile instead. None at the end.
        Renews the lease when due. Raises DataFileMissing, DataFileShort,
        TooManyOpenFiles."""
        if self._lease_id is not None and self._renew is not None \
                and time.monotonic() - self._leased_at > LEASE_SECONDS / 2:
            await self._renew(self._lease_id)
            self._leased_at = time.monotonic()
        if spans and self._index in self._open and self._pos == 0:
            return self._span()  # open already: nothing to wait for (objects of OPEN_AT_ONCE parts or fewer)
        if self._index == len(self.pieces):
            self.close_files()
            return None
        self._job = asyncio.get_running_loop().run_in_executor(None, self._take, spans)
        return await asyncio.shield(self._job)  # a cancelled caller still lets it finish before close()

    def read_now(self) -> bytes:
        """All the bytes at once, for a small range whose files are all open
        (not needs_lease): a few preads from the page cache, no thread hop.
        Raises DataFileShort. The files are closed afterwards."""
        out = bytearray()
        try:
            for i, piece in enumerate(self.pieces):
                if piece.data is not None:
                    out += piece.bytes_in_database()
                    continue
                data = os.pread(self._open[i], piece.length, piece.offset)
                if len(data) < piece.length:
                    raise DataFileShort()
                out += data
        finally:
            self.close_files()
            self._index = len(self.pieces)
        return bytes(out)

    def _span(self) -> Span:
        i, piece = self._index, self.pieces[self._index]
        if i - 1 in self._open:
            self._finish(i - 1)  # the span handed out last time has been sent
        self._index += 1
        return Span(self._fd(i), piece.offset, piece.length)

    def _take(self, spans: bool) -> bytes | Span | None:
        """In a worker thread: see next()."""
        out = bytearray()
        while self._index < len(self.pieces) and len(out) < READ_BYTES:
            i, piece = self._index, self.pieces[self._index]
            if spans and piece.data is None and piece.length >= SENDFILE_BYTES and self._pos == 0:
                if out:
                    break  # send what was read first
                return self._span()
            if self._pos == 0 and i - 1 in self._open:
                self._finish(i - 1)
            want = min(piece.length - self._pos, READ_BYTES - len(out))
            if piece.data is not None:
                data = piece.bytes_in_database()[self._pos:self._pos + want]
            else:
                data = os.pread(self._fd(i), want, piece.offset + self._pos)
            if len(data) < want:
                raise DataFileShort()
            out += data
            self._pos += want
            if self._pos == piece.length:
                self._finish(i)
                self._index, self._pos = i + 1, 0
        if self._index == len(self.pieces):
            self.close_files()
        return bytes(out) if out else None

    def _fd(self, i: int) -> int:
        if i not in self._open:
            self._open[i] = open_file(self.blobs, self.pieces[i].file)
        return self._open[i]

    def _finish(self, i: int) -> None:
        fd = self._open.pop(i, None)  # none for bytes in the database
        if fd is not None:
            close_quietly([fd])

    def close_files(self) -> None:
        fds, self._open = list(self._open.values()), {}
        close_quietly(fds)

    async def close(self) -> None:
        """Close what is open and end the lease, if any."""
        if self._job is not None and not self._job.done():
            await asyncio.wait([self._job])  # never close a file under a thread still reading it
        self.close_files()
        lease_id, self._lease_id = self._lease_id, None
        if lease_id is not None and self._end is not None:
            await self._end(lease_id)
