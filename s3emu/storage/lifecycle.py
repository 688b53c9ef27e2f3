"""Bucket lifecycle: which objects and uploads a rule covers, when they
expire, and the sweeps that enforce it.

A bucket's configuration is stored as a tree of (element name, value) pairs
mirroring S3's XML (the server validates it and renders it back); here it is
read into `Rule`s. A lifecycle "day" is `day_seconds` long (86400 in
production, shorter in tests), and like S3 every expiry is rounded up to the
next day boundary (midnight UTC).
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .archive import RANK, day_boundary, storage_class_of, transition_allowed
from .buckets import Buckets
from .db import Database, transaction
from .garbage import Garbage
from .locks import is_locked
from .meta import BucketConfig, object_tags
from .models import ObjectInfo, UploadInfo
from .objects import Objects
from .uploads import Uploads
from .versions import Versions

Tree = list[Any]  # [[name, text-or-Tree], ...] as stored in the bucket's config
# S3's TransitionDefaultMinimumObjectSize when a configuration names none
SIZE_DEFAULT = "all_storage_classes_128K"


def find(tree: Sequence[Any], name: str) -> Any:
    """The value of the first element called `name`, or None."""
    return next((v for n, v in tree if n == name), None)


def find_all(tree: Sequence[Any], name: str) -> list[Any]:
    """The values of every element called `name`, in order."""
    return [v for n, v in tree if n == name]


def parse_date(text: str) -> float:
    """An ISO 8601 lifecycle date (2030-01-01T00:00:00.000Z, or a bare date) as epoch seconds."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.timestamp()


@dataclass
class Transition:
    """A Transition (days after the write, or a date) or a
    NoncurrentVersionTransition (days after the version became noncurrent)."""

    storage_class: str
    days: int | None = None
    date: float | None = None

    def due(self, since: float, now: float, day_seconds: float) -> bool:
        if self.date is not None:
            return self.date <= now
        return self.days is not None and day_boundary(since + self.days * day_seconds, day_seconds) <= now


def due_class(transitions: Iterable[Transition], since: float, now: float, day_seconds: float) -> str | None:
    """The coldest storage class among the transitions due for a version
    written (or made noncurrent) at `since`."""
    due = [t.storage_class for t in transitions if t.due(since, now, day_seconds)]
    return max(due, key=lambda c: RANK.get(c, 0)) if due else None


@dataclass
class Rule:
    """One lifecycle rule: what it selects (prefix, tags, sizes) and what it
    does (expiration by days or date, delete markers, uploads, noncurrent
    versions). Days count lifecycle days; dates are epoch seconds."""

    id: str
    enabled: bool
    prefix: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    size_gt: int | None = None
    size_lt: int | None = None
    expiration_days: int | None = None
    expiration_date: float | None = None
    expired_object_delete_marker: bool = False
    abort_days: int | None = None
    noncurrent_days: int | None = None
    newer_noncurrent: int | None = None
    transitions: list[Transition] = field(default_factory=list)
    noncurrent_transitions: list[Transition] = field(default_factory=list)

    @classmethod
    def from_tree(cls, tree: Tree) -> "Rule":
        """A rule from its stored tree (already validated by the server)."""
        rule = cls(find(tree, "ID") or "", find(tree, "Status") == "Enabled")
        legacy_prefix = find(tree, "Prefix")
        if legacy_prefix is not None:
            rule.prefix = legacy_prefix
        rule._read_filter(find(tree, "Filter") or [])
        expiration = find(tree, "Expiration") or []
        if find(expiration, "Days") is not None:
            rule.expiration_days = int(find(expiration, "Days"))
        if find(expiration, "Date") is not None:
            rule.expiration_date = parse_date(find(expiration, "Date"))
        rule.expired_object_delete_marker = find(expiration, "ExpiredObjectDeleteMarker") == "true"
        abort = find(tree, "AbortIncompleteMultipartUpload") or []
        if find(abort, "DaysAfterInitiation") is not None:
            rule.abort_days = int(find(abort, "DaysAfterInitiation"))
        noncurrent = find(tree, "NoncurrentVersionExpiration") or []
        if find(noncurrent, "NoncurrentDays") is not None:
            rule.noncurrent_days = int(find(noncurrent, "NoncurrentDays"))
        if find(noncurrent, "NewerNoncurrentVersions") is not None:
            rule.newer_noncurrent = int(find(noncurrent, "NewerNoncurrentVersions"))
        for t in find_all(tree, "Transition"):
            days, date = find(t, "Days"), find(t, "Date")
            rule.transitions.append(Transition(find(t, "StorageClass"), None if days is None else int(days),
                                               None if date is None else parse_date(date)))
        for t in find_all(tree, "NoncurrentVersionTransition"):
            rule.noncurrent_transitions.append(Transition(find(t, "StorageClass"), int(find(t, "NoncurrentDays"))))
        return rule

    def _read_filter(self, tree: Tree) -> None:
        conditions = find(tree, "And") or tree
        self.prefix = find(conditions, "Prefix") or self.prefix
        for tag in find_all(conditions, "Tag") + find_all(conditions, "Tags"):
            self.tags[find(tag, "Key") or ""] = find(tag, "Value") or ""
        if find(conditions, "ObjectSizeGreaterThan") is not None:
            self.size_gt = int(find(conditions, "ObjectSizeGreaterThan"))
        if find(conditions, "ObjectSizeLessThan") is not None:
            self.size_lt = int(find(conditions, "ObjectSizeLessThan"))

    def covers(self, key: str, tags: dict[str, str], size: int) -> bool:
        """Whether the rule is enabled and selects an object with this key, tags and size (bytes)."""
        return (self.enabled and key.startswith(self.prefix)
                and all(tags.get(k) == v for k, v in self.tags.items())
                and (self.size_gt is None or size > self.size_gt)
                and (self.size_lt is None or size < self.size_lt))

    @property
    def sized(self) -> bool:
        """Whether the rule filters on object size (overriding S3's 128 KiB transition minimum)."""
        return self.size_gt is not None or self.size_lt is not None

    def covers_upload(self, key: str) -> bool:
        """Whether the rule aborts uploads and selects one of this key."""
        # S3 refuses tag filters on upload rules; an upload has no size yet
        return self.enabled and self.abort_days is not None and key.startswith(self.prefix)


def rules_of(config: BucketConfig) -> list[Rule]:
    """The rules of a bucket's stored config (empty when it has no lifecycle)."""
    tree = config.get("lifecycle") or []
    return [Rule.from_tree(r) for r in find_all(tree, "Rule")]


def abort_date(rules: Iterable[Rule], upload: UploadInfo, day_seconds: float) -> tuple[float, str] | None:
    """When a lifecycle rule will abort this upload, and which rule: the earliest applies."""
    dates = [(day_boundary(upload.initiated + r.abort_days * day_seconds, day_seconds), r.id)
             for r in rules if r.covers_upload(upload.key) and r.abort_days is not None]
    return min(dates) if dates else None


def expiration(rules: Iterable[Rule], obj: ObjectInfo, day_seconds: float) -> tuple[float, str] | None:
    """When the current version `obj` expires under the rules, if ever, and
    by which rule: the earliest applies, the first listed among equals (AWS:
    test_bucket_lifecycle_multiple_rules)."""
    times = []
    for order, r in enumerate(rules):
        if not r.covers(obj.key, object_tags(obj.meta), obj.size):
            continue
        if r.expiration_days is not None:
            times.append((day_boundary(obj.last_modified + r.expiration_days * day_seconds, day_seconds), order, r.id))
        if r.expiration_date is not None:
            times.append((r.expiration_date, order, r.id))
    return (min(times)[0], min(times)[2]) if times else None


def expiry_of(rules: Iterable[Rule], obj: ObjectInfo, day_seconds: float) -> float | None:
    """When the current version `obj` expires under the rules, if ever."""
    found = expiration(rules, obj, day_seconds)
    return found[0] if found else None


@dataclass
class SweepResult:
    """What one sweep did: uploads aborted, current versions expired, delete
    markers and noncurrent versions removed."""

    aborted: list[UploadInfo] = field(default_factory=list)
    expired: list[ObjectInfo] = field(default_factory=list)
    markers_removed: int = 0
    noncurrent_removed: int = 0
    transitioned: int = 0  # versions moved to another storage class

    @property
    def total(self) -> int:
        """How many changes the sweep made."""
        return len(self.aborted) + len(self.expired) + self.markers_removed + self.noncurrent_removed \
            + self.transitioned


class Lifecycle:
    """The sweeps the server's reaper runs. Each change is its own short
    transaction that re-checks its condition, so a sweep racing a client's
    write never removes what the client just wrote."""

    def __init__(self, db: Database, garbage: Garbage, buckets: Buckets, objects: Objects,
                 uploads: Uploads, versions: Versions) -> None:
        self.db = db
        self.garbage = garbage
        self.buckets = buckets
        self.objects = objects
        self.uploads = uploads
        self.versions = versions

    def sweep(self, *, now: float | None = None, day_seconds: float = 86400.0,
              upload_expiry: float | None = None, limit: int = 500) -> SweepResult:
        """See Store.sweep."""
        now = time.time() if now is None else now
        result = SweepResult()
        if upload_expiry is not None:
            for upload in self.uploads.older_than(now - upload_expiry)[:limit]:
                if self.uploads.abort_if_open(upload):
                    result.aborted.append(upload)
        for bucket in self.buckets.all():
            rules = rules_of(bucket.config)
            if rules:
                min_size = bucket.config.get("transition_default_minimum_object_size") or SIZE_DEFAULT
                self._sweep_bucket(bucket.name, rules, now, day_seconds, limit, result, min_size)
        return result

    def _sweep_bucket(self, bucket: str, rules: list[Rule], now: float, day_seconds: float, limit: int,
                      result: SweepResult, min_size: str = "") -> None:
        for rule in rules:
            if not rule.enabled:
                continue
            if rule.abort_days is not None:
                cutoff = now - rule.abort_days * day_seconds
                for upload in self.uploads.older_than(cutoff, bucket, rule.prefix)[:limit]:
                    if day_boundary(upload.initiated + rule.abort_days * day_seconds, day_seconds) <= now \
                            and self.uploads.abort_if_open(upload):
                        result.aborted.append(upload)
            if rule.expiration_days is not None or rule.expiration_date is not None:
                for obj in self._current_candidates(bucket, rule, now, day_seconds, limit):
                    expiry = expiry_of([rule], obj, day_seconds)
                    if expiry is not None and expiry <= now and self.objects.expire_if_current(obj):
                        result.expired.append(obj)
            if rule.expired_object_delete_marker:
                markers = self.versions.lone_delete_markers(bucket, rule.prefix, limit)
                result.markers_removed += sum(self.versions.remove_lone_marker(m) for m in markers)
            if rule.noncurrent_days is not None:
                result.noncurrent_removed += self._expire_noncurrent(bucket, rule, now, day_seconds, limit)
            if rule.transitions:
                result.transitioned += self._transition_current(bucket, rule, min_size, now, day_seconds, limit)
            if rule.noncurrent_transitions:
                result.transitioned += self._transition_noncurrent(bucket, rule, min_size, now, day_seconds, limit)

    def _transition_current(self, bucket: str, rule: Rule, min_size: str, now: float, day_seconds: float,
                            limit: int) -> int:
        """Current versions whose Transition is due move to its class (the
        coldest due), page by page in key order, at most `limit` of them."""
        colder = max(RANK.get(t.storage_class, 0) for t in rule.transitions)
        classes = [c for c, rank in RANK.items() if rank < colder]
        days = [t.days for t in rule.transitions if t.date is None and t.days is not None]
        dated = any(t.date is not None and t.date <= now for t in rule.transitions)
        cutoff = now if dated or not days else now - min(days) * day_seconds  # rounding only adds time
        moved, after, first = 0, rule.prefix, True
        while moved < limit:
            page = self.objects.current_in_classes(bucket, after, first, classes, cutoff, limit)
            for obj in page:
                if not obj.key.startswith(rule.prefix):
                    return moved
                moved += self._move(obj, rule, due_class(rule.transitions, obj.last_modified, now, day_seconds),
                                    min_size)
            if len(page) < limit:
                break
            after, first = page[-1].key, False
        return moved

    def _transition_noncurrent(self, bucket: str, rule: Rule, min_size: str, now: float, day_seconds: float,
                               limit: int) -> int:
        """Noncurrent versions whose NoncurrentVersionTransition is due (days
        after their successor was written) move to its class."""
        due = []
        for row in self.versions.under(bucket, rule.prefix, "o.is_latest=0 AND o.delete_marker=0"):
            target = due_class(rule.noncurrent_transitions, row["since"], now, day_seconds)
            if target is not None and RANK.get(target, 0) > RANK.get(storage_class_of(json.loads(row["meta"])), 0):
                due.append((ObjectInfo.from_row(row), target))
                if len(due) >= limit:
                    break
        return sum(self._move(obj, rule, target, min_size) for obj, target in due)

    def _move(self, obj: ObjectInfo, rule: Rule, target: str | None, min_size: str) -> int:
        """Move one version to `target` if the rule covers it and S3 would; 1 if it moved."""
        if target is None or not rule.covers(obj.key, object_tags(obj.meta), obj.size):
            return 0
        if not transition_allowed(storage_class_of(obj.meta), target, obj.size, min_size, rule.sized):
            return 0
        return int(self.objects.set_storage_class(obj, target))

    def _current_candidates(self, bucket: str, rule: Rule, now: float, day_seconds: float,
                            limit: int) -> list[ObjectInfo]:
        # a version can only be due if it is older than the rule's days (rounding only adds time)
        if rule.expiration_date is not None and rule.expiration_date <= now:
            cutoff = now
        elif rule.expiration_days is not None:
            cutoff = now - rule.expiration_days * day_seconds
        else:
            return []
        return self.objects.current_older_than(bucket, rule.prefix, cutoff, limit)

    def _expire_noncurrent(self, bucket: str, rule: Rule, now: float, day_seconds: float, limit: int) -> int:
        """Noncurrent versions whose successor is `noncurrent_days` old,
        beyond the newest `newer_noncurrent` of them, go for good."""
        assert rule.noncurrent_days is not None
        removed = 0
        keys = [r[0] for r in self.db.execute(
            "SELECT DISTINCT key FROM objects WHERE bucket=? AND key>=? AND is_latest=0 ORDER BY key LIMIT ?",
            (bucket, rule.prefix, limit))]
        for key in keys:
            if not key.startswith(rule.prefix):
                continue
            with transaction(self.db) as db:
                versions = db.execute("SELECT id, is_latest, last_modified, size, meta FROM objects"
                                      " WHERE bucket=? AND key=? ORDER BY seq DESC", (bucket, key)).fetchall()
                noncurrent = 0
                for newer, row in zip(versions, versions[1:]):
                    if row["is_latest"]:
                        continue
                    noncurrent += 1
                    if rule.newer_noncurrent is not None and noncurrent <= rule.newer_noncurrent:
                        continue
                    # a version became noncurrent when its successor was written
                    due = day_boundary(newer["last_modified"] + rule.noncurrent_days * day_seconds, day_seconds)
                    meta = json.loads(row["meta"])
                    # lifecycle never removes what a retention or legal hold protects
                    if due <= now and rule.covers(key, object_tags(meta), row["size"]) and not is_locked(meta, now):
                        self.objects.drop(row["id"])
                        removed += 1
            self.garbage.collect()
        return removed
