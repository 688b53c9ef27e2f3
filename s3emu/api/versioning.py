"""Bucket versioning: its state, and ListObjectVersions."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..http.body import read_small
from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import empty_response, xml_response
from ..http.xml import local, parse
from ..protocol.dates import iso8601
from ..protocol.headers import storage_class
from ..storage import ObjectInfo
from .common import listing_query, owner_of_objects

MAX_VERSIONING_BODY = 1024 * 1024


async def put_bucket_versioning(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    b = req.store.get_bucket(req.bucket)
    body = await read_small(req, MAX_VERSIONING_BODY)
    if not body:
        raise S3Error("MissingRequestBodyError")
    fields: dict[str, str] = {}
    for elem in parse(body, "VersioningConfiguration"):
        name = local(elem)
        if name not in ("Status", "MfaDelete") or name in fields:
            raise S3Error("MalformedXML")
        fields[name] = elem.text or ""  # S3 takes the values exactly: no trimming, no case folding
    status, mfa_delete = fields.get("Status", ""), fields.get("MfaDelete", "")
    if not status:
        raise S3Error("IllegalVersioningConfigurationException")
    if status not in ("Enabled", "Suspended") or mfa_delete not in ("", "Enabled", "Disabled"):
        raise S3Error("MalformedXML")
    if mfa_delete == "Enabled":
        # MFA delete needs the root account's MFA device, which s3emu does not have
        if "x-amz-mfa" not in req.headers:
            raise S3Error("AccessDenied", "Mfa Authentication must be used for this request")
        raise S3Error("NotImplemented", "MFA Delete is not implemented by s3emu")
    if b.object_lock and status != "Enabled":
        raise S3Error("InvalidBucketState", "An Object Lock configuration is present on this bucket, so the "
                                            "versioning state cannot be changed.")
    await req.store.call(req.store.put_bucket_versioning, req.bucket, status, mfa_delete or None)
    return empty_response()


async def get_bucket_versioning(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    b = req.store.get_bucket(req.bucket)
    # a bucket never versioned answers with an empty configuration
    return xml_response("VersioningConfiguration", [("Status", b.versioning),
                                                    ("MfaDelete", b.config.get("mfa_delete"))])


def _version_fields(v: ObjectInfo, enc: Any, owner: Any) -> tuple[str, list[tuple[str, Any]]]:
    head: list[tuple[str, Any]] = [("Key", enc(v.key)), ("VersionId", v.version_id), ("IsLatest", v.is_latest),
                                   ("LastModified", iso8601(v.last_modified))]
    if v.delete_marker:
        return "DeleteMarker", head + [("Owner", owner(v.meta))]
    fields = head + [("ETag", f'"{v.etag}"'), ("Size", v.size)]
    algorithm = v.meta.get("checksum_algorithm")
    if algorithm:
        fields += [("ChecksumAlgorithm", algorithm), ("ChecksumType", v.meta.get("checksum_type"))]
    return "Version", fields + [("Owner", owner(v.meta)), ("StorageClass", storage_class(v.meta))]


async def list_object_versions(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    q = listing_query(req)
    enc = q.enc
    key_marker = req.param("key-marker") or ""
    version_id_marker = req.param("version-id-marker") or ""
    max_keys = req.int_param("max-keys", 1000, lo=0, hi=1000)
    if version_id_marker and not key_marker:
        raise S3Error("InvalidArgument", "A version-id marker cannot be specified without a key marker.",
                      ArgumentName="version-id-marker", ArgumentValue=version_id_marker)
    page = req.store.list_object_versions(req.bucket, prefix=q.prefix, delimiter=q.delimiter, key_marker=key_marker,
                                          version_id_marker=version_id_marker or None, max_keys=max_keys)
    next_key = next_version = None
    if page.is_truncated:
        next_key = page.last_key
        if page.last_upload_id is not None:  # the page ends with a version, not a common prefix
            next_version = page.entries[-1].version_id
    owner = owner_of_objects(req)
    return xml_response("ListVersionsResult", [
        ("Name", req.bucket),
        ("Prefix", enc(q.prefix)),
        ("KeyMarker", enc(key_marker)),
        ("VersionIdMarker", version_id_marker),
        ("NextKeyMarker", enc(next_key)),
        ("NextVersionIdMarker", next_version),
        ("MaxKeys", max_keys),
        ("Delimiter", q.delimiter_field),
        ("IsTruncated", page.is_truncated),
        ("EncodingType", req.param("encoding-type")),
        *[_version_fields(v, enc, owner) for v in page.entries],
        *q.common_prefixes(page),
    ])
