"""Storage-level failures, as data.

Each error says what went wrong and carries the details S3's error document
names (`fields`: BucketName, Key, UploadId, ...) plus whatever else
describes it. Which S3 code and message each becomes is decided once, in
s3emu.http.errors; the engine knows nothing of HTTP or XML.
"""
from __future__ import annotations

from pathlib import Path

Field = str | int | None


class StorageError(Exception):
    """The data directory could not do what was asked."""

    def __init__(self, **fields: Field) -> None:
        self.fields: dict[str, Field] = fields
        super().__init__(str(self))

    def __str__(self) -> str:
        doc = (type(self).__doc__ or type(self).__name__).strip().splitlines()[0]
        details = ", ".join(f"{k}={v}" for k, v in self.fields.items())
        return f"{doc} ({details})" if details else doc


class NoSuchBucket(StorageError):
    """The bucket does not exist."""


class BucketAlreadyOwnedByYou(StorageError):
    """A bucket of that name exists already."""


class BucketAlreadyExists(StorageError):
    """A bucket of that name exists already and belongs to another owner."""


class BucketNotEmpty(StorageError):
    """The bucket still holds object versions or delete markers."""


class NoSuchKey(StorageError):
    """The key has no current version."""


class NoSuchUpload(StorageError):
    """No multipart upload in progress has this id for this bucket and key."""


class NoSuchVersion(StorageError):
    """The key has no version with this id."""


class InvalidVersionId(StorageError):
    """A version id that is neither 'null' nor one of ours (or is empty)."""

    def __init__(self, version_id: str) -> None:
        self.version_id = version_id
        super().__init__(ArgumentName="versionId", ArgumentValue=version_id)


class DeleteMarkerHit(StorageError):
    """The version a read addressed is a delete marker: the key's current
    version (by_version False), or the version asked for by id."""

    def __init__(self, marker_version_id: str, last_modified: float, by_version: bool, key: str) -> None:
        self.marker_version_id = marker_version_id
        self.last_modified = last_modified  # seconds since the epoch, UTC
        self.by_version = by_version
        if by_version:
            super().__init__(ResourceType="DeleteMarker")
        else:
            super().__init__(Key=key)


class IncompleteBody(StorageError):
    """The body was shorter or longer than declared: nothing was stored."""

    def __init__(self, declared: int, received: int) -> None:
        self.declared = declared
        self.received = received  # so far: a longer body is refused as soon as it overruns
        super().__init__()


class EntityTooLarge(StorageError):
    """The body exceeds the size allowed: nothing was stored."""


class EntityTooSmall(StorageError):
    """A part other than the last is below the minimum part size."""


class InvalidPart(StorageError):
    """A listed part was never uploaded, or its ETag differs."""


class InvalidPartOrder(StorageError):
    """The listed part numbers are not strictly ascending."""


class NoPartsListed(StorageError):
    """CompleteMultipartUpload named no parts."""


class ObjectSizeMismatch(StorageError):
    """The parts do not add up to the object size the client declared."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__()


class PreconditionFailed(StorageError):
    """A conditional write's condition does not hold."""


class ObjectExists(PreconditionFailed):
    """A write that required the key to have no current version found one."""


class ETagMismatch(PreconditionFailed):
    """A write that required the current version to have one of some ETags found another."""


class ConditionalConflict(StorageError):
    """A conditional CompleteMultipartUpload whose condition holds, but the key
    was written or deleted after the upload began; fields: Condition, Key."""


class ObjectLocked(StorageError):
    """A retention period or legal hold protects this version."""


class NoObjectLockConfiguration(StorageError):
    """The bucket was not created with Object Lock."""


class VersioningNotEnabled(StorageError):
    """Object Lock can only be added to a bucket with versioning enabled."""


class NotArchived(StorageError):
    """Only a version in an archive storage class (GLACIER, DEEP_ARCHIVE) can be restored."""


class RestoreInProgress(StorageError):
    """A restore of this version is already under way."""


class DataFileMissing(StorageError):
    """A data file of this object is missing from the data directory."""


class DataFileShort(StorageError):
    """A data file of this object is shorter than recorded."""


class TooManyOpenFiles(StorageError):
    """The server process has no file descriptor left to open a data file: try again."""


class StorageFull(StorageError):
    """The disk is full or the directory read-only; nothing was written."""

    def __init__(self, *, writable: bool = True, reason: str | None = None) -> None:
        self.writable = writable  # False: the directory refuses writes; True: the disk is full
        self.reason = reason  # the OS's words, when it gave some
        super().__init__()

    def __str__(self) -> str:
        if self.writable:
            return "The data directory's disk is full; nothing was stored"
        because = f" ({self.reason})" if self.reason else ""
        return f"The data directory is not writable{because}; nothing was stored"


class UnsupportedDataDirectory(StorageError):
    """The data directory was written by a newer s3emu, in a format this one cannot read."""

    def __init__(self, path: Path, found: int, supported: int) -> None:
        self.path = path
        self.found = found
        self.supported = supported
        super().__init__()

    def __str__(self) -> str:
        return (f"{self.path} holds data format {self.found}, written by a newer s3emu; this version reads "
                f"formats up to {self.supported}: upgrade s3emu or use another data directory")
