"""ListObjects (v1) and ListObjectsV2."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..http.request import S3Request
from ..http.responses import xml_response
from ..http.xml import iso8601
from ..storage import ObjectInfo, Page
from .common import OWNER, decode_token, encode_token, url_encoder


def _contents(obj: ObjectInfo, enc: Any, owner: bool) -> list[tuple[str, Any]]:
    fields: list[tuple[str, Any]] = [
        ("Key", enc(obj.key)), ("LastModified", iso8601(obj.last_modified)), ("ETag", f'"{obj.etag}"'),
    ]
    algorithm = obj.meta.get("checksum_algorithm")
    if algorithm:
        fields += [("ChecksumAlgorithm", algorithm), ("ChecksumType", obj.meta.get("checksum_type"))]
    fields += [("Size", obj.size), ("StorageClass", obj.meta.get("storage_class", "STANDARD"))]
    if owner:
        fields.append(("Owner", OWNER))
    return fields


def _page_fields(page: Page[ObjectInfo], enc: Any, owner: bool) -> list[tuple[str, Any]]:
    return ([("Contents", _contents(o, enc, owner)) for o in page.entries]
            + [("CommonPrefixes", [("Prefix", enc(p))]) for p in page.prefixes])


def _common(req: S3Request) -> tuple[str, str, int]:
    prefix = req.param("prefix") or ""
    delimiter = req.param("delimiter") or ""
    max_keys = req.int_param("max-keys", 1000, lo=0, hi=1000)
    return prefix, delimiter, max_keys


async def list_objects_v2(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    enc = url_encoder(req)
    prefix, delimiter, max_keys = _common(req)
    token = req.param("continuation-token")
    start_after = req.param("start-after") or ""
    marker = start_after
    if token is not None:
        marker = decode_token(token)
    owner = (req.param("fetch-owner") or "").lower() == "true"
    page = req.store.list_objects(req.bucket, prefix=prefix, delimiter=delimiter, marker=marker,
                                  max_keys=max_keys)
    next_token = encode_token(page.last_key) if page.is_truncated and page.last_key else None
    return xml_response("ListBucketResult", [
        ("Name", req.bucket),
        ("Prefix", enc(prefix)),
        ("ContinuationToken", token),
        ("NextContinuationToken", next_token),
        ("KeyCount", len(page.entries) + len(page.prefixes)),
        ("MaxKeys", max_keys),
        ("Delimiter", enc(delimiter) if delimiter else None),
        ("IsTruncated", page.is_truncated),
        # a continuation token overrides start-after, which S3 then does not echo
        ("StartAfter", enc(start_after) if req.param("start-after") is not None and token is None else None),
        ("EncodingType", req.param("encoding-type")),
        *_page_fields(page, enc, owner),
    ])


async def list_objects(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    enc = url_encoder(req)
    prefix, delimiter, max_keys = _common(req)
    marker = req.param("marker") or ""
    page = req.store.list_objects(req.bucket, prefix=prefix, delimiter=delimiter, marker=marker,
                                  max_keys=max_keys)
    # NextMarker only with a delimiter; without, clients continue from the last key
    next_marker = enc(page.last_key) if page.is_truncated and delimiter else None
    return xml_response("ListBucketResult", [
        ("Name", req.bucket),
        ("Prefix", enc(prefix)),
        ("Marker", enc(marker)),
        ("NextMarker", next_marker),
        ("MaxKeys", max_keys),
        ("Delimiter", enc(delimiter) if delimiter else None),
        ("IsTruncated", page.is_truncated),
        ("EncodingType", req.param("encoding-type")),
        *_page_fields(page, enc, True),
    ])
