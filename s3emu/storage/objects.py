"""Objects: writes that become visible in one commit, reads over data files."""
from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from typing import Any, AsyncIterable, AsyncIterator, Callable, Iterable, Sequence

from .base import StoreBase
from .blobs import Blob
from .db import transaction
from .digests import b64
from .errors import (
    DeleteMarkerHit,
    NoSuchKey,
    NoSuchVersion,
    PreconditionFailed,
    StorageError,
)
from .ids import time_ordered_id
from .listing import list_page
from .models import ObjectInfo, Page, Segment
from .versions import check_deletable, check_version_id, with_default_retention

READ_CHUNK = 1 << 20

Verify = Callable[[Blob], None]


@dataclass
class Span:
    """An open data file and the byte range of it to send."""

    fd: int
    offset: int
    length: int


@dataclass
class Deleted:
    version_id: str | None
    delete_marker: bool


def etag_matches(condition: str, etag: str) -> bool:
    """If-Match / If-None-Match semantics: '*' or a list of (quoted or bare) ETags."""
    for item in condition.split(","):
        item = item.strip()
        if item.startswith("W/"):
            item = item[2:]
        if item == "*" or item.strip('"') == etag:
            return True
    return False


class ObjectOps(StoreBase):
    # -- writing -------------------------------------------------------------

    async def put_object(self, bucket: str, key: str, body: AsyncIterable[bytes], *, meta: dict[str, Any],
                         size: int | None = None, max_size: int | None = None, algorithms: Iterable[str] = (),
                         verify: Verify | None = None, if_match: str | None = None,
                         if_none_match: str | None = None) -> ObjectInfo:
        """Stream body into a new object version; it becomes visible whole at the
        commit, or not at all. `verify` may reject the written bytes before that."""
        self.get_bucket(bucket)
        blob = await self.blobs.write(body, size=size, max_size=max_size, algorithms=algorithms)
        try:
            if verify is not None:
                verify(blob)
            meta = {**meta, "checksums": {**meta.get("checksums", {}), **_b64(blob.digests)}}
            segment = Segment(1, 0, blob.size, blob.file, blob.md5)
            return self.commit_object(bucket, key, [segment], blob.md5, meta, None,
                                      if_match=if_match, if_none_match=if_none_match)
        except BaseException:
            self.blobs.delete([blob.file])
            raise

    def commit_object(self, bucket: str, key: str, segments: Sequence[Segment], etag: str,
                      meta: dict[str, Any], parts_count: int | None, *, if_match: str | None = None,
                      if_none_match: str | None = None, in_transaction: bool = False) -> ObjectInfo:
        """Make `segments` (already durable files) the new current version of key."""
        if in_transaction:
            info = self._insert_version(bucket, key, segments, etag, meta, parts_count, if_match, if_none_match)
        else:
            with transaction(self.db):
                info = self._insert_version(bucket, key, segments, etag, meta, parts_count,
                                            if_match, if_none_match)
            self._collect_garbage()
        return info

    def _insert_version(self, bucket: str, key: str, segments: Sequence[Segment], etag: str,
                        meta: dict[str, Any], parts_count: int | None, if_match: str | None,
                        if_none_match: str | None) -> ObjectInfo:
        db = self.db
        b = self.get_bucket(bucket)
        current = self._current(bucket, key)
        check_write_conditions(current, if_match, if_none_match)
        version_id = time_ordered_id() if b.versioning == "Enabled" else "null"
        now = float(int(time.time()))  # S3 keeps object times to the second: listings agree with HEAD
        meta = with_default_retention(b, meta, now)
        if version_id == "null":
            for row in db.execute("SELECT id FROM objects WHERE bucket=? AND key=? AND version_id='null'",
                                  (bucket, key)).fetchall():
                self._drop_object(row[0])
        db.execute("UPDATE objects SET is_latest=0 WHERE bucket=? AND key=? AND is_latest=1", (bucket, key))
        size = sum(s.size for s in segments)
        cur = db.execute(
            "INSERT INTO objects(bucket, key, version_id, seq, is_latest, size, etag, last_modified,"
            " parts_count, meta) VALUES (?,?,?,"
            " (SELECT COALESCE(MAX(seq), 0) + 1 FROM objects WHERE bucket=? AND key=?), 1,?,?,?,?,?)",
            (bucket, key, version_id, bucket, key, size, etag, now, parts_count, json.dumps(meta)))
        object_id = cur.lastrowid
        db.executemany(
            "INSERT INTO segments(object_id, part_number, start, size, file, etag, checksums)"
            " VALUES (?,?,?,?,?,?,?)",
            ((object_id, s.part_number, s.start, s.size, s.file, s.etag, json.dumps(s.checksums))
             for s in segments))
        assert object_id is not None
        return ObjectInfo(object_id, bucket, key, version_id, size, etag, now, parts_count, meta,
                          versioned=b.versioning is not None)

    # -- reading -------------------------------------------------------------

    def _current(self, bucket: str, key: str) -> ObjectInfo | None:
        row = self.db.execute(
            "SELECT * FROM objects WHERE bucket=? AND key=? AND is_latest=1 AND delete_marker=0",
            (bucket, key)).fetchone()
        return ObjectInfo.from_row(row) if row else None

    def get_object(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        """The key's current version, or the version asked for; a delete
        marker there is DeleteMarkerHit."""
        b = self.get_bucket(bucket)
        if version_id is None:
            row = self.db.execute("SELECT * FROM objects WHERE bucket=? AND key=? AND is_latest=1",
                                  (bucket, key)).fetchone()
            if row is None:
                raise NoSuchKey("The specified key does not exist.", Key=key)
        else:
            check_version_id(version_id)
            row = self.db.execute("SELECT * FROM objects WHERE bucket=? AND key=? AND version_id=?",
                                  (bucket, key, version_id)).fetchone()
            if row is None:
                raise NoSuchVersion("The specified version does not exist.", Key=key, VersionId=version_id)
        info = ObjectInfo.from_row(row)
        if info.delete_marker:
            raise DeleteMarkerHit(info.version_id, info.last_modified, version_id is not None, key)
        info.versioned = b.versioning is not None
        return info

    def segments(self, object_id: int, *, after: int = 0, offset: int = 0, limit: int = -1) -> list[Segment]:
        """An object's segments in order: those with part number above `after`,
        skipping `offset`, at most `limit` (all when -1); read from the index."""
        rows = self.db.execute("SELECT * FROM segments WHERE object_id=? AND part_number>? ORDER BY part_number"
                               " LIMIT ? OFFSET ?", (object_id, after, limit, offset))
        return [Segment(r["part_number"], r["start"], r["size"], r["file"], r["etag"],
                        json.loads(r["checksums"] or "{}")) for r in rows]

    def open_range(self, info: ObjectInfo, first: int, last: int) -> list[Span]:
        """Open the data files holding bytes first..last (inclusive) of an object.
        Opened now, they stay readable even if the object is replaced meanwhile."""
        rows = self.db.execute(
            "SELECT start, size, file FROM segments WHERE object_id=? AND start<=? AND start+size>?"
            " ORDER BY part_number", (info.id, last, first)).fetchall()
        spans: list[Span] = []
        try:
            for start, size, file in rows:
                lo = max(first, start)
                hi = min(last, start + size - 1)
                if hi >= lo:
                    spans.append(Span(self.blobs.open(file), lo - start, hi - lo + 1))
        except FileNotFoundError:
            close_spans(spans)
            raise StorageError("A data file of this object is missing from the data directory")
        return spans

    async def read_range(self, info: ObjectInfo, first: int, last: int) -> AsyncIterator[bytes]:
        """The bytes first..last of an object, in chunks read off the event loop."""
        spans = self.open_range(info, first, last) if info.size else []
        loop = asyncio.get_running_loop()
        try:
            for span in spans:
                pos, end = span.offset, span.offset + span.length
                while pos < end:
                    chunk = await loop.run_in_executor(None, os.pread, span.fd, min(READ_CHUNK, end - pos), pos)
                    if not chunk:
                        raise StorageError("A data file of this object is shorter than recorded")
                    pos += len(chunk)
                    yield chunk
        finally:
            close_spans(spans)

    # -- deleting ------------------------------------------------------------

    def delete_object(self, bucket: str, key: str, version_id: str | None = None, *,
                      bypass_governance: bool = False) -> Deleted:
        """Unversioned: the key goes. Versioned: a delete marker on top, or
        with version_id that version for good (unless Object Lock protects it)."""
        if version_id is not None:
            check_version_id(version_id)
        with transaction(self.db) as db:
            b = self.get_bucket(bucket)
            if version_id is not None:
                result = self._delete_version(bucket, key, version_id, bypass_governance)
            elif b.versioning is None:
                for row in db.execute("SELECT id FROM objects WHERE bucket=? AND key=?", (bucket, key)).fetchall():
                    self._drop_object(row[0])
                result = Deleted(None, False)
            else:
                result = self._add_delete_marker(bucket, key, "Enabled" == b.versioning)
        self._collect_garbage()
        return result

    def _delete_version(self, bucket: str, key: str, version_id: str, bypass_governance: bool) -> Deleted:
        row = self.db.execute("SELECT id, is_latest, delete_marker, meta FROM objects WHERE bucket=? AND key=?"
                              " AND version_id=?", (bucket, key, version_id)).fetchone()
        if row is None:
            return Deleted(version_id, False)
        check_deletable(json.loads(row["meta"]), bypass_governance)
        self._drop_object(row["id"])
        if row["is_latest"]:
            self.db.execute("UPDATE objects SET is_latest=1 WHERE id=(SELECT id FROM objects WHERE bucket=?"
                            " AND key=? ORDER BY seq DESC LIMIT 1)", (bucket, key))
        return Deleted(version_id, bool(row["delete_marker"]))

    def _add_delete_marker(self, bucket: str, key: str, enabled: bool) -> Deleted:
        version_id = time_ordered_id() if enabled else "null"
        if not enabled:
            for row in self.db.execute("SELECT id FROM objects WHERE bucket=? AND key=? AND version_id='null'",
                                       (bucket, key)).fetchall():
                self._drop_object(row[0])
        self.db.execute("UPDATE objects SET is_latest=0 WHERE bucket=? AND key=? AND is_latest=1", (bucket, key))
        self.db.execute(
            "INSERT INTO objects(bucket, key, version_id, seq, is_latest, delete_marker, size, etag,"
            " last_modified, meta) VALUES (?,?,?,(SELECT COALESCE(MAX(seq), 0) + 1 FROM objects"
            " WHERE bucket=? AND key=?),1,1,0,'',?,'{}')",
            (bucket, key, version_id, bucket, key, float(int(time.time()))))
        return Deleted(version_id, True)

    # -- listing -------------------------------------------------------------

    def list_objects(self, bucket: str, *, prefix: str = "", delimiter: str = "", marker: str = "",
                     max_keys: int = 1000) -> Page:
        self.get_bucket(bucket)

        def fetch(lower: str, inclusive: bool, _after_id: str | None, limit: int) -> list[ObjectInfo]:
            op = ">=" if inclusive else ">"
            rows = self.db.execute(
                f"SELECT * FROM objects WHERE bucket=? AND key {op} ? AND is_latest=1 AND delete_marker=0"
                " ORDER BY key LIMIT ?", (bucket, lower, limit))
            return [ObjectInfo.from_row(r) for r in rows]

        return list_page(fetch, lambda o: o.key, lambda o: None, prefix, delimiter, marker, None, max_keys)


def check_write_conditions(current: ObjectInfo | None, if_match: str | None, if_none_match: str | None) -> None:
    """Conditional writes, evaluated inside the commit's transaction."""
    if if_none_match is not None and current is not None:
        raise PreconditionFailed("At least one of the pre-conditions you specified did not hold",
                                 Condition="If-None-Match")
    if if_match is not None:
        if current is None:
            raise NoSuchKey("The specified key does not exist.")
        if not etag_matches(if_match, current.etag):
            raise PreconditionFailed("At least one of the pre-conditions you specified did not hold",
                                     Condition="If-Match")


def close_spans(spans: Iterable[Span]) -> None:
    for span in spans:
        try:
            os.close(span.fd)
        except OSError:
            pass



def _b64(digests: dict[str, bytes]) -> dict[str, str]:
    return {algo: b64(raw) for algo, raw in digests.items()}
