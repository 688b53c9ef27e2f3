"""Object Lock rules on a version's LockState ({"mode", "until", "legal_hold"}
in its meta): whether it may be deleted, and the bucket's default retention."""
from __future__ import annotations

import time

from .errors import ObjectLocked
from .meta import LockState, ObjectMeta
from .models import BucketInfo

DAY = 86400.0


def lock_of(meta: ObjectMeta) -> LockState:
    """A copy of the version's lock state ({} when it has none)."""
    lock: LockState = {**(meta.get("lock") or {})}
    return lock


def retention_active(lock: LockState, now: float) -> bool:
    """Whether a retention mode is set and its date (epoch seconds) is after now."""
    return bool(lock.get("mode")) and float(lock.get("until", 0)) > now


def is_locked(meta: ObjectMeta, now: float | None = None, *, bypass_governance: bool = False) -> bool:
    """Whether a legal hold or an unexpired retention forbids deleting this version
    (a governance retention yields to bypass_governance)."""
    lock = lock_of(meta)
    if lock.get("legal_hold") == "ON":
        return True
    if retention_active(lock, time.time() if now is None else now):
        return lock["mode"] == "COMPLIANCE" or not bypass_governance
    return False


def check_deletable(meta: ObjectMeta, bypass_governance: bool) -> None:
    """ObjectLocked unless the version may be deleted now."""
    if is_locked(meta, bypass_governance=bypass_governance):
        raise ObjectLocked()


def with_default_retention(bucket: BucketInfo, meta: ObjectMeta, now: float) -> ObjectMeta:
    """A new version's meta with the bucket's default retention, unless it names its own mode."""
    rule = bucket.config.get("object_lock") or {}
    if not bucket.object_lock or not rule.get("mode") or lock_of(meta).get("mode"):
        return meta
    days = rule.get("days") or 365 * rule.get("years", 0)
    lock: LockState = {**lock_of(meta), "mode": rule["mode"], "until": now + days * DAY}
    return {**meta, "lock": lock}
