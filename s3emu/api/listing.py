"""ListObjects (v1) and ListObjectsV2."""
from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from ..http.request import S3Request
from ..http.responses import xml_response
from ..protocol.dates import iso8601
from ..protocol.headers import restore_fields, storage_class
from ..storage import ObjectInfo, Page
from .common import ListingQuery, decode_token, encode_token, listing_query, owner_of_objects


def _contents(obj: ObjectInfo, enc: Any, owner: Any, restore: bool = False) -> list[tuple[str, Any]]:
    fields: list[tuple[str, Any]] = [
        ("Key", enc(obj.key)), ("LastModified", iso8601(obj.last_modified)), ("ETag", f'"{obj.etag}"'),
    ]
    algorithm = obj.meta.get("checksum_algorithm")
    if algorithm:
        fields += [("ChecksumAlgorithm", algorithm), ("ChecksumType", obj.meta.get("checksum_type"))]
    fields += [("Size", obj.size), ("StorageClass", storage_class(obj.meta))]
    if owner:
        fields.append(("Owner", owner(obj.meta)))
    if restore:
        fields.append(("RestoreStatus", restore_fields(obj.meta, time.time())))
    return fields


def _page_fields(req: S3Request, page: Page[ObjectInfo], q: ListingQuery, owner: Any) -> list[tuple[str, Any]]:
    # archived objects' restore state, when asked for (OptionalObjectAttributes)
    restore = "RestoreStatus" in req.headers.get("x-amz-optional-object-attributes", "")
    return [("Contents", _contents(o, q.enc, owner, restore)) for o in page.entries] + q.common_prefixes(page)


def _query(req: S3Request) -> tuple[ListingQuery, int]:
    return listing_query(req), req.int_param("max-keys", 1000, lo=0, hi=1000)


async def list_objects_v2(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    q, max_keys = _query(req)
    token = req.param("continuation-token")
    start_after = req.param("start-after") or ""
    marker = start_after
    if token is not None:
        marker = decode_token(token)
    owner = owner_of_objects(req) if (req.param("fetch-owner") or "").lower() == "true" else None
    page = req.store.list_objects(req.bucket, prefix=q.prefix, delimiter=q.delimiter, marker=marker,
                                  max_keys=max_keys)
    next_token = encode_token(page.last_key) if page.is_truncated and page.last_key else None
    return xml_response("ListBucketResult", [
        ("Name", req.bucket),
        ("Prefix", q.enc(q.prefix)),
        ("ContinuationToken", token),
        ("NextContinuationToken", next_token),
        ("KeyCount", len(page.entries) + len(page.prefixes)),
        ("MaxKeys", max_keys),
        ("Delimiter", q.delimiter_field),
        ("IsTruncated", page.is_truncated),
        # a continuation token overrides start-after, which S3 then does not echo
        ("StartAfter", q.enc(start_after) if req.param("start-after") is not None and token is None else None),
        ("EncodingType", req.param("encoding-type")),
        *_page_fields(req, page, q, owner),
    ], headers=_region_header(req))


async def list_objects(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None
    q, max_keys = _query(req)
    marker = req.param("marker") or ""
    page = req.store.list_objects(req.bucket, prefix=q.prefix, delimiter=q.delimiter, marker=marker,
                                  max_keys=max_keys)
    # NextMarker only with a delimiter; without, clients continue from the last key
    next_marker = q.enc(page.last_key) if page.is_truncated and q.delimiter else None
    return xml_response("ListBucketResult", [
        ("Name", req.bucket),
        ("Prefix", q.enc(q.prefix)),
        ("Marker", q.enc(marker)),
        ("NextMarker", next_marker),
        ("MaxKeys", max_keys),
        ("Delimiter", q.delimiter_field),
        ("IsTruncated", page.is_truncated),
        ("EncodingType", req.param("encoding-type")),
        *_page_fields(req, page, q, owner_of_objects(req) if page.entries else None),
    ], headers=_region_header(req))


def _region_header(req: S3Request) -> dict[str, str]:
    """x-amz-bucket-region, which S3 sends with a listing (AWS: test_region_header_exists_outside_us_east_1)."""
    assert req.bucket is not None
    return {"x-amz-bucket-region": req.store.get_bucket(req.bucket).region}
