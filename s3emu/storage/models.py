"""What the store hands back: plain records, no behaviour. Times are seconds
since the epoch, UTC; sizes are bytes; ETags are unquoted hex."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Generic, Sequence, TypeVar

from .meta import BucketConfig, ObjectMeta, UploadMeta
from .writer import GIVE_WAY_EVERY, giving_way_in_slices

T = TypeVar("T")


@dataclass
class BucketInfo:
    """A bucket. created: epoch seconds; config: its sub-resources (meta.BucketConfig)."""

    name: str
    created: float
    region: str
    versioning: str | None = None  # None (never set), "Enabled" or "Suspended"
    object_lock: bool = False
    config: BucketConfig = field(default_factory=lambda: BucketConfig())
    owner: str | None = None  # the owner's canonical id; None: the default account (buckets from before owners)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "BucketInfo":
        """From a `buckets` row."""
        return cls(row["name"], row["created"], row["region"], row["versioning"],
                   bool(row["object_lock"]), json.loads(row["config"]), row["owner"])


@dataclass
class Segment:
    """One data file of an object, at `start` within it."""

    part_number: int
    start: int
    size: int
    file: str
    etag: str
    # as stored (JSON): a Complete of 10,000 parts carries each part's to its segment without decoding it
    checksums_json: str = "{}"

    @property
    def checksums(self) -> dict[str, str]:
        """base64 values by S3 algorithm name, decoded on each access (a copy: changing it changes nothing)."""
        return json.loads(self.checksums_json)  # type: ignore[no-any-return]

    @staticmethod
    def all_checksums(segments: Sequence[Segment]) -> list[dict[str, str]]:
        """Each segment's checksums, as `checksums`: decoded GIVE_WAY_EVERY at a
        time, not one json.loads per segment (a Complete of 10,000 parts asks
        for them all), nor all in one call that holds the GIL throughout."""
        decoded: list[dict[str, str]] = []
        for chunk in giving_way_in_slices(segments, GIVE_WAY_EVERY):
            decoded += json.loads("[" + ",".join(s.checksums_json for s in chunk) + "]")
        return decoded


@dataclass
class ObjectInfo:
    """One version of a key (or a delete marker). size in bytes, last_modified in epoch seconds."""

    id: int
    bucket: str
    key: str
    version_id: str
    size: int
    etag: str  # unquoted
    last_modified: float
    parts_count: int | None
    meta: ObjectMeta
    is_latest: bool = True
    delete_marker: bool = False
    seq: int = 0  # orders the versions of a key: newer is larger
    # set by reads that know the bucket: it has (or had) versioning on, so even
    # the 'null' version id is reported to clients
    versioned: bool = False

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "ObjectInfo":
        """From an `objects` row."""
        return cls(row["id"], row["bucket"], row["key"], row["version_id"], row["size"],
                   row["etag"], row["last_modified"], row["parts_count"], json.loads(row["meta"]),
                   bool(row["is_latest"]), bool(row["delete_marker"]), row["seq"])


@dataclass
class UploadInfo:
    """A multipart upload in progress; initiated in epoch seconds."""

    upload_id: str
    bucket: str
    key: str
    initiated: float
    meta: UploadMeta

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "UploadInfo":
        """From an `uploads` row."""
        return cls(row["upload_id"], row["bucket"], row["key"], row["initiated"], json.loads(row["meta"]))


@dataclass
class PartInfo:
    """One uploaded part; checksums are base64 by S3 algorithm name."""

    part_number: int
    size: int
    etag: str  # unquoted md5 hex
    last_modified: float
    checksums: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "PartInfo":
        """From a `parts` row."""
        return cls(row["part_number"], row["size"], row["etag"], row["last_modified"],
                   json.loads(row["checksums"] or "{}"))


@dataclass
class Page(Generic[T]):
    """One page of a listing: entries and common prefixes in S3 order."""

    entries: list[T]
    prefixes: list[str]
    is_truncated: bool
    # the last key (or prefix) returned, and for uploads the last upload id
    last_key: str | None = None
    last_upload_id: str | None = None
