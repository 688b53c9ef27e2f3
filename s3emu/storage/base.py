"""State shared by the store's parts: the database, the data files, and the
rule that a file is unlinked only after the rows naming it are committed away."""
from __future__ import annotations

import sqlite3
from typing import Iterable

from .blobs import BlobStore


class StoreBase:
    db: sqlite3.Connection
    blobs: BlobStore
    _garbage_pending = False  # whether this process dropped files since it last collected

    def _discard(self, files: Iterable[str]) -> None:
        """Inside a transaction: schedule data files for deletion once it commits."""
        rows = [(f,) for f in files]
        if rows:
            self.db.executemany("INSERT OR IGNORE INTO garbage(file) VALUES (?)", rows)
            self._garbage_pending = True

    def _collect_garbage(self, force: bool = False) -> None:
        """After a commit: unlink what the committed transactions dropped
        (with force, whatever any process left, as at start-up)."""
        if not (force or self._garbage_pending):
            return  # most writes drop nothing: skip the scan
        self._garbage_pending = False
        files = [r[0] for r in self.db.execute("SELECT file FROM garbage")]
        if not files:
            return
        self.blobs.delete(files)
        self.db.executemany("DELETE FROM garbage WHERE file=?", ((f,) for f in files))

    def _drop_parts(self, upload_id: str) -> None:
        """Inside a transaction: forget every part of an upload and its bytes."""
        files = [r[0] for r in self.db.execute("SELECT file FROM parts WHERE upload_id=?", (upload_id,))]
        self._discard(files)
        self.db.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))

    def _drop_object(self, object_id: int) -> None:
        """Inside a transaction: forget one object version and its bytes."""
        files = [r[0] for r in self.db.execute("SELECT file FROM segments WHERE object_id=?", (object_id,))]
        self._discard(files)
        self.db.execute("DELETE FROM segments WHERE object_id=?", (object_id,))
        self.db.execute("DELETE FROM objects WHERE id=?", (object_id,))
