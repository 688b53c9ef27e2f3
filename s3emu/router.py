"""Which S3 operation a request is, from its method, what it addresses and
its sub-resource query parameters (S3's REST routing)."""
from __future__ import annotations

from typing import Mapping

from .errors import S3Error

# Sub-resources S3 knows; one not listed here is an ordinary query parameter.
_BUCKET_SUBRESOURCES = {
    "accelerate", "acl", "analytics", "cors", "delete", "encryption", "intelligent-tiering", "inventory",
    "lifecycle", "location", "logging", "metrics", "notification", "object-lock", "ownershipControls",
    "policy", "policyStatus", "publicAccessBlock", "replication", "requestPayment", "tagging", "uploads",
    "versioning", "versions", "website",
}
_OBJECT_SUBRESOURCES = {"acl", "attributes", "legal-hold", "restore", "retention", "select", "tagging",
                        "torrent", "uploadId", "uploads"}

# (method, sub-resource) -> operation, for buckets and for objects.
_BUCKET_OPS = {
    ("PUT", ""): "CreateBucket", ("HEAD", ""): "HeadBucket", ("DELETE", ""): "DeleteBucket",
    ("GET", ""): "ListObjects", ("GET", "location"): "GetBucketLocation",
    ("GET", "uploads"): "ListMultipartUploads", ("GET", "versions"): "ListObjectVersions",
    ("POST", "delete"): "DeleteObjects",
    ("PUT", "versioning"): "PutBucketVersioning", ("GET", "versioning"): "GetBucketVersioning",
    ("PUT", "cors"): "PutBucketCors", ("GET", "cors"): "GetBucketCors", ("DELETE", "cors"): "DeleteBucketCors",
    ("PUT", "lifecycle"): "PutBucketLifecycleConfiguration",
    ("GET", "lifecycle"): "GetBucketLifecycleConfiguration", ("DELETE", "lifecycle"): "DeleteBucketLifecycle",
    ("PUT", "tagging"): "PutBucketTagging", ("GET", "tagging"): "GetBucketTagging",
    ("DELETE", "tagging"): "DeleteBucketTagging",
    ("PUT", "policy"): "PutBucketPolicy", ("GET", "policy"): "GetBucketPolicy",
    ("DELETE", "policy"): "DeleteBucketPolicy",
    ("PUT", "acl"): "PutBucketAcl", ("GET", "acl"): "GetBucketAcl",
    ("PUT", "object-lock"): "PutObjectLockConfiguration", ("GET", "object-lock"): "GetObjectLockConfiguration",
    ("PUT", "encryption"): "PutBucketEncryption", ("GET", "encryption"): "GetBucketEncryption",
    ("DELETE", "encryption"): "DeleteBucketEncryption",
}
_OBJECT_OPS = {
    ("PUT", ""): "PutObject", ("GET", ""): "GetObject", ("HEAD", ""): "HeadObject",
    ("DELETE", ""): "DeleteObject",
    ("POST", "uploads"): "CreateMultipartUpload", ("POST", "uploadId"): "CompleteMultipartUpload",
    ("PUT", "uploadId"): "UploadPart", ("GET", "uploadId"): "ListParts",
    ("DELETE", "uploadId"): "AbortMultipartUpload",
    ("PUT", "tagging"): "PutObjectTagging", ("GET", "tagging"): "GetObjectTagging",
    ("DELETE", "tagging"): "DeleteObjectTagging",
    ("PUT", "acl"): "PutObjectAcl", ("GET", "acl"): "GetObjectAcl",
    ("GET", "attributes"): "GetObjectAttributes",
    ("PUT", "retention"): "PutObjectRetention", ("GET", "retention"): "GetObjectRetention",
    ("PUT", "legal-hold"): "PutObjectLegalHold", ("GET", "legal-hold"): "GetObjectLegalHold",
    ("POST", "restore"): "RestoreObject", ("POST", "select"): "SelectObjectContent",
}


def resolve(method: str, bucket: str | None, key: str | None, query: Mapping[str, str],
            headers: Mapping[str, str]) -> str:
    if method == "OPTIONS":
        return "PreflightRequest"  # a browser's CORS preflight, for any resource
    if bucket is None:
        if method == "GET":
            return "ListBuckets"
        raise S3Error("MethodNotAllowed", Method=method, ResourceType="SERVICE")
    known = _OBJECT_SUBRESOURCES if key is not None else _BUCKET_SUBRESOURCES
    table = _OBJECT_OPS if key is not None else _BUCKET_OPS
    sub = next((s for s in query if s in known), "")
    if key is None and method == "GET" and not sub and query.get("list-type") == "2":
        return "ListObjectsV2"
    op = table.get((method, sub))
    if op is None:
        # an unknown method, or a plain POST to an object (S3 has no such call)
        if method not in ("GET", "PUT", "POST", "DELETE", "HEAD") or (key is not None and not sub):
            raise S3Error("MethodNotAllowed", Method=method,
                          ResourceType="OBJECT" if key is not None else "BUCKET")
        raise S3Error("NotImplemented", "A header or query you provided implies functionality that is not "
                                        "implemented")
    if "x-amz-copy-source" in headers:
        op = {"PutObject": "CopyObject", "UploadPart": "UploadPartCopy"}.get(op, op)
    return op
