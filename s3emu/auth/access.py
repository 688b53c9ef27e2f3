"""Who may do what: the one place where an authenticated (or anonymous)
request is allowed or refused, after authentication and before the
operation, by S3's rules (access.decide) over the bucket's policy, ACLs,
Object Ownership and public access block.

With auth off nothing is refused here: requests act as the account whose key
they name (the default account when none is known) so that owners are
recorded, but every request may do everything.
"""
from __future__ import annotations

import re
import time
from typing import Callable
from urllib.parse import parse_qsl, unquote

from ..access import acl, policy
from ..access.actions import OBJECT_OPERATIONS, needs
from ..access.decide import BucketAccess, ObjectAccess, allowed
from ..access.principals import ANONYMOUS, Principal, directory_for
from ..http.errors import S3Error
from ..http.operations import Operation
from ..http.request import S3Request
from ..storage import BucketInfo, ObjectInfo, StorageError

# operations whose bucket need not exist yet (or that name none)
_NO_BUCKET_LOOKUP = frozenset({Operation.CreateBucket, Operation.ListBuckets})
_ACCOUNT_ID = re.compile(r"\d{12}")
_COPIES = frozenset({Operation.CopyObject, Operation.UploadPartCopy})
# judged by their handlers: POST Object once the form names the key, DeleteObjects key by key
_JUDGED_LATER = frozenset({Operation.PostObject, Operation.DeleteObjects})
# what S3 refuses anonymous callers whatever a policy or ACL grants, and how it says so
# (AmazonS3Exception messages quoted in public threads; AWS user guide, "Multipart upload process")
_NEVER_ANONYMOUS = {
    Operation.CreateMultipartUpload: "Anonymous users cannot initiate multipart uploads.  Please authenticate.",
    Operation.CopyObject: "Anonymous users cannot copy objects.  Please authenticate.",
    Operation.UploadPartCopy: "Anonymous users cannot copy objects.  Please authenticate.",
}


def is_anonymous(req: S3Request) -> bool:
    """A request without a signature while the server checks signatures."""
    return req.config.auth and (req.auth is None or req.auth.scheme == "none")


def _denied() -> S3Error:
    return S3Error("AccessDenied", "Access Denied")


def authorize(req: S3Request) -> None:
    """Decide who makes the request (req.principal) and refuse it
    (403 AccessDenied) when S3's evaluation would. As S3 does for a caller
    who may not know, the bucket is looked up first: a missing bucket is 404
    NoSuchBucket. POST Object is judged by its handler once the form names
    the key, DeleteObjects for each key it names (may_delete)."""
    directory = directory_for(req.config)
    req.principal = ANONYMOUS if is_anonymous(req) else directory.principal(req.access_key)
    expected = req.headers.get("x-amz-expected-bucket-owner")
    if expected is not None and not _ACCOUNT_ID.fullmatch(expected):
        raise S3Error("InvalidBucketOwnerAWSAccountID", "The value of the expected bucket owner parameter must be "
                      f"an AWS Account ID... [{expected}]")
    if req.operation is Operation.PreflightRequest:
        return
    if req.operation is None:  # a call S3 has not: dispatch answers it once the caller may know that
        if req.principal.anonymous:
            if req.bucket is not None:
                req.store.get_bucket(req.bucket)  # NoSuchBucket
            raise _denied()
        return
    if req.bucket is None or req.operation in _NO_BUCKET_LOOKUP:
        if req.principal.anonymous:
            raise _denied()
        return
    bucket = req.bucket_info()  # NoSuchBucket
    access = bucket_access(req, bucket)
    if expected is not None and expected != access.owner_account_id:
        raise _denied()
    if not req.config.auth or req.operation in _JUDGED_LATER:
        return
    if req.principal.anonymous and req.operation in _NEVER_ANONYMOUS:
        raise S3Error("AccessDenied", _NEVER_ANONYMOUS[req.operation])
    if not may(req, req.operation, bucket, access, req.key, req.param("versionId")):
        raise _denied()
    if req.operation in _COPIES:
        _authorize_copy_source(req)


def bucket_access(req: S3Request, bucket: BucketInfo) -> BucketAccess:
    """The bucket's side of a decision, from what the store keeps."""
    directory = directory_for(req.config)
    owner = directory.by_canonical_id(bucket.owner)
    text = bucket.config.get("policy")
    return BucketAccess(owner.account_id, owner.canonical_id, bucket.config.get("ownership"),
                        bucket.config.get("public_access_block") or {},
                        policy.parsed(text, bucket.name) if text else None,
                        bucket.config.get("acl") or [acl.user(owner.canonical_id, "FULL_CONTROL")])


def may(req: S3Request, operation: str, bucket: BucketInfo, access: BucketAccess, key: str | None,
        version_id: str | None, principal: Principal | None = None,
        extra: dict[str, list[str]] | None = None) -> bool:
    """Whether the request's principal may perform `operation` on the bucket
    (and `key`), by S3's evaluation; `extra` adds condition keys (a form's fields)."""
    principal = principal or req.principal
    what = needs(operation)
    on_object = operation in OBJECT_OPERATIONS and key is not None
    owner_account = principal.account_id == access.owner_account_id
    single = len(directory_for(req.config).accounts) == 1
    if owner_account and not access.statements and (not access.acls_enabled or single or not what.on_object):
        return True  # the common case, decided without reading the object
    info = _existing(req, bucket.name, key, version_id) if on_object and what.on_object else None
    obj = None
    if info is not None:
        owner = access.owner_canonical_id if not access.acls_enabled else \
            (info.meta.get("owner") or directory_for(req.config).default.canonical_id)
        obj = ObjectAccess(owner, info.meta.get("acl") or [acl.user(owner, "FULL_CONTROL")])
    action = what.versioned_action if version_id is not None and what.versioned_action else what.action
    resource = f"arn:aws:s3:::{bucket.name}" + (f"/{key}" if on_object else "")
    request = policy.Request(principal, action, [resource], _context(req, principal, extra),
                             _object_keys(req, info))
    if allowed(operation, access, request, obj, version_id is not None):
        return True
    if what.on_object and info is None and operation not in ("PutObjectAcl", "GetObjectAcl"):
        # no such object: whoever may list the bucket learns that (404), others get 403
        return may(req, "ListObjects", bucket, access, None, None, principal)
    return False


def may_delete(req: S3Request, bucket: BucketInfo) -> Callable[[str, str | None], bool]:
    """For DeleteObjects: whether the caller may delete a key (a version), as
    DeleteObject would be judged. S3 refuses each key on its own: the request
    succeeds with an AccessDenied entry for every key refused."""
    if not req.config.auth:
        return lambda key, version_id: True
    access = bucket_access(req, bucket)
    return lambda key, version_id: may(req, "DeleteObject", bucket, access, key, version_id)


def _existing(req: S3Request, bucket: str, key: str | None, version_id: str | None) -> ObjectInfo | None:
    if key is None:
        return None
    try:
        return req.store.get_object(bucket, key, version_id)
    except StorageError:
        return None


def _authorize_copy_source(req: S3Request) -> None:
    """A copy also reads its source: s3:GetObject there."""
    raw = req.headers.get("x-amz-copy-source", "")
    path, _, query = raw.partition("?")
    bucket_name, _, key = unquote(path).lstrip("/").partition("/")
    version_id = dict(parse_qsl(query)).get("versionId")
    try:
        bucket = req.store.get_bucket(bucket_name)
    except StorageError:
        return  # the operation answers for a missing source
    if not may(req, "GetObject", bucket, bucket_access(req, bucket), key or None, version_id):
        raise _denied()


def _signature_version(req: S3Request) -> list[str]:
    scheme = getattr(req.auth, "scheme", "none")
    if scheme.startswith("v4"):
        return ["AWS4-HMAC-SHA256"]
    return ["AWS"] if scheme.startswith("v2") else []


def _auth_type(req: S3Request) -> list[str]:
    if req.operation is Operation.PostObject:
        return ["POST"]
    scheme = getattr(req.auth, "scheme", "none")
    return [] if scheme == "none" else ["REST-QUERY-STRING" if scheme.endswith("-query") else "REST-HEADER"]


def _signature_age(req: S3Request) -> list[str]:
    stamp = getattr(req.auth, "timestamp", None)
    if not stamp:
        return []
    signed = time.mktime(time.strptime(stamp, "%Y%m%dT%H%M%SZ")) - time.timezone
    return [str(int((time.time() - signed) * 1000))]


_HEADER_KEYS = ("x-amz-acl", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
                "x-amz-storage-class", "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-content-sha256",
                "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp",
                "x-amz-grant-full-control", "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date",
                "x-amz-object-lock-legal-hold", "x-amz-website-redirect-location")


def _context(req: S3Request, principal: Principal, extra: dict[str, list[str]] | None) -> policy.Context:
    """The condition keys of a request (lower-case names), as S3 fills them in."""
    now = time.time()
    ctx: policy.Context = {
        "aws:securetransport": ["true" if req.http.secure else "false"],
        "aws:sourceip": [req.http.remote or ""],
        "aws:currenttime": [time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))],
        "aws:epochtime": [str(int(now))],
        "aws:userid": [principal.userid],
        "aws:principaltype": ["Anonymous" if principal.anonymous else "Account"],
        "s3:signatureversion": _signature_version(req),
        "s3:authtype": _auth_type(req),
        "s3:signatureage": lambda: _signature_age(req),
    }
    if principal.account is not None:
        ctx["aws:principalaccount"] = [principal.account.account_id]
        ctx["aws:principalarn"] = [principal.arn or ""]
        ctx["aws:username"] = [principal.account.name]
    for header, key in (("Referer", "aws:referer"), ("User-Agent", "aws:useragent")):
        if header in req.headers:
            ctx[key] = [req.headers[header]]
    for name in ("prefix", "delimiter", "max-keys", "versionId"):
        if name in req.query:
            ctx[f"s3:{name.lower()}"] = [req.query[name]]
    for header in _HEADER_KEYS:
        if header in req.headers:
            ctx[f"s3:{header}"] = [req.headers[header]]
    tagging = req.headers.get("x-amz-tagging")
    if tagging is not None:
        tags = parse_qsl(tagging, keep_blank_values=True)
        ctx["s3:requestobjecttagkeys"] = [k for k, _ in tags]
        for k, v in tags:
            ctx[f"s3:requestobjecttag/{k.lower()}"] = [v]
    ctx.update(extra or {})
    return ctx


def _object_keys(req: S3Request, info: ObjectInfo | None) -> Callable[[str], list[str] | None]:
    """s3:ExistingObjectTag/<key>: the stored object's tags."""
    def lookup(key: str) -> list[str] | None:
        if not key.startswith("s3:existingobjecttag/") or info is None:
            return None
        name = key[len("s3:existingobjecttag/"):]
        tags = info.meta.get("tags")
        if not isinstance(tags, dict):
            tags = dict(parse_qsl(info.meta.get("tagging", ""), keep_blank_values=True))
        found = next((v for k, v in tags.items() if k.lower() == name), None)
        return None if found is None else [found]
    return lookup
