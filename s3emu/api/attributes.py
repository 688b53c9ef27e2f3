"""GetObjectAttributes: an object's ETag, checksum, parts, storage class and
size, as many of them as x-amz-object-attributes names, without its body."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..http.errors import S3Error
from ..http.request import S3Request
from ..http.responses import xml_response
from ..protocol import checksums, sse
from ..protocol.dates import http_date
from ..protocol.headers import storage_class
from ..storage import ObjectInfo
from .common import version_headers

ATTRIBUTES = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")
MAX_PARTS = 1000


def _wanted(req: S3Request) -> set[str]:
    names = [n.strip() for v in req.headers.getall("x-amz-object-attributes", []) for n in v.split(",")]
    names = [n for n in names if n]
    bad = next((n for n in names if n not in ATTRIBUTES), None)
    if bad is not None or not names:
        raise S3Error("InvalidArgument", "Invalid attribute name specified.",
                      ArgumentName="x-amz-object-attributes", ArgumentValue=bad or "")
    return set(names)


def _int_header(req: S3Request, name: str, default: int) -> int:
    raw = req.headers.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise S3Error("InvalidArgument", f"Provided {name} not an integer or within integer range",
                      ArgumentName=name, ArgumentValue=raw)
    return value


def _checksum(info: ObjectInfo) -> list[tuple[str, str]] | None:
    found = checksums.stored(info.meta)
    if found is None:
        return None
    algorithm, value, checksum_type = found
    # a COMPOSITE value is given without its -N here
    return checksums.fields(algorithm, value.partition("-")[0], checksum_type)


def _parts(req: S3Request, info: ObjectInfo) -> list[tuple[str, Any]] | None:
    """ObjectParts of a multipart object, paged by part number. Parts are
    listed only for an object with part checksums (COMPOSITE); for any other
    only their count (AWS recordings object-attrs-multiparts-2-parts,
    get-object-attrs-all; API reference: no Part element without an
    additional checksum)."""
    if not info.parts_count:
        return None
    if info.meta.get("checksum_type") != "COMPOSITE":
        return [("PartsCount", info.parts_count)]  # the model's TotalPartsCount
    max_parts = min(_int_header(req, "x-amz-max-parts", MAX_PARTS), MAX_PARTS)
    marker = _int_header(req, "x-amz-part-number-marker", 0)
    algorithm = info.meta.get("checksum_algorithm")
    after = req.store.segments(info.id, after=marker, limit=max_parts + 1)  # one more: is there a next page?
    page = after[:max_parts]
    fields: list[tuple[str, Any]] = [
        ("PartsCount", info.parts_count), ("PartNumberMarker", marker),  # the model's TotalPartsCount
        ("NextPartNumberMarker", page[-1].part_number if page else 0), ("MaxParts", max_parts),
        ("IsTruncated", len(after) > max_parts)]
    for s in page:
        value = s.checksums.get(algorithm) if algorithm else None
        fields.append(("Part", [("PartNumber", s.part_number), ("Size", s.size),
                                *(checksums.fields(algorithm, value) if algorithm and value else [])]))
    return fields


async def get_object_attributes(req: S3Request) -> web.StreamResponse:
    assert req.bucket is not None and req.key is not None
    wanted = _wanted(req)
    with req.store.snapshot():  # the version and its parts as of one moment
        info = req.store.get_object(req.bucket, req.key, req.param("versionId"))
        sse.check_read(req.headers, info.meta)
        fields: list[tuple[str, Any]] = []
        if "ETag" in wanted:
            fields.append(("ETag", info.etag))  # unquoted, unlike everywhere else
        if "Checksum" in wanted:
            fields.append(("Checksum", _checksum(info)))
        if "ObjectParts" in wanted:
            fields.append(("ObjectParts", _parts(req, info)))
        if "StorageClass" in wanted:
            fields.append(("StorageClass", storage_class(info.meta)))
        if "ObjectSize" in wanted:
            fields.append(("ObjectSize", info.size))
    return xml_response("GetObjectAttributesResponse", fields,
                        headers={"Last-Modified": http_date(info.last_modified), **version_headers(info)})
