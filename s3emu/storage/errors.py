"""Storage-level failures.

Each names the S3 error code it corresponds to, so the server can answer with
S3's code without the storage engine knowing anything about HTTP or XML.
"""
from __future__ import annotations

from typing import Any


class StorageError(Exception):
    code = "InternalError"

    def __init__(self, message: str = "", **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


class NoSuchBucket(StorageError):
    code = "NoSuchBucket"


class BucketAlreadyOwnedByYou(StorageError):
    code = "BucketAlreadyOwnedByYou"


class BucketNotEmpty(StorageError):
    code = "BucketNotEmpty"


class NoSuchKey(StorageError):
    code = "NoSuchKey"


class NoSuchUpload(StorageError):
    code = "NoSuchUpload"


class IncompleteBody(StorageError):
    """The body ended before the declared length: nothing was stored."""

    code = "IncompleteBody"


class EntityTooLarge(StorageError):
    code = "EntityTooLarge"


class EntityTooSmall(StorageError):
    code = "EntityTooSmall"


class InvalidPart(StorageError):
    code = "InvalidPart"


class InvalidPartOrder(StorageError):
    code = "InvalidPartOrder"


class InvalidRequest(StorageError):
    code = "InvalidRequest"


class InvalidArgument(StorageError):
    code = "InvalidArgument"


class NoSuchVersion(StorageError):
    code = "NoSuchVersion"


class DeleteMarkerHit(StorageError):
    """The version a read addressed is a delete marker: NoSuchKey when it was
    the key's current version, MethodNotAllowed when asked for by version id."""

    def __init__(self, marker_version_id: str, last_modified: float, by_version: bool, key: str) -> None:
        if by_version:
            super().__init__("The specified method is not allowed against this resource.",
                             ResourceType="DeleteMarker")
        else:
            super().__init__("The specified key does not exist.", Key=key)
        self.code = "MethodNotAllowed" if by_version else "NoSuchKey"
        self.marker_version_id = marker_version_id
        self.last_modified = last_modified


class ObjectLocked(StorageError):
    """A retention period or legal hold protects this version."""

    code = "AccessDenied"


class InvalidBucketState(StorageError):
    code = "InvalidBucketState"


class PreconditionFailed(StorageError):
    code = "PreconditionFailed"


class StorageFull(StorageError):
    """The disk is full or read-only; nothing was written."""

    code = "InternalError"
