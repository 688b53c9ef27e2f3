"""What each S3 operation asks for: its IAM action (what policies name), the
ACL permission that can grant it, and whether that permission is looked up
on the bucket's ACL or the object's (S3 User Guide, "Mapping of ACL
permissions and access policy permissions", and the Service Authorization
Reference for Amazon S3)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Needs:
    action: str  # "s3:GetObject"
    permission: str | None = None  # READ, WRITE, READ_ACP, WRITE_ACP; None: no ACL grants it
    on_object: bool = False  # the permission is checked on the object's ACL (else the bucket's)
    versioned_action: str | None = None  # the action when a versionId is given


def _obj(action: str, permission: str | None = None, versioned: str | None = None) -> Needs:
    return Needs(f"s3:{action}", permission, True, f"s3:{versioned}" if versioned else None)


def _bucket(action: str, permission: str | None = None) -> Needs:
    return Needs(f"s3:{action}", permission)


# operation name -> what it needs; bucket-level unless on_object
NEEDS: dict[str, Needs] = {
    "ListObjects": _bucket("ListBucket", "READ"), "ListObjectsV2": _bucket("ListBucket", "READ"),
    "HeadBucket": _bucket("ListBucket", "READ"),
    "ListObjectVersions": _bucket("ListBucketVersions", "READ"),
    "ListMultipartUploads": _bucket("ListBucketMultipartUploads", "READ"),
    "GetBucketAcl": _bucket("GetBucketAcl", "READ_ACP"), "PutBucketAcl": _bucket("PutBucketAcl", "WRITE_ACP"),
    "GetBucketLocation": _bucket("GetBucketLocation"), "DeleteBucket": _bucket("DeleteBucket"),
    "CreateBucket": _bucket("CreateBucket"), "ListBuckets": _bucket("ListAllMyBuckets"),
    "GetBucketPolicy": _bucket("GetBucketPolicy"), "PutBucketPolicy": _bucket("PutBucketPolicy"),
    "DeleteBucketPolicy": _bucket("DeleteBucketPolicy"), "GetBucketPolicyStatus": _bucket("GetBucketPolicyStatus"),
    "GetPublicAccessBlock": _bucket("GetBucketPublicAccessBlock"),
    "PutPublicAccessBlock": _bucket("PutBucketPublicAccessBlock"),
    "DeletePublicAccessBlock": _bucket("PutBucketPublicAccessBlock"),
    "GetBucketOwnershipControls": _bucket("GetBucketOwnershipControls"),
    "PutBucketOwnershipControls": _bucket("PutBucketOwnershipControls"),
    "DeleteBucketOwnershipControls": _bucket("PutBucketOwnershipControls"),
    "GetBucketVersioning": _bucket("GetBucketVersioning"), "PutBucketVersioning": _bucket("PutBucketVersioning"),
    "GetBucketCors": _bucket("GetBucketCORS"), "PutBucketCors": _bucket("PutBucketCORS"),
    "DeleteBucketCors": _bucket("PutBucketCORS"),
    "GetBucketLifecycleConfiguration": _bucket("GetLifecycleConfiguration"),
    "PutBucketLifecycleConfiguration": _bucket("PutLifecycleConfiguration"),
    "DeleteBucketLifecycle": _bucket("PutLifecycleConfiguration"),
    "GetBucketTagging": _bucket("GetBucketTagging"), "PutBucketTagging": _bucket("PutBucketTagging"),
    "DeleteBucketTagging": _bucket("PutBucketTagging"),
    "GetBucketEncryption": _bucket("GetEncryptionConfiguration"),
    "PutBucketEncryption": _bucket("PutEncryptionConfiguration"),
    "DeleteBucketEncryption": _bucket("PutEncryptionConfiguration"),
    "GetBucketWebsite": _bucket("GetBucketWebsite"), "PutBucketWebsite": _bucket("PutBucketWebsite"),
    "DeleteBucketWebsite": _bucket("DeleteBucketWebsite"),
    "GetBucketNotificationConfiguration": _bucket("GetBucketNotification"),
    "PutBucketNotificationConfiguration": _bucket("PutBucketNotification"),
    "GetBucketLogging": _bucket("GetBucketLogging"), "PutBucketLogging": _bucket("PutBucketLogging"),
    "GetObjectLockConfiguration": _bucket("GetBucketObjectLockConfiguration"),
    "PutObjectLockConfiguration": _bucket("PutBucketObjectLockConfiguration"),
    "DeleteObjects": _bucket("DeleteObject", "WRITE"),
    "GetObject": _obj("GetObject", "READ", "GetObjectVersion"),
    "HeadObject": _obj("GetObject", "READ", "GetObjectVersion"),
    "GetObjectAttributes": _obj("GetObjectAttributes", "READ", "GetObjectVersionAttributes"),
    "GetObjectAcl": _obj("GetObjectAcl", "READ_ACP", "GetObjectVersionAcl"),
    "PutObjectAcl": _obj("PutObjectAcl", "WRITE_ACP", "PutObjectVersionAcl"),
    "GetObjectTagging": _obj("GetObjectTagging", "READ", "GetObjectVersionTagging"),
    "PutObjectTagging": _obj("PutObjectTagging", None, "PutObjectVersionTagging"),
    "DeleteObjectTagging": _obj("DeleteObjectTagging", None, "DeleteObjectVersionTagging"),
    "GetObjectRetention": _obj("GetObjectRetention"), "PutObjectRetention": _obj("PutObjectRetention"),
    "GetObjectLegalHold": _obj("GetObjectLegalHold"), "PutObjectLegalHold": _obj("PutObjectLegalHold"),
    "RestoreObject": _obj("RestoreObject"),
    "DeleteObject": Needs("s3:DeleteObject", "WRITE", False, "s3:DeleteObjectVersion"),
    "AbortMultipartUpload": Needs("s3:AbortMultipartUpload", "WRITE"),
    "ListParts": Needs("s3:ListMultipartUploadParts", "READ"),
}
# writes: the bucket's WRITE permission lets them create objects
for _name in ("PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
              "CompleteMultipartUpload", "PostObject"):
    NEEDS[_name] = Needs("s3:PutObject", "WRITE")
OBJECT_OPERATIONS = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
                               "CompleteMultipartUpload", "DeleteObject", "AbortMultipartUpload", "ListParts",
                               "PostObject"} | {n for n, x in NEEDS.items() if x.on_object})
# the bucket owner's root user may always manage the policy, even when it denies them (S3 User Guide)
POLICY_MANAGEMENT = frozenset({"GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"})


def needs(operation: str) -> Needs:
    """What `operation` needs; an operation not listed needs s3:<Operation>
    and no ACL grants it."""
    return NEEDS.get(operation) or Needs(f"s3:{operation}")
