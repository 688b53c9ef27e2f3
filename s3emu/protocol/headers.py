"""Object headers in and out: what a write keeps, what a read returns, and
the conditional and Range headers of reads."""
from __future__ import annotations

import re
import time
from typing import Any, Mapping

from ..access.acl import CANNED
from ..http.errors import S3Error
from ..storage import ObjectInfo, ObjectMeta, object_tags
from ..storage.archive import restore_status, storage_class_of
from . import rfc2047, tagging
from .dates import http_date, iso8601, parse_http_date

# Headers a write stores and every read returns as they were sent.
STORED_HEADERS = ("Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language",
                  "Cache-Control", "Expires", "x-amz-website-redirect-location",
                  "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
                  "x-amz-server-side-encryption-bucket-key-enabled")
# What a write may ask for in a general-purpose bucket (S3 refuses OUTPOSTS, SNOW and the directory
# buckets' EXPRESS_ONEZONE there); lifecycle Transitions may name all but STANDARD and REDUCED_REDUNDANCY.
STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
                   "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR")
TRANSITION_CLASSES = STORAGE_CLASSES[2:]
USER_META_LIMIT = 2048
DEFAULT_CONTENT_TYPE = "binary/octet-stream"

# response-* query parameters of GetObject and the headers they override
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type", "response-content-language": "Content-Language",
    "response-expires": "Expires", "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition", "response-content-encoding": "Content-Encoding",
}


def parse_etags(value: str) -> list[str]:
    """An If-Match / If-None-Match value as the ETags it lists, unquoted and
    without weak prefixes; "*" stands for any."""
    etags = []
    for item in value.split(","):
        item = item.strip()
        if item.startswith("W/"):
            item = item[2:]
        if item == "*":
            etags.append(item)
        elif item.strip('"') != "*":  # a quoted "*" is an ETag no object has
            etags.append(item.strip('"'))
    return etags


def etag_matches(condition: str, etag: str) -> bool:
    """If-Match / If-None-Match semantics: whether `condition` lists `etag` or "*"."""
    etags = parse_etags(condition)
    return "*" in etags or etag in etags


def object_meta(headers: Mapping[str, str], *, streaming: bool = False, encoded_words: bool = True) -> ObjectMeta:
    """What a PutObject / CreateMultipartUpload / CopyObject(REPLACE) / POST
    Object keeps for the object. Headers are kept exactly as sent, but for the
    aws-chunked token of a streaming (aws-chunked) upload's Content-Encoding;
    user metadata has its RFC 2047 encoded-words decoded, unless
    encoded_words is False (a POST form's fields are kept as typed: AWS
    recording test_post_object_with_unicode_metadata). A stored value that
    is not UTF-8 is refused (InvalidArgument), never half-kept."""
    kept: dict[str, str] = {}
    for name in STORED_HEADERS:
        value = headers.get(name)
        if value is not None:
            kept[name] = _utf8(name, value)
    if streaming and "Content-Encoding" in kept:
        kept["Content-Encoding"] = _without_aws_chunked(kept["Content-Encoding"])
        if not kept["Content-Encoding"]:
            del kept["Content-Encoding"]
    kept.setdefault("Content-Type", DEFAULT_CONTENT_TYPE)
    sent = {k[len("x-amz-meta-"):].lower(): _utf8(k, v) for k, v in headers.items()
            if k.lower().startswith("x-amz-meta-")}
    user_size = sum(len(k.encode()) + len(v.encode()) for k, v in sent.items())
    if user_size > USER_META_LIMIT:
        raise S3Error("MetadataTooLarge", Size=user_size, MaxSizeAllowed=USER_META_LIMIT)
    user = {k: rfc2047.decode(v) for k, v in sent.items()} if encoded_words else sent
    meta: ObjectMeta = {"headers": kept, "user": user, "storage_class": requested_storage_class(headers)}
    tags = tagging.parse_header(headers.get("x-amz-tagging") or "")
    if tags:
        meta["tags"] = tags
    return meta


def storage_class(meta: ObjectMeta) -> str:
    """The storage class an object or upload reports (STANDARD unless named)."""
    return storage_class_of(meta)


def reported_version_id(info: ObjectInfo) -> str | None:
    """The version id S3 reports for a version: none for the 'null' version
    of a bucket never versioned, 'null' once versioning was ever set."""
    return info.version_id if info.version_id != "null" or info.versioned else None


def check_canned_acl(headers: Mapping[str, str]) -> None:
    """x-amz-acl must name a canned ACL; S3 refuses any other with an empty
    Message (AWS recordings put-object-canned-acl, put-bucket-canned-acl).
    Writes check this first; the ACL itself is applied with the owner
    (api.common.write_ownership, new_bucket_config)."""
    acl = headers.get("x-amz-acl")
    if acl is not None and acl not in CANNED:
        raise S3Error("InvalidArgument", "", ArgumentName="x-amz-acl", ArgumentValue=acl)


def requested_storage_class(headers: Mapping[str, str]) -> str:
    """x-amz-storage-class of a write: STANDARD unless named, whatever a copy's source had."""
    value = headers.get("x-amz-storage-class", "STANDARD")
    if value not in STORAGE_CLASSES:
        raise S3Error("InvalidStorageClass", StorageClassRequested=value)
    return value


def _utf8(name: str, value: str) -> str:
    """A header value that came as UTF-8 (the server reads header bytes as
    UTF-8, keeping any other byte as a lone surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise S3Error("InvalidArgument", f"The value of {name} is not valid UTF-8", ArgumentName=name) from None
    return value


def _without_aws_chunked(value: str) -> str:
    """Content-Encoding without the aws-chunked framing token, the rest as sent
    (S3 stores a streaming upload "without the aws-chunked value")."""
    return ",".join(e for e in value.split(",") if e.strip().lower() != "aws-chunked").strip()


def object_headers(info: ObjectInfo) -> dict[str, str]:
    """Headers GET and HEAD return for an object."""
    out = dict(info.meta.get("headers", {}))
    out["ETag"] = f'"{info.etag}"'
    out["Last-Modified"] = http_date(info.last_modified)
    out["Accept-Ranges"] = "bytes"
    for k, v in info.meta.get("user", {}).items():
        out[f"x-amz-meta-{k}"] = rfc2047.encode(v)
    if storage_class(info.meta) != "STANDARD":
        out["x-amz-storage-class"] = storage_class(info.meta)
    version_id = reported_version_id(info)
    if version_id is not None:
        out["x-amz-version-id"] = version_id
    out.update(lock_headers(info))
    count = len(object_tags(info.meta))
    if count:
        out["x-amz-tagging-count"] = str(count)
    out.update(restore_headers(info.meta, time.time()))
    return out


def restore_fields(meta: ObjectMeta, now: float) -> list[tuple[str, Any]] | None:
    """A listing's RestoreStatus (x-amz-optional-object-attributes: RestoreStatus), None when no restore stands."""
    status = restore_status(meta, now)
    if status == "none":
        return None
    expiry = iso8601(meta["restore"]["expiry"]) if status == "restored" else None
    return [("IsRestoreInProgress", status == "ongoing"), ("RestoreExpiryDate", expiry)]


def restore_headers(meta: ObjectMeta, now: float) -> dict[str, str]:
    """x-amz-restore for an archived version being restored, or restored until its expiry."""
    status = restore_status(meta, now)
    if status == "none":
        return {}
    if status == "ongoing":
        return {"x-amz-restore": 'ongoing-request="true"'}
    return {"x-amz-restore": f'ongoing-request="false", expiry-date="{http_date(meta["restore"]["expiry"])}"'}


def lock_headers(info: ObjectInfo) -> dict[str, str]:
    """A version's Object Lock retention and legal hold, as GET and HEAD report them."""
    lock = info.meta.get("lock") or {}
    out = {}
    if lock.get("mode"):
        out["x-amz-object-lock-mode"] = lock["mode"]
        out["x-amz-object-lock-retain-until-date"] = iso8601(lock["until"])
    if lock.get("legal_hold"):
        out["x-amz-object-lock-legal-hold"] = lock["legal_hold"]
    return out


def check_read_conditions(headers: Mapping[str, str], info: ObjectInfo, prefix: str = "") -> None:
    """If-Match / If-Unmodified-Since (412) and If-None-Match / If-Modified-Since
    (304), combined as RFC 7232 and S3 document. With prefix
    'x-amz-copy-source-' the same for a copy source, where 304 becomes 412.
    An If-Modified-Since later than now is ignored (AWS recording
    obj-ignore-future-modified-since; RFC 9110 13.1.3)."""
    modified = int(info.last_modified)
    if_match = headers.get(prefix + "If-Match")
    if_none_match = headers.get(prefix + "If-None-Match")
    unmodified_since = parse_http_date(headers.get(prefix + "If-Unmodified-Since"))
    modified_since = parse_http_date(headers.get(prefix + "If-Modified-Since"))
    if modified_since is not None and modified_since > time.time():
        modified_since = None
    if if_match is not None:
        if not etag_matches(if_match, info.etag):
            raise S3Error("PreconditionFailed", Condition=prefix + "If-Match")
    elif unmodified_since is not None and modified > unmodified_since:
        raise S3Error("PreconditionFailed", Condition=prefix + "If-Unmodified-Since")
    if if_none_match is not None:
        if etag_matches(if_none_match, info.etag):
            raise _not_modified(info, prefix + "If-None-Match", prefix)
    elif modified_since is not None and modified <= modified_since:
        raise _not_modified(info, prefix + "If-Modified-Since", prefix)


def _not_modified(info: ObjectInfo, condition: str, prefix: str) -> S3Error:
    if prefix:  # a copy source that has not changed cannot be copied: 412, not 304
        return S3Error("PreconditionFailed", Condition=condition)
    # a 304 still names the representation it stands for (RFC 7232 section 4.1)
    return S3Error("NotModified", "Not Modified", status=304,
                   headers={"ETag": f'"{info.etag}"', "Last-Modified": http_date(info.last_modified)})


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(value: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single-range `Range` header, None to send
    the whole object. Unparsable ranges are ignored, as S3 does;
    unsatisfiable ones are InvalidRange."""
    if value is None:
        return None
    m = _RANGE.match(value.strip())
    if m is None or (m.group(1) == "" and m.group(2) == ""):
        return None
    first_s, last_s = m.groups()
    if first_s == "":
        suffix = int(last_s)
        if suffix == 0:
            raise _invalid_range(value, size)
        # satisfiable whatever the size (RFC 9110 14.1.2): an empty object is sent whole, with 200
        return (max(0, size - suffix), size - 1) if size else None
    first = int(first_s)
    if last_s and int(last_s) < first:
        return None  # not a valid byte-range-spec: ignored (RFC 7233)
    if first >= size:
        raise _invalid_range(value, size)
    last = int(last_s) if last_s else size - 1
    return first, min(last, size - 1)


def _invalid_range(value: str, size: int) -> S3Error:
    return S3Error("InvalidRange", RangeRequested=value, ActualObjectSize=size,
                   headers={"Content-Range": f"bytes */{size}"})
