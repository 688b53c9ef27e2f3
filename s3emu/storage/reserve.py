"""Room to make room: a reserve file in the data directory, given up when the
disk is full so that a delete can still commit.

Freeing space takes a little space first: SQLite appends the delete to its
write-ahead log before any data file can be unlinked. On a full disk that
append fails, and without a reserve no object could ever be deleted again.
"""
from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Callable, TypeVar

from .errors import StorageFull

RESERVE_BYTES = 1024 * 1024  # enough log for a 1000-key DeleteObjects
_BLOCK = b"\0" * 65536

T = TypeVar("T")


class Reserve:
    def __init__(self, root: Path) -> None:
        self.path = root / "space.reserve"

    def refill(self) -> None:
        """Make sure the reserve is there; quietly skipped when there is no room
        for it yet (the next delete that frees space tries again)."""
        try:
            if self.path.stat().st_size == RESERVE_BYTES:
                return
        except FileNotFoundError:
            pass
        tmp = self.path.with_name(self.path.name + ".new")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                for _ in range(RESERVE_BYTES // len(_BLOCK)):
                    os.write(fd, _BLOCK)  # real blocks, not a sparse file
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            if e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
                raise

    def freeing(self, delete: Callable[[], T]) -> T:
        """Run a delete; if the disk is too full to commit it, give up the
        reserve and try once more, then refill the reserve from what was freed."""
        try:
            return delete()
        except StorageFull as e:
            if not e.writable or not self.path.exists():
                raise
        self.path.unlink(missing_ok=True)
        try:
            return delete()
        finally:
            self.refill()
