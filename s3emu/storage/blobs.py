"""Data files: object and part bytes in plain files named by random ids.

A write streams into tmp/, is checked, fsynced and renamed into blobs/ before
any metadata refers to it; a file is only unlinked after the metadata that
referred to it is gone. Keys never become paths.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterable, Callable, Iterable, ParamSpec, TypeVar

from .digests import Hasher, new_hasher
from .errors import EntityTooLarge, IncompleteBody, StorageFull
from .ids import unique_hex

# a body is hashed and written in batches of its chunks this large, one thread hop each; a large
# upload holds two batches (one filling, one being written)
FLUSH_BYTES = 1024 * 1024
SMALL_CHUNK = 64 * 1024  # chunks smaller than this are gathered (copied) into one buffer
# without fsync, a body this small is written to the page cache on the event loop: quicker than a thread hop
INLINE_BYTES = 64 * 1024
# An object this small is kept in the metadata database, committed with its row, instead of a
# data file of its own: no file to create, rename and later unlink (SQLite's own measurements
# put the crossover between a BLOB in the database and a file beside it far above this size).
IN_DATABASE_BYTES = 16 * 1024
IN_DATABASE = ""  # the `file` of a segment whose bytes are in the database (table inline_data)
_BLOB_ID = re.compile(r"[0-9a-f]{32}")
log = logging.getLogger("s3emu.storage")


@dataclass
class Blob:
    """A fully written data file, not yet referenced by metadata; or, with
    file IN_DATABASE, a body small enough to be stored in the database (data)."""

    file: str
    size: int
    md5: str  # hex
    digests: dict[str, bytes] = field(default_factory=dict)  # algorithm -> raw digest
    data: bytes | None = None  # the bytes, when file is IN_DATABASE


class BlobStore:
    """The data files under `root`: blobs/xx/<id> written whole through tmp/.
    With durable, every file and directory change is fsynced."""

    def __init__(self, root: Path, durable: bool) -> None:
        self.root = root
        self.durable = durable
        self.tmp = root / "tmp"
        self.blobs = root / "blobs"
        # the same as strings: a small write or read joins them without pathlib's cost
        self._tmp_prefix, self._blobs_prefix = f"{self.tmp}/", f"{self.blobs}/"
        self.tmp.mkdir(parents=True, exist_ok=True)
        for i in range(256):  # made once, so a write never waits on a mkdir
            (self.blobs / f"{i:02x}").mkdir(parents=True, exist_ok=True)
        if durable:  # the directories themselves must survive a power cut, like the files in them
            for directory in (self.blobs, root):
                _fsync_dir(directory)

    def path(self, file: str) -> Path:
        """Where a data file lives; ValueError for anything but one of our ids."""
        return Path(self._path(file))

    def _path(self, file: str) -> str:
        # ids are hex we generated; refuse anything else rather than trust it.
        if _BLOB_ID.fullmatch(file) is None:
            raise ValueError(f"not a blob id: {file!r}")
        return f"{self._blobs_prefix}{file[:2]}/{file}"

    async def write(
        self,
        body: AsyncIterable[bytes],
        *,
        size: int | None = None,
        max_size: int | None = None,
        algorithms: Iterable[str] = (),
        in_database: bool = False,
    ) -> Blob:
        """Stream body into a new data file, computing MD5 and the given
        checksums (S3 algorithm names); with in_database, a body of at most
        IN_DATABASE_BYTES comes back as bytes (Blob.data) for the caller to
        commit instead. With size given, a shorter or longer body is
        IncompleteBody; past max_size, EntityTooLarge; a full or read-only
        disk, StorageFull. On any failure nothing is left behind."""
        w = _Writer(self, algorithms)
        loop = asyncio.get_running_loop()
        batches = _Batches()
        written = 0
        pending: asyncio.Future[None] | None = None
        try:
            async for chunk in body:
                written += len(chunk)
                if max_size is not None and written > max_size:
                    raise EntityTooLarge(ProposedSize=written, MaxSizeAllowed=max_size)
                if size is not None and written > size:
                    raise IncompleteBody(size, written)
                full = batches.add(chunk)
                if full is not None:
                    if pending is not None:
                        await pending
                    # hashing and writing off the event loop overlaps with receiving the next batch
                    pending = loop.run_in_executor(None, w.absorb, full)
            if pending is not None:
                await pending
            if size is not None and written != size:
                raise IncompleteBody(size, written)
            tail = batches.take()
            tail_size = sum(map(len, tail))
            if pending is None and in_database and tail_size <= IN_DATABASE_BYTES:
                return w.in_database(b"".join(tail))
            if pending is None and not self.durable and tail_size <= INLINE_BYTES:
                w.finish(tail)
            else:
                # a small body is created, written, synced and renamed in this one hop
                pending = loop.run_in_executor(None, w.finish, tail)
                await pending
        except BaseException:
            if pending is not None and not pending.done():
                # never close the fd under a thread still writing to it
                with contextlib.suppress(BaseException):
                    await asyncio.shield(pending)
            w.abandon()
            raise
        return Blob(w.file, written, w.md5.hexdigest(), {a: h.digest() for a, h in w.hashers.items()})

    def open(self, file: str) -> int:
        """A read-only file descriptor (the caller closes it); FileNotFoundError if it is gone."""
        return os.open(self._path(file), os.O_RDONLY)

    def delete(self, files: Iterable[str]) -> list[str]:
        """Unlink data files; returns those now gone (already gone ones
        included). A file that cannot be unlinked (its folder read-only or
        immutable) stays, with a warning: never an error, as no row names it
        any more (or ever did) and the change that dropped it stands."""
        gone = []
        for file in files:
            if file == IN_DATABASE:
                continue  # its bytes went with its row
            try:
                _unlink_quietly(self._path(file))
            except OSError as e:
                log.warning("data file %s not deleted: %s", file, e.strerror or e)
                continue
            gone.append(file)
        return gone

    def all_files(self) -> Iterable[str]:
        """The names of every data file in blobs/."""
        for sub in self.blobs.iterdir():
            if sub.is_dir():
                for f in sub.iterdir():
                    yield f.name

    def clear_tmp(self) -> int:
        """Remove half-written files left by a crash (start-up only)."""
        n = 0
        for f in self.tmp.iterdir():
            _unlink_quietly(f)
            n += 1
        return n


class _Batches:
    """Collects a body's chunks, in order, into batches of at least
    FLUSH_BYTES, each hashed and written in one thread hop. Chunks of
    SMALL_CHUNK or more are kept as they came, never copied into a buffer of
    ours (each copy of a GiB costs about 0.1 s of CPU); smaller ones are
    gathered into one buffer, so a body trickling in byte by byte is not a
    million objects."""

    def __init__(self) -> None:
        self.chunks: list[bytes | bytearray] = []
        self.small = bytearray()
        self.size = 0

    def add(self, chunk: bytes) -> list[bytes | bytearray] | None:
        """Take a chunk (bytes: never changed once given); a full batch, or None."""
        if len(chunk) < SMALL_CHUNK:
            self.small += chunk
            if len(self.small) >= SMALL_CHUNK:
                self._keep_small()
        else:
            self._keep_small()
            self.chunks.append(chunk if isinstance(chunk, bytes) else bytes(chunk))
        self.size += len(chunk)
        return self.take() if self.size >= FLUSH_BYTES else None

    def take(self) -> list[bytes | bytearray]:
        """The chunks collected so far; a new batch begins."""
        self._keep_small()
        batch, self.chunks, self.size = self.chunks, [], 0
        return batch

    def _keep_small(self) -> None:
        if self.small:
            self.chunks.append(self.small)
            self.small = bytearray()


class _Writer:
    """One data file being written: every step runs in a worker thread, one at a time."""

    def __init__(self, store: BlobStore, algorithms: Iterable[str]) -> None:
        self.store = store
        self.file = unique_hex(16)
        self.tmp_path = store._tmp_prefix + self.file
        self.md5 = hashlib.md5()
        self.hashers: dict[str, Hasher] = {a: new_hasher(a) for a in algorithms}
        self.fd: int | None = None

    def absorb(self, chunks: list[bytes | bytearray]) -> None:
        if self.fd is None:
            self.fd = _disk_op(os.open, self.tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        for chunk in chunks:  # each written just after it was hashed, while still in the CPU's cache
            self.md5.update(chunk)
            for h in self.hashers.values():
                h.update(chunk)
            view = memoryview(chunk)
            while view:
                n = _disk_op(os.write, self.fd, view)
                view = view[n:]

    def in_database(self, body: bytes | bytearray | memoryview) -> Blob:
        """The whole body, hashed, to be stored in the database: no file at all."""
        self.md5.update(body)
        for h in self.hashers.values():
            h.update(body)
        return Blob(IN_DATABASE, len(body), self.md5.hexdigest(), {a: h.digest() for a, h in self.hashers.items()},
                    bytes(body))

    def finish(self, tail: list[bytes | bytearray]) -> None:
        """Write the tail, make the file durable and move it into blobs/."""
        self.absorb(tail)
        assert self.fd is not None
        fd, self.fd = self.fd, None
        try:
            if self.store.durable:
                _disk_op(os.fsync, fd)
        finally:
            os.close(fd)
        final = self.store._path(self.file)
        _disk_op(os.rename, self.tmp_path, final)
        if self.store.durable:
            _fsync_dir(os.path.dirname(final))

    def abandon(self) -> None:
        if self.fd is not None:
            _close_quietly(self.fd)
            self.fd = None
        _unlink_quietly(self.tmp_path)


P = ParamSpec("P")
T = TypeVar("T")


def _disk_op(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """fn(...), a full or read-only disk raised as StorageFull."""
    try:
        return fn(*args, **kwargs)
    except OSError as e:
        if e.errno == errno.ENOSPC:
            raise StorageFull() from e
        if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise StorageFull(writable=False, reason=e.strerror) from e
        raise


def _fsync_dir(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _unlink_quietly(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
