"""Data files whose rows are gone, and the leases that hold some back.

The crash-safety rule: a data file is unlinked only after the rows naming it
are committed away. Inside the transaction that drops the rows, the files are
recorded in the `garbage` table; after the commit they are unlinked and
forgotten. A crash in between leaves them listed, and start-up collects them.

The reading rule: a reader that has leased an object version (storage/reads.py)
finds its data files in place until it ends the lease. The files of a leased
version that is dropped wait in `held_garbage` and become garbage once no
live lease holds them. A lease lapses if not renewed in time (its reader died).
"""
from __future__ import annotations

import logging
import sqlite3
import time
from typing import Iterable

from .blobs import IN_DATABASE, BlobStore
from .db import Database, json_chunks, transaction
from .errors import StorageError
from .writer import LONG_JOB_ITEMS, Writer, sharing_the_gil

log = logging.getLogger("s3emu.storage")

LEASE_SECONDS = 600.0  # a lease's life; readers renew it halfway


class Garbage:
    """Schedules data files for deletion and deletes them once it is safe."""

    def __init__(self, db: Database, blobs: BlobStore, writer: Writer | None = None) -> None:
        self.db = db
        self.blobs = blobs
        self.writer = writer  # whose `after` collects: see collect()
        self.pending = 0  # data files this process dropped since it last collected

    def discard(self, files: Iterable[str], object_id: int | None = None) -> None:
        """Inside a transaction: schedule data files (of object version
        object_id, if they are a version's) for deletion once it commits."""
        rows = [(f,) for f in files if f != IN_DATABASE]  # bytes in the database go with their row
        if not rows:
            return
        if object_id is not None and self._leased(object_id):
            self.db.executemany("INSERT OR IGNORE INTO held_garbage(file, object_id) VALUES (?, ?)",
                                ((f, object_id) for (f,) in rows))
            return
        self.db.executemany("INSERT OR IGNORE INTO garbage(file) VALUES (?)", rows)
        self.pending += len(rows)

    def discard_version(self, object_id: int) -> None:
        """Inside a transaction, before its segments rows are deleted: discard()
        the data files of object version object_id, listed by SQLite itself
        rather than row by row here (a version may have 10,000)."""
        if self._leased(object_id):
            self.db.execute("INSERT OR IGNORE INTO held_garbage(file, object_id) SELECT file, object_id"
                            " FROM segments WHERE object_id=? AND file<>?", (object_id, IN_DATABASE))
            return
        added = self.db.execute("INSERT OR IGNORE INTO garbage(file) SELECT file FROM segments"
                                " WHERE object_id=? AND file<>?", (object_id, IN_DATABASE))
        self.pending += added.rowcount

    def collect(self, force: bool = False) -> None:
        """After a commit: unlink what the committed transactions dropped
        (with force, whatever any process left, as at start-up). In a job of
        the writer thread, nothing is unlinked: the writer's `after` does it
        once the job's answer is on its way, so no request (a Complete or a
        DeleteObject over an object of 10,000 parts, a DeleteObjects of 1000
        keys, an overwrite) waits for unlinks or for the commit that forgets
        their rows; under load, `after` does that for up to AFTER_EVERY jobs
        at once, in one commit.
        Never raises: a file that cannot be unlinked, or rows the disk has no
        room to delete, stay listed for the next collection."""
        if not (force or self.pending):
            return  # most writes drop nothing: skip the scan
        if not force and self.writer is not None and self.writer.in_job():
            return  # the writer's `after` collects, after the answer
        self.pending = 0
        files = [r[0] for r in self.db.execute("SELECT file FROM garbage")]
        with sharing_the_gil(len(files) >= LONG_JOB_ITEMS):
            self._forget(self.blobs.delete(files) if files else [])

    def _forget(self, gone: list[str]) -> None:
        try:
            if len(gone) == 1:
                self.db.execute("DELETE FROM garbage WHERE file=?", (gone[0],))
            elif gone:
                with transaction(self.db) as db:  # one commit for them all, not one each
                    for chunk in json_chunks(gone):
                        db.execute("DELETE FROM garbage WHERE file IN (SELECT value FROM json_each(?))", (chunk,))
        except (StorageError, sqlite3.OperationalError) as e:
            # runs after the commit that dropped the files: that change stands whatever happens
            # here; rows naming files already gone are forgotten by a later collection
            log.warning("%d deleted data file(s) still listed as garbage: %s", len(gone), e)

    # -- leases ------------------------------------------------------------------

    def _leased(self, object_id: int) -> bool:
        return self.db.execute("SELECT 1 FROM read_leases WHERE object_id=? AND until>? LIMIT 1",
                               (object_id, time.time())).fetchone() is not None

    def lease(self, object_id: int) -> int | None:
        """Lease an object version for reading; its id, or None when the version
        is gone already (dropped since the reader looked: read it again)."""
        with transaction(self.db) as db:
            if db.execute("SELECT 1 FROM objects WHERE id=?", (object_id,)).fetchone() is None:
                return None
            cur = db.execute("INSERT INTO read_leases(object_id, until) VALUES (?, ?)",
                             (object_id, time.time() + LEASE_SECONDS))
        return int(cur.lastrowid or 0)

    def renew(self, lease_id: int) -> None:
        with transaction(self.db) as db:
            db.execute("UPDATE read_leases SET until=? WHERE id=?", (time.time() + LEASE_SECONDS, lease_id))

    def end_lease(self, lease_id: int) -> None:
        """End a lease; files it alone held back become garbage and are collected."""
        with transaction(self.db) as db:
            db.execute("DELETE FROM read_leases WHERE id=?", (lease_id,))
            self._release_held()
        self.collect()

    def release_lapsed(self) -> None:
        """Forget lapsed leases and let go of what they held (the reaper's sweep, start-up)."""
        with transaction(self.db) as db:
            db.execute("DELETE FROM read_leases WHERE until<=?", (time.time(),))
            self._release_held()
        self.collect()

    def _release_held(self) -> None:
        now = time.time()
        files = [r[0] for r in self.db.execute(
            "SELECT file FROM held_garbage h WHERE NOT EXISTS (SELECT 1 FROM read_leases l"
            " WHERE l.object_id=h.object_id AND l.until>?)", (now,))]
        if files:
            self.db.executemany("INSERT OR IGNORE INTO garbage(file) VALUES (?)", ((f,) for f in files))
            self.db.executemany("DELETE FROM held_garbage WHERE file=?", ((f,) for f in files))
            self.pending += len(files)
