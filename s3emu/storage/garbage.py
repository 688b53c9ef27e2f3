"""Data files whose rows are gone.

The crash-safety rule: a data file is unlinked only after the rows naming it
are committed away. Inside the transaction that drops the rows, the files are
recorded in the `garbage` table; after the commit they are unlinked and
forgotten. A crash in between leaves them listed, and start-up collects them.
"""
from __future__ import annotations

import sqlite3
from typing import Iterable

from .blobs import BlobStore


class Garbage:
    """Schedules data files for deletion and deletes them once it is safe."""

    def __init__(self, db: sqlite3.Connection, blobs: BlobStore) -> None:
        self.db = db
        self.blobs = blobs
        self.pending = False  # whether this process dropped files since it last collected

    def discard(self, files: Iterable[str]) -> None:
        """Inside a transaction: schedule data files for deletion once it commits."""
        rows = [(f,) for f in files]
        if rows:
            self.db.executemany("INSERT OR IGNORE INTO garbage(file) VALUES (?)", rows)
            self.pending = True

    def collect(self, force: bool = False) -> None:
        """After a commit: unlink what the committed transactions dropped
        (with force, whatever any process left, as at start-up)."""
        if not (force or self.pending):
            return  # most writes drop nothing: skip the scan
        self.pending = False
        files = [r[0] for r in self.db.execute("SELECT file FROM garbage")]
        if not files:
            return
        self.blobs.delete(files)
        self.db.executemany("DELETE FROM garbage WHERE file=?", ((f,) for f in files))
