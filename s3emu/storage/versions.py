"""Object versions: listing them in S3's order, and the Object Lock state
(retention, legal hold) each version carries in its meta as
{"lock": {"mode": "GOVERNANCE"|"COMPLIANCE", "until": epoch, "legal_hold": "ON"|"OFF"}}."""
from __future__ import annotations

import itertools
import json
import time
from typing import Any, Iterator

from .base import StoreBase
from .db import transaction
from .errors import InvalidArgument, InvalidBucketState, InvalidRequest, ObjectLocked
from .ids import is_valid
from .listing import list_page
from .models import BucketInfo, ObjectInfo, Page

LOCK_DENIED = "Access Denied because object protected by object lock."
NO_LOCK_CONFIG = "Bucket is missing Object Lock Configuration"
DAY = 86400.0


def check_version_id(version_id: str) -> None:
    """Version ids are 'null' or ours (time-ordered hex); anything else is malformed."""
    if version_id == "":
        raise InvalidArgument("Version id cannot be the empty string", ArgumentName="versionId", ArgumentValue="")
    if version_id != "null" and not is_valid(version_id):
        raise InvalidArgument("Invalid version id specified", ArgumentName="versionId", ArgumentValue=version_id)


def lock_of(meta: dict[str, Any]) -> dict[str, Any]:
    return dict(meta.get("lock") or {})


def retention_active(lock: dict[str, Any], now: float) -> bool:
    return bool(lock.get("mode")) and float(lock.get("until", 0)) > now


def is_locked(meta: dict[str, Any], now: float | None = None, *, bypass_governance: bool = False) -> bool:
    """Whether a legal hold or an unexpired retention forbids deleting this version
    (a governance retention yields to bypass_governance)."""
    lock = lock_of(meta)
    if lock.get("legal_hold") == "ON":
        return True
    if retention_active(lock, time.time() if now is None else now):
        return lock["mode"] == "COMPLIANCE" or not bypass_governance
    return False


def check_deletable(meta: dict[str, Any], bypass_governance: bool) -> None:
    if is_locked(meta, bypass_governance=bypass_governance):
        raise ObjectLocked(LOCK_DENIED)


def with_default_retention(bucket: BucketInfo, meta: dict[str, Any], now: float) -> dict[str, Any]:
    """A new version's meta with the bucket's default retention, unless it names its own mode."""
    rule = bucket.config.get("object_lock") or {}
    if not bucket.object_lock or not rule.get("mode") or lock_of(meta).get("mode"):
        return meta
    days = rule.get("days") or 365 * rule.get("years", 0)
    return {**meta, "lock": {**lock_of(meta), "mode": rule["mode"], "until": now + days * DAY}}


class VersionOps(StoreBase):
    # -- listing -------------------------------------------------------------

    def list_versions(self, bucket: str, *, prefix: str = "", delimiter: str = "", key_marker: str = "",
                      version_id_marker: str | None = None, max_keys: int = 1000) -> Page:
        """Versions and delete markers: keys ascending, each key's newest first.
        Every page is a range scan of the (bucket, key, seq) index."""
        self.get_bucket(bucket)  # type: ignore[attr-defined]
        marker_seq = None
        if key_marker and version_id_marker is not None:
            marker_seq = self._seq_before(bucket, key_marker, version_id_marker)

        def fetch(lower: str, inclusive: bool, after_seq: str | None, limit: int) -> list[ObjectInfo]:
            rows = []
            if after_seq is not None:  # the older versions of `lower` first
                rows = self.db.execute("SELECT * FROM objects WHERE bucket=? AND key=? AND seq<?"
                                       " ORDER BY seq DESC LIMIT ?", (bucket, lower, int(after_seq), limit)).fetchall()
            if len(rows) < limit:
                rows += self.db.execute(f"SELECT * FROM objects WHERE bucket=? AND key {'>=' if inclusive else '>'} ?"
                                        " ORDER BY key, seq DESC LIMIT ?", (bucket, lower, limit - len(rows))).fetchall()
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
        created = int(version_id[:16], 16) / 1e9
        row = self.db.execute("SELECT MAX(seq) FROM objects WHERE bucket=? AND key=? AND last_modified<?",
                              (bucket, key, created)).fetchone()
        return int(row[0] or 0) + 1

    # -- object lock ---------------------------------------------------------

    def set_object_lock_config(self, bucket: str, rule: dict[str, Any]) -> None:
        """Turn Object Lock on (a versioning-enabled bucket may have it added)
        with a default retention rule ({} for none): {"mode", "days"|"years"}."""
        with transaction(self.db) as db:
            b = self.get_bucket(bucket)  # type: ignore[attr-defined]
            if not b.object_lock and b.versioning != "Enabled":
                raise InvalidBucketState("Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                                         "configuration", BucketName=bucket)
            config = {**b.config, "object_lock": rule}
            db.execute("UPDATE buckets SET object_lock=1, config=? WHERE name=?", (json.dumps(config), bucket))

    def set_retention(self, bucket: str, key: str, version_id: str | None, mode: str | None,
                      until: float | None, *, bypass_governance: bool = False) -> None:
        """Set (mode None: remove) a version's retention. An active one may
        only be extended, unless it is GOVERNANCE and bypass_governance."""
        now = time.time()
        with transaction(self.db) as db:
            info = self._lockable(bucket, key, version_id)
            lock = lock_of(info.meta)
            if retention_active(lock, now):
                weaker = mode is None or until is None or until < float(lock["until"]) \
                    or (lock["mode"] == "COMPLIANCE" and mode != "COMPLIANCE")
                if weaker and (lock["mode"] == "COMPLIANCE" or not bypass_governance):
                    raise ObjectLocked(LOCK_DENIED)
            if mode is None:
                lock.pop("mode", None)
                lock.pop("until", None)
            else:
                lock.update(mode=mode, until=until)
            db.execute("UPDATE objects SET meta=? WHERE id=?", (json.dumps({**info.meta, "lock": lock}), info.id))

    def set_legal_hold(self, bucket: str, key: str, version_id: str | None, status: str) -> None:
        with transaction(self.db) as db:
            info = self._lockable(bucket, key, version_id)
            lock = {**lock_of(info.meta), "legal_hold": status}
            db.execute("UPDATE objects SET meta=? WHERE id=?", (json.dumps({**info.meta, "lock": lock}), info.id))

    def _lockable(self, bucket: str, key: str, version_id: str | None) -> ObjectInfo:
        if not self.get_bucket(bucket).object_lock:  # type: ignore[attr-defined]
            raise InvalidRequest(NO_LOCK_CONFIG, BucketName=bucket)
        return self.get_object(bucket, key, version_id)  # type: ignore[attr-defined,no-any-return]

    # -- for lifecycle rules ---------------------------------------------------

    def noncurrent_versions_older_than(self, bucket: str, prefix: str, seconds: float,
                                       now: float | None = None) -> list[ObjectInfo]:
        """Noncurrent versions and delete markers under prefix that became
        noncurrent (their successor was written) more than `seconds` ago and
        that no retention or legal hold protects; keys ascending, newest first."""
        cutoff = (time.time() if now is None else now) - seconds
        found = []
        for row in self._under(bucket, prefix, "o.is_latest=0"):
            info = ObjectInfo.from_row(row)
            if row["since"] is not None and row["since"] <= cutoff and not is_locked(info.meta, now):
                found.append(info)
        return found

    def expired_delete_markers(self, bucket: str, prefix: str, limit: int | None = None) -> list[ObjectInfo]:
        """Delete markers under prefix that are the only version left of their
        key (at most `limit` of them)."""
        rows = self._under(bucket, prefix, "o.is_latest=1 AND o.delete_marker=1 AND NOT EXISTS (SELECT 1"
                                           " FROM objects p WHERE p.bucket=o.bucket AND p.key=o.key AND p.id<>o.id)")
        return [ObjectInfo.from_row(r) for r in itertools.islice(rows, limit)]

    def _under(self, bucket: str, prefix: str, where: str) -> Iterator[Any]:
        rows = self.db.execute(
            "SELECT o.*, (SELECT n.last_modified FROM objects n WHERE n.bucket=o.bucket AND n.key=o.key"
            f" AND n.seq>o.seq ORDER BY n.seq LIMIT 1) AS since FROM objects o WHERE o.bucket=? AND o.key>=?"
            f" AND {where} ORDER BY o.key, o.seq DESC", (bucket, prefix))
        for row in rows:  # a range scan from the prefix, stopped where it ends
            if not row["key"].startswith(prefix):
                return
            yield row

