"""The S3 operations s3emu implements: one function per operation, grouped by
feature in the modules of this package. `OPERATIONS` is the whole table; an
Operation missing from it answers NotImplemented."""
from __future__ import annotations

from typing import Awaitable, Callable, Final, Mapping

from aiohttp import web

from ..http.operations import Operation as Op
from ..http.request import S3Request
from . import (
    access,
    attributes,
    buckets,
    cors,
    lifecycle,
    listing,
    multipart,
    objectlock,
    objects,
    post,
    tagging,
    versioning,
)

__all__ = ["OPERATIONS", "Handler"]

Handler = Callable[[S3Request], Awaitable[web.StreamResponse]]

OPERATIONS: Final[Mapping[Op, Handler]] = {
    Op.AbortMultipartUpload: multipart.abort_multipart_upload,
    Op.DeleteBucketOwnershipControls: access.delete_bucket_ownership_controls,
    Op.DeleteBucketPolicy: access.delete_bucket_policy,
    Op.DeletePublicAccessBlock: access.delete_public_access_block,
    Op.GetBucketAcl: access.get_bucket_acl,
    Op.GetBucketOwnershipControls: access.get_bucket_ownership_controls,
    Op.GetBucketPolicy: access.get_bucket_policy,
    Op.GetBucketPolicyStatus: access.get_bucket_policy_status,
    Op.GetObjectAcl: access.get_object_acl,
    Op.GetPublicAccessBlock: access.get_public_access_block,
    Op.PutBucketAcl: access.put_bucket_acl,
    Op.PutBucketOwnershipControls: access.put_bucket_ownership_controls,
    Op.PutBucketPolicy: access.put_bucket_policy,
    Op.PutObjectAcl: access.put_object_acl,
    Op.PutPublicAccessBlock: access.put_public_access_block,
    Op.CompleteMultipartUpload: multipart.complete_multipart_upload,
    Op.CopyObject: objects.copy_object,
    Op.CreateBucket: buckets.create_bucket,
    Op.CreateMultipartUpload: multipart.create_multipart_upload,
    Op.DeleteBucket: buckets.delete_bucket,
    Op.DeleteBucketCors: cors.delete_bucket_cors,
    Op.DeleteBucketLifecycle: lifecycle.delete_bucket_lifecycle,
    Op.DeleteBucketTagging: tagging.delete_bucket_tagging,
    Op.DeleteObject: objects.delete_object,
    Op.DeleteObjectTagging: tagging.delete_object_tagging,
    Op.DeleteObjects: objects.delete_objects,
    Op.GetBucketCors: cors.get_bucket_cors,
    Op.GetBucketLifecycleConfiguration: lifecycle.get_bucket_lifecycle,
    Op.GetBucketLocation: buckets.get_bucket_location,
    Op.GetBucketTagging: tagging.get_bucket_tagging,
    Op.GetBucketVersioning: versioning.get_bucket_versioning,
    Op.GetObject: objects.get_object,
    Op.GetObjectAttributes: attributes.get_object_attributes,
    Op.GetObjectLegalHold: objectlock.get_object_legal_hold,
    Op.GetObjectLockConfiguration: objectlock.get_object_lock_configuration,
    Op.GetObjectRetention: objectlock.get_object_retention,
    Op.GetObjectTagging: tagging.get_object_tagging,
    Op.HeadBucket: buckets.head_bucket,
    Op.HeadObject: objects.head_object,
    Op.ListBuckets: buckets.list_buckets,
    Op.ListMultipartUploads: multipart.list_multipart_uploads,
    Op.ListObjectVersions: versioning.list_object_versions,
    Op.ListObjects: listing.list_objects,
    Op.ListObjectsV2: listing.list_objects_v2,
    Op.ListParts: multipart.list_parts,
    Op.PostObject: post.post_object,
    Op.PreflightRequest: cors.preflight,
    Op.PutBucketCors: cors.put_bucket_cors,
    Op.PutBucketLifecycleConfiguration: lifecycle.put_bucket_lifecycle,
    Op.PutBucketTagging: tagging.put_bucket_tagging,
    Op.PutBucketVersioning: versioning.put_bucket_versioning,
    Op.PutObject: objects.put_object,
    Op.PutObjectLegalHold: objectlock.put_object_legal_hold,
    Op.PutObjectLockConfiguration: objectlock.put_object_lock_configuration,
    Op.PutObjectRetention: objectlock.put_object_retention,
    Op.PutObjectTagging: tagging.put_object_tagging,
    Op.UploadPart: multipart.upload_part,
    Op.UploadPartCopy: multipart.upload_part_copy,
}
