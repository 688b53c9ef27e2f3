"""Storage classes and archived objects.

A version's storage class is a label (the bytes stay where they are), with
two consequences S3 has: lifecycle Transitions move versions down the
classes below when due, and a version in GLACIER or DEEP_ARCHIVE is
archived: it cannot be read until a restore has made a temporary copy
readable. A restore is ready `restore_seconds` after it is asked for (hours
on S3; seconds here, from the server's settings) and lasts its Days, counted
in lifecycle days and ending at a day boundary as on S3. Its state is a pure
function of the version's meta and the clock, so nothing has to run when a
restore completes or expires.
"""
from __future__ import annotations

import math
from typing import Literal

from .meta import ObjectMeta, RestoreState

ARCHIVED = ("GLACIER", "DEEP_ARCHIVE")
# S3's waterfall: a Transition only ever moves a version to a class further down
RANK = {"STANDARD": 0, "REDUCED_REDUNDANCY": 0, "STANDARD_IA": 1, "INTELLIGENT_TIERING": 2, "ONEZONE_IA": 3,
        "GLACIER_IR": 4, "GLACIER": 5, "DEEP_ARCHIVE": 6}
SMALL = 128 * 1024  # S3 does not transition objects below 128 KiB unless a rule says otherwise

RestoreStatus = Literal["none", "ongoing", "restored"]


def storage_class_of(meta: ObjectMeta) -> str:
    """A version's storage class (STANDARD when none was recorded)."""
    return meta.get("storage_class") or "STANDARD"


def restore_status(meta: ObjectMeta, now: float) -> RestoreStatus:
    """Whether a restore is under way, done (and not yet expired), or neither."""
    restore = meta.get("restore")
    if not restore or now >= restore.get("expiry", 0.0):
        return "none"
    return "ongoing" if now < restore.get("ready", 0.0) else "restored"


def readable(meta: ObjectMeta, now: float) -> bool:
    """Whether GET may return the version's bytes: it is not archived, or its restore is done."""
    return storage_class_of(meta) not in ARCHIVED or restore_status(meta, now) == "restored"


def day_boundary(ts: float, day_seconds: float) -> float:
    """The first day boundary at or after ts (midnight UTC for real days)."""
    return math.ceil(ts / day_seconds) * day_seconds


def new_restore(meta: ObjectMeta, days: int, tier: str, now: float, restore_seconds: float,
                day_seconds: float) -> tuple[RestoreState, bool]:
    """The restore state after a RestoreObject request, and whether the
    version was already restored (S3 then only moves the expiry, counting
    Days from now). Call only when no restore is under way."""
    if restore_status(meta, now) == "restored":
        state: RestoreState = {**meta["restore"], "days": days,
                               "expiry": day_boundary(now + days * day_seconds, day_seconds)}
        return state, True
    ready = now + restore_seconds
    return {"requested": now, "ready": ready, "days": days, "tier": tier,
            "expiry": day_boundary(ready + days * day_seconds, day_seconds)}, False


def transition_allowed(current: str, target: str, size: int, min_size: str, sized_rule: bool) -> bool:
    """Whether a lifecycle Transition may move a version of `size` bytes
    from `current` to `target`: only down the waterfall, and objects under
    128 KiB only where the bucket's TransitionDefaultMinimumObjectSize allows
    it (all_storage_classes_128K: never; varies_by_storage_class: to
    GLACIER and DEEP_ARCHIVE), unless the rule filters on size itself."""
    if RANK.get(current, 0) >= RANK.get(target, 0):
        return False
    if size >= SMALL or sized_rule:
        return True
    return min_size == "varies_by_storage_class" and target in ARCHIVED
