"""Which S3 operation a request is, from its method, what it addresses and
its sub-resource query parameters (S3's REST routing), parsed once."""
from __future__ import annotations

from typing import Final, Mapping

from .errors import S3Error
from .operations import Operation as Op

__all__ = ["resolve"]

# (method, sub-resource) -> operation; "" is no sub-resource. A query parameter
# not named here is an ordinary parameter (prefix, versionId, ...).
BUCKET_ROUTES: Final[Mapping[tuple[str, str], Op]] = {
    ("PUT", ""): Op.CreateBucket, ("HEAD", ""): Op.HeadBucket, ("DELETE", ""): Op.DeleteBucket,
    ("GET", ""): Op.ListObjects, ("POST", ""): Op.PostObject, ("GET", "location"): Op.GetBucketLocation,
    ("GET", "uploads"): Op.ListMultipartUploads, ("GET", "versions"): Op.ListObjectVersions,
    ("POST", "delete"): Op.DeleteObjects,
    ("PUT", "versioning"): Op.PutBucketVersioning, ("GET", "versioning"): Op.GetBucketVersioning,
    ("PUT", "cors"): Op.PutBucketCors, ("GET", "cors"): Op.GetBucketCors, ("DELETE", "cors"): Op.DeleteBucketCors,
    ("PUT", "lifecycle"): Op.PutBucketLifecycleConfiguration,
    ("GET", "lifecycle"): Op.GetBucketLifecycleConfiguration, ("DELETE", "lifecycle"): Op.DeleteBucketLifecycle,
    ("PUT", "tagging"): Op.PutBucketTagging, ("GET", "tagging"): Op.GetBucketTagging,
    ("DELETE", "tagging"): Op.DeleteBucketTagging,
    ("PUT", "policy"): Op.PutBucketPolicy, ("GET", "policy"): Op.GetBucketPolicy,
    ("DELETE", "policy"): Op.DeleteBucketPolicy, ("GET", "policyStatus"): Op.GetBucketPolicyStatus,
    ("PUT", "acl"): Op.PutBucketAcl, ("GET", "acl"): Op.GetBucketAcl,
    ("PUT", "object-lock"): Op.PutObjectLockConfiguration, ("GET", "object-lock"): Op.GetObjectLockConfiguration,
    ("PUT", "encryption"): Op.PutBucketEncryption, ("GET", "encryption"): Op.GetBucketEncryption,
    ("DELETE", "encryption"): Op.DeleteBucketEncryption,
    ("PUT", "website"): Op.PutBucketWebsite, ("GET", "website"): Op.GetBucketWebsite,
    ("DELETE", "website"): Op.DeleteBucketWebsite,
    ("PUT", "notification"): Op.PutBucketNotificationConfiguration,
    ("GET", "notification"): Op.GetBucketNotificationConfiguration,
    ("PUT", "logging"): Op.PutBucketLogging, ("GET", "logging"): Op.GetBucketLogging,
    ("PUT", "requestPayment"): Op.PutBucketRequestPayment, ("GET", "requestPayment"): Op.GetBucketRequestPayment,
    ("PUT", "accelerate"): Op.PutBucketAccelerateConfiguration,
    ("GET", "accelerate"): Op.GetBucketAccelerateConfiguration,
    ("PUT", "replication"): Op.PutBucketReplication, ("GET", "replication"): Op.GetBucketReplication,
    ("DELETE", "replication"): Op.DeleteBucketReplication,
    ("PUT", "ownershipControls"): Op.PutBucketOwnershipControls,
    ("GET", "ownershipControls"): Op.GetBucketOwnershipControls,
    ("DELETE", "ownershipControls"): Op.DeleteBucketOwnershipControls,
    ("PUT", "publicAccessBlock"): Op.PutPublicAccessBlock, ("GET", "publicAccessBlock"): Op.GetPublicAccessBlock,
    ("DELETE", "publicAccessBlock"): Op.DeletePublicAccessBlock,
    ("POST", "metadataTable"): Op.CreateBucketMetadataTableConfiguration,
    ("GET", "metadataTable"): Op.GetBucketMetadataTableConfiguration,
    ("DELETE", "metadataTable"): Op.DeleteBucketMetadataTableConfiguration,
    ("PUT", "metadataAnnotationTable"): Op.UpdateBucketMetadataAnnotationTableConfiguration,
    ("PUT", "metadataInventoryTable"): Op.UpdateBucketMetadataInventoryTableConfiguration,
    ("PUT", "metadataJournalTable"): Op.UpdateBucketMetadataJournalTableConfiguration,
    ("POST", "metadataConfiguration"): Op.CreateBucketMetadataConfiguration,
    ("GET", "metadataConfiguration"): Op.GetBucketMetadataConfiguration,
    ("DELETE", "metadataConfiguration"): Op.DeleteBucketMetadataConfiguration,
    ("PUT", "abac"): Op.PutBucketAbac, ("GET", "abac"): Op.GetBucketAbac,
}
# configurations addressed by ?<name>&id=...: Get/Put/Delete with an id, List without
_BY_ID: Final = {"analytics": "Analytics", "inventory": "Inventory", "metrics": "Metrics",
                 "intelligent-tiering": "IntelligentTiering"}
OBJECT_ROUTES: Final[Mapping[tuple[str, str], Op]] = {
    ("PUT", ""): Op.PutObject, ("GET", ""): Op.GetObject, ("HEAD", ""): Op.HeadObject,
    ("DELETE", ""): Op.DeleteObject,
    ("POST", "uploads"): Op.CreateMultipartUpload, ("POST", "uploadId"): Op.CompleteMultipartUpload,
    ("PUT", "uploadId"): Op.UploadPart, ("GET", "uploadId"): Op.ListParts,
    ("DELETE", "uploadId"): Op.AbortMultipartUpload,
    ("PUT", "tagging"): Op.PutObjectTagging, ("GET", "tagging"): Op.GetObjectTagging,
    ("DELETE", "tagging"): Op.DeleteObjectTagging,
    ("PUT", "acl"): Op.PutObjectAcl, ("GET", "acl"): Op.GetObjectAcl,
    ("GET", "attributes"): Op.GetObjectAttributes,
    ("PUT", "retention"): Op.PutObjectRetention, ("GET", "retention"): Op.GetObjectRetention,
    ("PUT", "legal-hold"): Op.PutObjectLegalHold, ("GET", "legal-hold"): Op.GetObjectLegalHold,
    ("POST", "restore"): Op.RestoreObject, ("POST", "select"): Op.SelectObjectContent,
    ("GET", "torrent"): Op.GetObjectTorrent, ("PUT", "renameObject"): Op.RenameObject,
    ("PUT", "encryption"): Op.UpdateObjectEncryption,
    ("PUT", "annotation"): Op.PutObjectAnnotation, ("GET", "annotation"): Op.GetObjectAnnotation,
    ("DELETE", "annotation"): Op.DeleteObjectAnnotation,
}
_COPIES: Final = {Op.PutObject: Op.CopyObject, Op.UploadPart: Op.UploadPartCopy}
_BUCKET_SUBRESOURCES: Final = frozenset({sub for _, sub in BUCKET_ROUTES if sub} | set(_BY_ID))
_OBJECT_SUBRESOURCES: Final = frozenset(sub for _, sub in OBJECT_ROUTES if sub)
_METHODS: Final = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD"})


def resolve(method: str, bucket: str | None, key: str | None, query: Mapping[str, str],
            headers: Mapping[str, str]) -> Op | S3Error:
    """The operation a request names, or the error that answers it once the
    request is authenticated (an unsigned request is refused before routing
    says anything): MethodNotAllowed for a method S3 has no call for on that
    resource, NotImplemented for an unknown combination."""
    if method == "OPTIONS":
        return Op.PreflightRequest  # a browser's CORS preflight, for any resource
    if bucket is None:
        if method == "GET":
            return Op.ListBuckets
        return S3Error("MethodNotAllowed", Method=method, ResourceType="SERVICE")
    known = _OBJECT_SUBRESOURCES if key is not None else _BUCKET_SUBRESOURCES
    sub = next((s for s in query if s in known), "")
    if key is None and sub in _BY_ID:
        op = _by_id(method, sub, "id" in query)
    elif key is None and method == "GET" and not sub and query.get("list-type") == "2":
        return Op.ListObjectsV2
    else:
        op = (OBJECT_ROUTES if key is not None else BUCKET_ROUTES).get((method, sub))
    if op is None:
        # an unknown method, or a plain POST to an object (S3 has no such call)
        if method not in _METHODS or (key is not None and not sub):
            return S3Error("MethodNotAllowed", Method=method, ResourceType="OBJECT" if key is not None else "BUCKET")
        return S3Error("NotImplemented", "A header or query you provided implies functionality that is not "
                                        "implemented")
    if op is Op.GetObjectAnnotation and "annotationName" not in query:
        return Op.ListObjectAnnotations
    if "x-amz-copy-source" in headers:
        op = _COPIES.get(op, op)
    return op


def _by_id(method: str, sub: str, with_id: bool) -> Op | None:
    name = _BY_ID[sub]
    verb = {"PUT": "Put", "DELETE": "Delete", "GET": "Get" if with_id else "List"}.get(method)
    if verb is None:
        return None
    plural = "s" if verb == "List" else ""
    return Op(f"{verb}Bucket{name}Configuration{plural}")
