"""What several S3 operations share: owner fields, version and lock headers,
conditional writes, copy sources."""
from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import quote, unquote_plus

from aiohttp import web

from ..access import acl
from ..access.decide import BLOCK_FLAGS, ENFORCED, OWNERSHIPS
from ..access.principals import Directory, Principal, directory_for
from ..http.body import read_small
from ..http.errors import NO_LOCK_CONFIG, S3Error
from ..http.request import S3Request
from ..http.responses import empty_response
from ..ops.notifications import emit, wake_deliverer
from ..protocol import checksums, sse
from ..protocol.dates import http_date, parse_iso8601
from ..protocol.headers import check_read_conditions, object_meta, parse_etags, reported_version_id, storage_class
from ..storage import BucketInfo, LockState, ObjectInfo, ObjectMeta, OpenRange, Page, UploadInfo, WriteCondition
from ..storage.meta import BucketConfig, UploadMeta
from ..storage.archive import readable
from ..storage.errors import DataFileMissing, DeleteMarkerHit
from ..storage.lifecycle import abort_date, expiration, rules_of

T = TypeVar("T")
READ_ATTEMPTS = 5  # looks at an object before giving up on it changing under every one


async def consistent_read(req: S3Request, look: Callable[[], tuple[T, OpenRange | None]]) -> tuple[T, OpenRange | None]:
    """Run `look` (which looks an object version up, checks what it must and
    may open its bytes with store.open_range) in one snapshot, then hold what
    it opened. If the version was replaced or deleted in between, look again
    in a fresh snapshot: the reader gets the old version or the new one,
    whole, and never one's metadata over the other's bytes."""
    for attempt in range(READ_ATTEMPTS):
        opened = None
        try:
            with req.store.snapshot():
                value, opened = look()
            if opened is not None:
                await req.store.hold(opened)
            return value, opened
        except DataFileMissing:
            if attempt == READ_ATTEMPTS - 1:
                raise
        except BaseException:
            if opened is not None:
                await opened.close()
            raise
    raise AssertionError("unreachable")


async def open_copy_source(req: S3Request, byte_range: Callable[[ObjectInfo], tuple[int, int]] | None = None
                           ) -> tuple[ObjectInfo, OpenRange]:
    """The source of a copy (after its conditions) and its bytes (all, or
    byte_range(source)), read in one snapshot; the caller closes them."""
    def look() -> tuple[ObjectInfo, OpenRange | None]:
        source = copy_source(req)
        first, last = byte_range(source) if byte_range is not None else (0, source.size - 1)
        return source, req.store.open_range(source, first, last)

    source, opened = await consistent_read(req, look)
    assert opened is not None
    return source, opened


def write_conditions(req: S3Request) -> WriteCondition:
    """If-Match / If-None-Match on a write (PutObject, CompleteMultipartUpload,
    CopyObject's destination). S3 takes an ETag in If-Match and only `*` in
    If-None-Match, one of them per request; anything else is 501 (AWS
    recordings put-obj-if-match-star-value, put-obj-both-precondition,
    put-obj-if-none-match-bad-value)."""
    if_match = req.headers.get("If-Match")
    if_none_match = req.headers.get("If-None-Match")
    if if_match is not None and if_none_match is not None:
        raise _not_implemented("If-Match,If-None-Match", "Multiple conditional request headers present in the request")
    if if_none_match is not None and if_none_match.strip() != "*":
        raise _not_implemented("If-None-Match")
    if if_match is not None and if_match.strip() == "*":
        raise _not_implemented("If-Match")
    return WriteCondition(None if if_match is None else parse_etags(if_match), if_none_match is not None)


def _not_implemented(header: str, detail: str | None = None) -> S3Error:
    return S3Error("NotImplemented", Header=header,
                   additionalMessage=detail or f"We don't accept the provided value of {header} header for this API")


def version_headers(info: ObjectInfo) -> dict[str, str]:
    """x-amz-version-id, as S3 reports it (reported_version_id)."""
    version_id = reported_version_id(info)
    return {} if version_id is None else {"x-amz-version-id": version_id}


def new_version_headers(info: ObjectInfo) -> dict[str, str]:
    """x-amz-version-id of what PutObject / CompleteMultipartUpload wrote: the
    null version a Suspended bucket writes goes unnamed (AWS recordings
    put-object-suspended, put-non-versioned-post-disable)."""
    return {"x-amz-version-id": info.version_id} if info.version_id != "null" else {}


def copy_source_headers(req: S3Request, source: ObjectInfo) -> dict[str, str]:
    """x-amz-copy-source-version-id: named when the source is a real version
    or the copy asked for one by id, not for a current null version (AWS
    recording copy-in-place-versioned-suspended)."""
    named = parse_copy_source(req)[2] is not None
    return {"x-amz-copy-source-version-id": source.version_id} if source.version_id != "null" or named else {}


def parse_copy_source(req: S3Request) -> tuple[str, str, str | None]:
    """x-amz-copy-source: URL-encoded `bucket/key`, optional leading slash and
    `?versionId=`; an http(s)://host/ before it is skipped (AWS accepts a
    bucket URL: test_s3_timestamp_precision)."""
    raw = req.headers["x-amz-copy-source"]
    path, _, query = raw.partition("?")
    version_id = None
    if query:
        name, _, value = query.partition("=")
        if name != "versionId":
            raise _invalid_copy_source()
        version_id = value
    if path.startswith(("http://", "https://")):
        path = path.split("/", 3)[3] if path.count("/") >= 3 else ""
    # S3 reads "+" as a space here, as in a form (AWS: test_copy_object_special_character_plus_for_space)
    try:
        path = unquote_plus(path, errors="strict").lstrip("/")
    except UnicodeDecodeError:  # a key is UTF-8: no stand-in characters for bytes that are not
        raise S3Error("InvalidArgument", "Invalid copy source encoding", ArgumentName="x-amz-copy-source",
                      ArgumentValue="x-amz-copy-source") from None
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise _invalid_copy_source()
    return bucket, key, version_id


def _invalid_copy_source() -> S3Error:
    # S3 names the header as the value too (AWS: copy-object-wrong-copy-source)
    return S3Error("InvalidArgument", "Invalid copy source object key", ArgumentName="x-amz-copy-source",
                   ArgumentValue="x-amz-copy-source")


def copy_source(req: S3Request) -> ObjectInfo:
    """The source object of a copy, after its x-amz-copy-source-if-* conditions."""
    bucket, key, version_id = parse_copy_source(req)
    try:
        source = req.store.get_object(bucket, key, version_id)
    except DeleteMarkerHit as hit:
        if hit.by_version:
            raise S3Error("InvalidRequest", "The source of a copy request may not specifically refer to a delete "
                                            "marker by version id.") from None
        raise
    if not readable(source.meta, time.time()):  # archived and not restored
        raise S3Error("InvalidObjectState", "Operation is not valid for the source object's storage class",
                      StorageClass=storage_class(source.meta))
    sse.check_read(req.headers, source.meta, copy_source=True)
    check_read_conditions(req.headers, source, prefix="x-amz-copy-source-")
    return source


MODES = ("GOVERNANCE", "COMPLIANCE")


CHECKSUM_HEADERS = ("Content-MD5", "x-amz-sdk-checksum-algorithm", "x-amz-trailer")


def bypass_governance(req: S3Request) -> bool:
    """x-amz-bypass-governance-retention: true. Sent at all (true or false) to a
    bucket without Object Lock it is InvalidArgument (AWS: delete-object-bypass-no-lock)."""
    raw = req.headers.get("x-amz-bypass-governance-retention")
    if raw is None:
        return False
    assert req.bucket is not None
    if not req.bucket_info().object_lock:
        raise S3Error("InvalidArgument", "x-amz-bypass-governance-retention is only applicable to Object Lock "
                                         "enabled buckets.", ArgumentName="x-amz-bypass-governance-retention")
    return bool(raw.lower() == "true")


def _date(text: str) -> float:
    """An ISO 8601 timestamp (2030-01-01T00:00:00Z, fractions optional) as epoch seconds."""
    return parse_iso8601(text).timestamp()


def write_lock(req: S3Request, *, put: bool = False) -> ObjectMeta:
    """The x-amz-object-lock-* headers of a write, checked as S3 checks them,
    as meta for the new version: {"lock": {...}} or {}."""
    assert req.bucket is not None
    mode = req.headers.get("x-amz-object-lock-mode")
    until = req.headers.get("x-amz-object-lock-retain-until-date")
    hold = req.headers.get("x-amz-object-lock-legal-hold")
    if mode is None and until is None and hold is None:
        return {}
    if not req.bucket_info().object_lock:
        raise S3Error("InvalidRequest", NO_LOCK_CONFIG)
    if (mode is None) != (until is None):  # naming the one missing (AWS: put-obj-locked-error-no-mode)
        raise S3Error("InvalidArgument", "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must "
                                         "both be supplied", ArgumentName="x-amz-object-lock-mode" if mode is None
                      else "x-amz-object-lock-retain-until-date")
    lock: LockState = {}
    if mode is not None and until is not None:
        if mode not in MODES:
            raise S3Error("InvalidArgument", "Unknown wormMode directive.", ArgumentName="x-amz-object-lock-mode",
                          ArgumentValue=mode)
        try:
            lock["mode"], lock["until"] = mode, _date(until)
        except ValueError:
            raise S3Error("InvalidArgument", "The retain until date must be provided in ISO 8601 format",
                          ArgumentName="x-amz-object-lock-retain-until-date", ArgumentValue=until) from None
        if lock["until"] <= time.time():
            raise S3Error("InvalidArgument", "The retain until date must be in the future!",
                          ArgumentName="x-amz-object-lock-retain-until-date", ArgumentValue=until)
    if hold is not None:
        if hold not in ("ON", "OFF"):
            raise S3Error("InvalidArgument", "Legal Hold must be either of 'ON' or 'OFF'",
                          ArgumentName="x-amz-object-lock-legal-hold", ArgumentValue=hold)
        lock["legal_hold"] = hold
    if put and not _has_checksum(req):
        raise S3Error("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object "
                                        "requests with Object Lock parameters")
    return {"lock": lock}


def new_version_meta(req: S3Request, *, put: bool = False) -> ObjectMeta:
    """What a PutObject (put) or CreateMultipartUpload keeps for the version it
    makes: the stored headers, user metadata and storage class, its Object Lock
    settings, its encryption (asked for, else the bucket's default), and its owner and ACL (write_ownership)."""
    streaming = getattr(req.auth, "aws_chunked", False)
    meta: ObjectMeta = {**object_meta(req.headers, streaming=streaming), **write_lock(req, put=put),
                        **sse.write_fields(req.headers), **write_ownership(req)}
    encrypt(req, meta)
    return meta


def _has_checksum(req: S3Request) -> bool:
    return any(h in req.headers for h in CHECKSUM_HEADERS) \
        or any(h.lower().startswith("x-amz-checksum-") for h in req.headers)


def url_encoder(req: S3Request) -> Any:
    """encoding-type=url: keys and prefixes come back percent-encoded."""
    encoding = req.param("encoding-type")
    if encoding is None:
        return lambda s: s
    if encoding != "url":
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request",
                      ArgumentName="encoding-type", ArgumentValue=encoding)
    return lambda s: None if s is None else quote(s, safe="/")


@dataclass(frozen=True)
class ListingQuery:
    """What every listing takes: encoding-type (as `enc`, applied to keys and
    prefixes), prefix and delimiter."""

    enc: Callable[[str | None], str | None]
    prefix: str
    delimiter: str

    @property
    def delimiter_field(self) -> str | None:
        """The Delimiter element's text: the delimiter, encoded, when one was given."""
        return self.enc(self.delimiter) if self.delimiter else None

    def common_prefixes(self, page: Page[Any]) -> list[tuple[str, Any]]:
        """A page's CommonPrefixes elements."""
        return [("CommonPrefixes", [("Prefix", self.enc(p))]) for p in page.prefixes]


def listing_query(req: S3Request) -> ListingQuery:
    """The encoding-type, prefix and delimiter of a listing request."""
    return ListingQuery(url_encoder(req), req.param("prefix") or "", req.param("delimiter") or "")


async def delete_bucket_setting(req: S3Request, name: str) -> web.StreamResponse:
    """What every DeleteBucketX call does: forget the bucket's `name` setting
    (BucketConfig key) and answer 204, whether or not it was set, as S3 does.
    NoSuchBucket from the store."""
    assert req.bucket is not None
    await req.store.call(req.store.set_bucket_config, req.bucket, name, None)
    return empty_response(204)


async def configuration_body(req: S3Request, max_bytes: int, *, checksum_required: bool = True) -> bytes:
    """The document of a Put*Configuration request (PutBucketCors,
    PutBucketLifecycleConfiguration, tagging, encryption...): for a bucket
    that exists, at most max_bytes, with a Content-MD5 or checksum that
    verifies (where S3 does not require one, only one that is sent)."""
    assert req.bucket is not None
    req.store.get_bucket(req.bucket)
    body = await read_small(req, max_bytes)
    checksums.check_document(req.headers, req.auth, body, required=checksum_required)
    return body


def expiration_headers(req: S3Request, info: ObjectInfo) -> dict[str, str]:
    """x-amz-expiration for a current version a lifecycle rule will expire
    (PutObject, GET, HEAD, CopyObject, CompleteMultipartUpload), as S3 words it:
    expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="..." (AWS: head-object-expiry)."""
    assert req.bucket is not None
    # a read that names a version, even the current one, gets none (AWS: head-object-expiry-current-with-version-id)
    if not info.is_latest or req.param("versionId") is not None:
        return {}
    config = req.bucket_info().config
    if not config.get("lifecycle"):
        return {}
    due = expiration(rules_of(config), info, req.config.lifecycle_day_seconds)
    if due is None:
        return {}
    return {"x-amz-expiration": f'expiry-date="{http_date(due[0])}", rule-id="{due[1]}"'}


def abort_headers(req: S3Request, upload: UploadInfo) -> dict[str, str]:
    """x-amz-abort-date / x-amz-abort-rule-id for an upload a lifecycle rule will abort."""
    assert req.bucket is not None
    rules = rules_of(req.store.get_bucket(req.bucket).config)
    due = abort_date(rules, upload, req.config.lifecycle_day_seconds)
    if due is None:
        return {}
    return {"x-amz-abort-date": http_date(due[0]), "x-amz-abort-rule-id": due[1]}


def encrypt(req: S3Request, meta: ObjectMeta, fields: Mapping[str, str] | None = None) -> None:
    """Record in meta the encryption a new object gets (PutObject,
    CopyObject, CreateMultipartUpload; a POST upload passes its form
    `fields`): the request's own, else the destination bucket's default."""
    assert req.bucket is not None
    bucket = req.bucket_info()
    encryption = sse.effective(req.headers if fields is None else fields, sse.bucket_rule(bucket.config),
                               bucket.region)
    meta["headers"] = sse.with_encryption(meta.get("headers", {}), encryption)


def check_readable(info: ObjectInfo) -> None:
    """GET of an archived version (GLACIER, DEEP_ARCHIVE) is InvalidObjectState until a restore is done."""
    if not readable(info.meta, time.time()):
        archived = storage_class(info.meta)
        raise S3Error("InvalidObjectState", StorageClass=archived, headers={"x-amz-storage-class": archived})


# --- who owns what --------------------------------------------------------------------------------
# Buckets, objects and uploads name their owner by canonical id; None (rows
# written before accounts, and everything the default account writes) is the
# default account. S3 no longer sends an Owner's DisplayName (AWS recordings
# of 2025-26: Owner carries only ID in every listing).

def directory(req: S3Request) -> Directory:
    return directory_for(req.config)


def caller(req: S3Request) -> Principal:
    """Who makes the request (the default account when nothing decided it yet)."""
    return req.principal or directory(req).principal(req.access_key)


def owner_fields(canonical_id: str) -> list[tuple[str, str]]:
    """An Owner element's children."""
    return [("ID", canonical_id)]


def stored_owner(req: S3Request, principal: Principal | None = None) -> str | None:
    """What a new row records as its owner: None for the default account."""
    principal = principal or caller(req)
    if principal.account is None or principal.canonical_id == directory(req).default.canonical_id:
        return None
    return principal.canonical_id


def bucket_owner_id(req: S3Request, bucket: BucketInfo) -> str:
    return bucket.owner or directory(req).default.canonical_id


def object_owner_id(req: S3Request, bucket: BucketInfo, meta: ObjectMeta) -> str:
    """An object's owner: its writer, or the bucket owner when the bucket enforces ownership."""
    if bucket.config.get("ownership") == "BucketOwnerEnforced":
        return bucket_owner_id(req, bucket)
    return meta.get("owner") or directory(req).default.canonical_id


def owner_of_objects(req: S3Request) -> Callable[[ObjectMeta], list[tuple[str, str]]]:
    """For listings: the Owner fields of an object of the request's bucket, from its meta."""
    assert req.bucket is not None
    bucket = req.store.get_bucket(req.bucket)
    return lambda meta: owner_fields(object_owner_id(req, bucket, meta))


def initiator_fields(req: S3Request, meta: UploadMeta) -> list[tuple[str, str]]:
    """Who started a multipart upload: S3 still names it with a DisplayName."""
    account = directory(req).by_canonical_id(meta.get("initiator"))
    return [("ID", account.canonical_id), ("DisplayName", account.display_name)]


def request_region(req: S3Request) -> str:
    """The region a request was sent to: its SigV4 credential scope
    (date/region/service/aws4_request), else the server's own region."""
    scope = getattr(req.auth, "scope", None)
    return scope.split("/")[1] if scope and scope.count("/") >= 3 else req.config.region


def encode_token(name: str) -> str:
    """An opaque continuation token (ListObjectsV2, ListBuckets) for resuming after `name`."""
    return base64.urlsafe_b64encode(name.encode()).decode()


def decode_token(token: str) -> str:
    """The name a continuation token resumes after; only tokens we issued are accepted."""
    try:
        name = base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        name = None
    if not name or encode_token(name) != token:
        # S3 names the argument but does not echo the token
        raise S3Error("InvalidArgument", "The continuation token provided is incorrect",
                      ArgumentName="continuation-token")
    return name


# --- defaults and the ACLs of writes ---------------------------------------------------------------

def new_bucket_config(req: S3Request) -> BucketConfig:
    """The ownership, public access block and ACL CreateBucket gives a bucket:
    S3's defaults since April 2023 (BucketOwnerEnforced, every public access
    flag on) unless the server runs with legacy_permissions (no controls,
    ACLs enabled, no block); x-amz-object-ownership and ACL headers on top."""
    ownership = req.headers.get("x-amz-object-ownership")
    if ownership is not None and ownership not in OWNERSHIPS:
        raise S3Error("InvalidArgument", f"Invalid x-amz-object-ownership header: {ownership}",
                      ArgumentName="x-amz-object-ownership")
    config: BucketConfig = {}
    if not req.config.legacy_permissions:
        config["ownership"] = ENFORCED
        config["public_access_block"] = dict.fromkeys(BLOCK_FLAGS, True)
    if ownership is not None:
        config["ownership"] = ownership
    owner = caller(req).canonical_id or ""
    grants = acl.from_headers(req.headers, directory(req), owner)
    if grants is not None:
        if config.get("ownership") == ENFORCED and not acl.only_owner_full_control(grants, owner):
            raise S3Error("InvalidBucketAclWithObjectOwnership")
        if config.get("public_access_block", {}).get("BlockPublicAcls") and acl.is_public(grants):
            raise S3Error("InvalidBucketAclWithBlockPublicAccessError")
        if grants != [acl.user(owner, "FULL_CONTROL")]:
            config["acl"] = grants
    return config


def check_acl_allowed(bucket: BucketInfo, grants: list[acl.Grant], owner: str) -> None:
    """A bucket whose ACLs are disabled takes only bucket-owner-full-control
    (AccessControlListNotSupported); BlockPublicAcls refuses a public one."""
    if bucket.config.get("ownership") == ENFORCED and not acl.only_owner_full_control(grants, owner):
        raise S3Error("AccessControlListNotSupported", BucketName=bucket.name)
    if bucket.config.get("public_access_block", {}).get("BlockPublicAcls") and acl.is_public(grants):
        raise S3Error("AccessDenied", "Access Denied")


def write_ownership(req: S3Request, headers: Any = None) -> ObjectMeta:
    """What a write (PutObject, CopyObject, CreateMultipartUpload, POST)
    records of who may use the new object: its owner and ACL from the
    x-amz-acl / x-amz-grant-* headers, refused as S3 refuses them."""
    assert req.bucket is not None
    bucket = req.bucket_info()
    writer = caller(req)
    bucket_owner = bucket_owner_id(req, bucket)
    owner_id = writer.canonical_id or bucket_owner
    grants = acl.from_headers(req.headers if headers is None else headers, directory(req), owner_id, bucket_owner)
    meta: ObjectMeta = {}
    owner = stored_owner(req, writer)
    if grants is not None:
        check_acl_allowed(bucket, grants, bucket_owner)
        preferred = bucket.config.get("ownership") == "BucketOwnerPreferred"
        if preferred and acl.user(bucket_owner, "FULL_CONTROL") in grants:
            owner = bucket.owner  # BucketOwnerPreferred: bucket-owner-full-control hands the object over
        if grants != [acl.user(owner_id, "FULL_CONTROL")] and bucket.config.get("ownership") != ENFORCED:
            meta["acl"] = grants
    if owner is not None:
        meta["owner"] = owner
    return meta


def bucket_grants(req: S3Request, bucket: BucketInfo) -> list[acl.Grant]:
    """A bucket's ACL: owner FULL_CONTROL unless set (a bucket enforcing ownership shows only that)."""
    owner = bucket_owner_id(req, bucket)
    if bucket.config.get("ownership") == ENFORCED or "acl" not in bucket.config:
        return [acl.user(owner, "FULL_CONTROL")]
    return bucket.config["acl"]


def object_grants(req: S3Request, bucket: BucketInfo, meta: ObjectMeta) -> list[acl.Grant]:
    owner = object_owner_id(req, bucket, meta)
    if bucket.config.get("ownership") == ENFORCED or "acl" not in meta:
        return [acl.user(owner, "FULL_CONTROL")]
    return meta["acl"]


async def notify(req: S3Request, event: str, key: str, info: ObjectInfo | None = None, *, version_id: str | None = None,
           etag: str | None = None, extra: dict[str, Any] | None = None, at: float | None = None) -> None:
    """Emit the S3 event notification `event` for what this request did to
    `key` of req.bucket: its name without "s3:" ("ObjectCreated:Put",
    "ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated",
    "ObjectRestore:Post", "ObjectTagging:Put", "ObjectTagging:Delete",
    "ObjectAcl:Put", ...). `info` is the version written or touched (its size,
    ETag and version id go into the message); `extra` adds top-level record
    fields (glacierEventData...); `at` is when it happens, if later than now.
    Call it after the change is stored: the message goes to the store's
    outbox and is delivered in the background."""
    assert req.bucket is not None
    size = None
    if info is not None:
        size, etag = info.size, info.etag
        version_id = reported_version_id(info)
    principal = f"AWS:{req.access_key}" if req.access_key else "Anonymous"
    if await emit(req.store, req.config, event, req.bucket, key, request_id=req.request_id, host_id=req.host_id,
                  principal=principal, source_ip=req.http.remote or "", size=size, etag=etag,
                  version_id=version_id, extra=extra, at=at):
        wake_deliverer(req.http.app)
