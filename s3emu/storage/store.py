"""The storage engine's front door: one Store per data directory and process,
composed of its tables. Every method the server calls is here, named after
the S3 operation it serves where there is one.

Units throughout: times are seconds since the epoch, UTC; sizes are bytes;
ETags are unquoted hex; checksums are base64 keyed by S3 algorithm name.
"""
from __future__ import annotations

import contextlib
import itertools
import logging
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any, AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

from .archive import ARCHIVED, new_restore, restore_status, storage_class_of
from .blobs import BlobStore
from .buckets import Buckets
from .db import Database, commit_together, release_free_pages, snapshot, transaction
from .errors import BucketNotEmpty, DataFileMissing, NotArchived, RestoreInProgress, StorageError
from .garbage import Garbage
from .lifecycle import Lifecycle, SweepResult
from .meta import BucketConfig, LockRule, ObjectMeta, UploadMeta
from .models import BucketInfo, ObjectInfo, Page, PartInfo, Segment, UploadInfo
from .objects import ALWAYS, Deleted, Objects, Verify, WriteCondition
from .outbox import Outbox
from .reads import OpenRange
from .reserve import Reserve
from .uploads import ChecksumFinisher, CompletedPart, Uploads
from .versions import Versions
from .writer import Outcomes, Staged, Writer

T = TypeVar("T")

log = logging.getLogger("s3emu.storage")


class Store:
    """Buckets, objects and multipart uploads in one data directory:
    `meta.sqlite3` for metadata (and the bytes of objects of at most
    blobs.IN_DATABASE_BYTES), `blobs/` for data files, `tmp/` for writes in
    progress. With durable, every acknowledged write survives a power cut.

    Opening raises UnsupportedDataDirectory for a directory a newer s3emu
    wrote. Every method may raise StorageFull (nothing was written).

    Threads: each thread uses its own database connection (Database). A
    server reads on its event loop and runs every method that writes on the
    writer thread, through `call` (put_object and upload_part do so for their
    commit themselves), so the loop never waits for a lock or a commit. A
    single-threaded caller (a command-line tool, a test) calls them directly."""

    def __init__(self, root: Path | str, *, durable: bool = True) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.root / "meta.sqlite3", durable)
        self.blobs = BlobStore(self.root, durable)
        self.writer = Writer(after=self.collect_garbage, after_each=self.db.checkpoint_when_due,
                             commit=self._commit_staged)
        self.reserve = Reserve(self.root)
        self.garbage = Garbage(self.db, self.blobs, self.writer)
        self.buckets = Buckets(self.db)
        self.objects = Objects(self.db, self.blobs, self.garbage, self.buckets, self.writer)
        self.versions = Versions(self.db, self.buckets, self.objects)
        self.uploads = Uploads(self.db, self.blobs, self.garbage, self.buckets, self.objects, self.writer)
        self.lifecycle = Lifecycle(self.db, self.garbage, self.buckets, self.objects, self.uploads, self.versions)
        self.outbox = Outbox(self.db)  # event notifications waiting for delivery

    def close(self) -> None:
        """Finish the writes handed to the writer thread, then close every
        connection; the Store is unusable afterwards."""
        self.writer.close()
        self.db.close()

    def collect_garbage(self) -> None:
        """Unlink the data files that committed writes dropped, and give the
        disk back the database pages they freed (the writer thread's work
        after its jobs)."""
        self.garbage.collect()
        self.release_space()

    def release_space(self) -> None:
        """Give the disk back the database pages that dropped versions freed
        (small objects' bytes), past a few (db.release_free_pages): on a full
        disk with the reserve's room, as a delete. Never raises: the next call
        tries again."""
        try:
            self.reserve.freeing(lambda: release_free_pages(self.db))
        except (StorageError, sqlite3.OperationalError) as e:
            log.warning("free database pages not released yet: %s", e)

    def _commit_staged(self, staged: list[Staged]) -> Outcomes:
        """The writer's group commit: the staged writes in one transaction,
        then each failed one undone and what the committed ones dropped collected."""
        try:
            outcomes = commit_together(self.db, [s.stage for s in staged])
        except BaseException as e:
            outcomes = [(False, e)] * len(staged)
        for s, (ok, _) in zip(staged, outcomes):
            if not ok:
                try:
                    s.undo()
                except Exception:
                    log.exception("undoing a write that was not committed")  # start-up removes orphans
        self.garbage.collect()
        return outcomes

    async def call(self, method: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run one of this store's methods on its writer thread (see the class
        docstring): `await store.call(store.delete_object, bucket, key)`."""
        return await self.writer.run(method, *args, **kwargs)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one state of the store, whatever commits meanwhile:
        look an object up and open_range it in one snapshot. Do not await inside."""
        with snapshot(self.db):
            yield

    # -- the data directory ---------------------------------------------------

    def recover(self) -> dict[str, int]:
        """Start-up recovery, before any request is served: drop half-written
        files and data files no metadata refers to (a crash between writing a
        file and committing its row, or between a commit and its unlinks).
        Returns how many of each it removed: {"tmp": n, "orphans": n}."""
        tmp = self.blobs.clear_tmp()
        with transaction(self.db) as db:  # no reader outlives its process
            db.execute("DELETE FROM read_leases")
        self.garbage.release_lapsed()
        self.garbage.collect(force=True)
        referenced = self.referenced_files()
        orphans = [f for f in self.blobs.all_files() if f not in referenced]
        self.blobs.delete(orphans)
        if tmp or orphans:
            log.info("recovery removed %d temporary and %d orphaned data files", tmp, len(orphans))
        self.reserve.refill()
        return {"tmp": tmp, "orphans": len(orphans)}

    def _reader(self) -> closing[sqlite3.Connection]:
        """A read-only connection of its own, for reads from another thread."""
        uri = f"{(self.root / 'meta.sqlite3').resolve().as_uri()}?mode=ro"
        return closing(sqlite3.connect(uri, uri=True, timeout=30.0))

    def usage(self) -> dict[str, int]:
        """What the store holds: {"objects": versions that are not delete
        markers, "bytes": their total size, "uploads": uploads in progress}.
        A scan of every version, on a read-only connection of its own: safe
        to call from any thread, while the server goes on."""
        with self._reader() as db:
            objects, size = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM objects WHERE delete_marker=0").fetchone()
            uploads = db.execute("SELECT COUNT(*) FROM uploads WHERE state='open'").fetchone()[0]
        return {"objects": objects, "bytes": size, "uploads": uploads}

    def bucket_usage(self) -> dict[str, dict[str, int]]:
        """Per bucket: current objects and their bytes, every version (delete
        markers apart) and their bytes, delete markers, open uploads and the
        bytes of their parts. Reads through a connection of its own, so it may
        run in another thread than the one serving requests."""
        usage: dict[str, dict[str, int]] = {}
        with self._reader() as db:
            for (name,) in db.execute("SELECT name FROM buckets"):
                usage[name] = dict.fromkeys(("objects", "bytes", "versions", "version_bytes", "delete_markers",
                                             "uploads", "upload_bytes"), 0)
            for row in db.execute(
                    "SELECT bucket, SUM(is_latest AND NOT delete_marker), SUM(CASE WHEN is_latest AND NOT "
                    "delete_marker THEN size ELSE 0 END), SUM(NOT delete_marker), SUM(CASE WHEN delete_marker "
                    "THEN 0 ELSE size END), SUM(delete_marker) FROM objects GROUP BY bucket"):
                if row[0] in usage:
                    usage[row[0]].update(zip(("objects", "bytes", "versions", "version_bytes", "delete_markers"),
                                             row[1:]))
            for bucket, uploads, size in db.execute(
                    "SELECT u.bucket, COUNT(DISTINCT u.upload_id), COALESCE(SUM(p.size), 0) FROM uploads u "
                    "LEFT JOIN parts p ON p.upload_id = u.upload_id WHERE u.state='open' GROUP BY u.bucket"):
                if bucket in usage:
                    usage[bucket].update(uploads=uploads, upload_bytes=size)
        return usage

    def reset(self, bucket: str | None = None) -> int:
        """Empty the store, or only `bucket`: buckets, object versions, delete
        markers, uploads and parts go, Object Lock retention and legal holds
        notwithstanding (this is for tests, not S3), in one transaction; their
        data files are then unlinked. Returns how many buckets were removed."""
        where = "" if bucket is None else " WHERE bucket=?"
        args = () if bucket is None else (bucket,)
        with transaction(self.db) as db:
            objects = f"SELECT id FROM objects{where}"
            uploads = f"SELECT upload_id FROM uploads{where}"
            segments = db.execute(f"SELECT object_id, file FROM segments WHERE object_id IN ({objects})"
                                  " ORDER BY object_id", args).fetchall()
            for object_id, rows in itertools.groupby(segments, key=lambda r: r[0]):
                self.garbage.discard((r[1] for r in rows), object_id)  # a leased version's wait for its reader
            self.garbage.discard(r[0] for r in db.execute(f"SELECT file FROM parts WHERE upload_id IN ({uploads})",
                                                          args))
            db.execute(f"DELETE FROM segments WHERE object_id IN ({objects})", args)
            db.execute(f"DELETE FROM parts WHERE upload_id IN ({uploads})", args)
            db.execute(f"DELETE FROM objects{where}", args)
            db.execute(f"DELETE FROM uploads{where}", args)
            removed = db.execute(f"DELETE FROM buckets{where.replace('bucket', 'name')}", args).rowcount
        self.garbage.collect()
        return int(removed)

    def referenced_files(self) -> set[str]:
        """Every data file an object version or a part names, in one snapshot."""
        with transaction(self.db) as db:
            files = {r[0] for r in db.execute("SELECT file FROM segments")}
            files.update(r[0] for r in db.execute("SELECT file FROM parts"))
        return files

    # -- buckets ---------------------------------------------------------------

    def create_bucket(self, name: str, region: str, object_lock: bool = False, owner: str | None = None,
                      config: BucketConfig | None = None) -> BucketInfo:
        """A new bucket in `region` owned by `owner` (a canonical id; None is
        the default account), with its first `config` (ownership, public
        access block, ACL); with object_lock, versioning starts enabled.
        Raises BucketAlreadyOwnedByYou if it exists, BucketAlreadyExists if
        another owner has it."""
        return self.buckets.create(name, region, object_lock, owner, config)

    def get_bucket(self, name: str) -> BucketInfo:
        """The bucket called `name`. Raises NoSuchBucket."""
        return self.buckets.get(name)

    def list_buckets(self) -> list[BucketInfo]:
        """Every bucket, by name."""
        return self.buckets.all()

    def delete_bucket(self, name: str) -> None:
        """Delete an empty bucket; uploads still in progress go with it, as in S3.
        Raises NoSuchBucket, or BucketNotEmpty while any version or delete marker remains."""
        with transaction(self.db):
            self.buckets.get(name)
            if self.objects.exist_in(name):
                raise BucketNotEmpty(BucketName=name)
            self.uploads.drop_all(name)
            self.buckets.drop(name)
        self.garbage.collect()

    def set_bucket_config(self, name: str, item: str, value: object) -> None:
        """Store one sub-resource of the bucket's config ("lifecycle", "cors",
        "mfa_delete": see meta.BucketConfig), or with None remove it. Raises NoSuchBucket."""
        self.buckets.put_config(name, item, value)

    def update_bucket_config(self, name: str, changes: Mapping[str, Any]) -> None:
        """Store or remove (None) several sub-resources of the bucket's config
        in one commit. Raises NoSuchBucket."""
        self.buckets.update_config(name, changes)

    def put_bucket_config_entry(self, name: str, item: str, entry_id: str, value: Any,
                                limit: int | None = None) -> bool:
        """Store one entry of a sub-resource kept by id ("inventory",
        "analytics", "metrics", "intelligent_tiering"), or with None remove
        it. False, changing nothing, when there is no such entry to remove or
        when a new one would make more than `limit`. Raises NoSuchBucket."""
        return self.buckets.put_config_entry(name, item, entry_id, value, limit)

    def put_bucket_versioning(self, name: str, status: str, mfa_delete: str | None = None) -> None:
        """Set versioning to "Enabled" or "Suspended", and with mfa_delete
        ("Enabled", "Disabled") the MFA delete state, in one commit. Raises NoSuchBucket."""
        self.buckets.put_versioning(name, status, mfa_delete)

    def put_object_lock_configuration(self, bucket: str, rule: LockRule) -> None:
        """Turn Object Lock on (a bucket with versioning enabled may have it
        added) with a default retention rule ({} for none). Raises
        NoSuchBucket, VersioningNotEnabled."""
        self.versions.put_object_lock_configuration(bucket, rule)

    # -- objects ---------------------------------------------------------------

    async def put_object(self, bucket: str, key: str, body: AsyncIterable[bytes], *, meta: ObjectMeta,
                         size: int | None = None, max_size: int | None = None, algorithms: Iterable[str] = (),
                         verify: Verify | None = None, condition: WriteCondition = ALWAYS) -> ObjectInfo:
        """Stream body into a new version of key, computing MD5 and the
        checksums named in `algorithms` (meta["checksums"] gets them); it
        becomes visible whole at one commit, or not at all. A body of at most
        blobs.IN_DATABASE_BYTES is committed with its row, in the database,
        rather than as a data file. `verify` may refuse
        the written data first; `condition` is checked inside the commit.
        Raises NoSuchBucket, IncompleteBody (size given and not met),
        EntityTooLarge (past max_size), ObjectExists / ETagMismatch / NoSuchKey
        (condition), and whatever verify raises."""
        return await self.objects.put(bucket, key, body, meta=meta, size=size, max_size=max_size,
                                      algorithms=algorithms, verify=verify, condition=condition)

    def get_object(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        """The key's current version, or the version asked for. Raises
        NoSuchBucket, NoSuchKey, NoSuchVersion, InvalidVersionId, and
        DeleteMarkerHit when a delete marker stands there."""
        return self.objects.get(bucket, key, version_id)

    def put_object_acl(self, bucket: str, key: str, version_id: str | None, grants: list[dict[str, str]]) -> ObjectInfo:
        """Replace a version's ACL grants (the current version's without
        version_id); the version as updated. Raises get_object's errors."""
        def regrant(info: ObjectInfo) -> ObjectMeta:
            return {**info.meta, "acl": grants}
        return self.objects.update_meta(bucket, key, version_id, regrant)
    def put_object_tagging(self, bucket: str, key: str, version_id: str | None,
                           tags: dict[str, str]) -> ObjectInfo:
        """Replace a version's tags (the current version's without
        version_id; {} removes them); the version as updated. Raises
        get_object's errors."""
        def retag(info: ObjectInfo) -> ObjectMeta:
            meta: ObjectMeta = {k: v for k, v in info.meta.items() if k not in ("tags", "tagging")}  # type: ignore[assignment]
            if tags:
                meta["tags"] = dict(tags)
            return meta
        return self.objects.update_meta(bucket, key, version_id, retag)

    def restore_object(self, bucket: str, key: str, version_id: str | None, days: int, tier: str, *,
                       restore_seconds: float, day_seconds: float, now: float | None = None) -> tuple[ObjectInfo, bool]:
        """Ask for an archived version to be made readable for `days`
        lifecycle days, after restore_seconds; the version as updated, and
        whether it was already restored (only its expiry moved). Raises
        NotArchived (not GLACIER or DEEP_ARCHIVE), RestoreInProgress and
        get_object's errors."""
        moment = time.time() if now is None else now
        already = False

        def restore(info: ObjectInfo) -> ObjectMeta:
            nonlocal already
            if storage_class_of(info.meta) not in ARCHIVED:
                raise NotArchived(StorageClass=storage_class_of(info.meta))
            if restore_status(info.meta, moment) == "ongoing":
                raise RestoreInProgress()
            state, already = new_restore(info.meta, days, tier, moment, restore_seconds, day_seconds)
            return {**info.meta, "restore": state}
        return self.objects.update_meta(bucket, key, version_id, restore), already

    def segments(self, object_id: int, *, after: int = 0, offset: int = 0, limit: int = -1) -> list[Segment]:
        """An object's segments in part order: those with part number above
        `after`, skipping `offset`, at most `limit` (all when -1)."""
        return self.objects.segments(object_id, after=after, offset=offset, limit=limit)

    def open_range(self, info: ObjectInfo, first: int, last: int) -> OpenRange:
        """Bytes first..last (inclusive) of an object version, to read even if
        the version is replaced or deleted meanwhile (storage/reads.py). Call it
        in the snapshot that looked the version up, then `await hold(...)` it;
        the reader closes it (`await opened.close()`). Raises DataFileMissing
        (the version went since the snapshot: look it up again),
        TooManyOpenFiles."""
        return self.objects.open_range(info, first, last)

    async def hold(self, opened: OpenRange) -> None:
        """Make sure an open range stays readable: a range too large to open at
        once is leased (on the writer thread). Raises DataFileMissing, with the
        range closed, when its version went since the snapshot."""
        if not opened.needs_lease:
            return
        lease_id = await self.call(self.garbage.lease, opened.object_id)
        if lease_id is None:
            await opened.close()
            raise DataFileMissing()
        opened.leased(lease_id, renew=lambda i: self.call(self.garbage.renew, i),
                      end=lambda i: self.call(self.garbage.end_lease, i))

    def read_range(self, opened: OpenRange) -> AsyncIterator[bytes]:
        """The bytes of a held open range, in chunks read off the event loop
        (the caller closes the range after). Raises DataFileShort."""
        return self.objects.read_range(opened)

    def delete_object(self, bucket: str, key: str, version_id: str | None = None, *,
                      bypass_governance: bool = False, condition: WriteCondition = ALWAYS) -> Deleted:
        """Unversioned bucket: the key goes. Versioned: a delete marker on top,
        or with version_id that version for good (a missing one is no error).
        `condition` (If-Match) is checked against the current version in the
        same transaction. Works on a full disk (storage/reserve.py). Raises
        NoSuchBucket, InvalidVersionId, ObjectLocked (retention or legal hold;
        a GOVERNANCE retention yields to bypass_governance), and
        WriteCondition.check's errors."""
        try:
            return self.reserve.freeing(lambda: self.objects.delete(bucket, key, version_id,
                                                                    bypass_governance=bypass_governance,
                                                                    condition=condition))
        finally:
            self.release_space()  # before the answer: the space is there for the next request

    def delete_objects(self, bucket: str, targets: Sequence[tuple[str, str | None, WriteCondition]], *,
                       bypass_governance: bool = False) -> list[Deleted | StorageError]:
        """DeleteObjects: each (key, version_id, condition) deleted as delete_object does,
        in one transaction; each key's outcome, Deleted or the error that kept
        it (the others go on). Works on a full disk. Raises NoSuchBucket."""
        try:
            return self.reserve.freeing(lambda: self.objects.delete_many(bucket, targets,
                                                                         bypass_governance=bypass_governance))
        finally:
            self.release_space()

    def list_objects(self, bucket: str, *, prefix: str = "", delimiter: str = "", marker: str = "",
                     max_keys: int = 1000) -> Page[ObjectInfo]:
        """A page of current versions after `marker`, in key order (UTF-8
        bytes), keys under prefix folded at delimiter. Raises NoSuchBucket."""
        return self.objects.page(bucket, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=max_keys)

    # -- versions and Object Lock --------------------------------------------------

    def list_object_versions(self, bucket: str, *, prefix: str = "", delimiter: str = "", key_marker: str = "",
                             version_id_marker: str | None = None, max_keys: int = 1000) -> Page[ObjectInfo]:
        """A page of versions and delete markers: keys ascending, each key's
        newest first, after (key_marker, version_id_marker). Every page is a
        range scan of the (bucket, key, seq) index. Raises NoSuchBucket, InvalidVersionId."""
        return self.versions.page(bucket, prefix=prefix, delimiter=delimiter, key_marker=key_marker,
                                  version_id_marker=version_id_marker, max_keys=max_keys)

    def put_object_retention(self, bucket: str, key: str, version_id: str | None, mode: str | None,
                             until: float | None, *, bypass_governance: bool = False) -> None:
        """Set a version's retention (mode "GOVERNANCE"/"COMPLIANCE" until a
        date), or with mode None remove it. An active one may only be
        extended, unless it is GOVERNANCE and bypass_governance. Raises
        NoObjectLockConfiguration, ObjectLocked and get_object's errors."""
        self.versions.put_retention(bucket, key, version_id, mode, until, bypass_governance=bypass_governance)

    def put_object_legal_hold(self, bucket: str, key: str, version_id: str | None, status: str) -> None:
        """Set a version's legal hold, "ON" or "OFF". Raises
        NoObjectLockConfiguration and get_object's errors."""
        self.versions.put_legal_hold(bucket, key, version_id, status)

    def noncurrent_versions_older_than(self, bucket: str, prefix: str, seconds: float,
                                       now: float | None = None) -> list[ObjectInfo]:
        """Noncurrent versions and delete markers under prefix that became
        noncurrent (their successor was written) more than `seconds` ago and
        that no retention or legal hold protects; keys ascending, newest first."""
        return self.versions.noncurrent_older_than(bucket, prefix, seconds, now)

    def expired_delete_markers(self, bucket: str, prefix: str, limit: int | None = None) -> list[ObjectInfo]:
        """Delete markers under prefix that are the only version left of their
        key (at most `limit` of them)."""
        return self.versions.lone_delete_markers(bucket, prefix, limit)

    # -- multipart uploads -------------------------------------------------------------

    def create_multipart_upload(self, bucket: str, key: str, meta: UploadMeta) -> UploadInfo:
        """A new upload whose object will carry `meta`. Raises NoSuchBucket."""
        return self.uploads.create(bucket, key, meta)

    def get_upload(self, bucket: str, key: str, upload_id: str) -> UploadInfo:
        """An upload in progress for exactly this bucket and key. Raises NoSuchBucket, NoSuchUpload."""
        return self.uploads.get(bucket, key, upload_id)

    async def upload_part(self, bucket: str, key: str, upload_id: str, part_number: int,
                          body: AsyncIterable[bytes], *, size: int | None = None, max_size: int | None = None,
                          algorithms: Iterable[str] = (), verify: Verify | None = None) -> PartInfo:
        """Stream a part to its own data file; it replaces any earlier part with
        this number. A part still arriving when its upload completes or aborts
        is refused and leaves nothing behind. Raises get_upload's and
        put_object's errors."""
        return await self.uploads.put_part(bucket, key, upload_id, part_number, body, size=size,
                                           max_size=max_size, algorithms=algorithms, verify=verify)

    def list_parts(self, bucket: str, key: str, upload_id: str, *, marker: int = 0,
                   max_parts: int = 1000) -> tuple[UploadInfo, list[PartInfo], bool]:
        """The upload, up to max_parts of its parts numbered above marker, and
        whether more follow. Raises get_upload's errors."""
        return self.uploads.list_parts(bucket, key, upload_id, marker=marker, max_parts=max_parts)

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        """Forget an upload in progress and its parts; works on a full disk.
        Raises get_upload's errors."""
        self.reserve.freeing(lambda: self.uploads.abort(bucket, key, upload_id))

    def complete_multipart_upload(self, bucket: str, key: str, upload_id: str, parts: Sequence[CompletedPart], *,
                                  min_part_size: int, object_meta: ObjectMeta | None = None,
                                  expected_size: int | None = None, condition: WriteCondition = ALWAYS,
                                  checksum: ChecksumFinisher | None = None) -> ObjectInfo:
        """Check the client's part list against the stored parts and commit the
        object in one transaction, its parts' data files becoming its segments.
        A repeat of a Complete that already succeeded answers with the same
        object while the key still holds it. Raises NoSuchBucket, NoSuchUpload,
        NoPartsListed, InvalidPartOrder, InvalidPart, EntityTooSmall (a part
        but the last below min_part_size), ObjectSizeMismatch (expected_size),
        put_object's condition errors, and whatever `checksum` raises."""
        return self.uploads.complete(bucket, key, upload_id, parts, min_part_size=min_part_size,
                                     object_meta=object_meta, expected_size=expected_size, condition=condition,
                                     checksum=checksum)

    def list_multipart_uploads(self, bucket: str, *, prefix: str = "", delimiter: str = "", key_marker: str = "",
                               upload_id_marker: str | None = None, max_uploads: int = 1000) -> Page[UploadInfo]:
        """A page of uploads in progress by key, then initiation, after
        (key_marker, upload_id_marker). Raises NoSuchBucket."""
        return self.uploads.page(bucket, prefix=prefix, delimiter=delimiter, key_marker=key_marker,
                                 upload_id_marker=upload_id_marker, max_uploads=max_uploads)

    def uploads_older_than(self, cutoff: float, bucket: str | None = None, prefix: str = "") -> list[UploadInfo]:
        """Uploads in progress initiated before cutoff, in one bucket or all,
        with keys under prefix; by bucket, key, initiation."""
        return self.uploads.older_than(cutoff, bucket, prefix)

    # -- lifecycle -------------------------------------------------------------------

    def sweep(self, *, now: float | None = None, day_seconds: float = 86400.0,
              upload_expiry: float | None = None, limit: int = 500) -> SweepResult:
        """Enforce every bucket's lifecycle rules (and the server-wide upload
        expiry, in seconds) once, acting on at most about `limit` items per
        kind. A lifecycle day lasts day_seconds (shorter in tests)."""
        self.garbage.release_lapsed()  # what readers that died held back
        return self.lifecycle.sweep(now=now, day_seconds=day_seconds, upload_expiry=upload_expiry, limit=limit)
