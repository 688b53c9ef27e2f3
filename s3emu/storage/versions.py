"""Object versions: listing them in S3's order, the Object Lock state each
version carries (see locks.py), and the version queries lifecycle rules need."""
from __future__ import annotations

import itertools
import json
import sqlite3
import time
from typing import Iterator

from .buckets import Buckets
from .db import Database, transaction
from .errors import NoObjectLockConfiguration, ObjectLocked, VersioningNotEnabled
from .ids import check_version_id, created_at
from .listing import list_page
from .locks import is_locked, lock_of, retention_active
from .meta import BucketConfig, LockRule, LockState
from .models import ObjectInfo, Page
from .objects import Objects


class Versions:
    """Queries and changes across a key's versions: listing, Object Lock, and
    what lifecycle rules look for."""

    def __init__(self, db: Database, buckets: Buckets, objects: Objects) -> None:
        self.db = db
        self.buckets = buckets
        self.objects = objects

    # -- listing -------------------------------------------------------------

    def page(self, bucket: str, *, prefix: str = "", delimiter: str = "", key_marker: str = "",
             version_id_marker: str | None = None, max_keys: int = 1000) -> Page[ObjectInfo]:
        """See Store.list_object_versions."""
        self.buckets.get(bucket)
        marker_seq = None
        if key_marker and version_id_marker is not None:
            marker_seq = self._seq_before(bucket, key_marker, version_id_marker)

        def fetch(lower: str, inclusive: bool, after_seq: str | None, limit: int) -> list[ObjectInfo]:
            rows = []
            if after_seq is not None:  # the older versions of `lower` first
                rows = self.db.execute("SELECT * FROM objects WHERE bucket=? AND key=? AND seq<? ORDER BY seq DESC"
                                       " LIMIT ?", (bucket, lower, int(after_seq), limit)).fetchall()
            if len(rows) < limit:
                op = ">=" if inclusive else ">"
                rows += self.db.execute(f"SELECT * FROM objects WHERE bucket=? AND key {op} ? ORDER BY key, seq DESC"
                                        " LIMIT ?", (bucket, lower, limit - len(rows))).fetchall()
            return [ObjectInfo.from_row(r) for r in rows]

        return list_page(fetch, lambda o: o.key, lambda o: str(o.seq), prefix, delimiter, key_marker,
                         None if marker_seq is None else str(marker_seq), max_keys)

    def _seq_before(self, bucket: str, key: str, version_id: str) -> int:
        """Where a version-id-marker stands: list the versions of key below this seq."""
        check_version_id(version_id)
        row = self.db.execute("SELECT seq FROM objects WHERE bucket=? AND key=? AND version_id=?",
                              (bucket, key, version_id)).fetchone()
        if row is not None:
            return int(row[0])
        if version_id == "null":
            return 0
        # Deleted since the client got it (a paging delete loop): our ids carry
        # their creation time, and a key's versions are created in seq order.
        created = created_at(version_id)
        row = self.db.execute("SELECT MAX(seq) FROM objects WHERE bucket=? AND key=? AND last_modified<?",
                              (bucket, key, created)).fetchone()
        return int(row[0] or 0) + 1

    # -- object lock ---------------------------------------------------------

    def put_object_lock_configuration(self, bucket: str, rule: LockRule) -> None:
        """See Store.put_object_lock_configuration."""
        with transaction(self.db):
            b = self.buckets.get(bucket)
            if not b.object_lock and b.versioning != "Enabled":
                raise VersioningNotEnabled()  # S3 names no bucket here (AWS recordings)
            config: BucketConfig = {**b.config, "object_lock": rule}
            self.buckets.put_object_lock(bucket, config)

    def put_retention(self, bucket: str, key: str, version_id: str | None, mode: str | None,
                      until: float | None, *, bypass_governance: bool = False) -> None:
        """See Store.put_object_retention."""
        now = time.time()
        with transaction(self.db) as db:
            info = self._lockable(bucket, key, version_id)
            lock = lock_of(info.meta)
            if retention_active(lock, now):
                weaker = mode is None or until is None or until < float(lock["until"]) \
                    or (lock["mode"] == "COMPLIANCE" and mode != "COMPLIANCE")
                if weaker and (lock["mode"] == "COMPLIANCE" or not bypass_governance):
                    raise ObjectLocked()
            if mode is None:
                lock.pop("mode", None)
                lock.pop("until", None)
            else:
                assert until is not None
                lock["mode"], lock["until"] = mode, until
            db.execute("UPDATE objects SET meta=? WHERE id=?", (json.dumps({**info.meta, "lock": lock}), info.id))

    def put_legal_hold(self, bucket: str, key: str, version_id: str | None, status: str) -> None:
        """See Store.put_object_legal_hold."""
        with transaction(self.db) as db:
            info = self._lockable(bucket, key, version_id)
            lock: LockState = {**lock_of(info.meta), "legal_hold": status}
            db.execute("UPDATE objects SET meta=? WHERE id=?", (json.dumps({**info.meta, "lock": lock}), info.id))

    def _lockable(self, bucket: str, key: str, version_id: str | None) -> ObjectInfo:
        if not self.buckets.get(bucket).object_lock:
            raise NoObjectLockConfiguration()
        return self.objects.get(bucket, key, version_id)

    # -- for lifecycle rules ---------------------------------------------------

    def noncurrent_older_than(self, bucket: str, prefix: str, seconds: float,
                              now: float | None = None) -> list[ObjectInfo]:
        """See Store.noncurrent_versions_older_than."""
        cutoff = (time.time() if now is None else now) - seconds
        found = []
        for row in self.under(bucket, prefix, "o.is_latest=0"):
            info = ObjectInfo.from_row(row)
            if row["since"] is not None and row["since"] <= cutoff and not is_locked(info.meta, now):
                found.append(info)
        return found

    def lone_delete_markers(self, bucket: str, prefix: str, limit: int | None = None) -> list[ObjectInfo]:
        """See Store.expired_delete_markers."""
        rows = self.under(bucket, prefix, "o.is_latest=1 AND o.delete_marker=1 AND NOT EXISTS (SELECT 1"
                                           " FROM objects p WHERE p.bucket=o.bucket AND p.key=o.key AND p.id<>o.id)")
        return [ObjectInfo.from_row(r) for r in itertools.islice(rows, limit)]

    def remove_lone_marker(self, marker: ObjectInfo) -> bool:
        """Remove a delete marker if it is still the only version of its key."""
        with transaction(self.db) as db:
            alone = db.execute("SELECT COUNT(*) FROM objects WHERE bucket=? AND key=?",
                               (marker.bucket, marker.key)).fetchone()[0] == 1
            still = db.execute("SELECT 1 FROM objects WHERE id=? AND delete_marker=1", (marker.id,)).fetchone()
            if alone and still:
                self.objects.drop(marker.id)
                return True
        return False

    def under(self, bucket: str, prefix: str, where: str) -> Iterator[sqlite3.Row]:
        """Versions under prefix matching `where` (on alias o), keys
        ascending and newest first, each with `since`: when its successor was
        written (None for a current version)."""
        rows = self.db.execute(
            "SELECT o.*, (SELECT n.last_modified FROM objects n WHERE n.bucket=o.bucket AND n.key=o.key"
            f" AND n.seq>o.seq ORDER BY n.seq LIMIT 1) AS since FROM objects o WHERE o.bucket=? AND o.key>=?"
            f" AND {where} ORDER BY o.key, o.seq DESC", (bucket, prefix))
        for row in rows:  # a range scan from the prefix, stopped where it ends
            if not row["key"].startswith(prefix):
                return
            yield row
