"""s3emu's storage engine: buckets, objects, uploads and parts on disk.

It knows nothing of HTTP or XML; the server translates requests into calls here.
"""
from .errors import StorageError
from .models import BucketInfo, ObjectInfo, Page, PartInfo, Segment, UploadInfo
from .multipart import CompletedPart, multipart_etag
from .objects import Span, close_spans, etag_matches
from .store import Store

__all__ = ["BucketInfo", "CompletedPart", "ObjectInfo", "Page", "PartInfo", "Segment", "Span", "Store",
           "StorageError", "UploadInfo", "close_spans", "etag_matches", "multipart_etag"]
