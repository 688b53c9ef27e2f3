"""The objects and segments tables: writes that become visible in one commit,
reads over data files, deletes that leave delete markers where versioning says."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import AsyncIterable, AsyncIterator, Callable, Collection, Iterable, Sequence

from .archive import storage_class_of
from .blobs import IN_DATABASE, Blob, BlobStore
from .buckets import Buckets
from .db import Database, json_chunks, transaction
from .digests import b64
from .errors import (
    DataFileMissing,
    ConditionalConflict,
    DeleteMarkerHit,
    ETagMismatch,
    NoSuchKey,
    NoSuchVersion,
    ObjectExists,
    StorageError,
)
from .garbage import Garbage
from .ids import check_version_id, new_object_id, new_version_id
from .listing import list_page
from .locks import check_deletable, with_default_retention
from .meta import ObjectMeta
from .models import BucketInfo, ObjectInfo, Page, Segment
from .reads import OpenRange, Piece
from .writer import LONG_JOB_ITEMS, Staged, Writer, giving_way, sharing_the_gil


# Called with the written data file before it is committed; raising refuses the write.
Verify = Callable[[Blob], None]


@dataclass
class Deleted:
    """What a delete did: the version id it removed or created (None for an
    unversioned bucket), and whether that is a delete marker."""

    version_id: str | None
    delete_marker: bool


@dataclass(frozen=True)
class WriteCondition:
    """A conditional write, checked against the key's current version inside
    the commit: `if_match` lists ETags (unquoted; "*" for any) one of which the
    current version must have; `if_none_match` requires no current version."""

    if_match: Collection[str] | None = None
    if_none_match: bool = False
    # set for a multipart upload whose key was written or deleted after it began
    key_changed: bool = False

    @property
    def conditional(self) -> bool:
        """Whether check() looks at the current version at all (a plain write skips the lookup)."""
        return self.if_match is not None or self.if_none_match

    def check(self, current: ObjectInfo | None, key: str) -> None:
        """ObjectExists, NoSuchKey or ETagMismatch when the condition does not
        hold; ConditionalConflict when it holds but key_changed (S3 then
        cannot tell which write the condition meant)."""
        if self.if_none_match and current is not None:
            raise ObjectExists()
        if self.if_match is not None:
            if current is None:
                raise NoSuchKey(Key=key)
            if "*" not in self.if_match and current.etag not in self.if_match:
                raise ETagMismatch()
        if self.key_changed and (self.if_match is not None or self.if_none_match):
            raise ConditionalConflict(Condition="If-Match" if self.if_match is not None else "If-None-Match",
                                      Key=key)


ALWAYS = WriteCondition()


class Objects:
    """The objects and segments tables: object versions, delete markers and
    the data files they are made of."""

    def __init__(self, db: Database, blobs: BlobStore, garbage: Garbage, buckets: Buckets, writer: Writer) -> None:
        self.db = db
        self.blobs = blobs
        self.garbage = garbage
        self.buckets = buckets
        self.writer = writer

    # -- writing -------------------------------------------------------------

    async def put(self, bucket: str, key: str, body: AsyncIterable[bytes], *, meta: ObjectMeta,
                  size: int | None = None, max_size: int | None = None, algorithms: Iterable[str] = (),
                  verify: Verify | None = None, condition: WriteCondition = ALWAYS) -> ObjectInfo:
        """See Store.put_object. The body streams to a data file on the event
        loop's side (a small one is kept as bytes for the commit); the commit
        runs on the writer thread."""
        self.buckets.get(bucket)
        blob = await self.blobs.write(body, size=size, max_size=max_size, algorithms=algorithms, in_database=True)
        try:
            if verify is not None:
                verify(blob)
        except BaseException:
            self.blobs.delete([blob.file])
            raise
        meta = {**meta, "checksums": {**meta.get("checksums", {}), **_b64(blob.digests)}}
        segment = Segment(1, 0, blob.size, blob.file, blob.md5)
        info: ObjectInfo = await self.writer.run_staged(Staged(
            lambda: self.insert_version(bucket, key, [segment], blob.md5, meta, None, condition, data=blob.data),
            lambda: self.blobs.delete([blob.file])))
        return info

    def insert_version(self, bucket: str, key: str, segments: Sequence[Segment], etag: str, meta: ObjectMeta,
                       parts_count: int | None, condition: WriteCondition = ALWAYS, *,
                       data: bytes | None = None) -> ObjectInfo:
        """Inside a transaction: make `segments` (already durable files) the
        new current version of key, after checking `condition`; with data,
        the bytes of its one segment (whose file is IN_DATABASE)."""
        db = self.db
        b = self.buckets.get(bucket)
        if condition.conditional:
            condition.check(self.current(bucket, key), key)
        self.key_changed(bucket, key)
        version_id = new_version_id() if b.versioning == "Enabled" else "null"
        now = float(int(time.time()))  # S3 keeps object times to the second: listings agree with HEAD
        meta = with_default_retention(b, meta, now)
        if version_id == "null":
            self._drop_null_version(bucket, key)
        if b.versioning is not None:  # never versioned: the null version just dropped was the only one
            db.execute("UPDATE objects SET is_latest=0 WHERE bucket=? AND key=? AND is_latest=1", (bucket, key))
        size = sum(s.size for s in segments)
        object_id = new_object_id()
        db.execute(
            "INSERT INTO objects(id, bucket, key, version_id, seq, is_latest, size, etag, last_modified,"
            " parts_count, meta) VALUES (?,?,?,?,"
            " (SELECT COALESCE(MAX(seq), 0) + 1 FROM objects WHERE bucket=? AND key=?), 1,?,?,?,?,?)",
            (object_id, bucket, key, version_id, bucket, key, size, etag, now, parts_count, json.dumps(meta)))
        rows = [(s.part_number, s.start, s.size, s.file, s.etag, s.checksums_json) for s in giving_way(segments)]
        if len(rows) == 1:  # a PUT's: inserted as it is, 7 us sooner than through JSON
            db.execute("INSERT INTO segments(object_id, part_number, start, size, file, etag, checksums)"
                       " VALUES (?,?,?,?,?,?,?)", (object_id, *rows[0]))
        else:  # json_chunks: ROWS_PER_STATEMENT segments per statement, a Complete may have 10,000
            for chunk in json_chunks(rows):
                db.execute(
                    "INSERT INTO segments(object_id, part_number, start, size, file, etag, checksums)"
                    " SELECT ?, value->>0, value->>1, value->>2, value->>3, value->>4, value->>5 FROM json_each(?)",
                    (object_id, chunk))
        if data is not None:
            db.execute("INSERT INTO inline_data(object_id, data) VALUES (?,?)", (object_id, data))
        return ObjectInfo(object_id, bucket, key, version_id, size, etag, now, parts_count, meta,
                          versioned=b.versioning is not None)

    # -- reading -------------------------------------------------------------

    def current(self, bucket: str, key: str) -> ObjectInfo | None:
        """The key's current version, None when it has none (or a delete marker is current)."""
        row = self.db.execute(
            "SELECT * FROM objects WHERE bucket=? AND key=? AND is_latest=1 AND delete_marker=0",
            (bucket, key)).fetchone()
        return ObjectInfo.from_row(row) if row else None

    def get(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        """See Store.get_object."""
        b = self.buckets.get(bucket)
        if version_id is None:
            row = self.db.execute("SELECT * FROM objects WHERE bucket=? AND key=? AND is_latest=1",
                                  (bucket, key)).fetchone()
            if row is None:
                raise NoSuchKey(Key=key)
        else:
            check_version_id(version_id)
            row = self.db.execute("SELECT * FROM objects WHERE bucket=? AND key=? AND version_id=?",
                                  (bucket, key, version_id)).fetchone()
            if row is None:
                raise NoSuchVersion(Key=key, VersionId=version_id)
        info = ObjectInfo.from_row(row)
        if info.delete_marker:
            raise DeleteMarkerHit(info.version_id, info.last_modified, version_id is not None, key)
        info.versioned = b.versioning is not None
        return info

    def update_meta(self, bucket: str, key: str, version_id: str | None,
                    change: Callable[[ObjectInfo], ObjectMeta]) -> ObjectInfo:
        """In one transaction: the version get() finds, its meta replaced by
        change(version) (which may raise to refuse); the version as updated."""
        with transaction(self.db):
            info = self.get(bucket, key, version_id)
            info.meta = change(info)
            self.db.execute("UPDATE objects SET meta=? WHERE id=?", (json.dumps(info.meta), info.id))
        return info

    def set_storage_class(self, obj: ObjectInfo, storage_class: str) -> bool:
        """Move a version to another storage class (a lifecycle Transition),
        unless it has gone or changed class meanwhile; whether it moved. A
        restored copy does not survive the move."""
        with transaction(self.db) as db:
            row = db.execute("SELECT meta FROM objects WHERE id=?", (obj.id,)).fetchone()
            if row is None:
                return False
            meta = json.loads(row[0])
            if storage_class_of(meta) != storage_class_of(obj.meta):
                return False
            meta["storage_class"] = storage_class
            meta.pop("restore", None)
            db.execute("UPDATE objects SET meta=? WHERE id=?", (json.dumps(meta), obj.id))
        return True

    def segments(self, object_id: int, *, after: int = 0, offset: int = 0, limit: int = -1) -> list[Segment]:
        """See Store.segments."""
        rows = self.db.execute("SELECT * FROM segments WHERE object_id=? AND part_number>? ORDER BY part_number"
                               " LIMIT ? OFFSET ?", (object_id, after, limit, offset))
        return [Segment(r["part_number"], r["start"], r["size"], r["file"], r["etag"], r["checksums"] or "{}")
                for r in rows]

    def open_range(self, info: ObjectInfo, first: int, last: int) -> OpenRange:
        """See Store.open_range."""
        rows = self.db.execute(
            "SELECT s.start, s.size, s.file, d.data FROM segments s"
            " LEFT JOIN inline_data d ON s.file='' AND d.object_id=s.object_id"
            " WHERE s.object_id=? AND s.start<=? AND s.start+s.size>? ORDER BY s.part_number",
            (info.id, last, first)).fetchall() if info.size else []
        pieces = []
        for start, size, file, data in rows:
            if file == IN_DATABASE and data is None:
                raise DataFileMissing()  # its bytes are gone from the database (fsck reports it)
            lo, hi = max(first, start), min(last, start + size - 1)
            if hi >= lo:
                pieces.append(Piece(file, lo - start, hi - lo + 1, data))
        opened = OpenRange(self.blobs, info.id, pieces)
        if info.size and opened.length != last - first + 1:
            raise DataFileMissing()  # the version's rows are gone: a stale look, to be taken again
        if not opened.needs_lease:
            opened.open_all()
        return opened

    @staticmethod
    async def read_range(opened: OpenRange) -> AsyncIterator[bytes]:
        """See Store.read_range."""
        while (data := await opened.next()) is not None:
            assert isinstance(data, bytes)
            yield data

    # -- deleting ------------------------------------------------------------

    def delete(self, bucket: str, key: str, version_id: str | None = None, *,
               bypass_governance: bool = False, condition: WriteCondition = ALWAYS) -> Deleted:
        """See Store.delete_object."""
        if version_id is not None:
            check_version_id(version_id)
        with transaction(self.db):
            condition.check(self.current(bucket, key), key)
            result = self._delete_one(self.buckets.get(bucket), key, version_id, bypass_governance)
        self.garbage.collect()
        return result

    def delete_many(self, bucket: str, targets: Sequence[tuple[str, str | None, WriteCondition]], *,
                    bypass_governance: bool = False) -> list[Deleted | StorageError]:
        """See Store.delete_objects: one transaction, a savepoint per key."""
        results: list[Deleted | StorageError] = []
        with sharing_the_gil(len(targets) >= LONG_JOB_ITEMS), transaction(self.db) as db:
            b = self.buckets.get(bucket)
            for key, version_id, condition in targets:
                db.execute("SAVEPOINT one")
                try:
                    if version_id is not None:
                        check_version_id(version_id)
                    condition.check(self.current(bucket, key), key)
                    results.append(self._delete_one(b, key, version_id, bypass_governance))
                except StorageError as e:
                    db.execute("ROLLBACK TO one")
                    results.append(e)
                db.execute("RELEASE one")
        self.garbage.collect()
        return results

    def _delete_one(self, b: BucketInfo, key: str, version_id: str | None, bypass_governance: bool) -> Deleted:
        """Inside a transaction: delete_object's work for one key."""
        if version_id is not None:
            result = self._delete_version(b.name, key, version_id, bypass_governance)
        elif b.versioning is None:
            for row in self.db.execute("SELECT id FROM objects WHERE bucket=? AND key=?", (b.name, key)).fetchall():
                self.drop(row[0])
            result = Deleted(None, False)
        else:
            result = self.add_delete_marker(b.name, key, "Enabled" == b.versioning)
        self.key_changed(b.name, key)
        return result

    def _delete_version(self, bucket: str, key: str, version_id: str, bypass_governance: bool) -> Deleted:
        row = self.db.execute("SELECT id, is_latest, delete_marker, meta FROM objects WHERE bucket=? AND key=?"
                              " AND version_id=?", (bucket, key, version_id)).fetchone()
        if row is None:
            return Deleted(version_id, False)
        check_deletable(json.loads(row["meta"]), bypass_governance)
        self.drop(row["id"])
        if row["is_latest"]:
            self.db.execute("UPDATE objects SET is_latest=1 WHERE id=(SELECT id FROM objects WHERE bucket=?"
                            " AND key=? ORDER BY seq DESC LIMIT 1)", (bucket, key))
        return Deleted(version_id, bool(row["delete_marker"]))

    def key_changed(self, bucket: str, key: str) -> None:
        """Inside a transaction: the key was written or deleted; uploads in
        progress to it remember that, for their conditional Complete."""
        self.db.execute("UPDATE uploads SET meta=json_set(meta, '$.key_changed', json('true'))"
                        " WHERE bucket=? AND key=? AND state='open'", (bucket, key))

    def add_delete_marker(self, bucket: str, key: str, enabled: bool) -> Deleted:
        """Inside a transaction: a delete marker becomes the key's current
        version (with versioning suspended, it replaces the 'null' version)."""
        version_id = new_version_id() if enabled else "null"
        if not enabled:
            self._drop_null_version(bucket, key)
        self.db.execute("UPDATE objects SET is_latest=0 WHERE bucket=? AND key=? AND is_latest=1", (bucket, key))
        self.db.execute(
            "INSERT INTO objects(bucket, key, version_id, seq, is_latest, delete_marker, size, etag,"
            " last_modified, meta) VALUES (?,?,?,(SELECT COALESCE(MAX(seq), 0) + 1 FROM objects"
            " WHERE bucket=? AND key=?),1,1,0,'',?,'{}')",
            (bucket, key, version_id, bucket, key, float(int(time.time()))))
        return Deleted(version_id, True)

    def _drop_null_version(self, bucket: str, key: str) -> None:
        for row in self.db.execute("SELECT id FROM objects WHERE bucket=? AND key=? AND version_id='null'",
                                   (bucket, key)).fetchall():
            self.drop(row[0])

    def drop(self, object_id: int) -> None:
        """Inside a transaction: forget one object version and its bytes."""
        self.garbage.discard_version(object_id)
        self.db.execute("DELETE FROM segments WHERE object_id=?", (object_id,))
        self.db.execute("DELETE FROM objects WHERE id=?", (object_id,))

    def expire_if_current(self, obj: ObjectInfo) -> bool:
        """Delete obj as S3's lifecycle Expiration does (a delete marker in a
        versioned bucket), only if it is still the key's current version."""
        with transaction(self.db) as db:
            row = db.execute("SELECT id FROM objects WHERE bucket=? AND key=? AND is_latest=1 AND delete_marker=0",
                             (obj.bucket, obj.key)).fetchone()
            if row is None or row[0] != obj.id:
                return False
            versioning = self.buckets.get(obj.bucket).versioning
            if versioning is None:
                self.drop(obj.id)
            else:
                self.add_delete_marker(obj.bucket, obj.key, versioning == "Enabled")
            self.key_changed(obj.bucket, obj.key)
        self.garbage.collect()
        return True

    # -- listing -------------------------------------------------------------

    def page(self, bucket: str, *, prefix: str = "", delimiter: str = "", marker: str = "",
             max_keys: int = 1000) -> Page[ObjectInfo]:
        """See Store.list_objects."""
        self.buckets.get(bucket)

        def fetch(lower: str, inclusive: bool, _after_id: str | None, limit: int) -> list[ObjectInfo]:
            op = ">=" if inclusive else ">"
            rows = self.db.execute(
                f"SELECT * FROM objects WHERE bucket=? AND key {op} ? AND is_latest=1 AND delete_marker=0"
                " ORDER BY key LIMIT ?", (bucket, lower, limit))
            return [ObjectInfo.from_row(r) for r in rows]

        return list_page(fetch, lambda o: o.key, lambda o: None, prefix, delimiter, marker, None, max_keys)

    def current_older_than(self, bucket: str, prefix: str, cutoff: float, limit: int) -> list[ObjectInfo]:
        """Up to `limit` current versions under prefix last modified at or before cutoff, by key."""
        rows = self.db.execute(
            "SELECT * FROM objects WHERE bucket=? AND key>=? AND is_latest=1 AND delete_marker=0"
            " AND last_modified<=? ORDER BY key LIMIT ?",
            (bucket, prefix, cutoff, limit * 4)).fetchall()
        return [o for o in map(ObjectInfo.from_row, rows) if o.key.startswith(prefix)][:limit]

    def current_in_classes(self, bucket: str, after: str, inclusive: bool, classes: Sequence[str], cutoff: float,
                           limit: int) -> list[ObjectInfo]:
        """Up to `limit` current versions with keys after `after` (or from it,
        inclusive), last modified at or before cutoff, in one of these storage
        classes; by key."""
        marks = ",".join("?" * len(classes))
        rows = self.db.execute(
            f"SELECT * FROM objects WHERE bucket=? AND key {'>=' if inclusive else '>'} ? AND is_latest=1"
            " AND delete_marker=0 AND last_modified<=?"
            f" AND COALESCE(json_extract(meta, '$.storage_class'), 'STANDARD') IN ({marks}) ORDER BY key LIMIT ?",
            (bucket, after, cutoff, *classes, limit)).fetchall()
        return [ObjectInfo.from_row(r) for r in rows]

    def exist_in(self, bucket: str) -> bool:
        """Whether the bucket holds any version or delete marker."""
        return self.db.execute("SELECT 1 FROM objects WHERE bucket=? LIMIT 1", (bucket,)).fetchone() is not None


def _b64(digests: dict[str, bytes]) -> dict[str, str]:
    return {algo: b64(raw) for algo, raw in digests.items()}
