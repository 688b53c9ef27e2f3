"""The storage engine's front door."""
from __future__ import annotations

import logging
from pathlib import Path

from .blobs import BlobStore
from .buckets import BucketOps
from .db import connect, transaction
from .lifecycle import LifecycleOps
from .multipart import MultipartOps
from .objects import ObjectOps
from .versions import VersionOps

log = logging.getLogger("s3emu.storage")


class Store(BucketOps, ObjectOps, MultipartOps, LifecycleOps, VersionOps):
    """Buckets, objects and multipart uploads in one data directory:
    `meta.sqlite3` for metadata, `blobs/` for data files, `tmp/` for writes in
    progress."""

    def __init__(self, root: Path | str, *, durable: bool = True) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.blobs = BlobStore(self.root, durable)
        self.db = connect(self.root / "meta.sqlite3", durable)

    def close(self) -> None:
        self.db.close()

    def recover(self) -> dict[str, int]:
        """Start-up recovery, before any request is served: drop half-written
        files and data files no metadata refers to (a crash between writing a
        file and committing its row, or between a commit and its unlinks)."""
        tmp = self.blobs.clear_tmp()
        self._collect_garbage(force=True)
        referenced = self.referenced_files()
        orphans = [f for f in self.blobs.all_files() if f not in referenced]
        self.blobs.delete(orphans)
        if tmp or orphans:
            log.info("recovery removed %d temporary and %d orphaned data files", tmp, len(orphans))
        return {"tmp": tmp, "orphans": len(orphans)}

    def usage(self) -> dict[str, int]:
        """What the store holds: objects and their bytes (every version), open uploads."""
        objects, size = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM objects WHERE delete_marker=0").fetchone()
        uploads = self.db.execute("SELECT COUNT(*) FROM uploads WHERE state='open'").fetchone()[0]
        return {"objects": objects, "bytes": size, "uploads": uploads}

    def referenced_files(self) -> set[str]:
        with transaction(self.db) as db:
            files = {r[0] for r in db.execute("SELECT file FROM segments")}
            files.update(r[0] for r in db.execute("SELECT file FROM parts"))
        return files
