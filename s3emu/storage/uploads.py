"""The uploads and parts tables: multipart uploads. Parts stream to their own
data files; Complete is one metadata transaction that adopts those files as
the object's segments, so its cost grows with the number of parts, never with
the bytes."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, field, replace
from typing import Any, AsyncIterable, Callable, Iterable, Iterator, Sequence

from .blobs import Blob, BlobStore
from .buckets import Buckets
from .db import ROWS_PER_STATEMENT, Database, transaction
from .digests import b64
from .errors import (
    EntityTooSmall,
    InvalidPart,
    InvalidPartOrder,
    NoPartsListed,
    NoSuchUpload,
    ObjectSizeMismatch,
)
from .garbage import Garbage
from .ids import time_ordered_id
from .listing import list_page
from .meta import ObjectMeta, UploadMeta
from .models import ObjectInfo, Page, PartInfo, Segment, UploadInfo
from .objects import ALWAYS, Objects, Verify, WriteCondition
from .writer import LONG_JOB_ITEMS, Writer, give_way, giving_way, sharing_the_gil


@dataclass
class CompletedPart:
    """A part as CompleteMultipartUpload lists it."""

    part_number: int
    etag: str  # as the client sent it, quotes optional
    checksums: dict[str, str] = field(default_factory=dict)  # Checksum<ALGO> elements the client sent


# Checks the listed parts' checksums against the stored ones and returns the
# object's checksum fields; raising refuses the Complete.
ChecksumFinisher = Callable[[UploadMeta, list[Segment]], ObjectMeta]


def multipart_etag(part_md5s: Iterable[str]) -> str:
    """S3's ETag for a multipart object: md5 of the concatenated binary part MD5s, then -N."""
    md5s = list(part_md5s)
    return hashlib.md5(b"".join(bytes.fromhex(m) for m in md5s)).hexdigest() + f"-{len(md5s)}"


class Uploads:
    """The uploads and parts tables: multipart uploads in progress (and, for a
    repeated Complete, the last completed one of each key)."""

    def __init__(self, db: Database, blobs: BlobStore, garbage: Garbage, buckets: Buckets,
                 objects: Objects, writer: Writer) -> None:
        self.db = db
        self.blobs = blobs
        self.garbage = garbage
        self.buckets = buckets
        self.objects = objects
        self.writer = writer

    def create(self, bucket: str, key: str, meta: UploadMeta) -> UploadInfo:
        """See Store.create_multipart_upload."""
        with transaction(self.db):
            self.buckets.get(bucket)
            info = UploadInfo(time_ordered_id(), bucket, key, time.time(), meta)
            self.db.execute("INSERT INTO uploads(upload_id, bucket, key, initiated, state, meta)"
                            " VALUES (?,?,?,?,'open',?)",
                            (info.upload_id, bucket, key, info.initiated, json.dumps(meta)))
        return info

    def get(self, bucket: str, key: str, upload_id: str) -> UploadInfo:
        """See Store.get_upload."""
        self.buckets.get(bucket)
        row = self.db.execute("SELECT * FROM uploads WHERE upload_id=? AND bucket=? AND key=? AND state='open'",
                              (upload_id, bucket, key)).fetchone()
        if row is None:
            raise NoSuchUpload(UploadId=upload_id)
        return UploadInfo.from_row(row)

    async def put_part(self, bucket: str, key: str, upload_id: str, part_number: int,
                       body: AsyncIterable[bytes], *, size: int | None = None, max_size: int | None = None,
                       algorithms: Iterable[str] = (), verify: Verify | None = None) -> PartInfo:
        """See Store.upload_part. The body streams to a data file on the event
        loop's side; the commit runs on the writer thread."""
        self.get(bucket, key, upload_id)
        blob = await self.blobs.write(body, size=size, max_size=max_size, algorithms=algorithms)
        try:
            if verify is not None:
                verify(blob)
        except BaseException:
            self.blobs.delete([blob.file])
            raise
        return await self.writer.run(self.commit_part, bucket, key, upload_id, part_number, blob)

    def commit_part(self, bucket: str, key: str, upload_id: str, part_number: int, blob: Blob) -> PartInfo:
        """A written data file becomes the upload's part `part_number`, in one
        transaction; if the upload is gone meanwhile, the file is deleted."""
        part = PartInfo(part_number, blob.size, blob.md5, time.time(), {a: b64(d) for a, d in blob.digests.items()})
        try:
            with transaction(self.db) as db:
                self.get(bucket, key, upload_id)
                old = db.execute("SELECT file FROM parts WHERE upload_id=? AND part_number=?",
                                 (upload_id, part_number)).fetchone()
                if old:
                    self.garbage.discard([old[0]])
                db.execute("INSERT OR REPLACE INTO parts(upload_id, part_number, size, etag, file, last_modified,"
                           " checksums) VALUES (?,?,?,?,?,?,?)",
                           (upload_id, part_number, part.size, part.etag, blob.file, part.last_modified,
                            json.dumps(part.checksums)))
        except BaseException:
            self.blobs.delete([blob.file])
            raise
        self.garbage.collect()
        return part

    def list_parts(self, bucket: str, key: str, upload_id: str, *, marker: int = 0,
                   max_parts: int = 1000) -> tuple[UploadInfo, list[PartInfo], bool]:
        """See Store.list_parts."""
        upload = self.get(bucket, key, upload_id)
        rows = self.db.execute("SELECT * FROM parts WHERE upload_id=? AND part_number>? ORDER BY part_number"
                               " LIMIT ?", (upload_id, marker, max_parts + 1)).fetchall()
        parts = [PartInfo.from_row(r) for r in rows]
        return upload, parts[:max_parts], len(parts) > max_parts

    def abort(self, bucket: str, key: str, upload_id: str) -> None:
        """See Store.abort_multipart_upload."""
        with transaction(self.db):
            self.get(bucket, key, upload_id)
            self.drop(upload_id)
        self.garbage.collect()

    def abort_if_open(self, upload: UploadInfo) -> bool:
        """Abort an upload unless it has completed or gone meanwhile; whether it did."""
        with transaction(self.db) as db:
            row = db.execute("SELECT 1 FROM uploads WHERE upload_id=? AND state='open'",
                             (upload.upload_id,)).fetchone()
            if row is None:
                return False
            self.drop(upload.upload_id)
        self.garbage.collect()
        return True

    def drop(self, upload_id: str) -> None:
        """Inside a transaction: forget an upload, its parts and their bytes."""
        self._drop_parts(upload_id)
        self.db.execute("DELETE FROM uploads WHERE upload_id=?", (upload_id,))

    def drop_all(self, bucket: str) -> None:
        """Inside a transaction: forget every upload of a bucket (open or completed)."""
        ids = [r[0] for r in self.db.execute("SELECT upload_id FROM uploads WHERE bucket=?", (bucket,))]
        for upload_id in ids:
            self._drop_parts(upload_id)
        self.db.execute("DELETE FROM uploads WHERE bucket=?", (bucket,))

    def _drop_parts(self, upload_id: str) -> None:
        files = [r[0] for r in self.db.execute("SELECT file FROM parts WHERE upload_id=?", (upload_id,))]
        self.garbage.discard(files)
        self.db.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))

    def complete(self, bucket: str, key: str, upload_id: str, parts: Sequence[CompletedPart], *,
                 min_part_size: int, object_meta: ObjectMeta | None = None, expected_size: int | None = None,
                 condition: WriteCondition = ALWAYS, checksum: ChecksumFinisher | None = None) -> ObjectInfo:
        """See Store.complete_multipart_upload."""
        wanted = [(p.part_number, p.etag.strip().strip('"')) for p in parts]
        with sharing_the_gil(len(parts) >= LONG_JOB_ITEMS), transaction(self.db) as db:
            self.buckets.get(bucket)
            row = db.execute("SELECT * FROM uploads WHERE upload_id=? AND bucket=? AND key=?",
                             (upload_id, bucket, key)).fetchone()
            if row is None:
                raise NoSuchUpload(UploadId=upload_id)
            if row["state"] == "completed":
                return self._replayed(row, wanted)
            upload = UploadInfo.from_row(row)
            segments, unlisted = self._validate(upload_id, wanted, min_part_size)
            size = sum(s.size for s in segments)
            if expected_size is not None and expected_size != size:
                raise ObjectSizeMismatch(expected_size, size)
            etag = multipart_etag(s.etag for s in giving_way(segments))
            kept = {k: v for k, v in upload.meta.items() if k != "key_changed"}
            meta: ObjectMeta = {**kept, **(object_meta or {})}  # type: ignore[typeddict-item]
            if checksum is not None:
                meta.update(checksum(upload.meta, segments))
            if upload.meta.get("key_changed"):
                condition = replace(condition, key_changed=True)
            info = self.objects.insert_version(bucket, key, segments, etag, meta, len(segments), condition)
            # the listed parts' files now belong to the object; the rest are dropped
            self.garbage.discard(unlisted)
            db.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))
            result = {"object_id": info.id, "etag": etag, "last_modified": info.last_modified,
                      "parts": _digest(wanted)}
            db.execute("UPDATE uploads SET state='completed', result=? WHERE upload_id=?",
                       (json.dumps(result), upload_id))
            # earlier completed uploads of this key can no longer be replayed: forget them
            db.execute("DELETE FROM uploads WHERE bucket=? AND key=? AND state='completed' AND upload_id<>?",
                       (bucket, key, upload_id))
        self.garbage.collect()
        return info

    def _validate(self, upload_id: str, wanted: list[tuple[int, str]],
                  min_part_size: int) -> tuple[list[Segment], list[str]]:
        """The listed parts as the object's segments, and the data files of the parts not listed."""
        if not wanted:
            raise NoPartsListed()
        # the whole list must be strictly ascending (no duplicates) before any part is looked at
        numbers = [number for number, _ in wanted]
        if any(a >= b for a, b in zip(numbers, numbers[1:])):
            raise InvalidPartOrder(UploadId=upload_id)
        stored = {number: (etag, size, file, checksums)
                  for number, etag, size, file, checksums in self._parts(upload_id)}
        segments: list[Segment] = []
        start = 0
        last = len(wanted) - 1
        for i, (number, etag) in enumerate(giving_way(wanted)):
            part = stored.pop(number, None)  # what stays behind was not listed
            if part is None or part[0] != etag:
                raise InvalidPart(UploadId=upload_id, PartNumber=number, ETag=etag)
            _, size, file, checksums = part
            if i < last and size < min_part_size:
                raise EntityTooSmall(ProposedSize=size, MinSizeAllowed=min_part_size, PartNumber=number, ETag=etag)
            segments.append(Segment(number, start, size, file, etag, checksums or "{}"))
            start += size
        return segments, [file for _, _, file, _ in stored.values()]

    def _parts(self, upload_id: str) -> Iterator[list[Any]]:
        """The upload's parts as [part_number, etag, size, file, checksums], by number,
        read ROWS_PER_STATEMENT at a time."""
        after = 0
        while True:
            if after:
                give_way()
            chunk = json.loads(self.db.execute(
                "SELECT json_group_array(json_array(part_number, etag, size, file, checksums)) FROM"
                " (SELECT * FROM parts WHERE upload_id=? AND part_number>? ORDER BY part_number LIMIT ?)",
                (upload_id, after, ROWS_PER_STATEMENT)).fetchone()[0])
            yield from chunk
            if len(chunk) < ROWS_PER_STATEMENT:
                return
            after = max(part[0] for part in chunk)  # an aggregate's order is SQLite's to choose

    def _replayed(self, row: sqlite3.Row, wanted: list[tuple[int, str]]) -> ObjectInfo:
        result = json.loads(row["result"])
        current = self.objects.current(row["bucket"], row["key"])
        # SQLite may hand a deleted row's id to the next object: the id alone does not identify it
        same = current is not None and (current.id, current.etag, current.last_modified) == \
            (result["object_id"], result["etag"], result.get("last_modified"))
        if not same or result["parts"] != _digest(wanted):
            raise NoSuchUpload(UploadId=row["upload_id"])
        assert current is not None
        return current

    def page(self, bucket: str, *, prefix: str = "", delimiter: str = "", key_marker: str = "",
             upload_id_marker: str | None = None, max_uploads: int = 1000) -> Page[UploadInfo]:
        """See Store.list_multipart_uploads."""
        self.buckets.get(bucket)

        def fetch(lower: str, inclusive: bool, after_id: str | None, limit: int) -> list[UploadInfo]:
            args: tuple[str, ...]
            if after_id is not None:
                where, args = "(key > ? OR (key = ? AND upload_id > ?))", (lower, lower, after_id)
            else:
                where, args = f"key {'>=' if inclusive else '>'} ?", (lower,)
            rows = self.db.execute(f"SELECT * FROM uploads WHERE bucket=? AND state='open' AND {where}"
                                   " ORDER BY key, upload_id LIMIT ?", (bucket, *args, limit))
            return [UploadInfo.from_row(r) for r in rows]

        # an upload-id-marker counts only together with a key-marker
        marker_id = upload_id_marker if key_marker and upload_id_marker else None
        return list_page(fetch, lambda u: u.key, lambda u: u.upload_id, prefix, delimiter, key_marker,
                         marker_id, max_uploads)

    def older_than(self, cutoff: float, bucket: str | None = None, prefix: str = "") -> list[UploadInfo]:
        """See Store.uploads_older_than."""
        sql = "SELECT * FROM uploads WHERE state='open' AND initiated < ?"
        args: list[object] = [cutoff]
        if bucket is not None:
            sql, args = sql + " AND bucket=?", [*args, bucket]
        rows = self.db.execute(sql + " ORDER BY bucket, key, upload_id", args)
        return [u for u in map(UploadInfo.from_row, rows) if u.key.startswith(prefix)]


def _digest(wanted: list[tuple[int, str]]) -> str:
    return hashlib.sha256(json.dumps(wanted).encode()).hexdigest()
