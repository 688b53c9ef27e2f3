"""Multipart uploads: parts stream to their own data files; Complete is one
metadata transaction that adopts those files as the object's segments, so its
cost grows with the number of parts, never with the bytes."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterable, Callable, Iterable, Sequence

from .base import StoreBase
from .db import transaction
from .digests import b64
from .errors import (
    EntityTooSmall,
    InvalidPart,
    InvalidPartOrder,
    InvalidRequest,
    NoSuchUpload,
)
from .ids import time_ordered_id
from .listing import list_page
from .models import ObjectInfo, Page, PartInfo, Segment, UploadInfo
from .objects import Verify


@dataclass
class CompletedPart:
    part_number: int
    etag: str  # as the client sent it, quotes optional
    checksums: dict[str, str] = field(default_factory=dict)  # Checksum<ALGO> elements the client sent


# Checks the listed parts' checksums against the stored ones and returns the
# object's checksum fields; raising refuses the Complete.
ChecksumFinisher = Callable[[dict[str, Any], list[Segment]], dict[str, Any]]


def multipart_etag(part_md5s: Iterable[str]) -> str:
    """S3's ETag for a multipart object: md5 of the concatenated binary part MD5s, then -N."""
    md5s = list(part_md5s)
    return hashlib.md5(b"".join(bytes.fromhex(m) for m in md5s)).hexdigest() + f"-{len(md5s)}"


class MultipartOps(StoreBase):
    def create_upload(self, bucket: str, key: str, meta: dict[str, Any]) -> UploadInfo:
        with transaction(self.db):
            self.get_bucket(bucket)
            info = UploadInfo(time_ordered_id(), bucket, key, time.time(), meta)
            self.db.execute("INSERT INTO uploads(upload_id, bucket, key, initiated, state, meta)"
                            " VALUES (?,?,?,?,'open',?)",
                            (info.upload_id, bucket, key, info.initiated, json.dumps(meta)))
        return info

    def get_upload(self, bucket: str, key: str, upload_id: str) -> UploadInfo:
        """An upload in progress for exactly this bucket and key, or NoSuchUpload."""
        self.get_bucket(bucket)
        row = self.db.execute("SELECT * FROM uploads WHERE upload_id=? AND bucket=? AND key=? AND state='open'",
                              (upload_id, bucket, key)).fetchone()
        if row is None:
            raise _no_such_upload(upload_id)
        return UploadInfo.from_row(row)

    async def upload_part(self, bucket: str, key: str, upload_id: str, part_number: int,
                          body: AsyncIterable[bytes], *, size: int | None = None, max_size: int | None = None,
                          algorithms: Iterable[str] = (), verify: Verify | None = None) -> PartInfo:
        """Stream a part to its own file; it replaces any earlier part with this
        number. A part still arriving when its upload completes or aborts is
        refused and leaves nothing behind."""
        self.get_upload(bucket, key, upload_id)
        blob = await self.blobs.write(body, size=size, max_size=max_size, algorithms=algorithms)
        try:
            if verify is not None:
                verify(blob)
            part = PartInfo(part_number, blob.size, blob.md5, time.time(),
                            {a: b64(d) for a, d in blob.digests.items()})
            with transaction(self.db) as db:
                self.get_upload(bucket, key, upload_id)
                old = db.execute("SELECT file FROM parts WHERE upload_id=? AND part_number=?",
                                 (upload_id, part_number)).fetchone()
                if old:
                    self._discard([old[0]])
                db.execute("INSERT OR REPLACE INTO parts(upload_id, part_number, size, etag, file, last_modified,"
                           " checksums) VALUES (?,?,?,?,?,?,?)",
                           (upload_id, part_number, part.size, part.etag, blob.file, part.last_modified,
                            json.dumps(part.checksums)))
        except BaseException:
            self.blobs.delete([blob.file])
            raise
        self._collect_garbage()
        return part

    def list_parts(self, bucket: str, key: str, upload_id: str, *, marker: int = 0,
                   max_parts: int = 1000) -> tuple[UploadInfo, list[PartInfo], bool]:
        upload = self.get_upload(bucket, key, upload_id)
        rows = self.db.execute("SELECT * FROM parts WHERE upload_id=? AND part_number>? ORDER BY part_number"
                               " LIMIT ?", (upload_id, marker, max_parts + 1)).fetchall()
        parts = [PartInfo.from_row(r) for r in rows]
        return upload, parts[:max_parts], len(parts) > max_parts

    def abort_upload(self, bucket: str, key: str, upload_id: str) -> None:
        with transaction(self.db):
            self.get_upload(bucket, key, upload_id)
            self._drop_parts(upload_id)
            self.db.execute("DELETE FROM uploads WHERE upload_id=?", (upload_id,))
        self._collect_garbage()

    def complete_upload(self, bucket: str, key: str, upload_id: str, parts: Sequence[CompletedPart], *,
                        min_part_size: int, object_meta: dict[str, Any] | None = None,
                        expected_size: int | None = None, if_match: str | None = None,
                        if_none_match: str | None = None, checksum: ChecksumFinisher | None = None) -> ObjectInfo:
        """Validate the client's part list against the stored parts and commit
        the object in one transaction. A repeat of a Complete that already
        succeeded answers with the same object while the key still holds it."""
        wanted = [(p.part_number, p.etag.strip().strip('"')) for p in parts]
        with transaction(self.db) as db:
            self.get_bucket(bucket)
            row = db.execute("SELECT * FROM uploads WHERE upload_id=? AND bucket=? AND key=?",
                             (upload_id, bucket, key)).fetchone()
            if row is None:
                raise _no_such_upload(upload_id)
            if row["state"] == "completed":
                return self._replayed(row, wanted)
            upload = UploadInfo.from_row(row)
            segments = self._validate(upload_id, wanted, min_part_size)
            size = sum(s.size for s in segments)
            if expected_size is not None and expected_size != size:
                raise InvalidRequest(f"The provided 'x-amz-mp-object-size' header value {expected_size} "
                                     f"does not match what was computed: {size}")
            etag = multipart_etag(s.etag for s in segments)
            meta = {**upload.meta, **(object_meta or {})}
            if checksum is not None:
                meta.update(checksum(upload.meta, segments))
            info = self.commit_object(bucket, key, segments, etag, meta, len(segments), if_match=if_match,
                                      if_none_match=if_none_match, in_transaction=True)
            # the listed parts' files now belong to the object; the rest are dropped
            adopted = {s.file for s in segments}
            self._discard([r[0] for r in db.execute("SELECT file FROM parts WHERE upload_id=?", (upload_id,))
                           if r[0] not in adopted])
            db.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))
            result = {"object_id": info.id, "etag": etag, "last_modified": info.last_modified,
                      "parts": _digest(wanted)}
            db.execute("UPDATE uploads SET state='completed', result=? WHERE upload_id=?",
                       (json.dumps(result), upload_id))
            # earlier completed uploads of this key can no longer be replayed: forget them
            db.execute("DELETE FROM uploads WHERE bucket=? AND key=? AND state='completed' AND upload_id<>?",
                       (bucket, key, upload_id))
        self._collect_garbage()
        return info

    def _validate(self, upload_id: str, wanted: list[tuple[int, str]], min_part_size: int) -> list[Segment]:
        if not wanted:
            raise InvalidRequest("You must specify at least one part")
        # the whole list must be strictly ascending (no duplicates) before any part is looked at
        numbers = [number for number, _ in wanted]
        if any(a >= b for a, b in zip(numbers, numbers[1:])):
            raise InvalidPartOrder("The list of parts was not in ascending order. Parts must be ordered by "
                                   "part number.", UploadId=upload_id)
        stored = {r["part_number"]: _StoredPart(r)
                  for r in self.db.execute("SELECT * FROM parts WHERE upload_id=?", (upload_id,))}
        segments: list[Segment] = []
        start = 0
        for i, (number, etag) in enumerate(wanted):
            part = stored.get(number)
            if part is None or part.etag != etag:
                raise InvalidPart("One or more of the specified parts could not be found.  The part may not have "
                                  "been uploaded, or the specified entity tag may not match the part's entity "
                                  "tag.", UploadId=upload_id, PartNumber=number, ETag=etag)
            if i < len(wanted) - 1 and part.size < min_part_size:
                raise EntityTooSmall("Your proposed upload is smaller than the minimum allowed size",
                                     ProposedSize=part.size, MinSizeAllowed=min_part_size,
                                     PartNumber=number, ETag=part.etag)
            segments.append(Segment(number, start, part.size, part.file, part.etag, part.checksums))
            start += part.size
        return segments

    def _replayed(self, row: Any, wanted: list[tuple[int, str]]) -> ObjectInfo:
        result = json.loads(row["result"])
        current = self._current(row["bucket"], row["key"])
        # SQLite may hand a deleted row's id to the next object: the id alone does not identify it
        same = current is not None and (current.id, current.etag, current.last_modified) == \
            (result["object_id"], result["etag"], result.get("last_modified"))
        if not same or result["parts"] != _digest(wanted):
            raise _no_such_upload(row["upload_id"])
        assert current is not None
        return current

    def list_uploads(self, bucket: str, *, prefix: str = "", delimiter: str = "", key_marker: str = "",
                     upload_id_marker: str | None = None, max_uploads: int = 1000) -> Page:
        self.get_bucket(bucket)

        def fetch(lower: str, inclusive: bool, after_id: str | None, limit: int) -> list[UploadInfo]:
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

    def uploads_older_than(self, cutoff: float, bucket: str | None = None, prefix: str = "") -> list[UploadInfo]:
        sql, args = "SELECT * FROM uploads WHERE state='open' AND initiated < ?", [cutoff]
        if bucket is not None:
            sql, args = sql + " AND bucket=?", args + [bucket]
        rows = self.db.execute(sql + " ORDER BY bucket, key, upload_id", args)
        return [u for u in map(UploadInfo.from_row, rows) if u.key.startswith(prefix)]


class _StoredPart:
    __slots__ = ("part_number", "size", "etag", "file", "checksums")

    def __init__(self, row: Any) -> None:
        self.part_number = row["part_number"]
        self.size = row["size"]
        self.etag = row["etag"]
        self.file = row["file"]
        self.checksums = json.loads(row["checksums"] or "{}")


def _digest(wanted: list[tuple[int, str]]) -> str:
    return hashlib.sha256(json.dumps(wanted).encode()).hexdigest()


def _no_such_upload(upload_id: str) -> NoSuchUpload:
    return NoSuchUpload("The specified upload does not exist. The upload ID may be invalid, or the upload may "
                        "have been aborted or completed.", UploadId=upload_id)
