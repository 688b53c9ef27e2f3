"""s3emu's storage engine: buckets, objects, uploads and parts on disk.

It knows nothing of HTTP or XML and imports nothing from the rest of s3emu;
the server translates requests into calls on `Store` and its errors into S3's.
"""
from .errors import StorageError, UnsupportedDataDirectory
from .meta import BucketConfig, LockRule, LockState, ObjectMeta, RestoreState, UploadMeta, object_tags
from .models import BucketInfo, ObjectInfo, Page, PartInfo, Segment, UploadInfo
from .objects import Deleted, WriteCondition
from .reads import OpenRange, Span
from .store import Store
from .uploads import ChecksumFinisher, CompletedPart, multipart_etag

__all__ = ["BucketConfig", "BucketInfo", "ChecksumFinisher", "CompletedPart", "Deleted", "LockRule", "LockState",
           "ObjectInfo", "ObjectMeta", "OpenRange", "Page", "PartInfo", "RestoreState", "Segment", "Span",
           "StorageError", "Store", "UnsupportedDataDirectory", "UploadInfo", "UploadMeta", "WriteCondition",
           "multipart_etag", "object_tags"]
